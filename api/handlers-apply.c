/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "model/document.h"
#include "model/plan.h"
#include "model/quota.h"
#include "reconcilers/reconciler.h"
#include "store/quotas.h"
#include "store/store.h"

/* POST /api/v1/apply[?dry_run=true]
 *
 * All-or-nothing, as HAProxy's "prepare map / commit map": every document is parsed and
 * validated first (documents_parse refuses the whole body on the first bad one), then all are
 * upserted in one transaction; any error rolls everything back. A dry run stores nothing: the
 * outcome comes from store_resource_compare and the plan from reconcile_preview (observe + plan,
 * never apply). */

typedef struct DocList {
        Document *docs;
        size_t n;
} DocList;

static void doc_list_release(DocList *l) {
        if (l->docs)
                documents_free(l->docs, l->n);
        *l = (DocList){};
}

static void store_rollbackp(Store **s) {
        if (*s)
                store_rollback(*s);
}

static void plan_releasep(Plan *p) {
        plan_release(p);
}

static cJSON *result_new(const Document *d, ApplyOutcome outcome, int64_t generation,
                         const char *uuid) {
        _cleanup_(cjson_deletep) cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return NULL;
        r = json_add_string(o, "kind", kind_to_string(d->kind));
        if (r >= 0)
                r = json_add_string(o, "name", d->name);
        if (r >= 0)
                r = json_add_string(o, "project", d->project);
        if (r >= 0)
                r = json_add_string(o, "outcome", apply_outcome_to_string(outcome));
        if (r >= 0)
                r = json_add_int(o, "generation", generation);
        if (r >= 0)
                r = json_add_string(o, "uuid", isempty(uuid) ? NULL : uuid);
        return r < 0 ? NULL : TAKE_PTR(o);
}

/* Inside the apply's transaction, after its upserts: every project of the request that has a
 * quota must still fit, summed over all its stored services (the new ones included). The
 * quota row is locked, so concurrent applies to one project are checked one after the other. */
static int check_quotas(Store *tx, const DocList *l, Error *reterr) {
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_(stored_resource_list_release) StoredResourceList rows = {};
                const char *project = l->docs[i].project;
                QuotaUsage use = {0};
                ProjectQuota q;
                bool seen = false;
                int r;

                for (size_t j = 0; j < i && !seen; j++)
                        seen = streq(l->docs[j].project, project);
                if (seen)
                        continue;
                r = store_quota_get(tx, project, true, &q, reterr);
                if (r < 0)
                        return r;
                if (quota_is_empty(&q))
                        continue;
                r = store_resource_list(tx, project, KIND_DOCKER_SERVICE, &rows.rows, &rows.n,
                                        reterr);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < rows.n; k++) {
                        if (rows.rows[k].ref.deleting)
                                continue;
                        r = quota_add_service(&q, rows.rows[k].ref.name, rows.rows[k].spec, &use,
                                              reterr);
                        if (r < 0)
                                return r;
                }
                r = quota_check(&q, project, &use, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_commit(ApiRequest *req, const DocList *l, cJSON *results, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        int r;

        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = store_begin(lease.store, reterr);
        if (r < 0)
                return r;

        _cleanup_(store_rollbackp) Store *tx = lease.store;
        for (size_t i = 0; i < l->n; i++) {
                const Document *d = &l->docs[i];
                ApplyOutcome outcome = APPLY_UNCHANGED;
                char uuid[37] = "";
                int64_t generation = 0;

                r = store_resource_apply(tx, d, api_actor(req), &outcome, uuid, &generation,
                                         reterr);
                if (r < 0)
                        return err_prefix(reterr, "%s %s/%s", kind_to_string(d->kind), d->project,
                                          d->name);
                r = json_append_take(results, result_new(d, outcome, generation, uuid));
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }
        r = check_quotas(tx, l, reterr);
        if (r < 0)
                return r;
        r = store_commit(tx, reterr);
        if (r < 0)
                return r;
        TAKE_PTR(tx);

        for (const cJSON *it = results->child; it; it = it->next) {
                const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(it, "outcome");
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
                const cJSON *project = cJSON_GetObjectItemCaseSensitive(it, "project");
                const cJSON *kind = cJSON_GetObjectItemCaseSensitive(it, "kind");

                log_info("apply %s %s/%s: %s (by %s)", cJSON_GetStringValue(kind),
                         cJSON_GetStringValue(project), cJSON_GetStringValue(name),
                         cJSON_GetStringValue(outcome), api_actor(req));
        }
        return 0;
}

/* The stored side of a dry run, done before any Docker call so the store connection is not held
 * across one. */
typedef struct DryRow {
        ApplyOutcome outcome;
        ResourceRef ref; /* uuid empty when the resource does not exist yet */
} DryRow;

static int dry_run_compare(ApiRequest *req, const DocList *l, DryRow *rows, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        int r;

        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;

        for (size_t i = 0; i < l->n; i++) {
                const Document *d = &l->docs[i];
                _cleanup_(stored_resource_release) StoredResource row = {};
                Error e = ERROR_INIT;

                r = store_resource_compare(lease.store, d, &rows[i].outcome, reterr);
                if (r < 0)
                        return err_prefix(reterr, "%s %s/%s", kind_to_string(d->kind), d->project,
                                          d->name);

                rows[i].ref = (ResourceRef){.kind = d->kind};
                snprintf(rows[i].ref.project, sizeof(rows[i].ref.project), "%s", d->project);
                snprintf(rows[i].ref.name, sizeof(rows[i].ref.name), "%s", d->name);

                r = store_resource_get(lease.store, d->kind, d->project, d->name, &row, &e);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        *reterr = e;
                        return r;
                }
                snprintf(rows[i].ref.uuid, sizeof(rows[i].ref.uuid), "%s", row.ref.uuid);
                rows[i].ref.generation = row.ref.generation;
                rows[i].ref.deleting = row.ref.deleting;
        }
        return 0;
}

static int dry_run(ApiRequest *req, const DocList *l, cJSON *results, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_free_ DryRow *rows = NULL;
        Error docker_err = ERROR_INIT;
        bool docker_down = false;
        int r;

        rows = b_calloc(l->n ? l->n : 1, sizeof(DryRow));
        if (!rows)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");

        r = dry_run_compare(req, l, rows, reterr);
        if (r < 0)
                return r;
        /* Previews read the secret store too (the versions of referenced secrets). */
        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;

        for (size_t i = 0; i < l->n; i++) {
                const Document *d = &l->docs[i];
                const DryRow *row = &rows[i];
                _cleanup_(plan_releasep) Plan plan = {};
                _cleanup_(cjson_deletep) cJSON *o = NULL;
                DockerClient *docker = NULL;
                int64_t generation;
                Error e = ERROR_INIT;

                generation = row->outcome == APPLY_CREATED      ? 1
                             : row->outcome == APPLY_CONFIGURED ? row->ref.generation + 1
                                                                : row->ref.generation;
                o = result_new(d, row->outcome, generation, row->ref.uuid);
                if (!o)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");

                /* One unreachable engine answers for every document: no repeated timeouts. */
                r = docker_down ? docker_err.code : api_docker(req, &docker, &docker_err);
                if (r < 0)
                        docker_down = true;
                else {
                        plan_init(&plan);
                        r = reconcile_preview(docker, lease.store, &row->ref, d, &plan, &e);
                        if (r < 0 && err_is_transient(r) && r != -ENOMEM) {
                                docker_down = true;
                                docker_err = e;
                        }
                }

                if (r >= 0)
                        r = json_add_take(o, "plan", plan_to_json(&plan));
                else {
                        const Error *pe = docker_down ? &docker_err : &e;
                        char sbuf[128], msg[sizeof(pe->msg) + 16];

                        snprintf(msg, sizeof(msg), "%s%s",
                                 docker_down && !strneq(pe->msg, "docker", 6) ? "docker: " : "",
                                 pe->msg[0] ? pe->msg : err_str(pe->code, sbuf, sizeof(sbuf)));
                        r = json_add_string(o, "plan_error", msg);
                }
                if (r >= 0)
                        r = json_append_take(results, TAKE_PTR(o));
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }
        return 0;
}

int api_handle_apply(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(doc_list_release) DocList l = {};
        _cleanup_(cjson_deletep) cJSON *root = NULL;
        cJSON *results;
        bool dry;
        int r;

        r = api_query_bool(req, "dry_run", false, &dry, reterr);
        if (r < 0)
                return r;

        r = documents_parse(req->body.buf ? req->body.buf : "", req->body.len, &l.docs, &l.n,
                            reterr);
        if (r < 0)
                return r;
        if (l.n == 0)
                return err_setr(reterr, -EINVAL, "BAD_REQUEST", NULL, "no document in the body");

        /* Every document's project needs the route's role (editor), dry run or not, before
         * anything is read or stored: one refused document refuses the request. */
        for (size_t i = 0; i < l.n; i++) {
                r = api_authorize(req, l.docs[i].project, reterr);
                if (r < 0) {
                        if (reterr)
                                snprintf(reterr->field, sizeof(reterr->field),
                                         "documents[%zu].metadata.project", i);
                        return r;
                }
        }

        root = cJSON_CreateObject();
        if (!root)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        results = cJSON_AddArrayToObject(root, "results");
        if (!results)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (dry) {
                r = json_add_bool(root, "dry_run", true);
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }

        r = dry ? dry_run(req, &l, results, reterr) : apply_commit(req, &l, results, reterr);
        if (r < 0)
                return r;

        return api_reply_json(reply, 200, TAKE_PTR(root));
}
