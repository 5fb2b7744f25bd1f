/**
 * @file fleet.h
 * Fleet mode (`gexec run -w`, `gexec facts -w`): one call per host on
 * many hosts at once, from one thread of ours and libgexec's engine.
 *
 * The driver (fleet.c) expands the targets, starts at most -f hosts at a
 * time (each on a lazy connection of its own, all on one event queue),
 * follows their events, enforces --deadline and --connect-timeout, takes
 * Ctrl-C, shows progress on a terminal, and when every host is done
 * prints the summary and returns the exit status. What is called on each
 * host and what is printed is a "kind": fleet_run.c (run) and
 * fleet_facts.c (facts).
 *
 * Time: a host's run gets timeout_ms = min(-t, time left before the
 * deadline), so its daemon kills the process tree and reports timed_out;
 * a host still connecting (or not started) at the deadline is
 * unreachable; a host whose daemon has not answered GXC_FLEET_LATE_MS
 * after the deadline, or after its run's timeout (-t, also without
 * --deadline), plus the kill grace, is cancelled and failed.
 */
#ifndef GXC_FLEET_H
#define GXC_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "client/cli/args.h"
#include "client/cli/fleet_host.h"
#include "client/cli/out.h"
#include "client/cli/targets.h"
#include "client/gexec.h"

/** How long after the deadline (plus the kill grace) a started run's
 *  daemon may take to report its end before we give up on it. */
#define GXC_FLEET_LATE_MS 10000

/** --stdin spools at most this much of our stdin. */
#define GXC_FLEET_STDIN_MAX ((size_t)64 << 20)

typedef struct gxc_fleet gxc_fleet;

/** What a fleet does on each host and prints at the end. */
typedef struct {
  /** Starts @p h's call on f->q with user_data @p h (h->proc set), with
   *  @p timeout_ms (0 = none). GEXEC_OK, or an error (no event comes). */
  int (*start)(gxc_fleet *f, gxc_host *h, uint64_t timeout_ms,
               gexec_error *err);
  /** An event other than STARTED, EXIT and ERROR (output, stdin room,
   *  facts); returns 1 if it ended the host (gxc_fleet_end called). */
  int (*on_event)(gxc_fleet *f, gxc_host *h, const gexec_run_event *ev);
  /** Called about once a second for each running host (NULL: none). */
  void (*tick)(gxc_fleet *f, gxc_host *h, int64_t now_us);
  /** The host just ended (outcome set; its run freed): flush what is
   *  pending for it. */
  void (*on_end)(gxc_fleet *f, gxc_host *h);
  /** Every host is done: prints the results (not the summary); returns
   *  the exit status. */
  int (*report)(gxc_fleet *f, int64_t wall_us);
} gxc_fleet_kind;

/** A fleet run. The driver's state; kinds read it and use out/err. */
struct gxc_fleet {
  const gxc_args *a;
  const gexec_conn_opts *opts; /**< lazy, with the connect timeout */
  const gxc_fleet_kind *kind;
  gxc_target_list targets;
  gxc_host *hosts;
  size_t n;
  size_t next;       /**< the next host to start */
  size_t active;     /**< hosts calling or running */
  size_t ndone;
  size_t open_conns; /**< connections of ended hosts left open */
  gexec_evq *q;
  int64_t t0_us;
  int64_t deadline_us; /**< monotonic; 0 = none */
  gxc_out out, err;    /**< our stdout and stderr */
  uint8_t *spool;      /**< --stdin: all of it; owned */
  size_t spool_len;
  int sig_fd;          /**< read end of the signal thread's pipe */
  int interrupted;     /**< a first signal came: start no more hosts */
  int cancel_sig;      /**< a second one came (its number) */
  int progress_shown;  /**< a progress line is on the terminal */
  int64_t next_progress_us;
  int tty;             /**< stderr is a terminal */
};

/** Runs a fleet of kind @p kind for @p a with connection options @p opts
 *  (the caller's; the driver makes them lazy and sets the connect
 *  timeout). Returns the exit status. Prints every error itself. Must be
 *  called while the process has one thread (signals: see run.h). */
int gxc_fleet_main(const gxc_args *a, gexec_conn_opts *opts,
                   const gxc_fleet_kind *kind);

/** Ends @p h (its outcome must be set): frees its run, releases its
 *  connection, counts it done, calls the kind's on_end. */
void gxc_fleet_end(gxc_fleet *f, gxc_host *h);

/** Ends @p h with a failure of ours (@p o: UNREACHABLE or FAILED, the
 *  status CANCELLED) for reason @p why: deadline, interrupted, stdin. */
void gxc_fleet_fail(gxc_fleet *f, gxc_host *h, gxc_outcome o,
                    const char *why);

/** CLOCK_MONOTONIC now, in microseconds. */
int64_t gxc_fleet_now_us(void);

/** Makes the --outdir directory @p dir (one level) unless it exists.
 *  Returns 0, or -1 with a reason in @p why. */
int gxc_fleet_make_outdir(const char *dir, char *why, size_t len);

/** Clears the progress line (before anything else goes to a terminal). */
void gxc_fleet_clear_progress(gxc_fleet *f);

/** The kind of `gexec run -w` (fleet_run.c). */
extern const gxc_fleet_kind gxc_fleet_run_kind;

#endif
