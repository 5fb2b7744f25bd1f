#include "server/tiers.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/launch_wire.h"
#include "server/log.h"
#include "server/spawn.h"

/* The reason the launcher gave on its report fd, if any (one record). */
static void read_reason(int fd, char *why, size_t len) {
  gxl_reader rd;
  gxl_record rec;
  char buf[GXL_LINE_MAX];
  ssize_t n;
  gxl_reader_init(&rd);
  why[0] = '\0';
  while ((n = read(fd, buf, sizeof buf)) > 0 &&
         gxl_reader_push(&rd, buf, (size_t)n) == 0)
    while (gxl_reader_next(&rd, &rec) == 1)
      if (rec.kind == GXL_REC_ERROR)
        snprintf(why, len, "%.399s", rec.reason);
}

/* Runs `launcher --mechs BITS [--pids N --cgroup C] -- /bin/true` in
 * "/" with an empty environment. Returns 0 if it ran, else -1 with the
 * launcher's reason in @p why. */
static int try_tier(const char *launcher, uint32_t mechs, const char *cgroup,
                    char *why, size_t len) {
  static char *const empty_env[] = {NULL};
  const char *argv[16];
  char bits[16];
  int k = 0, rep[2];
  snprintf(bits, sizeof bits, "%u", (unsigned)mechs);
  argv[k++] = launcher;
  argv[k++] = "--mechs";
  argv[k++] = bits;
  if (cgroup) {
    argv[k++] = "--pids";
    argv[k++] = "4096";
    argv[k++] = "--cgroup";
    argv[k++] = cgroup;
  }
  argv[k++] = "--report-fd";
  argv[k++] = "3";
  argv[k++] = "--";
  argv[k++] = "/bin/true";
  argv[k] = NULL;
  snprintf(why, len, "the launcher could not be started");
  if (pipe2(rep, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, rep[1], 3);
  posix_spawn_file_actions_addchdir_np(&fa, "/");
  posix_spawnattr_t at; /* not the daemon's blocked signals */
  pid_t pid;
  int st = -1;
  int rc = gxd_spawn_attr_init(&at, 0);
  if (rc == 0) {
    rc = posix_spawn(&pid, launcher, &fa, &at, (char **)argv, empty_env);
    posix_spawnattr_destroy(&at);
  }
  posix_spawn_file_actions_destroy(&fa);
  close(rep[1]);
  if (rc == 0) read_reason(rep[0], why, len);
  close(rep[0]);
  if (rc != 0) return -1;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  if (!why[0]) snprintf(why, len, "/bin/true did not exit 0 (status %d)", st);
  return -1;
}

static void describe(gxd_tier *t, const char *name) {
  uint32_t m = t->mechs;
  char ns[96];
  snprintf(t->desc, sizeof t->desc,
           "%s: namespaces %s; cgroup %s; seccomp %s; %s%s%s", name,
           gxi_mech_namespaces(m, ns, sizeof ns),
           t->cgroup_version == 2 ? "v2" : t->cgroup_version == 1 ? "v1" : "none",
           m & GXI_MECH_SECCOMP ? "on" : "off",
           m & GXI_MECH_RO_ROOT ? "read-only root; " : "",
           m & GXI_MECH_USER          ? "uid 1000, no capabilities"
           : gxi_mech_root_caps(m) ? "uid 0, container capabilities"
                                   : "uid 0",
           t->full ? " (full)" : " (REDUCED)");
}

/* Removal steps, strongest tier first; each adds to the previous. */
static const uint32_t steps[] = {
    0, GXI_MECH_CGROUP, GXI_MECH_USER | GXI_MECH_NET, GXI_MECH_SECCOMP,
    GXI_MECH_PID | GXI_MECH_IPC | GXI_MECH_UTS | GXI_MECH_MOUNT,
};

/* What can be probed and refused; the rest follows from these. */
#define PROBED (GXI_MECH_NAMESPACES | GXI_MECH_SECCOMP | GXI_MECH_CGROUP)

/* Lists what the full tier of @p base lacks in t->missing. */
static void note_missing(gxd_tier *t, uint32_t base) {
  size_t n = 0;
  t->missing[0] = '\0';
  for (uint32_t b = 1; b & PROBED; b <<= 1) {
    if (!(t->without & b & base) || n >= sizeof t->missing) continue;
    int w = snprintf(t->missing + n, sizeof t->missing - n, "%s%s%s",
                     n ? ", " : "", gxi_mech_name((gxi_mech)b),
                     b & GXI_MECH_NAMESPACES ? " namespace" : "");
    n += w > 0 ? (size_t)w : 0;
  }
}

static void probe_one(const char *launcher, const gxi_profile *p,
                      const gxi_cgroup_caps *caps, const char *cgroup,
                      uint32_t disabled, gxd_tier *t) {
  int cg_version = caps->has_memory || caps->has_pids ? caps->version : 0;
  uint32_t base = p->mechs;
  memset(t, 0, sizeof *t);
  t->without = disabled & PROBED;
  /* restricted's default limits need both controllers */
  if (cg_version == 0 ||
      ((base & GXI_MECH_CGROUP) && !(caps->has_memory && caps->has_pids)))
    t->without |= GXI_MECH_CGROUP;
  for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
    uint32_t before = t->without;
    /* cgroup: always optional (tracking only, where not in the profile) */
    t->without |= steps[s] & (base | GXI_MECH_CGROUP);
    if (s > 0 && t->without == before) continue; /* nothing new to try */
    int cg = !(t->without & GXI_MECH_CGROUP);
    char why[400];
    gxi_cgroup left;
    int rc = try_tier(launcher, gxi_mech_without(base, t->without),
                      cg ? cgroup : NULL, why, sizeof why);
    /* a launcher that failed leaves its cgroup: the next try makes it */
    if (cg && gxi_cgroup_open(caps, cgroup, &left) == 0)
      gxi_cgroup_destroy(&left);
    if (rc == 0) {
      t->usable = 1;
      break;
    }
    gxd_log(GXD_LOG_WARN, "isolation %s: a tier failed, trying one with "
           "fewer mechanisms: %s", p->name, why);
  }
  t->full = t->usable && !(t->without & base);
  t->mechs = gxi_mech_without(base, t->without);
  t->cgroup_version = t->without & GXI_MECH_CGROUP ? 0 : cg_version;
  if (!t->full) note_missing(t, base);
  describe(t, p->name);
}

int gxd_tiers_probe(const char *launcher, const gxd_profiles *profiles,
                    const gxi_cgroup_caps *caps, const char *cgroup_dir,
                    uint32_t disabled, const char *const *required,
                    int nrequired, gxd_tiers *out, char *why, size_t len) {
  char cgroup[GXI_CGROUP_NAME_MAX + 1];
  if (access(launcher, X_OK) != 0) {
    snprintf(why, len, "launcher %s is not executable", launcher);
    return -1;
  }
  snprintf(cgroup, sizeof cgroup, "%s/probe", cgroup_dir);
  out->n = profiles->n;
  for (size_t i = 0; i < profiles->n; i++) {
    probe_one(launcher, &profiles->entry[i], caps, cgroup, disabled,
              &out->t[i]);
    gxd_log(out->t[i].full ? GXD_LOG_INFO : GXD_LOG_WARN, "isolation %s",
           out->t[i].desc);
  }
  for (int i = 0; i < nrequired; i++) {
    int k = gxd_profiles_find(profiles, required[i]);
    if (k < 0) {
      snprintf(why, len, "--require-isolation %s: no such profile",
               required[i]);
      return -1;
    }
    if (!out->t[k].full) {
      snprintf(why, len,
               "--require-isolation %s: this host cannot provide it in full "
               "(%s)", required[i], out->t[k].desc);
      return -1;
    }
  }
  return 0;
}
