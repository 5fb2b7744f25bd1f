/* cgroup_attach: how long one write of a pid to a fresh cgroup's
 * cgroup.procs takes, depending on the gap since the previous one.
 *
 *   cgroup_attach CONTROLLER GAP_MS      (as root; e.g. pids 30)
 *
 * Makes /sys/fs/cgroup/CONTROLLER/gexec-attach-bench/lN, moves a sleeping
 * child into it, prints the write's duration in ms, kills the child and
 * removes the leaf; 8 times, GAP_MS apart. See docs/BENCHMARKS.md. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

int main(int argc, char **argv) {
  char base[256], leaf[300], procs[320], pid_text[32];
  if (argc != 3) {
    fprintf(stderr, "usage: cgroup_attach CONTROLLER GAP_MS\n");
    return 2;
  }
  int gap = atoi(argv[2]);
  snprintf(base, sizeof base, "/sys/fs/cgroup/%s/gexec-attach-bench", argv[1]);
  if (mkdir(base, 0755) != 0 && access(base, F_OK) != 0) {
    perror(base);
    return 1;
  }
  for (int i = 0; i < 8; i++) {
    usleep((useconds_t)gap * 1000);
    snprintf(leaf, sizeof leaf, "%s/l%d", base, i);
    snprintf(procs, sizeof procs, "%s/cgroup.procs", leaf);
    if (mkdir(leaf, 0755) != 0) {
      perror(leaf);
      break;
    }
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    snprintf(pid_text, sizeof pid_text, "%d", (int)p);
    double t0 = now_ms();
    int rc = write_file(procs, pid_text);
    double t1 = now_ms();
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    rmdir(leaf);
    if (rc != 0) {
      perror(procs);
      break;
    }
    printf("%.3f ", t1 - t0);
  }
  printf("\n");
  rmdir(base);
  return 0;
}
