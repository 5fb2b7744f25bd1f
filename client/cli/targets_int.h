/**
 * @file targets_int.h
 * Internal to the targets library: the state of one gxc_targets_parse
 * call, shared by targets.c (the command-line items) and targets_src.c
 * (^FILE, @GROUP, dns:).
 */
#ifndef GXC_TARGETS_INT_H
#define GXC_TARGETS_INT_H

#include <stddef.h>

#include "client/cli/strset.h"
#include "client/cli/targets.h"

/** One group of the groups file: strings point into the loaded text. */
typedef struct {
  const char *name, *value;
  size_t line;
} gxc__group;

/** One parse. */
typedef struct {
  const gxc_targets_ctx *ctx;
  gxc_target_list *out;
  gxc__strset seen;                           /**< addresses in out */
  const char *stack[GXC_TARGETS_DEPTH_MAX];   /**< ^FILE/@GROUP items open */
  int depth;
  int final;          /**< the error is complete: no "PATH:LINE: " prefix */
  char *groups_text;  /**< the groups file, once loaded (owned) */
  gxc__group *groups; /**< its groups (owned array) */
  size_t ngroups;
  int groups_loaded;
} gxc__tparse;

/** Parses a comma-separated list (targets.c). */
int gxc__targets_spec(gxc__tparse *st, const char *spec, char *why,
                      size_t len);

/** Adds one target unless its address is there already (targets.c). */
int gxc__targets_add(gxc__tparse *st, const char *name, const char *address,
                     const char *item, char *why, size_t len);

/** Checks the host name @p item[from, to) ([A-Za-z0-9._-], brackets
 *  skipped when @p ranges); positions are 1-based in @p item. */
int gxc__targets_host(const char *item, size_t from, size_t to, int ranges,
                      char *why, size_t len);

/** Writes "character 'x'" or "byte \\xNN" for the refused byte @p c. */
void gxc__targets_describe(char c, char *out, size_t cap);

/** Reads the port at @p item[at] to the end: 1..65535. */
int gxc__targets_port(const char *item, size_t at, int *port, char *why,
                      size_t len);

/** Builds a target's name and address from a host text (brackets
 *  included for IPv6) and a port. */
void gxc__targets_names(const char *host, int port, char *name,
                        char *address, size_t cap);

/** The item kinds of targets_src.c: "^FILE", "@GROUP", "dns:NAME". */
int gxc__targets_file(gxc__tparse *st, const char *item, char *why,
                      size_t len);
int gxc__targets_group(gxc__tparse *st, const char *item, char *why,
                       size_t len);
int gxc__targets_dns(gxc__tparse *st, const char *item, char *why,
                     size_t len);

#endif
