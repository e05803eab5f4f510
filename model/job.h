/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/service.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* kind: job — a container run to completion, once per spec generation (a new spec, or the `run`
 * action, which makes a new generation of the same spec). Each run is kept (store/jobs.h) with
 * its state, exit code, times and the tail of its logs. */

#define JOB_ROLE            "job"
#define JOB_TIMEOUT_DEFAULT (3600 * USEC_PER_SEC)
#define JOB_TIMEOUT_MIN     USEC_PER_SEC
#define JOB_TIMEOUT_MAX     (24 * 3600 * USEC_PER_SEC)
#define JOB_LOG_MAX         (1024 * 1024) /* bytes of a run's output kept: the tail */
#define LABEL_JOB_RUN       "berth.run"   /* the run number, on the run's container */

/* A normalised job spec, typed (validation already refused anything out of range). */
typedef struct JobSpec {
        /* image (NULL with from_service until resolved), command, args, env, resources,
         * networks, secrets, deps: the container part, as docker_service has it. */
        ServiceSpec container;
        usec_t timeout;
        char *from_service; /* a docker_service whose image and env the run reuses; NULL: none */
} JobSpec;

/* Validates a job spec as a user wrote it and returns it normalised (defaults filled in, keys in
 * a fixed order). Errors name the field and carry a reason, as docker_service's. */
int job_spec_validate(const cJSON *spec, cJSON **ret, Error *reterr) _warn_unused_result_;
/* Reads a normalised spec. */
int job_spec_from_json(const cJSON *spec, JobSpec *ret, Error *reterr) _warn_unused_result_;
void job_spec_release(JobSpec *s);

typedef enum JobRunState {
        JOB_RUN_PENDING,   /* queued: waits for its dependencies, or for the run before it */
        JOB_RUN_RUNNING,   /* its container runs */
        JOB_RUN_SUCCEEDED, /* exited 0 within its timeout */
        JOB_RUN_FAILED,    /* exited non-zero, could not start, or its container vanished */
        JOB_RUN_TIMEOUT,   /* still running at its timeout: stopped */
        _JOB_RUN_STATE_MAX,
        _JOB_RUN_STATE_INVALID = -EINVAL,
} JobRunState;

const char *job_run_state_to_string(JobRunState s);
JobRunState job_run_state_from_string(const char *s);
static inline bool job_run_state_is_final(JobRunState s) {
        return s == JOB_RUN_SUCCEEDED || s == JOB_RUN_FAILED || s == JOB_RUN_TIMEOUT;
}

/* One run as the store keeps it (without its logs). */
typedef struct JobRun {
        int64_t seq;        /* the run number: 1, 2, ... per job */
        int64_t generation; /* the spec generation it runs (or will run) */
        JobRunState state;
        int exit_code;                              /* -1: none */
        usec_t created_at, started_at, finished_at; /* realtime; 0: not yet */
        usec_t timeout;                             /* fixed when it starts; 0 before */
        char trigger[16];                           /* "apply" or "run" */
        char message[256];                          /* how it ended */
} JobRun;

/* A run's output made storable as text, in place: NUL bytes and bytes that are not part of valid
 * UTF-8 become '?'. */
void job_log_sanitize(char *s, size_t n);
