/* Test support: users and groups on this host; see accounts.h. */
#include "tests/server/accounts.h"

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
  char cmd[128];
  snprintf(cmd, sizeof cmd, "id %s %s", opt, name);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  pclose(p);
  while (n > 0 && out[n - 1] == '\n') n--;
  out[n] = '\0';
  return out;
}
