/* What a rule grants one run, or why it refuses it; see policy.h. */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/policy_internal.h"

/* Longest client string quoted in a reason, in bytes. */
#define QUOTE_MAX 100

/* Copies @p s into @p buf for a reason: at most QUOTE_MAX bytes, cut at
 * a UTF-8 boundary, control bytes replaced by '?'. Returns @p buf. */
static const char *quote(const char *s, char buf[QUOTE_MAX + 1]) {
  size_t n = strnlen(s, QUOTE_MAX + 1);
  if (n > QUOTE_MAX) {
    n = QUOTE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
  }
  buf[n] = '\0';
  return buf;
}

static int refuse(const gxd_policy_rule *r, char *why, size_t len,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes "policy rule 'NAME' " and the message. Returns
 * PERMISSION_DENIED. */
static int refuse(const gxd_policy_rule *r, char *why, size_t len,
                  const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(why, len, "policy rule '%s' %s", r->name, msg);
  return GX_STATUS_PERMISSION_DENIED;
}

static int out_of_memory(char *why, size_t len) {
  snprintf(why, len, "out of memory");
  return GX_STATUS_RESOURCE_EXHAUSTED;
}

/* Whether one glob of @p l matches @p s. */
static int any_glob(const gxd_pol_list *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (fnmatch(l->v[i], s, 0) == 0) return 1;
  return 0;
}

static int in_list(const gxd_pol_list *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0) return 1;
  return 0;
}

/* ------------------------------------------------------------- profile */

static int check_profile(const gxd_policy_rule *r, const gxd_policy_ask *a,
                         gxd_policy_grant *g, char *why, size_t len) {
  char names[300], q[QUOTE_MAX + 1];
  size_t n = 0;
  if (!(r->allow & GXD_POL_A_PROFILES)) return GX_STATUS_OK;
  if (r->profiles.n == 0) return refuse(r, why, len, "allows no profile");
  if (!*a->profile) {
    g->profile = r->profiles.v[0];
    return GX_STATUS_OK;
  }
  for (size_t i = 0; i < r->profiles.n; i++)
    if (strcmp(r->profiles.v[i], a->profile) == 0) {
      g->profile = r->profiles.v[i];
      return GX_STATUS_OK;
    }
  names[0] = '\0';
  for (size_t i = 0; i < r->profiles.n && n < sizeof names; i++) {
    int w = snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "",
                     r->profiles.v[i]);
    n += w > 0 ? (size_t)w : 0;
  }
  return refuse(r, why, len, "does not allow profile '%s' (allowed: %s)",
                quote(a->profile, q), names);
}

/* ------------------------------------------------------------- run-as */

/* The user entry @p e stands for with @p peer: itself, the unix peer's
 * user for "$caller", or NULL (a "$caller" this peer does not have). */
static const char *user_of(const char *e, const gxd_peer *peer) {
  if (strcmp(e, GXD_POL_CALLER) != 0) return e;
  return peer->kind == GXD_PEER_UNIX ? peer->user : NULL;
}

static int check_user(const gxd_policy_rule *r, const gxd_peer *peer,
                      const gxd_policy_ask *a, gxd_policy_grant *g, char *why,
                      size_t len) {
  char q[QUOTE_MAX + 1];
  const char *pick = NULL;
  if (!(r->allow & GXD_POL_A_RUN_AS)) {
    /* a rule that names no user lets runs take the daemon's default
     * ids, never an account the client picks */
    if (!*a->user || r->any_user) return GX_STATUS_OK;
    return refuse(r, why, len, "does not allow run-as user '%s' (it names "
                  "no run_as)", quote(a->user, q));
  }
  for (size_t i = 0; i < r->run_as.n && !pick; i++) {
    const char *u = user_of(r->run_as.v[i], peer);
    if (u && (!*a->user || strcmp(u, a->user) == 0)) pick = u;
  }
  if (!pick && *a->user)
    return refuse(r, why, len, "does not allow run-as user '%s'",
                  quote(a->user, q));
  if (!pick)
    return refuse(r, why, len, "allows no run-as user for this caller");
  if (!(g->user = strdup(pick))) return out_of_memory(why, len);
  return GX_STATUS_OK;
}

/* ------------------------------------------------------ timeout, limits */

/* @p ms as the largest whole unit: "10s", "1h", "1500ms". */
static const char *duration(uint64_t ms, char buf[32]) {
  static const struct {
    uint64_t ms;
    const char *unit;
  } u[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  size_t i = 0;
  while (ms % u[i].ms != 0) i++;
  snprintf(buf, 32, "%llu%s", (unsigned long long)(ms / u[i].ms), u[i].unit);
  return buf;
}

/* @p bytes as the largest whole unit: "1G", "512K", "1000". */
static const char *size(uint64_t bytes, char buf[32]) {
  static const struct {
    uint64_t b;
    const char *unit;
  } u[] = {{1ull << 30, "G"}, {1ull << 20, "M"}, {1ull << 10, "K"}, {1, ""}};
  size_t i = 0;
  while (bytes % u[i].b != 0) i++;
  snprintf(buf, 32, "%llu%s", (unsigned long long)(bytes / u[i].b), u[i].unit);
  return buf;
}

static const char *number(uint64_t n, char buf[32]) {
  snprintf(buf, 32, "%llu", (unsigned long long)n);
  return buf;
}

static int check_timeout(const gxd_policy_rule *r, const gxd_policy_ask *a,
                         gxd_policy_grant *g, char *why, size_t len) {
  char cap[32];
  g->max_timeout_ms = r->max_timeout_ms;
  if (!r->max_timeout_ms || a->timeout_ms <= r->max_timeout_ms)
    return GX_STATUS_OK;
  return refuse(r, why, len, "allows no timeout above %s",
                duration(r->max_timeout_ms, cap));
}

static int check_limits(const gxd_policy_rule *r, const gxd_policy_ask *a,
                        gxd_policy_grant *g, char *why, size_t len) {
  static const char *const names[4] = {"memory", "pids", "cpu_time",
                                       "open_files"};
  static const char *(*const fmt[4])(uint64_t, char *) = {size, number,
                                                          duration, number};
  const uint64_t cap[4] = {r->limits.memory_bytes, r->limits.pids,
                           r->limits.cpu_time_ms, r->limits.open_files};
  const uint64_t ask[4] = {a->limits.memory_bytes, a->limits.pids,
                           a->limits.cpu_time_ms, a->limits.open_files};
  char have[32], most[32];
  g->limit_caps = g->limit_defaults = r->limits;
  for (int i = 0; i < 4; i++)
    if (cap[i] && ask[i] > cap[i])
      return refuse(r, why, len, "does not allow %s limit %s (cap %s)",
                    names[i], fmt[i](ask[i], have), fmt[i](cap[i], most));
  return GX_STATUS_OK;
}

/* ----------------------------------------------------------- env, cwd */

/* Variables that change what an allowed program runs (the loader,
 * shells, interpreters, the program lookup): under a program constraint
 * a glob in allow.env never lets them through; only their exact name. */
static const char *const risky_env[] = {
    "LD_*", "BASH_ENV", "ENV", "BASH_FUNC_*", "SHELLOPTS", "BASHOPTS",
    "PS4", "IFS", "CDPATH", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH",
    "NLSPATH", "HOSTALIASES", "MALLOC_*", "PYTHON*", "PERL5*", "PERLLIB",
    "RUBY*", "NODE_OPTIONS", "PATH", "GIT_*", "EDITOR", "VISUAL", "PAGER"};

static int risky(const char *name) {
  for (size_t i = 0; i < sizeof risky_env / sizeof *risky_env; i++)
    if (fnmatch(risky_env[i], name, 0) == 0) return 1;
  return 0;
}

/* Whether the rule limits which programs run (commands or argv, not
 * "*"): then the environment must not change what they do. */
static int constrains_programs(const gxd_policy_rule *r) {
  return (r->allow & (GXD_POL_A_COMMANDS | GXD_POL_A_ARGV)) &&
         !in_list(&r->commands, "*");
}

/* allow.env; without it, a rule that constrains programs lets the client
 * set no variable at all (an allowed script run with BASH_ENV or
 * LD_PRELOAD would be any program). */
static int check_env(const gxd_policy_rule *r, const gxd_policy_ask *a,
                     char *why, size_t len) {
  char q[QUOTE_MAX + 1];
  int constrained = constrains_programs(r);
  for (size_t i = 0; i < a->nenv; i++) {
    const char *n = a->env_names[i];
    if (!(r->allow & GXD_POL_A_ENV) && !constrained) continue;
    if (!(r->allow & GXD_POL_A_ENV))
      return refuse(r, why, len, "does not allow env '%s' (its programs are "
                    "constrained: list the variables it may set in "
                    "allow.env)", quote(n, q));
    if (!any_glob(&r->env, n))
      return refuse(r, why, len, "does not allow env '%s'", quote(n, q));
    if (constrained && risky(n) && !in_list(&r->env, n))
      return refuse(r, why, len, "does not allow env '%s' (it changes what "
                    "the allowed programs run: allow.env must name it "
                    "exactly)", quote(n, q));
  }
  return GX_STATUS_OK;
}

/* Whether @p p is an absolute path written canonically: no empty, "."
 * or ".." component, no trailing '/' (but "/" itself). */
static int canonical(const char *p) {
  if (p[0] != '/') return 0;
  if (p[1] == '\0') return 1;
  for (const char *c = p; *c;) {
    const char *next = strchrnul(c + 1, '/');
    size_t n = (size_t)(next - c - 1); /* the component after c */
    if (n == 0 || (n == 1 && c[1] == '.') ||
        (n == 2 && c[1] == '.' && c[2] == '.'))
      return 0;
    c = next;
  }
  return 1;
}

static int check_cwd(const gxd_policy_rule *r, const gxd_policy_ask *a,
                     char *why, size_t len) {
  char q[QUOTE_MAX + 1];
  const char *cwd = *a->cwd ? a->cwd : "/";
  if (!(r->allow & GXD_POL_A_CWD)) return GX_STATUS_OK;
  if (!canonical(cwd))
    return refuse(r, why, len, "does not allow cwd '%s' (not canonical)",
                  quote(cwd, q));
  if (!any_glob(&r->cwd, cwd))
    return refuse(r, why, len, "does not allow cwd '%s'", quote(cwd, q));
  return GX_STATUS_OK;
}

/* ------------------------------------------------------------ command */

/* Whether the run's arguments (argv[1..]) match pattern @p pat's. */
static int args_match(const gxd_pol_list *pat, const gxd_policy_ask *a) {
  size_t j = 1;
  for (size_t i = 1; i < pat->n; i++, j++) {
    if (i + 1 == pat->n && strcmp(pat->v[i], "**") == 0) return 1;
    if (j >= a->argc || fnmatch(pat->v[i], a->argv[j], 0) != 0) return 0;
  }
  return j == a->argc;
}

/* Appends a copy of @p s to the grant's allow list (room known). */
static int add_allow(gxd_policy_grant *g, const char *s) {
  if (!(g->allow[g->allowc] = strdup(s))) return -1;
  g->allowc++;
  return 0;
}

static int check_command(const gxd_policy_rule *r, const gxd_policy_ask *a,
                         gxd_policy_grant *g, char *why, size_t len) {
  char q[QUOTE_MAX + 1];
  if (!(r->allow & (GXD_POL_A_COMMANDS | GXD_POL_A_ARGV)) ||
      in_list(&r->commands, "*"))
    return GX_STATUS_OK;
  if (!(g->allow = calloc(r->commands.n + r->nargv + 1, sizeof *g->allow)))
    return out_of_memory(why, len);
  for (size_t i = 0; i < r->commands.n; i++)
    if (add_allow(g, r->commands.v[i]) != 0) return out_of_memory(why, len);
  for (size_t i = 0; i < r->nargv; i++)
    if (args_match(&r->argv[i], a) && add_allow(g, r->argv[i].v[0]) != 0)
      return out_of_memory(why, len);
  if (g->allowc) return GX_STATUS_OK;
  return refuse(r, why, len, "does not allow the command '%s'%s",
                quote(a->argc ? a->argv[0] : "", q),
                r->allow & GXD_POL_A_ARGV ? " with these arguments" : "");
}

/* --------------------------------------------------------------- run */

int gxd_policy_check_run(const gxd_policy_rule *r, const gxd_peer *peer,
                         const gxd_policy_ask *ask, gxd_policy_grant *out,
                         char *why, size_t len) {
  gxd_policy_ask copy = *ask, *a = &copy; /* NULL strings mean "" */
  int rc;
  if (!copy.profile) copy.profile = "";
  if (!copy.user) copy.user = "";
  if (!copy.cwd) copy.cwd = "";
  memset(out, 0, sizeof *out);
  out->rule = r->name;
  if ((rc = check_profile(r, a, out, why, len)) ||
      (rc = check_user(r, peer, a, out, why, len)) ||
      (rc = check_timeout(r, a, out, why, len)) ||
      (rc = check_limits(r, a, out, why, len)) ||
      (rc = check_env(r, a, why, len)) || (rc = check_cwd(r, a, why, len)) ||
      (rc = check_command(r, a, out, why, len)))
    gxd_policy_grant_free(out);
  return rc;
}

void gxd_policy_grant_free(gxd_policy_grant *g) {
  for (size_t i = 0; i < g->allowc; i++) free(g->allow[i]);
  free(g->allow);
  free(g->user);
  memset(g, 0, sizeof *g);
}
