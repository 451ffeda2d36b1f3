/* SPDX-License-Identifier: MIT */
/*
 * A minimal, hand-written stand-in for vmlinux.h: only the kernel types lbwatch.bpf.c touches, each
 * with only the members it reads. preserve_access_index makes every access a CO-RE relocation, so
 * libbpf rewrites offsets against the running kernel's BTF at load time; member order and the
 * padding here do not matter, names and kinds do. See bpf/README.md for why this over vmlinux.h.
 */
#ifndef LBWATCH_CORE_H
#define LBWATCH_CORE_H

/* bpf_tracing.h picks kernel pt_regs member names (di, si, ...) when it sees this. */
#define __VMLINUX_H__

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_ANY = 0,
};

enum {
	AF_INET = 2,
	AF_INET6 = 10,
};

enum {
	IPPROTO_TCP = 6,
};

enum {
	TCP_CLOSE = 7,
	TCP_LISTEN = 10,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct in6_addr {
	union {
		__u8 u6_addr8[16];
	} in6_u;
};

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

/* The kernel nests these in anonymous unions/structs; CO-RE finds them by name through those. */
struct sock_common {
	__be32 skc_rcv_saddr;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_rcv_saddr;
};

struct sock;

struct inode {
	unsigned long i_ino;
};

struct socket {
	struct sock *sk;
};

/* What sock_alloc_inode() allocates: the socket and its inode side by side (socket first). */
struct socket_alloc {
	struct socket socket;
	struct inode vfs_inode;
};

struct sock {
	struct sock_common __sk_common;
	struct socket *sk_socket;
	__u16 sk_protocol;
	__u32 sk_max_ack_backlog;
};

struct inet_sock {
	struct sock sk;
	__be16 inet_sport;
};

struct trace_entry {
	unsigned short type;
};

/* Context of tracepoint/sock/inet_sock_set_state (the format file under tracefs). */
struct trace_event_raw_inet_sock_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate;
	int newstate;
	__u16 sport;
	__u16 family;
	__u16 protocol;
};

#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long cx;
	unsigned long r8;
	unsigned long ax;
	unsigned long bp;
	unsigned long ip;
	unsigned long sp;
};
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
struct pt_regs {
	union {
		struct user_pt_regs user_regs;
		struct {
			__u64 regs[31];
			__u64 sp;
			__u64 pc;
			__u64 pstate;
		};
	};
};
#else
#error "bpf/lbwatch.core.h defines pt_regs for x86 and arm64 only; add this architecture's"
#endif

#pragma clang attribute pop

#endif /* LBWATCH_CORE_H */
