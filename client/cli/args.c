/* The gexec command line: see args.h and the texts below. */
#include "client/cli/args.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/gx_addr.h"
#include "lib/gx_units.h"

/* Largest -t / ping -t: 10 years, far beyond any daemon's maximum. */
#define MAX_TIMEOUT_MS (10ull * 366 * 24 * 3600 * 1000)
/* Largest --kill-grace that fits the wire's uint32 milliseconds. */
#define MAX_GRACE_MS 4294967295ull


/* Parses a duration (DUR) of at least @p min_ms and at most @p max_ms
 * into *@p ms. Returns 0 or -1 (then *@p ms is untouched). */
static int parse_duration(const char *s, uint64_t min_ms, uint64_t max_ms,
                          uint64_t *ms) {
  uint64_t v;
  if (gx_units_parse_duration_ms(s, &v, NULL) != 0 || v < min_ms ||
      v > max_ms)
    return -1;
  *ms = v;
  return 0;
}

int gxc_check_env(const char *s, char *why, size_t why_len) {
  const char *eq = strchr(s, '=');
  if (!eq) {
    snprintf(why, why_len, "-e '%.200s': expected NAME=VALUE", s);
    return -1;
  }
  if (eq == s) {
    snprintf(why, why_len, "-e '%.200s': empty variable name", s);
    return -1;
  }
  return 0;
}

const char *gxc_pick_target(const char *opt, const char *env) {
  if (opt) return opt;
  if (env && *env) return env;
  return NULL;
}

const char *gxc_target_display(const char *target, const char *xdg_runtime_dir,
                               char *buf, size_t len) {
  if (target)
    snprintf(buf, len, "%s", target);
  else
    gx_addr_default_for(xdg_runtime_dir, buf, len);
  return buf;
}

int gxc_parse_count(const char *s, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (!s || !*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    unsigned d = (unsigned)(*s - '0');
    if (d > max || v > (max - d) / 10) return -1;
    v = v * 10 + d;
  }
  if (v == 0) return -1;
  *out = v;
  return 0;
}

/* Tells whether getopt's last error was about a long option: GNU getopt
 * sets optopt to 0 (unknown) or to the option's val, which for options
 * with a short form is that letter, so look at the argument as well. */
static int error_was_long(char *const *argv, const char *optstring) {
  const char *arg = argv[optind - 1];
  if (optopt == 0 || optopt >= 256) return 1;
  return !strncmp(arg, "--", 2) && strchr(optstring, optopt) != NULL;
}

/* Returns what follows @p prefix + @p shown + ": " in @p msg, or NULL. */
static const char *after(const char *msg, const char *prefix,
                         const char *shown) {
  size_t np = strlen(prefix), ns = strlen(shown);
  if (strncmp(msg, prefix, np) || strncmp(msg + np, shown, ns) ||
      strncmp(msg + np + ns, ": ", 2))
    return NULL;
  return msg + np + ns + 2;
}

const char *gxc_strip_target(const char *msg, const char *shown) {
  const char *rest = after(msg, "cannot connect to ", shown);
  if (!rest) rest = after(msg, "", shown);
  return rest && *rest ? rest : msg;
}

/* Reports an option getopt rejected ('?' unknown, ':' missing value). */
static int bad_option(int c, char *const *argv, const char *optstring,
                      char *why, size_t len) {
  const char *arg = argv[optind - 1];
  const char *what = c == ':' ? "option %s needs a value"
                              : "unknown option %s";
  char name[64];
  if (error_was_long(argv, optstring)) {
    int n = (int)strcspn(arg, "=");
    snprintf(name, sizeof name, "'%.*s'", n < 50 ? n : 50, arg);
    if (c == '?' && optopt != 0) what = "option %s takes no value";
  } else {
    snprintf(name, sizeof name, "'-%c'", optopt);
  }
  snprintf(why, len, what, name);
  return -1;
}

static int bad_value(const char *opt, const char *val, const char *expect,
                     char *why, size_t len) {
  snprintf(why, len, "invalid value '%.100s' for %s: expected %s", val, opt,
           expect);
  return -1;
}

static int add_env(gxc_args *a, const char *val, char *why, size_t len) {
  if (gxc_check_env(val, why, len) != 0) return -1;
  if (a->nenv == GXC_MAX_ENV) {
    snprintf(why, len, "too many -e options (at most %d)", GXC_MAX_ENV);
    return -1;
  }
  a->env[a->nenv++] = val;
  a->env[a->nenv] = NULL;
  return 0;
}

/* Long-only options: TLS (every subcommand), then `run`'s. */
enum {
  OPT_CA = 256,
  OPT_CERT,
  OPT_KEY,
  OPT_TLS_NAME,
  OPT_MERGE,
  OPT_JSON,
  OPT_GRACE,
  OPT_PROFILE,
  OPT_MEMORY,
  OPT_PIDS,
  OPT_CPU_TIME,
  OPT_OPEN_FILES,
  OPT_TTY,
  OPT_CONNECT_TIMEOUT,
  OPT_DEADLINE,
  OPT_DIFF,
  OPT_OUTDIR,
  OPT_STDIN,
  OPT_STDIN_TIMEOUT,
  OPT_GROUPS_FILE,
  OPT_ALL_FS
};

/* The fleet options, in the tables of `run` and `facts`. */
#define FLEET_OPTIONS                                                   \
  {"targets", required_argument, NULL, 'w'},                           \
      {"exclude", required_argument, NULL, 'x'},                       \
      {"fanout", required_argument, NULL, 'f'},                        \
      {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT}, \
      {"deadline", required_argument, NULL, OPT_DEADLINE},             \
      {"diff", no_argument, NULL, OPT_DIFF},                           \
      {"groups-file", required_argument, NULL, OPT_GROUPS_FILE}

/* Appends a -w or -x value to @p list. */
static int add_targets(const char **list, size_t *n, const char *opt,
                       const char *arg, char *why, size_t len) {
  if (!*arg) {
    snprintf(why, len, "%s: empty target list", opt);
    return -1;
  }
  if (*n == GXC_MAX_TARGET_OPTS) {
    snprintf(why, len, "too many %s options (at most %d)", opt,
             GXC_MAX_TARGET_OPTS);
    return -1;
  }
  list[(*n)++] = arg;
  list[*n] = NULL;
  return 0;
}

/* Applies one fleet option; returns 1 if @p c is not one. */
static int apply_fleet(gxc_args *a, int c, const char *arg, char *why,
                       size_t len) {
  switch (c) {
    case 'w': a->fleet = 1; return add_targets(a->wtargets, &a->nw, "-w",
                                               arg, why, len);
    case 'x': return add_targets(a->xtargets, &a->nx, "-x", arg, why, len);
    case 'f':
      if (gxc_parse_count(arg, GXC_MAX_FANOUT, &a->fanout) != 0)
        return bad_value("-f", arg, "a count from 1 to 4096", why, len);
      return 0;
    case OPT_CONNECT_TIMEOUT:
      if (parse_duration(arg, 1, MAX_TIMEOUT_MS, &a->connect_timeout_ms))
        return bad_value("--connect-timeout", arg,
                         "a duration > 0, like 5s, 0.5 or 500ms", why, len);
      return 0;
    case OPT_DEADLINE:
      if (parse_duration(arg, 1, MAX_TIMEOUT_MS, &a->deadline_ms) != 0)
        return bad_value("--deadline", arg,
                         "a duration > 0, like 60s, 1.5 or 2m", why, len);
      return 0;
    case OPT_DIFF: a->diff = 1; return 0;
    case OPT_GROUPS_FILE:
      if (!*arg) return bad_value("--groups-file", arg, "a file name", why,
                                  len);
      a->groups_file = arg;
      return 0;
  }
  return 1;
}

/* The TLS options, in every subcommand's table. */
#define TLS_OPTIONS                                        \
  {"ca", required_argument, NULL, OPT_CA},                 \
      {"cert", required_argument, NULL, OPT_CERT},         \
      {"key", required_argument, NULL, OPT_KEY},           \
      {"tls-server-name", required_argument, NULL, OPT_TLS_NAME}

/* Applies one TLS option; returns 1 if @p c is not one. */
static int apply_tls(gxc_args *a, int c, const char *arg, char *why,
                     size_t len) {
  const char **slot = c == OPT_CA     ? &a->ca
                      : c == OPT_CERT ? &a->cert
                      : c == OPT_KEY  ? &a->key
                      : c == OPT_TLS_NAME ? &a->tls_server_name
                                          : NULL;
  if (!slot) return 1;
  if (!*arg || strlen(arg) > (c == OPT_TLS_NAME ? 253u : 4096u))
    return bad_value(c == OPT_CA     ? "--ca"
                     : c == OPT_CERT ? "--cert"
                     : c == OPT_KEY  ? "--key"
                                     : "--tls-server-name",
                     arg, c == OPT_TLS_NAME
                              ? "a host name or address (at most 253 bytes)"
                              : "a file name (at most 4096 bytes)",
                     why, len);
  *slot = arg;
  return 0;
}

/* Applies one isolation option of `run` (--profile and the limits). */
static int apply_isolation(gxc_args *a, int c, const char *arg, char *why,
                           size_t len) {
  uint64_t v;
  switch (c) {
    case OPT_PROFILE:
      if (!*arg)
        return bad_value("--profile", arg,
                         "a profile name, like baseline or restricted", why,
                         len);
      a->profile = arg;
      return 0;
    case OPT_MEMORY:
      if (gx_units_parse_size(arg, &v, NULL) != 0 || v == 0)
        return bad_value("--memory", arg,
                         "a size > 0 in bytes, or with a K, M or G suffix, "
                         "like 512M",
                         why, len);
      a->memory_bytes = v;
      return 0;
    case OPT_PIDS:
      if (gxc_parse_count(arg, UINT64_MAX, &a->pids) != 0)
        return bad_value("--pids", arg, "a whole number > 0", why, len);
      return 0;
    case OPT_CPU_TIME:
      if (parse_duration(arg, 1, MAX_TIMEOUT_MS, &a->cpu_time_ms) != 0)
        return bad_value("--cpu-time", arg,
                         "a duration > 0, like 10s, 1.5 or 500ms", why, len);
      return 0;
    case OPT_OPEN_FILES:
      if (gxc_parse_count(arg, UINT64_MAX, &a->open_files) != 0)
        return bad_value("--open-files", arg, "a whole number > 0", why, len);
      return 0;
  }
  snprintf(why, len, "internal error: option %d", c);
  return -1;
}

/* Applies one option of `run`. */
static int apply_run(gxc_args *a, int c, const char *arg, char *why,
                     size_t len) {
  uint64_t v;
  int tls = apply_tls(a, c, arg, why, len);
  if (tls != 1) return tls;
  if ((tls = apply_fleet(a, c, arg, why, len)) != 1) return tls;
  switch (c) {
    case 'H': a->target = arg; return 0;
    case 'b': a->gather = 1; return 0;
    case OPT_OUTDIR:
      if (!*arg) return bad_value("--outdir", arg, "a directory", why, len);
      a->outdir = arg;
      return 0;
    case OPT_STDIN: a->send_stdin = 1; return 0;
    case OPT_STDIN_TIMEOUT:
      if (parse_duration(arg, 0, MAX_TIMEOUT_MS, &a->stdin_timeout_ms))
        return bad_value("--stdin-timeout", arg,
                         "a duration, like 30s, 1.5 or 0 (never)", why, len);
      return 0;
    case 'C': a->cwd = arg; return 0;
    case 'e': return add_env(a, arg, why, len);
    case 'u':
      if (!*arg) return bad_value("-u", arg, "a user name", why, len);
      a->user = arg;
      return 0;
    case 'n': a->stdin_null = 1; return 0;
    case 'v': a->verbose = 1; return 0;
    case OPT_MERGE: a->merge_stderr = 1; return 0;
    case OPT_JSON: a->json = 1; return 0;
    case OPT_TTY:
      snprintf(why, len, "--tty: terminal sessions are not supported yet");
      return -1;
    case 't':
      if (parse_duration(arg, 0, MAX_TIMEOUT_MS, &a->timeout_ms) != 0)
        return bad_value("-t", arg, "a duration, like 30s, 1.5 or 500ms",
                         why, len);
      return 0;
    case OPT_GRACE:
      if (parse_duration(arg, 0, MAX_GRACE_MS, &v) != 0)
        return bad_value("--kill-grace", arg,
                         "a duration, like 5s, 0.5 or 500ms", why, len);
      a->kill_grace_ms = (uint32_t)v;
      return 0;
  }
  return apply_isolation(a, c, arg, why, len);
}

/* Names the first fleet-only option given without -w, or NULL. */
static const char *fleet_only(const gxc_args *a) {
  if (a->nx) return "-x";
  if (a->gather) return a->diff ? "--diff" : "-b";
  if (a->outdir) return "--outdir";
  if (a->send_stdin) return "--stdin";
  if (a->fanout) return "-f";
  if (a->deadline_ms) return "--deadline";
  if (a->groups_file) return "--groups-file";
  return NULL;
}

/* Checks the combinations of the mode options once all are parsed. */
static int check_modes(gxc_args *a, char *why, size_t len) {
  const char *only = fleet_only(a);
  if (a->fleet && a->target) {
    snprintf(why, len, "-H and -w cannot be used together (-H: one host, "
                       "byte-exact; -w: a fleet)");
    return -1;
  }
  if (!a->fleet && only) {
    snprintf(why, len, "%s needs -w (fleet mode)", only);
    return -1;
  }
  if (a->gather && a->json) {
    snprintf(why, len, "--json cannot be combined with %s",
             a->diff ? "--diff" : "-b");
    return -1;
  }
  if (a->send_stdin && a->stdin_null) {
    snprintf(why, len, "--stdin and -n cannot be used together");
    return -1;
  }
  if (!a->fanout) a->fanout = GXC_DEFAULT_FANOUT;
  return 0;
}

static int parse_run(int argc, char *const *argv, gxc_args *a, char *why,
                     size_t len) {
  static const struct option opts[] = {
      {"target", required_argument, NULL, 'H'},
      {"timeout", required_argument, NULL, 't'},
      {"cwd", required_argument, NULL, 'C'},
      {"env", required_argument, NULL, 'e'},
      {"user", required_argument, NULL, 'u'},
      {"no-stdin", no_argument, NULL, 'n'},
      {"merge-stderr", no_argument, NULL, OPT_MERGE},
      {"json", no_argument, NULL, OPT_JSON},
      {"kill-grace", required_argument, NULL, OPT_GRACE},
      {"verbose", no_argument, NULL, 'v'},
      {"profile", required_argument, NULL, OPT_PROFILE},
      {"memory", required_argument, NULL, OPT_MEMORY},
      {"pids", required_argument, NULL, OPT_PIDS},
      {"cpu-time", required_argument, NULL, OPT_CPU_TIME},
      {"open-files", required_argument, NULL, OPT_OPEN_FILES},
      {"tty", no_argument, NULL, OPT_TTY},
      {"gather", no_argument, NULL, 'b'},
      {"outdir", required_argument, NULL, OPT_OUTDIR},
      {"stdin", no_argument, NULL, OPT_STDIN},
      {"stdin-timeout", required_argument, NULL, OPT_STDIN_TIMEOUT},
      FLEET_OPTIONS,
      TLS_OPTIONS,
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  static const char optstring[] = "+:H:t:C:e:u:nvhw:x:f:b";
  int c;
  while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
    if (c == 'h') return a->cmd = GXC_CMD_RUN_HELP, 0;
    if (c == '?' || c == ':') return bad_option(c, argv, optstring, why, len);
    if (apply_run(a, c, optarg, why, len) != 0) return -1;
  }
  if (optind >= argc) {
    snprintf(why, len, "missing PROGRAM");
    return -1;
  }
  a->prog = argv + optind;
  a->prog_argc = argc - optind;
  if (a->diff) a->gather = 1;
  return check_modes(a, why, len);
}

/* Parses a decimal count in 1..max, digits only. */
static int parse_count(const char *s, int max, int *out) {
  long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
    if (v > max) return -1;
  }
  if (v == 0) return -1;
  *out = (int)v;
  return 0;
}

/* Applies one option of `ping`. */
static int apply_ping(gxc_args *a, int c, const char *arg, char *why,
                      size_t len) {
  int tls = apply_tls(a, c, arg, why, len);
  if (tls != 1) return tls;
  switch (c) {
    case 'H': a->target = arg; return 0;
    case 'c':
      if (parse_count(arg, GXC_MAX_PING_COUNT, &a->ping_count) != 0)
        return bad_value("-c", arg, "a count from 1 to 100000", why, len);
      return 0;
    case 't':
      if (parse_duration(arg, 1, MAX_TIMEOUT_MS, &a->ping_timeout_ms) != 0)
        return bad_value("-t", arg, "a duration > 0, like 5s, 0.5 or 500ms",
                         why, len);
      return 0;
  }
  snprintf(why, len, "internal error: option %d", c);
  return -1;
}

static int parse_ping(int argc, char *const *argv, gxc_args *a, char *why,
                      size_t len) {
  static const struct option opts[] = {
      {"target", required_argument, NULL, 'H'},
      {"count", required_argument, NULL, 'c'},
      {"timeout", required_argument, NULL, 't'},
      TLS_OPTIONS,
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  static const char optstring[] = "+:H:c:t:h";
  int c;
  while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
    if (c == 'h') return a->cmd = GXC_CMD_PING_HELP, 0;
    if (c == '?' || c == ':') return bad_option(c, argv, optstring, why, len);
    if (apply_ping(a, c, optarg, why, len) != 0) return -1;
  }
  if (optind < argc) {
    snprintf(why, len, "unexpected argument '%.100s'", argv[optind]);
    return -1;
  }
  return 0;
}

/* Applies one option of `facts`. */
static int apply_facts(gxc_args *a, int c, const char *arg, char *why,
                       size_t len) {
  int r = apply_tls(a, c, arg, why, len);
  if (r != 1) return r;
  if ((r = apply_fleet(a, c, arg, why, len)) != 1) return r;
  switch (c) {
    case 'H': a->target = arg; return 0;
    case OPT_JSON: a->json = 1; return 0;
    case OPT_ALL_FS: a->all_filesystems = 1; return 0;
    case 't':
      if (parse_duration(arg, 1, MAX_TIMEOUT_MS, &a->timeout_ms) != 0)
        return bad_value("-t", arg, "a duration > 0, like 5s, 0.5 or 500ms",
                         why, len);
      return 0;
  }
  snprintf(why, len, "internal error: option %d", c);
  return -1;
}

static int parse_facts(int argc, char *const *argv, gxc_args *a, char *why,
                       size_t len) {
  static const struct option opts[] = {
      {"target", required_argument, NULL, 'H'},
      {"timeout", required_argument, NULL, 't'},
      {"json", no_argument, NULL, OPT_JSON},
      {"all-filesystems", no_argument, NULL, OPT_ALL_FS},
      FLEET_OPTIONS,
      TLS_OPTIONS,
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  static const char optstring[] = ":H:t:w:x:f:h";
  int c;
  while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
    if (c == 'h') return a->cmd = GXC_CMD_FACTS_HELP, 0;
    if (c == '?' || c == ':') return bad_option(c, argv, optstring, why, len);
    if (apply_facts(a, c, optarg, why, len) != 0) return -1;
  }
  if (optind < argc) {
    a->prog = argv + optind;
    a->prog_argc = argc - optind;
  }
  if (!a->fleet && a->diff) {
    snprintf(why, len, "--diff needs -w (fleet mode)");
    return -1;
  }
  return check_modes(a, why, len);
}

/* Handles a first argument that is not a command. */
static int parse_top(const char *arg, gxc_args *a, char *why, size_t len) {
  if (!strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "help"))
    return a->cmd = GXC_CMD_HELP, 0;
  if (!strcmp(arg, "-V") || !strcmp(arg, "--version"))
    return a->cmd = GXC_CMD_VERSION, 0;
  if (arg[0] == '-')
    snprintf(why, len, "unknown option '%.100s'", arg);
  else
    snprintf(why, len, "unknown command '%.100s'", arg);
  return -1;
}

int gxc_args_parse(int argc, char *const *argv, gxc_args *out, char *why,
                   size_t why_len) {
  memset(out, 0, sizeof *out);
  out->ping_count = 1;
  out->ping_timeout_ms = GXC_PING_TIMEOUT_MS;
  out->stdin_timeout_ms = GXC_DEFAULT_STDIN_TIMEOUT_MS;
  optind = 0; /* full re-initialisation of GNU getopt */
  opterr = 0;
  if (argc < 2) {
    snprintf(why, why_len, "missing command (run, facts or ping)");
    return -1;
  }
  if (!strcmp(argv[1], "run")) {
    out->cmd = GXC_CMD_RUN;
    return parse_run(argc - 1, argv + 1, out, why, why_len);
  }
  if (!strcmp(argv[1], "ping")) {
    out->cmd = GXC_CMD_PING;
    return parse_ping(argc - 1, argv + 1, out, why, why_len);
  }
  if (!strcmp(argv[1], "facts")) {
    out->cmd = GXC_CMD_FACTS;
    return parse_facts(argc - 1, argv + 1, out, why, why_len);
  }
  return parse_top(argv[1], out, why, why_len);
}
