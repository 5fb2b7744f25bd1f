/**
 * @file profiles.h
 * The daemon's one profile table: the three built-ins (profile.h) and
 * the profiles an operator defines in a file (`gexecd --profiles FILE`).
 * Everything that names a profile (a run's Start.profile,
 * --default-profile, --allow-reduced, --require-isolation, the tier
 * probe, the run plan, `started.isolation.profile`) looks it up here;
 * an entry's index is its identity inside the daemon.
 *
 * File format (JSON; every key is checked, unknown ones are refused):
 *
 *     {"profiles": [
 *       {"name": "build", "base": "restricted", "add": ["..."],
 *        "remove": ["net"],
 *        "limits": {"memory": "2G", "pids": 4096, "cpu_time": "10m",
 *                   "open_files": 4096}}]}
 *
 *  - name: 1 to GXI_PROFILE_NAME_MAX of [a-z0-9_-], unique, not a
 *    built-in's (required).
 *  - base: host, baseline or restricted (required): the mechanisms and
 *    default limits the profile starts from.
 *  - add, remove: mechanism names as gxi_mech_name spells them; a name
 *    may not be in both. ro-root needs mount.
 *  - limits: default limits, each replacing the base's: a string (a
 *    size with an optional K, M or G suffix; cpu_time a duration: 500ms,
 *    30s, 10m, 2h) or a whole number in Start.limits' units (bytes,
 *    tasks, milliseconds, files), in Start.limits' ranges, 0 = none.
 *    A memory or pids default makes cgroup one of the profile's
 *    mechanisms (refused rather than dropped where the host has no
 *    cgroups); removing cgroup drops the base's memory and pids defaults
 *    and refuses explicit ones.
 *
 * Every error names the file, the profile (by name, or by its index when
 * the name itself is wrong) and the field. Pure apart from
 * gxd_profiles_load reading the file.
 */
#ifndef GXD_PROFILES_H
#define GXD_PROFILES_H

#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "server/isolation/profile.h"

/** Most entries the table holds, built-ins included. */
#define GXD_PROFILES_MAX 64
/** Largest profiles file accepted, in bytes. */
#define GXD_PROFILES_FILE_MAX (1u << 20)

/** The profile table. Entries 0..GXI_PROFILE_BUILTINS-1 are the
 *  built-ins in gxi_builtin order; file profiles follow in file order. */
typedef struct {
  gxi_profile entry[GXD_PROFILES_MAX];
  size_t n; /**< entries in use */
} gxd_profiles;

/** Fills @p t with the built-in profiles only. */
void gxd_profiles_init(gxd_profiles *t);

/** The index of the entry called @p name, or -1. */
int gxd_profiles_find(const gxd_profiles *t, const char *name);

/**
 * Writes the entries' names into @p buf, joined by ", " and with
 * @p last_sep before the last one ("host, baseline or restricted" for
 * " or "). Cut to fit @p len. Returns @p buf.
 */
char *gxd_profiles_names(const gxd_profiles *t, const char *last_sep,
                         char *buf, size_t len);

/**
 * Adds the profiles defined by the JSON text @p text (@p len bytes) to
 * @p t; @p file names it in messages. Open-files limits are held to
 * @p max_open_files (gxd_limits.max_open_files). Returns 0, or -1 with
 * the reason in @p why; @p t is then unchanged.
 */
int gxd_profiles_parse(gxd_profiles *t, const char *file, const char *text,
                       size_t len, uint64_t max_open_files, char *why,
                       size_t why_len);

/** Reads @p file (at most GXD_PROFILES_FILE_MAX bytes) and adds its
 *  profiles as gxd_profiles_parse. Returns 0 or -1 with a reason. */
int gxd_profiles_load(gxd_profiles *t, const char *file,
                      uint64_t max_open_files, char *why, size_t why_len);

/**
 * Checks that the profiles named by @p cfg's --default-profile,
 * --allow-reduced and --allow-profiles are in @p t (gxd_profiles_allowed) ("invalid value 'x' for --default-profile:
 * expected host, baseline or restricted"). Returns 0 or -1 with a reason.
 */
int gxd_profiles_check_flags(const gxd_profiles *t, const gxd_config *cfg,
                             char *why, size_t why_len);

/**
 * Fills @p allowed (one flag per entry of @p t) with the profiles clients
 * may ask for: those of --allow-profiles (comma-separated names of @p t),
 * else, when --default-profile was given, that profile and every entry
 * with all of its mechanisms (at least as strong), else all. The default
 * profile must be among them. Returns 0, or -1 with a reason ("invalid
 * value 'x' for --allow-profiles: ...", "--default-profile P is not in
 * --allow-profiles").
 */
int gxd_profiles_allowed(const gxd_profiles *t, const gxd_config *cfg,
                         unsigned char allowed[GXD_PROFILES_MAX], char *why,
                         size_t why_len);

#endif
