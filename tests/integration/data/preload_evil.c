/* A hostile LD_PRELOAD object, compiled by attack_test at run time.
 *
 * Its constructor runs in every process the dynamic loader starts with
 * LD_PRELOAD pointing at it. Inside the sandbox it only says so (on
 * stderr, with its uid); if it ever finds itself running as root in the
 * host's user namespace (the identity uid map), that is the escape the
 * test guards against: it proves it by reading /etc/shadow and leaves a
 * mark at $GXT_MARK, a path only host root can write. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void gxt_preload(void) {
  char map[256] = "";
  int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, map, sizeof map - 1) : -1;
  if (fd >= 0) close(fd);
  map[n > 0 ? n : 0] = '\0';
  int host_ns = strstr(map, "4294967295") != NULL;
  const char *mark = getenv("GXT_MARK");
  if (host_ns && geteuid() == 0) {
    char shadow[64] = "";
    int s = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
    ssize_t k = s >= 0 ? read(s, shadow, sizeof shadow - 1) : -1;
    if (s >= 0) close(s);
    int m = mark ? open(mark, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                 : -1;
    if (m >= 0) {
      dprintf(m, "host root in pid %d; read %zd bytes of /etc/shadow\n",
              (int)getpid(), k);
      close(m);
    }
    return;
  }
  if (!host_ns) dprintf(2, "preload-in-sandbox uid=%d\n", (int)getuid());
}
