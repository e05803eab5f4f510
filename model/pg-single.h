/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/pg-action.h"
#include "util/error.h"
#include "util/strv.h"
#include "util/time-util.h"

/* pg_single, typed (DESIGN.md part 1, README "pg_single"). Built from a normalised spec by
 * pg_single_spec_from_json(); pg_single_spec_validate() has refused anything out of range. */

#define PG_DEFAULT_VERSION        "15"
#define PG_MAX_READ_REPLICAS      2
#define PG_DEFAULT_RETENTION_DAYS 7

/* One postgresql.conf override, as the user wrote it after validation (name lower-case, value
 * in the server's own spelling). `restart`: the server reads it only at start (context
 * postmaster), so changing it needs a restart. */
typedef struct PgParameter {
        char *name;
        char *value;
        bool restart;
} PgParameter;

typedef struct PgBackupSpec {
        bool enabled;
        char *schedule; /* "daily", "hourly" or a five-field cron expression (UTC) */
        int retention_days;
        bool pitr; /* restore to any second (WAL kept), not only to a backup's end */
        /* An S3-compatible repository instead of the backup volume (s3_bucket set). */
        char *s3_bucket, *s3_endpoint, *s3_region, *s3_path, *s3_uri_style;
        bool s3_verify_tls;
        char *s3_access_key_secret, *s3_secret_key_secret;
} PgBackupSpec;

typedef struct PgMaintenanceSpec {
        char *window;         /* NULL: disruptive actions run at once; else "sun 02:00-04:00" */
        char *vacuum_analyze; /* schedule as backup.schedule; NULL: none */
} PgMaintenanceSpec;

typedef struct PgSingleSpec {
        char *version;        /* "15" */
        char *image;          /* berth/postgres:<version> unless spec.image says otherwise */
        char *plan;           /* dev_single | small_single | medium_single, NULL: resources given */
        double cpu;           /* cores, 0: unlimited */
        int64_t memory;       /* bytes, 0: unlimited */
        int64_t storage_size; /* bytes: recorded and checked against usage, not enforced */
        char *initial_db_name;
        char *initial_user;
        char *password_secret;   /* the secret holding initial_user's password */
        bool password_generated; /* spec.password absent: berth creates password_secret */
        PgParameter *parameters; /* sorted by name */
        size_t n_parameters;
        Strv allow_services; /* docker_service names of the same project */
        Strv allow_cidrs;    /* canonical "a.b.c.d/n" or IPv6 */
        bool allow_public;
        int expose_port;   /* 0: not published */
        char *expose_bind; /* default 127.0.0.1 */
        int read_replicas;
        int64_t max_lag_bytes;  /* 0: no byte bound */
        usec_t max_lag_seconds; /* in usec despite the name; 0: no time bound. Exactly one of the
                                 * two is set (default 30 s) */
        PgBackupSpec backup;
        PgMaintenanceSpec maintenance;
        bool paused;
        /* A new database made from another's backups (the clone action): the source's name in
         * the same project, and the restore target (a backup label, a time, or the latest). */
        char *restore_from;
        PgAction restore_target;
} PgSingleSpec;

int pg_single_spec_from_json(const cJSON *spec, PgSingleSpec *ret,
                             Error *reterr) _warn_unused_result_;
void pg_single_spec_release(PgSingleSpec *s);

/* Validates a pg_single spec as a user wrote it and returns it normalised (defaults filled in,
 * keys in a fixed order, plan expanded into resources with the plan kept, sizes in bytes).
 * `name` is metadata.name (the default initial_db_name and password secret derive from it).
 * Normalising a normalised spec returns identical JSON. Errors name the field and a reason. */
int pg_single_spec_validate(const cJSON *spec, const char *name, cJSON **ret,
                            Error *reterr) _warn_unused_result_;

/* The secret berth generates when spec.password is absent: "<name>-password". -E2BIG when it
 * does not fit buf or is longer than a name may be (NAME_MAX_LEN: metadata.name of at most 31
 * characters); validation then requires spec.password. */
int pg_password_secret_name(char *buf, size_t n, const char *name);
