/* gexec-launch: runs one command inside an isolation profile.
 *
 *   gexec-launch [OPTION]... -- PROGRAM [ARG]...
 *   gexec-launch [OPTION]... --request-fd FD     (as gexecd starts it)
 *
 * gexecd starts it (single-threaded, so the setup below is safe; the
 * daemon is multithreaded) with a fixed environment and options of its
 * own making; the client's argv, env and cwd arrive out of band in a
 * launch request (launch_wire.h) and reach only the command's own
 * process: its chdir, its PATH lookup (inside the sandbox, as the run's
 * user) and its execve. It also works from a shell for debugging, with
 * the caller's argv, environment and cwd.
 *
 * Process structure:
 *   host:        launcher (subreaper) -> command
 *   namespaced:  launcher -> init (pid 1 of a new PID namespace, reaps
 *                everything) -> command
 * When the command ends, everything else of the run is killed: by the
 * PID namespace (init kills all, and dies if the launcher dies), by the
 * run's cgroup, or by the subreaper sweep for host. If gexecd dies, the
 * launcher gets GXL_PDEATH_SIG, kills the whole run the same way, and
 * exits. With --serve it is instead gexecd's fork server (forkserver.h),
 * which forks one such launcher per run. Records on --report-fd (launch_wire.h): whether the command
 * was exec'd, then how it really ended (code or signal, rusage of the
 * whole tree, OOM kill), or why the sandbox could not be built (exit
 * 125). The launcher exits with the command's code, or 128+signal. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/gx_units.h"
#include "server/forkserver.h"
#include "server/isolation/profile.h"
#include "server/launch_run.h"

extern char **environ;

/* --serve and --control-fd: the fork server instead of one run */
static int serve, control_fd = -1;

static const char usage[] =
    "Usage: gexec-launch [OPTION]... -- PROGRAM [ARG]...\n"
    "Runs PROGRAM in an isolation profile and exits with its status\n"
    "(128+N if killed by signal N; 125 if the sandbox could not be built).\n"
    "  --profile NAME     host, baseline (default) or restricted\n"
    "  --memory SIZE      memory limit (cgroup), e.g. 64M\n"
    "  --pids N           process/thread limit (cgroup)\n"
    "  --cpu-time DUR     CPU time limit (RLIMIT_CPU: SIGXCPU, then SIGKILL)\n"
    "  --open-files N     RLIMIT_NOFILE\n"
    "  --cgroup NAME      run in cgroup leaf gexec/NAME (\"instance/leaf\")\n"
    "                     even without limits, and remove it at the end\n"
    "  --report-fd FD     write the launch records (launch_wire.h) to FD\n"
    "  --request-fd FD    take argv, env and cwd from the launch request\n"
    "                     in FD instead of the command line, environment\n"
    "                     and current directory\n"
    "  --parent-pid PID   exit at once unless PID is our parent (gexecd:\n"
    "                     it may have died between spawning us and our\n"
    "                     parent-death signal being set)\n"
    "  --without MECH     do without a mechanism of the profile: user, net,\n"
    "                     pid, ipc, uts, mount, seccomp, cgroup (repeatable)\n"
    "  --mechs BITS       exactly these mechanisms (gxi_mech bits, decimal):\n"
    "                     how gexecd passes a profile from its table\n"
    "  --serve            be gexecd's fork server on --control-fd (a\n"
    "                     SOCK_SEQPACKET socket; see launch_wire.h) for\n"
    "                     --parent-pid\n"
    "  --control-fd FD    the fork server's socket\n"
    "\n" GX_UNITS_DUR_HELP GX_UNITS_SIZE_HELP;

/* Removes mechanism @p m from the profile copy. */
static void without(gxl_launch *o, const char *m) {
  uint32_t bit = gxi_mech_find(m);
  if (!bit) gxl_die("unknown mechanism '%s' for --without", m);
  if (bit == GXI_MECH_CGROUP) o->no_cgroup = 1;
  o->mechs = gxi_mech_without(o->mechs, bit);
}

static uint64_t parse_num(const char *opt, const char *arg, int duration) {
  uint64_t v;
  const char *why;
  int rc = duration ? gx_units_parse_duration_ms(arg, &v, &why)
                    : gx_units_parse_size(arg, &v, &why);
  if (rc != 0) gxl_die("invalid value '%s' for %s: %s", arg, opt, why);
  return v;
}

static int parse_fd(const char *opt, const char *arg) {
  uint64_t v = parse_num(opt, arg, 0);
  if (v < 3 || v > 1024) gxl_die("%s %s: expected a descriptor 3..1024", opt, arg);
  return (int)v;
}

static void parse_opt(gxl_launch *o, int c, const char *arg) {
  switch (c) {
    case 'p': {
      int id = gxi_profile_builtin_find(arg);
      if (id < 0) gxl_die("unknown profile '%s' (host, baseline, restricted)", arg);
      o->mechs = gxi_profile_builtin((gxi_builtin)id)->mechs;
      return;
    }
    case 'w': without(o, arg); return;
    case 'M': o->mechs = (uint32_t)parse_num("--mechs", arg, 0);
      if (o->mechs & ~GXI_MECH_ALL) gxl_die("--mechs %s: unknown bits", arg);
      return;
    case 'g': o->cgroup_name = arg; return;
    case 'm': o->cg_limits.memory_bytes = parse_num("--memory", arg, 0); return;
    case 'n': o->cg_limits.pids = parse_num("--pids", arg, 0); return;
    case 'c': o->rl.cpu_time_ms = parse_num("--cpu-time", arg, 1); return;
    case 'f': o->rl.open_files = parse_num("--open-files", arg, 0); return;
    case 'r': o->report_fd = parse_fd("--report-fd", arg); return;
    case 'q': o->request_fd = parse_fd("--request-fd", arg); return;
    case 'P': o->parent_pid = (pid_t)parse_num("--parent-pid", arg, 0); return;
    case 'S': serve = 1; return;
    case 'C': control_fd = parse_fd("--control-fd", arg); return;
    case 'h': fputs(usage, stdout); exit(0);
    default: gxl_die("bad option (see --help)");
  }
}

static void parse_args(int argc, char **argv, gxl_launch *o) {
  static const struct option opts[] = {
      {"profile", required_argument, NULL, 'p'},
      {"memory", required_argument, NULL, 'm'},
      {"pids", required_argument, NULL, 'n'},
      {"cpu-time", required_argument, NULL, 'c'},
      {"open-files", required_argument, NULL, 'f'},
      {"cgroup", required_argument, NULL, 'g'},
      {"report-fd", required_argument, NULL, 'r'},
      {"request-fd", required_argument, NULL, 'q'},
      {"parent-pid", required_argument, NULL, 'P'},
      {"without", required_argument, NULL, 'w'},
      {"mechs", required_argument, NULL, 'M'},
      {"serve", no_argument, NULL, 'S'},
      {"control-fd", required_argument, NULL, 'C'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  memset(o, 0, sizeof *o);
  o->report_fd = o->request_fd = -1;
  o->mechs = gxi_profile_builtin(GXI_PROFILE_BASELINE)->mechs;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
    parse_opt(o, c, optarg);
  if (serve) {
    if (control_fd < 0 || !o->parent_pid || optind < argc)
      gxl_die("--serve takes --control-fd and --parent-pid, and no PROGRAM");
    return;
  }
  if (o->request_fd >= 0 && optind < argc)
    gxl_die("--request-fd and a PROGRAM on the command line exclude each other");
  if (o->request_fd < 0 && optind >= argc) gxl_die("no PROGRAM given (see --help)");
  o->req.argv = argv + optind;
  o->req.argc = (size_t)(argc - optind);
}

int main(int argc, char **argv) {
  gxl_launch o;
  parse_args(argc, argv, &o);
  return serve ? gxl_serve(control_fd, o.parent_pid) : gxl_run_main(&o);
}
