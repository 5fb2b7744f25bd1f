/* gexecd: the gexec daemon. See `gexecd --help` and README.md. */
#include <stdio.h>

#include "server/config.h"
#include "server/daemon.h"

int main(int argc, char **argv) {
  gxd_config cfg;
  char why[512];
  int rc = gxd_config_parse(argc, argv, &cfg, why, sizeof why);
  if (rc == GXD_CONFIG_EXIT) return 0;
  if (rc < 0) {
    fprintf(stderr, "gexecd: %s\n", why);
    return 2;
  }
  return gxd_daemon_run(&cfg);
}
