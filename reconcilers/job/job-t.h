/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/depends.h"
#include "model/job.h"
#include "model/observed.h"

/* What observe() saw for one job: the plain input of plan(). */
typedef struct JobObserved {
        bool network_exists; /* the project network */
        /* Every container labelled with the job's uuid (one per run that has not been cleaned
         * up); those of open runs are inspected (start and end times, exit code, OOM kill). */
        ObservedContainer *containers;
        size_t n_containers;
        /* The job's open runs (PENDING, RUNNING) and its newest ones, oldest first. */
        JobRun *runs;
        size_t n_runs;
        /* spec.from_service: whether that docker_service exists (its image and env are then
         * in the effective spec the plan gets), and its phase. */
        bool service_exists;
        char service_phase[16];
        /* Parallel to the effective spec's secrets and dependencies; NULL when it has none. */
        int64_t *secret_versions;
        ObservedDependency *deps;
} JobObserved;

void job_observed_release(JobObserved *o);
