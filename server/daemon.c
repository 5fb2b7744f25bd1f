#include "server/daemon.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/gx_addr.h"
#include "lib/gx_err.h"
#include "lib/rpc.h"
#include "server/facts.h"
#include "server/health.h"
#include "server/log.h"
#include "server/protect.h"
#include "server/reaper.h"
#include "server/session.h"
#include "server/signals.h"
#include "server/tiers.h"
#include "server/access.h"
#include "server/child.h"
#include "server/tls.h"

enum { METHOD_RUN }; /* Health/Check is a unary method: server/health.c */

/** How long the daemon must be without runs before it trims its heap. */
#define GXD_TRIM_IDLE_MS 1000

/** Draining: calls still open this long after the longest grace of the
 *  runs being stopped are cancelled (a client that reads nothing cannot
 *  hold the daemon): what ending a killed run may take (its launcher's
 *  kill, its pipes' drain) and 3 s to send `exited`... */
#define GXD_DRAIN_SLACK_MS (GXD_LAUNCHER_KILL_MS + GXD_DRAIN_MS + 3000)
/** ...and a daemon still not drained this long after that exits 1. */
#define GXD_DRAIN_GIVE_UP_MS 10000

typedef struct {
  const gxd_config *cfg;
  const gxd_profiles *profiles; /* the profile table */
  uv_loop_t *loop;
  gx_rpc_server *srv;
  gxd_session_ctx sessions;
  gxd_protect protect; /* connection-level protection */
  int protect_ok;
  gxd_signals signals; /* TERM, INT, HUP, CHLD: read on the loop */
  uv_timer_t hard_stop;   /* the drain's bounds */
  uv_timer_t trim;        /* gives freed memory back once idle */
  int draining, rpc_shut_down, stopped;
  int gave_up; /* the drain did not finish: exit 1 without tearing down */
  int signals_ok; /* the signal watcher started: close it */
  char home[256];
  char launcher[4096];
  gxd_tiers tiers;
  gxd_instance instance;
  int instance_open;
  gxd_access *access; /* TLS material, policy, audit log */
  gxd_health health;  /* what Health/Check reads */
  gxd_facts facts;    /* what Facts/Get reads */
} daemon_t;

/* ------------------------------------------------------------ routing */

/* Refusals that need nothing of the caller come first: they cost the
 * least. Then its connection's share (the stream rate if the gate did
 * not see it; streams waiting for start: first, so that the connection
 * of a caller access refuses is accounted and can be cut too), then who
 * it is. Session slots are taken at the start message (session.c). */
static void on_call(void *ud, gx_rpc_call *call, int method) {
  daemon_t *d = ud;
  gxd_caller_info caller;
  gxd_guard_slot slot;
  char why[256];
  int status;
  if (method != METHOD_RUN) {
    gx_rpc_call_finish(call, GX_STATUS_UNIMPLEMENTED,
                       "unknown method; gexecd serves /gexec.v1.Exec/Run, "
                       "/gexec.v1.Facts/Get and /grpc.health.v1.Health/Check");
  } else if (d->draining) {
    gx_rpc_call_finish(call, GX_STATUS_UNAVAILABLE,
                       "gexecd is shutting down; retry on another daemon");
  } else if ((status = gxd_protect_admit_call(&d->protect, call, &slot, why,
                                              sizeof why)) != GX_STATUS_OK) {
    gx_rpc_call_finish(call, status, why);
  } else if (gxd_access_admit_call(d->access, call, &caller)) {
    gxd_session_start(&d->sessions, call, &caller, &slot);
  } else { /* ended: a revoked client certificate, no policy rule */
    gxd_protect_release(&d->protect, &slot);
  }
}

/* ----------------------------------------------------------- draining */

static void maybe_stop(daemon_t *d) {
  if (!d->draining || !d->rpc_shut_down || d->sessions.allocated > 0 ||
      d->stopped)
    return;
  d->stopped = 1;
  uv_stop(d->loop);
}

static void on_rpc_shut_down(void *ud) {
  daemon_t *d = ud;
  d->rpc_shut_down = 1;
  maybe_stop(d);
}

/* Idle for GXD_TRIM_IDLE_MS: return the heap's free memory to the
 * kernel (RSS after a burst of runs goes back down instead of staying at
 * its peak). */
static void on_trim(uv_timer_t *t) {
  daemon_t *d = t->data;
  if (d->sessions.allocated == 0) malloc_trim(0);
}

static void on_session_freed(void *ud) {
  daemon_t *d = ud;
  if (d->sessions.allocated == 0 && !d->draining)
    uv_timer_start(&d->trim, on_trim, GXD_TRIM_IDLE_MS, 0);
  maybe_stop(d);
}

/* The last bound: what is left cannot be torn down safely (gRPC still
 * holds calls, or a run's process was never reaped). */
static void on_give_up(uv_timer_t *t) {
  daemon_t *d = t->data;
  if (d->stopped) return; /* drained in this same loop turn */
  gxd_log(GXD_LOG_ERROR,
          "drain did not finish %d ms after cancelling every call (%zu "
          "runs not freed, rpc %s); exiting without cleaning up",
          GXD_DRAIN_GIVE_UP_MS, d->sessions.allocated,
          d->rpc_shut_down ? "shut down" : "not shut down");
  d->gave_up = 1;
  uv_stop(d->loop);
}

static void on_hard_stop(uv_timer_t *t) {
  daemon_t *d = t->data;
  gxd_log(GXD_LOG_WARN,
          "drain took too long: %zu runs still held; cancelling every call",
          d->sessions.allocated);
  gx_rpc_server_cancel_all(d->srv);
  uv_timer_start(&d->hard_stop, on_give_up, GXD_DRAIN_GIVE_UP_MS, 0);
}

static void drain(daemon_t *d, int sig) {
  if (d->draining) return;
  d->draining = 1;
  gxd_log(GXD_LOG_INFO, "signal %d: draining %zu runs", sig, d->sessions.count);
  gx_rpc_server_shutdown(d->srv, on_rpc_shut_down, d);
  gxd_facts_drain(&d->facts);
  gxd_session_stop_all(&d->sessions);
  uv_timer_start(&d->hard_stop, on_hard_stop,
                 gxd_session_max_grace(&d->sessions) + GXD_DRAIN_SLACK_MS, 0);
  maybe_stop(d);
}

/* ------------------------------------------------------------ reload */

/* SIGHUP re-reads what may change without a restart (access.h): TLS
 * files, the policy, the audit log's file. Runs, connections and calls
 * already admitted are untouched. */
static void reload(daemon_t *d) {
  gxd_access_reload(d->access);
  d->sessions.policy = gxd_access_policy(d->access);
}

/* ----------------------------------------------------------- signals */

/* The loop reads the signals every thread blocks (signals.h). */
static void on_signal(void *ud, int sig) {
  daemon_t *d = ud;
  if (sig == SIGCHLD)
    gxd_reaper_poll();
  else if (sig == SIGHUP)
    reload(d);
  else
    drain(d, sig);
}

/* ---------------------------------------------------------- listening */

/* A unix socket path: make its directory, refuse to steal a live one. */
static int prepare_unix(const char *path) {
  char dir[sizeof ((gx_addr *)0)->path];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
      gxd_log(GXD_LOG_ERROR, "cannot create %s: %s", dir, strerror(errno));
      return -1;
    }
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  if (fd >= 0) close(fd);
  if (live) {
    gxd_log(GXD_LOG_ERROR, "%s: another daemon is listening there", path);
    return -1;
  }
  unlink(path); /* a stale socket of a daemon that died */
  return 0;
}

static void on_accept_error(void *ud, int err) {
  (void)ud;
  gxd_log(GXD_LOG_WARN, "accepting a connection failed: %s (pausing; clients "
          "wait)", strerror(err));
}

/* A unix socket whose connections we accept ourselves (each call then
 * knows its peer's pid, uid and gid): mode 0600, or 0660 and the
 * --socket-group. Returns 1 (gx_rpc_server_listen's "port") or 0. */
static int listen_unix(daemon_t *d, const char *path, char *why,
                       size_t len) {
  const gxd_config *c = d->cfg;
  gx_rpc_unix_opts o = {.mode = c->socket_group ? 0660 : 0600,
                        .set_gid = c->socket_group != NULL,
                        .gid = c->socket_gid,
                        .on_accept_error = on_accept_error};
  int rc = gx_rpc_server_listen_unix(d->srv, path, &o);
  snprintf(why, len, "%s", rc == GX_ESYS ? strerror(errno) : gx_strerror(rc));
  return rc == GX_OK;
}

static int listen_one(daemon_t *d, const char *addr) {
  gx_addr a;
  char why[300] = "";
  if (gx_addr_parse(addr, &a, why, sizeof why) != 0) {
    gxd_log(GXD_LOG_ERROR, "%s", why);
    return -1;
  }
  if (a.kind == GX_ADDR_UNIX && prepare_unix(a.path) != 0) return -1;
  why[0] = '\0';
  /* TCP speaks TLS when it is configured; unix sockets stay plaintext */
  const gx_rpc_creds *creds =
      a.kind == GX_ADDR_TCP && gxd_access_tls(d->access)
          ? gxd_tls_creds(gxd_access_tls(d->access))
          : NULL;
  int port = a.kind == GX_ADDR_UNIX
                 ? listen_unix(d, a.path, why, sizeof why)
                 : gx_rpc_server_listen(d->srv, addr, creds);
  if (port <= 0) {
    gxd_log(GXD_LOG_ERROR, "cannot listen on %s: %s", addr,
            why[0] ? why : "refused by gRPC (address in use, or no "
                           "permission)");
    return -1;
  }
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("listening"));
  json_object_object_add(f, "address", json_object_new_string(addr));
  if (a.kind == GX_ADDR_TCP)
    json_object_object_add(f, "port", json_object_new_int(port));
  json_object_object_add(f, "security", json_object_new_string(
      !creds ? "plaintext" : gxd_tls_mtls(gxd_access_tls(d->access)) ? "mtls" : "tls"));
  gxd_log_event(GXD_LOG_INFO, f);
  return 0;
}

static void unlink_sockets(const gxd_config *cfg) {
  for (int i = 0; i < (cfg->nlisten ? cfg->nlisten : 1); i++) {
    gx_addr a;
    char why[300];
    const char *addr = cfg->nlisten ? cfg->listen[i] : cfg->default_listen;
    if (gx_addr_parse(addr, &a, why, sizeof why) == 0 &&
        a.kind == GX_ADDR_UNIX)
      unlink(a.path);
  }
}

/* --------------------------------------------------------------- main */

/* Each run holds up to four pipe fds here (stdin, stdout, stderr, the
 * launcher's records): raise the soft open-file limit so that the
 * session limit, not EMFILE, is what refuses runs. */
static void raise_nofile(const gxd_config *cfg) {
  struct rlimit rl;
  rlim_t need = (rlim_t)cfg->max_sessions * 4 + 256;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need) return;
  rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < need)
    gxd_log(GXD_LOG_WARN,
            "open-file limit %llu allows about %llu concurrent runs, fewer "
            "than --max-sessions %zu",
            (unsigned long long)rl.rlim_cur,
            (unsigned long long)((rl.rlim_cur - 256) / 4), cfg->max_sessions);
}

static int setup(daemon_t *d) {
  /* A connection may hold a little more than the session limit (health
   * checks, calls being refused); further streams queue at the client
   * instead of costing daemon memory. */
  size_t streams = d->cfg->max_sessions + 64;
  gx_rpc_server_opts o = {
      .max_recv_bytes = d->cfg->max_message_bytes,
      .max_streams_per_conn = streams > 0x7fffffff ? 0x7fffffff : (int)streams,
      .keepalive_time_ms = (int)d->cfg->keepalive_time_ms,
      .keepalive_timeout_ms = (int)d->cfg->keepalive_timeout_ms,
      .admit_stream = gxd_protect_admit_stream,
      .admit_ud = &d->protect,
      .max_calls_per_conn = gxd_protect_max_calls(d->cfg)};
  if (gxd_protect_init(&d->protect, d->loop, d->cfg) != 0) return -1;
  d->protect_ok = 1;
  d->sessions.guard = d->protect.sessions;
  if (gx_rpc_server_new(d->loop, &o, &d->srv) != GX_OK) return -1;
  gxd_protect_set_server(&d->protect, d->srv);
  if (gx_rpc_server_add_method(d->srv, "/gexec.v1.Exec/Run") != METHOD_RUN ||
      gxd_health_add(d->srv, &d->health) < 0 ||
      gxd_facts_add(d->srv, &d->facts) < 0)
    return -1;
  const gxd_config *c = d->cfg;
  for (int i = 0; i < (c->nlisten ? c->nlisten : 1); i++)
    if (listen_one(d, c->nlisten ? c->listen[i] : c->default_listen) != 0)
      return -1;
  int rc = gxd_signals_start(&d->signals, d->loop, on_signal, d);
  if (rc != 0) {
    gxd_log(GXD_LOG_ERROR, "signalfd: %s", uv_strerror(rc));
    return -1;
  }
  d->signals_ok = 1;
  uv_timer_init(d->loop, &d->hard_stop);
  uv_timer_init(d->loop, &d->trim);
  d->hard_stop.data = d->trim.data = d;
  return gx_rpc_server_start(d->srv, on_call, d) == GX_OK ? 0 : -1;
}

/* Writes "<directory of /proc/self/exe>/gexec-launch" into @p out. */
static int launcher_beside_self(char *out, size_t len) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe);
  if (n <= 0 || (size_t)n >= sizeof exe) return -1; /* error or truncated */
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  int dir = slash ? (int)(slash - exe) : 0;
  int w = snprintf(out, len, "%.*s/gexec-launch", dir, exe);
  return w < 0 || (size_t)w >= len ? -1 : 0;
}

/* The network namespace we are in, when it is not the host's (pid 1's):
 * test hosts in network namespaces may all use the same address. */
static unsigned long own_netns(void) {
  struct stat self, init;
  if (stat("/proc/self/ns/net", &self) != 0 ||
      stat("/proc/1/ns/net", &init) != 0 || self.st_ino == init.st_ino)
    return 0;
  return (unsigned long)self.st_ino;
}

/* --instance, else a name derived from the first listen address. */
static void instance_name(const gxd_config *c, char *out, size_t len) {
  const char *addr = c->nlisten ? c->listen[0] : c->default_listen;
  gx_addr a;
  char why[300];
  long pid = 0;
  if (c->instance) {
    snprintf(out, len, "%s", c->instance);
    return;
  }
  if (gx_addr_parse(addr, &a, why, sizeof why) == 0 &&
      a.kind == GX_ADDR_TCP && a.port == 0)
    pid = (long)getpid(); /* an ephemeral port names nothing stable */
  gxd_instance_name_from(addr, own_netns(), pid, out, len);
}

/* Finds gexec-launch (beside our own binary unless --launcher; made
 * absolute, since the daemon works in "/"). */
static int find_launcher(daemon_t *d) {
  const gxd_config *c = d->cfg;
  char cwd[PATH_MAX];
  if (!c->launcher) {
    if (launcher_beside_self(d->launcher, sizeof d->launcher) == 0) return 0;
    gxd_log(GXD_LOG_ERROR, "cannot locate gexec-launch beside our binary "
                           "(use --launcher PATH)");
    return -1;
  }
  int n = c->launcher[0] == '/' || !getcwd(cwd, sizeof cwd)
              ? snprintf(d->launcher, sizeof d->launcher, "%s", c->launcher)
              : snprintf(d->launcher, sizeof d->launcher, "%s/%s", cwd,
                         c->launcher);
  if (n < 0 || (size_t)n >= sizeof d->launcher) {
    gxd_log(GXD_LOG_ERROR, "--launcher: path too long");
    return -1;
  }
  return 0;
}

static void init_plan_config(daemon_t *d);

/* Takes the instance (lock, stale runs removed), then probes what
 * isolation this host allows. Runs before gRPC starts any thread. */
static int init_isolation(daemon_t *d) {
  char why[512], name[GXD_INSTANCE_NAME_MAX + 1];
  const gxd_config *c = d->cfg;
  instance_name(c, name, sizeof name);
  if (gxd_instance_open(&d->instance, d->loop, name, why, sizeof why) != 0) {
    gxd_log(GXD_LOG_ERROR, "%s", why);
    return -1;
  }
  d->instance_open = 1;
  if (c->disable & GXI_MECH_CGROUP) d->instance.cgroups = 0;
  if (gxd_tiers_probe(d->launcher, d->profiles, &d->instance.caps,
                      d->instance.name, c->disable, c->require, c->nrequire,
                      &d->tiers, why, sizeof why) != 0) {
    gxd_log(GXD_LOG_ERROR, "isolation: %s", why);
    return -1;
  }
  if (gxd_launcher_new(d->loop, d->launcher,
                       c->launch_exec ? GXD_LAUNCH_EXEC : GXD_LAUNCH_FORK_SERVER,
                       &d->sessions.launcher, why, sizeof why) != 0) {
    gxd_log(GXD_LOG_ERROR, "launcher: %s", why);
    return -1;
  }
  d->sessions.instance = &d->instance;
  init_plan_config(d);
  return 0;
}

/* What the "daemon" group of Facts/Get reports: each profile and the
 * tier the probe found, served as a run's plan would serve it. */
static void init_facts(daemon_t *d) {
  const gxd_plan_config *pc = &d->sessions.plan;
  gxd_facts_src *src = &d->facts.src;
  src->root = "";
  src->live = 1;
  src->version = gxd_config_version();
  for (size_t i = 0; i < d->profiles->n && i < GXD_PROFILES_MAX; i++) {
    const gxd_tier *t = &d->tiers.t[i];
    gxd_facts_profile *p = &src->profiles[src->nprofiles++];
    snprintf(p->name, sizeof p->name, "%s", d->profiles->entry[i].name);
    snprintf(p->tier, sizeof p->tier, "%s", t->usable ? t->desc : "");
    p->full = t->full;
    p->served = t->usable && pc->allowed[i] && (t->full || pc->allow_reduced[i]);
  }
}

/* What every run's plan starts from: the table, as probed, and the
 * operator's choices (names were checked against the table at start-up:
 * gxd_profiles_check_flags). */
static void init_plan_config(daemon_t *d) {
  const gxd_config *c = d->cfg;
  gxd_plan_config *pc = &d->sessions.plan;
  pc->profiles = d->profiles;
  pc->tiers = &d->tiers;
  pc->caps = &d->instance.caps;
  pc->default_profile = (size_t)gxd_profiles_find(d->profiles,
                                                  c->default_profile);
  pc->max_limits = (gxi_limits){c->max_memory, c->max_pids,
                                c->max_cpu_time_ms, c->max_open_files};
  pc->home = d->home;
  pc->default_grace_ms = c->default_grace_ms;
  pc->max_timeout_ms = c->limits.max_timeout_ms;
  for (int i = 0; i < c->nallow_reduced; i++)
    pc->allow_reduced[gxd_profiles_find(d->profiles, c->allow_reduced[i])] = 1;
  /* checked at start-up (main.c): cannot fail here */
  char why[256];
  gxd_profiles_allowed(d->profiles, c, pc->allowed, why, sizeof why);
  for (size_t i = 0; i < d->profiles->n; i++) {
    const gxd_tier *t = &d->tiers.t[i];
    const char *name = d->profiles->entry[i].name;
    if (!t->full && t->usable && !pc->allow_reduced[i])
      gxd_log(GXD_LOG_WARN, "profile %s is not served: its full tier needs %s "
             "(--allow-reduced %s serves it reduced)", name, t->missing,
             name);
  }
  init_facts(d);
}

/* TLS files, policy, audit log: before the daemon moves to "/" (relative
 * names are the operator's cwd's) and before any listener exists. */
static int open_access(daemon_t *d) {
  char why[700];
  if (gxd_access_open(d->loop, d->cfg, d->profiles, &d->access, why,
                      sizeof why) != 0) {
    gxd_log(GXD_LOG_ERROR, "%s", why);
    return -1;
  }
  d->sessions.policy = gxd_access_policy(d->access);
  d->sessions.audit = gxd_access_audit(d->access);
  return 0;
}

/* Health/Check answers carry who the caller is (`gexec ping`); a
 * revoked TLS client is refused instead. */
static int describe_caller(void *ud, gx_rpc_call *call) {
  daemon_t *d = ud;
  return gxd_access_describe(d->access, call);
}

/* Facts/Get's stream rate (facts.h): the connection's, as for runs. */
static int facts_rate(void *ud, gx_rpc_call *call, char *why, size_t len) {
  return gxd_protect_admit_unary(ud, call, why, len);
}

static void init_ctx(daemon_t *d) {
  struct passwd *pw = getpwuid(geteuid());
  snprintf(d->home, sizeof d->home, "%s", pw && pw->pw_dir ? pw->pw_dir : "/");
  d->sessions.loop = d->loop;
  d->sessions.limits = d->cfg->limits;
  d->sessions.start_timeout_ms = d->cfg->start_timeout_ms;
  d->sessions.on_session_freed = on_session_freed;
  d->sessions.ud = d;
  d->health = (gxd_health){&d->draining, describe_caller, d};
  d->facts.loop = d->loop;
  d->facts.access = &d->access;
  d->facts.admit_rate = facts_rate;
  d->facts.rate_ud = &d->protect;
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

int gxd_daemon_run(const gxd_config *cfg, const gxd_profiles *profiles) {
  daemon_t d;
  memset(&d, 0, sizeof d);
  d.cfg = cfg;
  d.profiles = profiles;
  d.loop = uv_default_loop();
  signal(SIGPIPE, SIG_IGN);
  gxd_log_set_level(cfg->log_level);
  raise_nofile(cfg);
  init_ctx(&d);
  int rc = find_launcher(&d);
  if (rc == 0) rc = open_access(&d);
  /* our own cwd must never matter (nor keep a filesystem busy) */
  if (rc == 0 && chdir("/") != 0) {
    gxd_log(GXD_LOG_ERROR, "chdir /: %s", strerror(errno));
    rc = -1;
  }
  if (rc == 0) rc = init_isolation(&d) == 0 ? setup(&d) : -1;
  if (rc == 0) {
    gxd_log(GXD_LOG_INFO, "gexecd ready (max %zu sessions)", cfg->max_sessions);
    uv_run(d.loop, UV_RUN_DEFAULT);
    if (d.gave_up && !d.stopped) { /* gRPC or a run still holds on */
      if (d.instance_open) gxd_instance_close(&d.instance);
      unlink_sockets(cfg);
      _exit(1);
    }
  } else if (d.srv) {
    gx_rpc_server_shutdown(d.srv, on_rpc_shut_down, &d);
    gx_rpc_server_cancel_all(d.srv);
    while (!d.rpc_shut_down && uv_run(d.loop, UV_RUN_ONCE)) {
    }
  }
  if (d.srv) gx_rpc_server_free(d.srv);
  gxd_access_free(d.access); /* after the server: its listeners used it */
  if (d.signals_ok) gxd_signals_close(&d.signals);
  if (d.instance_open) gxd_instance_close(&d.instance);
  gxd_launcher_free(d.sessions.launcher);
  uv_walk(d.loop, close_walk, NULL);
  uv_run(d.loop, UV_RUN_DEFAULT);
  uv_loop_close(d.loop);
  if (d.protect_ok) gxd_protect_free(&d.protect);
  if (rc == 0) unlink_sockets(cfg);
  gx_rpc_global_shutdown();
  gxd_log(GXD_LOG_INFO, "gexecd stopped");
  return rc == 0 ? 0 : 1;
}
