/* exact_rec.h - the record the eBPF program writes to its ring, read by exact_bpf.c. */
#ifndef TCPDWELL_EXACT_REC_H
#define TCPDWELL_EXACT_REC_H

/*
 * Shared by the BPF program (types from vmlinux.h) and user space (types
 * from <linux/types.h>, included first there): fixed sizes, no padding
 * surprises (the 64-bit fields first, the record a multiple of 8 bytes).
 */
struct exact_rec {
	__u64 mono;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cookie;	/* bpf_get_socket_cookie(): sock_diag's idiag_cookie */
	__u64 netns;	/* the namespace's net_cookie: getsockopt(SO_NETNS_COOKIE) */
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport; /* host byte order, as the tracepoint gives it (0 before connect() binds) */
	__u16 dport;
	__u16 family; /* AF_INET or AF_INET6 */
	__u8 oldstate;
	__u8 newstate;
};

/* The kernel's filter: pass every namespace, or only those in the map of cookies. */
#define EXACT_WATCH_LISTED 0
#define EXACT_WATCH_ALL	   1

#endif
