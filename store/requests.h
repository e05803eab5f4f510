/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store/store.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* Queued actions (schema/0006_requests.sql): what a user asked a resource to do once (backup,
 * restore, vacuum) beside its spec. The API adds them; the reconciler takes the oldest pending
 * one, runs it as an operation, and finishes it. A request survives a controller restart: one
 * that was RUNNING when berthd died is taken again (its steps are idempotent). */

typedef struct StoredRequest {
        int64_t id;
        char action[32];
        cJSON *params; /* normalised by the model (pg_action_normalise) */
        char actor[128];
        usec_t created_at; /* realtime usec */
        int64_t operation; /* operations.id once started, 0 before */
} StoredRequest;

void stored_request_release(StoredRequest *r);

/* Adds a PENDING request and NOTIFYs the controller (STORE_CHANNEL_SPEC with the uuid).
 * Audited as the action with the actor. */
int store_request_add(Store *s, const char *uuid, const char *action, const cJSON *params,
                      const char *actor, int64_t *ret_id, Error *reterr) _warn_unused_result_;
/* The oldest request of the resource that is PENDING or RUNNING; -ENOENT when none. */
int store_request_next(Store *s, const char *uuid, StoredRequest *ret,
                       Error *reterr) _warn_unused_result_;
/* PENDING → RUNNING, linking the operation that records it. Idempotent. */
int store_request_start(Store *s, int64_t id, int64_t operation,
                        Error *reterr) _warn_unused_result_;
/* → DONE or FAILED with a one-line message. */
int store_request_finish(Store *s, int64_t id, bool ok, const char *message,
                         Error *reterr) _warn_unused_result_;
/* JSON array of {id, action, params, state, actor, created_at, finished_at, message, operation},
 * newest first, at most `limit`. */
int store_request_list(Store *s, const char *uuid, int limit, cJSON **ret,
                       Error *reterr) _warn_unused_result_;
