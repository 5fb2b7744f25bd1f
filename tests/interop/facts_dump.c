/* For facts_test.py: prints what gexec_facts_get returns (its JSON, one
 * line on stdout). Usage: facts_dump TARGET [GROUP...]. Exit 0, or 1
 * with libgexec's error on stderr. */
#include <stdio.h>
#include <stdlib.h>

#include "client/gexec.h"

int main(int argc, char **argv) {
  gexec_conn *c = NULL;
  gexec_error err;
  char *json = NULL;
  gexec_facts_req req = GEXEC_FACTS_REQ_INIT;
  int rc = 1;
  if (argc < 2) {
    fprintf(stderr, "usage: facts_dump TARGET [GROUP...]\n");
    return 2;
  }
  if (argc > 2) req.groups = (const char *const *)argv + 2;
  if (gexec_connect(argv[1], NULL, &c, &err) != GEXEC_OK ||
      gexec_facts_get(c, &req, &json, &err) != GEXEC_OK) {
    fprintf(stderr, "facts_dump: %s\n", err.message);
  } else {
    printf("%s\n", json);
    rc = 0;
  }
  free(json);
  if (c) gexec_conn_close(c);
  return rc;
}
