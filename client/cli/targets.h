/**
 * @file targets.h
 * The fleet's TARGETS syntax (gexec run -w / -x): host names and
 * addresses with ClusterShell/pdsh ranges, IPv6 literals, unix sockets,
 * ^FILE, @GROUP and dns:NAME, parsed into a list of targets.
 *
 * Error texts (written into @p why, bounded; ITEM quoted with bytes
 * outside printable ASCII as \\xNN):
 *  - a malformed item: "'ITEM': position N: MESSAGE" (N 1-based in ITEM);
 *    the caller prefixes the flag ("-w 'node[1-': position 5: unclosed
 *    '['");
 *  - an empty item: "'SPEC': position N: empty target";
 *  - ^FILE: "'^PATH': STRERROR", "'^PATH': larger than 16 MiB", and for
 *    a line "PATH:LINE: ERROR" (ERROR as above, or "line longer than
 *    4096 bytes", "NUL byte");
 *  - groups: "'@G': PATH: STRERROR" (file unreadable), "PATH:LINE:
 *    expected 'name: pattern[,pattern...]'", "PATH:LINE: bad group name
 *    'X'", "PATH:LINE: group 'X' defined twice (first on line M)",
 *    "unknown group 'X' in PATH", and "PATH:LINE: ERROR" for a pattern;
 *  - nesting (^FILE and @GROUP inside each other): "cycle: @a -> @b ->
 *    @a", "'@x': nested deeper than 8";
 *  - dns: "dns:NAME: no address (REASON)", "dns:NAME: resolver gave
 *    'X', not an address";
 *  - "'ITEM': more than 100000 targets", "out of memory".
 */
#ifndef GXC_TARGETS_H
#define GXC_TARGETS_H

#include <stddef.h>

#include "client/cli/nodeset.h"
#include "lib/gx_addr.h"

/** The port of a target given without one (gexecd's TCP default). */
#define GXC_DEFAULT_PORT GX_ADDR_DEFAULT_PORT

/** Most targets in one list. */
#define GXC_TARGETS_MAX 100000

/** Largest ^FILE or groups file, and longest line in one. */
#define GXC_TARGETS_FILE_MAX (16u << 20)
#define GXC_TARGETS_LINE_MAX 4096

/** Deepest nesting of ^FILE and @GROUP inside each other. */
#define GXC_TARGETS_DEPTH_MAX 8

/** The groups file when none is given. */
#define GXC_GROUPS_FILE "/etc/gexec/groups"

/** One target; both strings owned by the list. */
typedef struct {
  char *name;    /**< shown to people, used in output prefixes: as
                      written/expanded without the default port ("node07",
                      "10.214.0.3", "[fd00::1]"); a non-default port kept
                      ("node07:7000", "[fd00::1]:7000"); "unix:/run/x.sock"
                      as written; for dns: entries the address literal
                      (IPv6 in brackets), with a non-default port */
  char *address; /**< what libgexec connects to: "node07:7443",
                      "[fd00::1]:7443" (IPv6 in its canonical text),
                      "unix:/p" */
} gxc_target;

/** A list of targets; zero-initialize, free with gxc_targets_free. */
typedef struct {
  gxc_target *v;
  size_t n, cap;
} gxc_target_list;

/** Where @GROUP and dns: look things up. */
typedef struct {
  const char *groups_file; /**< --groups-file; NULL = GXC_GROUPS_FILE (a
                                missing file is an error only when an
                                @GROUP is used) */
  /** Resolver for dns: (tests inject a fake): appends every address of
   *  @p name as text ("10.0.0.1", "fd00::1") to @p addrs; returns 0, or
   *  -1 with a reason in @p why. NULL = getaddrinfo (AF_UNSPEC, every A
   *  and AAAA record). */
  int (*resolve)(void *ud, const char *name, gxc_names *addrs, char *why,
                 size_t why_len);
  void *resolve_ud;
} gxc_targets_ctx;

/**
 * Parses a -w (or -x) value: comma-separated items, a comma inside []
 * not splitting. Items: host[:port] with ranges ("node[01-64]",
 * "rack[1-2]-n[1-8]:7000"; host names of [A-Za-z0-9._-], port 1..65535),
 * [v6]:port (a bracket holding ':' is an address, a bracket of digits,
 * commas and dashes a range), unix:/path, ^FILE (one target or pattern
 * per line, '#' comments and blank lines skipped), @GROUP (groups file
 * lines "name: pattern[,pattern...]", '#' comments, as ClusterShell's; a
 * group may use @other and ^FILE, nested at most GXC_TARGETS_DEPTH_MAX
 * deep, cycles refused), dns:NAME[:port] (every address).
 * Appends to @p out, folding duplicates (same address; first kept, also
 * against what @p out held). @p ctx may be NULL (defaults).
 * Returns 0, or -1 with @p out as it was and @p why as in the file
 * comment. At most GXC_TARGETS_MAX targets in @p out.
 */
int gxc_targets_parse(const char *spec, const gxc_targets_ctx *ctx,
                      gxc_target_list *out, char *why, size_t why_len);

/** Removes from @p l every target whose name or address is the name or
 *  address of a target of @p excl (order kept; the removed are freed).
 *  Cannot fail (without memory for an index it compares pairwise). */
void gxc_targets_exclude(gxc_target_list *l, const gxc_target_list *excl);

/** Frees every target and the array; leaves @p l empty and reusable. */
void gxc_targets_free(gxc_target_list *l);

/** The --outdir file stem: @p name with every byte outside
 *  [A-Za-z0-9._-] replaced by '_', NUL-terminated in at most @p cap
 *  bytes. A stem of only dots ("." / "..") has them replaced too; an
 *  empty name gives "_". */
void gxc_target_file_stem(const char *name, char *out, size_t cap);

/** Whether two targets of @p l have the same --outdir stem (their files
 *  would overwrite each other): 1 with their indexes in *@p a < *@p b,
 *  0 if none do, -1 out of memory. */
int gxc_targets_stem_clash(const gxc_target_list *l, size_t *a, size_t *b);

/** The default resolver (getaddrinfo, AF_UNSPEC, every A and AAAA
 *  record, duplicates once), as gxc_targets_ctx.resolve takes it. */
int gxc_targets_resolve_default(void *ud, const char *name,
                                gxc_names *addrs, char *why, size_t why_len);

#endif
