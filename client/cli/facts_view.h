/**
 * @file facts_view.h
 * How `gexec facts` shows facts: FIELD paths, the one-host block, the
 * fleet table, the fields that differ, the JSON with chosen fields. Pure
 * functions over the JSON object of gexec_facts_get (the proto's JSON
 * mapping with its field names), writing to a gxc_out.
 *
 * A FIELD is a dotted path of keys: "hostname", "os.version_id",
 * "memory.total_bytes". A segment that meets an array picks an element:
 * by its index ("filesystems.0.size_bytes") or by its "name" key
 * ("interfaces.eth0.mtu"). A path that names an object or array stands
 * for its leaves (in the block) or its compact JSON (in a table cell).
 */
#ifndef GXC_FACTS_VIEW_H
#define GXC_FACTS_VIEW_H

#include <stddef.h>

#include <json-c/json.h>

#include "client/cli/out.h"

/** A table cell shows at most this many bytes ("..." past it). */
#define GXC_FACTS_CELL_MAX 60

/** The columns of the fleet table when no FIELD is given. */
extern const char *const gxc_facts_default_fields[];

/** The value at @p path in @p facts (borrowed), or NULL when absent. */
json_object *gxc_facts_lookup(json_object *facts, const char *path);

/** A value as text: a string as it is, a number or boolean as in JSON,
 *  an object or array as compact JSON, absent or null as "-"; control
 *  characters and invalid UTF-8 escaped (gxc_text_safe: the daemon's
 *  strings). Bounded by @p len (truncated). Returns @p buf. */
const char *gxc_facts_text(json_object *v, char *buf, size_t len);

/**
 * Fills @p groups (room for 16, NULL-terminated) with the facts groups
 * the daemon must send for @p fields (fields[0..n)): the group of each
 * first segment. Returns 0, or -1 when every group is needed (n == 0, or
 * a first segment that is no known key: the daemon then answers all and
 * the lookup finds nothing). Pure.
 */
int gxc_facts_groups(const char *const *fields, size_t n,
                     const char **groups);

/**
 * One host: writes "path: value" for every leaf under each of @p fields
 * (all of @p facts when n == 0), in the document's order; arrays of
 * objects with a "name" use it as the segment, others their index. A
 * field that is absent prints "path: -". Returns 0 or -1 (write failed).
 */
int gxc_facts_block(json_object *facts, const char *const *fields, size_t n,
                    gxc_out *o);

/**
 * The fleet table: a header "HOST" and the @p nf fields, then one row per
 * host, @p names[i] and the cell of each field in @p facts[i] (NULL:
 * the host did not answer; cells "-"). Columns are as wide as their
 * widest cell, two spaces apart, no trailing spaces. Returns 0 or -1.
 */
int gxc_facts_table(const char *const *names, json_object *const *facts,
                    size_t n, const char *const *fields, size_t nf,
                    gxc_out *o);

/**
 * --diff: the leaf paths under @p fields (every leaf when nf == 0) whose
 * value differs between the hosts that answered (facts[i] non-NULL),
 * in the order first seen. On success *out is a malloc'd array of
 * malloc'd strings (free with gxc_facts_paths_free) and its count is
 * returned; -1 without memory.
 */
long gxc_facts_differing(json_object *const *facts, size_t n,
                         const char *const *fields, size_t nf, char ***out);

/** Frees what gxc_facts_differing returned. */
void gxc_facts_paths_free(char **paths, size_t n);

/**
 * --json with FIELDs: a new object holding only the values at @p fields
 * of @p facts, nested under the same keys (an array element picked by
 * name or index keeps its array, holding that element). n == 0: a new
 * reference to @p facts itself. NULL without memory.
 */
json_object *gxc_facts_select(json_object *facts, const char *const *fields,
                              size_t n);

#endif
