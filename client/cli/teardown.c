/* The end of a gexec process: see teardown.h. */
#include "client/cli/teardown.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void gxc_conn_release(gexec_conn *conn) {
  if (GXC_FULL_TEARDOWN && conn) gexec_conn_close(conn);
}

void gxc_exit(int status) {
  fflush(NULL);
  if (GXC_FULL_TEARDOWN) exit(status);
  _exit(status);
}
