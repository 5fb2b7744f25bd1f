/*
 * fanout_example: one command on many daemons at once, followed from one
 * thread through one libgexec event queue. Every target gets its own
 * connection (made lazily, with the run; a 2 s connect timeout each), so
 * a target that cannot be reached fails on its own and never holds up
 * the others. When every run is over, prints for each target, in the
 * order given, its stdout lines prefixed with the target, then how it
 * ended:
 *
 *   fanout_example TARGET[,TARGET...] COMMAND [ARG...]
 *
 *   host1:7443: hello
 *   host1:7443: exit status 0
 *   unix:/nope.sock: error: cannot connect to unix:/nope.sock: no such socket
 *
 * Each target's stdout is kept up to 64 KiB ("[output truncated]" past
 * it); its stderr goes to ours as it arrives. Exits 0 when the command ran
 * everywhere (whatever its exit statuses), 1 when it could not run on
 * some target, 2 on a usage error.
 *
 *   cc fanout_example.c $(pkg-config --cflags --libs libgexec)
 */
#include <gexec/gexec.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 64
#define MAX_OUT (64 * 1024)

typedef struct {
  const char *target;
  gexec_conn *conn;
  gexec_proc *proc;
  char out[MAX_OUT];
  size_t out_len;
  int truncated;
  char result[600]; /* how it ended */
} host;

static void keep_output(host *h, const uint8_t *data, size_t len) {
  size_t room = MAX_OUT - h->out_len;
  if (len > room) {
    len = room;
    h->truncated = 1;
  }
  memcpy(h->out + h->out_len, data, len);
  h->out_len += len;
}

/* Prints the kept stdout, one prefixed line at a time. */
static void print_host(const host *h) {
  size_t i = 0;
  while (i < h->out_len) {
    const char *nl = memchr(h->out + i, '\n', h->out_len - i);
    size_t n = nl ? (size_t)(nl - (h->out + i)) : h->out_len - i;
    printf("%s: %.*s\n", h->target, (int)n, h->out + i);
    i += n + (nl != NULL);
  }
  if (h->truncated) printf("%s: [output truncated]\n", h->target);
  printf("%s: %s\n", h->target, h->result);
}

/* Starts the command on every target; a target whose run cannot even be
 * started gets its result at once. */
static void start_all(host *hosts, int n, const char *const *argv,
                      gexec_evq *q, int *pending) {
  gexec_conn_opts *o;
  gexec_spec spec = GEXEC_SPEC_INIT;
  spec.argv = argv;
  spec.stdin_null = 1;
  if (gexec_conn_opts_new(&o) != GEXEC_OK) exit(1);
  gexec_conn_opts_set_lazy(o, 1);
  gexec_conn_opts_set_connect_timeout(o, 2000);
  for (int i = 0; i < n; i++) {
    gexec_error err;
    host *h = &hosts[i];
    if (gexec_connect(h->target, o, &h->conn, &err) == GEXEC_OK &&
        gexec_proc_start_async(h->conn, &spec, q, h, &h->proc, &err) ==
            GEXEC_OK) {
      (*pending)++;
      continue;
    }
    snprintf(h->result, sizeof h->result, "error: %s", err.message);
  }
  gexec_conn_opts_free(o);
}

/* Takes events until every run ended; returns how many could not run. */
static int follow(gexec_evq *q, int pending) {
  int failed = 0;
  while (pending > 0) {
    const gexec_run_event *ev;
    if (gexec_evq_next(q, &ev, -1, NULL) != GEXEC_OK) exit(1);
    host *h = ev->user_data;
    switch (ev->type) {
      case GEXEC_EV_STDOUT: keep_output(h, ev->data, ev->len); break;
      case GEXEC_EV_STDERR: fwrite(ev->data, 1, ev->len, stderr); break;
      case GEXEC_EV_EXIT:
        if (ev->exit->signal)
          snprintf(h->result, sizeof h->result, "killed by signal %d",
                   ev->exit->signal);
        else
          snprintf(h->result, sizeof h->result, "exit status %d",
                   ev->exit->exit_code);
        pending--;
        break;
      case GEXEC_EV_ERROR:
        snprintf(h->result, sizeof h->result, "error: %s",
                 ev->error->message);
        failed++;
        pending--;
        break;
      default: break; /* started; writable (we write no stdin) */
    }
  }
  return failed;
}

int main(int argc, char **argv) {
  static host hosts[MAX_TARGETS];
  int n = 0, pending = 0;
  if (argc < 3 || argv[1][0] == '-') {
    fprintf(stderr, "usage: fanout_example TARGET[,TARGET...] COMMAND "
                    "[ARG...]\n");
    return 2;
  }
  for (char *t = strtok(argv[1], ","); t; t = strtok(NULL, ",")) {
    if (n == MAX_TARGETS) {
      fprintf(stderr, "fanout_example: at most %d targets\n", MAX_TARGETS);
      return 2;
    }
    hosts[n++].target = t;
  }
  gexec_evq *q;
  if (gexec_evq_new(&q, NULL) != GEXEC_OK) return 1;
  start_all(hosts, n, (const char *const *)argv + 2, q, &pending);
  int failed = follow(q, pending);
  for (int i = 0; i < n; i++) {
    print_host(&hosts[i]);
    if (!hosts[i].proc) failed++;
    gexec_proc_free(hosts[i].proc);
    gexec_conn_close(hosts[i].conn);
  }
  gexec_evq_free(q);
  return failed ? 1 : 0;
}
