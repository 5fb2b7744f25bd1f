/**
 * @file fake_cgroupfs.h
 * A fake cgroupfs for unit tests of server/isolation/cgroup: a directory
 * tree under /tmp shaped like one of the cgroup layouts, plus the hooks of
 * the module's test seam (server/isolation/cgroup_hooks.h) through which
 * the module sees what the kernel would do there:
 *
 * - filesystem types: the fake answers the module's statfs() checks
 *   (cgroup2, cgroup v1, or tmpfs for the directory that holds v1
 *   hierarchies);
 * - mkdir of a cgroup makes its control files, as the kernel does: v2
 *   base files (cgroup.procs, cgroup.kill, cgroup.events, ...) plus the
 *   files of each controller the parent enables in its
 *   cgroup.subtree_control (memory.max, memory.swap.max, memory.events,
 *   pids.max, ...); v1 memory and pids files (memory.limit_in_bytes,
 *   memory.memsw.limit_in_bytes, memory.oom_control with oom_kill_disable
 *   inherited from the parent, pids.max, cgroup.procs, tasks, ...);
 * - rmdir removes them with the directory, and fails with -EBUSY for a
 *   cgroup that lists a process in cgroup.procs or has child cgroups;
 * - a write is taken as the kernel takes a value: the file then shows the
 *   value and a newline; "+ctrl"/"-ctrl" in cgroup.subtree_control update
 *   it ("memory pids\n", in the kernel's order) and add or remove that
 *   controller's files and cgroup.controllers in the child cgroups; a pid
 *   written to cgroup.procs is appended to the list (-ESRCH for a dead
 *   one; the fake does not take it out of its previous cgroup); v1
 *   memory.oom_control takes 0 or 1 for oom_kill_disable;
 *   memory.limit_in_bytes may not exceed memory.memsw.limit_in_bytes, nor
 *   the reverse (-EINVAL); *.max and memory.swappiness take "max" or a
 *   number (-EINVAL otherwise); enabling a controller the cgroup does not
 *   have is -ENOENT. Every write is also recorded in a journal, in order.
 *
 * The kernel's effects on processes (cgroup.kill killing, limits
 * applying, a cgroup emptying) are not emulated: tests check the files.
 *
 * One fake at a time (the seam is global): fake_cgroupfs_new() installs
 * the hooks, fake_cgroupfs_free() removes them and the tree. Failures of
 * the fake itself (e.g. /tmp full) abort the test. Not thread-safe.
 */
#ifndef GX_TEST_FAKE_CGROUPFS_H
#define GX_TEST_FAKE_CGROUPFS_H

#include <stddef.h>

/** Layout of the tree, ROOT being fake_cgroupfs_root(). */
typedef enum {
  /** Pure cgroup v2: cgroup2 at ROOT, whose cgroup.controllers is
   *  "cpuset cpu io memory pids" and cgroup.subtree_control empty. */
  FAKE_CG_V2,
  /** Hybrid: ROOT a tmpfs holding v1 hierarchies ROOT/memory and
   *  ROOT/pids, and a cgroup2 ROOT/unified without controllers. */
  FAKE_CG_HYBRID,
  /** v1 only: ROOT/memory and ROOT/pids, no cgroup2. */
  FAKE_CG_V1,
  /** No cgroup filesystem: ROOT an empty tmpfs. */
  FAKE_CG_NONE,
} fake_cg_layout;

/** Variations, or-ed into the flags of fake_cgroupfs_new(). */
enum {
  /** No swap accounting: no memory.swap.* (v2) nor memory.memsw.* (v1). */
  FAKE_CG_NO_SWAP = 1,
  /** v1 memory.oom_control without its "oom_kill" line (Linux < 4.13). */
  FAKE_CG_NO_OOM_KILL = 2,
  /** No memory controller (v2: not in the root's cgroup.controllers; v1:
   *  no ROOT/memory). */
  FAKE_CG_NO_MEMORY = 4,
  /** No pids controller (as FAKE_CG_NO_MEMORY). */
  FAKE_CG_NO_PIDS = 8,
};

typedef struct fake_cgroupfs fake_cgroupfs;

/** Builds the tree under a new directory /tmp/gxcg-XXXXXX and installs
 *  the hooks. Free with fake_cgroupfs_free(). */
fake_cgroupfs *fake_cgroupfs_new(fake_cg_layout layout, unsigned flags);

/** Uninstalls the hooks, removes the tree and frees @p f (NULL: no-op). */
void fake_cgroupfs_free(fake_cgroupfs *f);

/** The directory standing for /sys/fs/cgroup. */
const char *fake_cgroupfs_root(const fake_cgroupfs *f);

/** ROOT/@p rel in a buffer of @p f, valid until the next call. */
const char *fake_cgroupfs_path(fake_cgroupfs *f, const char *rel);

/** Makes the cgroup ROOT/@p rel as a process's mkdir would (with its
 *  control files). Returns 0 or -errno. */
int fake_cgroupfs_mkdir(fake_cgroupfs *f, const char *rel);

/** The content of ROOT/@p rel in a buffer of @p f (valid until the next
 *  call), or NULL when it cannot be read (absent, a directory). */
const char *fake_cgroupfs_read(fake_cgroupfs *f, const char *rel);

/** 1 if ROOT/@p rel exists (file or directory). */
int fake_cgroupfs_exists(fake_cgroupfs *f, const char *rel);

/** Replaces the content of ROOT/@p rel with @p text, as the kernel's own
 *  bookkeeping would (an OOM kill counted, a process listed), without a
 *  journal entry. */
void fake_cgroupfs_put(fake_cgroupfs *f, const char *rel, const char *text);

/** The journal: one line per write through the module, in order,
 *  "REL VALUE\n", or "REL VALUE [strerror]\n" for a write that failed;
 *  REL relative to ROOT. */
const char *fake_cgroupfs_writes(const fake_cgroupfs *f);

/** Empties the journal. */
void fake_cgroupfs_forget_writes(fake_cgroupfs *f);

/** From now on, cgroups made (by the module or fake_cgroupfs_mkdir) get
 *  a directory named @p file instead of that control file (a write to it
 *  fails with -EISDIR, even as root); rmdir removes it like a control
 *  file. */
void fake_cgroupfs_sabotage(fake_cgroupfs *f, const char *file);

#endif
