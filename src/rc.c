/* rc.c - the view's settings file: "key = value" lines, # comments. */
#include "config.h"
#include "rc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void rc_defaults(struct rc *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->sort = -1;
}

int rc_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/tcpdwell/tcpdwellrc", xdg);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.config/tcpdwell/tcpdwellrc", home);
	else
		return -1;
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* One "key = value" line into *rc; -1 with why in err. */
static int rc_line(struct rc *rc, char *key, char *val, char *err, size_t errlen)
{
	if (!strcmp(key, "columns")) {
		if (col_parse(&rc->cols, val, err, errlen) < 0)
			return -1;
		rc->has_cols = true;
		return 0;
	}
	if (!strcmp(key, "sort")) {
		int id = col_find(val);

		if (id < 0 || !col_table[id].cmp) {
			snprintf(err, errlen, "sort: '%.40s' is no column that sorts", val);
			return -1;
		}
		rc->sort = id;
		return 0;
	}
	if (!strcmp(key, "sort-reverse")) {
		if (strcmp(val, "yes") && strcmp(val, "no")) {
			snprintf(err, errlen, "sort-reverse: '%.40s', expected yes or no", val);
			return -1;
		}
		rc->sort_rev = !strcmp(val, "yes");
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%.40s' (known: columns, sort, sort-reverse)", key);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = 0;
	return s;
}

int rc_load(const char *path, struct rc *rc, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512], why[384];
	unsigned no = 0;

	rc_defaults(rc);
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq;

		no++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "line too long");
			goto bad;
		}
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(why, sizeof(why), "expected 'setting = value'");
			goto bad;
		}
		*eq = 0;
		if (rc_line(rc, trim(s), trim(eq + 1), why, sizeof(why)) < 0)
			goto bad;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	rc_defaults(rc);
	snprintf(err, errlen, "%s:%u: %s", path, no, why);
	return -1;
}

/* mkdir -p of the file's directory. */
static int make_dirs(const char *path)
{
	char d[4096];
	size_t len = strlen(path);

	if (len >= sizeof(d))
		return -1;
	memcpy(d, path, len + 1);
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

int rc_save(const char *path, const struct rc *rc, char *err, size_t errlen)
{
	char tmp[4200];
	FILE *f;
	int bad;

	/* A new file renamed over the old: a crash leaves one or the other, whole. */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (make_dirs(path) < 0 || !(f = fopen(tmp, "w"))) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# tcpdwell view settings, written by F2 (see tcpdwell(1), FILES)\n");
	if (rc->has_cols) {
		fputs("columns = ", f);
		for (size_t i = 0; i < rc->cols.n; i++)
			fprintf(f, "%s%s", i ? "," : "", col_table[rc->cols.id[i]].name);
		fputc('\n', f);
	}
	if (rc->sort >= 0)
		fprintf(f, "sort = %s\n", col_table[rc->sort].name);
	fprintf(f, "sort-reverse = %s\n", rc->sort_rev ? "yes" : "no");
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	return 0;
}
