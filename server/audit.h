/**
 * @file audit.h
 * The audit log (`gexecd --audit-log FILE`): JSON lines, append-only, one
 * record when a run is decided (written before anything is spawned) and
 * one when it ends.
 *
 * Writing: each record is one write(2) of one line to a file opened
 * O_APPEND, on the loop thread; a write to a local file costs
 * microseconds (the page cache). With --audit-sync the record must also
 * be on disk before the run is launched: fdatasync runs on libuv's
 * thread pool, never on the loop, and one sync covers every record
 * written before it started (group commit), so a burst of runs costs
 * one or two syncs, not one each.
 *
 * Failure: a record that cannot be written (ENOSPC, EIO, a file that
 * vanished from a full disk...) or synced refuses its run; the caller
 * answers UNAVAILABLE and logs the reason. Nothing is retried behind the
 * caller's back: the next record tries again. A partial write (a full
 * disk) leaves a torn line; the next record starts on a fresh line.
 *
 * Ownership: the gxd_audit is the daemon's; waiters are the caller's
 * memory (embedded in its session) and stay linked until their callback
 * fired or gxd_audit_cancel removed them. All functions run on the loop
 * thread.
 */
#ifndef GXD_AUDIT_H
#define GXD_AUDIT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct gxd_audit gxd_audit;

/** Largest record written, in bytes (a record is refused -E2BIG past
 *  it): room for GXD_AUDIT_ARGV_BUDGET bytes escaped six times over. */
#define GXD_AUDIT_RECORD_MAX (1u << 20)
/** Bytes of argv and env names one record keeps, all strings together;
 *  past it they are cut and the record says "truncated": true. */
#define GXD_AUDIT_ARGV_BUDGET (64u << 10)
/** Longest string value kept in a record (argv elements, cwd...);
 *  longer ones are cut and the record says "truncated": true. */
#define GXD_AUDIT_STRING_MAX 4096
/** Most argv elements and env names kept in a record. */
#define GXD_AUDIT_LIST_MAX 256

/** A run waiting for its decision record to be on disk (--audit-sync). */
typedef struct gxd_audit_waiter {
  struct gxd_audit_waiter *next;
  uint64_t seq;
  /** Fires once, from the loop: @p err 0 = the record is on disk, else
   *  -errno of the failed sync (the run must be refused). */
  void (*cb)(struct gxd_audit_waiter *w, int err);
} gxd_audit_waiter;

/**
 * Opens (creating, mode 0600) @p path for appending. @p sync: records
 * are fdatasync'ed (gxd_audit_write returns 1 until they are). Returns 0
 * with *out owning the log, or -1 with the reason in @p why.
 */
int gxd_audit_open(uv_loop_t *loop, const char *path, int sync,
                   gxd_audit **out, char *why, size_t why_len);

/**
 * Reopens the file by its name (SIGHUP, after a log rotation). On failure
 * the old file stays in use and -1 is returned with the reason.
 */
int gxd_audit_reopen(gxd_audit *a, char *why, size_t why_len);

/**
 * Appends @p rec (borrowed) as one line, adding "ts". Returns 0 (written;
 * durable as promised: nothing to wait for), 1 (written; with --audit-sync
 * wait with gxd_audit_wait using *@p seq before acting on it), or -errno
 * (not written: refuse the run).
 */
int gxd_audit_write(gxd_audit *a, json_object *rec, uint64_t *seq);

/**
 * Waits until record @p seq is on disk: @p w->cb fires later from the
 * loop (never from inside this call), with 0 or -errno. Returns 0, or
 * -errno (no sync could be started; @p cb never fires).
 */
int gxd_audit_wait(gxd_audit *a, uint64_t seq, gxd_audit_waiter *w,
                    void (*cb)(gxd_audit_waiter *w, int err));

/** With --audit-sync: starts a sync of what was written, for records
 *  nobody waits for (a run's end). Nothing otherwise, or on failure
 *  (the next sync covers them). */
void gxd_audit_flush(gxd_audit *a);

/** Unlinks a waiter whose callback has not fired (its run is gone);
 *  a waiter not linked is fine. */
void gxd_audit_cancel(gxd_audit *a, gxd_audit_waiter *w);

/** A JSON string of @p value, cut at @p max bytes (at most
 *  GXD_AUDIT_STRING_MAX; never inside a UTF-8 character); *@p cut is set
 *  to 1 if it was. */
json_object *gxd_audit_string_n(const char *value, size_t max, int *cut);

/** gxd_audit_string_n with GXD_AUDIT_STRING_MAX. */
json_object *gxd_audit_string(const char *value, int *cut);

/**
 * Adds string @p value as @p key (gxd_audit_string), setting
 * "truncated": true in @p rec when it was cut.
 */
void gxd_audit_add_string(json_object *rec, const char *key,
                          const char *value);

/** Closes the log. Pending waiters get -ECANCELED (from this call); a
 *  sync in flight completes first, on the thread pool: run the loop to
 *  free everything. NULL is fine. */
void gxd_audit_close(gxd_audit *a);

#endif
