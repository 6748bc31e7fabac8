/* metrics.c - counts, transitions and dwell times for Prometheus, as a node_exporter textfile. */
#include "config.h"
#include "metrics.h"
#include "metrics_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#ifdef HAVE_MICROHTTPD
#include <dlfcn.h>
#include <microhttpd.h>
#endif

#include "netns.h"
#include "util.h"

#define WRITE_EVERY NS_PER_SEC

/*
 * Upper bounds of the dwell histogram, seconds, where TCP's own clocks fall,
 * so that each bucket means something: round trips on loopback, a LAN and
 * a WAN; 0.2 the least retransmission timeout, 1 the first (a SYN retry),
 * 3 and 7 the next SYN retries; 59 to 66 around 60 s, TIME_WAIT's fixed
 * length and tcp_fin_timeout's default, seen from 60 to about 63 s by a
 * poll; then leaks, up to 7200 (keepalive's first probe) and 7875 (the
 * last, when a dead peer's connection ends). Fixed, whatever the host's
 * sysctls: a fleet's histograms add up only with the same edges.
 */
static const double bounds[] = {0.0001, 0.001, 0.01, 0.05, 0.2, 1,   3,	  7,	15,   30,
				59,	61,    63,   66,   120, 300, 900, 3600, 7200, 7875};
#define NB (sizeof(bounds) / sizeof(bounds[0]))

/* Index ST_MAX collects state numbers we do not know. */
#define NST (ST_MAX + 1)

/* What is counted for one namespace: index 0 holds everything without --netns. */
struct mns {
	uint64_t trans[NST][NST], jumped[NST][NST];
	uint64_t appeared[NST], unseen;
	uint64_t dwell_count[NST], dwell_bucket[NST][NB];
	double dwell_sum[NST];
	size_t alive[NST];   /* these two are filled for each write */
	int64_t oldest[NST];
};

struct metrics {
	struct mns *ns; /* by namespace index */
	uint32_t nns;
	const struct netns_tab *labels; /* every series gets netns="..." when active */
	const struct tsock **v;		/* scratch for the sockets of each write */
	size_t cap;
	struct metrics_self *self;
	struct metrics_leak *leak;
};

#ifdef HAVE_MICROHTTPD
/* One HTTP connection, from MHD's notices, oldest first in the sink's list. */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	int64_t since; /* accepted, or last answered */
	bool answered; /* a request was answered: not an idle squatter */
};
#endif

struct metrics_sink {
	struct metrics *m;
	struct loop *l;
	char *path; /* NULL: no file */
	dev_t dev;  /* the file last written, the one that may be replaced */
	ino_t ino;
	bool written;
	int64_t next;
	bool failed; /* the last write failed: said once, until one works again */
#ifdef HAVE_MICROHTTPD
	struct MHD_Daemon *httpd;
	int listen_fd;
	struct http_conn *head, *tail;
	unsigned nconn;
#endif
};

static unsigned idx(unsigned st)
{
	return st < ST_MAX ? st : ST_MAX;
}

static struct metrics *metrics_new(const struct netns_tab *labels, const struct metrics_opts *o)
{
	struct metrics *m = xcalloc(1, sizeof(struct metrics));

	m->labels = labels;
	m->self = metrics_self_new(o->live, o->ephemeral_ports);
	m->leak = metrics_leak_new(o->live, o->leak_ns);
	return m;
}

static void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	metrics_self_free(m->self);
	metrics_leak_free(m->leak);
	free(m->ns);
	free(m->v);
	free(m);
}

static struct mns *ns_get(struct metrics *m, uint32_t i)
{
	m->ns = xgrow_index(m->ns, &m->nns, i, sizeof(*m->ns));
	return &m->ns[i];
}

static void metrics_event(struct metrics *m, const struct track_event *ev)
{
	struct mns *c = ns_get(m, ev->s.netns);
	unsigned from = idx(ev->from), to = idx(ev->to);
	double d = (double)ev->dwell / NS_PER_SEC;

	/*
	 * A socket that appeared is not one that left CLOSED, and one that lived
	 * and died between polls (known by its destroy notice) was in no state
	 * we saw: each has its own counter, never a from label.
	 */
	if (ev->from == ST_UNKNOWN && ev->to == ST_CLOSE) {
		c->unseen++;
		return;
	}
	if (ev->from == ST_CLOSE || ev->from == ST_UNKNOWN) {
		c->appeared[to]++;
		return;
	}
	c->trans[from][to]++;
	if (ev->jump)
		c->jumped[from][to]++;
	/* A dwell whose start was not seen (older than tcpdwell) is a bound: it would skew low. */
	if (ev->dwell_kind == TIME_ATLEAST)
		return;
	c->dwell_count[from]++;
	c->dwell_sum[from] += d;
	for (size_t b = 0; b < NB; b++)
		if (d <= bounds[b])
			c->dwell_bucket[from][b]++;
}

/* A state as a label value; OTHER for a state number we do not know. */
static const char *label(unsigned i)
{
	return i < ST_MAX ? st_name(i) : "OTHER";
}

/* 'netns="LABEL",' before a series' other labels; or nothing. */
static void ns_label(const struct metrics *m, uint32_t i, FILE *out)
{
	if (!m->labels || !netns_tab_active(m->labels))
		return;
	fputs("netns=\"", out);
	metrics_label_value(netns_label(m->labels, i), out);
	fputs("\",", out);
}

/* Sockets alive and the oldest of each state, by namespace; returns the entries put in m->v. */
static size_t count_alive(struct metrics *m, const struct track *t)
{
	size_t n = track_collect(t, &m->v, &m->cap);

	ns_get(m, 0);
	for (uint32_t i = 0; i < m->nns; i++) {
		memset(m->ns[i].alive, 0, sizeof(m->ns[i].alive));
		memset(m->ns[i].oldest, 0, sizeof(m->ns[i].oldest));
	}
	for (size_t i = 0; i < n; i++) {
		const struct tsock *ts = m->v[i];
		unsigned s = idx(ts->s.state);
		struct mns *c;

		if (ts->flags & TS_GHOST)
			continue;
		c = ns_get(m, ts->s.netns);
		c->alive[s]++;
		if (!c->oldest[s] || ts->since < c->oldest[s])
			c->oldest[s] = ts->since;
	}
	return n;
}

/* Sockets by state: namespace 0 always, another while it has any. */
static void write_alive(const struct metrics *m, FILE *out)
{
	fputs("# HELP tcpdwell_sockets TCP sockets alive, by state.\n"
	      "# TYPE tcpdwell_sockets gauge\n", out);
	for (uint32_t i = 0; i < m->nns; i++) {
		const struct mns *c = &m->ns[i];
		size_t any = 0;

		for (unsigned s = 0; s < NST; s++)
			any += c->alive[s];
		if (i && !any)
			continue;
		for (size_t k = 0; k < st_order_len; k++) {
			unsigned st = st_order[k];

			/* The ten states of the state machine always; the kernel's request sockets when any. */
			if (st == ST_CLOSE || st == ST_UNKNOWN || (st == ST_NEW_SYN_RECV && !c->alive[st]))
				continue;
			fputs("tcpdwell_sockets{", out);
			ns_label(m, i, out);
			fprintf(out, "state=\"%s\"} %zu\n", st_name(st), c->alive[st]);
		}
	}
}

/* Jumps among the transitions, appearances and lives no poll saw. */
static void write_more_changes(const struct metrics *m, FILE *out)
{
	fputs("# HELP tcpdwell_transitions_jumped_total Of tcpdwell_transitions_total, the changes "
	      "not known to be one step of the state machine (states between may have been "
	      "missed).\n"
	      "# TYPE tcpdwell_transitions_jumped_total counter\n",
	      out);
	for (uint32_t i = 0; i < m->nns; i++)
		for (unsigned f = 0; f < NST; f++)
			for (unsigned s = 0; s < NST; s++) {
				if (!m->ns[i].jumped[f][s])
					continue;
				fputs("tcpdwell_transitions_jumped_total{", out);
				ns_label(m, i, out);
				fprintf(out, "from=\"%s\",to=\"%s\"} %llu\n", label(f), label(s),
					(unsigned long long)m->ns[i].jumped[f][s]);
			}
	fputs("# HELP tcpdwell_appeared_total Sockets that appeared after tcpdwell started, by "
	      "the state they were first seen in.\n"
	      "# TYPE tcpdwell_appeared_total counter\n",
	      out);
	for (uint32_t i = 0; i < m->nns; i++)
		for (unsigned s = 0; s < NST; s++) {
			if (!m->ns[i].appeared[s])
				continue;
			fputs("tcpdwell_appeared_total{", out);
			ns_label(m, i, out);
			fprintf(out, "state=\"%s\"} %llu\n", label(s),
				(unsigned long long)m->ns[i].appeared[s]);
		}
	fputs("# HELP tcpdwell_unseen_total Sockets that lived and ended between two polls, known "
	      "only by the kernel's destroy notice.\n"
	      "# TYPE tcpdwell_unseen_total counter\n",
	      out);
	for (uint32_t i = 0; i < m->nns; i++) {
		if (i && !m->ns[i].unseen)
			continue;
		fputs("tcpdwell_unseen_total", out);
		if (m->labels && netns_tab_active(m->labels)) {
			fputs("{netns=\"", out);
			metrics_label_value(netns_label(m->labels, i), out);
			fputs("\"}", out);
		}
		fprintf(out, " %llu\n", (unsigned long long)m->ns[i].unseen);
	}
}

/* The text, for the file and for HTTP alike; m's scratch array is reused. */
static void metrics_write(struct metrics *m, struct loop *l, int64_t now, FILE *out)
{
	const struct track *t = loop_track(l);

	size_t n = count_alive(m, t);

	write_alive(m, out);

	fputs("# HELP tcpdwell_oldest_seconds How long the oldest socket of a state has been in it "
	      "(at least: from the first poll for one older than tcpdwell).\n"
	      "# TYPE tcpdwell_oldest_seconds gauge\n", out);
	for (uint32_t i = 0; i < m->nns; i++)
		for (size_t k = 0; k < st_order_len; k++) {
			unsigned s = st_order[k];
			int64_t o = m->ns[i].oldest[s];

			if (!o)
				continue;
			fputs("tcpdwell_oldest_seconds{", out);
			ns_label(m, i, out);
			fprintf(out, "state=\"%s\"} %.6f\n", st_name(s),
				(double)(now > o ? now - o : 0) / NS_PER_SEC);
		}
	metrics_leak_write(m->leak, m->v, n, now, m->labels, out);

	fputs("# HELP tcpdwell_transitions_total State changes seen, by old and new state "
	      "(to CLOSED: the socket went away).\n"
	      "# TYPE tcpdwell_transitions_total counter\n",
	      out);
	for (uint32_t i = 0; i < m->nns; i++)
		for (unsigned f = 0; f < NST; f++)
			for (unsigned s = 0; s < NST; s++) {
				if (!m->ns[i].trans[f][s])
					continue;
				fputs("tcpdwell_transitions_total{", out);
				ns_label(m, i, out);
				fprintf(out, "from=\"%s\",to=\"%s\"} %llu\n", label(f), label(s),
					(unsigned long long)m->ns[i].trans[f][s]);
			}
	write_more_changes(m, out);

	fputs("# HELP tcpdwell_dwell_seconds Time spent in a state, counted when it was left.\n"
	      "# TYPE tcpdwell_dwell_seconds histogram\n", out);
	for (uint32_t i = 0; i < m->nns; i++)
		for (unsigned s = 0; s < NST; s++) {
			const struct mns *c = &m->ns[i];

			if (!c->dwell_count[s])
				continue;
			for (size_t b = 0; b < NB; b++) {
				fputs("tcpdwell_dwell_seconds_bucket{", out);
				ns_label(m, i, out);
				fprintf(out, "state=\"%s\",le=\"%g\"} %llu\n", label(s), bounds[b],
					(unsigned long long)c->dwell_bucket[s][b]);
			}
			fputs("tcpdwell_dwell_seconds_bucket{", out);
			ns_label(m, i, out);
			fprintf(out, "state=\"%s\",le=\"+Inf\"} %llu\n", label(s),
				(unsigned long long)c->dwell_count[s]);
			fputs("tcpdwell_dwell_seconds_sum{", out);
			ns_label(m, i, out);
			fprintf(out, "state=\"%s\"} %.6f\n", label(s), c->dwell_sum[s]);
			fputs("tcpdwell_dwell_seconds_count{", out);
			ns_label(m, i, out);
			fprintf(out, "state=\"%s\"} %llu\n", label(s),
				(unsigned long long)c->dwell_count[s]);
		}
	metrics_self_write(m->self, l, out);
}

/* What each file starts with: how a file tcpdwell wrote is known again. */
#define FIRST_LINE "# HELP tcpdwell_sockets "

/*
 * May PATH be replaced? Only by nothing, by the file written last, or by a
 * regular file of ours that holds tcpdwell's metrics (an earlier run's):
 * never a device node, a FIFO, a symbolic link or someone's file. 0, or -1
 * with the reason in why.
 */
static int check_target(const struct metrics_sink *k, char *why, size_t len)
{
	char head[sizeof(FIRST_LINE) - 1];
	struct stat st;
	ssize_t n;
	int fd;

	if (lstat(k->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "it is %s, not a file tcpdwell wrote",
			 S_ISLNK(st.st_mode)			      ? "a symbolic link"
			 : S_ISFIFO(st.st_mode)			      ? "a FIFO"
			 : S_ISDIR(st.st_mode)			      ? "a directory"
			 : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device node"
								      : "not a regular file");
		return -1;
	}
	if (k->written && st.st_dev == k->dev && st.st_ino == k->ino)
		return 0;
	if (st.st_uid != geteuid()) {
		snprintf(why, len, "it belongs to another user (uid %u)", (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_size == 0)
		return 0;
	fd = open(k->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, head, sizeof(head));
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(head) || memcmp(head, FIRST_LINE, sizeof(head))) {
		snprintf(why, len, "it is not a metrics file tcpdwell wrote");
		return -1;
	}
	return 0;
}

/*
 * A temporary file beside PATH, made for this write alone: a name no one
 * can guess, created with O_EXCL (so never a planted file, FIFO or link).
 * node_exporter's textfile collector reads only *.prom: it never sees it.
 */
static int open_tmp(const char *path, char **tmp)
{
	size_t len = strlen(path) + sizeof(".XXXXXX.tmp");
	int fd;

	*tmp = xmalloc(len);
	snprintf(*tmp, len, "%s.XXXXXX.tmp", path);
	fd = mkostemps(*tmp, 4, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		free(*tmp);
		*tmp = NULL;
		errno = e;
		return -1;
	}
	/* mkostemps makes it 0600: a collector run as another user reads it. */
	fchmod(fd, 0644);
	return fd;
}

/* Write a temporary file and rename it over the real one; -errno on failure, why said. */
static int write_file(struct metrics_sink *k, char *why, size_t len)
{
	char *tmp;
	int fd = open_tmp(k->path, &tmp);
	struct stat st;
	FILE *f;
	int e = 0;

	if (fd < 0) {
		snprintf(why, len, "%s", strerror(errno));
		return -errno;
	}
	f = fdopen(fd, "w");
	if (!f) {
		e = -errno;
		close(fd);
		goto out;
	}
	metrics_write(k->m, k->l, loop_now(k->l), f);
	/* The stream's error is the write's: ENOSPC says the disk is full, EIO says nothing. */
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		e = errno ? -errno : -EIO;
	if (!e && fstat(fileno(f), &st) < 0)
		e = -errno;
	if (fclose(f) != 0 && !e)
		e = errno ? -errno : -EIO;
	if (e)
		goto out;
	if (check_target(k, why, len) < 0) {
		e = -EEXIST;
		goto out_said;
	}
	if (rename(tmp, k->path) < 0) {
		e = -errno;
		goto out;
	}
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->written = true;
	free(tmp);
	return 0;
out:
	snprintf(why, len, "%s", strerror(-e));
out_said:
	unlink(tmp);
	free(tmp);
	return e;
}

static void flush(struct metrics_sink *k)
{
	char why[160];
	int e;

	if (!k->path)
		return;
	e = write_file(k, why, sizeof(why));
	if (e && !k->failed)
		loop_status(k->l, "metrics: cannot write '%s': %s%s", k->path, why,
			    e == -EEXIST ? "; remove it or name another file" : "");
	else if (!e && k->failed)
		loop_status(k->l, "metrics: '%s' written again", k->path);
	k->failed = e != 0;
}

#ifdef HAVE_MICROHTTPD
/*
 * libmicrohttpd brings a TLS stack: eleven libraries that cost every start
 * about 5 ms to load here, for a server only --metrics-listen runs. They
 * are loaded then, and these are the functions used.
 */
static struct {
	__typeof__(&MHD_start_daemon) start_daemon;
	__typeof__(&MHD_stop_daemon) stop_daemon;
	__typeof__(&MHD_run) run;
	__typeof__(&MHD_get_daemon_info) get_daemon_info;
	__typeof__(&MHD_get_timeout) get_timeout;
	__typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
	__typeof__(&MHD_add_response_header) add_response_header;
	__typeof__(&MHD_queue_response) queue_response;
	__typeof__(&MHD_destroy_response) destroy_response;
	__typeof__(&MHD_get_connection_info) get_connection_info;
} mhd;

static void *mhd_sym(void *h, const char *name, bool *ok)
{
	void *p = dlsym(h, name);

	*ok = *ok && p;
	return p;
}

static int mhd_load(char *err, size_t errlen)
{
	static bool loaded;
	bool ok = true;
	void *h;

	if (loaded)
		return 0;
	if (!(h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		const char *why = dlerror();

		/* Only a missing library is installed; out of descriptors or memory is not. */
		snprintf(err, errlen, "cannot load libmicrohttpd for --metrics-listen: %s%s", why,
			 strstr(why, "No such file") ? " (Debian: apt-get install libmicrohttpd12)"
						     : "");
		return -1;
	}
#define MHD_LOAD(f) mhd.f = (__typeof__(mhd.f))mhd_sym(h, "MHD_" #f, &ok)
	MHD_LOAD(start_daemon);
	MHD_LOAD(stop_daemon);
	MHD_LOAD(run);
	MHD_LOAD(get_daemon_info);
	MHD_LOAD(get_timeout);
	MHD_LOAD(create_response_from_buffer);
	MHD_LOAD(add_response_header);
	MHD_LOAD(queue_response);
	MHD_LOAD(destroy_response);
	MHD_LOAD(get_connection_info);
#undef MHD_LOAD
	if (!ok) {
		snprintf(err, errlen, "cannot use %s for --metrics-listen: a function is missing",
			 MHD_SONAME);
		dlclose(h);
		return -1;
	}
	loaded = true; /* for good: the library stays while the process runs */
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

/* GET /metrics (or /): the same text as the file, made when asked. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct metrics_sink *k = cls;
	const union MHD_ConnectionInfo *ci =
	    mhd.get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	static char not_found[] = "tcpdwell serves its metrics at /metrics\n";
	static char bad_method[] = "only GET and HEAD\n";
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)version, (void)upload, (void)state;
	if (ci && ci->socket_context) {
		struct http_conn *h = ci->socket_context;

		h->answered = true;
		h->since = mono_ns();
	}
	if (*upload_len)
		return MHD_NO;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
			     strlen(bad_method), MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") && strcmp(url, "/"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, strlen(not_found),
			     MHD_RESPMEM_PERSISTENT);
	f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	metrics_write(k->m, k->l, loop_now(k->l), f);
	if (fclose(f) != 0) {
		free(buf);
		return MHD_NO;
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len,
		     MHD_RESPMEM_MUST_FREE);
}

/* "[ADDR:]PORT", ADDR an IPv4 address or [IPv6]; 127.0.0.1 when left out. */
static int parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen)
{
	const char *colon = strrchr(s, ':'), *port = colon ? colon + 1 : s;
	char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1", *end;
	size_t hl = colon ? (size_t)(colon - s) : 0;
	long p;

	errno = 0;
	p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 1 || p > 65535)
		return -1;
	if (colon) {
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, s, hl);
		host[hl] = 0;
	}
	memset(sa, 0, sizeof(*sa));
	if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;

		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -1;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		*salen = sizeof(*a);
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)sa;
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -1;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)p);
	*salen = sizeof(*a);
	return 0;
}

/*
 * What a neighbour on the same box can do to the endpoint, and the answer:
 * a request must arrive within HTTP_REQUEST_NS of its connection (or of the
 * last answer on it), however slowly it trickles in, and a crowd of idle
 * connections is cut from its oldest, so that it never fills the limit and
 * keeps a scrape out. Every client comes from 127.0.0.1 on the default
 * address (or any of 127/8), so a limit per address would not help.
 */
#define HTTP_CONN_MAX	32		 /* connections kept; the oldest idle one goes first */
#define HTTP_REQUEST_NS (3 * NS_PER_SEC) /* to send a request, or the next one */

/* End a connection: MHD sees it hung up and closes it at its next run. */
static void http_cut(struct http_conn *h)
{
	if (h->fd < 0)
		return;
	shutdown(h->fd, SHUT_RDWR);
	h->fd = -1;
}

static void on_conn(void *cls, struct MHD_Connection *c, void **ctx,
		    enum MHD_ConnectionNotificationCode code)
{
	struct metrics_sink *k = cls;
	struct http_conn *h;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *i =
		    mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		h = xcalloc(1, sizeof(*h));
		h->fd = i ? i->connect_fd : -1;
		h->since = mono_ns();
		h->prev = k->tail;
		if (k->tail)
			k->tail->next = h;
		else
			k->head = h;
		k->tail = h;
		*ctx = h;
		/* A crowd: the oldest connection that never asked anything makes room. */
		if (++k->nconn > HTTP_CONN_MAX)
			for (struct http_conn *o = k->head; o != h; o = o->next)
				if (!o->answered && o->fd >= 0) {
					http_cut(o);
					break;
				}
		return;
	}
	if (code != MHD_CONNECTION_NOTIFY_CLOSED || !(h = *ctx))
		return;
	if (h->prev)
		h->prev->next = h->next;
	else
		k->head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	else
		k->tail = h->prev;
	k->nconn--;
	free(h);
	*ctx = NULL;
}

/* Cut the connections past their deadline: MHD's own timeout restarts with every byte. */
static void http_deadlines(struct metrics_sink *k, int64_t now)
{
	for (struct http_conn *h = k->head; h; h = h->next)
		if (h->fd >= 0 && now - h->since > HTTP_REQUEST_NS)
			http_cut(h);
}

/* Our own listening socket, so that a refusal says why; MHD takes it over. */
static int http_start(struct metrics_sink *k, const char *listen_at, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int one = 1, fd;

	if (parse_listen(listen_at, &sa, &salen) < 0) {
		snprintf(err, errlen,
			 "invalid metrics address '%s': expected [ADDR:]PORT, e.g. 9101, "
			 "0.0.0.0:9101 or [::1]:9101", listen_at);
		return -1;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 2 * HTTP_CONN_MAX) < 0) {
		snprintf(err, errlen, "cannot serve metrics on '%s': %s", listen_at,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	k->listen_fd = fd;
	if (mhd_load(err, errlen) < 0) {
		close(fd);
		k->listen_fd = -1;
		return -1;
	}
	k->httpd = mhd.start_daemon(
	    MHD_USE_EPOLL | (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, answer, k,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 2U * HTTP_CONN_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(HTTP_REQUEST_NS / NS_PER_SEC),
	    MHD_OPTION_NOTIFY_CONNECTION, on_conn, k, MHD_OPTION_END);
	if (!k->httpd) {
		snprintf(err, errlen, "cannot serve metrics on '%s': libmicrohttpd refused",
			 listen_at);
		close(fd);
		k->listen_fd = -1;
		return -1;
	}
	return 0;
}

static void http_run(struct metrics_sink *k)
{
	if (!k->httpd)
		return;
	http_deadlines(k, mono_ns());
	mhd.run(k->httpd);
}

static int s_fd(void *ctx)
{
	struct metrics_sink *k = ctx;
	const union MHD_DaemonInfo *i;

	if (!k->httpd || !(i = mhd.get_daemon_info(k->httpd, MHD_DAEMON_INFO_EPOLL_FD)))
		return -1;
	return i->epoll_fd;
}

static void s_input(void *ctx, struct loop *l)
{
	(void)l;
	http_run(ctx);
}

static int64_t http_due(struct metrics_sink *k, int64_t due)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!k->httpd)
		return due;
	/*
	 * Idle connections time out only when MHD runs. Zero means work is
	 * ready now: due at 0, not at mono_ns(), which is later than the now
	 * the loop compares with, so that MHD would never run again and the
	 * loop would poll with a zero timeout for good.
	 */
	if (mhd.get_timeout(k->httpd, &ms) == MHD_YES) {
		int64_t at = ms ? mono_ns() + (int64_t)(ms < 60000 ? ms : 60000) * NS_PER_MS : 0;

		if (at < due)
			due = at;
	}
	for (const struct http_conn *h = k->head; h; h = h->next)
		if (h->fd >= 0 && h->since + HTTP_REQUEST_NS + 1 < due)
			due = h->since + HTTP_REQUEST_NS + 1;
	return due;
}

static void http_stop(struct metrics_sink *k)
{
	if (k->httpd)
		mhd.stop_daemon(k->httpd);
	if (k->listen_fd >= 0)
		close(k->listen_fd);
}
#else
static int http_start(struct metrics_sink *k, const char *listen_at, char *err, size_t errlen)
{
	(void)k;
	snprintf(err, errlen,
		 "cannot serve metrics on '%s': this tcpdwell was built without libmicrohttpd "
		 "(--metrics FILE works)", listen_at);
	return -1;
}

static void http_run(struct metrics_sink *k)
{
	(void)k;
}

static int64_t http_due(struct metrics_sink *k, int64_t due)
{
	(void)k;
	return due;
}

static void http_stop(struct metrics_sink *k)
{
	(void)k;
}
#endif

static void s_observe(void *ctx, struct loop *l, const struct obs *o)
{
	metrics_self_observe(((struct metrics_sink *)ctx)->m->self, loop_track(l), o, mono_ns());
}

static void s_event(void *ctx, const struct track_event *ev)
{
	metrics_event(((struct metrics_sink *)ctx)->m, ev);
}

static int64_t s_next_due(void *ctx)
{
	struct metrics_sink *k = ctx;

	return http_due(k, k->path ? k->next : INT64_MAX);
}

static void s_tick(void *ctx, struct loop *l, int64_t now)
{
	struct metrics_sink *k = ctx;

	http_run(k);
	/* Nothing to say before the first poll: a collector would read all zeros. */
	if (!k->path || now < k->next || !track_last_poll(loop_track(l)))
		return;
	k->next = now + WRITE_EVERY;
	flush(k);
}

static void sink_free(struct metrics_sink *k)
{
	http_stop(k);
	metrics_free(k->m);
	free(k->path);
	free(k);
}

static void s_close(void *ctx)
{
	/* The last figures stay behind for the collector. */
	flush(ctx);
	sink_free(ctx);
}

static const struct sink_ops metrics_ops = {
	.name = "metrics",
	.observe = s_observe,
	.event = s_event,
	.next_due = s_next_due,
	.tick = s_tick,
	.close = s_close,
#ifdef HAVE_MICROHTTPD
    .fd = s_fd,
    .input = s_input,
#endif
};

/* Refuse at start what would be refused every second: a mistyped directory, a file not ours. */
static int check_path(const struct metrics_sink *k, char *err, size_t errlen)
{
	char why[160], *tmp;
	int fd;

	if (check_target(k, why, sizeof(why)) < 0) {
		snprintf(err, errlen,
			 "refusing to write metrics to '%s': %s; remove it or name another file",
			 k->path, why);
		return -1;
	}
	if ((fd = open_tmp(k->path, &tmp)) < 0) {
		snprintf(err, errlen, "cannot write metrics beside '%s': %s", k->path,
			 strerror(errno));
		return -1;
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	return 0;
}

int metrics_open(struct loop *l, const struct metrics_opts *o, char *err, size_t errlen)
{
	struct metrics_sink *k = xcalloc(1, sizeof(*k));

	k->l = l;
#ifdef HAVE_MICROHTTPD
	k->listen_fd = -1;
#endif
	if (o->path) {
		k->path = xstrdup(o->path);
		if (check_path(k, err, errlen) < 0) {
			free(k->path);
			free(k);
			return -1;
		}
	}
	if (o->listen && http_start(k, o->listen, err, errlen) < 0) {
		free(k->path);
		free(k);
		return -1;
	}
	k->m = metrics_new(loop_netns(l), o);
	loop_add_sink(l, &metrics_ops, k);
	return 0;
}
