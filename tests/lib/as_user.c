/* A connection made by a process of another identity; see as_user.h. */
#include "tests/lib/as_user.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Room for one descriptor in a message's control data. */
typedef union {
  char buf[CMSG_SPACE(sizeof(int))];
  struct cmsghdr align;
} one_fd;

/* Sends @p err and, when @p fd >= 0, the descriptor itself. */
static void send_result(int sp, int err, int fd) {
  int32_t v = err;
  struct iovec iov = {&v, sizeof v};
  one_fd u;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&u, 0, sizeof u);
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  (void)!sendmsg(sp, &m, MSG_NOSIGNAL);
}

/* The child: only system calls from here to _exit. */
static void child(int sp, const struct sockaddr_un *sa, uid_t uid, gid_t gid,
                  const gid_t *groups, size_t ngroups) {
  int fd = -1, err = 0;
  if (setgroups(ngroups, groups) != 0 || setresgid(gid, gid, gid) != 0 ||
      setresuid(uid, uid, uid) != 0)
    err = errno;
  if (!err) fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!err && fd < 0) err = errno;
  if (!err && connect(fd, (const struct sockaddr *)sa, sizeof *sa) != 0)
    err = errno;
  send_result(sp, err, err ? -1 : fd);
  _exit(0);
}

int gxt_as_user_connect(const char *path, uid_t uid, gid_t gid,
                        const gid_t *groups, size_t ngroups, gxt_as_user *a) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int sp[2];
  if (strlen(path) >= sizeof sa.sun_path) return -ENAMETOOLONG;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
    return -errno;
  pid_t pid = fork();
  if (pid == 0) {
    close(sp[0]);
    child(sp[1], &sa, uid, gid, groups, ngroups);
  }
  int err = errno;
  close(sp[1]);
  if (pid < 0) {
    close(sp[0]);
    return -err;
  }
  a->pid = pid;
  a->sp = fcntl(sp[0], F_DUPFD_CLOEXEC, GXT_AS_USER_FD_MIN);
  close(sp[0]);
  return a->sp >= 0 ? 0 : -EMFILE;
}

int gxt_as_user_take(gxt_as_user *a) {
  int32_t v = EPROTO;
  struct iovec iov = {&v, sizeof v};
  one_fd u;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
                     .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  int fd = -1;
  ssize_t n = recvmsg(a->sp, &m, MSG_CMSG_CLOEXEC);
  struct cmsghdr *c = n == (ssize_t)sizeof v ? CMSG_FIRSTHDR(&m) : NULL;
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
  close(a->sp);
  waitpid(a->pid, NULL, 0);
  if (n != (ssize_t)sizeof v) return -EPROTO;
  if (v != 0 || fd < 0) {
    if (fd >= 0) close(fd);
    return -(v ? v : EPROTO);
  }
  return fd;
}
