/* Fork-server messages of the launcher contract; see launch_wire.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/launch_wire.h"

static const char fs_magic[8] = "GXFS1\n\0";

/* Offsets of the fixed layout. */
enum {
  OFF_TYPE = 8, OFF_PAD = 12, OFF_ID = 16, OFF_BODY = 24,
  /* RUN */
  OFF_PROFILE = OFF_BODY, OFF_MECHS = OFF_BODY + 4, OFF_LIMITS = OFF_BODY + 8,
  OFF_CGROUP = OFF_LIMITS + 32,
  RUN_END = OFF_CGROUP + GXI_CGROUP_NAME_MAX + 1,
  /* STARTED, FAILED, EXITED */
  OFF_PID = OFF_BODY, OFF_STATUS = OFF_BODY + 4, OFF_USAGE = OFF_BODY + 8,
  EXITED_END = OFF_USAGE + 24,
};

_Static_assert(RUN_END <= GXL_FS_MSG_LEN, "RUN fits a message");

static void put(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Where a message of type @p t ends; the rest must be zero. */
static size_t body_end(gxl_fs_type t) {
  switch (t) {
    case GXL_FS_RUN: return RUN_END;
    case GXL_FS_KILL: return OFF_BODY;
    case GXL_FS_STARTED: case GXL_FS_FAILED: return OFF_BODY + 4;
    case GXL_FS_EXITED: return EXITED_END;
  }
  return 0;
}

static int cgroup_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '/';
}

/* Checks the fields of @p m that both directions must agree on. */
static const char *check(const gxl_fs_msg *m) {
  if (m->run_id == 0) return "run id 0";
  switch (m->type) {
    case GXL_FS_RUN: {
      size_t n = strnlen(m->run.cgroup, sizeof m->run.cgroup);
      if (n == sizeof m->run.cgroup) return "cgroup name not terminated";
      for (size_t i = 0; i < n; i++)
        if (!cgroup_char_ok(m->run.cgroup[i])) return "bad cgroup name";
      if (m->run.profile >= GXI_PROFILE_BUILTINS) return "unknown profile";
      if (m->run.mechs & ~GXI_MECH_ALL) return "unknown mechanism bits";
      if (m->run.run_id != m->run_id) return "run ids differ";
      return NULL;
    }
    case GXL_FS_KILL: return NULL;
    case GXL_FS_STARTED: return m->pid > 0 ? NULL : "pid out of range";
    case GXL_FS_FAILED: return m->err > 0 ? NULL : "errno out of range";
    case GXL_FS_EXITED: return m->pid > 0 ? NULL : "pid out of range";
  }
  return "unknown message type";
}

int gxl_fs_encode(const gxl_fs_msg *m, uint8_t buf[GXL_FS_MSG_LEN]) {
  if (check(m)) return -EINVAL;
  memset(buf, 0, GXL_FS_MSG_LEN);
  memcpy(buf, fs_magic, sizeof fs_magic);
  put(buf + OFF_TYPE, (uint32_t)m->type, 4);
  put(buf + OFF_ID, m->run_id, 8);
  if (m->type == GXL_FS_RUN) {
    const gxi_limits *l = &m->run.limits;
    put(buf + OFF_PROFILE, (uint32_t)m->run.profile, 4);
    put(buf + OFF_MECHS, m->run.mechs, 4);
    put(buf + OFF_LIMITS, l->memory_bytes, 8);
    put(buf + OFF_LIMITS + 8, l->pids, 8);
    put(buf + OFF_LIMITS + 16, l->cpu_time_ms, 8);
    put(buf + OFF_LIMITS + 24, l->open_files, 8);
    memcpy(buf + OFF_CGROUP, m->run.cgroup, strlen(m->run.cgroup));
    return 0;
  }
  put(buf + OFF_PID, (uint32_t)(m->type == GXL_FS_FAILED ? m->err : m->pid),
      4);
  if (m->type == GXL_FS_EXITED) {
    put(buf + OFF_STATUS, (uint32_t)m->wait_status, 4);
    put(buf + OFF_USAGE, m->user_us, 8);
    put(buf + OFF_USAGE + 8, m->sys_us, 8);
    put(buf + OFF_USAGE + 16, m->max_rss_kb, 8);
  }
  return 0;
}

static int refuse(char *why, size_t len, const char *what) {
  snprintf(why, len, "malformed fork-server message: %s", what);
  return -EINVAL;
}

/* The body of a decoded message of known type. */
static void take_body(const uint8_t *buf, gxl_fs_msg *m) {
  if (m->type == GXL_FS_RUN) {
    gxi_limits *l = &m->run.limits;
    m->run.run_id = m->run_id;
    m->run.profile = (gxi_builtin)get(buf + OFF_PROFILE, 4);
    m->run.mechs = (uint32_t)get(buf + OFF_MECHS, 4);
    l->memory_bytes = get(buf + OFF_LIMITS, 8);
    l->pids = get(buf + OFF_LIMITS + 8, 8);
    l->cpu_time_ms = get(buf + OFF_LIMITS + 16, 8);
    l->open_files = get(buf + OFF_LIMITS + 24, 8);
    memcpy(m->run.cgroup, buf + OFF_CGROUP, sizeof m->run.cgroup);
    return;
  }
  int v = (int)(uint32_t)get(buf + OFF_PID, 4);
  if (m->type == GXL_FS_FAILED)
    m->err = v;
  else if (m->type != GXL_FS_KILL)
    m->pid = v;
  if (m->type == GXL_FS_EXITED) {
    m->wait_status = (int)(uint32_t)get(buf + OFF_STATUS, 4);
    m->user_us = get(buf + OFF_USAGE, 8);
    m->sys_us = get(buf + OFF_USAGE + 8, 8);
    m->max_rss_kb = get(buf + OFF_USAGE + 16, 8);
  }
}

int gxl_fs_decode(const uint8_t *buf, size_t len, gxl_fs_msg *m, char *why,
                  size_t why_len) {
  memset(m, 0, sizeof *m);
  if (len != GXL_FS_MSG_LEN) return refuse(why, why_len, "wrong length");
  if (memcmp(buf, fs_magic, sizeof fs_magic) != 0)
    return refuse(why, why_len, "no header");
  uint64_t type = get(buf + OFF_TYPE, 4);
  size_t end = type >= GXL_FS_RUN && type <= GXL_FS_EXITED
                   ? body_end((gxl_fs_type)type) : 0;
  if (!end) return refuse(why, why_len, "unknown message type");
  if (get(buf + OFF_PAD, 4) != 0) return refuse(why, why_len, "nonzero padding");
  for (size_t i = end; i < GXL_FS_MSG_LEN; i++)
    if (buf[i]) return refuse(why, why_len, "nonzero padding");
  m->type = (gxl_fs_type)type;
  m->run_id = get(buf + OFF_ID, 8);
  take_body(buf, m);
  const char *bad = check(m);
  if (bad) {
    memset(m, 0, sizeof *m);
    return refuse(why, why_len, bad);
  }
  if (m->type == GXL_FS_RUN) /* a name is NUL padded: nothing after it */
    for (size_t i = strlen(m->run.cgroup); i < sizeof m->run.cgroup; i++)
      if (m->run.cgroup[i]) {
        memset(m, 0, sizeof *m);
        return refuse(why, why_len, "bytes after the cgroup name");
      }
  return 0;
}

/* -------------------------------------------------------- transport */

int gxl_fs_send(int sock, const gxl_fs_msg *m, const int *fds, int nfds,
                int flags) {
  uint8_t buf[GXL_FS_MSG_LEN];
  union {
    char b[CMSG_SPACE(GXL_FS_RUN_FDS * sizeof(int))];
    struct cmsghdr align;
  } cm;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  ssize_t n;
  if (nfds < 0 || nfds > GXL_FS_RUN_FDS || gxl_fs_encode(m, buf) != 0)
    return -EINVAL;
  if (nfds > 0) {
    mh.msg_control = cm.b;
    mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
  }
  while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags)) < 0 && errno == EINTR) {
  }
  if (n == (ssize_t)sizeof buf) return 0;
  return n < 0 && errno == EAGAIN ? -EAGAIN : n < 0 ? -errno : -EPIPE;
}

/* Takes every descriptor of @p mh: the first @p max into @p fds, the
 * rest closed. Returns how many came. */
static int take_fds(struct msghdr *mh, int *fds, int max) {
  int n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int *p = (int *)CMSG_DATA(c);
    for (int i = 0; i < k; i++) {
      if (n < max) fds[n] = p[i];
      else close(p[i]);
      n++;
    }
  }
  return n;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
}

int gxl_fs_recv(int sock, gxl_fs_msg *m, int fds[GXL_FS_RUN_FDS],
                uint64_t *raw_id, char *why, size_t why_len) {
  uint8_t buf[GXL_FS_MSG_LEN + 1];
  union {
    char b[CMSG_SPACE((GXL_FS_RUN_FDS + 1) * sizeof(int))];
    struct cmsghdr align;
  } cm;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = cm.b, .msg_controllen = sizeof cm.b};
  for (int i = 0; i < GXL_FS_RUN_FDS; i++) fds[i] = -1;
  *raw_id = 0;
  ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) {
    snprintf(why, why_len, "%s", n == 0 ? "the peer closed the socket"
                                         : strerror(errno));
    return -EPIPE;
  }
  int nfds = take_fds(&mh, fds, GXL_FS_RUN_FDS);
  if (n >= OFF_BODY) *raw_id = get(buf + OFF_ID, 8);
  int rc = gxl_fs_decode(buf, (size_t)n, m, why, why_len);
  if (rc == 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
    rc = refuse(why, why_len, "message or descriptors cut off");
  if (rc == 0 && nfds != (m->type == GXL_FS_RUN ? GXL_FS_RUN_FDS : 0))
    rc = refuse(why, why_len, "wrong number of descriptors");
  if (rc == 0) return 1;
  close_all(fds, nfds < GXL_FS_RUN_FDS ? nfds : GXL_FS_RUN_FDS);
  return -EPROTO;
}
