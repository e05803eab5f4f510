/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "model/quota.h"
#include "model/resource.h"
#include "store/quotas.h"
#include "store/revisions.h"
#include "store/store.h"

/* Revisions of a docker_service: GET .../revisions lists them (each with its full spec, a human
 * diff against the one before, and its deploy: old and new image, start, end, result, who), and
 * the rollback action applies one again as a new generation. */

/* {kind}/{name}?project= with the route's role in its project; RESOURCE_NOT_FOUND when absent
 * or invisible. */
static int revisions_lookup(ApiRequest *req, Store *s, StoredResource *ret, Error *reterr) {
        const char *project;
        int r;

        r = api_query_project(req, &project, reterr);
        if (r >= 0)
                r = api_authorize(req, project, reterr);
        if (r < 0)
                return r;
        r = store_resource_get(s, req->kind, project, req->name, ret, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "%s \"%s\" not found in project \"%s\"", kind_to_string(req->kind),
                                req->name, project);
        return r;
}

static int revisions_supported(const StoredResource *row, Error *reterr) {
        if (row->ref.kind == KIND_DOCKER_SERVICE)
                return 0;
        return err_setr(reterr, -ENOENT, "REVISIONS_NOT_SUPPORTED", NULL,
                        "%s resources have no revisions (docker_service has)",
                        kind_to_string(row->ref.kind));
}

int api_handle_resource_revisions(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_release) StoredResource row = {};
        _cleanup_(cjson_deletep) cJSON *items = NULL, *o = NULL;
        int64_t limit, current = 0;
        cJSON *it;
        int r;

        r = api_query_int(req, "limit", API_LIST_LIMIT_DEFAULT, 1, API_LIST_LIMIT_MAX, &limit,
                          reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = revisions_lookup(req, lease.store, &row, reterr);
        if (r >= 0)
                r = revisions_supported(&row, reterr);
        if (r >= 0)
                r = store_revisions_list(lease.store, row.ref.uuid, (int) limit, &items, reterr);
        if (r < 0)
                return r;
        pool_lease_release(&lease);

        /* Specs leave the API through its one redaction. */
        cJSON_ArrayForEach(it, items) {
                const cJSON *spec = cJSON_GetObjectItemCaseSensitive(it, "spec");
                const cJSON *rev = cJSON_GetObjectItemCaseSensitive(it, "revision");
                cJSON *clean = api_redact_spec(row.ref.kind, spec);

                if (!clean || !cJSON_ReplaceItemInObjectCaseSensitive(it, "spec", clean)) {
                        cJSON_Delete(clean);
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                }
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "current")) &&
                    cJSON_IsNumber(rev))
                        current = (int64_t) rev->valuedouble;
        }
        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = json_add_string(o, "kind", kind_to_string(row.ref.kind));
        if (r >= 0)
                r = json_add_string(o, "name", row.ref.name);
        if (r >= 0)
                r = json_add_string(o, "project", row.ref.project);
        if (r >= 0)
                r = json_add_take(o, "current",
                                  current > 0 ? cJSON_CreateNumber((double) current)
                                              : cJSON_CreateNull());
        if (r >= 0)
                r = json_add_take(o, "items", TAKE_PTR(items));
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 200, TAKE_PTR(o));
}

/* params.revision: a whole number >= 1 (a JSON number, or one spelled as a string); 0 when
 * absent (the revision that served before the newest). */
static int rollback_params(const ApiRequest *req, int64_t *ret, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *body = NULL;
        const cJSON *v, *m;
        char *end = NULL;
        double d;

        *ret = 0;
        if (!req->body.buf || req->body.len == 0 ||
            strspn(req->body.buf, " \t\r\n") == req->body.len)
                return 0;
        body = cJSON_ParseWithLength(req->body.buf, req->body.len);
        if (!cJSON_IsObject(body))
                return err_setr(reterr, -EBADMSG, "INVALID_JSON", "params",
                                "the body must be a JSON object of the action's parameters");
        cJSON_ArrayForEach(m, body) {
                if (!m->string || !streq(m->string, "revision"))
                        return err_setr(reterr, -EINVAL, "UNKNOWN_FIELD", "params",
                                        "params.%.64s: rollback takes only revision=N",
                                        strna(m->string));
        }
        v = cJSON_GetObjectItemCaseSensitive(body, "revision");
        if (!v || cJSON_IsNull(v))
                return 0;
        if (cJSON_IsNumber(v))
                d = v->valuedouble;
        else if (cJSON_IsString(v)) {
                errno = 0;
                d = strtod(v->valuestring, &end);
                if (errno != 0 || end == v->valuestring || *end != 0)
                        d = -1;
        } else
                d = -1;
        if (!(d >= 1 && d <= 9007199254740992.0) || d != (double) (int64_t) d)
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "params.revision",
                                "params.revision: a revision is a whole number from 1 (berth "
                                "describe lists them)");
        *ret = (int64_t) d;
        return 0;
}

static void store_rollbackp(Store **s) {
        if (*s)
                store_rollback(*s);
}

/* Inside the rollback's transaction: the project's quota must still fit with the revision's
 * resources (replicas stay as they are), as an apply must. */
static int check_quota(Store *tx, const char *project, Error *reterr) {
        _cleanup_(stored_resource_list_release) StoredResourceList rows = {};
        QuotaUsage use = {0};
        ProjectQuota q;
        int r;

        r = store_quota_get(tx, project, true, &q, reterr);
        if (r < 0 || quota_is_empty(&q))
                return r;
        r = store_resource_list(tx, project, KIND_DOCKER_SERVICE, &rows.rows, &rows.n, reterr);
        for (size_t k = 0; r >= 0 && k < rows.n; k++)
                if (!rows.rows[k].ref.deleting)
                        r = quota_add_service(&q, rows.rows[k].ref.name, rows.rows[k].spec, &use,
                                              reterr);
        if (r >= 0)
                r = quota_check(&q, project, &use, reterr);
        return r;
}

int api_action_rollback(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                        Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        ApplyOutcome outcome;
        int64_t want, revision, generation;
        char msg[160];
        int r;

        r = rollback_params(req, &want, reterr);
        if (r >= 0 && row->ref.deleting)
                r = err_setr(reterr, -EBUSY, "RESOURCE_DELETING", NULL,
                             "resource is being deleted");
        if (r >= 0)
                r = store_begin(s, reterr);
        if (r < 0)
                return r;
        {
                _cleanup_(store_rollbackp) Store *tx = s;

                r = store_revision_rollback(tx, row, want, api_actor(req), &revision, &outcome,
                                            &generation, reterr);
                if (r >= 0)
                        r = check_quota(tx, row->ref.project, reterr);
                if (r >= 0)
                        r = store_commit(tx, reterr);
                if (r < 0)
                        return r;
                TAKE_PTR(tx);
        }
        log_info("rollback %s %s/%s to revision %" PRId64 " by %s: %s",
                 kind_to_string(row->ref.kind), row->ref.project, row->ref.name, revision,
                 api_actor(req), apply_outcome_to_string(outcome));
        if (outcome == APPLY_UNCHANGED)
                snprintf(msg, sizeof(msg), "the spec is already revision %" PRId64 "'s", revision);
        else
                snprintf(msg, sizeof(msg),
                         "rolling back to revision %" PRId64 ": its spec is generation %" PRId64
                         ", deployed as a new revision",
                         revision, generation);

        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = json_add_string(o, "kind", kind_to_string(row->ref.kind));
        if (r >= 0)
                r = json_add_string(o, "name", row->ref.name);
        if (r >= 0)
                r = json_add_string(o, "project", row->ref.project);
        if (r >= 0)
                r = json_add_string(o, "action", req->action);
        if (r >= 0)
                r = json_add_int(o, "revision", revision);
        if (r >= 0)
                r = json_add_string(o, "outcome", apply_outcome_to_string(outcome));
        if (r >= 0)
                r = json_add_int(o, "generation", generation);
        if (r >= 0)
                r = json_add_string(o, "message", msg);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 202, TAKE_PTR(o));
}
