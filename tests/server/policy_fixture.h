/**
 * @file policy_fixture.h
 * What the policy tests share: policies written as JSON with ' for "
 * (parsed against a profile table of the built-ins) and peers.
 */
#ifndef GXT_POLICY_FIXTURE_H
#define GXT_POLICY_FIXTURE_H

#include <stdint.h>

#include "server/policy.h"
#include "server/profiles.h"

/** The profile table policies are checked against (the test's group
 *  setup fills it with gxd_profiles_init). */
extern gxd_profiles gxt_policy_table;

/** @p s with every ' turned into ", in a rotating static buffer (4 at a
 *  time, 8 KiB each). */
const char *gxt_json(const char *s);

/** The policy @p json (gxt_json form) from "p.json"; fails the test if
 *  it is refused. The caller drops the reference. */
gxd_policy *gxt_policy(const char *json);

/** The load error of @p json (gxt_json form), which must be refused;
 *  a static buffer. */
const char *gxt_policy_error(const char *json);

/** A unix peer (pid 42, no supplementary groups). */
gxd_peer gxt_unix_peer(uint32_t uid, uint32_t gid, const char *user);

/** A TLS peer with these certificate fields (NULL: absent). */
gxd_peer gxt_tls_peer(const char *spiffe, const char *dns, const char *cn);

/** The name of the rule @p p gives @p peer, or "(none)". */
const char *gxt_matched(const gxd_policy *p, const gxd_peer *peer);

#endif
