/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "model/quota.h"
#include "store/quotas.h"

/* GET /api/v1/projects/{project}/quota (viewer): {project, max_cpu, max_memory, max_replicas},
 * null where there is no limit. */
int api_handle_quota_get(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        ProjectQuota q;
        int r;

        r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_quota_get(lease.store, req->project, false, &q, reterr);
        if (r < 0)
                return r;
        o = quota_to_json(&q);
        if (!o || json_add_string(o, "project", req->project) < 0)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        return api_reply_json(reply, 200, TAKE_PTR(o));
}

/* PUT /api/v1/projects/{project}/quota (admin): {max_cpu, max_memory, max_replicas}; members
 * left out or null remove that limit, {} removes the quota. Applies already stored stay: only
 * later applies are checked. */
int api_handle_quota_put(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *body = NULL, *o = NULL;
        ProjectQuota q;
        int r;

        if (!req->body.buf || req->body.len == 0)
                return err_setr(reterr, -EINVAL, "BAD_REQUEST", NULL, "a JSON object is needed");
        body = cJSON_ParseWithLength(req->body.buf, req->body.len);
        if (!body)
                return err_setr(reterr, -EBADMSG, "INVALID_JSON", NULL, "the body is not JSON");
        r = quota_from_json(body, &q, reterr);
        if (r >= 0)
                r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_quota_set(lease.store, req->project, &q, api_actor(req), reterr);
        if (r < 0)
                return r;
        log_info("quota of project %s set by %s", req->project, api_actor(req));
        o = quota_to_json(&q);
        if (!o || json_add_string(o, "project", req->project) < 0)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        return api_reply_json(reply, 200, TAKE_PTR(o));
}
