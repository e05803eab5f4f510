/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* The queued actions of a pg_single (`berth do pg_single NAME backup|restore|vacuum`): the API
 * validates and normalises their parameters, stores them as a request (store/requests.h), and
 * the reconciler runs them in order. */

typedef enum PgActionType {
        PG_ACTION_BACKUP,
        PG_ACTION_RESTORE,
        PG_ACTION_VACUUM,
        _PG_ACTION_MAX,
        _PG_ACTION_INVALID = -22,
} PgActionType;

const char *pg_action_type_to_string(PgActionType t);
PgActionType pg_action_type_from_string(const char *s);

typedef enum PgBackupType {
        PG_BACKUP_AUTO,
        PG_BACKUP_FULL,
        PG_BACKUP_DIFF,
        PG_BACKUP_INCR
} PgBackupType;

typedef struct PgAction {
        PgActionType type;
        PgBackupType backup_type; /* backup: auto = full when none exists, else diff */
        char *backup;             /* restore: a backup label (pgBackRest's "set"), or NULL */
        usec_t target_time;       /* restore: realtime usec to recover to, 0: none */
        /* restore with neither: the end of the latest backup plus all archived WAL (latest). */
} PgAction;

void pg_action_release(PgAction *a);

/* Params as the API received them (object, or NULL for none) → normalised JSON to store:
 *   backup  {type: auto|full|diff|incr}
 *   restore {backup: "20261123-101500F"} | {time: "2026-11-23T10:15:00Z"} | {} (latest)
 *   vacuum  {}
 * Unknown keys, both backup and time, a malformed time (RFC 3339, with a zone) → -EINVAL with
 * field "params.<key>" and a reason (UNKNOWN_FIELD, INVALID_VALUE, CONFLICT). */
int pg_action_normalise(const char *action, const cJSON *params, cJSON **ret,
                        Error *reterr) _warn_unused_result_;
/* Normalised params (as stored) → typed. */
int pg_action_from_json(const char *action, const cJSON *params, PgAction *ret,
                        Error *reterr) _warn_unused_result_;
