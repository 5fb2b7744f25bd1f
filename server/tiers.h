/**
 * @file tiers.h
 * What isolation this host allows, probed once at start-up by running
 * gexec-launch (single-threaded, before gRPC starts) with each profile's
 * full set of mechanisms and, if that fails, with fewer, strongest first.
 * The chosen tier is logged and reported in every `started` message; a
 * run is never weaker than its tier says. A profile below its full tier
 * (see profile.h) is not served unless the operator allowed it reduced.
 * The probe runs in "/" with an empty environment: the daemon's own cwd
 * and environment never change what a host is found to provide.
 */
#ifndef GXD_TIERS_H
#define GXD_TIERS_H

#include <stddef.h>

#include "server/isolation/cgroup.h"
#include "server/isolation/profile.h"

#define GXD_MAX_WITHOUT 10

/** One profile as this host can provide it. */
typedef struct {
  gxi_profile eff;           /**< mechanisms in force */
  const char *without[GXD_MAX_WITHOUT]; /**< --without flags for it */
  int nwithout;
  int cgroup_version;        /**< 2, 1 or 0: where limits can be set */
  int usable;                /**< a tier worked */
  int full;                  /**< the profile's full isolation works */
  char missing[160];         /**< what the full tier lacks, or "" */
  char desc[256];            /**< e.g. "pid+ipc+uts+mount, cgroup v1" */
} gxd_tier;

/** The three built-in profiles, probed. */
typedef struct {
  gxd_tier t[3];
} gxd_tiers;

/** Index of profile @p name in gxd_tiers, or -1. */
int gxd_tiers_index(const char *name);

/** Name of the profile at @p index (0..2). */
const char *gxd_tiers_name(int index);

/**
 * Probes every profile with @p launcher, given what the cgroup probe
 * found (@p caps; limits need memory or pids there). Mechanisms in
 * @p disabled (names as for gexec-launch --without) are treated as
 * refused by the host. The probe's cgroup is "<@p cgroup_dir>/probe".
 * Profiles named in @p required must get their full isolation, or this
 * fails with a reason. Returns 0 or -1.
 */
int gxd_tiers_probe(const char *launcher, const gxi_cgroup_caps *caps,
                    const char *cgroup_dir, const char *const *disabled,
                    int ndisabled, const char *const *required,
                    int nrequired, gxd_tiers *out, char *why, size_t len);

#endif
