/* The restricted profile's seccomp filter, as a classic BPF program built
 * at install time into a stack buffer by a tiny assembler with forward
 * labels. The policy is described in seccomp.h. */
#include "server/isolation/seccomp.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(__ILP32__)
#define GXI_SECCOMP_X86_64 1
#endif

#ifdef GXI_SECCOMP_X86_64
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdint.h>
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

/* Copies the constant @p msg into @p why (truncating); no stdio, so it is
 * safe between fork and exec. */
static void set_why(char *why, size_t why_len, const char *msg) {
  size_t n;
  if (!why || why_len == 0) return;
  n = strlen(msg);
  if (n >= why_len) n = why_len - 1;
  memcpy(why, msg, n);
  why[n] = '\0';
}

#ifdef GXI_SECCOMP_X86_64

/* Numbers missing from older headers (Debian 12's stop at 450); all are
 * x86_64 numbers, stable since their introduction. */
#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_fsopen
#define __NR_fsopen 430
#endif
#ifndef __NR_fsconfig
#define __NR_fsconfig 431
#endif
#ifndef __NR_fsmount
#define __NR_fsmount 432
#endif
#ifndef __NR_fspick
#define __NR_fspick 433
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_quotactl_fd
#define __NR_quotactl_fd 443
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Syscalls answered with EPERM. */
static const uint16_t deny[] = {
    /* mounts, old and new API, and changing the root */
    __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot, __NR_fsopen,
    __NR_fsconfig, __NR_fsmount, __NR_fspick, __NR_move_mount,
    __NR_open_tree, __NR_mount_setattr,
    /* namespaces (clone is checked by flags, clone3 gets ENOSYS) */
    __NR_unshare, __NR_setns,
    /* other processes' memory and fds */
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
    __NR_pidfd_getfd,
    /* the kernel itself */
    __NR_kexec_load, __NR_kexec_file_load, __NR_init_module,
    __NR_finit_module, __NR_delete_module, __NR_reboot, __NR_swapon,
    __NR_swapoff, __NR_bpf, __NR_perf_event_open, __NR_userfaultfd,
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
    __NR_iopl, __NR_ioperm, __NR_acct, __NR_quotactl, __NR_quotactl_fd,
    __NR_syslog, __NR_vhangup, __NR_uselib, __NR_lookup_dcookie,
    __NR_nfsservctl,
    /* the kernel keyring */
    __NR_keyctl, __NR_add_key, __NR_request_key,
    /* clocks */
    __NR_settimeofday, __NR_clock_settime, __NR_clock_adjtime,
    __NR_adjtimex,
    /* opening files by handle bypasses path-based confinement */
    __NR_open_by_handle_at,
};

_Static_assert(sizeof deny / sizeof deny[0] == GXI_SECCOMP_N_DENIED,
               "GXI_SECCOMP_N_DENIED must match the deny list");

/* Personas allowed for personality(2), as in Docker's default profile. */
static const uint32_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffffU};

#define NS_FLAGS                                                         \
  (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |           \
   CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWTIME)

#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
/* Low 32 bits of args[0] (little endian); clone and personality only look
 * at those bits in the kernel too. */
#define OFF_ARG0_LO offsetof(struct seccomp_data, args[0])

/* Jump targets; every jump is forward. */
enum label { L_NONE, L_CLONE, L_PERSONA, L_ALLOW, L_EPERM, L_ENOSYS,
             L_KILL, L_COUNT };

#define MAX_INSNS 96

typedef struct {
  struct sock_filter insn[MAX_INSNS];
  unsigned char jt[MAX_INSNS], jf[MAX_INSNS]; /* enum label per insn */
  unsigned at[L_COUNT];                       /* position of each label */
  unsigned n;
  int overflow;
} bpf_asm;

static void emit(bpf_asm *a, uint16_t code, uint32_t k, enum label jt,
                 enum label jf) {
  if (a->n >= MAX_INSNS) {
    a->overflow = 1;
    return;
  }
  a->insn[a->n] = (struct sock_filter)BPF_STMT(code, k);
  a->jt[a->n] = (unsigned char)jt;
  a->jf[a->n] = (unsigned char)jf;
  a->n++;
}

static void load(bpf_asm *a, uint32_t off) {
  emit(a, BPF_LD | BPF_W | BPF_ABS, off, L_NONE, L_NONE);
}

/* if (A == k) goto jt; else goto jf (L_NONE: next instruction). */
static void jeq(bpf_asm *a, uint32_t k, enum label jt, enum label jf) {
  emit(a, BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
}

static void ret(bpf_asm *a, uint32_t action) {
  emit(a, BPF_RET | BPF_K, action, L_NONE, L_NONE);
}

static void place(bpf_asm *a, enum label l) { a->at[l] = a->n; }

/* Turns labels into relative offsets; -1 if one does not fit. */
static int resolve(bpf_asm *a) {
  for (unsigned i = 0; i < a->n; i++) {
    unsigned char *lab[2] = {&a->jt[i], &a->jf[i]};
    uint8_t *off[2] = {&a->insn[i].jt, &a->insn[i].jf};
    for (int j = 0; j < 2; j++) {
      if (*lab[j] == L_NONE) continue;
      unsigned to = a->at[*lab[j]];
      if (to <= i || to - i - 1 > 255) return -1;
      *off[j] = (uint8_t)(to - i - 1);
    }
  }
  return 0;
}

/* Builds the program described in seccomp.h; @p kill is the action for
 * foreign ABIs. Returns 0 or -1 (program too large: a bug). */
static int build(bpf_asm *a, uint32_t kill) {
  load(a, OFF_ARCH);
  jeq(a, AUDIT_ARCH_X86_64, L_NONE, L_KILL);
  load(a, OFF_NR);
  emit(a, BPF_JMP | BPF_JGE | BPF_K, 0x80000000U, L_ENOSYS, L_NONE);
  emit(a, BPF_JMP | BPF_JSET | BPF_K, __X32_SYSCALL_BIT, L_KILL, L_NONE);
  emit(a, BPF_JMP | BPF_JGT | BPF_K, GXI_SECCOMP_MAX_KNOWN_NR, L_ENOSYS,
       L_NONE);
  jeq(a, __NR_clone, L_CLONE, L_NONE);
  jeq(a, __NR_clone3, L_ENOSYS, L_NONE);
  jeq(a, __NR_personality, L_PERSONA, L_NONE);
  for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
    jeq(a, deny[i], L_EPERM, L_NONE);
  ret(a, SECCOMP_RET_ALLOW);

  place(a, L_CLONE);
  load(a, OFF_ARG0_LO);
  emit(a, BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, L_EPERM, L_ALLOW);

  place(a, L_PERSONA);
  load(a, OFF_ARG0_LO);
  for (size_t i = 0; i < sizeof personas / sizeof personas[0]; i++)
    jeq(a, personas[i], L_ALLOW, L_NONE);
  /* falls through to EPERM */

  place(a, L_EPERM);
  ret(a, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
  place(a, L_ALLOW);
  ret(a, SECCOMP_RET_ALLOW);
  place(a, L_ENOSYS);
  ret(a, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  place(a, L_KILL);
  ret(a, kill);
  if (a->overflow) return -1;
  return resolve(a);
}

/* SECCOMP_RET_KILL_PROCESS when the kernel has it (4.14), else the older
 * SECCOMP_RET_KILL (kills the calling thread). */
static uint32_t kill_action(void) {
  uint32_t act = SECCOMP_RET_KILL_PROCESS;
  if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0)
    return SECCOMP_RET_KILL_PROCESS;
  return SECCOMP_RET_KILL_THREAD;
}

int gxi_seccomp_install(char *why, size_t why_len) {
  bpf_asm a;
  struct sock_fprog prog;
  int err;

  memset(&a, 0, sizeof a);
  if (build(&a, kill_action()) != 0) {
    set_why(why, why_len, "seccomp: filter program does not fit (bug)");
    return -E2BIG;
  }
  prog.len = (unsigned short)a.n;
  prog.filter = a.insn;

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    err = errno;
    set_why(why, why_len, "seccomp: prctl(PR_SET_NO_NEW_PRIVS) failed");
    return -err;
  }
  if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
    return 0;
  err = errno;
  if (err == ENOSYS) {
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
      return 0;
    err = errno;
    if (err == EINVAL) {
      set_why(why, why_len, "seccomp: kernel lacks seccomp filters");
      return -ENOSYS;
    }
    set_why(why, why_len, "seccomp: prctl(PR_SET_SECCOMP) failed");
    return -err;
  }
  set_why(why, why_len,
          err == EINVAL
              ? "seccomp: kernel rejected the filter (SECCOMP_SET_MODE_FILTER)"
              : "seccomp: seccomp(SECCOMP_SET_MODE_FILTER) failed");
  return -err;
}

const char *gxi_seccomp_describe(void) {
  return "seccomp: x86_64, " STR(GXI_SECCOMP_N_DENIED)
         " syscalls denied (EPERM), clone with CLONE_NEW* EPERM, "
         "clone3 and nr > " STR(GXI_SECCOMP_MAX_KNOWN_NR)
         " ENOSYS, i386/x32 ABI killed";
}

#else /* not x86_64 */

int gxi_seccomp_install(char *why, size_t why_len) {
  set_why(why, why_len,
          "seccomp: the restricted filter is implemented for x86_64 only");
  return -ENOSYS;
}

const char *gxi_seccomp_describe(void) {
  return "seccomp: not available on this architecture (x86_64 only)";
}

#endif
