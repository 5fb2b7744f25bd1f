/* gexecd: the gexec daemon. See `gexecd --help` and README.md. */
#include <malloc.h>
#include <stdio.h>

#include "server/config.h"
#include "server/daemon.h"
#include "server/profiles.h"
#include "server/signals.h"

/* The profile table: the built-ins and the --profiles file; the flags
 * naming profiles must name entries of it. Returns 0 or -1. */
static int load_profiles(const gxd_config *cfg, gxd_profiles *t, char *why,
                         size_t len) {
  gxd_profiles_init(t);
  if (cfg->profiles_file &&
      gxd_profiles_load(t, cfg->profiles_file, cfg->limits.max_open_files,
                        why, len) != 0)
    return -1;
  return gxd_profiles_check_flags(t, cfg, why, len);
}

int main(int argc, char **argv) {
  static gxd_profiles profiles;
  gxd_config cfg;
  /* before any thread exists: the loop reads these (signals.h) */
  if (gxd_signals_block() != 0) {
    perror("gexecd: blocking signals");
    return 1;
  }
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
  if (rc == 0) rc = load_profiles(&cfg, &profiles, why, sizeof why);
  if (rc < 0) {
    fprintf(stderr, "gexecd: %s\n", why);
    return 2;
  }
  return gxd_daemon_run(&cfg, &profiles);
}
