/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/job.h"
#include "store/store.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* The runs of kind job (schema/0009_job_runs.sql). A job runs once per spec generation: the
 * controller queues the current generation's run (store_job_run_ensure), the `run` action makes a
 * new generation with its run (store_job_run_request). The controller then starts the oldest
 * PENDING run, and finishes it with its outcome and logs. Each transition is idempotent, so a
 * controller killed between two of them repeats the step and lands in the same place. */

#define JOB_RUNS_KEEP 20 /* finished runs kept per job (with their logs): the newest */

/* What reconcile needs: every open run (PENDING, RUNNING) and the newest few, oldest first. */
int store_job_runs_get(Store *s, const char *uuid, JobRun **ret, size_t *ret_n,
                       Error *reterr) _warn_unused_result_;

/* The current generation gets its run: nothing when one exists for it; a PENDING run queued for
 * an older generation (not started yet, so it runs the current spec anyway) takes it; else a new
 * PENDING run (trigger "apply"), with an event. ret_seq (may be NULL): the run's number. */
int store_job_run_ensure(Store *s, const char *uuid, int64_t generation, int64_t *ret_seq,
                         Error *reterr) _warn_unused_result_;

/* The run action: a new generation of the same spec and a PENDING run for it (trigger "run",
 * actor), with an event, an audit row and a NOTIFY. When a run is PENDING already nothing is
 * added: *ret_new is false and the seq is that run's. -ENOENT RESOURCE_NOT_FOUND, -EBUSY
 * RESOURCE_DELETING. */
int store_job_run_request(Store *s, const char *uuid, const char *actor, int64_t *ret_seq,
                          int64_t *ret_generation, bool *ret_new,
                          Error *reterr) _warn_unused_result_;

/* PENDING → RUNNING since started_at, with the timeout it runs under; its operation ("run")
 * starts. A run already RUNNING (a repeat) is left as it is; a final one is -EALREADY. */
int store_job_run_start(Store *s, const char *uuid, int64_t seq, usec_t started_at, usec_t timeout,
                        Error *reterr) _warn_unused_result_;

/* → state (SUCCEEDED, FAILED or TIMEOUT) with its exit code (-1: none), end time, message and
 * logs (text; the last JOB_LOG_MAX bytes are kept). The operation ends DONE or FAILED with the
 * logs' tail and the outcome, an event says how it ended, and runs beyond JOB_RUNS_KEEP go. A
 * run already final keeps its first outcome. */
int store_job_run_finish(Store *s, const char *uuid, int64_t seq, JobRunState state, int exit_code,
                         usec_t finished_at, const char *message, const char *logs,
                         Error *reterr) _warn_unused_result_;

/* JSON array of {id, state, exit_code, generation, trigger, actor, created_at, started_at,
 * finished_at, timeout, message, log_bytes, operation}, newest first, at most `limit`. */
int store_job_runs_list(Store *s, const char *uuid, int limit, cJSON **ret,
                        Error *reterr) _warn_unused_result_;

/* One run and its stored logs (malloc'd; may be NULL). seq 0: the newest run that started.
 * -ENOENT RUN_NOT_FOUND. */
int store_job_run_get(Store *s, const char *uuid, int64_t seq, JobRun *ret, char **ret_logs,
                      Error *reterr) _warn_unused_result_;
