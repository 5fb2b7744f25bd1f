/**
 * @file seccomp.h
 * The seccomp-BPF filter of the `restricted` isolation profile: a classic
 * BPF program written by hand (no libseccomp), installed as the very last
 * step before execve of the user's command.
 *
 * Only x86_64 is implemented. The filter decides, in this order:
 *
 * 1. Architecture. Any `seccomp_data.arch` other than AUDIT_ARCH_X86_64
 *    (in practice the i386 ABI through `int $0x80` or sysenter) kills the
 *    whole process (SECCOMP_RET_KILL_PROCESS, seen as SIGSYS). Syscall
 *    numbers differ between ABIs, so the x86_64 rules below would not mean
 *    anything for them.
 * 2. x32 ABI. Numbers in [0x40000000, 0x7fffffff] (`__X32_SYSCALL_BIT`
 *    set) also kill the process. The x32 ABI reports the x86_64 arch, so
 *    without this check x32 aliases of denied syscalls (e.g. 0x40000000 |
 *    __NR_mount) would bypass the deny list on kernels with x32 enabled.
 *    Killing rather than ENOSYS makes such an attempt loud (the run ends
 *    with SIGSYS, which the daemon reports) and behaves the same whether or
 *    not the kernel was built with x32; Chromium's sandbox does the same.
 *    Numbers >= 0x80000000 (negative ints) are no syscall at all and get
 *    ENOSYS, like the kernel itself answers.
 * 3. Unknown syscalls: numbers above GXI_SECCOMP_MAX_KNOWN_NR get
 *    ENOSYS, so that a program built for a newer kernel falls back exactly
 *    as on an older kernel, and a new, unreviewed syscall is never
 *    reachable. clone3 also gets ENOSYS: its flags live in memory the
 *    filter cannot read, and glibc falls back to clone on ENOSYS.
 * 4. clone with any CLONE_NEW* flag in its first argument: EPERM (plain
 *    fork, vfork and thread creation keep working).
 * 5. personality: only PER_LINUX (0), PER_LINUX32 (8), UNAME26 (0x20000),
 *    PER_LINUX32|UNAME26 and the query 0xffffffff are allowed; any other
 *    persona (e.g. READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) gets EPERM. The
 *    same list as Docker's default profile.
 * 6. The deny list (GXI_SECCOMP_N_DENIED syscalls) gets EPERM: mounts and
 *    the new mount API, namespaces (unshare, setns, as a whole), chroot and
 *    pivot_root, ptrace and other cross-process memory/fd access, kernel
 *    modules, kexec, reboot, swap, bpf, perf_event_open, userfaultfd, the
 *    kernel keyring, io_uring, raw I/O ports, accounting, quotas, the
 *    clocks, syslog, vhangup, handle-based opens.
 *    sethostname and setdomainname stay allowed: inside a UTS namespace
 *    they only change the namespace's names. name_to_handle_at stays
 *    allowed (used to find mount ids; open_by_handle_at is the dangerous
 *    half).
 * 7. Everything else is allowed.
 *
 * A denied call returns -1/EPERM and the process continues.
 */
#ifndef GXI_SECCOMP_H
#define GXI_SECCOMP_H

#include <stddef.h>

/** The highest x86_64 syscall number this filter was reviewed against
 *  (mseal, Linux 6.10). Numbers above it get ENOSYS. Linux 6.18 has
 *  463..469 (the *xattrat family, open_tree_attr, file_getattr,
 *  file_setattr); they are blocked until reviewed. */
#define GXI_SECCOMP_MAX_KNOWN_NR 462

/** How many syscalls the deny list answers with EPERM (not counting the
 *  conditional rules for clone and personality). */
#define GXI_SECCOMP_N_DENIED 49

/**
 * Installs the filter on the calling thread only (no TSYNC): sets
 * PR_SET_NO_NEW_PRIVS, then seccomp(SECCOMP_SET_MODE_FILTER), falling back
 * to prctl(PR_SET_SECCOMP) when the seccomp syscall is missing (Linux
 * < 3.17). If the kernel lacks SECCOMP_RET_KILL_PROCESS (< 4.14) the
 * foreign-ABI rules kill the thread instead.
 *
 * The filter cannot be removed; children and exec'ed programs inherit it.
 * Allocates nothing and takes no locks, so it may run between fork and
 * execve. @p why (may be NULL if @p why_len is 0) receives a short
 * NUL-terminated reason on failure.
 *
 * @return 0, or a negative errno: -ENOSYS on architectures other than
 *         x86_64 or kernels without seccomp filters, otherwise the errno of
 *         the failing prctl/seccomp call.
 */
int gxi_seccomp_install(char *why, size_t why_len);

/** A short static description of the filter for run reports, e.g.
 *  "seccomp: x86_64, 49 syscalls denied (EPERM), ...". Never NULL. */
const char *gxi_seccomp_describe(void);

#endif
