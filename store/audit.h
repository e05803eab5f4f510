/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include <cjson/cJSON.h>

#include "store/store.h"

/* Proposed for store.h: the audit trail, queryable (DESIGN.md "Audit of every control action").
 * JSON array of {id, time, actor, action, resource_uuid, detail}, oldest first; uuid NULL: all.
 * after_id > 0: the oldest rows after it; otherwise the newest `limit` (<= 0: 100, max 1000).
 * Audit rows outlive their resource. */
int store_audit_list(Store *s, const char *uuid, int64_t after_id, int limit, cJSON **ret,
                     Error *reterr) _warn_unused_result_;
