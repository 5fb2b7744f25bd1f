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
                          const Gexec__V1__Start *st, gxd_plan *p, char *why,
                          size_t len) {
  char names[GXD_PROFILES_MAX * (GXI_PROFILE_NAME_MAX + 2)];
  const char *name = st->profile && st->profile[0] ? st->profile : NULL;
  int k = name ? gxd_profiles_find(cfg->profiles, name)
               : (int)cfg->default_profile;
  if (k < 0)
    return snprintf(why, len, "unknown profile '%.64s' (%s)", name,
                    gxd_profiles_names(cfg->profiles, ", ", names,
                                       sizeof names)),
           GX_STATUS_INVALID_ARGUMENT;
  if (name && !cfg->allowed[k]) {
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

/* The profile's default limits, less those the host has no cgroup
 * controller for (where that is part of the profile, its tier is
 * reduced instead). */
static gxi_limits host_defaults(const gxd_plan_config *cfg,
                                const gxd_plan *p) {
  gxi_limits d = p->profile->defaults;
  const gxd_tier *t = p->tier;
  if (!t) return d;
  if (!t->cgroup_version || !cfg->caps || !cfg->caps->has_memory)
    d.memory_bytes = 0;
  if (!t->cgroup_version || !cfg->caps || !cfg->caps->has_pids) d.pids = 0;
  return d;
}

static int choose_limits(const gxd_plan_config *cfg,
                         const Gexec__V1__Start *st, gxd_plan *p, char *why,
                         size_t len) {
  const Gexec__V1__Limits *l = st->limits;
  const gxi_limits d = host_defaults(cfg, p), *m = &cfg->max_limits;
  const gxi_limits *own = &p->profile->defaults;
  p->limits.memory_bytes = pick(l ? l->memory_bytes : 0, d.memory_bytes,
                                own->memory_bytes, m->memory_bytes);
  p->limits.pids = pick(l ? l->pids : 0, d.pids, own->pids, m->pids);
  p->limits.cpu_time_ms = pick(l ? l->cpu_time_ms : 0, d.cpu_time_ms,
                               own->cpu_time_ms, m->cpu_time_ms);
  p->limits.open_files = pick(l ? l->open_files : 0, d.open_files,
                              own->open_files, m->open_files);
  if (p->tier && (p->limits.memory_bytes || p->limits.pids) &&
      p->tier->cgroup_version == 0)
    return snprintf(why, len,
                    "memory and pids limits need cgroups, which this host "
                    "does not provide (tier: %s)", p->tier->desc),
           GX_STATUS_FAILED_PRECONDITION;
  return GX_STATUS_OK;
}

/* -------------------------------------------------------------- command */

static int build_env(const gxd_plan_config *cfg, const Gexec__V1__Start *st,
                     gxd_plan *p) {
  gxd_env_var vars[st->n_env ? st->n_env : 1];
  for (size_t i = 0; i < st->n_env; i++) {
    vars[i].name = st->env[i]->key;
    vars[i].value = st->env[i]->value ? st->env[i]->value : "";
  }
  p->env = gxd_env_build(cfg->home, vars, st->n_env);
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

/* The command and how it is run: argv, cwd, env, stdio, times. */
static void plan_command(const gxd_plan_config *cfg,
                         const Gexec__V1__Start *st, gxd_plan *p) {
  p->argv = st->argv;
  p->argc = st->n_argv;
  p->program = st->argv[0];
  p->cwd = st->cwd && st->cwd[0] ? st->cwd : "/";
  p->stdio = stdio_of(st);
  p->timeout_ms = st->timeout_ms ? st->timeout_ms : cfg->max_timeout_ms;
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
  p->uid = p->run.mechs & GXI_MECH_USER ? GXI_INNER_UID : 0;
  p->request = (gxl_request){.cwd = p->cwd, .argv = p->argv,
                             .argc = p->argc, .envp = p->env,
                             .envc = p->envc, .allow = p->allow,
                             .allowc = p->allowc};
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
  int status = choose_profile(cfg, st, out, why, why_len);
  if (status == GX_STATUS_OK) status = check_tier(cfg, out, why, why_len);
  if (status == GX_STATUS_OK) status = choose_limits(cfg, st, out, why, why_len);
  if (status == GX_STATUS_OK && build_env(cfg, st, out) != 0) {
    snprintf(why, why_len, "out of memory");
    status = GX_STATUS_RESOURCE_EXHAUSTED;
  }
  if (status != GX_STATUS_OK) return status;
  plan_command(cfg, st, out);
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

int gxd_plan_exec_fail(const gxd_plan *p, const gxl_record *rec, char *why,
                       size_t len) {
  const char *prog = p->program;
  int err = rec->err;
  if (rec->what == GXL_FAIL_CWD) return cwd_fail(p, err, why, len);
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
