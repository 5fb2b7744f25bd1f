/* The --help texts of gexec and its subcommands (see args.h). */
#include "client/cli/args.h"

#include "lib/gx_addr.h"
#include "lib/gx_units.h"

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

#define FLEET_HELP \
    "\n" \
    "Fleet mode (-w): the same on many hosts at once\n" \
    "  -w, --targets TARGETS    the hosts, comma-separated (repeatable):\n" \
    "                           host[:port] (default port 7443),\n" \
    "                           [v6addr]:port,\n" \
    "                           unix:/path, ranges node[01-64] and\n" \
    "                           rack[1-2]-n[1-8], ^FILE (one per line),\n" \
    "                           @GROUP (from the groups file), dns:NAME[:port]\n" \
    "                           (every A/AAAA record). Duplicates are folded\n" \
    "  -x, --exclude TARGETS    leave these out (same syntax; repeatable)\n" \
    "      --groups-file FILE   groups for @GROUP: lines 'name: pattern,...',\n" \
    "                           # comments (default /etc/gexec/groups)\n" \
    "  -f, --fanout N           hosts worked on at once (default 64)\n" \
    "      --connect-timeout DUR\n" \
    "                           a host not connected after DUR is\n" \
    "                           unreachable (default 10s)\n" \
    "      --deadline DUR       the whole fleet run: each host's run gets\n" \
    "                           min(-t, time left) as its timeout, enforced\n" \
    "                           by its daemon (124); a host not started by\n" \
    "                           then is unreachable\n"

static const char usage_main[] =
    "Usage: gexec COMMAND [OPTION]...\n"
    "Runs commands on a gexecd daemon over gRPC.\n"
    "\n"
    "Commands:\n"
    "  run     run a program on the daemon's host, streaming its stdin,\n"
    "          stdout and stderr, and exit with its exit status\n"
    "  facts   system facts of a host or a fleet (OS, kernel, CPU, memory,\n"
    "          filesystems, interfaces), read by the daemon: no command runs\n"
    "  ping    check that the daemon serves; print the round-trip time\n"
    "\n"
    "  -h, --help       show this help and exit\n"
    "  -V, --version    show the version and exit\n"
    "\n"
    "TARGET (-H) is unix:/path or host[:port] (port 7443 when not given).\n"
    "Default: $GEXEC_TARGET, else\n"
    "unix:$XDG_RUNTIME_DIR" GX_ADDR_DEFAULT_SUBPATH ", else\n"
    "unix:" GX_ADDR_DEFAULT_RUN_DIR GX_ADDR_DEFAULT_SUBPATH ".\n"
    "-w TARGETS (run, facts) works on a fleet: see 'gexec run --help'.\n"
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
    "16 MiB; past that the rest is dropped and output_truncated is true.\n"
    FLEET_HELP
    "  -b, --gather             print each distinct output once, when all\n"
    "                           are done, under the hosts that gave it\n"
    "                           (byte-identical stdout, stderr and status),\n"
    "                           folded: node[01-40,42]\n"
    "      --diff               with -b: print only, for each output that\n"
    "                           differs from the most common one, a unified\n"
    "                           diff against it (stdout; stderr too if it\n"
    "                           differs), headers naming the hosts\n"
    "      --outdir DIR         also write DIR/T.out, DIR/T.err as output\n"
    "                           arrives and DIR/T.json at the end, T the\n"
    "                           target with bytes outside [A-Za-z0-9._-]\n"
    "                           replaced by _ (a host that never ran, as\n"
    "                           unreachable or refused: only T.json; two\n"
    "                           targets with the same T: a usage error)\n"
    "      --stdin              read our stdin once (at most 64 MiB) and\n"
    "                           send it to every host; without it the runs'\n"
    "                           stdin is empty and ours is not read\n"
    "      --stdin-timeout DUR  a host that takes none of its stdin for DUR\n"
    "                           is cut off: its run is cancelled (255).\n"
    "                           Default 30s; 0 = never\n"
    "Output: by default each line as it comes, prefixed 'host: ' (stderr's\n"
    "on stderr), never mixed with another host's line; a line longer than\n"
    "64 KiB is printed in 64 KiB pieces, each prefixed, and a last line\n"
    "without a newline gets one. --json prints one document: {\"hosts\":\n"
    "[one object per host, the keys above plus \"address\" and\n"
    "\"identity\" (the daemon's certificate)], \"summary\": {\"hosts\", \"ok\",\n"
    "\"failed\", \"timed_out\", \"unreachable\", \"refused\",\n"
    "\"max_exit_code\", \"wall_time_us\"}}. While it lasts more than a\n"
    "second and stderr is a terminal, progress is shown there. At the end,\n"
    "stderr gets one line per outcome other than success, hosts folded:\n"
    "'gexec: node[40-42]: exited with 1', 'gexec: node07: unreachable\n"
    "(connection refused)', 'gexec: node09: timed out after 5 s (process\n"
    "tree killed)'. Ctrl-C: the first is sent to every run, the second\n"
    "cancels them all (130).\n"
    "Fleet exit status: 0 when every host's run exited 0; 255 when a host\n"
    "was unreachable or refused us (policy, TLS); else the largest of the\n"
    "hosts' statuses as above (N, 128+N, 124, 126, 127).\n";

static const char usage_facts[] =
    "Usage: gexec facts [-H TARGET | -w TARGETS] [OPTION]... [FIELD]...\n"
    "Asks the daemon for its host's system facts, read from /proc, /sys,\n"
    "/etc/os-release, statvfs and getifaddrs (no command is run): host\n"
    "name, machine and boot ids, OS, kernel, uptime, load, CPU, memory,\n"
    "filesystems, network interfaces, the daemon's version and profiles.\n"
    "The daemon's policy decides who may read them.\n"
    "\n"
    "FIELD is a dotted path of the JSON keys (os.version_id,\n"
    "memory.total_bytes, interfaces); without FIELDs, everything (one\n"
    "host) or a few columns (fleet: hostname, os.pretty_name,\n"
    "kernel.release, cpu.logical_count, memory.total_bytes).\n"
    "\n"
    "  -H, --target TARGET    one daemon (default: as for gexec run); prints\n"
    "                         'path: value' lines\n"
    "  -t, --timeout DUR      how long each host may take to answer\n"
    "                         (default 10s)\n"
    "      --json             one JSON document: for -H the facts object\n"
    "                         (the proto's JSON mapping, field names as in\n"
    "                         facts.proto); for -w {\"hosts\": [{\"target\",\n"
    "                         \"address\", \"identity\", \"facts\", \"error\"}],\n"
    "                         \"summary\": {...}}; FIELDs keep only those\n"
    "      --all-filesystems  include pseudo filesystems (proc, sysfs, ...)\n"
    "  -h, --help             show this help and exit\n"
    FLEET_HELP
    "      --diff               show only the fields whose values differ\n"
    "                           between hosts\n"
    "A fleet prints a table, one row per host. The summary, progress and\n"
    "exit statuses are those of gexec run -w (0, or 255 when a host was\n"
    "unreachable, refused us or failed).\n"
    TLS_HELP
    "\n" GX_UNITS_DUR_HELP;

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
const char *gxc_usage_facts(void) { return usage_facts; }
