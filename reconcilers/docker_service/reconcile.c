/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "docker_service"
#include "util/common.h"
#include "util/log.h"

#include "drivers/docker/docker.h"
#include "reconcilers/docker_service/service.h"
#include "model/json-util.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/steps.h"

static int write_status(ReconcileCtx *ctx, const StoredResource *r, const Status *st,
                        Error *reterr) {
        _cleanup_json_ cJSON *json = NULL;
        char now[40];

        json = status_to_json(st, r->status, format_rfc3339(ctx->now, now, sizeof(now)));
        if (!json)
                return -ENOMEM;
        return store_status_write(ctx->store, r->ref.uuid, ctx->epoch, st, json, reterr);
}

/* A new spec generation reaching Docker is a deploy: kept as an operation with its plan. */
static void record_deploy(ReconcileCtx *ctx, const StoredResource *r, const Plan *plan, int result,
                          const Error *err) {
        _cleanup_(buf_release) Buf log = BUF_INIT(64 * 1024);
        int64_t op;

        if (r->ref.generation == r->observed_generation || plan->n_actions == 0)
                return;
        if (plan_to_text(plan, &log) < 0)
                return;
        if (result < 0)
                DISCARD(buf_printf(&log, "error: %s\n", err->msg));
        if (store_operation_start(ctx->store, r->ref.uuid, "deploy", "controller", &op, NULL) < 0)
                return;
        DISCARD(store_operation_finish(ctx->store, op, result >= 0, buf_str(&log), NULL));
}

static int fail_status(ReconcileCtx *ctx, const StoredResource *r, Phase phase, const Error *cause,
                       Error *reterr) {
        Status st = {.phase = phase, .observed_generation = r->ref.generation};
        int q;

        st.message = b_strdup(cause->msg[0] ? cause->msg : "failed");
        if (!st.message)
                return -ENOMEM;
        q = write_status(ctx, r, &st, reterr);
        status_release(&st);
        return q;
}

int service_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                      Error *reterr) {
        _cleanup_(service_spec_release) ServiceSpec spec = {0};
        _cleanup_(service_observed_release) ServiceObserved obs = {0};
        _cleanup_(plan_release) Plan plan;
        Error err = ERROR_INIT;
        size_t done = 0;
        int q;

        plan_init(&plan);
        q = service_spec_from_json(r->spec, &spec, &err);
        if (q < 0 && !r->ref.deleting) {
                /* A stored spec that no longer parses is terminal until the user applies again. */
                ret->terminal = true;
                (void) fail_status(ctx, r, PHASE_FAILED, &err, NULL);
                return err_set(reterr, q, err.field, "%s", err.msg);
        }
        q = service_observe(ctx->docker, ctx->store, ctx->probes, &r->ref, &spec, &obs, reterr);
        if (q < 0)
                return q;
        q = service_plan(&r->ref, &spec, &obs, ctx->now, &plan, reterr);
        if (q < 0)
                return q;

        q = steps_apply(ctx, &r->ref, &plan, NULL, &done, &err);
        record_deploy(ctx, r, &plan, q, &err);
        if (q < 0) {
                log_warn("%s/%s: %s", r->ref.project, r->ref.name, err.msg);
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "ApplyFailed", err.msg,
                                        NULL));
                (void) fail_status(ctx, r, err_is_transient(q) ? PHASE_DEGRADED : PHASE_FAILED,
                                   &err, NULL);
                *reterr = err;
                return q;
        }

        if (plan.delete_done) {
                char net[96];
                if (name_project_network(net, sizeof(net), r->ref.project) >= 0) {
                        /* Shared by the project's services: in use is fine, so is gone. */
                        DISCARD(docker_network_remove(ctx->docker, net, NULL));
                }
                q = store_resource_remove(ctx->store, r->ref.uuid, ctx->epoch, reterr);
                if (q < 0)
                        return q;
                ret->removed = true;
                return 0;
        }

        q = write_status(ctx, r, &plan.status, reterr);
        if (q < 0)
                return q;
        ret->requeue_after = plan.requeue_after;
        return 0;
}

int service_preview(DockerClient *docker, Store *store, const ResourceRef *ref,
                    const cJSON *spec_json, Plan *ret, Error *reterr) {
        _cleanup_(service_spec_release) ServiceSpec spec = {0};
        _cleanup_(service_observed_release) ServiceObserved obs = {0};
        int q;

        q = service_spec_from_json(spec_json, &spec, reterr);
        if (q < 0)
                return q;
        q = service_observe(docker, store, NULL, ref, &spec, &obs, reterr);
        if (q < 0)
                return q;
        return service_plan(ref, &spec, &obs, now_realtime(), ret, reterr);
}
