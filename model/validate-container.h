/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/macro.h"

/* Validation of the spec fields every kind that runs a container shares (docker_service, job).
 * Each function reads its member of `spec` (the user's input), refuses what is wrong with a
 * field path and a reason (model/validate-util.h), and adds the normalised value to `out`, so
 * both kinds accept and spell a field the same way. */

#define CONTAINER_ARGV_MAX   256                 /* command, args, healthcheck command */
#define CONTAINER_PATH_MAX   1024                /* container paths */
#define CONTAINER_MEMORY_MIN ((int64_t) 4 << 20) /* the smallest memory limit */

/* [A-Za-z_][A-Za-z0-9_]*: an environment variable's name. */
bool env_name_is_valid(const char *s);
/* Docker's reference grammar ([registry/]path[:tag][@sha256:...]); NULL when valid, else why. */
const char *image_reference_check(const char *ref);

/* image. `required`: the message when it is absent (REQUIRED), NULL when it may be absent. */
int validate_container_image(const cJSON *spec, const char *required, cJSON *out,
                             Error *e) _warn_unused_result_;
/* command or args (key): a list of strings, or one string; always emitted (empty: none). */
int validate_container_argv(const cJSON *spec, const char *key, cJSON *out,
                            Error *e) _warn_unused_result_;
/* env: a map of variable names to scalars, emitted sorted by name. */
int validate_container_env(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
/* plan (small | medium | large) and/or resources {cpu, memory}; the plan is expanded into
 * resources and kept. Emitted only when given. */
int validate_container_resources(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
/* networks: names of extra networks; always emitted. */
int validate_container_networks(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
/* secrets: {KEY: {secret, as: env|file, path}}. Call after env (and config_files) are in out: a
 * key may not also be an env variable, a file path not also a config file. Emitted only when
 * present. */
int validate_container_secrets(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
/* depends_on: [{kind: docker_service|pg_single, name, env_prefix}]; the prefix defaults to the
 * name in upper case. Emitted only when present. */
int validate_container_depends_on(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;

/* An absolute container path: no "." or ".." components, no "//", not "/". */
int validate_container_path(const cJSON *v, const char *field, const char **ret,
                            Error *e) _warn_unused_result_;
/* The prologue of an optional list member `key` of spec: *ret_list is NULL when absent, else the
 * input list (at most `max` items) with a new empty output array in *ret_out. */
int validate_optional_list(const cJSON *spec, const char *key, size_t max, const char *items,
                           const cJSON **ret_list, cJSON **ret_out, Error *e) _warn_unused_result_;
/* The prologue of a map keyed by name (env, secrets): a map of at most `max` members, no key
 * twice; a new empty output object in *ret_out. */
int validate_map_prologue(const cJSON *v, const char *field, size_t max, const char *items,
                          cJSON **ret_out, Error *e) _warn_unused_result_;
/* A new object with deep copies of o's members in key order (o's keys are unique). */
cJSON *json_sorted_copy(const cJSON *o);
