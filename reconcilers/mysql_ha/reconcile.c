/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "mysql_ha"
#include <inttypes.h>

#include "util/common.h"
#include "util/log.h"

#include "drivers/docker/docker.h"
#include "model/json-util.h"
#include "reconcilers/mysql_ha/mysql.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/steps.h"
#include "store/requests.h"

/* One pass: observe, plan, apply, status. A failover's phases are recorded in the status (the
 * failover record, with the operation that logs it) before each phase's actions run, so that a
 * controller killed half way resumes it from the record: the planner re-checks each phase
 * against what it observes and does what is left. */

#define OPERATION_LOG_MAX (256 * 1024)
#define HISTORY_MAX       20

/* The stored status with the failover record replaced (and phase and message): written before a
 * phase runs. A stale lease (-ESTALE) stops the failover: another controller leads. */
static int record_failover(ReconcileCtx *ctx, const StoredResource *r, const MysqlFailover *fo,
                           const char *message, Error *reterr) {
        _cleanup_json_ cJSON *json = NULL;
        Status st = {.phase = PHASE_DEGRADED,
                     .observed_generation = r->observed_generation,
                     .message = (char *) message};
        int q;

        json = r->status ? cJSON_Duplicate(r->status, true) : cJSON_CreateObject();
        if (!json)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(json, "failover");
        cJSON_DeleteItemFromObjectCaseSensitive(json, "phase");
        cJSON_DeleteItemFromObjectCaseSensitive(json, "message");
        q = json_add_item_take(json, "failover", mysql_failover_to_json(fo));
        if (q >= 0)
                q = json_add_item_take(json, "phase", cJSON_CreateString("DEGRADED"));
        if (q >= 0)
                q = json_add_item_take(json, "message", cJSON_CreateString(message));
        if (q < 0)
                return q;
        return store_status_write(ctx->store, r->ref.uuid, ctx->epoch, &st, json, reterr);
}

/* A failed pass keeps what the last good one recorded (the failover record, the bookkeeping):
 * only phase and message change. The record of a failover under way is `fo`, when given. */
static int fail_status(ReconcileCtx *ctx, const StoredResource *r, Phase phase, const char *msg,
                       const MysqlFailover *fo, Error *reterr) {
        _cleanup_json_ cJSON *merge = NULL;

        if (fo && fo->active) {
                merge = cJSON_CreateObject();
                if (!merge || json_add_item_take(merge, "failover", mysql_failover_to_json(fo)) < 0)
                        return -ENOMEM;
        }
        return reconcile_fail_status(ctx, r, phase, msg, merge, reterr);
}

static void stamp(MysqlFailover *fo, const char *phase, usec_t t) {
        if (streq(phase, "fence"))
                fo->fenced_at = t;
        else if (streq(phase, "freeze"))
                fo->frozen_at = t;
        else if (streq(phase, "promote"))
                fo->promoted_at = t;
        else if (streq(phase, "route"))
                fo->routed_at = t;
}

static int apply_range(ReconcileCtx *ctx, const ResourceRef *ref, const Plan *plan, size_t from,
                       size_t to, Buf *log, Error *reterr) {
        Plan part = {.actions = plan->actions + from, .n_actions = to - from};

        if (to <= from)
                return 0;
        return steps_apply(ctx, ref, &part, log, NULL, reterr);
}

/* The failover's actions, phase by phase, each recorded first. */
static int apply_failover(ReconcileCtx *ctx, const StoredResource *r, MysqlPlan *mp, Buf *log,
                          Error *reterr) {
        MysqlFailover *fo = &mp->failover;
        size_t n = mp->plan.n_actions;
        char msg[256];
        int q;

        q = apply_range(ctx, &r->ref, &mp->plan, 0, mp->marks[0].first_action, log, reterr);
        for (size_t k = 0; q >= 0 && k < mp->n_marks; k++) {
                size_t end = k + 1 < mp->n_marks ? mp->marks[k + 1].first_action : n;
                usec_t t;

                snprintf(fo->phase, sizeof(fo->phase), "%s", mp->marks[k].phase);
                snprintf(msg, sizeof(msg), "%s from member %d to member %d: %s", fo->kind,
                         fo->old_index, fo->new_index, fo->phase);
                q = record_failover(ctx, r, fo, msg, reterr);
                if (q < 0)
                        break;
                q = apply_range(ctx, &r->ref, &mp->plan, mp->marks[k].first_action, end, log,
                                reterr);
                if (q < 0)
                        break;
                t = now_realtime();
                stamp(fo, fo->phase, t);
                DISCARD(buf_printf(log, "%s done at +%" PRIu64 " ms\n", fo->phase,
                                   (t - fo->detected_at) / USEC_PER_MSEC));
        }
        return q;
}

static int put_time(cJSON *o, const char *key, usec_t t) {
        char buf[40];

        return json_add_item_take(o, key,
                                  cJSON_CreateString(format_rfc3339_exact(t, buf, sizeof(buf))));
}

/* The completed failover as history: the status's last_failover and failovers (newest first),
 * the operation's log, an event. */
static int record_completion(ReconcileCtx *ctx, const StoredResource *r, MysqlPlan *mp, Buf *log) {
        MysqlFailover *fo = &mp->failover;
        _cleanup_json_ cJSON *entry = mysql_failover_to_json(fo);
        const cJSON *prev = cJSON_GetObjectItemCaseSensitive(r->status, "failovers"), *it;
        /* From the primary's death when Docker says when, else from the decision (or the request).
         */
        usec_t done = now_realtime(),
               since = fo->automatic && fo->failed_at > 0 ? fo->failed_at : fo->detected_at;
        cJSON *list, *extra = mp->plan.status.extra;
        _cleanup_free_ char *text = NULL;
        char msg[512];
        int q, count = 1;

        if (!entry || !extra)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(entry, "phase");
        q = put_time(entry, "completed_at", done);
        if (q >= 0)
                q = json_add_item_take(
                        entry, "duration_ms",
                        cJSON_CreateNumber((double) ((done - since) / USEC_PER_MSEC)));
        /* Writes go to the new primary from the proxy's rewrite on. */
        if (q >= 0 && fo->routed_at > since)
                q = json_add_item_take(
                        entry, "write_downtime_ms",
                        cJSON_CreateNumber((double) ((fo->routed_at - since) / USEC_PER_MSEC)));
        if (q < 0)
                return q;
        text = cJSON_PrintUnformatted(entry);
        if (!text)
                return -ENOMEM;
        DISCARD(buf_printf(log, "%s\n", text));
        if (fo->operation > 0)
                DISCARD(store_operation_finish(ctx->store, fo->operation, true, buf_str(log),
                                               NULL));
        snprintf(msg, sizeof(msg), "%s from member %d to member %d done in %" PRIu64 " ms: %s",
                 fo->kind, fo->old_index, fo->new_index, (done - since) / USEC_PER_MSEC,
                 fo->reason);
        log_info("%s/%s: %s", r->ref.project, r->ref.name, msg);
        DISCARD(store_event_add(ctx->store, r->ref.uuid, "Normal",
                                streq(fo->kind, "switchover") ? "SwitchoverCompleted"
                                                              : "FailoverCompleted",
                                msg, NULL));

        cJSON_DeleteItemFromObjectCaseSensitive(extra, "last_failover");
        cJSON_DeleteItemFromObjectCaseSensitive(extra, "failovers");
        list = cJSON_AddArrayToObject(extra, "failovers");
        if (!list || json_add_item_take(extra, "last_failover", cJSON_Duplicate(entry, true)) < 0 ||
            json_add_item_take(list, NULL, TAKE_PTR(entry)) < 0)
                return -ENOMEM;
        cJSON_ArrayForEach(it, prev) {
                if (count++ >= HISTORY_MAX)
                        break;
                if (json_add_item_take(list, NULL, cJSON_Duplicate(it, true)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* History the planner does not compute: carried from the stored status. */
static int carry_history(const StoredResource *r, cJSON *extra) {
        static const char *const keys[] = {"last_failover", "failovers"};

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->status, keys[i]);

                if (!v || cJSON_GetObjectItemCaseSensitive(extra, keys[i]))
                        continue;
                if (json_add_item_take(extra, keys[i], cJSON_Duplicate(v, true)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int mysql_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                    Error *reterr) {
        _cleanup_(mysql_ha_spec_release) MysqlHaSpec spec = {};
        _cleanup_(mysql_observed_release) MysqlObserved obs = {};
        _cleanup_(mysql_plan_release) MysqlPlan mp = {};
        _cleanup_(buf_release) Buf log = BUF_INIT(OPERATION_LOG_MAX);
        MysqlFailover *fo;
        Error err = ERROR_INIT;
        int q;

        mysql_plan_init(&mp);
        q = mysql_ha_spec_from_json(r->spec, &spec, &err);
        if (q < 0) {
                ret->terminal = true;
                (void) fail_status(ctx, r, PHASE_FAILED, err.msg, NULL, NULL);
                return err_set(reterr, q, err.field, "%s", err.msg);
        }
        q = mysql_observe(ctx->docker, ctx->engine, ctx->store, &r->ref, &spec, r->status, &obs,
                          reterr);
        if (q < 0)
                return q;
        q = mysql_plan(&r->ref, &spec, &obs, ctx->now, &mp, reterr);
        if (q < 0)
                return q;
        fo = &mp.failover;

        if (mp.failover_aborts && obs.has_request) {
                /* A switchover or failover that cannot run (or was given up) fails with its
                 * reason, and the queue moves. */
                log_info("%s/%s: request %" PRIi64 " (%s) failed: %s", r->ref.project, r->ref.name,
                         obs.request_id, obs.request_action, mp.failover_error);
                q = store_request_finish(ctx->store, obs.request_id, false, mp.failover_error,
                                         reterr);
                if (q < 0)
                        return q;
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "RequestRefused",
                                        mp.failover_error, NULL));
                if (fo->operation > 0)
                        DISCARD(store_operation_finish(ctx->store, fo->operation, false,
                                                       mp.failover_error, NULL));
        }

        if (fo->active && mp.n_marks > 0 && fo->operation == 0) {
                q = store_operation_start(ctx->store, r->ref.uuid, fo->kind,
                                          fo->request_id > 0 && obs.request_actor[0]
                                                  ? obs.request_actor
                                                  : "controller",
                                          &fo->operation, reterr);
                if (q < 0)
                        return q;
                if (fo->request_id > 0)
                        DISCARD(store_request_start(ctx->store, fo->request_id, fo->operation,
                                                    NULL));
                log_warn("%s/%s: %s from member %d to member %d: %s", r->ref.project, r->ref.name,
                         fo->kind, fo->old_index, fo->new_index, fo->reason);
                DISCARD(store_event_add(
                        ctx->store, r->ref.uuid, fo->automatic ? "Warning" : "Normal",
                        streq(fo->kind, "switchover") ? "SwitchoverStarted" : "FailoverStarted",
                        fo->reason, NULL));
                DISCARD(plan_to_text(&mp.plan, &log));
        }

        if (mp.n_marks > 0)
                q = apply_failover(ctx, r, &mp, &log, &err);
        else
                q = steps_apply(ctx, &r->ref, &mp.plan, mp.plan.operation[0] ? &log : NULL, NULL,
                                &err);
        if (q < 0) {
                log_warn("%s/%s: %s", r->ref.project, r->ref.name, err.msg);
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "ApplyFailed", err.msg,
                                        NULL));
                (void) fail_status(ctx, r, err_is_transient(q) ? PHASE_DEGRADED : PHASE_FAILED,
                                   err.msg, fo, NULL);
                *reterr = err;
                return q;
        }

        if (mp.plan.delete_done) {
                char net[128];

                if (name_resource_network(net, sizeof(net), r->ref.project, r->ref.name) >= 0)
                        DISCARD(docker_network_remove(ctx->docker, net, NULL));
                q = store_resource_remove(ctx->store, r->ref.uuid, ctx->epoch, reterr);
                if (q < 0)
                        return q;
                ret->removed = true;
                return 0;
        }
        if (!r->ref.deleting && mp.plan.status.extra) {
                if (mp.failover_completes)
                        q = record_completion(ctx, r, &mp, &log);
                else if (fo->active) {
                        /* The record with the times measured here, not the planner's. */
                        cJSON_DeleteItemFromObjectCaseSensitive(mp.plan.status.extra, "failover");
                        q = json_add_item_take(mp.plan.status.extra, "failover",
                                               mysql_failover_to_json(fo));
                }
                if (q >= 0)
                        q = carry_history(r, mp.plan.status.extra);
                if (q < 0)
                        return err_set(reterr, q, NULL, "out of memory");
        }
        q = reconcile_write_status(ctx, r, &mp.plan.status, reterr);
        if (q < 0)
                return q;
        ret->requeue_after = mp.plan.requeue_after;
        return 0;
}

int mysql_preview(DockerClient *docker, Store *store, const ResourceRef *ref,
                  const cJSON *spec_json, Plan *ret, Error *reterr) {
        _cleanup_(mysql_ha_spec_release) MysqlHaSpec spec = {};
        _cleanup_(mysql_observed_release) MysqlObserved obs = {};
        _cleanup_(mysql_plan_release) MysqlPlan mp = {};
        int q;

        _cleanup_(stored_resource_release) StoredResource row = {};
        const cJSON *status = NULL;

        mysql_plan_init(&mp);
        q = mysql_ha_spec_from_json(spec_json, &spec, reterr);
        if (q < 0)
                return q;
        /* What earlier passes recorded (which member is the primary) shapes the plan. */
        if (store && !isempty(ref->uuid) &&
            store_resource_get_by_uuid(store, ref->uuid, &row, NULL) >= 0)
                status = row.status;
        q = mysql_observe(docker, NULL, store, ref, &spec, status, &obs, reterr);
        if (q < 0)
                return q;
        q = mysql_plan(ref, &spec, &obs, now_realtime(), &mp, reterr);
        if (q < 0)
                return q;
        *ret = mp.plan;
        plan_init(&mp.plan);
        return 0;
}
