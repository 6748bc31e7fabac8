/* unit_netns - the namespace label table: indexes, labels, what the headers say. */
#include "config.h"
#include "unit.h"

#include <errno.h>
#include <string.h>

#include "netns.h"
#include "nswatch.h"

/* A table nobody set shows no labels: tcpdwell watching its own namespace looks as before. */
static void test_inactive(void)
{
	struct netns_tab *t = netns_tab_new();
	char d[96] = "x";

	CHECK(!netns_tab_active(t) && !netns_tab_multi(t) && netns_tab_size(t) == 0);
	CHECK_STR(netns_label(t, 0), "");
	CHECK_STR(netns_label(NULL, 3), "");
	netns_tab_describe(t, d, sizeof(d));
	CHECK_STR(d, "");
	netns_tab_free(t);
	netns_tab_free(NULL);
}

/* One named namespace: its label at index 0, no column, the header names it. */
static void test_one(void)
{
	struct netns_tab *t = netns_tab_new();
	char d[96];

	netns_tab_set(t, 0, "web");
	netns_tab_watch(t, false, 1);
	CHECK(netns_tab_active(t) && !netns_tab_multi(t) && netns_tab_size(t) == 1);
	CHECK_STR(netns_label(t, 0), "web");
	netns_tab_describe(t, d, sizeof(d));
	CHECK_STR(d, "netns web");
	netns_tab_free(t);
}

/*
 * All namespaces: indexes grow in any order, a gap or an index never set
 * reads "?", a label too long is cut, the header counts the live ones.
 */
static void test_all(void)
{
	struct netns_tab *t = netns_tab_new();
	char d[96], longname[200];

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	netns_tab_set(t, 0, "host");
	netns_tab_set(t, 40, "pid 4242 (nginx)");
	netns_tab_set(t, 2, longname);
	netns_tab_watch(t, true, 3);
	CHECK(netns_tab_multi(t) && netns_tab_size(t) == 41);
	CHECK_STR(netns_label(t, 40), "pid 4242 (nginx)");
	CHECK_STR(netns_label(t, 1), "?");
	CHECK_STR(netns_label(t, 1000), "?");
	CHECK(strlen(netns_label(t, 2)) == NETNS_LABEL_MAX - 1);
	netns_tab_describe(t, d, sizeof(d));
	CHECK_STR(d, "netns all: 3 namespaces");
	netns_tab_watch(t, true, 1);
	netns_tab_describe(t, d, sizeof(d));
	CHECK_STR(d, "netns all: 1 namespace");
	/* A replaced label (a replay's next segment) wins. */
	netns_tab_set(t, 40, "db");
	CHECK_STR(netns_label(t, 40), "db");
	netns_tab_free(t);
}

/*
 * --netns NAME: a missing name says where names come from, a file that is
 * not a network namespace says so, and our own namespace's file resolves.
 */
static void test_resolve(void)
{
	struct nswatch_ns ns;
	char err[512];

	CHECK(nswatch_resolve("tcpdwell-unit-nosuch", &ns, err, sizeof(err)) == -ENOENT);
	CHECK_STR(err, "cannot open network namespace 'tcpdwell-unit-nosuch': no such file (ip "
		       "netns list shows the named ones)");
	CHECK(nswatch_resolve("/nonexistent/ns", &ns, err, sizeof(err)) == -ENOENT);
	CHECK_STR(err, "cannot open network namespace '/nonexistent/ns': no such file");
	CHECK(nswatch_resolve("/dev/null", &ns, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "cannot use '/dev/null' as a network namespace") == err);
	CHECK(nswatch_resolve("/proc/self/ns/uts", &ns, err, sizeof(err)) == -EINVAL);
	CHECK(nswatch_resolve("", &ns, err, sizeof(err)) == -EINVAL);
	CHECK(nswatch_resolve("/proc/self/ns/net", &ns, err, sizeof(err)) == 0);
	CHECK_STR(ns.label, "/proc/self/ns/net");
	CHECK(ns.ino != 0);
}

int main(void)
{
	RUN(test_inactive);
	RUN(test_one);
	RUN(test_all);
	RUN(test_resolve);
	return unit_done();
}
