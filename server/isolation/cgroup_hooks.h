/*
 * Test-only seam of the cgroup module (server/isolation/cgroup*.c): lets a
 * fake cgroupfs, a plain directory tree, stand in for the kernel's side of
 * the cgroup filesystems, so that the paths of layouts this host does not
 * have (pure cgroup v2 with memory and pids) can be unit-tested. The fake
 * is tests/server/isolation/fake_cgroupfs.{h,c}. Not an API: prefix gxi__.
 *
 * The module does every filesystem type check, cgroup mkdir, cgroup rmdir
 * and control-file write through one helper each (gxi__fs_is,
 * gxi__mkdir, gxi__rmdir, gxi__file_write in cgroup_fs.c). With no hooks
 * installed (the default, and always in production) those helpers make
 * exactly the system calls they would without this seam; reads
 * (gxi__file_read, access, stat, opendir) are never hooked.
 *
 * Not thread-safe, like the module: install before and uninstall after
 * the calls under test, from the same thread.
 */
#ifndef GXI_CGROUP_HOOKS_H
#define GXI_CGROUP_HOOKS_H

/** What a fake cgroupfs does in place of the kernel. Every member may be
 *  NULL (then the real system call is made); @c arg is passed to each. */
typedef struct gxi__cgroup_hooks {
  /** Filesystem type of @p path, in place of statfs()'s f_type: returns
   *  1 with *magic set (0 for a path that does not exist), or 0 to let
   *  statfs() answer (a path the fake does not own). */
  int (*fs_magic)(void *arg, const char *path, unsigned long *magic);
  /** After mkdir() created the cgroup directory @p path: make the
   *  control files the kernel would make in it. */
  void (*mkdir_done)(void *arg, const char *path);
  /** Before rmdir() of the cgroup directory @p path: remove its control
   *  files (the kernel removes them with the directory) and return 0, or
   *  return a negative errno to fail the rmdir as the kernel would
   *  (-EBUSY for a populated cgroup or one with child cgroups); then
   *  rmdir() is not called. */
  int (*rmdir_prep)(void *arg, const char *path);
  /** In place of open(O_WRONLY) + write() of @p val to the control file
   *  @p path: do what the kernel does with that value and return 0, or
   *  the negative errno the open or the write would fail with. */
  int (*write)(void *arg, const char *path, const char *val);
  void *arg;
} gxi__cgroup_hooks;

/** Installs @p hooks (the caller keeps them alive until it installs NULL,
 *  the default: no hooks). For tests only. */
void gxi__cgroup_set_hooks(const gxi__cgroup_hooks *hooks);

#endif
