#include "server/isolation/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <limits.h>
#include <unistd.h>

static int fail(int err, char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int err, char *why, size_t len, const char *fmt, ...) {
  va_list ap;
  char msg[256];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(why, len, "%s: %s", msg, strerror(err));
  return -err;
}

static int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, data, strlen(data));
  int err = n == (ssize_t)strlen(data) ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return -err;
}

int gxi_write_id_maps(pid_t pid, uint32_t outer_uid, uint32_t outer_gid,
                      char *why, size_t len) {
  char path[64], map[128];
  const char *files[] = {"uid_map", "gid_map"};
  const uint32_t outer[] = {outer_uid, outer_gid};
  for (int i = 0; i < 2; i++) {
    snprintf(map, sizeof map, "0 %d 1\n%d %u 1\n", GXI_OUTER_ROOT_UID,
             GXI_INNER_UID, outer[i]);
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, files[i]);
    int rc = write_file(path, map);
    if (rc) return fail(-rc, why, len, "writing %s", path);
  }
  return 0;
}

/* New credentials clear the parent-death signal: sets @p sig again,
 * then checks that the parent did not go meanwhile. */
static int rearm_pdeath(int sig, pid_t parent, char *why, size_t len) {
  if (sig && prctl(PR_SET_PDEATHSIG, sig) != 0)
    return fail(errno, why, len, "PR_SET_PDEATHSIG");
  if (sig && getppid() != parent)
    return fail(ESRCH, why, len, "the parent exited");
  return 0;
}

int gxi_become_user(uint32_t uid, uint32_t gid, const uint32_t *groups,
                    size_t ngroups, char *why, size_t len) {
  _Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");
  uid_t r, e, s;
  gid_t rg, eg, sg;
  int pdeath = 0;
  pid_t parent = getppid();
  if (prctl(PR_GET_PDEATHSIG, &pdeath) != 0)
    return fail(errno, why, len, "PR_GET_PDEATHSIG");
  if (setgroups(ngroups, (const gid_t *)groups) != 0)
    return fail(errno, why, len, "setgroups (%zu groups)", ngroups);
  if (setresgid(gid, gid, gid) != 0)
    return fail(errno, why, len, "setresgid %u", gid);
  if (setresuid(uid, uid, uid) != 0)
    return fail(errno, why, len, "setresuid %u", uid);
  if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
      r != uid || e != uid || s != uid || rg != gid || eg != gid ||
      sg != gid)
    return fail(EPERM, why, len, "the ids did not take");
  return rearm_pdeath(pdeath, parent, why, len);
}

int gxi_become_inner_root(char *why, size_t len) {
  if (setgroups(0, NULL) != 0) return fail(errno, why, len, "setgroups");
  if (setresgid(0, 0, 0) != 0) return fail(errno, why, len, "setresgid 0");
  if (setresuid(0, 0, 0) != 0) return fail(errno, why, len, "setresuid 0");
  return 0;
}

static int make_readonly(char *why, size_t len) {
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &attr,
              sizeof attr) != 0)
    return fail(errno, why, len, "making / read-only (mount_setattr)");
  return 0;
}

static int mount_tmpfs(const char *dir, char *why, size_t len) {
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
    return fail(errno, why, len, "mounting a private tmpfs on %s", dir);
  return 0;
}

/* Makes @p path (a mount point or any path: bound onto itself first)
 * read-only, recursively. */
static int readonly_bind(const char *path, char *why, size_t len) {
  struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
  if (access(path, F_OK) != 0) return 0; /* nothing to protect */
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0)
    return fail(errno, why, len, "binding %s", path);
  if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &ro,
              sizeof ro) != 0)
    return fail(errno, why, len, "making %s read-only", path);
  return 0;
}

int gxi_mount_base(uint32_t mechs, char *why, size_t len) {
  int rc;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return fail(errno, why, len, "making mounts private");
  if ((mechs & GXI_MECH_RO_ROOT) && (rc = make_readonly(why, len))) return rc;
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            NULL) != 0)
    return fail(errno, why, len, "mounting a fresh /proc");
  /* sysfs shows the network namespace it was mounted in: a fresh one, so
   * /sys/class/net lists only this run's interfaces */
  if ((mechs & GXI_MECH_NET) && mount("sysfs", "/sys", "sysfs",
                         MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         NULL) != 0)
    return fail(errno, why, len, "mounting a fresh /sys");
  /* root in the host's user namespace: no kernel tunables, no sysrq, no
   * cgroupfs (its own cgroup, other runs') */
  if (gxi_mech_root_caps(mechs) && ((rc = readonly_bind("/proc/sys", why, len)) ||
                       (rc = readonly_bind("/proc/sysrq-trigger", why, len)) ||
                       (rc = readonly_bind("/sys", why, len))))
    return rc;
  return 0;
}

/* (dev, ino) of @p fd equal to those of @p path. */
static int same_dir(int fd, const char *path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* Clones the mount at the current directory, makes the clone writable
 * and attaches it there, all by descriptor (no path looked up again),
 * then enters it. */
static int bind_cwd_writable(int cwd_fd, char *why, size_t len) {
  struct mount_attr rw = {.attr_clr = MOUNT_ATTR_RDONLY};
  int rc = 0;
  int tree = (int)syscall(SYS_open_tree, cwd_fd, "",
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0) return fail(errno, why, len, "cloning the cwd's mount");
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &rw, sizeof rw))
    rc = fail(errno, why, len, "making the cwd writable");
  else if (syscall(SYS_move_mount, tree, "", cwd_fd, "",
                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
    rc = fail(errno, why, len, "attaching the writable cwd");
  else if (fchdir(tree) != 0)
    rc = fail(errno, why, len, "entering the writable cwd");
  close(tree);
  return rc;
}

/* 1 if the current directory is what @p path names. */
static int cwd_is(const char *path) {
  int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int same = here >= 0 && same_dir(here, path);
  if (here >= 0) close(here);
  return same;
}

int gxi_mount_cwd(uint32_t mechs, char *why, size_t len) {
  char path[PATH_MAX];
  int rc = 0, fd;
  if (!(mechs & GXI_MECH_RO_ROOT)) return 0;
  if (!getcwd(path, sizeof path)) return fail(errno, why, len, "getcwd");
  if ((fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return fail(errno, why, len, "opening the cwd");
  if ((rc = mount_tmpfs("/tmp", why, len)) ||
      (access("/dev/shm", F_OK) == 0 &&
       (rc = mount_tmpfs("/dev/shm", why, len))))
    goto out;
  if (!same_dir(fd, "/")) /* "/" itself stays read-only */
    rc = bind_cwd_writable(fd, why, len);
  /* its own path must lead to what we bound: not so for a cwd the
   * private /tmp covers */
  if (rc == 0 && !cwd_is(path)) rc = GXI_CWD_HIDDEN;
out:
  close(fd);
  return rc;
}

int gxi_loopback_up(char *why, size_t len) {
  struct ifreq ifr;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(errno, why, len, "socket for loopback");
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  int rc = 0;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    rc = fail(errno, why, len, "reading loopback flags");
  } else {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
      rc = fail(errno, why, len, "bringing loopback up");
  }
  close(fd);
  return rc;
}

int gxi_apply_rlimits(const gxi_rlimits *lim, char *why, size_t len) {
  struct rlimit core = {0, 0};
  if (setrlimit(RLIMIT_CORE, &core) != 0)
    return fail(errno, why, len, "RLIMIT_CORE");
  if (lim->cpu_time_ms) {
    rlim_t s = (rlim_t)((lim->cpu_time_ms + 999) / 1000);
    /* soft: SIGXCPU; hard one second later: SIGKILL */
    struct rlimit cpu = {s, s + 1};
    if (setrlimit(RLIMIT_CPU, &cpu) != 0)
      return fail(errno, why, len, "RLIMIT_CPU");
  }
  if (lim->open_files) {
    struct rlimit nf = {(rlim_t)lim->open_files, (rlim_t)lim->open_files};
    if (setrlimit(RLIMIT_NOFILE, &nf) != 0)
      return fail(errno, why, len, "RLIMIT_NOFILE");
  }
  return 0;
}

/* baseline: stays root, keeps only GXI_BASELINE_CAPS: out of the bounding
 * set (what an exec'd program may get back) and out of every set now. */
static int keep_baseline_caps(char *why, size_t len) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  for (int cap = 0; cap <= 63; cap++)
    if (!(GXI_BASELINE_CAPS & (1ull << cap)) &&
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return fail(errno, why, len, "dropping capability %d", cap);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (syscall(SYS_capget, &h, d) != 0) return fail(errno, why, len, "capget");
  for (int i = 0; i < 2; i++) {
    uint32_t keep = (uint32_t)(GXI_BASELINE_CAPS >> (32 * i));
    d[i].effective &= keep;
    d[i].permitted &= keep;
    d[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &h, d) != 0) return fail(errno, why, len, "capset");
  return 0;
}

int gxi_drop_privileges(uint32_t mechs, char *why, size_t len) {
  int rc;
  if (gxi_mech_root_caps(mechs) && (rc = keep_baseline_caps(why, len))) return rc;
  if ((mechs & GXI_MECH_USER)) {
    for (int cap = 0; cap <= 63; cap++)
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
        return fail(errno, why, len, "dropping capability %d", cap);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (setgroups(0, NULL) != 0) return fail(errno, why, len, "setgroups");
    if (setresgid(GXI_INNER_UID, GXI_INNER_UID, GXI_INNER_UID) != 0)
      return fail(errno, why, len, "setresgid");
    /* leaving uid 0 clears the permitted and effective sets */
    if (setresuid(GXI_INNER_UID, GXI_INNER_UID, GXI_INNER_UID) != 0)
      return fail(errno, why, len, "setresuid");
  }
  if ((mechs & GXI_MECH_NNP) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return fail(errno, why, len, "no_new_privs");
  return 0;
}
