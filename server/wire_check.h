/**
 * @file wire_check.h
 * Refuses requests carrying fields this daemon does not know.
 *
 * protobuf-c keeps a field whose number is not in the schema as an
 * "unknown field" on the message that contained it, and the generated
 * code otherwise ignores it. For a request that is the wrong default: a
 * newer client's field (say, the user a run should run as) would be
 * dropped and the run would go ahead without it. gxd_wire_check_unknown
 * finds such a field anywhere in an unpacked message so that the caller
 * can refuse the request instead (fail closed).
 */
#ifndef GXD_WIRE_CHECK_H
#define GXD_WIRE_CHECK_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/**
 * Deepest nesting of messages that gxd_wire_check_unknown walks (the
 * top-level message is level 1). gexec's schemas are not recursive and
 * nest 3 levels; a deeper message is refused because it cannot have been
 * checked.
 */
#define GXD_WIRE_MAX_DEPTH 16

/** Room for the path named in a reason ("RunRequest.start.env[3]"). */
#define GXD_WIRE_PATH_MAX 192

/**
 * Walks the unpacked message @p msg and every message below it, using
 * their descriptors: singular, repeated and oneof message fields and map
 * entries (which protobuf-c represents as repeated entry messages); only
 * the active member of a oneof is visited.
 *
 * Returns GX_STATUS_OK when no message carries an unknown field.
 * Otherwise returns GX_STATUS_INVALID_ARGUMENT and writes into @p why
 * (at most @p why_len bytes, always NUL-terminated when @p why_len > 0)
 * "<path> has field <N> that this gexecd does not know (sent by a newer
 * client?); refusing it rather than ignoring it", where <path> starts
 * with the top-level message's short name ("RunRequest.start.limits",
 * "RunRequest.start.env[0]"). The first one found is named: a message's
 * own unknown fields (in wire order) before those of its sub-messages,
 * sub-messages in descriptor order. A message nested more than
 * GXD_WIRE_MAX_DEPTH levels deep is refused the same way ("<path> nests
 * messages more than 16 levels deep; ...").
 *
 * Only reads @p msg; keeps no pointer into it.
 */
int gxd_wire_check_unknown(const ProtobufCMessage *msg, char *why,
                           size_t why_len);

#endif
