/*
 * Internal to the cgroup module (server/isolation/cgroup*.c): small file
 * and path helpers shared by its files. Not an API: prefix gxi__. Every
 * filesystem type check, cgroup mkdir/rmdir and control-file write of
 * the module goes through these helpers, which is where the test seam
 * (cgroup_hooks.h) sits.
 */
#ifndef GXI_CGROUP_FS_H
#define GXI_CGROUP_FS_H

#include <stddef.h>
#include <stdint.h>

#include "server/isolation/cgroup.h"
#include "server/isolation/cgroup_hooks.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

/* Largest cgroup file parsed as a whole (memory.events, oom_control). */
#define SMALL_FILE_MAX 1024

/* Formats into @p buf (may be NULL), truncating. */
void gxi__set_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes "a/b" (or "a/b/c" when @p c is not NULL) into @p out. */
int gxi__path_join(char out[GXI_CGROUP_PATH_MAX], const char *a, const char *b,
                   const char *c);
/* Writes @p val to @p dir/@p file with one write(); 0 or -errno. */
int gxi__file_write(const char *dir, const char *file, const char *val);
/* Reads @p dir/@p file into @p buf; its length, -EFBIG or -errno. */
int gxi__file_read(const char *dir, const char *file, char *buf, size_t len);
/* 1 if @p dir/@p file exists and is writable by us. */
int gxi__file_writable(const char *dir, const char *file);
/* 1 if @p path is the root or a directory of a filesystem of @p magic. */
int gxi__fs_is(const char *path, unsigned long magic);
/* The line "key N" of @p text: 0 and *out, or -ENOENT / -EINVAL. */
int gxi__keyed_u64(const char *text, const char *key, uint64_t *out);
/* 1 if the space-separated @p list contains @p word. */
int gxi__has_word(const char *list, const char *word);
/* mkdir (0755) of a cgroup directory; 0 or -errno. */
int gxi__mkdir(const char *path);
/* mkdir that accepts an existing directory; 0 or -errno. */
int gxi__mkdir_ok(const char *path);
/* rmdir of a cgroup directory; 0 or -errno. */
int gxi__rmdir(const char *path);
int64_t gxi__now_ms(void);
void gxi__sleep_ms(int ms);
/* Enables memory and pids (as far as @p ctrl lists them) in
 * @p dir/cgroup.subtree_control. */
void gxi__v2_enable(const char *dir, const char *ctrl);
/* One path component: [A-Za-z0-9._-]+, not starting with '.'. */
int gxi__component_ok(const char *c, size_t len);

#endif
