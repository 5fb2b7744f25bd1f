/**
 * @file tiers.h
 * What isolation this host allows, probed once at start-up by running
 * gexec-launch (single-threaded, before gRPC starts) with each profile
 * of the table (profiles.h) given by its exact mechanisms (--mechs) and,
 * if that fails, with fewer, strongest first. A file profile is probed
 * like a built-in: a mechanism its base never had (net added to
 * baseline) is tried like any other.
 * The chosen tier is logged and reported in every `started` message; a
 * run is never weaker than its tier says. A profile below its full tier
 * (see profile.h) is not served unless the operator allowed it reduced.
 * The probe runs in "/" with an empty environment: the daemon's own cwd
 * and environment never change what a host is found to provide.
 */
#ifndef GXD_TIERS_H
#define GXD_TIERS_H

#include <stddef.h>
#include <stdint.h>

#include "server/isolation/cgroup.h"
#include "server/isolation/profile.h"
#include "server/profiles.h"

/** One profile as this host can provide it. */
typedef struct {
  uint32_t mechs;            /**< gxi_mech bits in force */
  uint32_t without;          /**< what the host refused (--without) */
  int cgroup_version;        /**< 2, 1 or 0: where limits can be set */
  int usable;                /**< a tier worked */
  int full;                  /**< the profile's full isolation works */
  char missing[160];         /**< what the full tier lacks, or "" */
  char desc[256];            /**< e.g. "pid+ipc+uts+mount, cgroup v1" */
} gxd_tier;

/** The profile table, probed: t[i] is entry i of the table. */
typedef struct {
  gxd_tier t[GXD_PROFILES_MAX];
  size_t n; /**< entries probed (the table's size) */
} gxd_tiers;

/**
 * Probes every entry of @p profiles with @p launcher, given what the
 * cgroup probe found (@p caps; limits need memory or pids there).
 * Mechanisms in @p disabled (gxi_mech bits) are treated as refused by
 * the host. The probe's cgroup is "<@p cgroup_dir>/probe". Profiles
 * named in @p required must get their full isolation, or this fails
 * with a reason. Returns 0 or -1.
 */
int gxd_tiers_probe(const char *launcher, const gxd_profiles *profiles,
                    const gxi_cgroup_caps *caps, const char *cgroup_dir,
                    uint32_t disabled, const char *const *required,
                    int nrequired, gxd_tiers *out, char *why, size_t len);

#endif
