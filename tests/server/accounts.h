/**
 * @file accounts.h
 * Test support for tests that make users and groups on this host
 * (useradd, groupadd) and check ids against the system's own `id`.
 */
#ifndef GXT_ACCOUNTS_H
#define GXT_ACCOUNTS_H

/**
 * Runs @p argv (NULL-terminated, found in PATH, no shell) with its output
 * discarded and returns its exit code (-1: it did not exit). While
 * another process holds the user databases' lock (useradd's exit 1 or
 * 10), retries for up to 2 s.
 */
int gxt_account_cmd(const char *const *argv);

/** The output of `id OPT NAME` without its trailing newlines, in a
 *  static buffer (the next call overwrites it); aborts the test if `id`
 *  cannot be run. */
const char *gxt_id_of(const char *opt, const char *name);

#endif
