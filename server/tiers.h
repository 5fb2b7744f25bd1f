/**
 * @file tiers.h
 * What isolation this host allows, probed once at start-up by running
 * gexec-launch (single-threaded, before gRPC starts) with each profile's
 * full set of mechanisms and, if that fails, with fewer, strongest first.
 * The chosen tier is logged and reported in every `started` message; a
 * run is never weaker than its tier says.
 */
#ifndef GXD_TIERS_H
#define GXD_TIERS_H

#include <stddef.h>

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
  char desc[256];            /**< e.g. "pid+ipc+uts+mount, cgroup v1" */
} gxd_tier;

/** The three built-in profiles, probed. */
typedef struct {
  gxd_tier t[3];
} gxd_tiers;

/** Index of profile @p name in gxd_tiers, or -1. */
int gxd_tiers_index(const char *name);

/**
 * Probes every profile with @p launcher. Mechanisms in @p disabled
 * (names as for gexec-launch --without) are treated as refused by the
 * host. Profiles named in @p required must get their full isolation, or
 * this fails with a reason. Returns 0 or -1.
 */
int gxd_tiers_probe(const char *launcher, const char *const *disabled,
                    int ndisabled, const char *const *required,
                    int nrequired, gxd_tiers *out, char *why, size_t len);

#endif
