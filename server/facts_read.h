/**
 * @file facts_read.h
 * The readers behind Facts/Get (facts.h): each fills one part of a
 * Gexec__V1__FactsResponse from the host. Every file is read under a
 * root directory prefix (@p root: "" = the live system; tests pass a
 * fixture tree such as "tests/server/data/facts/x86"), through
 * gxd_facts_read_file, which reads at most a fixed number of bytes. The
 * paths are the daemon's own: nothing a client sends reaches one.
 *
 * Ownership: every string, array and sub-message these put into the
 * response is malloc'd, so that the whole response is freed with
 * gexec__v1__facts_response__free_unpacked(r, NULL). A value that cannot
 * be read is left at its zero value. Strings are made valid UTF-8
 * (gxd_facts_strndup) as proto3 requires. Thread-safe: no global state;
 * they run on a worker thread.
 *
 *  - facts_util.c: bounded reads, strings;
 *  - facts_proc.c: /proc: cpuinfo, meminfo, loadavg, uptime, stat;
 *  - facts_sys.c: os-release, machine-id, boot-id, hostname, kernel;
 *  - facts_fs.c: /proc/self/mountinfo and statvfs;
 *  - facts_net.c: getifaddrs and /sys/class/net.
 */
#ifndef GXD_FACTS_READ_H
#define GXD_FACTS_READ_H

#include <stddef.h>
#include <sys/statvfs.h>
#include <stdint.h>

#include "gexec/v1/facts.pb-c.h"

/** Largest file read, in bytes (mountinfo and cpuinfo of big hosts);
 *  what lies past it is not read (the last partial line is dropped). */
#define GXD_FACTS_FILE_MAX (4u << 20)
/** Largest small file (os-release, ids, /sys attributes). */
#define GXD_FACTS_SMALL_MAX 65536u
/** Most filesystems and interfaces listed; most addresses per
 *  interface. */
#define GXD_FACTS_FS_MAX 4096u
#define GXD_FACTS_IF_MAX 1024u
#define GXD_FACTS_ADDR_MAX 256u

/**
 * Reads "<root>/<rel>" (@p rel starts with '/') into a malloc'd,
 * NUL-terminated buffer of at most @p max bytes (past it: cut after the
 * last newline that fits). Returns the length with *out the caller's, or
 * -1 (no such file, unreadable, out of memory; *out NULL).
 */
long gxd_facts_read_file(const char *root, const char *rel, size_t max,
                         char **out);

/** Like gxd_facts_read_file for a one-line file: the first line, without
 *  surrounding white space, as a malloc'd valid UTF-8 string; NULL when
 *  unreadable or empty. */
char *gxd_facts_read_line(const char *root, const char *rel);

/** A malloc'd copy of @p n bytes at @p s, NUL bytes and invalid UTF-8
 *  replaced by '?'. NULL only when out of memory. */
char *gxd_facts_strndup(const char *s, size_t n);

/** Sets the string field *@p field to a copy of @p s (gxd_facts_strndup)
 *  unless @p s is NULL. Returns 0, or -1 out of memory. */
int gxd_facts_set(char **field, const char *s);

/* ----------------------------------------------------------- facts_proc.c */

/** /proc/cpuinfo. Returns 0 or -1 (unreadable, out of memory). */
int gxd_facts_cpu(const char *root, Gexec__V1__FactsCpu *out);
/** /proc/meminfo (kB figures times 1024). */
int gxd_facts_memory(const char *root, Gexec__V1__FactsMemory *out);
/** /proc/loadavg. */
int gxd_facts_load(const char *root, Gexec__V1__FactsLoad *out);
/** /proc/uptime and /proc/stat's btime into @p r. */
int gxd_facts_uptime(const char *root, Gexec__V1__FactsResponse *r);

/* ------------------------------------------------------------ facts_sys.c */

/** /etc/os-release, else /usr/lib/os-release. */
int gxd_facts_os(const char *root, Gexec__V1__FactsOs *out);
/** Parses os-release text (@p text, NUL-terminated) into @p out. */
int gxd_facts_os_parse(const char *text, Gexec__V1__FactsOs *out);
/** hostname, fqdn (@p live: resolved with getaddrinfo, else = hostname),
 *  machine_id, boot_id into @p r. */
int gxd_facts_system(const char *root, int live,
                     Gexec__V1__FactsResponse *r);
/** /proc/sys/kernel/osrelease and version; arch from uname(2). */
int gxd_facts_kernel(const char *root, Gexec__V1__FactsKernel *out);

/* ------------------------------------------------------------- facts_fs.c */

/** /proc/self/mountinfo into r->filesystems; pseudo filesystems only
 *  with @p pseudo; sizes from statvfs(3) when @p live. */
int gxd_facts_filesystems(const char *root, int pseudo, int live,
                          Gexec__V1__FactsResponse *r);
/** Whether @p type is a pseudo filesystem (the list in facts.proto). */
int gxd_facts_fs_pseudo(const char *type);

/* ------------------------------------------------------- facts_statvfs.c */

/** statvfs of a filesystem that may never answer (network, FUSE) is waited
 *  for this long; the mount is then listed without sizes. */
#define GXD_FACTS_STATVFS_MS 500
/** Most probe threads alive at once (the stuck ones included). */
#define GXD_FACTS_STUCK_MAX 8

/** The statvfs to call (statvfs(3); tests pass one that blocks). */
typedef int (*gxd_facts_statvfs_fn)(const char *path, struct statvfs *out);

/** Whether statvfs on a filesystem of @p type may block on something
 *  outside this host: network filesystems and FUSE ("fuse*"). */
int gxd_facts_fs_may_hang(const char *type);

/**
 * Calls @p fn(@p path) on a detached thread of its own and waits at most
 * @p timeout_ms. Returns 0 with @p out filled, -1 if it failed (errno
 * set) or no thread could be made, or -2 if it did not return in time
 * (the thread is left to finish and clean up alone) or
 * GXD_FACTS_STUCK_MAX probes are alive already (not tried). Any thread.
 */
int gxd_facts_statvfs_bounded(const char *path, struct statvfs *out,
                              int timeout_ms, gxd_facts_statvfs_fn fn);

/** Probe threads alive now (for tests and logs). */
int gxd_facts_statvfs_stuck(void);

/* ------------------------------------------------------------ facts_net.c */

/** getifaddrs(3) into r->interfaces, MTU from
 *  <root>/sys/class/net/NAME/mtu. */
int gxd_facts_interfaces(const char *root, Gexec__V1__FactsResponse *r);

#endif
