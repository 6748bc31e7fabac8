#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "column.h"
#include "rc.h"
#include "exact.h"
#include "exact_bpf.h"
#include "filter.h"
#include "group.h"
#include "loop.h"
#include "metrics.h"
#include "netns.h"
#include "nswatch.h"
#include "poll.h"
#include "leaks.h"
#include "procmap.h"
#include "record.h"
#include "replay.h"
#include "scenario.h"
#include "svg.h"
#include "sig.h"
#include "track.h"
#include "util.h"
#include "view.h"

/* Exit codes, as tcpdwell(1) documents them. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
/* tcpdwell-scenario(5) keeps 1 for a failed expectation: a scenario that cannot run is 2. */
enum { EXIT_SCENARIO = 2 };

enum mode { MODE_VIEW, MODE_BATCH, MODE_EVENTS, MODE_SERVE, MODE_LEAKS };
enum source_kind { SRC_DEFAULT, SRC_POLL, SRC_EXACT, SRC_AUTO };
/* Which exact source runs: on eBPF (cookies, namespaces), or the perf_event_open fallback. */
enum exact_kind { EXACT_NONE, EXACT_BPF, EXACT_PERF };

struct config {
	enum mode mode;
	enum source_kind source;
	bool source_set;       /* --source given: its fallbacks are noted on stderr too */
	enum exact_kind exact; /* the exact source opened */
	int64_t interval_ns;
	bool interval_set;
	long count;
	int format;
	const char *write_path;
	const char *metrics_path;
	const char *metrics_listen;
	bool serve; /* --serve: the exporter alone */
	bool leaks; /* --leaks: the leak report, once */
	const char *read_path;
	const char *begin, *end;
	double speed;
	const char *scenario;
	bool step;
	bool verbose;	 /* -v: the scenario's own progress */
	double reading;	 /* --reading-speed: words per second, 0 the default */
	const char *svg; /* --svg: the scenario's ladder and timeline at its end */
	bool diagram;
	bool has_cols;	      /* --columns given */
	struct col_list cols; /* the table's columns, in order */
	int group_by;	      /* --group-by: an enum group_by, -1 when not given */
	bool group_by_age;    /* --group-by KEY,age */
	struct rc rc;	      /* the view's settings file, as read */
	char rc_path[4096];   /* "" when there is none */
	bool no_color;
	int64_t ghost_ns;
	int64_t leak_ns;
	int64_t fast_ns;
	bool fast_set; /* --fast given */
	double fast_budget;
	bool destroy;
	char *filter_text;
	const char *netns;    /* --netns: a name, a path or "all" */
	struct nswatch_ns ns; /* the one it names */
};

enum {
	OPT_FORMAT = 256,
	OPT_BEGIN,
	OPT_END,
	OPT_SPEED,
	OPT_SCENARIO,
	OPT_STEP,
	OPT_LIST,
	OPT_DIAGRAM,
	OPT_GHOST,
	OPT_LEAK,
	OPT_NO_COLOR,
	OPT_FAST,
	OPT_FAST_BUDGET,
	OPT_NO_DESTROY,
	OPT_SOURCE,
	OPT_METRICS,
	OPT_METRICS_LISTEN,
	OPT_SERVE,
	OPT_READING,
	OPT_SVG,
	OPT_COLUMNS,
	OPT_LEAKS,
	OPT_GROUP_BY,
};

static const struct option long_opts[] = {
    {"batch", no_argument, NULL, 'b'},
    {"events", no_argument, NULL, 'e'},
    {"delay", required_argument, NULL, 'd'},
    {"count", required_argument, NULL, 'c'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"write", required_argument, NULL, 'w'},
    {"read", required_argument, NULL, 'r'},
    {"begin", required_argument, NULL, OPT_BEGIN},
    {"end", required_argument, NULL, OPT_END},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"scenario", required_argument, NULL, OPT_SCENARIO},
    {"step", no_argument, NULL, OPT_STEP},
    {"reading-speed", required_argument, NULL, OPT_READING},
    {"verbose", no_argument, NULL, 'v'},
    {"svg", required_argument, NULL, OPT_SVG},
    {"columns", required_argument, NULL, OPT_COLUMNS},
    {"group-by", required_argument, NULL, OPT_GROUP_BY},
    {"list-scenarios", no_argument, NULL, OPT_LIST},
    {"diagram", no_argument, NULL, OPT_DIAGRAM},
    {"ghost", required_argument, NULL, OPT_GHOST},
    {"leak", required_argument, NULL, OPT_LEAK},
    {"leaks", no_argument, NULL, OPT_LEAKS},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"fast", required_argument, NULL, OPT_FAST},
    {"fast-budget", required_argument, NULL, OPT_FAST_BUDGET},
    {"no-destroy", no_argument, NULL, OPT_NO_DESTROY},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"netns", required_argument, NULL, 'N'},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"serve", no_argument, NULL, OPT_SERVE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
	fputs(
	    "Usage: tcpdwell [OPTION]... [FILTER]\n"
	    "Watch TCP connection states live: every socket grouped by state, with how long\n"
	    "it has dwelt there. Without -b or -e, a full-screen view (F1 or h: keys).\n"
	    "\n"
	    "Output:\n"
	    "  -b, --batch            plain-text tables, one per poll, like top -b\n"
	    "  -e, --events           one line per state transition, in time order (up to\n"
	    "                         one poll interval behind: see tcpdwell(1))\n"
	    "      --format FMT       event format: text (default), json (JSON Lines), csv;\n"
	    "                         with -b, json prints the groups (see --group-by)\n"
	    "  -c, --count N          stop after N tables (-b) or N events (-e)\n"
	    "Polling:\n"
	    "  -d, --delay SECONDS    full poll interval, 0.01 or more (default 1)\n"
	    "      --fast SECONDS     poll the rare states this often, 0 to disable (default "
	    "0.05)\n"
	    "      --fast-budget PCT  most of one core the fast lane may use (default 5)\n"
	    "      --no-destroy       do not listen for the kernel's socket-destroy notices\n"
	    "      --source SRC       poll, exact or auto (default: poll). exact reports every\n"
	    "                         state change from the kernel: on eBPF (root, or\n"
	    "                         CAP_BPF and CAP_PERFMON; works with --netns), else\n"
	    "                         through perf_event_open (no --netns); auto: eBPF,\n"
	    "                         then perf, then poll\n"
	    "  -N, --netns NS         watch network namespace NS (a name under /run/netns or\n"
	    "                         a path such as /proc/PID/ns/net), or all of them: all\n"
	    "      --ghost SECONDS    keep closed sockets on screen this long (default 3, 0 none)\n"
	    "      --leak SECONDS     flag CLOSE_WAIT/FIN_WAIT_2 older than this, in the view\n"
	    "                         and the metrics (default 60)\n"
	    "      --leaks            report, per process, the CLOSE_WAIT and FIN_WAIT_2\n"
	    "                         sockets older than --leak, and exit: 0 none, 1 some\n"
	    "                         (--format text or json)\n"
	    "      --metrics FILE     write counts, transitions and dwell times for Prometheus\n"
	    "                         to FILE every second (node_exporter textfile, *.prom)\n"
	    "      --metrics-listen [ADDR:]PORT  serve them at http://ADDR:PORT/metrics\n"
	    "                         (ADDR 127.0.0.1 unless given)\n"
	    "      --serve            run as a service: no view, no tables, only the metrics\n"
	    "                         (with --metrics-listen or --metrics); messages on stderr,\n"
	    "                         stops cleanly on SIGTERM\n"
	    "Recording:\n"
	    "  -w, --write FILE       record what is observed to FILE\n"
	    "  -r, --read FILE        replay a recording (view, -b or -e)\n"
	    "      --begin TIME       replay from TIME (seconds from start, or HH:MM:SS)\n"
	    "      --end TIME         replay up to TIME\n"
	    "      --speed X          replay speed in the view (default 1)\n"
	    "Scenarios:\n"
	    "      --scenario NAME|FILE  run a demo server and client through a script\n"
	    "                         (in a network namespace of its own, as root or in a\n"
	    "                         user namespace, where a script may also lose segments\n"
	    "                         and set TCP sysctls)\n"
	    "      --step             wait for n at every step, and between two narrations\n"
	    "      --reading-speed WPS  hold each narration for its words at WPS words a\n"
	    "                         second (default 3) before the script goes on\n"
	    "  -v, --verbose          show the scenario script's own progress\n"
	    "      --svg FILE         at the end, draw each socket's states (those the filter\n"
	    "                         chooses) into FILE as SVG; a scenario adds its ladder\n"
	    "      --list-scenarios   list the bundled scenarios\n"
	    "      --diagram          start in the state-machine diagram\n"
	    "View and tables:\n"
	    "      --columns LIST     the table's columns, in order, comma-separated, from:\n"
	    "                         state, dwell, netns, local, peer, recv-q, send-q,\n"
	    "                         timer, owner (see COLUMNS in tcpdwell(1))\n"
	    "      --group-by KEY[,age]  total the sockets by KEY (view: a cycles): state,\n"
	    "                         process, peer, peer-port, local-port or netns; a\n"
	    "                         header per group gives its count per state and its\n"
	    "                         oldest; largest group first, or oldest with ,age;\n"
	    "                         --format json: the groups as one line per table\n"
	    "      --no-color         monochrome (also when NO_COLOR is set)\n"
	    "  -h, --help             show this help and exit\n"
	    "  -V, --version          show the version and exit\n"
	    "\n"
	    "FILTER is an expression as ss(8) takes one, e.g.\n"
	    "  state close-wait           sport = :80 or dport = :443\n"
	    "  state fin-wait-1 and dst 10.0.0.0/8     not (sport = :22)\n"
	    "\n"
	    "Exit status: 0 success, 1 runtime failure or failed scenario expectation,\n"
	    "2 usage error, unreadable input or a scenario that cannot run. See tcpdwell(1).\n",
	    out);
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tcpdwell: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'tcpdwell --help' for more information.\n");
	exit(EXIT_USAGE);
}

static int64_t duration_arg(const char *opt, const char *arg, int64_t min)
{
	int64_t ns = parse_duration(arg);
	char msg[128];

	/* parse_duration() takes up to 1e9 seconds (about 31 years): longer is no interval. */
	if (ns < 0 || ns < min) {
		snprintf(msg, sizeof(msg), "invalid %s '%%s': expected seconds, %s to 1000000000",
			 opt, min > 0 ? "0.01" : "0");
		die_usage(msg, arg);
	}
	return ns;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/*
 * --netns: what it goes with, and the namespace it names (one that cannot
 * be opened is a usage error, like a recording that cannot be read).
 */
static void check_netns(struct config *c)
{
	char err[512];

	if (c->read_path)
		die_usage("%s",
			  "--netns does not apply to a replay: its labels are in the recording");
	if (c->scenario)
		die_usage("%s", "--netns and --scenario do not go together: a scenario makes its "
				"own namespace");
	if (strcmp(c->netns, "all") && nswatch_resolve(c->netns, &c->ns, err, sizeof(err)) < 0) {
		fprintf(stderr, "tcpdwell: %s\n", err);
		exit(EXIT_USAGE);
	}
}

/*
 * --serve: the metrics are all it makes, of this machine's sockets now.
 * An explicit option, not a guess from a missing terminal: a view started
 * by mistake without one still says so instead of serving quietly.
 */
static void check_serve(struct config *c)
{
	if (c->mode != MODE_VIEW)
		die_usage("%s",
			  "--serve does not go with -b or -e: it shows nothing but the metrics");
	if (!c->metrics_path && !c->metrics_listen)
		die_usage("%s", "--serve needs --metrics-listen [ADDR:]PORT or --metrics FILE: "
				"the metrics are all it makes");
	if (c->read_path)
		die_usage("%s",
			  "--serve does not go with -r: it watches this machine's sockets now");
	if (c->scenario)
		die_usage("%s", "--serve does not go with --scenario");
	if (c->write_path)
		die_usage("%s", "--serve does not go with -w: a service would fill the disk");
	c->mode = MODE_SERVE;
}

/* --leaks: one report, for cron or a health check; its exit status is the answer. */
static void check_leaks(struct config *c)
{
	if (c->mode != MODE_VIEW)
		die_usage("%s",
			  "--leaks does not go with -b, -e or --serve: it prints its own report");
	if (c->scenario)
		die_usage("%s", "--leaks does not go with --scenario");
	if (c->format == FMT_CSV)
		die_usage("%s", "--leaks reports in text or json, not csv");
	c->mode = MODE_LEAKS;
}

static void parse_args(int argc, char **argv, struct config *c)
{
	int opt;
	char *end;

	*c = (struct config){
	    .interval_ns = NS_PER_SEC,
	    .format = FMT_TEXT,
	    .group_by = -1,
	    .speed = 1.0,
	    .ghost_ns = 3 * NS_PER_SEC,
	    .leak_ns = 60 * NS_PER_SEC,
	    .fast_ns = 50 * NS_PER_MS,
	    .fast_budget = 0.05,
	    .destroy = true,
	};
	/* getopt's own messages start with argv[0], a path: ours start with "tcpdwell:". */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":bed:c:n:w:r:N:hVv", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
		case 'e':
			/* Tables or events: one output, not the last one named. */
			if (c->mode != MODE_VIEW &&
			    c->mode != (opt == 'b' ? MODE_BATCH : MODE_EVENTS))
				die_usage("%s", "-b and -e do not go together: tables or events, "
						"choose one");
			c->mode = opt == 'b' ? MODE_BATCH : MODE_EVENTS;
			break;
		case 'd':
			c->interval_ns = duration_arg("interval", optarg, 10 * NS_PER_MS);
			c->interval_set = true;
			break;
		case 'c':
		case 'n':
			errno = 0;
			c->count = strtol(optarg, &end, 10);
			if (errno || *end || c->count < 1)
				die_usage("invalid count '%s': expected a whole number from 1",
					  optarg);
			break;
		case OPT_FORMAT:
			if ((c->format = ev_format_parse(optarg)) < 0)
				die_usage("invalid format '%s': expected text, json or csv",
					  optarg);
			break;
		case 'w':
			c->write_path = optarg;
			break;
		case 'r':
			c->read_path = optarg;
			break;
		case OPT_BEGIN:
			c->begin = optarg;
			break;
		case OPT_END:
			c->end = optarg;
			break;
		case OPT_SPEED:
			c->speed = strtod(optarg, &end);
			if (*end || !(c->speed >= 0.25 && c->speed <= 64))
				die_usage("invalid speed '%s': expected 0.25 to 64", optarg);
			break;
		case OPT_SCENARIO:
			c->scenario = optarg;
			break;
		case OPT_STEP:
			c->step = true;
			break;
		case OPT_READING:
			c->reading = strtod(optarg, &end);
			if (*end || !(c->reading >= 0.5 && c->reading <= 100))
				die_usage("invalid reading speed '%s': expected words per second, "
					  "0.5 to 100",
					  optarg);
			break;
		case 'v':
			c->verbose = true;
			break;
		case OPT_SVG:
			c->svg = optarg;
			break;
		case OPT_COLUMNS: {
			char err[384];

			if (col_parse(&c->cols, optarg, err, sizeof(err)) < 0)
				die_usage("%s", err);
			c->has_cols = true;
			break;
		}
		case OPT_GROUP_BY: {
			char key[32];
			const char *comma = strchr(optarg, ',');
			size_t n = comma ? (size_t)(comma - optarg) : strlen(optarg);

			snprintf(key, sizeof(key), "%.*s", (int)(n < 31 ? n : 31), optarg);
			c->group_by = n < 31 ? group_by_parse(key) : -1;
			if (c->group_by < 0 ||
			    (comma && strcmp(comma, ",age") && strcmp(comma, ",size")))
				die_usage(
				    "invalid --group-by '%s': expected one of state, process, "
				    "peer, peer-port, local-port, netns, then ,size or ,age",
				    optarg);
			c->group_by_age = comma && !strcmp(comma, ",age");
			break;
		}
		case OPT_LIST:
			exit(scenario_list(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME);
		case OPT_DIAGRAM:
			c->diagram = true;
			break;
		case OPT_GHOST:
			c->ghost_ns = duration_arg("ghost time", optarg, 0);
			break;
		case OPT_LEAK:
			c->leak_ns = duration_arg("leak threshold", optarg, 0);
			break;
		case OPT_NO_COLOR:
			c->no_color = true;
			break;
		case OPT_FAST:
			c->fast_ns = duration_arg("fast-lane interval", optarg, 0);
			c->fast_set = true;
			if (c->fast_ns && c->fast_ns < 10 * NS_PER_MS)
				die_usage(
				    "invalid fast-lane interval '%s': 0 (off) or 0.01 or more",
				    optarg);
			break;
		case OPT_FAST_BUDGET:
			c->fast_budget = strtod(optarg, &end) / 100;
			if ((*end && strcmp(end, "%")) ||
			    !(c->fast_budget > 0 && c->fast_budget <= 1))
				die_usage("invalid fast-lane budget '%s': expected a percentage, 1 "
					  "to 100",
					  optarg);
			break;
		case OPT_NO_DESTROY:
			c->destroy = false;
			break;
		case OPT_METRICS:
			c->metrics_path = optarg;
			break;
		case 'N':
			c->netns = optarg;
			break;
		case OPT_METRICS_LISTEN:
			c->metrics_listen = optarg;
			break;
		case OPT_SERVE:
			c->serve = true;
			break;
		case OPT_LEAKS:
			c->leaks = true;
			break;
		case OPT_SOURCE:
			c->source_set = true;
			if (!strcmp(optarg, "poll"))
				c->source = SRC_POLL;
			else if (!strcmp(optarg, "exact"))
				c->source = SRC_EXACT;
			else if (!strcmp(optarg, "auto"))
				c->source = SRC_AUTO;
			else
				die_usage("invalid source '%s': expected poll, exact or auto",
					  optarg);
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("tcpdwell %s\n", PACKAGE_VERSION);
			exit(EXIT_OK);
		case ':':
			die_usage("option '%s' needs a value", argv[optind - 1]);
			break;
		default:
			if (optopt && optopt < 256)
				die_usage("unknown option '-%s'", (char[]){(char)optopt, 0});
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		c->filter_text = join_args(argc - optind, argv + optind);
	if (c->read_path && c->write_path)
		die_usage("%s", "-r and -w do not go together: replay reads, recording writes");
	if (c->read_path && c->scenario)
		die_usage("%s", "-r and --scenario do not go together");
	if (c->read_path && c->source != SRC_DEFAULT)
		die_usage("%s", "--source does not apply to a replay");
	if (c->group_by >= 0 && c->mode == MODE_EVENTS)
		die_usage("%s", "--group-by does not go with -e: events are one a line; "
				"group the tables (-b) or the view");
	if (c->netns)
		check_netns(c);
	if (c->serve)
		check_serve(c);
	if (c->leaks)
		check_leaks(c);
	/*
	 * The poller by default; a scenario run as root takes the exact source
	 * where it can, so that a loopback teardown shows every state.
	 */
	if (c->source == SRC_DEFAULT)
		c->source = c->scenario && geteuid() == 0 ? SRC_AUTO : SRC_POLL;
	/* A scenario's states come and go fast: watch it closely unless told otherwise. */
	if (c->scenario && !c->interval_set)
		c->interval_ns = 50 * NS_PER_MS;
}

/* net.ipv4.tcp_fin_timeout, for the entry time of orphaned FIN_WAIT_2 sockets. */
static int64_t read_fin_timeout(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_fin_timeout", "r");
	long v = 60;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1 || v <= 0)
			v = 60;
		fclose(f);
	}
	return v * NS_PER_SEC;
}

/* Ports in net.ipv4.ip_local_port_range, for an alert on TIME_WAIT; 0 when unknown. */
static unsigned read_ephemeral_ports(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned lo, hi, n = 0;

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) == 2 && hi >= lo && hi < 65536)
			n = hi - lo + 1;
		fclose(f);
	}
	return n;
}

/*
 * The exact source: on eBPF where it loads, else through perf_event_open,
 * which cannot tell namespaces apart and so does not go with --netns. One
 * note says when the fallback runs. -1 with err when neither opened.
 */
static int open_exact(struct loop *l, struct config *c, struct scenario *sc, char *err,
		      size_t errlen)
{
	struct exact_bpf_opts xo = {
	    .all = c->netns && !strcmp(c->netns, "all"),
	    .only = scenario_narrator(sc),
	};
	char why[250], perf_why[250];
	/* Tests of the fallback, and a way round a misbehaving eBPF setup. */
	const char *no_bpf = getenv("TCPDWELL_NO_BPF");

	if (no_bpf && *no_bpf) {
		snprintf(why, sizeof(why), "exact: eBPF not tried (TCPDWELL_NO_BPF is set)");
	} else if (exact_bpf_open(l, &xo, why, sizeof(why)) == 0) {
		c->exact = EXACT_BPF;
		return 0;
	}
	if (c->netns) {
		snprintf(err, errlen,
			 "--netns needs the exact source on eBPF (the perf_event_open fallback "
			 "cannot tell namespaces apart): %s",
			 why);
		return -1;
	}
	if (exact_open(l, scenario_narrator(sc), perf_why, sizeof(perf_why)) < 0) {
		snprintf(err, errlen, "%s; %s", why, perf_why);
		return -1;
	}
	c->exact = EXACT_PERF;
	loop_note(l, "exact source on perf_event_open (no namespaces, no cookies): %s", why);
	/* A scenario's own choice is told on the status line only: its output is its steps. */
	if (c->mode != MODE_VIEW && c->source_set)
		fprintf(stderr,
			"tcpdwell: note: exact source on perf_event_open (no namespaces, no "
			"cookies): %s\n",
			why);
	return 0;
}

static int open_sources(struct loop *l, struct config *c, const struct filter *f,
			struct scenario *sc, struct procmap *pm)
{
	char err[512];

	if (c->read_path) {
		struct replay_opts ro = {
		    .realtime = c->mode == MODE_VIEW,
		    .speed = c->speed,
		    .begin = c->begin,
		    .end = c->end,
		    .owners = pm,
		};
		if (replay_open(l, c->read_path, &ro, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (c->source != SRC_POLL && open_exact(l, c, sc, err, sizeof(err)) < 0) {
		if (c->source == SRC_EXACT) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			return EXIT_RUNTIME;
		}
		/* Said once: without a screen, the status line is echoed to stderr. */
		loop_status(l, "note: exact source unavailable, polling: %s", err);
	}
	/*
	 * The exact source hears every change as it happens: a fast lane would
	 * only walk the kernel's tables again (under churn, most of the cost).
	 */
	if (c->exact && !c->fast_set)
		c->fast_ns = 0;
	struct poll_opts po = {
	    .interval_ns = c->interval_ns,
	    .fast_ns = c->fast_ns,
	    .fast_budget = c->fast_budget,
	    /*
	     * On eBPF every end comes from the kernel with its cookie: notices
	     * would repeat them (17,000 a second under churn) and overflow.
	     */
	    .destroy = c->destroy && c->exact != EXACT_BPF,
	    /* Only a recording keeps every socket's tcp_info; the detail view asks for one. */
	    .info = c->write_path != NULL,
	    .filter = f,
	    .netns = c->netns && strcmp(c->netns, "all") ? &c->ns : NULL,
	    .all_netns = c->netns && !strcmp(c->netns, "all"),
	    .labels = loop_netns(l),
	};
	if (poll_open(l, &po, err, sizeof(err)) < 0) {
		fprintf(stderr, "tcpdwell: %s\n", err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* The service's first line on stderr: what it serves, and how it watches. */
static void serve_started(const struct config *c)
{
	char iv[32];

	fmt_dur(iv, c->interval_ns, TIME_EXACT, false);
	fprintf(stderr, "tcpdwell: serving metrics%s%s%s%s%s; source %s, every %s%s%s\n",
		c->metrics_listen ? " at http://" : "", c->metrics_listen ? c->metrics_listen : "",
		c->metrics_listen ? "/metrics" : "", c->metrics_path ? " in " : "",
		c->metrics_path ? c->metrics_path : "", c->exact ? "exact" : "poll",
		iv + strspn(iv, " "), c->netns ? ", netns " : "", c->netns ? c->netns : "");
	fflush(stderr);
}

static int open_sinks(struct loop *l, struct config *c, struct procmap *pm, struct scenario *sc,
		      const struct narrator *narr)
{
	char err[512];
	bool utf8 =
	    strstr(setlocale(LC_CTYPE, NULL), "UTF-8") || strstr(setlocale(LC_CTYPE, NULL), "utf8");

	if (c->write_path) {
		char src[384];
		snprintf(src, sizeof(src), "%s%s%s%s%s",
			 c->exact == EXACT_BPF	  ? "exact (eBPF)"
			 : c->exact == EXACT_PERF ? "exact (perf)"
						  : "poll",
			 sc ? ", scenario " : "", sc ? scenario_name(sc) : "",
			 c->netns ? ", netns " : "", c->netns ? c->netns : "");
		struct record_meta m = {.interval_ns = c->interval_ns, .source = src, .pm = pm};
		if (record_open(l, c->write_path, &m, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (c->metrics_path || c->metrics_listen) {
		struct metrics_opts mo = {
		    .path = c->metrics_path,
		    .listen = c->metrics_listen,
		    .live = c->read_path == NULL,
		    .leak_ns = c->leak_ns,
		    .ephemeral_ports = c->read_path ? 0 : read_ephemeral_ports(),
		};

		if (metrics_open(l, &mo, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			return EXIT_USAGE;
		}
	}
	switch (c->mode) {
	case MODE_VIEW: {
		char rcerr[640];

		/* A damaged settings file is ignored whole, said on the status line. */
		if (rc_path(c->rc_path, sizeof(c->rc_path)) < 0)
			c->rc_path[0] = 0;
		else if (rc_load(c->rc_path, &c->rc, rcerr, sizeof(rcerr)) < 0)
			loop_status(l, "settings ignored: %s", rcerr);
		struct view_opts vo = {
		    .interval_ns = c->interval_ns,
		    .leak_ns = c->leak_ns,
		    .no_color = c->no_color,
		    .diagram = c->diagram,
		    .replay = c->read_path != NULL,
		    .pm = pm,
		    .narrator = narr,
		    .cols = c->has_cols	     ? &c->cols
			    : c->rc.has_cols ? &c->rc.cols
					     : NULL,
		    .cols_named = c->has_cols,
		    .sort = c->rc_path[0] ? c->rc.sort : -1,
		    .sort_rev = c->rc.sort_rev,
		    .group_by = c->group_by,
		    .rc_path = c->rc_path[0] ? c->rc_path : NULL,
		};
		if (view_open(l, &vo, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			return EXIT_USAGE;
		}
		break;
	}
	case MODE_BATCH:
		/* A scenario in batch mode prints its own steps and verdicts. */
		if (!sc) {
			struct batch_opts bo = {
			    .out = stdout,
			    .delay_ns = c->interval_ns,
			    .count = c->count,
			    .utf8 = utf8,
			    .pm = pm,
			    .replay = c->read_path != NULL,
			    .cols = c->has_cols ? &c->cols : NULL,
			    .group_by = c->group_by,
			    .group_by_age = c->group_by_age,
			    .format = c->format == FMT_JSON ? FMT_JSON : FMT_TEXT,
			};
			batch_open(l, &bo);
		}
		break;
	case MODE_EVENTS: {
		struct events_opts eo = {
		    .out = stdout,
		    .format = c->format,
		    .pm = pm,
		    .utf8 = utf8,
		    .count = c->count,
		};
		events_open(l, &eo);
		break;
	}
	case MODE_SERVE:
		serve_started(c);
		break;
	case MODE_LEAKS: {
		struct leaks_opts lo = {
		    .out = stdout,
		    .json = c->format == FMT_JSON,
		    .leak_ns = c->leak_ns,
		    .pm = pm,
		    .utf8 = utf8,
		    .replay = c->read_path != NULL,
		};
		leaks_open(l, &lo);
		break;
	}
	}
	return EXIT_OK;
}

/* Leave before anything ran, freeing what the arguments made (a clean sanitizer exit). */
static int give_up(struct config *c, struct filter *f, int status)
{
	filter_free(f);
	free(c->filter_text);
	return status;
}

int main(int argc, char **argv)
{
	struct config c;
	struct filter *f = NULL;
	struct scenario *sc = NULL, *ladder = NULL;
	struct svg_timeline *tl = NULL;
	struct procmap *pm = NULL;
	struct netns_tab *labels;
	struct track *t;
	struct loop *l;
	char err[512];
	int status;

	setlocale(LC_ALL, "");
	parse_args(argc, argv, &c);

	if (c.filter_text && !(f = filter_parse(c.filter_text, err, sizeof(err)))) {
		fprintf(stderr, "tcpdwell: %s\n", err);
		return give_up(&c, NULL, EXIT_USAGE);
	}
	if (c.mode == MODE_VIEW && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "tcpdwell: the full-screen view needs a terminal; "
				"use -b for tables or -e for events\n");
		return give_up(&c, f, EXIT_USAGE);
	}
	if (c.scenario) {
		if (!(sc = scenario_load(c.scenario, err, sizeof(err)))) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			return give_up(&c, f, EXIT_USAGE);
		}
		/* Before the poller opens: the scenario may move us into its own namespace. */
		if (scenario_prepare(sc, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			scenario_free(sc);
			return give_up(&c, f, EXIT_SCENARIO);
		}
	}

	struct track_opts to = {
	    .ghost_ns = c.ghost_ns,
	    .fin_timeout_ns = read_fin_timeout(),
	    .universe = ST_ALL_MASK,
	    .max_hist = 16,
	};
	t = track_new(&to);
	l = loop_new(t);
	labels = netns_tab_new();
	loop_set_netns(l, labels);
	if (f)
		filter_bind_netns(f, labels);
	/* The loop owns the filter from here: the view may replace it, the sources follow. */
	loop_set_filter(l, f);
	/* Without a screen, status messages (write errors, lost notices) go to stderr. */
	if (c.mode != MODE_VIEW)
		loop_echo(l, stderr);
	/*
	 * The service's metrics keep their own map of owners: none to share,
	 * unless a recording keeps them. A replay's owners are the recorded ones.
	 */
	if (c.mode != MODE_SERVE || c.write_path)
		pm = procmap_new(c.read_path ? NULL : "/proc");

	/*
	 * Signals first, before anything must be stopped by them: the loop
	 * reads them from a descriptor, and without one only SIGKILL would do.
	 */
	if (sig_setup() < 0) {
		int e = errno;

		fprintf(stderr, "tcpdwell: cannot set up signal handling: %s%s\n", strerror(e),
			e == EMFILE || e == ENFILE ? " (raise the limit of open files: ulimit -n)"
						   : "");
		loop_free(l);
		track_free(t);
		netns_tab_free(labels);
		procmap_free(pm);
		scenario_free(sc);
		return give_up(&c, f, EXIT_RUNTIME);
	}
	/* A crash, an abort or Ctrl-\ in the view: the terminal comes back first. */
	if (c.mode == MODE_VIEW) {
		sig_on_crash(view_emergency_restore);
		xmalloc_on_fail(view_emergency_restore);
	}
	status = open_sources(l, &c, f, sc, pm);
	/*
	 * A recording of a scenario holds its ladder: replayed, it is drawn
	 * and printed as the live run did (a recording without one leaves it
	 * empty).
	 */
	if (status == EXIT_OK && c.read_path) {
		const char *base = strrchr(c.read_path, '/');

		ladder = scenario_replay(l, base ? base + 1 : c.read_path,
					 c.mode == MODE_BATCH ? stdout : NULL);
	}
	if (status == EXIT_OK)
		status = open_sinks(l, &c, pm, sc, scenario_narrator(sc ? sc : ladder));
	/* A scenario draws its own picture, segments and all; anything else, its sockets' states.
	 */
	if (status == EXIT_OK && c.svg && !sc) {
		tl = svg_add_timeline(l, c.svg);
		/* A recording of a scenario: its ladder too. */
		svg_timeline_ladder(tl, ladder);
	}
	if (status == EXIT_OK && sc) {
		struct scenario_opts so = {
		    .batch = c.mode != MODE_VIEW,
		    .step_mode = c.step,
		    .out = stdout,
		    .verbose = c.verbose,
		    .wps = c.reading,
		    .svg = c.svg,
		};
		if (scenario_start(sc, l, &so, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcpdwell: %s\n", err);
			status = EXIT_SCENARIO;
		}
	}
	if (status == EXIT_OK)
		status = loop_run(l);
	if (c.mode == MODE_SERVE)
		fprintf(stderr, "tcpdwell: stopped%s\n", status == EXIT_OK ? "" : " on an error");
	if (sc) {
		scenario_stop(sc);
		if (status == EXIT_OK)
			status = scenario_status(sc);
	}
	/* Closing the loop closes the view (terminal restored) and the recording. */
	loop_free(l);
	if (svg_timeline_done(tl) < 0 && status == EXIT_OK)
		status = EXIT_RUNTIME;
	track_free(t);
	netns_tab_free(labels);
	procmap_free(pm);
	scenario_free(sc);
	scenario_free(ladder);
	free(c.filter_text);
	return status;
}
