/* Test support: users and groups on this host; see accounts.h. */
#include "tests/server/accounts.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

int gxt_account_cmd(const char *const *argv) {
  for (int attempt = 0; attempt < 20; attempt++) {
    pid_t pid = fork();
    if (pid == 0) {
      if (!freopen("/dev/null", "w", stdout) ||
          !freopen("/dev/null", "w", stderr))
        _exit(127);
      execvp(argv[0], (char *const *)argv);
      _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    /* 1, 10: could not update (the lock is another's): again */
    if (code != 10 && code != 1) return code;
    usleep(100000);
  }
  return -1;
}

const char *gxt_id_of(const char *opt, const char *name) {
  static char out[8192];
  int fds[2];
  size_t n = 0;
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork(); /* `id OPT NAME`, no shell between */
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("id", "id", opt, name, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  for (ssize_t r; n < sizeof out - 1 &&
                  (r = read(fds[0], out + n, sizeof out - 1 - n)) != 0;)
    if (r > 0) n += (size_t)r;
    else if (errno != EINTR) break;
  close(fds[0]);
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  while (n > 0 && out[n - 1] == '\n') n--;
  out[n] = '\0';
  return out;
}
