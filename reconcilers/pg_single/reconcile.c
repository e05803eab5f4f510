/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "pg_single"
#include "util/common.h"
#include "util/log.h"

#include "drivers/docker/docker.h"
#include "model/json-util.h"
#include "reconcilers/pg_single/pg.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/steps.h"
#include "store/requests.h"

#define OPERATION_LOG_MAX (1024 * 1024)

/* A failed pass that must not simply run again: a restore_from that failed waits for a new
 * generation (status.restore_failed), a failed scheduled backup for the next slot (it counts
 * as the slot's run, its error in status.backup.last_error). */
static cJSON *failure_memory(const StoredResource *r, const PgObserved *obs, const Plan *plan,
                             const char *msg, usec_t now) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        char when[40];
        cJSON *m;

        if (!o)
                return NULL;
        if (streq(plan->operation, "clone")) {
                m = cJSON_AddObjectToObject(o, "restore_failed");
                if (!m || !cJSON_AddNumberToObject(m, "generation", (double) r->ref.generation) ||
                    !cJSON_AddStringToObject(m, "error", msg))
                        return NULL;
        } else if (streq(plan->operation, "backup") && !obs->has_request) {
                /* The whole backup member (it replaces the stored one), with these two set. */
                m = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->status, "backup"), true);
                if (!m)
                        m = cJSON_CreateObject();
                if (!m || json_add_item_take(o, "backup", m) < 0)
                        return NULL;
                cJSON_DeleteItemFromObjectCaseSensitive(m, "schedule_ran_at");
                cJSON_DeleteItemFromObjectCaseSensitive(m, "last_error");
                if (!cJSON_AddStringToObject(m, "schedule_ran_at",
                                             format_rfc3339_exact(now, when, sizeof(when))) ||
                    !cJSON_AddStringToObject(m, "last_error", msg))
                        return NULL;
        }
        return TAKE_PTR(o);
}

static int64_t storage_member(const cJSON *status, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(status, "storage"), key);
        return cJSON_IsNumber(v) ? (int64_t) v->valuedouble : 0;
}

/* Storage growth is history: an event each time usage crosses another tenth of the requested
 * size (up or down), and a warning past nine tenths. */
static void record_storage_growth(ReconcileCtx *ctx, const StoredResource *r, const Status *st) {
        int64_t req = storage_member(st->extra, "requested_bytes");
        int64_t was = storage_member(r->status, "used_bytes");
        int64_t now = storage_member(st->extra, "used_bytes");
        char msg[160];

        if (req <= 0 || now <= 0 || was <= 0 || now * 10 / req == was * 10 / req)
                return;
        snprintf(msg, sizeof(msg),
                 "%" PRIi64 " MiB used, %" PRIi64 "%% of the %" PRIi64
                 " MiB requested (was %" PRIi64 " MiB)",
                 now >> 20, now * 100 / req, req >> 20, was >> 20);
        DISCARD(store_event_add(ctx->store, r->ref.uuid, now * 10 >= req * 9 ? "Warning" : "Normal",
                                "StorageUsage", msg, NULL));
}

/* The operation a pass records: the queued request's (started once, resumed after a crash), or
 * one of its own (a scheduled backup, a restart for new parameters, a new generation). */
static int operation_begin(ReconcileCtx *ctx, const StoredResource *r, const PgObserved *obs,
                           const Plan *plan, int64_t *ret_op) {
        _cleanup_(stored_request_release) StoredRequest req = {};
        const char *kind = plan->operation;
        int q;

        *ret_op = 0;
        if (obs->has_request && plan->operation[0]) {
                q = store_request_next(ctx->store, r->ref.uuid, &req, NULL);
                if (q >= 0 && req.id == obs->request_id && req.operation > 0) {
                        *ret_op = req.operation;
                        return 0;
                }
                if (q >= 0 && req.id == obs->request_id) {
                        q = store_operation_start(ctx->store, r->ref.uuid, req.action, req.actor,
                                                  ret_op, NULL);
                        if (q >= 0)
                                q = store_request_start(ctx->store, req.id, *ret_op, NULL);
                        return q;
                }
        }
        if (!kind[0] && r->ref.generation != r->observed_generation && plan->n_actions > 0)
                kind = "deploy";
        if (!kind[0])
                return 0;
        return store_operation_start(ctx->store, r->ref.uuid, kind, "controller", ret_op, NULL);
}

int pg_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret, Error *reterr) {
        _cleanup_(pg_single_spec_release) PgSingleSpec spec = {};
        _cleanup_(pg_observed_release) PgObserved obs = {};
        _cleanup_(buf_release) Buf log = BUF_INIT(OPERATION_LOG_MAX);
        _cleanup_(plan_release) Plan plan;
        _cleanup_json_ cJSON *memory = NULL;
        Error err = ERROR_INIT;
        const char *problem;
        int64_t op = 0;
        int q;

        plan_init(&plan);
        q = pg_single_spec_from_json(r->spec, &spec, &err);
        if (q < 0) {
                ret->terminal = true;
                (void) reconcile_fail_status(ctx, r, PHASE_FAILED, err.msg, NULL, NULL);
                return err_set(reterr, q, err.field, "%s", err.msg);
        }
        q = pg_observe(ctx->docker, ctx->store, &r->ref, &spec, r->status, &obs, reterr);
        if (q < 0)
                return q;

        /* A request this spec cannot serve fails at once, with the reason, and the queue moves. */
        problem = pg_request_problem(&spec, &obs);
        if (problem && !r->ref.deleting) {
                log_info("%s/%s: request %" PRIi64 " refused: %s", r->ref.project, r->ref.name,
                         obs.request_id, problem);
                q = store_request_finish(ctx->store, obs.request_id, false, problem, reterr);
                if (q < 0)
                        return q;
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "RequestRefused",
                                        problem, NULL));
                ret->requeue_after = USEC_PER_MSEC;
                return 0;
        }

        q = pg_plan(&r->ref, &spec, &obs, ctx->now, &plan, reterr);
        if (q < 0)
                return q;
        if (plan.n_actions > 0)
                DISCARD(operation_begin(ctx, r, &obs, &plan, &op));
        if (op > 0) {
                DISCARD(plan_to_text(&plan, &log));
        }

        q = steps_apply(ctx, &r->ref, &plan, &log, NULL, &err);
        if (op > 0) {
                if (q < 0)
                        DISCARD(buf_printf(&log, "error: %s\n", err.msg));
                DISCARD(store_operation_finish(ctx->store, op, q >= 0, buf_str(&log), NULL));
        }
        if (q < 0) {
                log_warn("%s/%s: %s", r->ref.project, r->ref.name, err.msg);
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "ApplyFailed", err.msg,
                                        NULL));
                /* A queued request that failed is finished as such: retrying a failed backup or
                 * restore forever would hide the error. */
                if (obs.has_request && plan.operation[0])
                        DISCARD(store_request_finish(ctx->store, obs.request_id, false, err.msg,
                                                     NULL));
                memory = failure_memory(r, &obs, &plan, err.msg, ctx->now);
                (void) reconcile_fail_status(ctx, r,
                                             err_is_transient(q) ? PHASE_DEGRADED : PHASE_FAILED,
                                             err.msg, memory, NULL);
                *reterr = err;
                return q;
        }

        if (plan.delete_done) {
                char net[128];

                if (name_resource_network(net, sizeof(net), r->ref.project, r->ref.name) >= 0)
                        DISCARD(docker_network_remove(ctx->docker, net, NULL));
                q = store_resource_remove(ctx->store, r->ref.uuid, ctx->epoch, reterr);
                if (q < 0)
                        return q;
                ret->removed = true;
                return 0;
        }
        record_storage_growth(ctx, r, &plan.status);
        q = reconcile_write_status(ctx, r, &plan.status, reterr);
        if (q < 0)
                return q;
        ret->requeue_after = plan.requeue_after;
        return 0;
}

int pg_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const cJSON *spec_json,
               Plan *ret, Error *reterr) {
        _cleanup_(pg_single_spec_release) PgSingleSpec spec = {};
        _cleanup_(pg_observed_release) PgObserved obs = {};
        int q;

        q = pg_single_spec_from_json(spec_json, &spec, reterr);
        if (q < 0)
                return q;
        q = pg_observe(docker, store, ref, &spec, NULL, &obs, reterr);
        if (q < 0)
                return q;
        return pg_plan(ref, &spec, &obs, now_realtime(), ret, reterr);
}
