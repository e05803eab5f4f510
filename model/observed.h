/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/strv.h"
#include "util/time-util.h"

/* What Docker reports about one container, reduced to what planners need. Filled by
 * drivers/docker from list or inspect replies. */
typedef struct ObservedContainer {
        char *id;
        char *name; /* without the leading '/' */
        char *image;
        char *state;       /* created running paused restarting removing exited dead */
        char *health;      /* healthy unhealthy starting, or NULL when no Docker healthcheck */
        char *resource;    /* berth.resource label */
        char *role;        /* berth.role label */
        char *config_hash; /* berth.config-hash label */
        int index;         /* berth.index label, -1 when absent or unparsable */
        char *ip;          /* first network address, NULL when none */
        int exit_code;
        bool oom_killed;
        usec_t created;    /* realtime usec */
        usec_t started_at; /* realtime usec, 0 when unknown */
        usec_t finished_at;
        int restart_count;
        bool has_resources; /* from an inspect: the limits below are what Docker applies */
        int64_t nano_cpus;  /* 0: unlimited */
        int64_t memory;     /* bytes, 0: unlimited */
} ObservedContainer;

void observed_container_release(ObservedContainer *c);
void observed_containers_free(ObservedContainer *c, size_t n);

/* Result of berth's own probe (http/tcp healthchecks run by the controller). */
typedef enum ProbeResult {
        PROBE_UNKNOWN,
        PROBE_OK,
        PROBE_FAIL,
} ProbeResult;

/* A probe's latest result with its streaks, counted at most once per healthcheck interval, so
 * thresholds mean "N intervals in a row" as in Docker's own healthcheck. */
typedef struct ProbeStatus {
        ProbeResult result;
        int ok_streak;
        int fail_streak;
} ProbeStatus;
