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

/* The TLS options' help, the same in every subcommand's. */
#define TLS_HELP \
    "\n" \
    "TLS, for host:port targets (unix: targets ignore it):\n" \
    "      --ca FILE            verify the daemon's certificate with the CA\n" \
    "                           certificates in FILE (PEM); with a CA, a\n" \
    "                           host:port target is reached over TLS.\n" \
    "                           Default: $GEXEC_CA (none: plaintext)\n" \
    "      --cert FILE          our certificate (PEM), for a daemon that\n" \
    "                           requires one (mTLS); needs --key and a CA.\n" \
    "                           Default: $GEXEC_CERT\n" \
    "      --key FILE           the private key of --cert (PEM, not\n" \
    "                           encrypted). Default: $GEXEC_KEY\n" \
    "      --tls-server-name NAME\n" \
    "                           the name the daemon's certificate must\n" \
    "                           carry, when not the target's host (e.g.\n" \
    "                           connecting by IP address)\n" \
    "Flags override the environment. A TLS failure (the daemon's\n" \
    "certificate failed verification, the daemon refused ours, a file\n" \
    "that cannot be used) exits 255 with the reason on stderr.\n"

static const char usage_main[] =
    "Usage: gexec COMMAND [OPTION]...\n"
    "Runs commands on a gexecd daemon over gRPC.\n"
    "\n"
    "Commands:\n"
    "  run     run a program on the daemon's host, streaming its stdin,\n"
    "          stdout and stderr, and exit with its exit status\n"
    "  ping    check that the daemon serves; print the round-trip time\n"
    "\n"
    "  -h, --help       show this help and exit\n"
    "  -V, --version    show the version and exit\n"
    "\n"
    "TARGET (-H) is unix:/path or host:port. Default: $GEXEC_TARGET, else\n"
    "unix:$XDG_RUNTIME_DIR" GX_ADDR_DEFAULT_SUBPATH ", else\n"
    "unix:" GX_ADDR_DEFAULT_RUN_DIR GX_ADDR_DEFAULT_SUBPATH ".\n"
    "'gexec COMMAND --help' describes a command's options and exit\n"
    "statuses. A usage error exits with status 2.\n";

static const char usage_run[] =
    "Usage: gexec run [OPTION]... [--] PROGRAM [ARG]...\n"
    "Runs PROGRAM on the daemon's host. Our stdin goes to its stdin (EOF\n"
    "included, binary-safe); its stdout and stderr come to ours as they\n"
    "arrive. Options end at PROGRAM: everything after it is its own.\n"
    "\n"
    "  -H, --target TARGET      daemon address: unix:/path or host:port\n"
    "                           (default $GEXEC_TARGET, else the default\n"
    "                           socket; see gexec --help)\n"
    "  -t, --timeout DUR        the daemon stops the run after DUR (30s,\n"
    "                           1.5, 500ms, 2m); 0 = the daemon's maximum\n"
    "                           (the default)\n"
    "      --kill-grace DUR     time between SIGTERM and SIGKILL when the\n"
    "                           run is stopped (default: the daemon's)\n"
    "  -C, --cwd DIR            working directory, absolute (default /)\n"
    "  -e, --env NAME=VALUE     set a variable in the run's environment;\n"
    "                           repeatable (at most 1024)\n"
    "  -u, --user USER          run as USER (a name) on the daemon's host:\n"
    "                           its uid, groups and passwd HOME, USER,\n"
    "                           LOGNAME and SHELL (restricted: uid 1000\n"
    "                           inside, USER outside). Default: the\n"
    "                           daemon's. Unknown users are refused (255)\n"
    "  -n, --no-stdin           the run's stdin is /dev/null; ours is not\n"
    "                           read\n"
    "      --merge-stderr       the run's stderr goes into its stdout (one\n"
    "                           pipe, so the order is the program's own)\n"
    "      --json               capture the output; print one JSON object\n"
    "                           (below) instead of streaming\n"
    "  -v, --verbose            print the isolation in force on stderr\n"
    "                           (gexec: isolation: ...) once the run started\n"
    "      --tty                reserved for terminal sessions (a remote\n"
    "                           pty); not supported yet: a usage error\n"
    "  -h, --help               show this help and exit\n"
    TLS_HELP
    "\n"
    "Isolation and limits (enforced by the daemon):\n"
    "      --profile NAME       isolation profile: host (none), baseline\n"
    "                           (own PID, IPC, UTS and mount namespaces),\n"
    "                           restricted (also: uid 1000 in a user\n"
    "                           namespace, read-only root with a private\n"
    "                           /tmp, no network, no capabilities, seccomp,\n"
    "                           no_new_privs), or any name the daemon\n"
    "                           defines; it refuses unknown ones. Default:\n"
    "                           the daemon's (--default-profile)\n"
    "      --memory SIZE        memory limit (32M); past it the run is\n"
    "                           OOM-killed (status 137)\n"
    "      --pids N             most processes and threads at once\n"
    "      --cpu-time DUR       CPU time limit (10s, 1.5, 2m); past it\n"
    "                           SIGXCPU, then SIGKILL\n"
    "      --open-files N       most open file descriptors (RLIMIT_NOFILE)\n"
    "Limits must be positive; an unset limit is the profile's default.\n"
    "The daemon caps each limit at its own maximum (gexecd --max-memory,\n"
    "--max-pids, --max-cpu-time, --max-open-files), so a larger value\n"
    "gives that maximum. The daemon may provide a weaker tier than a\n"
    "profile asks for on a host lacking a mechanism: -v and --json show\n"
    "what was in force.\n"
    "\n" GX_UNITS_DUR_HELP GX_UNITS_SIZE_HELP
    "\n"
    "Signals: the first SIGINT (Ctrl-C), SIGTERM or SIGHUP is forwarded to\n"
    "the run. A second one cancels the run (the daemon kills it) and gexec\n"
    "exits with 128+signal (130 for Ctrl-C); a third exits at once.\n"
    "\n"
    "Exit status (the same with --json):\n"
    "  N       the program exited with N\n"
    "  128+N   the program was killed by signal N\n"
    "          (137 = SIGKILL, also when the memory limit's OOM killer\n"
    "          ended it: gexec then notes it on stderr)\n"
    "  124     the run timed out (-t)\n"
    "  126     the program is not executable or not permitted\n"
    "  127     the program was not found\n"
    "  141     our stdout or stderr is a closed pipe: the run is cancelled\n"
    "          and gexec exits as if killed by SIGPIPE, silently\n"
    "  2       usage error\n"
    "  255     cannot connect, transport or protocol error, or any other\n"
    "          refusal by the daemon; the reason is printed on stderr\n"
    "\n"
    "--json prints one line: {\"target\", \"argv\", \"exit_code\", "
    "\"signal\",\n"
    "\"core_dumped\", \"timed_out\", \"oom_killed\", \"output_truncated\",\n"
    "\"pid\", \"user_time_us\", \"system_time_us\", \"max_rss_kb\",\n"
    "\"wall_time_us\", \"isolation\", \"stdout\", \"stderr\", \"error\"}.\n"
    "exit_code is null when the program was killed by a signal, signal is\n"
    "null when it was not; the run's fields are null when it did not end\n"
    "(see error). isolation is {\"profile\", \"namespaces\": [names],\n"
    "\"cgroup\": \"v2\", \"v1\" or null, \"seccomp\", \"uid\",\n"
    "\"read_only_root\", \"no_new_privs\", \"description\"}, or null when\n"
    "the run did not end or the daemon reported none. error is null or\n"
    "{\"status\": a gRPC status name, \"code\": its number, \"message\"};\n"
    "failures on our side get the closest status (cannot connect:\n"
    "UNAVAILABLE; cancelled by a signal: CANCELLED). stdout and stderr are\n"
    "UTF-8 strings: when a stream is not valid UTF-8, each invalid sequence\n"
    "becomes U+FFFD there and the exact bytes are added, base64-encoded, as\n"
    "\"stdout_base64\" / \"stderr_base64\". Each stream is captured up to\n"
    "16 MiB; past that the rest is dropped and output_truncated is true.\n";

static const char usage_ping[] =
    "Usage: gexec ping [-H TARGET] [-c COUNT] [-t DUR] [TLS OPTION]...\n"
    "Asks the daemon's health service (grpc.health.v1) whether it serves\n"
    "and prints the round-trip time; COUNT pings are sent back to back.\n"
    "\n"
    "  -H, --target TARGET    daemon address (default: as for gexec run)\n"
    "  -c, --count COUNT      number of pings, 1..100000 (default 1)\n"
    "  -t, --timeout DUR      how long to wait for each reply (default 5s)\n"
    "  -h, --help             show this help and exit\n"
    TLS_HELP
    "\n" GX_UNITS_DUR_HELP
    "\n"
    "Exit status: 0 when every ping found the daemon SERVING; 255 when one\n"
    "did not or the daemon cannot be reached (the reason is printed on\n"
    "stderr); 2 on a usage error.\n";

const char *gxc_usage_main(void) { return usage_main; }
const char *gxc_usage_run(void) { return usage_run; }
const char *gxc_usage_ping(void) { return usage_ping; }

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
  OPT_TTY
};

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
  switch (c) {
    case 'H': a->target = arg; return 0;
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
      TLS_OPTIONS,
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  static const char optstring[] = "+:H:t:C:e:u:nvh";
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
  return 0;
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
  optind = 0; /* full re-initialisation of GNU getopt */
  opterr = 0;
  if (argc < 2) {
    snprintf(why, why_len, "missing command (run or ping)");
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
  return parse_top(argv[1], out, why, why_len);
}
