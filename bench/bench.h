/* Shared by the files of bench/ (the gexec_bench program): options,
 * helpers, result tables and statistics. Not a library API. */
#ifndef GEXEC_BENCH_H
#define GEXEC_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/gexec.h"

extern char **environ;


#define MIB (1024u * 1024u)
#define LOCAL_READ (256u * 1024u) /* local stdout baseline read size */
#define WRITE_CHUNK MIB           /* stdin write size, remote and local */
#define LAT_TARGET 2.0            /* remote p50 / local p50 */
#define GBPS_TARGET 1.0           /* stdout, 10^9 bytes per second */
#define RSS_TARGET_MIB 64.0       /* daemon VmHWM */
#define SAMPLE_MS 10              /* VmRSS sampling period */
#define ISO_TARGET_US 3000.0      /* restricted p50 - host p50, remote */

typedef struct {
  const char *target;
  pid_t daemon_pid; /* 0: no RSS / CPU figures */
  int iters, warmup;
  uint64_t bytes;
  int sessions, sleep_s;
  const char *sections; /* digits of the sections to run; default "12345" */
  const char *launcher; /* gexec-launch for §5's local rows, or NULL */
  int iso_iters;        /* §5 samples per series */
  int soak_runs, soak_kills; /* §6, over all three profiles */
  const char *cli;      /* gexec (the CLI) for §6's killed clients */
  const char *instance; /* gexecd's --instance, for §6's cgroup count */
  const char *exec_target; /* §7: a gexecd with --launch-mode exec */
  pid_t exec_daemon_pid;
} options;


typedef struct {
  double own;             /* utime + stime */
  double kids;            /* cutime + cstime: reaped children */
  unsigned long long flt; /* minor page faults */
} proc_stat;

#define MAX_ROWS 64

typedef struct {
  char sec[4], metric[160], remote[160], local[160], ratio[24], target[48],
      result[40];
} row;

#define SET(field, ...) snprintf((field), sizeof(field), __VA_ARGS__)

typedef struct {
  int64_t t;
  proc_stat all, loop; /* gexecd */
  double bench;
  long bench_flt;
} snap;

typedef struct {
  const char *name;
  snap a, b;
} cpu_row;

typedef struct {
  double p50, p99, mean; /* microseconds */
} stats;

typedef struct {
  uint64_t out, err; /* bytes of stdout / stderr */
  uint64_t out_events, max_event;
  char text[64];     /* the first bytes of stdout, NUL-terminated */
  size_t text_len;
  gexec_exit exit;
} drained;

/* Helpers shared between bench files (common.c; remote_true_in and
 * ping_once in latency.c, read_to_eof in throughput.c); the
 * gb_ prefix marks symbols shared between bench files. */
int64_t gb_now_ns(void);
int gb_fail(const char *what, const char *fmt, ...);
int gb_fail_gexec(const char *what, int rc, const gexec_error *e);
int gb_check_exit(const char *what, const gexec_exit *x);
int gb_wait_child(const char *what, pid_t pid);
int gb_write_all(int fd, const uint8_t *b, size_t len);
long gb_proc_status_kb(pid_t pid, const char *key);
double gb_kb_to_mib(long kb);
row *gb_add_row(const char *sec, const char *metric);
const char *gb_cell(const char *s);
void gb_print_rows(void);
snap gb_take_snap(const options *o);
void gb_add_cpu(const char *name, snap a, snap b);
void gb_print_cpu(void);
stats gb_stats_of(int64_t *v, int n);
int gb_drain(gexec_proc *p, drained *d, gexec_error *e);
int gb_check_drained(const char *what, const drained *d);
double gb_gbps(uint64_t bytes, int64_t ns);
extern int gb_failures;
extern row gb_rows[MAX_ROWS];
extern int gb_nrows;
int gb_remote_true_in(gexec_conn *c, const char *profile, int64_t *ns, int64_t *inner, gexec_isolation *iso, gexec_error *e);
int gb_ping_once(gexec_conn *c, int64_t *ns);
int64_t gb_read_to_eof(int fd, char *keep, size_t keep_len);

/* One section of the benchmark. */
void bench_latency(const options *o, gexec_conn *c);
void bench_ping(const options *o, gexec_conn *c);
void bench_stdout(const options *o, gexec_conn *c);
void bench_stdin(const options *o, gexec_conn *c);
void bench_sessions(const options *o, gexec_conn *c);
void bench_isolation(const options *o, gexec_conn *c);
void bench_soak(const options *o, gexec_conn *c);
/** §7: fork server against exec per run (latency, runs/s, CPU per run). */
void bench_concurrency(const options *o, gexec_conn *c);
/** §8: the event API (one thread, one gexec_evq): runs/s and client CPU
 *  per run at 1-256 in flight; threads, RSS, sockets at 1,000 connections. */
void bench_evq(const options *o, gexec_conn *c);
/* The §6 table (printed after the main one). */
void bench_print_soak(void);
/* The §4 peak-memory rows, read at the end of the whole run. */
void bench_report_peak(const options *o, long idle_kb);

#endif
