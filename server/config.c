#include "server/config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/gx_addr.h"
#include "lib/gx_units.h"
#include "lib/rpc.h"

#ifndef GEXEC_VERSION
#define GEXEC_VERSION "0.1.0"
#endif

const char *gxd_config_version(void) { return GEXEC_VERSION; }

static const char usage[] =
    "Usage: gexecd [OPTION]...\n"
    "Runs commands for gexec clients over gRPC (service gexec.v1.Exec).\n"
    "\n"
    "  -l, --listen ADDR        listen on ADDR: unix:/path, host[:port] or\n"
    "                           [v6-address][:port] (port default "
    GX_ADDR_DEFAULT_PORT_TEXT ");\n"
    "                           repeatable. A TCP address other than loopback\n"
    "                           needs --tls-cert, --tls-key, --tls-client-ca\n"
    "                           and --policy.\n"
    "                           Default: unix:$XDG_RUNTIME_DIR"
    GX_ADDR_DEFAULT_SUBPATH ",\n"
    "                           or unix:" GX_ADDR_DEFAULT_RUN_DIR
    GX_ADDR_DEFAULT_SUBPATH " (socket mode 0600)\n"
    "      --socket-group NAME  unix sockets get mode 0660 and group NAME:\n"
    "                           its members may connect (default: 0600,\n"
    "                           the daemon's user only)\n"
    "      --max-sessions N     concurrent runs; more are refused with\n"
    "                           RESOURCE_EXHAUSTED (default 1024)\n"
    "      --max-timeout DUR    longest run allowed; also the timeout of runs\n"
    "                           that ask for none (default 24h)\n"
    "      --kill-grace DUR     default time between SIGTERM and SIGKILL when\n"
    "                           a run is stopped (default 5s)\n"
    "      --start-timeout DUR  how long a new stream may take to send its\n"
    "                           start message (default 10s)\n"
    "      --max-message SIZE   largest message accepted from a client\n"
    "                           (default 4M)\n"
    "      --log-level LEVEL    debug, info, warn or error (default info)\n"
    "\n"
    "Connection-level protection (see README):\n"
    "      --max-sessions-per-identity N  runs one caller identity may hold\n"
    "                           at once (default: --max-sessions)\n"
    "      --max-pending-starts N  streams one connection may have waiting\n"
    "                           for their start message; they take no\n"
    "                           session slot (default: the identity's\n"
    "                           share, so that a client may open all its\n"
    "                           runs at once)\n"
    "      --stream-rate N[/s][,BURST]  new streams a connection may open\n"
    "                           per second, and at once (default\n"
    "                           1000/s,2000); past that they are refused,\n"
    "                           and a connection that goes on opening 5x\n"
    "                           BURST more while refused (HTTP/2 rapid\n"
    "                           reset) is cut off and logged. 'off': none\n"
    "\n"
    "Remote use (see README, \"Run it across machines\"): SIGHUP re-reads\n"
    "the TLS files and the policy and reopens the audit log (a broken file\n"
    "keeps the old one in force, reason logged; live runs are untouched).\n"
    "      --tls-cert FILE      the server's certificate chain (PEM); with\n"
    "                           it every TCP listener speaks TLS\n"
    "      --tls-key FILE       its private key (PEM, unencrypted)\n"
    "      --tls-client-ca FILE  clients must present a certificate signed\n"
    "                           by a CA of FILE (mTLS)\n"
    "      --tls-crl-dir DIR    CRLs (PEM or DER files) of those CAs and\n"
    "                           their intermediates; a client whose\n"
    "                           certificate or chain holds a revoked one\n"
    "                           is refused (UNAUTHENTICATED), and so are\n"
    "                           clients of a CA without a CRL in DIR\n"
    "      --policy FILE        who may run what (JSON, README \"Policy\n"
    "                           file\"). Without it: the daemon's own uid\n"
    "                           and root over the unix socket may do\n"
    "                           anything, every other caller is refused\n"
    "      --audit-log FILE     JSON lines: each run's decision (before\n"
    "                           anything is spawned) and end; a decision\n"
    "                           that cannot be written refuses its run\n"
    "      --audit-sync         fdatasync each record before acting on it\n"
    "      --keepalive-time DUR  ping a connection after DUR without\n"
    "                           traffic, 1s..2h (default 30s)\n"
    "      --keepalive-timeout DUR  close it (stopping its runs) when a\n"
    "                           ping is not answered within DUR, 1s..10m\n"
    "                           (default 10s). Client keepalive pings every\n"
    "                           10s or slower are always accepted\n"
    "\n"
    "Isolation (see README): every run goes through gexec-launch.\n"
    "      --default-profile P  host, baseline (default), restricted or a\n"
    "                           profile of the --profiles file\n"
    "      --profiles FILE      more profiles, defined from the built-ins in\n"
    "                           a JSON file (format: see README)\n"
    "      --allow-profiles LIST  the profiles clients may ask for, comma-\n"
    "                           separated (default: every profile; with\n"
    "                           --default-profile P, P and the profiles\n"
    "                           with all of P's mechanisms); others are\n"
    "                           refused with PERMISSION_DENIED\n"
    "      --require-isolation P  refuse to start unless profile P gets its\n"
    "                           full isolation on this host (repeatable)\n"
    "      --allow-reduced P    serve profile P even when this host gives it\n"
    "                           less than its full isolation (reported per\n"
    "                           run); without it such runs are refused with\n"
    "                           FAILED_PRECONDITION (repeatable)\n"
    "      --disable-mechanism M  treat mechanism M as unavailable: user,\n"
    "                           net, pid, ipc, uts, mount, seccomp, cgroup\n"
    "                           (repeatable; the tier is reported per run)\n"
    "      --max-memory SIZE    cap on a run's memory limit, 8M..1048576G\n"
    "      --max-pids N         cap on a run's pids limit, 2..4194304\n"
    "      --max-cpu-time DUR   cap on a run's CPU time limit, 1ms..8760h\n"
    "      --max-open-files N   cap on a run's open-files limit, 16..1048576\n"
    "                           (or fs.nr_open if lower). A run gets at most\n"
    "                           its cap. Without the flag, a profile's own\n"
    "                           default is its cap (restricted: 1G memory,\n"
    "                           1024 pids, 1024 open files); 0 = no cap\n"
    "      --launcher PATH      gexec-launch (default: beside gexecd)\n"
    "      --launch-mode MODE   fork-server (default: one long-lived\n"
    "                           gexec-launch --serve forks each run's\n"
    "                           launcher) or exec (gexec-launch is\n"
    "                           started for every run)\n"
    "      --instance NAME      names this daemon's cgroup subtree and lock\n"
    "                           (default: from the first --listen address);\n"
    "                           at start-up, runs a previous daemon of the\n"
    "                           same name left behind are killed\n"
    "  -h, --help               show this help and exit\n"
    "      --version            show the version and exit\n"
    "\n"
    GX_UNITS_DUR_HELP
    GX_UNITS_SIZE_HELP
    "Logs are JSON lines on stderr, one per run. SIGTERM or SIGINT drains:\n"
    "no new runs, running ones are stopped (TERM, grace, KILL), exit 0.\n"
    "Calls still open 7 s after the longest grace are cancelled; a daemon\n"
    "still not drained 10 s after that exits 1.\n";

uint64_t gxd_open_files_ceiling(const char *nr_open_path) {
  char buf[32], *end;
  unsigned long long v;
  int fd = open(nr_open_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return GXD_LIMIT_OPEN_FILES_MAX;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0 || buf[0] < '0' || buf[0] > '9') return GXD_LIMIT_OPEN_FILES_MAX;
  buf[n] = '\0';
  errno = 0;
  v = strtoull(buf, &end, 10);
  if (errno || (*end && strcmp(end, "\n")) || v < GXD_LIMIT_OPEN_FILES_MIN ||
      v > GXD_LIMIT_OPEN_FILES_MAX)
    return GXD_LIMIT_OPEN_FILES_MAX;
  return v;
}

static void set_defaults(gxd_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->max_sessions = 1024;
  cfg->limits = gxd_default_limits;
  cfg->limits.max_open_files = gxd_open_files_ceiling("/proc/sys/fs/nr_open");
  cfg->default_grace_ms = 5000;
  cfg->start_timeout_ms = 10000;
  cfg->max_pending_starts = 0; /* the identity's share */
  cfg->stream_rate = 1000;
  cfg->stream_burst = 2000;
  cfg->default_profile = "baseline";
  cfg->max_message_bytes = 4u << 20;
  cfg->log_level = GXD_LOG_INFO;
  cfg->keepalive_time_ms = GX_RPC_KEEPALIVE_TIME_MS;
  cfg->keepalive_timeout_ms = GX_RPC_KEEPALIVE_TIMEOUT_MS;
  gx_addr_default(cfg->default_listen, sizeof cfg->default_listen);
}

static int bad(char *why, size_t len, const char *opt, const char *val,
               const char *expect) {
  snprintf(why, len, "invalid value '%s' for %s: expected %s", val, opt,
           expect);
  return -1;
}

/* A --max-* cap on a run's limit: 0 (no cap) or within min..max, the
 * range Start.limits is held to. @p range describes it for the reason. */
typedef struct {
  const char *opt;
  int duration; /* parsed as a duration (ms), else as a size/number */
  uint64_t min, max;
  const char *range;
} cap_spec;

/* the texts in apply_cap and --help spell these numbers out */
_Static_assert(GXD_LIMIT_MEMORY_MIN == 8ull << 20 &&
                   GXD_LIMIT_MEMORY_MAX == 1048576ull << 30 &&
                   GXD_LIMIT_PIDS_MIN == 2 && GXD_LIMIT_PIDS_MAX == 4194304 &&
                   GXD_LIMIT_CPU_TIME_MIN_MS == 1 &&
                   GXD_LIMIT_CPU_TIME_MAX_MS == 8760ull * 3600 * 1000 &&
                   GXD_LIMIT_OPEN_FILES_MIN == 16 &&
                   GXD_LIMIT_OPEN_FILES_MAX == 1048576,
               "update the texts of --max-memory and the other caps");

static int parse_cap(const cap_spec *c, const char *arg, uint64_t *out,
                     char *why, size_t len) {
  char expect[160];
  uint64_t v;
  int rc = c->duration ? gx_units_parse_duration_ms(arg, &v, NULL)
                       : gx_units_parse_size(arg, &v, NULL);
  if (rc == 0 && (v == 0 || (v >= c->min && v <= c->max))) {
    *out = v ? v : GXD_CAP_NONE;
    return 0;
  }
  snprintf(expect, sizeof expect, "%s, or 0 for no cap", c->range);
  return bad(why, len, c->opt, arg, expect);
}

/* Parses --max-memory, --max-pids, --max-cpu-time, --max-open-files. */
static int apply_cap(gxd_config *cfg, int opt, const char *arg, char *why,
                     size_t len) {
  char files[64];
  snprintf(files, sizeof files, "a number from %llu to %llu",
           (unsigned long long)GXD_LIMIT_OPEN_FILES_MIN,
           (unsigned long long)cfg->limits.max_open_files);
  const cap_spec caps[4] = {
      {"--max-memory", 0, GXD_LIMIT_MEMORY_MIN, GXD_LIMIT_MEMORY_MAX,
       "a size from 8M to 1048576G"},
      {"--max-pids", 0, GXD_LIMIT_PIDS_MIN, GXD_LIMIT_PIDS_MAX,
       "a number from 2 to 4194304"},
      {"--max-cpu-time", 1, GXD_LIMIT_CPU_TIME_MIN_MS,
       GXD_LIMIT_CPU_TIME_MAX_MS, "a duration from 1ms to 8760h (365 days)"},
      {"--max-open-files", 0, GXD_LIMIT_OPEN_FILES_MIN,
       cfg->limits.max_open_files, files},
  };
  uint64_t *dst[4] = {&cfg->max_memory, &cfg->max_pids,
                      &cfg->max_cpu_time_ms, &cfg->max_open_files};
  return parse_cap(&caps[opt - 11], arg, dst[opt - 11], why, len);
}

/* A whole number in 1..max, digits only. */
static int parse_count(const char *s, size_t len, uint32_t max, uint32_t *out) {
  uint64_t v = 0;
  if (len == 0) return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > max) return -1;
  }
  if (v == 0) return -1;
  *out = (uint32_t)v;
  return 0;
}

/* --stream-rate: "off", or N[/s][,BURST] (BURST defaults to 2N). */
static int parse_stream_rate(gxd_config *cfg, const char *arg, char *why,
                             size_t len) {
  static const char expect[] =
      "'off' or N[/s][,BURST], each 1..1000000 (e.g. 1000/s,2000)";
  uint32_t rate, burst;
  if (strcmp(arg, "off") == 0) {
    cfg->stream_rate = cfg->stream_burst = 0;
    return 0;
  }
  const char *comma = strchr(arg, ',');
  size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
  if (n > 2 && strncmp(arg + n - 2, "/s", 2) == 0) n -= 2;
  if (parse_count(arg, n, 1000000, &rate) != 0 ||
      (comma && parse_count(comma + 1, strlen(comma + 1), 1000000, &burst)))
    return bad(why, len, "--stream-rate", arg, expect);
  cfg->stream_rate = rate;
  cfg->stream_burst = comma ? burst : (rate > 500000 ? 1000000 : 2 * rate);
  return 0;
}

/* --socket-group: a group that exists, by name. Its entry (with every
 * member) may be large: the buffer grows up to 1 MiB. */
static int apply_socket_group(gxd_config *cfg, const char *name, char *why,
                              size_t len) {
  struct group gr, *res = NULL;
  char *buf = NULL;
  int err = ERANGE;
  for (size_t n = 16384; err == ERANGE && n <= (1u << 20); n *= 2) {
    char *b = realloc(buf, n);
    if (!b) {
      err = ENOMEM;
      break;
    }
    buf = b;
    err = getgrnam_r(name, &gr, buf, n, &res);
  }
  if (!err && res) {
    cfg->socket_group = name;
    cfg->socket_gid = (uint32_t)gr.gr_gid;
  } else {
    snprintf(why, len, "--socket-group %s: %s", name,
             err ? strerror(err) : "no such group");
  }
  free(buf);
  return !err && res ? 0 : -1;
}

/* Stores one --listen value in @p dst, the default port added to a bare
 * host, if it parses (where it may be is decided once every flag is
 * known: check_exposure). */
static int take_listen(const char *addr, char *dst, char *why, size_t len) {
  gx_addr a;
  char r[300];
  if (gx_addr_with_default_port(addr, dst, GX_ADDR_TEXT_MAX) != 0)
    return snprintf(why, len, "--listen: address '%.64s...' is too long",
                    addr), -1;
  if (gx_addr_parse(dst, &a, r, sizeof r) != 0)
    return snprintf(why, len, "--listen: %s", r), -1;
  return 0;
}

/* The TLS flags come in the combinations tls.h needs. */
static int check_tls(const gxd_config *c, char *why, size_t len) {
  const char *r = NULL;
  if (c->tls_cert && !c->tls_key)
    r = "--tls-cert needs --tls-key";
  else if (c->tls_key && !c->tls_cert)
    r = "--tls-key needs --tls-cert";
  else if (c->tls_client_ca && !c->tls_cert)
    r = "--tls-client-ca needs --tls-cert and --tls-key";
  else if (c->tls_crl_dir && !c->tls_client_ca)
    r = "--tls-crl-dir needs --tls-client-ca (its CRLs revoke client "
        "certificates)";
  if (r) snprintf(why, len, "%s", r);
  return r ? -1 : 0;
}

/* A TCP listener off loopback only with mTLS and a policy: anyone who
 * can reach it could otherwise run commands as the daemon's user. */
static int check_exposure(const gxd_config *c, char *why, size_t len) {
  char missing[96] = "";
  const char *const flags[4] = {c->tls_cert ? NULL : "--tls-cert",
                                c->tls_key ? NULL : "--tls-key",
                                c->tls_client_ca ? NULL : "--tls-client-ca",
                                c->policy_file ? NULL : "--policy"};
  for (int i = 0; i < 4; i++)
    if (flags[i])
      snprintf(missing + strlen(missing), sizeof missing - strlen(missing),
               "%s%s", missing[0] ? ", " : "", flags[i]);
  for (int i = 0; i < c->nlisten && missing[0]; i++) {
    gx_addr a;
    char r[300];
    if (gx_addr_parse(c->listen[i], &a, r, sizeof r) == 0 &&
        a.kind == GX_ADDR_TCP && !a.is_loopback)
      return snprintf(why, len,
                      "--listen %s: a TCP listener on a non-loopback address "
                      "needs mTLS and a policy (anyone on the network could "
                      "run commands); missing %s", c->listen[i], missing),
             -1;
  }
  return 0;
}

/* A keepalive duration: 1s up to @p max_ms (@p max as text). */
static int parse_keepalive(const char *opt, const char *arg, uint64_t max_ms,
                           const char *max, uint32_t *out, char *why,
                           size_t len) {
  uint64_t v;
  char expect[64];
  if (gx_units_parse_duration_ms(arg, &v, NULL) == 0 && v >= 1000 &&
      v <= max_ms) {
    *out = (uint32_t)v;
    return 0;
  }
  snprintf(expect, sizeof expect, "a duration from 1s to %s", max);
  return bad(why, len, opt, arg, expect);
}

/* TLS, policy and keepalive flags. */
static int apply_remote(gxd_config *cfg, int opt, const char *arg, char *why,
                        size_t len) {
  switch (opt) {
    case 40: cfg->tls_cert = arg; return 0;
    case 41: cfg->tls_key = arg; return 0;
    case 42: cfg->tls_client_ca = arg; return 0;
    case 43: cfg->tls_crl_dir = arg; return 0;
    case 44: cfg->policy_file = arg; return 0;
    case 47: cfg->audit_log = arg; return 0;
    case 48: cfg->audit_sync = 1; return 0;
    case 45:
      return parse_keepalive("--keepalive-time", arg, 7200000, "2h",
                             &cfg->keepalive_time_ms, why, len);
    case 46:
      return parse_keepalive("--keepalive-timeout", arg, 600000, "10m",
                             &cfg->keepalive_timeout_ms, why, len);
  }
  return -1;
}

static int apply(gxd_config *cfg, int opt, const char *arg, char *why,
                 size_t len) {
  uint64_t v;
  switch (opt) {
    case 'l':
      if (cfg->nlisten == GXD_MAX_LISTEN)
        return snprintf(why, len, "at most %d --listen", GXD_MAX_LISTEN), -1;
      if (take_listen(arg, cfg->listen[cfg->nlisten], why, len) != 0)
        return -1;
      cfg->nlisten++;
      return 0;
    case 1:
      if (gx_units_parse_size(arg, &v, NULL) || v == 0 || v > 1000000)
        return bad(why, len, "--max-sessions", arg, "1..1000000");
      cfg->max_sessions = v;
      return 0;
    case 2:
      if (gx_units_parse_duration_ms(arg, &v, NULL) || v == 0)
        return bad(why, len, "--max-timeout", arg, "a duration like 24h");
      cfg->limits.max_timeout_ms = v;
      return 0;
    case 3:
      if (gx_units_parse_duration_ms(arg, &v, NULL) ||
          v > cfg->limits.max_grace_ms)
        return bad(why, len, "--kill-grace", arg, "a duration up to 60s");
      cfg->default_grace_ms = (uint32_t)v;
      return 0;
    case 4:
      if (gx_units_parse_size(arg, &v, NULL) || v < 1024 || v > (1u << 30))
        return bad(why, len, "--max-message", arg, "1K..1G");
      cfg->max_message_bytes = v;
      return 0;
    case 6:
      if (gx_units_parse_duration_ms(arg, &v, NULL) || v == 0 || v > 3600000)
        return bad(why, len, "--start-timeout", arg, "a duration up to 1h");
      cfg->start_timeout_ms = v;
      return 0;
    case 50:
      if (gx_units_parse_size(arg, &v, NULL) || v == 0 || v > 1000000)
        return bad(why, len, "--max-sessions-per-identity", arg, "1..1000000");
      cfg->max_sessions_per_identity = v;
      return 0;
    case 51:
      if (gx_units_parse_size(arg, &v, NULL) || v == 0 || v > 1000000)
        return bad(why, len, "--max-pending-starts", arg, "1..1000000");
      cfg->max_pending_starts = (uint32_t)v;
      return 0;
    case 52:
      return parse_stream_rate(cfg, arg, why, len);
    case 7: cfg->launcher = arg; return 0;
    case 8: /* names are checked against the profile table */
      cfg->default_profile = arg;
      cfg->default_profile_set = 1;
      return 0;
    case 19:
      cfg->allow_profiles = arg;
      return 0;
    case 15:
      if (cfg->nallow_reduced == GXD_MAX_PROFILE_FLAGS)
        return bad(why, len, "--allow-reduced", arg, "at most 16");
      cfg->allow_reduced[cfg->nallow_reduced++] = arg;
      return 0;
    case 18:
      cfg->profiles_file = arg;
      return 0;
    case 17:
      if (strcmp(arg, "fork-server") && strcmp(arg, "exec"))
        return bad(why, len, "--launch-mode", arg, "fork-server or exec");
      cfg->launch_exec = strcmp(arg, "exec") == 0;
      return 0;
    case 16:
      cfg->instance = arg;
      return 0;
    case 30:
      return apply_socket_group(cfg, arg, why, len);
    case 9:
      if (cfg->nrequire == 4) return bad(why, len, "--require-isolation", arg, "at most 4");
      cfg->require[cfg->nrequire++] = arg;
      return 0;
    case 10:
      if (!(gxi_mech_find(arg) & GXD_DISABLE_MECHS))
        return bad(why, len, "--disable-mechanism", arg,
                   "user, net, pid, ipc, uts, mount, seccomp or cgroup");
      cfg->disable |= gxi_mech_find(arg);
      return 0;
    case 11: case 12: case 13: case 14:
      return apply_cap(cfg, opt, arg, why, len);
    case 40: case 41: case 42: case 43: case 44: case 45: case 46: case 47:
    case 48:
      return apply_remote(cfg, opt, arg, why, len);
    case 5:
      if (gxd_log_parse_level(arg) < 0)
        return bad(why, len, "--log-level", arg, "debug|info|warn|error");
      cfg->log_level = (gxd_log_level)gxd_log_parse_level(arg);
      return 0;
  }
  return -1;
}

int gxd_config_parse(int argc, char **argv, gxd_config *cfg, char *why,
                     size_t why_len) {
  static const struct option opts[] = {
      {"listen", required_argument, NULL, 'l'},
      {"max-sessions", required_argument, NULL, 1},
      {"max-timeout", required_argument, NULL, 2},
      {"kill-grace", required_argument, NULL, 3},
      {"max-message", required_argument, NULL, 4},
      {"log-level", required_argument, NULL, 5},
      {"start-timeout", required_argument, NULL, 6},
      {"launcher", required_argument, NULL, 7},
      {"default-profile", required_argument, NULL, 8},
      {"require-isolation", required_argument, NULL, 9},
      {"disable-mechanism", required_argument, NULL, 10},
      {"max-memory", required_argument, NULL, 11},
      {"max-pids", required_argument, NULL, 12},
      {"max-cpu-time", required_argument, NULL, 13},
      {"max-open-files", required_argument, NULL, 14},
      {"allow-reduced", required_argument, NULL, 15},
      {"instance", required_argument, NULL, 16},
      {"launch-mode", required_argument, NULL, 17},
      {"profiles", required_argument, NULL, 18},
      {"allow-profiles", required_argument, NULL, 19},
      {"tls-cert", required_argument, NULL, 40},
      {"tls-key", required_argument, NULL, 41},
      {"tls-client-ca", required_argument, NULL, 42},
      {"tls-crl-dir", required_argument, NULL, 43},
      {"policy", required_argument, NULL, 44},
      {"keepalive-time", required_argument, NULL, 45},
      {"keepalive-timeout", required_argument, NULL, 46},
      {"audit-log", required_argument, NULL, 47},
      {"audit-sync", no_argument, NULL, 48},
      {"socket-group", required_argument, NULL, 30},
      {"max-sessions-per-identity", required_argument, NULL, 50},
      {"max-pending-starts", required_argument, NULL, 51},
      {"stream-rate", required_argument, NULL, 52},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  int c;
  set_defaults(cfg);
  optind = 0; /* 0, not 1: also resets glibc's state from an earlier parse */
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":l:h", opts, NULL)) != -1) {
    switch (c) {
      case 'h': fputs(usage, stdout); return GXD_CONFIG_EXIT;
      case 'V': printf("gexecd %s\n", GEXEC_VERSION); return GXD_CONFIG_EXIT;
      case ':':
        snprintf(why, why_len, "option %s needs a value", argv[optind - 1]);
        return -1;
      case '?':
        snprintf(why, why_len, "unknown option '%s' (see --help)",
                 argv[optind - 1]);
        return -1;
      default:
        if (apply(cfg, c, optarg, why, why_len) != 0) return -1;
    }
  }
  if (optind < argc) {
    snprintf(why, why_len, "unexpected argument '%s' (see --help)",
             argv[optind]);
    return -1;
  }
  if (check_tls(cfg, why, why_len) != 0 ||
      check_exposure(cfg, why, why_len) != 0)
    return -1;
  return GXD_CONFIG_RUN;
}
