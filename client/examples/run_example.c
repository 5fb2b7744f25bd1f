/*
 * run_example: the smallest complete libgexec program. Connects to a
 * gexecd, runs one command there, prints the command's stdout (and its
 * stderr on our stderr), then one line saying how it ended (on a line of
 * its own, after a newline if the output did not end with one).
 *
 *   run_example [TARGET [COMMAND [ARG...]]]
 *
 * TARGET is "unix:/path" or "host:port"; absent or "" means
 * $GEXEC_TARGET, else the default socket. COMMAND defaults to `uname -sr`.
 * Exits 0 when the command ran (whatever its own exit status), 1 when it
 * could not be run, 2 on a usage error.
 *
 * Build it against an installed libgexec (see README.md):
 *   cc run_example.c $(pkg-config --cflags --libs libgexec)
 */
#include <gexec/gexec.h>

#include <stdio.h>

static const char *const default_argv[] = {"uname", "-sr", NULL};

/* Prints how the run ended. */
static void print_exit(const gexec_exit *e) {
  if (e->signal)
    printf("killed by signal %d\n", e->signal);
  else
    printf("exit status %d\n", e->exit_code);
}

/* Runs @p argv on @p conn; returns this program's exit code. */
static int run(gexec_conn *conn, const char *const *argv) {
  gexec_spec spec = GEXEC_SPEC_INIT;
  spec.argv = argv;
  spec.stdin_null = 1;
  gexec_result res;
  gexec_error err;
  if (gexec_run(conn, &spec, NULL, &res, &err) != GEXEC_OK) {
    fprintf(stderr, "run_example: %s: %s (%s)\n", argv[0], err.message,
            err.code == GEXEC_ESTATUS ? gexec_status_name(err.status)
                                      : gexec_strerror(err.code));
    return 1;
  }
  fwrite(res.out, 1, res.out_len, stdout);
  if (res.out_len > 0 && res.out[res.out_len - 1] != '\n') putchar('\n');
  fwrite(res.err, 1, res.err_len, stderr);
  print_exit(&res.exit);
  gexec_result_free(&res);
  return 0;
}

int main(int argc, char **argv) {
  const char *target = argc > 1 && argv[1][0] ? argv[1] : NULL;
  const char *const *cmd = argc > 2 ? (const char *const *)argv + 2
                                    : default_argv;
  gexec_conn *conn;
  gexec_error err;
  if (argc > 1 && argv[1][0] == '-') {
    fprintf(stderr, "usage: run_example [TARGET [COMMAND [ARG...]]]\n");
    return 2;
  }
  if (gexec_connect(target, NULL, &conn, &err) != GEXEC_OK) {
    fprintf(stderr, "run_example: cannot connect: %s\n", err.message);
    return 1;
  }
  int rc = run(conn, cmd);
  gexec_conn_close(conn);
  return rc;
}
