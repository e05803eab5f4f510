/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "util/buf.h"
#include "util/time-util.h"

/* Process-wide counters for /metrics (atomics; no locks). Written by the controller, read by
 * the API. Kinds and results are small fixed sets, indexed by number. */
typedef enum ReconcileOutcome {
        RECONCILE_OK,
        RECONCILE_REQUEUE,
        RECONCILE_ERROR,
        _RECONCILE_OUTCOME_MAX,
} ReconcileOutcome;

#define METRICS_MAX_KINDS 8

void metrics_reconcile_observe(int kind, ReconcileOutcome outcome, usec_t duration);
void metrics_queue_depth_set(long depth);
void metrics_leader_set(int is_leader);
/* Appends the reconcile counters, the duration histogram, queue depth and leadership in
 * Prometheus text format. kind_names[i] names kind i. */
int metrics_render(Buf *out, const char *const *kind_names, int n_kinds) _warn_unused_result_;
