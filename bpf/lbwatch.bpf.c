// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * lbwatch: report every TCP socket that enters or leaves TCP_LISTEN.
 *
 * One object, three ways in; the addon enables exactly one set with bpf_program__set_autoload():
 *   tp_btf      tp_btf/inet_sock_set_state (BTF, no tracefs)
 *   tracepoint  tracepoint/sock/inet_sock_set_state (tracefs)
 *   kprobe      kprobe+kretprobe inet_listen, kprobe inet_csk_listen_stop (kernels without the tracepoint)
 * The tracepoint fires on every TCP state change of every connection, so the hot path is the state
 * test; everything else happens only for listener transitions.
 */
#include "lbwatch.core.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lbwatch.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Size is set by the addon before load (ProbeOptions.ringBytes). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Reservations that failed because the ring was full; user space sums the CPUs after each batch. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * A listener only ever leaves TCP_LISTEN for TCP_CLOSE. LISTEN->SYN_RECV is not the listener: it is
 * every accepted connection, cloned from the listener (state and all) by inet_csk_clone_lock(); it
 * must not pass, or each connection costs a ring record, a wake-up of user space and a bogus close.
 */
static __always_inline bool is_listener_transition(int oldstate, int newstate)
{
	return newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE);
}

static __always_inline __u64 socket_inode(const struct sock *sk)
{
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);
	struct socket_alloc *alloc;

	if (!sock)
		return 0;
	alloc = (void *)sock - bpf_core_field_offset(struct socket_alloc, socket);
	return BPF_CORE_READ(alloc, vfs_inode.i_ino);
}

/*
 * skc_num is the bound port. A socket whose port the kernel picked (bind to port 0, or listen()
 * without bind) has it cleared by inet_put_port() before LISTEN->CLOSE is traced; inet_sport still
 * holds it then. At CLOSE->LISTEN inet_sport may be stale (a shut-down listener listening again gets
 * a new port), so a listen reports skc_num only: 0 for listen() without bind, whose port the kernel
 * picks after the tracepoint and user space resolves from /proc.
 */
static __always_inline __u16 local_port(const struct sock *sk, int newstate)
{
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);

	if (port || newstate == TCP_LISTEN)
		return port;
	return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

static __always_inline void emit(const struct sock *sk, int oldstate, int newstate)
{
	struct lbwatch_event *e;
	__u64 id, ugid;
	__u16 family;

	if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&drops, &zero);

		if (n)
			__sync_fetch_and_add(n, 1);
		return;
	}

	id = bpf_get_current_pid_tgid();
	ugid = bpf_get_current_uid_gid();
	e->ts = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->sock = socket_inode(sk);
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)ugid;
	e->gid = ugid >> 32;
	e->backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e->port = local_port(sk, newstate);
	e->family = family;
	e->type = newstate == TCP_LISTEN ? LBWATCH_LISTEN : LBWATCH_CLOSE;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->pad = 0;
	/* Ring memory is not zeroed: every byte of the record is written. */
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	if (family == AF_INET) {
		__be32 v4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		__builtin_memcpy(e->addr, &v4, sizeof(v4));
	} else {
		bpf_core_read(e->addr, sizeof(e->addr), &sk->__sk_common.skc_v6_rcv_saddr);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lbwatch_tp_btf, const struct sock *sk, int oldstate, int newstate)
{
	if (is_listener_transition(oldstate, newstate))
		emit(sk, oldstate, newstate);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int lbwatch_tracepoint(struct trace_event_raw_inet_sock_set_state *ctx)
{
	int oldstate = ctx->oldstate, newstate = ctx->newstate;

	if (is_listener_transition(oldstate, newstate))
		emit(ctx->skaddr, oldstate, newstate);
	return 0;
}

/*
 * kprobe fallback. inet_listen() is entered for every listen(); only its return says whether the
 * socket became a listener (a second listen() on a listener only changes the backlog), so the entry
 * remembers the socket and its state per thread and the return decides. A failed listen() therefore
 * gives no event here, unlike the tracepoints (which see LISTEN then CLOSE).
 */
struct listen_call {
	struct sock *sk;
	int oldstate;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct listen_call);
} listen_calls SEC(".maps");

SEC("kprobe/inet_listen")
int BPF_KPROBE(lbwatch_kprobe_listen, struct socket *sock)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sock *sk = BPF_CORE_READ(sock, sk);
	struct listen_call call = {
		.sk = sk,
		.oldstate = BPF_CORE_READ(sk, __sk_common.skc_state),
	};

	bpf_map_update_elem(&listen_calls, &id, &call, BPF_ANY);
	return 0;
}

SEC("kretprobe/inet_listen")
int BPF_KRETPROBE(lbwatch_kretprobe_listen, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct listen_call *call = bpf_map_lookup_elem(&listen_calls, &id);

	if (!call)
		return 0;
	if (ret == 0 && call->oldstate != TCP_LISTEN)
		emit(call->sk, call->oldstate, TCP_LISTEN);
	bpf_map_delete_elem(&listen_calls, &id);
	return 0;
}

/* Called once a listener has been moved to TCP_CLOSE (close, shutdown, process exit). */
SEC("kprobe/inet_csk_listen_stop")
int BPF_KPROBE(lbwatch_kprobe_listen_stop, struct sock *sk)
{
	emit(sk, TCP_LISTEN, TCP_CLOSE);
	return 0;
}
