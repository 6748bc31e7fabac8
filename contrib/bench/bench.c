/* bench.c - tcpdwell-bench: the costs of issue 6 at several population sizes, as one table. */
#include "config.h"
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "sock.h"
#include "util.h"

#define MAX_SIZES 8
#define MAX_REPS 50

uint64_t bench_netns_gen;

/* The measured things, run in this order in every round (interleaved). */
enum { M_A, M_B, M_C, M_D, M_E, M_F, M_FQ, M_FW, M_F2, M_F1, NM };

/*
 * M_FQ comes from the run of M_F, right after it. M_FW is M_F again at once:
 * its memory is what the last run just gave back (see README, Performance).
 */
static const char *const m_label[NM] = {
	[M_A] = "(a)  bare dump, the floor",	  [M_B] = "(b)  full poll + tracker",
	[M_C] = "(c)  ss -tan",			  [M_D] = "(d)  ss -tanp",
	[M_E] = "(e)  fast-lane poll + tracker", [M_F] = "(f)  first screen with the table",
	[M_FQ] = "(fq) then q answered, to exit",  [M_FW] = "(fw) first screen, started again",
	[M_F2] = "(f2) tcpdwell -b -c 1",
	[M_F1] = "(f1) of which owners (procmap)",
};

struct result {
	size_t size, dumped, tracked, resolved;
	bool have[NM];
	double med[NM]; /* ns */
	double baseline;
	bool have_mem;
	double mem, mem_track;
	long f_rss_kb;
};

struct config {
	unsigned reps;
	const char *tcpdwell;
	bool verbose;
	const char *exec; /* -x: run this in the population instead of measuring */
	size_t sizes[MAX_SIZES];
	unsigned nsizes;
};

static void usage(FILE *out)
{
	fputs("Usage: tcpdwell-bench [-r REPS] [-t TCPDWELL] [-v] [SIZE]...\n"
	      "       tcpdwell-bench -x COMMAND [SIZE]\n"
	      "Build SIZE TCP sockets (5/8 ESTABLISHED, 3/8 TIME_WAIT, a few in each rare state)\n"
	      "in a private network namespace and measure what tcpdwell costs against the\n"
	      "kernel's floor and ss(8). Sizes default to 10000 160000; REPS to 5. Needs root.\n"
	      "  -r REPS      repetitions of each measurement, interleaved (default 5)\n"
	      "  -t PATH      the tcpdwell binary for (f) and (f2) (default $TCPDWELL or the build's)\n"
	      "  -v           print every repetition to stderr\n"
	      "  -x COMMAND   build one population (default 160000) and run COMMAND with sh -c\n"
	      "               in its namespace instead of measuring, to profile or look at it\n",
	      out);
}

static void parse_args(int argc, char **argv, struct config *c)
{
	const char *env = getenv("TCPDWELL");
	int opt;

	*c = (struct config){ .reps = 5, .tcpdwell = env && *env ? env : BENCH_TCPDWELL };
	while ((opt = getopt(argc, argv, "r:t:vx:h")) != -1) {
		switch (opt) {
		case 'r':
			c->reps = (unsigned)strtoul(optarg, NULL, 10);
			if (c->reps < 1 || c->reps > MAX_REPS) {
				fprintf(stderr, "tcpdwell-bench: repetitions must be 1 to %d\n",
					MAX_REPS);
				exit(2);
			}
			break;
		case 't':
			c->tcpdwell = optarg;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'x':
			c->exec = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	for (; optind < argc; optind++) {
		char *end;
		unsigned long v = strtoul(argv[optind], &end, 10);

		if (*end || v < 16 || v > 2000000 || c->nsizes == MAX_SIZES) {
			fprintf(stderr, "tcpdwell-bench: bad size '%s': 16 to 2000000 sockets, "
					"at most %d sizes\n", argv[optind], MAX_SIZES);
			exit(2);
		}
		c->sizes[c->nsizes++] = v;
	}
	if (c->exec && c->nsizes > 1) {
		fprintf(stderr, "tcpdwell-bench: -x takes one size\n");
		exit(2);
	}
	if (!c->nsizes && c->exec)
		c->sizes[c->nsizes++] = 160000;
	if (!c->nsizes) {
		c->sizes[c->nsizes++] = 10000;
		c->sizes[c->nsizes++] = 160000;
	}
}

/* A fresh network namespace with loopback up: only our sockets are in it. */
static int enter_netns(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	bench_netns_gen++;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A first guess of how long each measurement takes, to keep TIME_WAIT alive through it. */
static int64_t guess_ns(unsigned m, size_t size)
{
	int64_t per = m == M_D || m == M_F || m == M_FW || m == M_F2 || m == M_F1 ? 80000 : 10000;

	return NS_PER_SEC / 2 + per * (int64_t)size;
}

/* One run of measurement m; ns, or -1. */
static int64_t run_one(unsigned m, struct meas *ms, const struct config *c, struct result *res)
{
	char *ss_tan[] = { "ss", "-tan", NULL }, *ss_tanp[] = { "ss", "-tanp", NULL };
	char *tcpdwell[] = { (char *)c->tcpdwell, "-b", "-c", "1", NULL };
	static int64_t quit_ns = -1;
	int status = 0;
	int64_t ns = -1;

	switch (m) {
	case M_A:
		ns = meas_bare(&res->dumped);
		break;
	case M_B:
		ns = meas_poll(ms);
		res->tracked = meas_tracked(ms);
		break;
	case M_C:
		ns = meas_exec(ss_tan, false, NULL, &status);
		break;
	case M_D:
		ns = meas_exec(ss_tanp, false, NULL, &status);
		break;
	case M_E:
		ns = meas_fast(ms);
		break;
	case M_F:
		ns = meas_screen(c->tcpdwell, &quit_ns);
		break;
	case M_FQ:
		ns = quit_ns;
		quit_ns = -1;
		break;
	case M_FW: {
		int64_t q;
		ns = meas_screen(c->tcpdwell, &q);
		break;
	}
	case M_F2:
		ns = meas_exec(tcpdwell, false, &res->f_rss_kb, &status);
		break;
	case M_F1:
		ns = meas_owners(ms, &res->resolved);
		break;
	}
	return ns;
}

/* -x: build the population and run a command in its namespace; its exit status. */
static int run_exec(const char *cmd, size_t size)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	struct pop_plan plan;
	struct pop *p;
	char err[256];
	int status = -1;
	pid_t pid;

	if (enter_netns() < 0) {
		fprintf(stderr, "tcpdwell-bench: cannot make a network namespace: %s\n",
			strerror(errno));
		return 1;
	}
	pop_plan_for(size, &plan);
	p = pop_build(&plan, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "tcpdwell-bench: %s\n", err);
		return 1;
	}
	pop_describe(p, "population", stderr);
	fflush(NULL);
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) {
		fprintf(stderr, "tcpdwell-bench: cannot run /bin/sh\n");
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	pop_free(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int run_size(const struct config *c, size_t size, struct result *res)
{
	static double v[NM][MAX_REPS];
	unsigned nv[NM] = { 0 };
	int64_t expect[NM], baseline;
	struct pop_plan plan;
	struct pop *p;
	struct meas *ms;
	char err[256];

	memset(res, 0, sizeof(*res));
	res->size = size;
	if (enter_netns() < 0) {
		fprintf(stderr, "tcpdwell-bench: cannot make a network namespace: %s\n",
			strerror(errno));
		return -1;
	}
	pop_plan_for(size, &plan);
	fprintf(stderr, "tcpdwell-bench: %zu sockets: building %zu ESTABLISHED, %zu TIME_WAIT\n",
		size, plan.established, plan.time_wait);
	int64_t t0 = mono_ns();
	p = pop_build(&plan, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "tcpdwell-bench: %s\n", err);
		return -1;
	}
	fprintf(stderr, "tcpdwell-bench: built in %.1f s\n", (double)(mono_ns() - t0) / 1e9);
	pop_describe(p, "population", stdout);
	ms = meas_new(&baseline, err, sizeof(err));
	if (!ms) {
		fprintf(stderr, "tcpdwell-bench: %s\n", err);
		pop_free(p);
		return -1;
	}
	res->baseline = (double)baseline;
	for (unsigned m = 0; m < NM; m++)
		expect[m] = guess_ns(m, size);

	for (unsigned r = 0; r < c->reps; r++) {
		fprintf(stderr, "tcpdwell-bench: %zu sockets: round %u of %u\n", size, r + 1,
			c->reps);
		for (unsigned m = 0; m < NM; m++) {
			if (pop_keep(p, expect[m], err, sizeof(err)) < 0) {
				fprintf(stderr, "tcpdwell-bench: %s\n", err);
				meas_free(ms);
				pop_free(p);
				return -1;
			}
			int64_t ns = run_one(m, ms, c, res);
			if (c->verbose)
				fprintf(stderr, "  %-32s %10.3f ms\n", m_label[m],
					ns < 0 ? -1.0 : (double)ns / 1e6);
			if (ns < 0)
				continue;
			v[m][nv[m]++] = (double)ns;
			if (ns * 3 / 2 + NS_PER_SEC / 5 > expect[m] || r == 0)
				expect[m] = ns * 3 / 2 + NS_PER_SEC / 5;
		}
	}
	for (unsigned m = 0; m < NM; m++) {
		res->have[m] = nv[m] > 0;
		if (nv[m])
			res->med[m] = median(v[m], nv[m]);
		else
			fprintf(stderr, "tcpdwell-bench: %s failed in every round\n", m_label[m]);
	}
	res->have_mem = meas_memory(&res->mem, &res->mem_track) == 0;
	pop_describe(p, "population at the end", stdout);
	meas_free(ms);
	pop_free(p);
	return 0;
}

/* 160,000 */
static char *fmt_count(char *buf, size_t len, size_t v)
{
	if (v >= 1000000)
		snprintf(buf, len, "%zu,%03zu,%03zu", v / 1000000, v / 1000 % 1000, v % 1000);
	else if (v >= 1000)
		snprintf(buf, len, "%zu,%03zu", v / 1000, v % 1000);
	else
		snprintf(buf, len, "%zu", v);
	return buf;
}

/* Three significant figures without an exponent. */
static char *fmt_fig(char *buf, size_t len, double v)
{
	if (v < 10)
		snprintf(buf, len, "%.2f", v);
	else if (v < 100)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static void row(const char *label, const char *unit, const struct result *res, unsigned n,
		bool (*get)(const struct result *r, double *v))
{
	char buf[32];

	printf("%-32s %-3s", label, unit);
	for (unsigned i = 0; i < n; i++) {
		double v;
		printf(" %12s", get(&res[i], &v) ? fmt_fig(buf, sizeof(buf), v) : "n/a");
	}
	putchar('\n');
}

#define GETTER(name, cond, expr)                                                                  \
	static bool name(const struct result *r, double *v)                                     \
	{                                                                                          \
		if (!(cond))                                                                       \
			return false;                                                              \
		*v = (expr);                                                                       \
		return true;                                                                       \
	}

static unsigned cur_m;
GETTER(get_ms, r->have[cur_m], r->med[cur_m] / 1e6)
GETTER(get_base, r->baseline > 0, r->baseline / 1e6)
GETTER(get_mem, r->have_mem, r->mem)
GETTER(get_mem_track, r->have_mem, r->mem_track)
GETTER(get_a_per, r->have[M_A] && r->dumped, r->med[M_A] / (double)r->dumped)
GETTER(get_b_per, r->have[M_B] && r->tracked, r->med[M_B] / (double)r->tracked)
GETTER(get_rss, r->f_rss_kb > 0, (double)r->f_rss_kb / 1024)

struct ratio {
	const char *name, *goal;
	unsigned num, den;
	double limit; /* 0: for reference only */
};

static const struct ratio ratios[] = {
	{ "b/a   poll vs the floor", "<= 1.3", M_B, M_A, 1.3 },
	{ "b/c   poll vs ss -tan", "<= 0.8", M_B, M_C, 0.8 },
	{ "e/b   fast lane vs poll", "<= 0.25", M_E, M_B, 0.25 },
	{ "f/b   first screen vs poll", "<= 1.5", M_F, M_B, 1.5 },
	{ "fw/b  started again vs poll", "", M_FW, M_B, 0 },
	{ "f/d   first screen vs ss -tanp", "", M_F, M_D, 0 },
	{ "f1/d  owners vs ss -tanp", "<= 1.0", M_F1, M_D, 1.0 },
};

static void verdict_cell(bool have, double v, double limit)
{
	char buf[32], cell[48];

	if (!have)
		snprintf(cell, sizeof(cell), "n/a");
	else if (limit <= 0)
		snprintf(cell, sizeof(cell), "%s", fmt_fig(buf, sizeof(buf), v));
	else
		snprintf(cell, sizeof(cell), "%s %s", fmt_fig(buf, sizeof(buf), v),
			 v <= limit ? "met" : "NOT MET");
	printf(" %16s", cell);
}

static void print_table(const struct config *c, const struct result *res, unsigned n)
{
	char buf[32];

	printf("\ntcpdwell-bench: medians of %u interleaved repetitions; times in ms\n", c->reps);
	printf("%-32s %-3s", "sockets", "");
	for (unsigned i = 0; i < n; i++)
		printf(" %12s", fmt_count(buf, sizeof(buf), res[i].size));
	putchar('\n');
	printf("%-32s %-3s", "     sockets in the dump", "");
	for (unsigned i = 0; i < n; i++)
		printf(" %12s", fmt_count(buf, sizeof(buf), res[i].dumped));
	putchar('\n');
	for (cur_m = 0; cur_m < NM; cur_m++)
		row(m_label[cur_m], "ms", res, n, get_ms);
	row("(g)  memory per tracked socket", "B", res, n, get_mem);
	row("     of which the tracker", "B", res, n, get_mem_track);
	row("     first poll (tracker empty)", "ms", res, n, get_base);
	row("     (a) per socket", "ns", res, n, get_a_per);
	row("     (b) per socket", "ns", res, n, get_b_per);
	row("     (f2) peak RSS of tcpdwell", "MiB", res, n, get_rss);

	printf("\n%-32s %-8s", "ratio", "goal");
	for (unsigned i = 0; i < n; i++)
		printf(" %16s", fmt_count(buf, sizeof(buf), res[i].size));
	putchar('\n');
	for (size_t k = 0; k < ARRAY_SIZE(ratios); k++) {
		const struct ratio *q = &ratios[k];

		printf("%-32s %-8s", q->name, q->goal[0] ? q->goal : "-");
		for (unsigned i = 0; i < n; i++) {
			bool have = res[i].have[q->num] && res[i].have[q->den] &&
				    res[i].med[q->den] > 0;
			verdict_cell(have, have ? res[i].med[q->num] / res[i].med[q->den] : 0,
				     q->limit);
		}
		putchar('\n');
	}
	printf("%-32s %-8s", "g     bytes per socket", "<= 300");
	for (unsigned i = 0; i < n; i++)
		verdict_cell(res[i].have_mem, res[i].mem, 300);
	putchar('\n');

	/* Cost per socket must not grow with the population (no quadratic paths). */
	if (n >= 2) {
		double lo, hi;
		if (get_b_per(&res[0], &lo) && get_b_per(&res[n - 1], &hi) && lo > 0) {
			printf("%-32s %-8s", "b per socket, largest/smallest", "<= 1.25");
			verdict_cell(true, hi / lo, 1.25);
			putchar('\n');
		}
		if (get_a_per(&res[0], &lo) && get_a_per(&res[n - 1], &hi) && lo > 0) {
			printf("%-32s %-8s", "a per socket, largest/smallest", "-");
			verdict_cell(true, hi / lo, 0);
			putchar('\n');
		}
	}
	printf("The goals of issue 6 are set at 160,000 sockets; a benchmark reports, it does "
	       "not fail.\n");
}

int main(int argc, char **argv)
{
	static struct result res[MAX_SIZES];
	struct config c;
	unsigned done = 0;

	if (argc == 2 && !strcmp(argv[1], "--memory-probe"))
		return meas_memory_probe();
	parse_args(argc, argv, &c);
	if (geteuid() != 0) {
		fprintf(stderr, "tcpdwell-bench: needs root: it builds its sockets in a private "
				"network namespace (unshare CLONE_NEWNET); run it with sudo\n");
		return 77;
	}
	if (c.exec)
		return run_exec(c.exec, c.sizes[0]);
	if (access(c.tcpdwell, X_OK) < 0)
		fprintf(stderr, "tcpdwell-bench: note: cannot run '%s' (%s): (f) will be n/a\n",
			c.tcpdwell, strerror(errno));
	for (unsigned i = 0; i < c.nsizes; i++) {
		if (run_size(&c, c.sizes[i], &res[i]) < 0)
			break;
		done++;
	}
	if (!done)
		return 1;
	print_table(&c, res, done);
	return done == c.nsizes ? 0 : 1;
}
