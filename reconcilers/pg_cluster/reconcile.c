/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "pg_cluster"
#include "util/common.h"
#include "util/log.h"

#include "drivers/docker/docker.h"
#include "model/json-util.h"
#include "reconcilers/pg_cluster/pgc.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/steps.h"
#include "store/requests.h"

/* One pass of a pg_cluster: observe, plan, apply, then the history the pass saw (leader changes
 * as operations and events) and the status. */

#define OPERATION_LOG_MAX (1024 * 1024)

/* What the status keeps about leaders and failovers: observations, so a pass whose steps failed
 * keeps them too (or the next pass would record the same change again). */
static const char *const history_keys[] = {"leader",           "timeline",
                                           "leaderless_since", "failovers",
                                           "failover_pending", "failover_in_progress",
                                           "dcs_members",      NULL};

/* The leader changes the pass saw: an operation each (begun when seen, ended once routed), an
 * event each. The in-progress one's operation id goes into the status. */
static void record_history(ReconcileCtx *ctx, const StoredResource *r, const PgcNotes *notes,
                           cJSON *extra) {
        for (size_t i = 0; i < notes->n_records; i++) {
                const PgcRecord *rec = &notes->records[i];
                int64_t op = rec->operation;

                if (rec->start) {
                        op = 0;
                        if (store_operation_start(ctx->store, r->ref.uuid, rec->kind,
                                                  rec->actor[0] ? rec->actor : "controller", &op,
                                                  NULL) < 0)
                                op = 0;
                        if (!rec->finish)
                                log_info("%s/%s: leader change seen (%s), waiting for the proxy to "
                                         "route writes to the new leader",
                                         r->ref.project, r->ref.name, rec->kind);
                }
                if (rec->in_progress && op > 0) {
                        cJSON *p = cJSON_GetObjectItemCaseSensitive(extra, "failover_in_progress");

                        if (p) {
                                cJSON_DeleteItemFromObjectCaseSensitive(p, "operation");
                                cJSON_AddNumberToObject(p, "operation", (double) op);
                        }
                }
                if (rec->finish) {
                        if (op > 0)
                                DISCARD(store_operation_finish(ctx->store, op, true,
                                                               strempty(rec->log), NULL));
                        DISCARD(store_event_add(ctx->store, r->ref.uuid,
                                                streq(rec->kind, "failover") ? "Warning" : "Normal",
                                                streq(rec->kind, "failover") ? "Failover"
                                                                             : "Switchover",
                                                strempty(rec->summary), NULL));
                        log_info("%s/%s: %s", r->ref.project, r->ref.name, strna(rec->summary));
                }
        }
}

/* The operation the pass's own actions make (a rolling restart or update, a new generation). */
static int operation_begin(ReconcileCtx *ctx, const StoredResource *r, const PgcObserved *obs,
                           const Plan *plan, int64_t *ret_op) {
        const char *kind = plan->operation;

        *ret_op = 0;
        /* A switchover or failover is recorded as the leader change it makes (record_history):
         * the request itself only says done or why not. */
        if (obs->has_request && plan->operation[0])
                return 0;
        if (!kind[0] && r->ref.generation != r->observed_generation && plan->n_actions > 0)
                kind = "deploy";
        if (!kind[0])
                return 0;
        return store_operation_start(ctx->store, r->ref.uuid, kind, "controller", ret_op, NULL);
}

/* When the leader key names a member whose container is not running, the key is released at
 * once (pgc_plan_release()) and the DCS read again; the detection is remembered for the leader
 * change this leads to. */
static int fast_release(ReconcileCtx *ctx, const StoredResource *r, const PgClusterSpec *spec,
                        PgcObserved *obs, Error *reterr) {
        _cleanup_(plan_release) Plan plan;
        char reason[160], old[16];
        Error err = ERROR_INIT;
        usec_t detected;
        int q;

        plan_init(&plan);
        q = pgc_observe_refresh_leader(ctx->docker, obs, reterr);
        if (q < 0)
                return q;
        detected = now_realtime();
        q = pgc_plan_release(&r->ref, spec, obs, ctx->now, &plan, reason, sizeof(reason));
        if (q < 0 || plan.n_actions == 0)
                return q;
        snprintf(old, sizeof(old), "%s", strempty(obs->leader_key_holder));
        q = steps_apply(ctx, &r->ref, &plan, NULL, NULL, &err);
        if (q < 0) {
                /* The planner tries again with everything observed. */
                log_warn("%s/%s: releasing %s's leader key: %s", r->ref.project, r->ref.name, old,
                         err.msg);
                return 0;
        }
        log_info("%s/%s: leader %s is not running (%s): released its leader key", r->ref.project,
                 r->ref.name, old, reason);
        DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "LeaderDown", reason, NULL));
        if (!obs->have_pending || !streq(obs->pending_old, old)) {
                obs->have_pending = true;
                snprintf(obs->pending_old, sizeof(obs->pending_old), "%s", old);
                snprintf(obs->pending_reason, sizeof(obs->pending_reason), "%s", reason);
                obs->pending_at = detected;
        }
        return pgc_observe_dcs(ctx->docker, &r->ref, obs, reterr);
}

int pgc_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret, Error *reterr) {
        _cleanup_(pg_cluster_spec_release) PgClusterSpec spec = {};
        _cleanup_(pgc_observed_release) PgcObserved obs = {};
        _cleanup_(buf_release) Buf log = BUF_INIT(OPERATION_LOG_MAX);
        _cleanup_(pgc_notes_release) PgcNotes notes = {};
        _cleanup_(plan_release) Plan plan;
        _cleanup_json_ cJSON *memory = NULL;
        Error err = ERROR_INIT;
        const char *problem;
        int64_t op = 0;
        int q;

        plan_init(&plan);
        q = pg_cluster_spec_from_json(r->spec, &spec, &err);
        if (q < 0) {
                ret->terminal = true;
                (void) reconcile_fail_status(ctx, r, PHASE_FAILED, err.msg, NULL, NULL);
                return err_set(reterr, q, err.field, "%s", err.msg);
        }
        q = pgc_observe_docker(ctx->docker, ctx->store, &r->ref, &spec, r->status, &obs, reterr);
        if (q >= 0)
                q = pgc_observe_dcs(ctx->docker, &r->ref, &obs, reterr);
        if (q < 0)
                return q;
        /* The fast failover first: every member asked below would only delay it. */
        q = fast_release(ctx, r, &spec, &obs, reterr);
        if (q >= 0)
                q = pgc_observe_inside(ctx->docker, ctx->store, &r->ref, &spec, &obs, reterr);
        if (q < 0)
                return q;
        obs.inside_at = now_realtime();

        /* A request this cluster cannot serve fails at once, with the reason. */
        problem = pgc_request_problem(&spec, &obs);
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

        q = pgc_plan(&r->ref, &spec, &obs, ctx->now, &plan, &notes, reterr);
        if (q < 0)
                return q;
        /* What was seen is recorded whatever the steps do. */
        record_history(ctx, r, &notes, plan.status.extra);
        if (plan.n_actions > 0)
                DISCARD(operation_begin(ctx, r, &obs, &plan, &op));
        if (op > 0)
                DISCARD(plan_to_text(&plan, &log));

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
                if (obs.has_request && plan.operation[0])
                        DISCARD(store_request_finish(ctx->store, obs.request_id, false, err.msg,
                                                     NULL));
                memory = cJSON_CreateObject();
                for (const char *const *k = history_keys; memory && *k; k++) {
                        const cJSON *v = cJSON_GetObjectItemCaseSensitive(plan.status.extra, *k);

                        if (v)
                                cJSON_AddItemToObject(memory, *k, cJSON_Duplicate(v, true));
                }
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
        q = reconcile_write_status(ctx, r, &plan.status, reterr);
        if (q < 0)
                return q;
        ret->requeue_after = plan.requeue_after;
        return 0;
}

int pgc_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const cJSON *spec_json,
                Plan *ret, Error *reterr) {
        _cleanup_(pg_cluster_spec_release) PgClusterSpec spec = {};
        _cleanup_(pgc_observed_release) PgcObserved obs = {};
        _cleanup_(pgc_notes_release) PgcNotes notes = {};
        int q;

        q = pg_cluster_spec_from_json(spec_json, &spec, reterr);
        if (q < 0)
                return q;
        q = pgc_observe(docker, store, ref, &spec, NULL, &obs, reterr);
        if (q < 0)
                return q;
        return pgc_plan(ref, &spec, &obs, now_realtime(), ret, &notes, reterr);
}
