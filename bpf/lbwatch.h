/* SPDX-License-Identifier: MIT */
/*
 * The one definition of a listen/close event, shared by the BPF program (bpf/lbwatch.bpf.c) and the
 * addon (native/). Records cross the ring buffer as raw bytes in host byte order; the addon exports
 * sizeof/offsetof of every field so test/probe/event-layout.test.ts can check src/probe/decode.ts.
 * Fields are ordered widest first so the struct has no holes on any ABI.
 */
#ifndef LBWATCH_H
#define LBWATCH_H

#define LBWATCH_COMM_LEN 16

enum lbwatch_event_type {
	LBWATCH_LISTEN = 1, /* the socket entered TCP_LISTEN */
	LBWATCH_CLOSE = 2,  /* the socket left TCP_LISTEN (close, shutdown, failed listen) */
};

struct lbwatch_event {
	__u64 ts;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, ns */
	__u64 cgroup_id; /* cgroup v2 id of the calling task */
	__u64 sock;      /* socket inode: the identity /proc/net/tcp and /proc/PID/fd show */
	__u32 netns;     /* inode of the socket's network namespace */
	__u32 pid;       /* thread-group id */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u32 backlog;   /* sk_max_ack_backlog */
	__u16 port;      /* local port, host order; 0 when the kernel has not picked it yet */
	__u16 family;    /* AF_INET or AF_INET6 */
	__u8 type;       /* enum lbwatch_event_type */
	__u8 oldstate;   /* TCP state before the transition */
	__u8 newstate;   /* TCP state after it */
	__u8 pad;
	__u8 addr[16];   /* local address, network order: 4 bytes for AF_INET, 16 for AF_INET6 */
	char comm[LBWATCH_COMM_LEN];
};

#endif /* LBWATCH_H */
