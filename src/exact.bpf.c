// SPDX-License-Identifier: GPL-2.0
/*
 * exact.bpf.c - the exact source's kernel half: every TCP state change
 * (the inet_sock_set_state tracepoint, BTF-typed), with the socket's cookie
 * and its network namespace's cookie, filtered to the namespaces watched,
 * written to one BPF ring buffer.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "exact_rec.h"

#define AF_INET	    2
#define AF_INET6    10
#define IPPROTO_TCP 6

/* Several MiB: thousands of changes a second survive a stall of user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* The namespaces watched, by net cookie; user space keeps it in step with the poller. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} watched SEC(".maps");

/* Set by user space: EXACT_WATCH_ALL until it knows which namespaces it watches. */
__u32 watch_mode = EXACT_WATCH_ALL;
/* Changes that found the ring full: user space says so and resynchronises. */
__u64 lost;

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(exact_state, struct sock *sk, int oldstate, int newstate)
{
	/* First: the change's time, as close to the kernel's own as we can take it. */
	__u64 now = bpf_ktime_get_ns();
	struct inet_sock *inet = (struct inet_sock *)sk;
	struct exact_rec *r;
	__u64 netns;
	__u16 family;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
	if (watch_mode != EXACT_WATCH_ALL && !bpf_map_lookup_elem(&watched, &netns))
		return 0;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	/* Taken under the socket's lock: one socket's records are in time order. */
	r->mono = now;
	r->cookie = bpf_get_socket_cookie(sk);
	r->netns = netns;
	r->family = family;
	r->oldstate = (__u8)oldstate;
	r->newstate = (__u8)newstate;
	/* The same fields the tracepoint's own record takes, so both sources agree. */
	r->sport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	r->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		__builtin_memset(r->saddr, 0, sizeof(r->saddr));
		__builtin_memset(r->daddr, 0, sizeof(r->daddr));
		BPF_CORE_READ_INTO((__u32 *)r->saddr, inet, inet_saddr);
		BPF_CORE_READ_INTO((__u32 *)r->daddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&r->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
