/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "reconcile"
#include "util/common.h"
#include "util/log.h"

#include "reconcilers/docker_service/service.h"
#include "reconcilers/job/job.h"
#include "reconcilers/mysql_ha/mysql.h"
#include "reconcilers/pg_cluster/pgc.h"
#include "reconcilers/pg_single/pg.h"
#include "model/json-util.h"
#include "reconcilers/reconciler.h"

/* A uuid with labelled containers but no row: a create that raced a delete, or a row removed by
 * hand. Finalise it like a delete: remove everything that carries the label. */
static int reconcile_orphan(ReconcileCtx *ctx, const char *uuid, Error *reterr) {
        _cleanup_strv_free_ char **filters = NULL;
        ObservedContainer *cs = NULL;
        size_t n = 0;
        int r;

        /* Only objects of this installation: another berth (or a test run) sharing the engine
         * keeps its own. */
        r = strv_pushf(&filters, "%s=%s", LABEL_RESOURCE, uuid);
        if (r >= 0)
                r = strv_pushf(&filters, "%s=%s", LABEL_INSTALLATION, ctx->installation);
        if (r < 0)
                return r;
        r = docker_container_list(ctx->docker, filters, true, &cs, &n, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                log_info("removing orphan container %s (resource %s has no spec)", cs[i].name,
                         uuid);
                r = docker_container_remove(ctx->docker, cs[i].id, true, false, reterr);
                if (r == -ENOENT)
                        r = 0;
        }
        observed_containers_free(cs, n);
        return r;
}

int reconcile_resource(ReconcileCtx *ctx, const char *uuid, ReconcileResult *ret, Error *reterr) {
        _cleanup_(stored_resource_release) StoredResource res = {0};
        int r;

        assert_return(ctx && uuid && ret, -EINVAL);
        *ret = (ReconcileResult){.kind = -1};

        r = store_resource_get_by_uuid(ctx->store, uuid, &res, reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                ret->removed = true;
                return reconcile_orphan(ctx, uuid, reterr);
        }
        if (r < 0)
                return r;

        ret->kind = res.ref.kind;
        snprintf(res.ref.installation, sizeof(res.ref.installation), "%s", ctx->installation);
        switch (res.ref.kind) {
        case KIND_DOCKER_SERVICE:
                return service_reconcile(ctx, &res, ret, reterr);
        case KIND_PG_SINGLE:
                return pg_reconcile(ctx, &res, ret, reterr);
        case KIND_PG_CLUSTER:
                return pgc_reconcile(ctx, &res, ret, reterr);
        case KIND_MYSQL_HA:
                return mysql_reconcile(ctx, &res, ret, reterr);
        case KIND_JOB:
                return job_reconcile(ctx, &res, ret, reterr);
        default:
                ret->terminal = true;
                return err_set(reterr, -EOPNOTSUPP, "kind", "no reconciler for kind %s yet",
                               kind_to_string(res.ref.kind));
        }
}

int reconcile_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const Document *d,
                      Plan *ret, Error *reterr) {
        assert_return(docker && ref && d && ret, -EINVAL);

        switch (d->kind) {
        case KIND_DOCKER_SERVICE:
                return service_preview(docker, store, ref, d->spec, ret, reterr);
        case KIND_PG_SINGLE:
                return pg_preview(docker, store, ref, d->spec, ret, reterr);
        case KIND_PG_CLUSTER:
                return pgc_preview(docker, store, ref, d->spec, ret, reterr);
        case KIND_MYSQL_HA:
                return mysql_preview(docker, store, ref, d->spec, ret, reterr);
        case KIND_JOB:
                return job_preview(docker, store, ref, d->spec, ret, reterr);
        default:
                return err_set(reterr, -EOPNOTSUPP, "kind", "no reconciler for kind %s yet",
                               kind_to_string(d->kind));
        }
}

int reconcile_write_status(ReconcileCtx *ctx, const StoredResource *r, const Status *st,
                           Error *reterr) {
        _cleanup_json_ cJSON *json = NULL;
        char now[40];

        json = status_to_json(st, r->status, format_rfc3339(ctx->now, now, sizeof(now)));
        if (!json)
                return -ENOMEM;
        return store_status_write(ctx->store, r->ref.uuid, ctx->epoch, st, json, reterr);
}

int reconcile_fail_status(ReconcileCtx *ctx, const StoredResource *r, Phase phase, const char *msg,
                          const cJSON *merge, Error *reterr) {
        static const char *const common[] = {
                "phase", "observed_generation", "message", "conditions", "nodes", "replicas", NULL};
        Status st = {.phase = phase, .observed_generation = r->ref.generation};
        const cJSON *m;
        int q;

        st.message = b_strdup(msg && msg[0] ? msg : "failed");
        st.extra = cJSON_CreateObject();
        if (!st.message || !st.extra) {
                status_release(&st);
                return -ENOMEM;
        }
        cJSON_ArrayForEach(m, r->status) {
                bool skip = false;

                for (const char *const *c = common; *c; c++)
                        skip = skip || streq(m->string, *c);
                if (streq(m->string, "endpoints"))
                        st.endpoints = cJSON_Duplicate(m, true);
                else if (!skip && !cJSON_GetObjectItemCaseSensitive(merge, m->string))
                        cJSON_AddItemToObject(st.extra, m->string, cJSON_Duplicate(m, true));
        }
        cJSON_ArrayForEach(m, merge)
                cJSON_AddItemToObject(st.extra, m->string, cJSON_Duplicate(m, true));
        q = reconcile_write_status(ctx, r, &st, reterr);
        status_release(&st);
        return q;
}
