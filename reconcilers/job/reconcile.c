/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "job"
#include "util/common.h"
#include "util/log.h"

#include "drivers/docker/docker.h"
#include "model/json-util.h"
#include "reconcilers/job/job.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/steps.h"
#include "store/jobs.h"

/* A pass that failed: phase and message change; what the last good pass reported stays. */
static int fail_status(ReconcileCtx *ctx, const StoredResource *r, Phase phase, const char *msg,
                       Error *reterr) {
        return reconcile_fail_status(ctx, r, phase, msg, NULL, reterr);
}

/* The run's output, the last JOB_LOG_MAX bytes, made storable. A container Docker no longer has
 * leaves a note instead. */
static int capture_logs(ReconcileCtx *ctx, const JobPlan *jp, Buf *out) {
        Error e = ERROR_INIT;
        int r;

        r = docker_container_logs(
                ctx->docker, jp->container_id[0] ? jp->container_id : jp->container, -1, out, &e);
        if (r == -ENOENT)
                return buf_printf(out, "(no logs: the container is gone)\n");
        if (r < 0 && err_is_transient(r))
                return r; /* try again: the container stays until its logs are kept */
        if (r < 0)
                return buf_printf(out, "(logs unavailable: %s)\n", e.msg);
        if (out->len > 0)
                job_log_sanitize(out->buf, out->len);
        return 0;
}

static int run_finish(ReconcileCtx *ctx, const StoredResource *r, const JobPlan *jp,
                      Error *reterr) {
        _cleanup_(buf_release) Buf logs = BUF_INIT(JOB_LOG_MAX);
        int q;

        if (jp->step == JOB_STEP_FINISH) {
                q = capture_logs(ctx, jp, &logs);
                if (q < 0)
                        return err_set(reterr, q, NULL, "run %" PRId64 ": cannot read its logs",
                                       jp->run);
        }
        q = store_job_run_finish(ctx->store, r->ref.uuid, jp->run, jp->state, jp->exit_code,
                                 jp->finished_at, jp->message, buf_str(&logs), reterr);
        if (q < 0)
                return q;
        log_info("%s/%s: run %" PRId64 " %s: %s", r->ref.project, r->ref.name, jp->run,
                 job_run_state_to_string(jp->state), jp->message);
        return 0;
}

/* The run's container could not be made or started. A Docker that is away or busy is tried
 * again (the run stays PENDING); anything else (no such image, a missing secret) ends the run. */
static int run_start_failed(ReconcileCtx *ctx, const StoredResource *r, const JobPlan *jp, int q,
                            const Error *err, ReconcileResult *ret, Error *reterr) {
        char msg[sizeof(err->msg) + 64];

        snprintf(msg, sizeof(msg), "run %" PRId64 " could not start: %s", jp->run, err->msg);
        log_warn("%s/%s: %s", r->ref.project, r->ref.name, msg);
        DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "RunStartFailed", msg, NULL));
        if (err_is_transient(q)) {
                /* The caller reports it (DEGRADED) and backs off. */
                *reterr = *err;
                return err_prefix(reterr, "run %" PRId64 " could not start", jp->run);
        }
        q = store_job_run_finish(ctx->store, r->ref.uuid, jp->run, JOB_RUN_FAILED, -1, ctx->now,
                                 err->msg, "", reterr);
        if (q < 0)
                return q;
        ret->requeue_after = USEC_PER_MSEC;
        return fail_status(ctx, r, PHASE_FAILED, msg, reterr);
}

/* What the step needs before the plan's Docker actions (FINISH: the logs go to the store before
 * the container goes) or after them (START: RUNNING once the container runs). */
static int run_step(ReconcileCtx *ctx, const StoredResource *r, const JobPlan *jp,
                    ReconcileResult *ret, Error *reterr) {
        Error err = ERROR_INIT;
        int q;

        switch (jp->step) {
        case JOB_STEP_QUEUE:
                q = store_job_run_ensure(ctx->store, r->ref.uuid, r->ref.generation, NULL, reterr);
                if (q == -ESTALE) { /* the generation moved on: the next pass reads it */
                        err_clear(reterr);
                        return 1;
                }
                if (q < 0)
                        return q;
                return steps_apply(ctx, &r->ref, &jp->plan, NULL, NULL, reterr);
        case JOB_STEP_ADOPT:
                q = store_job_run_start(ctx->store, r->ref.uuid, jp->run, jp->started_at,
                                        jp->timeout, reterr);
                if (q >= 0)
                        log_info("%s/%s: run %" PRId64 " found running in %s", r->ref.project,
                                 r->ref.name, jp->run, jp->container);
                return q;
        case JOB_STEP_START:
                q = steps_apply(ctx, &r->ref, &jp->plan, NULL, NULL, &err);
                if (q < 0) {
                        q = run_start_failed(ctx, r, jp, q, &err, ret, reterr);
                        return q < 0 ? q : 1;
                }
                q = store_job_run_start(ctx->store, r->ref.uuid, jp->run, jp->started_at,
                                        jp->timeout, reterr);
                if (q >= 0)
                        log_info("%s/%s: run %" PRId64 " started in %s", r->ref.project,
                                 r->ref.name, jp->run, jp->container);
                return q;
        case JOB_STEP_FINISH:
        case JOB_STEP_LOST:
                q = run_finish(ctx, r, jp, reterr);
                if (q < 0)
                        return q;
                return steps_apply(ctx, &r->ref, &jp->plan, NULL, NULL, reterr);
        default:
                return steps_apply(ctx, &r->ref, &jp->plan, NULL, NULL, reterr);
        }
}

int job_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret, Error *reterr) {
        _cleanup_(job_spec_release) JobSpec spec = {0}, eff = {0};
        _cleanup_(job_observed_release) JobObserved obs = {0};
        _cleanup_(job_plan_release) JobPlan jp;
        Error err = ERROR_INIT;
        int q;

        job_plan_init(&jp);
        q = job_spec_from_json(r->spec, &spec, &err);
        if (q < 0 && !r->ref.deleting) {
                /* A stored spec that no longer parses is terminal until the user applies again. */
                ret->terminal = true;
                (void) fail_status(ctx, r, PHASE_FAILED, err.msg, NULL);
                return err_set(reterr, q, err.field, "%s", err.msg);
        }
        q = job_observe(ctx->docker, ctx->store, &r->ref, &spec, &eff, &obs, reterr);
        if (q < 0)
                return q;
        q = job_plan(&r->ref, &eff, &obs, ctx->now, &jp, &err);
        if (q < 0) {
                if (err_is_transient(q)) {
                        *reterr = err;
                        return q;
                }
                (void) fail_status(ctx, r, PHASE_FAILED, err.msg, NULL);
                *reterr = err;
                return q;
        }

        q = run_step(ctx, r, &jp, ret, &err);
        if (q > 0) { /* handled: the next pass takes it from there */
                if (!ret->requeue_after)
                        ret->requeue_after = USEC_PER_MSEC;
                return 0;
        }
        if (q < 0) {
                log_warn("%s/%s: %s", r->ref.project, r->ref.name, err.msg);
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "ApplyFailed", err.msg,
                                        NULL));
                (void) fail_status(ctx, r, err_is_transient(q) ? PHASE_DEGRADED : PHASE_FAILED,
                                   err.msg, NULL);
                *reterr = err;
                return q;
        }

        if (jp.plan.delete_done) {
                q = store_resource_remove(ctx->store, r->ref.uuid, ctx->epoch, reterr);
                if (q < 0)
                        return q;
                ret->removed = true;
                return 0;
        }
        q = reconcile_write_status(ctx, r, &jp.plan.status, reterr);
        if (q < 0)
                return q;
        ret->requeue_after = jp.plan.requeue_after;
        return 0;
}

/* Whether spec_json differs from the stored spec: a dry run of a change shows the new run. */
static bool spec_changes(Store *store, const ResourceRef *ref, const cJSON *spec_json) {
        _cleanup_(stored_resource_release) StoredResource row = {0};

        if (isempty(ref->uuid) || !store ||
            store_resource_get_by_uuid(store, ref->uuid, &row, NULL) < 0)
                return true;
        return !cJSON_Compare(row.spec, spec_json, true);
}

int job_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const cJSON *spec_json,
                Plan *ret, Error *reterr) {
        _cleanup_(job_spec_release) JobSpec spec = {0}, eff = {0};
        _cleanup_(job_observed_release) JobObserved obs = {0};
        _cleanup_(job_plan_release) JobPlan jp;
        ResourceRef next = *ref;
        int64_t seq = 1;
        char name[128], reason[96];
        int q;

        job_plan_init(&jp);
        q = job_spec_from_json(spec_json, &spec, reterr);
        if (q < 0)
                return q;
        q = job_observe(docker, store, ref, &spec, &eff, &obs, reterr);
        if (q < 0)
                return q;
        /* The generation an apply of this spec makes: a new one when it changes. */
        if (spec_changes(store, ref, spec_json))
                next.generation = ref->generation + 1;
        q = job_plan(&next, &eff, &obs, now_realtime(), &jp, reterr);
        if (q < 0)
                return q;
        if (jp.step == JOB_STEP_QUEUE) {
                /* What the queued run will be: a container run to its end. */
                if (obs.n_runs > 0)
                        seq = obs.runs[obs.n_runs - 1].seq + 1;
                q = name_container(name, sizeof(name), ref->project, ref->name, JOB_ROLE,
                                   (unsigned) seq);
                if (q < 0)
                        return err_set(reterr, q, "metadata.name", "container name too long");
                snprintf(reason, sizeof(reason), "a new run of generation %" PRId64,
                         next.generation);
                q = plan_add(&jp.plan, ACTION_RUN_TO_COMPLETION, name, NULL, reason, NULL);
                if (q < 0)
                        return q;
        }
        *ret = jp.plan;
        plan_init(&jp.plan);
        return 0;
}
