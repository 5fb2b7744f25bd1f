/* Who is calling, on gexecd's unix socket: the real daemon, its socket
 * mode and group (--socket-group), connections from processes of other
 * uids (tests/lib/as_user.h, which hands the connected socket back to
 * this process to speak gRPC on: tests/lib/fd_call.h), and the peer's
 * pid, uid and gid in the run's log line. */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gexec/v1/exec.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/lib/as_user.h"
#include "tests/lib/fd_call.h"

/* Unprivileged identities no account on the host has. */
#define MEMBER_UID 12345
#define STRANGER_UID 12346
#define UNLISTED_UID 12347 /* in the group, in no policy rule */

/* The group the tests give the socket: any existing group but root's. */
static char g_group[64];
static gid_t g_gid;

static int group_setup(void **state) {
  static const char *names[] = {"nogroup", "daemon", "users", "adm"};
  (void)state;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    struct group *g = getgrnam(names[i]);
    if (g && g->gr_gid != 0) {
      snprintf(g_group, sizeof g_group, "%s", names[i]);
      g_gid = g->gr_gid;
      return 0;
    }
  }
  return -1;
}

/* The daemon's socket path, made reachable for other uids: the harness
 * puts it in a directory of mode 0700. */
static const char *socket_path(const gxt_daemon *d) {
  static char dir[200];
  const char *path = d->target + 5;
  snprintf(dir, sizeof dir, "%s", path);
  *strrchr(dir, '/') = '\0';
  assert_int_equal(chmod(dir, 0711), 0);
  return path;
}

/* Connects to @p path as @p uid (its gid the same number) with the
 * supplementary groups given; returns the socket or -errno. */
static int connect_as(const char *path, uid_t uid, const gid_t *groups,
                      size_t n, pid_t *pid) {
  gxt_as_user a;
  assert_int_equal(gxt_as_user_connect(path, uid, uid, groups, n, &a), 0);
  if (pid) *pid = a.pid;
  return gxt_as_user_take(&a);
}

/* A policy letting MEMBER_UID and root run anything; returns its path. */
static const char *write_policy(void) {
  static char path[512];
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(path, sizeof path, "%s/peer-policy.json", tmp ? tmp : "/tmp");
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "{\"rules\": [\n"
             " {\"name\": \"members\", \"match\": {\"uid\": %d}, \"allow\": {}},\n"
             " {\"name\": \"admin\", \"match\": {\"uid\": 0}, \"allow\": {}}\n"
             "]}\n",
          MEMBER_UID);
  assert_int_equal(fclose(f), 0);
  return path;
}

/* Runs `true` over @p fd with a hand-made Run call; returns its status,
 * and when OK asserts it exited 0. */
static int run_true_on(int fd) {
  char *argv[] = {"true"};
  Gexec__V1__Start st = GEXEC__V1__START__INIT;
  Gexec__V1__RunRequest req = GEXEC__V1__RUN_REQUEST__INIT;
  uint8_t buf[256];
  gxt_fd_result res;
  st.n_argv = 1;
  st.argv = argv;
  st.stdin_mode = GEXEC__V1__STDIN_MODE__STDIN_NULL;
  req.event_case = GEXEC__V1__RUN_REQUEST__EVENT_START;
  req.start = &st;
  size_t len = gexec__v1__run_request__pack(&req, buf);
  gxt_fd_call(fd, "/gexec.v1.Exec/Run", buf, len, 30000, &res);
  if (res.status != 0) return res.status;
  Gexec__V1__RunResponse *last =
      gexec__v1__run_response__unpack(NULL, res.last_len, res.last);
  assert_non_null(last);
  assert_int_equal(last->event_case, GEXEC__V1__RUN_RESPONSE__EVENT_EXITED);
  assert_int_equal(last->exited->exit_code, 0);
  gexec__v1__run_response__free_unpacked(last, NULL);
  return 0;
}

/* Whether the daemon's log has a run line with @p peer, waiting up to
 * 10 s (the line is written when the run ends). */
static int log_has_peer(const gxt_daemon *d, const char *peer) {
  char want[128], line[4096];
  snprintf(want, sizeof want, "\"peer\":\"%s\"", peer);
  for (long long end = gxt_now_ms() + 10000; gxt_now_ms() < end;) {
    FILE *f = fopen(d->log_path, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
      found = strstr(line, "\"event\":\"run\"") && strstr(line, want);
    if (f) fclose(f);
    if (found) return 1;
    usleep(20000);
  }
  return 0;
}

/* --socket-group: the socket is 0660 and of that group; a process of
 * another uid in the group runs a command (the policy allows its uid),
 * and the run's log line names it by pid, uid and gid (and this process,
 * root, likewise); a uid outside the group cannot connect at all; one in
 * the group but in no rule connects and is refused by the policy. */
static void group_members_connect_and_are_named(void **state) {
  gxt_daemon d;
  struct stat st;
  pid_t pid;
  char peer[96];
  gexec_result res;
  const gid_t member[1] = {g_gid};
  (void)state;
  gxt_daemon_start(&d,
                   ARGV("--socket-group", g_group, "--policy", write_policy()));
  const char *path = socket_path(&d);
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0660);
  assert_int_equal(st.st_gid, g_gid);
  assert_int_equal(st.st_uid, 0);

  assert_int_equal(connect_as(path, STRANGER_UID, NULL, 0, NULL), -EACCES);
  int fd = connect_as(path, MEMBER_UID, member, 1, &pid);
  assert_true(fd >= 0);
  assert_int_equal(run_true_on(fd), 0);
  snprintf(peer, sizeof peer, "unix:pid=%d,uid=%d,gid=%d", (int)pid,
           MEMBER_UID, MEMBER_UID);
  if (!log_has_peer(&d, peer)) fail_msg("no run logged with %s", peer);
  fd = connect_as(path, UNLISTED_UID, member, 1, NULL);
  assert_true(fd >= 0);
  assert_int_equal(run_true_on(fd), 7 /* PERMISSION_DENIED */);

  gexec_conn *c = gxt_connect(&d);
  gxt_run(c, ARGV("true"), &res);
  gexec_result_free(&res);
  gexec_conn_close(c);
  snprintf(peer, sizeof peer, "unix:pid=%d,uid=0,gid=%d", (int)getpid(),
           (int)getegid());
  if (!log_has_peer(&d, peer)) fail_msg("no run logged with %s", peer);
  assert_int_equal(gxt_daemon_stop(&d), 0);
  assert_int_equal(access(path, F_OK), -1); /* removed at exit */
}

/* Without --socket-group the socket is the daemon user's alone (0600):
 * even a member of any group is refused. */
static void default_socket_is_owner_only(void **state) {
  gxt_daemon d;
  struct stat st;
  const gid_t member[1] = {g_gid};
  (void)state;
  gxt_daemon_start(&d, NULL);
  const char *path = socket_path(&d);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_gid, getegid());
  assert_int_equal(connect_as(path, MEMBER_UID, member, 1, NULL), -EACCES);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* An unknown group: start-up is refused, naming it. */
static void unknown_socket_group_refuses_start(void **state) {
  char log[4096];
  (void)state;
  int st = gxt_daemon_run_to_exit(ARGV("--socket-group", "no-such-group-gx"),
                                  log, sizeof log);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 2);
  if (!strstr(log, "--socket-group no-such-group-gx: no such group"))
    fail_msg("log: %s", log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(group_members_connect_and_are_named),
      cmocka_unit_test(default_socket_is_owner_only),
      cmocka_unit_test(unknown_socket_group_refuses_start),
  };
  return cmocka_run_group_tests_name("peer", tests, group_setup, NULL);
}
