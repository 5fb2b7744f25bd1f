#!/usr/bin/python3
"""Who may run what: the per-identity policy, run-as, the audit log and
the red-team's findings of issue 9, against real gexecd processes.

Clients: stock grpcio over mTLS (certificates made by openssl here) and
over the unix socket, the gexec CLI as root and as a second local user
(made with useradd here, in a group of its own).

What it proves, one test each:
  - every kind of identity gets its rule (SPIFFE, DNS, CN, unix uid,
    unix group), and a caller no rule matches is refused, naming it;
  - first match wins: a refused request is never tried on a later rule;
  - allow keys refuse what they do not list, with PERMISSION_DENIED, a
    one-line reason and the trailers gexec-refused-by: policy and
    gexec-policy-rule: R; profiles, run_as (default and asked), env
    (refused, not dropped), cwd, max_timeout, limits, commands and argv
    patterns (the launcher refuses the program it resolved);
  - the program runs under the name the policy approved, never the
    client's argv[0] (the review's multi-call attacks: runlevel allowed
    is not systemctl, a systemctl pattern is not reboot);
  - "$caller": the second local user runs as itself (USER, HOME, uid);
  - the CLI exits 255 with "refused by policy: ..." (a program that
    exists but is not executable stays 126), and `gexec ping` says who
    the daemon thinks we are (a client of an intermediate CA included,
    its --cert holding its chain), or, to a revoked certificate, only
    that it is revoked;
  - red team: without --policy, plaintext loopback TCP and other uids
    are refused; --default-profile restricted keeps clients out of host;
  - the audit log: decision (allowed, denied) and end records field by
    field, env values never written; a revoked certificate's refusal is
    audited; an unwritable audit log refuses runs (UNAVAILABLE);
  - SIGHUP: a new policy applies to new runs while a live run finishes;
    a broken file is refused and the policy in force stays.
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_lib as it  # noqa: E402
from interop_lib import Run, SC, check, check_ok_run, pb  # noqa: E402
import tls_test as tt  # noqa: E402

GEXEC = os.environ.get("GEXEC_CLI") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "bazel-bin",
    "client", "cli", "gexec")
USER = "gxpol-dev"      # a second local user, member of GROUP
GROUP = "gxpol-devs"
STRANGER = 12346         # a uid without passwd entry, in GROUP's gid

POLICY = {"rules": [
    {"name": "ops", "match": {"spiffe": "spiffe://example.org/ops/*"},
     "allow": {"commands": ["*"],
               "profiles": ["host", "baseline", "restricted"],
               "run_as": ["root", "nobody"], "max_timeout": "1h",
               "env": ["LANG", "TZ", "APP_*"]}},
    {"name": "monitoring", "match": {"cn": "carol"},
     "allow": {"commands": ["/usr/bin/id", "/usr/bin/true"],
               "argv": [["/usr/bin/echo", "status", "*"]],
               "profiles": ["restricted"], "run_as": ["nobody"],
               "max_timeout": "10s", "limits": {"memory": "256M", "pids": 64}}},
    {"name": "bob-first", "match": {"dns": "bob.example.org"},
     "allow": {"profiles": ["baseline"], "cwd": ["/", "/tmp", "/tmp/*"]}},
    {"name": "bob-never", "match": {"dns": "bob*"},
     "allow": {"profiles": ["host"]}},
    {"name": "local-devs", "match": {"group": GROUP},
     "allow": {"commands": ["*"], "profiles": ["restricted"],
               "run_as": ["$caller"]}},
    {"name": "root", "match": {"uid": 0}, "allow": {"facts": True}},
]}


class Ctx:
    d = None          # the daemon under the policy: unix (group) + mTLS TCP
    sock = None
    audit = None
    policy = None
    sock_dir = None
    cli = None        # the CLI, copied where any uid may run it


def chan(client):
    return Ctx.d.channel(Ctx.d.tcp(), tt.creds(client))


def unix():
    return Ctx.d.channel("unix:" + Ctx.sock)


def trailers(run):
    md = dict(run.call.trailing_metadata() or ())
    return md.get("gexec-refused-by"), md.get("gexec-policy-rule")


def refused(run, why, rule):
    """A policy refusal: PERMISSION_DENIED, exactly @why, the trailers."""
    run.finish()
    req = run.describe()
    check(run.code == SC.PERMISSION_DENIED and run.details == why, req,
          "PERMISSION_DENIED %r" % why, run.outcome())
    check(trailers(run) == ("policy", rule), req,
          "trailers gexec-refused-by=policy, gexec-policy-rule=%s" % rule,
          trailers(run))
    check("started" not in it.kinds(run.responses), req, "nothing started",
          it.kinds(run.responses))


def ok(ch, argv, **kw):
    run = it.run_cmd(ch, argv=argv, stdin_mode=pb.STDIN_NULL, eof=False, **kw)
    return check_ok_run(run), run


def start(ch, argv, **kw):
    return Run(ch).start(argv=argv, stdin_mode=pb.STDIN_NULL, **kw)


# ------------------------------------------------------------- identities

def t_spiffe_ops_runs_as_root_by_default_and_nobody_when_asked():
    res, run = ok(chan("client-spiffe"), ["id", "-u"], profile="host")
    check(res.stdout == b"0\n", run.describe(), "uid 0 (run_as's first)", res.stdout)
    res, run = ok(chan("client-spiffe"), ["id", "-u"], profile="host", user="nobody")
    check(res.stdout == b"65534\n", run.describe(), "uid 65534", res.stdout)
    res, run = ok(chan("client-spiffe"), ["sh", "-c", "echo $APP_X"],
                  profile="host", env={"APP_X": "v1", "LANG": "C"})
    check(res.stdout == b"v1\n", run.describe(), "APP_X allowed", res.stdout)


def t_ops_refusals_name_what_was_refused():
    ch = chan("client-spiffe")
    refused(start(ch, ["true"], env={"LD_PRELOAD": "/tmp/x.so"}),
            "policy rule 'ops' does not allow env 'LD_PRELOAD'", "ops")
    refused(start(ch, ["true"], user="daemon"),
            "policy rule 'ops' does not allow run-as user 'daemon'", "ops")
    refused(start(ch, ["true"], timeout_ms=2 * 3600 * 1000),
            "policy rule 'ops' allows no timeout above 1h", "ops")


def t_cn_monitoring_gets_restricted_nobody_and_its_commands():
    ch = chan("client-cn")
    res, run = ok(ch, ["/usr/bin/id", "-u"])
    check(res.started.isolation.profile == "restricted", run.describe(),
          "the rule's first profile", res.started.isolation)
    check(res.stdout == b"1000\n", run.describe(), "restricted's inner uid",
          res.stdout)
    res, run = ok(ch, ["echo", "status", "x"])  # argv pattern, via PATH
    check(res.stdout == b"status x\n", run.describe(), "echo status x", res.stdout)
    # refused by the launcher, which resolved the program (PATH, inside
    # the sandbox) and found it outside the rule's commands
    refused(start(ch, ["/bin/sh", "-c", "true"]),
            "policy rule 'monitoring' does not allow the command '/bin/sh'",
            "monitoring")
    refused(start(ch, ["echo", "other"]),
            "policy rule 'monitoring' does not allow the command 'echo'",
            "monitoring")
    refused(start(ch, ["true"], profile="host"),
            "policy rule 'monitoring' does not allow profile 'host' "
            "(allowed: restricted)", "monitoring")
    refused(start(ch, ["true"], limits=pb.Limits(memory_bytes=1 << 30)),
            "policy rule 'monitoring' does not allow memory limit 1G (cap 256M)",
            "monitoring")
    # its programs are constrained and it names no env: no variable at
    # all (an allowed script run with BASH_ENV would run anything)
    refused(start(ch, ["true"], env={"BASH_ENV": "$(id >&2)"}),
            "policy rule 'monitoring' does not allow env 'BASH_ENV' (its "
            "programs are constrained: list the variables it may set in "
            "allow.env)", "monitoring")


def t_launcher_refuses_a_copy_of_an_allowed_name():
    """A file named like an allowed program is not that program: the
    launcher compares the file it opened (device and inode)."""
    ch = chan("client-cn")
    # not under /tmp: restricted runs have a private one
    fake = os.path.join(tempfile.mkdtemp(prefix="gxpol-", dir="/var/tmp"), "true")
    os.chmod(os.path.dirname(fake), 0o755)  # the run's user (nobody) looks
    shutil.copy("/usr/bin/false", fake)
    os.chmod(fake, 0o755)
    try:
        refused(start(ch, [fake]), "policy rule 'monitoring' does not allow "
                "the command '%s'" % fake, "monitoring")
    finally:
        shutil.rmtree(os.path.dirname(fake), ignore_errors=True)
    res, run = ok(ch, ["true"])  # the real one, found in PATH
    check(res.exited.exit_code == 0, run.describe(), "exit 0", it.ex(res))


NAMES_POLICY = {"rules": [
    {"name": "carol-runlevel", "match": {"cn": "carol"},
     "allow": {"commands": ["/usr/sbin/runlevel"], "profiles": ["host"],
               "run_as": ["root"], "env": ["PATH"]}},
    {"name": "bob-help", "match": {"dns": "bob.example.org"},
     "allow": {"argv": [["/usr/bin/systemctl", "--help"]],
               "profiles": ["host"], "run_as": ["root"], "env": ["PATH"]}},
]}
SBIN_PATH = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def _first_line(ch, argv, **kw):
    res, run = ok(ch, argv, env=SBIN_PATH, **kw)
    check(res.exited.exit_code == 0, run.describe(), "exit 0", it.ex(res))
    return res.stdout.split(b"\n", 1)[0], res.stdout, run


def t_program_runs_under_the_policys_name():
    """The review's attacks on multi-call binaries (systemd: runlevel,
    reboot and poweroff are links to systemctl, which acts on argv[0]).
    The launcher runs the program under the name the policy approved,
    not the client's: "commands": ["/usr/sbin/runlevel"] runs runlevel
    whatever name of that inode the client sends, and the pattern
    [["/usr/bin/systemctl", "--help"]] runs systemctl when the client
    asks for "reboot". Only --help is ever run."""
    if not all(os.path.realpath(p) == os.path.realpath("/usr/bin/systemctl")
               for p in ("/usr/sbin/runlevel", "/usr/sbin/reboot",
                         "/usr/sbin/poweroff")):
        print("  (skipped: no systemd multi-call links here)")
        return
    pol = os.path.join(it.TMPDIR, "names.json")
    with open(pol, "w") as f:
        json.dump(NAMES_POLICY, f)
    d = tt.TlsDaemon("names", ["127.0.0.1:0"],
                     tt.tls_flags() + ["--policy", pol]).start()
    try:
        carol = d.channel(d.tcp(), tt.creds("client-cn"))
        for argv in (["/usr/sbin/runlevel", "--help"],
                     ["/usr/bin/systemctl", "--help"],  # attack (1)
                     ["systemctl", "--help"], ["poweroff", "--help"],
                     ["reboot", "--help"]):
            first, out, run = _first_line(carol, argv)
            check(first == b"runlevel [OPTIONS...]" and b"systemctl" not in out
                  and b"Power off" not in out and b"Reboot" not in out,
                  run.describe(), "runlevel's own --help (argv[0] is the "
                  "rule's /usr/sbin/runlevel)", out[:120])
        bob = d.channel(d.tcp(), tt.creds("client-dns"))
        for argv in (["/usr/bin/systemctl", "--help"],
                     ["reboot", "--help"],  # attack (2)
                     ["/usr/sbin/poweroff", "--help"]):
            first, out, run = _first_line(bob, argv)
            check(first == b"systemctl [OPTIONS...] COMMAND ..." and
                  b"Reboot the system" not in out and b"Power off" not in out,
                  run.describe(), "systemctl's own --help (argv[0] is the "
                  "pattern's /usr/bin/systemctl)", out[:120])
        run = start(bob, ["reboot", "--version"], env=SBIN_PATH)
        refused(run, "policy rule 'bob-help' does not allow the command "
                "'reboot' with these arguments", "bob-help")
    finally:
        d.close_channels()
        d.terminate()


def t_first_match_wins_without_fall_through():
    ch = chan("client-dns")
    res, run = ok(ch, ["true"], cwd="/tmp")
    check(res.started.isolation.profile == "baseline", run.describe(),
          "bob-first's profile", res.started.isolation)
    refused(start(ch, ["true"], profile="host"),
            "policy rule 'bob-first' does not allow profile 'host' "
            "(allowed: baseline)", "bob-first")
    refused(start(ch, ["true"], cwd="/root"),
            "policy rule 'bob-first' does not allow cwd '/root'", "bob-first")
    # it names no run_as: the daemon's default ids, never one the client picks
    refused(start(ch, ["true"], user="daemon"),
            "policy rule 'bob-first' does not allow run-as user 'daemon' "
            "(it names no run_as)", "bob-first")


def _connect_as(uid, gid, groups):
    """A grpcio channel from a child process would be needed for another
    uid; instead run the CLI in a child that drops to @uid."""
    def drop():
        os.setgroups(groups)
        os.setgid(gid)
        os.setuid(uid)
    return drop


def cli(args, preexec=None, env=None):
    """The gexec CLI (a copy other uids can execute: runfiles live under
    root's 0700 home)."""
    e = dict(os.environ)
    e.pop("GEXEC_TARGET", None)
    e.update(env or {})
    return subprocess.run([Ctx.cli] + args, capture_output=True, env=e,
                          preexec_fn=preexec, timeout=60, cwd="/")


def t_unix_group_caller_runs_as_itself():
    pw = pwd.getpwnam(USER)
    p = cli(["run", "-H", "unix:" + Ctx.sock, "-n", "--", "sh", "-c",
             "echo $USER $HOME; id -u"],
            preexec=_connect_as(pw.pw_uid, pw.pw_gid,
                                os.getgrouplist(USER, pw.pw_gid)),
            env={"HOME": "/tmp"})
    want = ("%s %s\n1000\n" % (USER, pw.pw_dir)).encode()
    check(p.returncode == 0 and p.stdout == want,
          "gexec run as %s: echo $USER $HOME; id -u" % USER,
          "exit 0, %r" % want, (p.returncode, p.stdout, p.stderr))
    line = Ctx.d.wait_event(lambda e: e.get("event") == "run" and
                            e.get("identity") == "uid=%d(%s)" % (pw.pw_uid, USER),
                            "the run line of %s" % USER)
    check(line.get("rule") == "local-devs" and line.get("user") == USER and
          line.get("profile") == "restricted", "its log line",
          "rule local-devs, user %s, restricted" % USER, line)
    p = cli(["run", "-H", "unix:" + Ctx.sock, "-n", "--profile", "host", "--", "true"],
            preexec=_connect_as(pw.pw_uid, pw.pw_gid,
                                os.getgrouplist(USER, pw.pw_gid)),
            env={"HOME": "/tmp"})
    want = ("gexec: refused by policy: policy rule 'local-devs' does not allow "
            "profile 'host' (allowed: restricted)\n").encode()
    check(p.returncode == 255 and p.stderr == want, "gexec run --profile host as %s" % USER,
          "exit 255, %r" % want, (p.returncode, p.stderr))


def t_unmatched_caller_is_refused_naming_it():
    grp = __import__("grp").getgrnam(GROUP)
    p = cli(["run", "-H", "unix:" + Ctx.sock, "-n", "--", "true"],
            preexec=_connect_as(STRANGER, STRANGER, [grp.gr_gid]),
            env={"HOME": "/tmp"})
    want = ("gexec: refused by policy: no policy rule matches this caller "
            "(unix uid %d)\n" % STRANGER).encode()
    check(p.returncode == 255 and p.stderr == want, "gexec run as uid %d" % STRANGER,
          "exit 255, %r" % want, (p.returncode, p.stderr))


def t_cli_126_stays_for_a_program_that_cannot_be_executed():
    p = cli(["run", "-H", "unix:" + Ctx.sock, "-n", "--", "/etc/passwd"])
    check(p.returncode == 126 and b"refused by policy" not in p.stderr,
          "gexec run /etc/passwd (root)", "exit 126, not a policy refusal",
          (p.returncode, p.stderr))


def t_ping_says_who_we_are():
    p = cli(["ping", "-H", "unix:" + Ctx.sock])
    lines = p.stdout.decode().splitlines()
    want = "gexecd at unix:%s: you are uid=0(root), policy rule 'root'" % Ctx.sock
    check(p.returncode == 0 and want in lines, "gexec ping (root)",
          "a line %r" % want, (p.returncode, lines, p.stderr))
    grp = __import__("grp").getgrnam(GROUP)
    p = cli(["ping", "-H", "unix:" + Ctx.sock],
            preexec=_connect_as(STRANGER, STRANGER, [grp.gr_gid]),
            env={"HOME": "/tmp"})
    want = ("gexecd at unix:%s: you are uid=%d, and no policy rule matches "
            "you" % (Ctx.sock, STRANGER))
    check(p.returncode == 0 and want in p.stdout.decode().splitlines(),
          "gexec ping (uid %d)" % STRANGER, "a line %r" % want,
          (p.returncode, p.stdout, p.stderr))


def cli_tls(client, args, cert=".pem"):
    """The CLI over mTLS to the daemon's TCP listener, as @client (its
    certificate file: client + cert)."""
    c = os.path.join(tt.CERTS, client)
    flags = ["--ca", os.path.join(tt.CERTS, "ca.pem")]
    if client:
        flags += ["--cert", c + cert, "--key", c + ".key"]
    return cli([args[0]] + flags + ["-H", Ctx.d.targets[Ctx.d.tcp()]] + args[1:])


def t_cli_over_mtls_per_certificate():
    """Each client certificate, seen from the CLI (libgexec) against the
    real daemon: accepted, refused by the handshake, or by the policy."""
    p = cli_tls("client-spiffe", ["run", "-n", "--profile", "host", "--", "id", "-u"])
    check(p.returncode == 0 and p.stdout == b"0\n", "gexec run as client-spiffe",
          "exit 0, uid 0", (p.returncode, p.stdout, p.stderr))
    p = cli_tls("client-spiffe", ["ping"])
    want = "you are spiffe://example.org/ops/alice, policy rule 'ops'"
    check(p.returncode == 0 and want in p.stdout.decode(), "gexec ping as client-spiffe",
          want, (p.returncode, p.stdout, p.stderr))
    target = Ctx.d.targets[Ctx.d.tcp()]
    for client, why in [
            ("client-other", "the server refused our certificate (missing, expired, "
                             "revoked or from another CA)"),
            ("client-expired", "the server refused our certificate (ours expired on "
                               "2020-01-02 00:00:00 UTC)"),
            ("", "the server refused the TLS connection (it requires a client "
                 "certificate, and we have none)")]:
        p = cli_tls(client, ["run", "-n", "--", "true"])
        want = ("gexec: cannot connect to %s: %s\n" % (target, why)).encode()
        check(p.returncode == 255 and p.stderr == want, "gexec run as %r" % client,
              "exit 255, %r" % want, (p.returncode, p.stderr))
    p = cli_tls("client-revoked", ["run", "-n", "--", "true"])
    check(p.returncode == 255 and b"is revoked" in p.stderr, "gexec run as client-revoked",
          "exit 255, revoked", (p.returncode, p.stderr))
    # a client of an intermediate CA: --cert with its chain passes the
    # handshake (the daemon trusts the root only) and the revocation check
    p = cli_tls("client-inter", ["ping"], cert="-chain.pem")
    want = "gexecd at %s: you are erin, and no policy rule matches you" % target
    check(p.returncode == 0 and want in p.stdout.decode().splitlines(),
          "gexec ping as client-inter, --cert with its chain", "exit 0, %r" % want,
          (p.returncode, p.stdout, p.stderr))
    p = cli_tls("client-inter", ["ping"])
    want = ("gexec: cannot connect to %s: the server refused our certificate "
            "(missing, expired, revoked or from another CA)\n" % target).encode()
    check(p.returncode == 255 and p.stderr == want,
          "gexec ping as client-inter, --cert without its chain", "exit 255, %r" % want,
          (p.returncode, p.stderr))
    # Health/Check makes the same revocation check: ping is refused too,
    # and told nothing about who it is
    p = cli_tls("client-revoked", ["ping"])
    want = ("gexec: gexecd at %s: UNAUTHENTICATED: client certificate serial 0x%s is "
            "revoked (CRL of CN=gexec test CA)\n"
            % (target, tt.pem("serial-revoked").decode().strip())).encode()
    check(p.returncode == 255 and p.stderr == want and p.stdout == b"",
          "gexec ping as client-revoked", "exit 255, %r, nothing on stdout" % want,
          (p.returncode, p.stdout, p.stderr))


# -------------------------------------------------------------- the audit

def audit_records():
    with open(Ctx.audit) as f:
        return [json.loads(line) for line in f if line.strip()]


def t_audit_records_decisions_and_ends_field_by_field():
    res, run = ok(chan("client-spiffe"), ["sh", "-c", "cat; echo done"],
                  profile="host", env={"APP_SECRET": "hunter2-value"}, cwd="/tmp")
    rid = res.started.run_id
    recs = [r for r in audit_records() if r.get("run") == rid]
    check(len(recs) == 2, "audit records of run %d" % rid, "decision and end", recs)
    dec, end = recs
    want = {"event": "decision", "run": rid, "identity": "spiffe://example.org/ops/alice",
            "transport": "tls", "argv": ["sh", "-c", "cat; echo done"],
            "env": ["APP_SECRET"], "cwd": "/tmp", "profile": "host",
            "user": "root", "rule": "ops", "decision": "allowed"}
    got = {k: dec.get(k) for k in want}
    check(got == want and dec["peer"].startswith("ipv4:127.0.0.1:") and
          dec["tier"].startswith("host") and dec["ts"].endswith("Z"),
          "decision record", want, dec)
    check(end.get("event") == "end" and end.get("exit_code") == 0 and
          end.get("status") == "OK" and end.get("timed_out") is False and
          end.get("oom_killed") is False and end.get("bytes_out") == 5 and
          end.get("bytes_in") == 0 and end.get("wall_time_us", 0) > 0 and
          "user_time_us" in end and "system_time_us" in end,
          "end record", "exit 0, 5 bytes out", end)
    with open(Ctx.audit) as f:
        check("hunter2-value" not in f.read(), "the audit log", "no env value", "")
    refused(start(chan("client-spiffe"), ["true"], env={"PATH_X": "1"}),
            "policy rule 'ops' does not allow env 'PATH_X'", "ops")
    den = [r for r in audit_records() if r.get("decision") == "denied" and
           r.get("env") == ["PATH_X"]]
    check(len(den) == 1 and den[0]["status"] == "PERMISSION_DENIED" and
          den[0]["reason"] == "policy rule 'ops' does not allow env 'PATH_X'" and
          den[0]["rule"] == "ops" and den[0]["run"] > 0,
          "denied decision record", "status, reason, rule", den)
    # a huge argv cannot make a denial vanish from the log: it is cut
    big = ["x" * 4000] * 80
    refused(start(chan("client-spiffe"), ["true"] + big, env={"PATH_Y": "1"}),
            "policy rule 'ops' does not allow env 'PATH_Y'", "ops")
    den = [r for r in audit_records() if r.get("env") == ["PATH_Y"]]
    check(len(den) == 1 and den[0]["decision"] == "denied" and
          den[0]["truncated"] is True and den[0]["argc"] == 81 and
          den[0]["argv_bytes"] == 5 + 80 * 4001 and
          sum(len(a) for a in den[0]["argv"]) + len("PATH_Y") <= 64 * 1024,
          "the denial of an 81-argument run", "recorded, argv cut to 64 KiB",
          {k: v for k, v in (den[0] if den else {}).items() if k != "argv"})


def t_revoked_certificate_refusal_is_audited():
    run = start(chan("client-revoked"), ["true"])
    run.finish()
    check(run.code == SC.UNAUTHENTICATED, run.describe(), "UNAUTHENTICATED", run.outcome())
    recs = [r for r in audit_records() if r.get("event") == "refused" and
            r.get("identity") == "revoked"]
    check(len(recs) >= 1 and recs[-1]["decision"] == "denied" and
          "is revoked" in recs[-1]["reason"], "audit of the revoked client",
          "a refused record", recs)


def t_unwritable_audit_log_refuses_runs():
    d = it.Daemon("full", ["unix:" + os.path.join(Ctx.sock_dir, "full.sock")],
                  ["--audit-log", "/dev/full", "--policy", Ctx.policy]).start()
    try:
        run = it.run_cmd(d.channel(), argv=["true"], stdin_mode=pb.STDIN_NULL, eof=False)
        want = ("the audit log cannot be written (No space left on device); "
                "gexecd refuses runs it cannot record")
        check(run.code == SC.UNAVAILABLE and run.details == want, run.describe(),
              "UNAVAILABLE %r" % want, run.outcome())
    finally:
        d.close_channels()
        d.terminate()


# --------------------------------------------------------------- red team

def t_red_team_without_policy():
    grp = __import__("grp").getgrnam(GROUP)
    sock = os.path.join(Ctx.sock_dir, "nopol.sock")
    d = it.Daemon("nopol", ["unix:" + sock, "127.0.0.1:0"],
                  ["--socket-group", GROUP, "--default-profile", "restricted",
                   "--max-sessions", "4"],
                  test_policy=False).start()
    try:
        # callers no rule matches cannot even hold a stream open: idle
        # streams that never send start take no slot
        idle = [Run(d.channel("127.0.0.1:0")) for _ in range(8)]
        for r in idle:
            r.finish()
            check(r.code == SC.PERMISSION_DENIED, "an idle anonymous stream",
                  "refused at once", r.outcome())
        run = it.run_cmd(d.channel("127.0.0.1:0"), argv=["cat", "/etc/shadow"],
                         stdin_mode=pb.STDIN_NULL, eof=False)
        want = "no policy rule matches this caller (anonymous loopback)"
        check(run.code == SC.PERMISSION_DENIED and run.details == want and
              not run.responses, run.describe(), "PERMISSION_DENIED %r" % want,
              run.outcome())
        p = cli(["run", "-H", "unix:" + sock, "-n", "--", "cat", "/etc/shadow"],
                preexec=_connect_as(STRANGER, STRANGER, [grp.gr_gid]),
                env={"HOME": "/tmp"})
        check(p.returncode == 255 and p.stdout == b"", "gexec run cat /etc/shadow as uid %d"
              % STRANGER, "refused, nothing printed", (p.returncode, p.stdout, p.stderr))
        run = it.run_cmd(d.channel("unix:" + sock), argv=["id", "-u"], profile="host",
                         stdin_mode=pb.STDIN_NULL, eof=False)
        want = "profile host is not allowed by this daemon (allowed: restricted)"
        check(run.code == SC.PERMISSION_DENIED and run.details == want,
              run.describe(), "PERMISSION_DENIED %r" % want, run.outcome())
        res, run = ok(d.channel("unix:" + sock), ["id", "-u"])
        check(res.stdout == b"1000\n", run.describe(), "root may run restricted", res.stdout)
    finally:
        d.close_channels()
        d.terminate()


# ----------------------------------------------------------------- reload

def write_policy(doc):
    tmp = Ctx.policy + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    os.rename(tmp, Ctx.policy)


def reloads(ok_):
    return [e for e in list(Ctx.d.events) if e.get("event") == "reload" and
            e.get("what") == "policy" and e.get("ok") is ok_]


def t_sighup_policy_rotation_keeps_live_runs():
    ch = chan("client-spiffe")
    live = Run(ch).start(argv=["sh", "-c", "read x; echo got $x"], profile="host")
    live.recv_kind("started")
    n_ok = len(reloads(True))
    newp = json.loads(json.dumps(POLICY))
    newp["rules"] = [r for r in newp["rules"] if r["name"] != "ops"]
    write_policy(newp)
    Ctx.d.proc.send_signal(signal.SIGHUP)
    it.wait_until(lambda: len(reloads(True)) > n_ok, 30, "policy reload")
    run = start(chan("client-spiffe"), ["true"], profile="host")
    run.finish()
    check(run.code == SC.PERMISSION_DENIED and run.details ==
          "no policy rule matches this caller (tls spiffe "
          "'spiffe://example.org/ops/alice')", run.describe(),
          "refused under the new policy", run.outcome())
    live.stdin(b"yes\n").eof()
    live.finish()
    res = check_ok_run(live)
    check(res.stdout == b"got yes\n", live.describe(), "the live run finished", res.stdout)
    n_bad = len(reloads(False))
    write_policy('{"rules": [{"name": "x", "match": {"cn": "*"}, "allow": {"comands": []}}]}')
    Ctx.d.proc.send_signal(signal.SIGHUP)
    bad = it.wait_until(lambda: len(reloads(False)) > n_bad and reloads(False)[-1], 30,
                        "a refused reload")
    check("comands" in bad.get("error", ""), "SIGHUP with a typo in the policy",
          "reload refused naming the key", bad)
    res, run = ok(unix(), ["true"])  # the policy in force stays (root)
    run = start(chan("client-spiffe"), ["true"])
    run.finish()
    check(run.code == SC.PERMISSION_DENIED, run.describe(),
          "still the rotated policy", run.outcome())
    write_policy(POLICY)
    n_ok = len(reloads(True))
    Ctx.d.proc.send_signal(signal.SIGHUP)
    it.wait_until(lambda: len(reloads(True)) > n_ok, 30, "policy reload back")


TESTS = [
    t_spiffe_ops_runs_as_root_by_default_and_nobody_when_asked,
    t_ops_refusals_name_what_was_refused,
    t_cn_monitoring_gets_restricted_nobody_and_its_commands,
    t_launcher_refuses_a_copy_of_an_allowed_name,
    t_program_runs_under_the_policys_name,
    t_first_match_wins_without_fall_through,
    t_unix_group_caller_runs_as_itself,
    t_unmatched_caller_is_refused_naming_it,
    t_cli_126_stays_for_a_program_that_cannot_be_executed,
    t_ping_says_who_we_are,
    t_cli_over_mtls_per_certificate,
    t_audit_records_decisions_and_ends_field_by_field,
    t_revoked_certificate_refusal_is_audited,
    t_unwritable_audit_log_refuses_runs,
    t_red_team_without_policy,
    t_sighup_policy_rotation_keeps_live_runs,
]


def accounts(add):
    if add:
        subprocess.run(["groupadd", GROUP], check=False, capture_output=True)
        subprocess.run(["useradd", "-M", "-d", "/nonexistent-" + USER, "-s", "/bin/sh",
                        "-G", GROUP, USER], check=False, capture_output=True)
        pwd.getpwnam(USER)  # fails the setup if it is not there
    else:
        subprocess.run(["userdel", USER], check=False, capture_output=True)
        subprocess.run(["groupdel", GROUP], check=False, capture_output=True)


def sanitizer_files_for_all():
    """Under TSan, the CLI run as another uid must read the suppressions
    file too: copy it next to the CLI copy and point TSAN_OPTIONS there."""
    opts = os.environ.get("TSAN_OPTIONS", "")
    parts = opts.split(":")
    for i, p in enumerate(parts):
        if p.startswith("suppressions="):
            dst = os.path.join(Ctx.sock_dir, "tsan.supp")
            shutil.copy(p.split("=", 1)[1], dst)
            os.chmod(dst, 0o644)
            parts[i] = "suppressions=" + dst
    os.environ["TSAN_OPTIONS"] = ":".join(parts)


def main():
    passed = failed = 0
    Ctx.sock_dir = tempfile.mkdtemp(prefix="gexec-policy-", dir="/tmp")
    os.chmod(Ctx.sock_dir, 0o755)  # the second user reaches the socket
    Ctx.cli = os.path.join(Ctx.sock_dir, "gexec")
    shutil.copy(GEXEC, Ctx.cli)
    os.chmod(Ctx.cli, 0o755)
    sanitizer_files_for_all()
    Ctx.sock = os.path.join(Ctx.sock_dir, "p.sock")
    Ctx.audit = os.path.join(it.TMPDIR, "audit.log")
    Ctx.policy = os.path.join(it.TMPDIR, "policy.json")
    try:
        accounts(False)
        accounts(True)
        subprocess.run(["/bin/sh", tt.MKCERTS, tt.CERTS], check=True)
        write_policy(POLICY)
        Ctx.d = tt.TlsDaemon("policy", ["unix:" + Ctx.sock, "127.0.0.1:0"],
                             tt.tls_flags() + ["--policy", Ctx.policy,
                                               "--socket-group", GROUP,
                                               "--audit-log", Ctx.audit,
                                               "--audit-sync"]).start()
        passed, failed = it.run_tests(TESTS, Ctx.d, sys.argv[1:])
    except Exception:
        failed += 1
        print("FAIL setup: unexpected exception")
        traceback.print_exc(file=sys.stdout)
    finally:
        if Ctx.d:
            Ctx.d.kill()
        accounts(False)
        shutil.rmtree(Ctx.sock_dir, ignore_errors=True)
    if failed and Ctx.d:
        print("--- gexecd policy log (last lines):\n%s" % Ctx.d.log_tail(60))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
