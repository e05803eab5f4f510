/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/macro.h"

typedef enum Phase {
        PHASE_PENDING,
        PHASE_PROVISIONING,
        PHASE_RUNNING,
        PHASE_DEGRADED,
        PHASE_FAILED,
        PHASE_PAUSED,
        PHASE_DELETING,
        PHASE_DELETED, /* soft-deleted: data kept for a while, restorable */
        _PHASE_MAX,
        _PHASE_INVALID = -22,
} Phase;

const char *phase_to_string(Phase p);
Phase phase_from_string(const char *s);

typedef struct StatusNode {
        char *name;   /* container name */
        char *role;   /* app, primary, replica, proxy, dcs, job */
        char *state;  /* running, exited, created, restarting, missing ... */
        char *health; /* healthy, unhealthy, starting, none */
        char *host;   /* address on the project network */
        unsigned index;
        int restarts;  /* Docker's restart count, when known */
        bool has_exit; /* stopped: why, below */
        int exit_code;
        bool oom_killed;
        bool has_lag; /* a replica whose primary reported it: the two below */
        int64_t lag_bytes;
        double lag_seconds;
} StatusNode;

/* What the controller reports for a resource. Built by plan(), written by the controller only. */
typedef struct Status {
        Phase phase;
        int64_t observed_generation;
        char *message;
        int replicas_desired, replicas_running, replicas_failed;
        StatusNode *nodes;
        size_t n_nodes;
        cJSON *endpoints; /* object: internal, write, read, connection_string; may be NULL */
        /* Kind-specific members added after the common ones (pg_single: server_version,
         * size_bytes, connections, backup, ...); may be NULL. */
        cJSON *extra;
} Status;

void status_release(Status *s);
/* Serialises status as the contract shows it (phase, observed_generation, message, conditions,
 * endpoints, nodes, replicas). `prev` (may be NULL) is the stored status JSON, to keep the
 * Ready condition's last_transition when its value did not change. now_rfc3339 stamps it. */
cJSON *status_to_json(const Status *s, const cJSON *prev, const char *now_rfc3339);
