/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/macro.h"

/* Validation pieces the PostgreSQL kinds share (pg_single, pg_cluster): each reads one field of
 * a spec as the user wrote it, refuses it with a field path and a reason (validate-util.h), or
 * appends its normalised form to `out` under the same key. The kinds call them in the order of
 * their normalised output. */

#define PGV_DEFAULT_STORAGE ((int64_t) 5 << 30)
#define PGV_DEFAULT_BIND    "127.0.0.1"
#define PGV_BIND_MAX        64 /* an IPv6 address's text, with room */

/* A named size of the kind's plans: resources per database server and its storage. */
typedef struct PgvPlan {
        const char *name;
        double cpu;
        int64_t memory;
        int64_t storage;
} PgvPlan;

/* An optional boolean member; def when absent. */
int pgv_optional_bool(const cJSON *o, const char *key, const char *field, bool def, bool *ret,
                      Error *e) _warn_unused_result_;
/* A size: bytes as an integer, or a string with a unit ("20Gi"); range is "1Gi..64Ti" for
 * messages. */
int pgv_want_size(const cJSON *v, const char *field, int64_t min, int64_t max, const char *range,
                  int64_t *ret, Error *e) _warn_unused_result_;

/* version ("15"), image (berth/postgres:<version> by default). */
int pgv_version(const cJSON *spec, cJSON *out, const char **ret, Error *e) _warn_unused_result_;
int pgv_image(const cJSON *spec, const char *version, cJSON *out, Error *e) _warn_unused_result_;
/* plan (one of plans[0..n), default_plan when neither plan nor resources is given) and/or
 * resources; a normalised spec carries both, equal. *ret_storage: the plan's storage, else
 * PGV_DEFAULT_STORAGE. */
int pgv_resources(const cJSON *spec, const PgvPlan *plans, size_t n, const char *default_plan,
                  cJSON *out, int64_t *ret_storage, Error *e) _warn_unused_result_;
int pgv_storage(const cJSON *spec, int64_t def, cJSON *out, Error *e) _warn_unused_result_;

/* initial_db_name (default: metadata.name with '_' for '-'), initial_user (default "app"),
 * password ({secret}; absent: "<name>-password", generated). */
int pgv_initial_db_name(const cJSON *spec, const char *name, cJSON *out,
                        Error *e) _warn_unused_result_;
int pgv_initial_user(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
int pgv_password(const cJSON *spec, const char *name, cJSON *out, Error *e) _warn_unused_result_;

/* parameters, checked against PostgreSQL's own list; berth's managed ones are refused, and so
 * are `also_managed` (NULL-terminated, may be NULL) with `also_why` as the reason. */
int pgv_parameters(const cJSON *spec, const char *const *also_managed, const char *also_why,
                   cJSON *out, Error *e) _warn_unused_result_;

/* allow (docker_service names and CIDRs, canonical) and allow_public. */
int pgv_allow(const cJSON *spec, bool allow_public, cJSON *out, Error *e) _warn_unused_result_;
/* An address to publish a port on: an IP address, canonical into buf; the unspecified address
 * (every interface) only with allow_public. */
int pgv_bind(const cJSON *v, const char *field, bool allow_public, char *buf, size_t n,
             Error *e) _warn_unused_result_;

/* parent.max_replication_lag, parent at parent_path ("spec", "spec.topology"): a size or a
 * duration; normalised as {bytes: N} or {seconds: N} (default 30 s). */
int pgv_max_replication_lag(const cJSON *parent, const char *parent_path, cJSON *out,
                            Error *e) _warn_unused_result_;

/* A schedule (schedule.h), spelled canonically into buf. */
int pgv_schedule(const cJSON *v, const char *field, char *buf, size_t n,
                 Error *e) _warn_unused_result_;
/* backup: {enabled, schedule, retention_days, pitr, repository}. */
int pgv_backup(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
/* paused (default false). */
int pgv_paused(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
