/* procmap.h - socket inode -> owning process (pid, command) from /proc, cached, incremental. */
#ifndef TCPDWELL_PROCMAP_H
#define TCPDWELL_PROCMAP_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

struct procmap;

struct owner {
	int pid;
	char comm[64]; /* sanitised, ready to print */
};

/*
 * "/proc" normally; tests pass another. NULL: a map of recorded owners
 * (a replay's), filled by procmap_set(), never scanned nor collected.
 */
struct procmap *procmap_new(const char *proc_root);
void procmap_free(struct procmap *pm);
/* Ask for an inode; resolved on the next procmap_scan(). Inode 0 is never asked. */
void procmap_want(struct procmap *pm, uint32_t inode);
/*
 * Rescan /proc for wanted inodes not yet known, for at most budget_ns (0:
 * no bound); rescans are rate-limited. Returns how many inodes got an owner.
 */
size_t procmap_scan(struct procmap *pm, int64_t now, int64_t budget_ns);
/*
 * Whether the first walk of /proc is due or under way: the owners of the
 * first screen, worth looking for sooner than later walks.
 */
bool procmap_first_pass(const struct procmap *pm);
/* Owner of an inode, or NULL when unknown. */
const struct owner *procmap_lookup(const struct procmap *pm, uint32_t inode);
/* Sockets we could not attribute because /proc/PID/fd was unreadable. */
size_t procmap_unreadable(const struct procmap *pm);
/* Record that a process owns an inode (from a recording); replaces what was known. */
void procmap_set(struct procmap *pm, uint32_t inode, int pid, const char *comm);
/* Forget every owner (a replay reached a new writing session: inodes start over). */
void procmap_clear(struct procmap *pm);
/* Forget inodes not wanted since the last call (sockets that went away). */
void procmap_gc(struct procmap *pm);

#endif
