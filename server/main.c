/* gexecd: the gexec daemon. See `gexecd --help` and README.md. */
#include <malloc.h>
#include <stdio.h>

#include "server/config.h"
#include "server/daemon.h"

int main(int argc, char **argv) {
  gxd_config cfg;
  /* Output and stdin move in ~1 MiB messages: keep such blocks on the
   * heap instead of a fresh mmap/munmap (and page faults) per message. */
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  /* gRPC's threads would each get a glibc arena (8 per core) that is
   * never given back: two arenas for all, trimmed when idle (daemon.c) */
  mallopt(M_ARENA_MAX, 2);
  char why[512];
  int rc = gxd_config_parse(argc, argv, &cfg, why, sizeof why);
  if (rc == GXD_CONFIG_EXIT) return 0;
  if (rc < 0) {
    fprintf(stderr, "gexecd: %s\n", why);
    return 2;
  }
  return gxd_daemon_run(&cfg);
}
