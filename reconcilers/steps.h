/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "model/plan.h"
#include "model/resource.h"
#include "util/buf.h"
#include "util/error.h"

typedef struct ReconcileCtx ReconcileCtx;

/* Runs a plan's actions in order and stops at the first error. Every action type of
 * model/plan.h is a step here, shared by all kinds. `log` (may be NULL) collects what commands
 * and runs-to-completion printed, for the operation that records them. ret_done (may be NULL):
 * how many actions completed. */
int steps_apply(ReconcileCtx *ctx, const ResourceRef *ref, const Plan *plan, Buf *log,
                size_t *ret_done, Error *reterr) _warn_unused_result_;

/* Length of a password berth generates: 32 characters of [A-Za-z0-9] (190 bits). */
#define GENERATED_SECRET_LEN 32
