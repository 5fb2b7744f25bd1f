/* Unit tests for client/cli/args: fleet mode (-w) of `run` and `facts`,
 * and the `facts` subcommand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/args.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof *(v)) - 1)

static gxc_args a;
static char why[512];

static void parse_ok(char **argv, int argc) {
  why[0] = '\0';
  if (gxc_args_parse(argc, argv, &a, why, sizeof why) != 0)
    fail_msg("unexpected error: %s", why);
}

static void parse_err(char **argv, int argc, gxc_cmd cmd, const char *msg) {
  assert_int_equal(gxc_args_parse(argc, argv, &a, why, sizeof why), -1);
  assert_string_equal(why, msg);
  assert_int_equal(a.cmd, cmd);
}

static void fleet_all_options(void **state) {
  char *v[] = {"gexec", "run", "-w", "n[1-4]", "--targets", "@web", "-x",
               "n2", "--exclude", "n3", "-f", "8", "--connect-timeout", "2s",
               "--deadline", "1m", "-t", "5", "-b", "--outdir", "/tmp/o",
               "--stdin", "--stdin-timeout", "0", "--groups-file", "/g",
               "uname", "-n", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_int_equal(a.cmd, GXC_CMD_RUN);
  assert_int_equal(a.fleet, 1);
  assert_int_equal(a.nw, 2);
  assert_string_equal(a.wtargets[0], "n[1-4]");
  assert_string_equal(a.wtargets[1], "@web");
  assert_null(a.wtargets[2]);
  assert_int_equal(a.nx, 2);
  assert_string_equal(a.xtargets[1], "n3");
  assert_int_equal(a.fanout, 8);
  assert_int_equal(a.connect_timeout_ms, 2000);
  assert_int_equal(a.deadline_ms, 60000);
  assert_int_equal(a.timeout_ms, 5000);
  assert_int_equal(a.gather, 1);
  assert_int_equal(a.diff, 0);
  assert_string_equal(a.outdir, "/tmp/o");
  assert_int_equal(a.send_stdin, 1);
  assert_int_equal(a.stdin_timeout_ms, 0);
  assert_string_equal(a.groups_file, "/g");
  assert_int_equal(a.prog_argc, 2);
  assert_string_equal(a.prog[0], "uname");
}

static void fleet_defaults(void **state) {
  char *v[] = {"gexec", "run", "-w", "h1", "true", NULL};
  char *d[] = {"gexec", "run", "-w", "h1", "--diff", "true", NULL};
  char *one[] = {"gexec", "run", "-H", "h1:7443", "--connect-timeout",
                 "500ms", "true", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_int_equal(a.fanout, GXC_DEFAULT_FANOUT);
  assert_int_equal(a.fanout, 64);
  assert_int_equal(a.stdin_timeout_ms, GXC_DEFAULT_STDIN_TIMEOUT_MS);
  assert_int_equal(a.deadline_ms, 0);
  assert_int_equal(a.send_stdin, 0);
  assert_int_equal(a.gather, 0);
  parse_ok(d, ARGC(d));
  assert_int_equal(a.diff, 1);
  assert_int_equal(a.gather, 1); /* --diff implies -b */
  /* --connect-timeout also serves one host */
  parse_ok(one, ARGC(one));
  assert_int_equal(a.fleet, 0);
  assert_int_equal(a.connect_timeout_ms, 500);
}

static void fleet_mode_errors(void **state) {
  char *both[] = {"gexec", "run", "-H", "a:1", "-w", "b", "true", NULL};
  char *x[] = {"gexec", "run", "-x", "b", "true", NULL};
  char *b[] = {"gexec", "run", "-b", "true", NULL};
  char *diff[] = {"gexec", "run", "--diff", "true", NULL};
  char *out[] = {"gexec", "run", "--outdir", "d", "true", NULL};
  char *in[] = {"gexec", "run", "--stdin", "true", NULL};
  char *f[] = {"gexec", "run", "-f", "2", "true", NULL};
  char *dl[] = {"gexec", "run", "--deadline", "2", "true", NULL};
  char *gf[] = {"gexec", "run", "--groups-file", "g", "true", NULL};
  char *jb[] = {"gexec", "run", "-w", "a", "--json", "-b", "true", NULL};
  char *jd[] = {"gexec", "run", "-w", "a", "--json", "--diff", "true", NULL};
  char *sn[] = {"gexec", "run", "-w", "a", "--stdin", "-n", "true", NULL};
  char *f0[] = {"gexec", "run", "-w", "a", "-f", "0", "true", NULL};
  char *fbig[] = {"gexec", "run", "-w", "a", "-f", "4097", "true", NULL};
  char *dl0[] = {"gexec", "run", "-w", "a", "--deadline", "0", "true", NULL};
  char *ct[] = {"gexec", "run", "-w", "a", "--connect-timeout", "x", "t",
                NULL};
  char *ew[] = {"gexec", "run", "-w", "", "true", NULL};
  (void)state;
  parse_err(both, ARGC(both), GXC_CMD_RUN,
            "-H and -w cannot be used together (-H: one host, byte-exact; "
            "-w: a fleet)");
  parse_err(x, ARGC(x), GXC_CMD_RUN, "-x needs -w (fleet mode)");
  parse_err(b, ARGC(b), GXC_CMD_RUN, "-b needs -w (fleet mode)");
  parse_err(diff, ARGC(diff), GXC_CMD_RUN, "--diff needs -w (fleet mode)");
  parse_err(out, ARGC(out), GXC_CMD_RUN, "--outdir needs -w (fleet mode)");
  parse_err(in, ARGC(in), GXC_CMD_RUN, "--stdin needs -w (fleet mode)");
  parse_err(f, ARGC(f), GXC_CMD_RUN, "-f needs -w (fleet mode)");
  parse_err(dl, ARGC(dl), GXC_CMD_RUN, "--deadline needs -w (fleet mode)");
  parse_err(gf, ARGC(gf), GXC_CMD_RUN, "--groups-file needs -w (fleet mode)");
  parse_err(jb, ARGC(jb), GXC_CMD_RUN, "--json cannot be combined with -b");
  parse_err(jd, ARGC(jd), GXC_CMD_RUN,
            "--json cannot be combined with --diff");
  parse_err(sn, ARGC(sn), GXC_CMD_RUN,
            "--stdin and -n cannot be used together");
  parse_err(f0, ARGC(f0), GXC_CMD_RUN,
            "invalid value '0' for -f: expected a count from 1 to 4096");
  parse_err(fbig, ARGC(fbig), GXC_CMD_RUN,
            "invalid value '4097' for -f: expected a count from 1 to 4096");
  parse_err(dl0, ARGC(dl0), GXC_CMD_RUN,
            "invalid value '0' for --deadline: expected a duration > 0, like "
            "60s, 1.5 or 2m");
  parse_err(ct, ARGC(ct), GXC_CMD_RUN,
            "invalid value 'x' for --connect-timeout: expected a duration > "
            "0, like 5s, 0.5 or 500ms");
  parse_err(ew, ARGC(ew), GXC_CMD_RUN, "-w: empty target list");
}

static void fleet_target_option_limit(void **state) {
  char *v[2 * (GXC_MAX_TARGET_OPTS + 1) + 4];
  int n = 0;
  (void)state;
  v[n++] = "gexec";
  v[n++] = "run";
  for (int i = 0; i <= GXC_MAX_TARGET_OPTS; i++) {
    v[n++] = "-w";
    v[n++] = "h";
  }
  v[n++] = "true";
  v[n] = NULL;
  parse_err(v, n, GXC_CMD_RUN, "too many -w options (at most 64)");
}

static void facts_options(void **state) {
  char *one[] = {"gexec", "facts", "-H", "unix:/s", "--json", NULL};
  char *fl[] = {"gexec", "facts", "-w", "n[1-3]", "-x", "n2", "--diff",
                "--all-filesystems", "-t", "2s", "os.id",
                "memory.total_bytes", NULL};
  char *mixed[] = {"gexec", "facts", "hostname", "--json", NULL};
  (void)state;
  parse_ok(one, ARGC(one));
  assert_int_equal(a.cmd, GXC_CMD_FACTS);
  assert_string_equal(a.target, "unix:/s");
  assert_int_equal(a.json, 1);
  assert_null(a.prog);
  assert_int_equal(a.prog_argc, 0);
  parse_ok(fl, ARGC(fl));
  assert_int_equal(a.fleet, 1);
  assert_int_equal(a.diff, 1);
  assert_int_equal(a.gather, 0);
  assert_int_equal(a.all_filesystems, 1);
  assert_int_equal(a.timeout_ms, 2000);
  assert_int_equal(a.prog_argc, 2);
  assert_string_equal(a.prog[0], "os.id");
  assert_string_equal(a.prog[1], "memory.total_bytes");
  /* FIELDs and options mix (GNU order) */
  parse_ok(mixed, ARGC(mixed));
  assert_int_equal(a.json, 1);
  assert_int_equal(a.prog_argc, 1);
  assert_string_equal(a.prog[0], "hostname");
}

static void facts_errors(void **state) {
  char *help[] = {"gexec", "facts", "--help", NULL};
  char *diff[] = {"gexec", "facts", "--diff", NULL};
  char *both[] = {"gexec", "facts", "-H", "a:1", "-w", "b", NULL};
  char *b[] = {"gexec", "facts", "-w", "a", "-b", NULL};
  char *t0[] = {"gexec", "facts", "-t", "0", NULL};
  (void)state;
  parse_ok(help, ARGC(help));
  assert_int_equal(a.cmd, GXC_CMD_FACTS_HELP);
  parse_err(diff, ARGC(diff), GXC_CMD_FACTS, "--diff needs -w (fleet mode)");
  parse_err(both, ARGC(both), GXC_CMD_FACTS,
            "-H and -w cannot be used together (-H: one host, byte-exact; "
            "-w: a fleet)");
  parse_err(b, ARGC(b), GXC_CMD_FACTS, "unknown option '-b'");
  parse_err(t0, ARGC(t0), GXC_CMD_FACTS,
            "invalid value '0' for -t: expected a duration > 0, like 5s, 0.5 "
            "or 500ms");
}

static void fleet_usage_texts(void **state) {
  (void)state;
  assert_non_null(strstr(gxc_usage_main(), "  facts "));
  assert_non_null(strstr(gxc_usage_run(), "-w, --targets TARGETS"));
  assert_non_null(strstr(gxc_usage_run(), "default port 7443"));
  assert_non_null(strstr(gxc_usage_run(), "-b, --gather"));
  assert_non_null(strstr(gxc_usage_run(), "Fleet exit status"));
  assert_non_null(strstr(gxc_usage_facts(), "Usage: gexec facts"));
  assert_non_null(strstr(gxc_usage_facts(), "-w, --targets TARGETS"));
  assert_non_null(strstr(gxc_usage_facts(), "os.version_id"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fleet_all_options),
      cmocka_unit_test(fleet_defaults),
      cmocka_unit_test(fleet_mode_errors),
      cmocka_unit_test(fleet_target_option_limit),
      cmocka_unit_test(facts_options),
      cmocka_unit_test(facts_errors),
      cmocka_unit_test(fleet_usage_texts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
