/* A run's plan, as a pure function; see plan.h. */
#include "server/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/env.h"

/* ------------------------------------------------------------ profile */

/* The entry Start.profile names (else the default) and its tier. */
static int choose_profile(const gxd_plan_config *cfg,
                          const gxd_plan_request *req, gxd_plan *p, char *why,
                          size_t len) {
  char names[GXD_PROFILES_MAX * (GXI_PROFILE_NAME_MAX + 2)];
  const Gexec__V1__Start *st = req->start;
  /* a policy rule with `profiles` chose (and checked) it: the daemon's
   * --allow-profiles bounds only callers whose rule does not say */
  const char *by_policy = req->grant ? req->grant->profile : NULL;
  const char *name = st->profile && st->profile[0] ? st->profile : by_policy;
  int k = name ? gxd_profiles_find(cfg->profiles, name)
               : (int)cfg->default_profile;
  if (k < 0)
    return snprintf(why, len, "unknown profile '%.64s' (%s)", name,
                    gxd_profiles_names(cfg->profiles, ", ", names,
                                       sizeof names)),
           GX_STATUS_INVALID_ARGUMENT;
  if (name && !by_policy && !cfg->allowed[k]) {
    size_t at = 0;
    names[0] = '\0';
    for (size_t i = 0; i < cfg->profiles->n && at < sizeof names; i++)
      if (cfg->allowed[i])
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s",
                               at ? ", " : "", cfg->profiles->entry[i].name);
    return snprintf(why, len, "profile %s is not allowed by this daemon "
                    "(allowed: %s)", name, names),
           GX_STATUS_PERMISSION_DENIED;
  }
  p->profile_index = (size_t)k;
  p->profile = &cfg->profiles->entry[k];
  p->tier = cfg->tiers ? &cfg->tiers->t[k] : NULL;
  return GX_STATUS_OK;
}

/* Whether this host serves the chosen profile (fail closed). */
static int check_tier(const gxd_plan_config *cfg, gxd_plan *p, char *why,
                      size_t len) {
  const gxd_tier *t = p->tier;
  const char *name = p->profile->name;
  if (!t) return GX_STATUS_OK;
  if (!t->usable)
    return snprintf(why, len, "profile %s cannot run on this host (%s)",
                    name, t->desc), GX_STATUS_FAILED_PRECONDITION;
  p->reduced = !t->full;
  if (p->reduced && !cfg->allow_reduced[p->profile_index])
    return snprintf(why, len,
                    "profile %s is not available in full on this host "
                    "(missing: %s); gexecd serves it reduced only when "
                    "started with --allow-reduced %s", name, t->missing,
                    name), GX_STATUS_FAILED_PRECONDITION;
  return GX_STATUS_OK;
}

/* ------------------------------------------------------------- limits */

/* Effective limit: the request, else the profile's default @p def,
 * capped by @p max: an operator's cap also applies to runs that ask for
 * nothing; without one (0), the profile's own default @p own bounds what
 * a client may ask for; GXD_CAP_NONE: no cap. */
static uint64_t pick(uint64_t req, uint64_t def, uint64_t own, uint64_t max) {
  uint64_t v = req ? req : def;
  if (max == GXD_CAP_NONE) return v;
  if (max) return v == 0 || v > max ? max : v;
  return own && v > own ? own : v;
}

/* The profile's default limits (those the policy sets replacing them),
 * less those the host has no cgroup controller for (where that is part
 * of the profile, its tier is reduced instead). */
static gxi_limits host_defaults(const gxd_plan_config *cfg,
                                const gxd_plan_request *req,
                                const gxd_plan *p) {
  gxi_limits d = p->profile->defaults;
  const gxi_limits *g = req->grant ? &req->grant->limit_defaults : NULL;
  if (g && g->memory_bytes) d.memory_bytes = g->memory_bytes;
  if (g && g->pids) d.pids = g->pids;
  if (g && g->cpu_time_ms) d.cpu_time_ms = g->cpu_time_ms;
  if (g && g->open_files) d.open_files = g->open_files;
  const gxd_tier *t = p->tier;
  if (!t) return d;
  if (!t->cgroup_version || !cfg->caps || !cfg->caps->has_memory)
    d.memory_bytes = 0;
  if (!t->cgroup_version || !cfg->caps || !cfg->caps->has_pids) d.pids = 0;
  return d;
}

/* The policy's cap on a limit (it refused requests above it; defaults
 * are within it): @p v, or the cap when @p v is above it or unlimited. */
static uint64_t policy_cap(uint64_t v, uint64_t cap) {
  return cap && (v == 0 || v > cap) ? cap : v;
}

static int choose_limits(const gxd_plan_config *cfg,
                         const gxd_plan_request *req, gxd_plan *p, char *why,
                         size_t len) {
  const Gexec__V1__Limits *l = req->start->limits;
  const gxi_limits d = host_defaults(cfg, req, p), *m = &cfg->max_limits;
  const gxi_limits *own = &p->profile->defaults;
  p->limits.memory_bytes = pick(l ? l->memory_bytes : 0, d.memory_bytes,
                                own->memory_bytes, m->memory_bytes);
  p->limits.pids = pick(l ? l->pids : 0, d.pids, own->pids, m->pids);
  p->limits.cpu_time_ms = pick(l ? l->cpu_time_ms : 0, d.cpu_time_ms,
                               own->cpu_time_ms, m->cpu_time_ms);
  p->limits.open_files = pick(l ? l->open_files : 0, d.open_files,
                              own->open_files, m->open_files);
  if (req->grant) {
    const gxi_limits *c = &req->grant->limit_caps;
    p->limits.memory_bytes = policy_cap(p->limits.memory_bytes, c->memory_bytes);
    p->limits.pids = policy_cap(p->limits.pids, c->pids);
    p->limits.cpu_time_ms = policy_cap(p->limits.cpu_time_ms, c->cpu_time_ms);
    p->limits.open_files = policy_cap(p->limits.open_files, c->open_files);
  }
  if (p->tier && (p->limits.memory_bytes || p->limits.pids) &&
      p->tier->cgroup_version == 0)
    return snprintf(why, len,
                    "memory and pids limits need cgroups, which this host "
                    "does not provide (tier: %s)", p->tier->desc),
           GX_STATUS_FAILED_PRECONDITION;
  return GX_STATUS_OK;
}

/* -------------------------------------------------------------- command */

/* The run's user, checked against its profile: the ids it takes. */
static int choose_user(const gxd_plan_request *req, gxd_plan *p, char *why,
                       size_t len) {
  const gxd_user *u = req->user;
  const char *asked = req->start->user;
  _Static_assert(GXD_USER_GROUPS_MAX <= GXL_REQUEST_MAX_GROUPS,
                 "a user's groups fit a launch request");
  if (asked && asked[0] && (!u || strcmp(u->name, asked) != 0))
    return snprintf(why, len, "user '%.32s' was not resolved", asked),
           GX_STATUS_INTERNAL;
  p->user = u;
  if (!u) return GX_STATUS_OK;
  uint32_t mechs = p->tier ? p->tier->mechs : p->profile->mechs;
  if (!(mechs & GXI_MECH_USER)) return GX_STATUS_OK;
  /* a user namespace maps its uid 1000 to the user: never to the host's
   * root (owner of /etc, /root, ...), nor onto its own root's id */
  if (u->uid == 0 || u->gid == 0)
    return snprintf(why, len, "user '%s' cannot run in profile %s: its uid "
                    "or gid is 0, and %s never runs as the host's root "
                    "(use host or baseline)", u->name, p->profile->name,
                    p->profile->name), GX_STATUS_FAILED_PRECONDITION;
  if (u->uid == GXI_OUTER_ROOT_UID || u->gid == GXI_OUTER_ROOT_UID)
    return snprintf(why, len, "user '%s' cannot run in profile %s: its uid "
                    "or gid is %d, which %s's user namespace maps its root "
                    "to", u->name, p->profile->name, GXI_OUTER_ROOT_UID,
                    p->profile->name), GX_STATUS_FAILED_PRECONDITION;
  return GX_STATUS_OK;
}

static int build_env(const gxd_plan_config *cfg, const Gexec__V1__Start *st,
                     gxd_plan *p) {
  gxd_env_var vars[st->n_env ? st->n_env : 1];
  const gxd_user *u = p->user;
  const gxd_env_var defs[6] = {
      {"PATH", GXD_DEFAULT_PATH}, {"HOME", u ? u->home : cfg->home},
      {"LANG", "C.UTF-8"},        {"USER", u ? u->name : ""},
      {"LOGNAME", u ? u->name : ""}, {"SHELL", u ? u->shell : ""}};
  for (size_t i = 0; i < st->n_env; i++) {
    vars[i].name = st->env[i]->key;
    vars[i].value = st->env[i]->value ? st->env[i]->value : "";
  }
  /* without a user: PATH, HOME and LANG, as ever */
  p->env = gxd_env_build_with(defs, u ? 6 : 3, vars, st->n_env);
  if (!p->env) return -1;
  while (p->env[p->envc]) p->envc++;
  return 0;
}

static gxd_child_stdio stdio_of(const Gexec__V1__Start *st) {
  gxd_child_stdio io = {
      .stdin_pipe = st->stdin_mode == GEXEC__V1__STDIN_MODE__STDIN_PIPE,
      .stdout_pipe = st->stdout_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE,
      .stderr_mode =
          st->stderr_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE      ? 1
          : st->stderr_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD ? 0
                                                                       : 2};
  return io;
}

/* The command and how it is run: argv, cwd, env, stdio, times, and the
 * program constraint of the caller's policy rule. */
static void plan_command(const gxd_plan_config *cfg,
                         const gxd_plan_request *req, gxd_plan *p) {
  const Gexec__V1__Start *st = req->start;
  const gxd_policy_grant *g = req->grant;
  p->argv = st->argv;
  p->argc = st->n_argv;
  p->program = st->argv[0];
  p->cwd = st->cwd && st->cwd[0] ? st->cwd : "/";
  p->stdio = stdio_of(st);
  p->timeout_ms = st->timeout_ms ? st->timeout_ms : cfg->max_timeout_ms;
  if (g && g->max_timeout_ms && p->timeout_ms > g->max_timeout_ms)
    p->timeout_ms = g->max_timeout_ms; /* asking for more was refused */
  p->allow = g ? g->allow : NULL;
  p->allowc = g ? g->allowc : 0;
  p->grace_ms = st->kill_grace_ms ? st->kill_grace_ms : cfg->default_grace_ms;
  p->max_output = st->max_output_bytes;
}

/* What the launcher is handed: values of the daemon's making (gxl_run)
 * and the command (gxl_request). */
static void plan_launch(const gxd_plan_request *req, gxd_plan *p) {
  p->run.run_id = req->run_id;
  p->run.profile = p->profile->base;
  p->run.mechs = p->tier ? p->tier->mechs : p->profile->mechs;
  p->run.limits = p->limits;
  snprintf(p->run.cgroup, sizeof p->run.cgroup, "%s",
           req->cgroup ? req->cgroup : "");
  p->uid = p->run.mechs & GXI_MECH_USER ? GXI_INNER_UID
           : p->user                     ? p->user->uid
                                         : 0;
  p->request = (gxl_request){.cwd = p->cwd, .argv = p->argv,
                             .argc = p->argc, .envp = p->env,
                             .envc = p->envc, .allow = p->allow,
                             .allowc = p->allowc};
  if (!p->user) return;
  p->request.has_ids = 1;
  p->request.ids.uid = p->user->uid;
  p->request.ids.gid = p->user->gid;
  p->request.ids.ngroups = (uint32_t)p->user->ngroups;
  memcpy(p->request.ids.groups, p->user->groups,
         p->user->ngroups * sizeof p->user->groups[0]);
}

/* The `Isolation` of `started`: what is in force, never more. */
static void plan_isolation(const gxd_plan_config *cfg, gxd_plan *p) {
  gxd_plan_isolation *iso = &p->isolation;
  uint32_t m = p->run.mechs;
  if (!p->tier) return; /* unprobed: nothing to vouch for */
  iso->present = 1;
  iso->profile = p->profile->name;
  for (uint32_t b = 1; b & GXI_MECH_NAMESPACES; b <<= 1)
    if (m & b)
      iso->namespaces[iso->n_namespaces++] = gxi_mech_name((gxi_mech)b);
  if (p->limits.memory_bytes || p->limits.pids)
    iso->cgroup = p->tier->cgroup_version == 2 ? "v2" : "v1";
  else if (p->run.cgroup[0]) /* tracked only: where its processes are */
    iso->cgroup = cfg->caps && cfg->caps->has_kill ? "v2" : "v1";
  else
    iso->cgroup = "";
  iso->seccomp = !!(m & GXI_MECH_SECCOMP);
  iso->uid = p->uid;
  iso->read_only_root = !!(m & GXI_MECH_RO_ROOT);
  iso->no_new_privs = !!(m & GXI_MECH_NNP);
  iso->description = p->tier->desc;
}

int gxd_plan_build(const gxd_plan_config *cfg, const gxd_plan_request *req,
                   gxd_plan *out, char *why, size_t why_len) {
  const Gexec__V1__Start *st = req->start;
  memset(out, 0, sizeof *out);
  out->caller = req->caller;
  int status = choose_profile(cfg, req, out, why, why_len);
  if (status == GX_STATUS_OK) status = check_tier(cfg, out, why, why_len);
  if (status == GX_STATUS_OK)
    status = choose_limits(cfg, req, out, why, why_len);
  if (status == GX_STATUS_OK) status = choose_user(req, out, why, why_len);
  if (status == GX_STATUS_OK && build_env(cfg, st, out) != 0) {
    snprintf(why, why_len, "out of memory");
    status = GX_STATUS_RESOURCE_EXHAUSTED;
  }
  if (status != GX_STATUS_OK) return status;
  plan_command(cfg, req, out);
  plan_launch(req, out);
  plan_isolation(cfg, out);
  return GX_STATUS_OK;
}

/* ----------------------------------------------------------- failures */

static int cwd_fail(const gxd_plan *p, int err, char *why, size_t len) {
  const char *cwd = p->cwd;
  int hidden = (p->run.mechs & GXI_MECH_RO_ROOT) &&
               (strcmp(cwd, "/tmp") == 0 || strncmp(cwd, "/tmp/", 5) == 0);
  snprintf(why, len, "cwd '%.300s' %s%s", cwd,
           err == ENOENT    ? "does not exist"
           : err == ENOTDIR ? "does not exist or is not a directory"
           : err == EACCES  ? "is not accessible to the run's user"
                            : strerror(err),
           hidden ? " (this profile has a private /tmp)" : "");
  return err == EACCES || err == EPERM ? GX_STATUS_PERMISSION_DENIED
                                       : GX_STATUS_FAILED_PRECONDITION;
}

static int user_fail(const gxd_plan *p, int err, char *why, size_t len) {
  snprintf(why, len, "cannot run as user '%s' (uid %u): %s",
           p->user ? p->user->name : "?", p->request.ids.uid,
           strerror(err));
  return err == EAGAIN ? GX_STATUS_RESOURCE_EXHAUSTED : GX_STATUS_INTERNAL;
}

int gxd_plan_exec_fail(const gxd_plan *p, const gxl_record *rec, char *why,
                       size_t len) {
  const char *prog = p->program;
  int err = rec->err;
  if (rec->what == GXL_FAIL_CWD) return cwd_fail(p, err, why, len);
  if (rec->what == GXL_FAIL_USER) return user_fail(p, err, why, len);
  if (rec->what == GXL_FAIL_DENIED) {
    snprintf(why, len, "cannot run '%.200s': not a program this run may "
             "start (the daemon's program constraint)", prog);
    return GX_STATUS_PERMISSION_DENIED;
  }
  switch (err) {
    case ENOENT:
      snprintf(why, len, "cannot run '%.200s': program or its interpreter "
               "not found", prog);
      return GX_STATUS_NOT_FOUND;
    case EACCES: case EPERM:
      snprintf(why, len, "cannot run '%.200s': permission denied", prog);
      return GX_STATUS_PERMISSION_DENIED;
    case ENOEXEC:
      snprintf(why, len, "cannot run '%.200s': not an executable format "
               "(no #! line?)", prog);
      return GX_STATUS_PERMISSION_DENIED;
    case E2BIG:
      snprintf(why, len, "cannot run '%.200s': argument list too long", prog);
      return GX_STATUS_INVALID_ARGUMENT;
    case ENAMETOOLONG:
      snprintf(why, len, "cannot run '%.200s': name too long", prog);
      return GX_STATUS_INVALID_ARGUMENT;
    case EAGAIN: case ENOMEM: case EMFILE: case ENFILE:
      snprintf(why, len, "cannot start '%.200s': %s", prog, strerror(err));
      return GX_STATUS_RESOURCE_EXHAUSTED;
    default:
      snprintf(why, len, "cannot start '%.200s': %s", prog, strerror(err));
      return GX_STATUS_INTERNAL;
  }
}

void gxd_plan_free(gxd_plan *p) {
  free(p->env);
  p->env = NULL;
  p->envc = 0;
  p->request.envp = NULL;
  p->request.envc = 0;
}
