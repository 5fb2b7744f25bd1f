/* gexec: the command-line client of gexecd. See `gexec --help`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/args.h"
#include "client/cli/exitcode.h"
#include "client/cli/facts_cli.h"
#include "client/cli/fleet.h"
#include "client/cli/ping.h"
#include "client/cli/run.h"
#include "client/cli/teardown.h"
#include "client/cli/tls.h"
#include "client/gexec.h"
#include "lib/gx_addr.h"
#include "lib/rpc.h"

/* Opens /dev/null on any of fds 0..2 that our parent left closed, so
 * that a closed stdin reads as empty and a closed stdout or stderr
 * discards. It must run before any library initializer: gRPC opens
 * eventfds while libraries load, and one landing on fd 0 would become
 * our "stdin" (we would steal its wake-ups and hang). The executable's
 * .preinit_array runs before the initializers of all shared objects. */
static void open_missing_std_fds(int argc, char **argv, char **envp) {
  (void)argc;
  (void)argv;
  (void)envp;
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (n >= 0 && n != fd) close(n); /* cannot happen: lower fds are open */
  }
}

__attribute__((used, section(".preinit_array"))) static void (
    *const preinit_std_fds)(int, char **, char **) = open_missing_std_fds;

/* Prints a help or version text on stdout. */
static int show(const char *text) {
  fputs(text, stdout);
  return fflush(stdout) == 0 ? 0 : GXC_EXIT_ERROR;
}

static int usage_error(const gxc_args *a, const char *why) {
  const char *sub = a->cmd == GXC_CMD_RUN     ? " run"
                    : a->cmd == GXC_CMD_PING  ? " ping"
                    : a->cmd == GXC_CMD_FACTS ? " facts"
                                              : "";
  fprintf(stderr, "gexec: %s\nTry 'gexec%s --help'.\n", why, sub);
  return GXC_EXIT_USAGE;
}

/* Runs `run` or `ping` against the chosen target with the TLS settings
 * @p tls, then ends the process without gRPC's shutdown (teardown.h). */
__attribute__((noreturn)) static void remote(const gxc_args *a,
                                             const gxc_tls *tls) {
  char shown[512];
  gexec_conn_opts *opts;
  char with_port[512];
  const char *target = gxc_pick_target(a->target, getenv("GEXEC_TARGET"));
  /* "host" means host:7443, as for fleet targets and gexecd --listen */
  if (target &&
      gx_addr_with_default_port(target, with_port, sizeof with_port) == 0)
    target = with_port;
  gxc_target_display(target, getenv("XDG_RUNTIME_DIR"), shown, sizeof shown);
  /* A closed stdout must be an EPIPE we handle, not a silent death. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  gx_rpc_log_quiet(); /* our one-line reasons, not gRPC's log lines */
  if (gxc_tls_conn_opts(tls, &opts) != GEXEC_OK) {
    fprintf(stderr, "gexec: out of memory\n");
    gxc_exit(GXC_EXIT_ERROR);
  }
  if (a->connect_timeout_ms)
    gexec_conn_opts_set_connect_timeout(opts, (int64_t)a->connect_timeout_ms);
  int status;
  if (a->fleet)
    status = gxc_fleet_main(a, opts, a->cmd == GXC_CMD_RUN
                                         ? &gxc_fleet_run_kind
                                         : &gxc_fleet_facts_kind);
  else if (a->cmd == GXC_CMD_FACTS)
    status = gxc_facts_one(a, target, shown, opts);
  else if (a->cmd == GXC_CMD_RUN)
    status = gxc_run(a, target, shown, opts);
  else
    status = gxc_ping(a, target, shown, opts);
  gexec_conn_opts_free(opts);
  gxc_exit(status);
}

/* Picks the TLS settings and runs the remote command. */
static int remote_cmd(const gxc_args *a) {
  gxc_tls tls;
  char why[512];
  if (gxc_tls_pick(a, getenv("GEXEC_CA"), getenv("GEXEC_CERT"),
                   getenv("GEXEC_KEY"), &tls, why, sizeof why) != 0)
    return usage_error(a, why);
  remote(a, &tls);
}

int main(int argc, char **argv) {
  static gxc_args a; /* large (the -e table); one per process */
  char why[512];
  /* Output arrives in ~1 MiB messages: keep such blocks on the heap
   * instead of an mmap/munmap (and page faults) per message. A process
   * setting, so the program makes it, not libgexec (see gexec.h). */
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  if (gxc_args_parse(argc, argv, &a, why, sizeof why) != 0)
    return usage_error(&a, why);
  switch (a.cmd) {
    case GXC_CMD_HELP: return show(gxc_usage_main());
    case GXC_CMD_RUN_HELP: return show(gxc_usage_run());
    case GXC_CMD_PING_HELP: return show(gxc_usage_ping());
    case GXC_CMD_FACTS_HELP: return show(gxc_usage_facts());
    case GXC_CMD_VERSION: return show("gexec " GEXEC_VERSION "\n");
    case GXC_CMD_RUN:
    case GXC_CMD_FACTS:
    case GXC_CMD_PING: return remote_cmd(&a);
    default: return usage_error(&a, "missing command (run, facts or ping)");
  }
}
