/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model/container.h"
#include "model/status.h"
#include "util/buf.h"
#include "util/time-util.h"

/* The ordered list of idempotent steps a reconciler's plan() chose. Each action names its
 * target by deterministic name, so running a plan twice (or after a crash) does no harm. */
typedef enum ActionType {
        ACTION_ENSURE_NETWORK,   /* target: network name */
        ACTION_CREATE_CONTAINER, /* container: full config; start follows */
        ACTION_START_CONTAINER,  /* target: name, id */
        ACTION_REMOVE_CONTAINER, /* target: name, id (force) */
        ACTION_REMOVE_NETWORK,   /* target: network name, when nothing else uses it */
        ACTION_REMOVE_VOLUME,    /* target: volume name */
        ACTION_ENSURE_VOLUME,    /* target: volume name, created with berth's labels */
        _ACTION_MAX,
        _ACTION_INVALID = -22,
} ActionType;

const char *action_type_to_string(ActionType t);

typedef struct Action {
        ActionType type;
        char *target; /* object name */
        char *id;     /* Docker id when known */
        char *reason; /* why, one short phrase ("missing", "config changed", "surplus") */
        ContainerConfig *container; /* ACTION_CREATE_CONTAINER only */
} Action;

typedef struct Plan {
        Action *actions;
        size_t n_actions;
        Status status;        /* what to report after this pass */
        usec_t requeue_after; /* 0: only on the next event or relist */
        bool delete_done;     /* a deleting resource has no Docker object left: drop the row */
} Plan;

void plan_init(Plan *p);
void plan_release(Plan *p);
/* Appends an action; takes ownership of `container` (even on failure). */
int plan_add(Plan *p, ActionType type, const char *target, const char *id, const char *reason,
             ContainerConfig *container) _warn_unused_result_;
/* One action per line, "create_container shop-web-app-0 (missing)", in plan order. */
int plan_to_text(const Plan *p, Buf *out) _warn_unused_result_;
/* JSON array of {action, target, reason} for apply?dry_run=true. */
cJSON *plan_to_json(const Plan *p);
