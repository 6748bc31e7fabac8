/* record.c - the recorder: a sink that writes every observation to a recording. */
#include "config.h"
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record_fmt.h"
#include "util.h"

struct recorder {
	struct record_writer *w;
	char *path;
	int err; /* the last write's result, to report changes only */
};

static void rec_observe(void *ctx, struct loop *l, const struct obs *o)
{
	struct recorder *rc = ctx;
	int ret = record_writer_obs(rc->w, o);

	if (ret == rc->err)
		return;
	if (ret == -ENOENT)
		loop_status(l, "recording '%s' was removed: writing on to the deleted file",
			    rc->path);
	else if (ret < 0)
		loop_status(l, "recording '%s': %s; the file ends at its last complete record",
			    rc->path, strerror(-ret));
	else
		loop_status(l, "recording '%s': writing again", rc->path);
	rc->err = ret;
}

static void rec_close(void *ctx)
{
	struct recorder *rc = ctx;

	record_writer_close(rc->w);
	free(rc->path);
	free(rc);
}

static const struct sink_ops record_sink = {
	.name = "record",
	.observe = rec_observe,
	.close = rec_close,
};

int record_open(struct loop *l, const char *path, const struct record_meta *m, char *err,
		size_t errlen)
{
	struct record_writer *w = record_writer_open(path, m, err, errlen);
	struct recorder *rc;

	if (!w)
		return -1;
	record_writer_set_labels(w, loop_netns(l));
	record_writer_set_owners(w, m->pm);
	if (record_writer_cut(w))
		loop_status(l, "recording '%s': %s", path, record_writer_cut(w));
	rc = xcalloc(1, sizeof(*rc));
	rc->w = w;
	rc->path = xstrdup(path);
	loop_add_sink(l, &record_sink, rc);
	return 0;
}
