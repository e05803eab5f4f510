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
        ACTION_ENSURE_NETWORK,     /* target: network name */
        ACTION_CREATE_CONTAINER,   /* container: full config; start follows */
        ACTION_START_CONTAINER,    /* target: name, id */
        ACTION_REMOVE_CONTAINER,   /* target: name, id (force) */
        ACTION_REMOVE_NETWORK,     /* target: network name, when nothing else uses it */
        ACTION_REMOVE_VOLUME,      /* target: volume name */
        ACTION_ENSURE_VOLUME,      /* target: volume name, created with berth's labels */
        ACTION_ENSURE_SECRET,      /* target: secret name; generated when absent, never replaced */
        ACTION_STOP_CONTAINER,     /* target: name, id (its stop signal and timeout) */
        ACTION_RESTART_CONTAINER,  /* target: name, id */
        ACTION_PUT_FILES,          /* target: running container; files: written in place */
        ACTION_EXEC,               /* target: running container; argv: must exit 0 */
        ACTION_RUN_TO_COMPLETION,  /* container: created, started, waited for, removed */
        ACTION_FINISH_REQUEST,     /* target: the queued request's id, done */
        ACTION_UPDATE_RESOURCES,   /* target: running container; container: its new limits */
        ACTION_RENAME_CONTAINER,   /* target: name, id; argv[0]: its new name */
        ACTION_KILL_CONTAINER,     /* target: name, id; argv[0]: signal (NULL: SIGKILL) */
        ACTION_DISCONNECT_NETWORK, /* target: container name, id; argv[0]: the network */
        _ACTION_MAX,
        _ACTION_INVALID = -22,
} ActionType;

const char *action_type_to_string(ActionType t);

typedef struct Action {
        ActionType type;
        char *target; /* object name */
        char *id;     /* Docker id when known */
        char *reason; /* why, one short phrase ("missing", "config changed", "surplus") */
        ContainerConfig *container; /* ACTION_CREATE_CONTAINER, ACTION_RUN_TO_COMPLETION */
        Strv argv;                  /* ACTION_EXEC */
        ContainerFile *files;       /* ACTION_PUT_FILES */
        size_t n_files;
        usec_t timeout; /* ACTION_RUN_TO_COMPLETION: given up (-ETIMEDOUT) after; 0: hours */
} Action;

typedef struct Plan {
        Action *actions;
        size_t n_actions;
        Status status;        /* what to report after this pass */
        usec_t requeue_after; /* 0: only on the next event or relist */
        bool delete_done;     /* a deleting resource has no Docker object left: drop the row */
        /* The operation these actions make, for history ("backup", "restore", "restart"),
         * empty when they are routine convergence. */
        char operation[32];
} Plan;

void plan_init(Plan *p);
void plan_release(Plan *p);
/* Appends an action; takes ownership of `container` (even on failure). */
int plan_add(Plan *p, ActionType type, const char *target, const char *id, const char *reason,
             ContainerConfig *container) _warn_unused_result_;
/* ACTION_EXEC of argv (copied) in container `target`. */
int plan_add_exec(Plan *p, const char *target, const char *reason,
                  char *const *argv) _warn_unused_result_;
/* ACTION_PUT_FILES: takes ownership of files[0..n) (even on failure). */
int plan_add_files(Plan *p, const char *target, const char *reason, ContainerFile *files,
                   size_t n) _warn_unused_result_;
/* One action per line, "create_container shop-web-app-0 (missing)", in plan order. */
int plan_to_text(const Plan *p, Buf *out) _warn_unused_result_;
/* JSON array of {action, target, reason} for apply?dry_run=true. */
cJSON *plan_to_json(const Plan *p);
