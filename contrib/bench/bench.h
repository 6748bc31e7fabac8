/* bench.h - the benchmark of issue 6: a socket population in a private namespace, and its costs. */
#ifndef TCPDWELL_BENCH_H
#define TCPDWELL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Bumped each time the benchmark moves to a new network namespace. */
extern uint64_t bench_netns_gen;

/* What a child that builds sockets reports once they are in place. */
struct bench_report {
	int ok;
	char msg[200];
};

/* How a population of size total sockets is made up (besides listeners and rare states). */
struct pop_plan {
	size_t established; /* sockets, an even number: both ends of each pair are here */
	size_t time_wait;
	unsigned rare_each; /* sockets held in each rare state */
};

struct pop;

/* Split a total like the reference (100,000 ESTABLISHED + 60,000 TIME_WAIT). */
void pop_plan_for(size_t total, struct pop_plan *p);
/* Build the population in the current (private) namespace; NULL with a message on failure. */
struct pop *pop_build(const struct pop_plan *p, char *err, size_t errlen);
/*
 * TIME_WAIT lasts 60 s: before a measurement that may take need_ns, wait
 * for a generation that could expire meanwhile to go and build it again.
 */
int pop_keep(struct pop *p, int64_t need_ns, char *err, size_t errlen);
/* Print the population by state as one line "what: STATE n ..." to out. */
void pop_describe(struct pop *p, const char *what, FILE *out);
/* End the holder processes; the namespace goes with the last of them. */
void pop_free(struct pop *p);

/* Sockets by state in the current namespace (both families), from a bare dump; -errno. */
int bare_count(uint32_t states, size_t by_state[16]);
/* Destroy every socket in states (SOCK_DESTROY, CONFIG_INET_DIAG_DESTROY); -errno. */
int bare_destroy(uint32_t states, size_t *destroyed);
/* The floor: dump every TCP socket of both families, no extensions, nothing parsed. */
int bare_dump(size_t *n);

/* What the holders put in 127.0.0.0/8: client addresses never repeat within a run. */
void addr_client(uint32_t idx, uint32_t *ip, uint16_t *port);
/* A TCP listener on ip:port (host order); -1 and errno on failure. */
int bench_listen(uint32_t ip, uint16_t port, int backlog, int flags);
/* In a child: build each rare state's sockets, report on out, hold them until killed. */
void rare_hold(unsigned each, int out) __attribute__((noreturn));

/* The measured things; times in ns, -1 on failure. */
struct meas;
/* Open the dumper and the tracker, and apply the baseline dump (its time in *baseline_ns). */
struct meas *meas_new(int64_t *baseline_ns, char *err, size_t errlen);
void meas_free(struct meas *m);
int64_t meas_bare(size_t *n);
int64_t meas_poll(struct meas *m);
int64_t meas_fast(struct meas *m);
size_t meas_tracked(const struct meas *m);
int64_t meas_owners(struct meas *m, size_t *resolved);
int64_t meas_exec(char *const argv[], bool keep_err, long *maxrss_kb, int *status);
/*
 * tcpdwell's full-screen view in a 120x40 pseudo-terminal: from spawn until
 * its first complete screen with the table is on the terminal; then 'q', and
 * in *quit_ns the time until it exited.
 */
int64_t meas_screen(const char *tcpdwell, int64_t *quit_ns);
/* Resident bytes per tracked socket, in a fresh process running meas_memory_probe(). */
int meas_memory(double *per_sock, double *per_sock_track);
int meas_memory_probe(void);

/* Resident set size of this process, bytes. */
size_t rss_bytes(void);

#endif
