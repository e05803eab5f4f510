/* SPDX-License-Identifier: MIT */
#pragma once

#include "model/container.h"
#include "model/job.h"
#include "model/plan.h"
#include "model/resource.h"
#include "reconcilers/job/job-t.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/time-util.h"

/* The pure half of the job reconciler (in berth-core: no I/O). */

/* At its timeout a run gets SIGTERM, then SIGKILL this many seconds later. */
#define JOB_STOP_TIMEOUT_S 10

/* What a pass does to a run, beside the Docker actions of its plan. Each is idempotent: the
 * reconciler repeats it after a crash and lands in the same place. */
typedef enum JobStep {
        JOB_STEP_NONE,  /* only the plan's actions (a stop at the timeout, leftovers), if any */
        JOB_STEP_QUEUE, /* the current generation has no run: queue one (PENDING) */
        JOB_STEP_START, /* the plan creates and starts the run's container; then it is RUNNING */
        JOB_STEP_ADOPT, /* the PENDING run's container exists (a crash after it started): RUNNING */
        JOB_STEP_FINISH, /* the run's container ended: keep its logs, record how it ended; the
                          * plan then removes the container */
        JOB_STEP_LOST,   /* the RUNNING run's container is gone: FAILED */
        _JOB_STEP_MAX,
        _JOB_STEP_INVALID = -22,
} JobStep;

const char *job_step_to_string(JobStep s);

typedef struct JobPlan {
        Plan plan; /* Docker actions, the status to write, when to look again */
        JobStep step;
        int64_t run;         /* the run the step is about */
        char container[128]; /* its container's name; id below when it exists */
        char container_id[80];
        usec_t started_at, timeout; /* START, ADOPT */
        JobRunState state;          /* FINISH, LOST */
        int exit_code;              /* -1: none */
        usec_t finished_at;
        char message[256];
} JobPlan;

void job_plan_init(JobPlan *p);
void job_plan_release(JobPlan *p);

/* The spec a run uses: the job's own, over the docker_service of spec.from_service (svc may be
 * NULL: none). From the service come its image (unless the job names one), its command and args
 * (unless the job sets either), its env, secrets, dependencies and networks (the job's win on the
 * same key, name or network) and its resources (unless the job sets some). */
int job_spec_resolve(const JobSpec *job, const ServiceSpec *svc, JobSpec *ret) _warn_unused_result_;

/* The container of run `seq`: <project>-<name>-job-<seq> on the project network, berth's labels
 * with berth.run, restart policy no. obs gives secret versions and what dependencies publish. */
int job_container_config(const ResourceRef *ref, const JobSpec *spec, const JobObserved *obs,
                         int64_t seq, ContainerConfig *ret, Error *reterr) _warn_unused_result_;

/* Decides this pass: the step, the Docker actions and the status. spec is the effective spec
 * (job_spec_resolve). `now` is realtime usec. */
int job_plan(const ResourceRef *ref, const JobSpec *spec, const JobObserved *obs, usec_t now,
             JobPlan *ret, Error *reterr) _warn_unused_result_;

/* "step: start run 3 (...)" then the plan's actions, one per line (golden tests, logs). */
int job_plan_to_text(const JobPlan *p, Buf *out) _warn_unused_result_;
