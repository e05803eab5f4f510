/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "api"
#include <inttypes.h>

#include "util/common.h"
#include "util/log.h"

#include "api/api.h"
#include "store/requests.h"

/* mysql_ha's actions (entries of the actions table in handlers-resources.c): switchover and
 * failover are queued as requests that the controller runs in order, recorded as operations. */

/* params: {} or {target: N} (a member index) or {target: "NAME-db-N"} (a member's name). */
static int target_check(const StoredResource *row, const cJSON *body, cJSON **ret, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *params = cJSON_CreateObject();
        const cJSON *t = NULL, *m;
        const cJSON *topo = cJSON_GetObjectItemCaseSensitive(row->spec, "topology");
        const cJSON *replicas = cJSON_GetObjectItemCaseSensitive(topo, "replicas");
        int max = cJSON_IsNumber(replicas) ? (int) replicas->valuedouble : 0;
        long index;

        if (!params)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (body && !cJSON_IsObject(body))
                return err_setr(reterr, -EINVAL, "INVALID_TYPE", "params",
                                "params: must be a map ({target: N})");
        cJSON_ArrayForEach(m, body) {
                if (!streq(m->string, "target"))
                        return err_setr(reterr, -EINVAL, "UNKNOWN_FIELD", "params",
                                        "params.%s: unknown parameter (the only one is target)",
                                        m->string);
                t = m;
        }
        if (t) {
                char *end = NULL;
                const char *s = NULL, *dash;

                if (cJSON_IsNumber(t))
                        index = (long) t->valuedouble;
                else if (cJSON_IsString(t)) {
                        s = t->valuestring;
                        dash = strrchr(s, '-');
                        index = strtol(dash ? dash + 1 : s, &end, 10);
                        if (!end || *end || end == (dash ? dash + 1 : s))
                                index = -1;
                } else
                        index = -1;
                if (index < 0 || index > max)
                        return err_setr(reterr, -EINVAL, "INVALID_VALUE", "params.target",
                                        "params.target: not a member of %s/%s (an index 0..%d, "
                                        "or a name such as %s-db-1)",
                                        row->ref.project, row->ref.name, max, row->ref.name);
                if (!cJSON_AddNumberToObject(params, "target", (double) index))
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        *ret = TAKE_PTR(params);
        return 0;
}

int api_mysql_action_queue(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                           Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *body = NULL, *params = NULL, *o = NULL;
        char msg[256];
        int64_t id = 0;
        int r;

        if (req->body.buf && req->body.len > 0 &&
            strspn(req->body.buf, " \t\r\n") != req->body.len) {
                body = cJSON_ParseWithLength(req->body.buf, req->body.len);
                if (!body)
                        return err_setr(reterr, -EBADMSG, "INVALID_JSON", "params",
                                        "the body must be a JSON object of the action's "
                                        "parameters");
        }
        if (row->ref.deleting)
                return err_setr(reterr, -EBUSY, "RESOURCE_DELETING", NULL, "%s/%s is being deleted",
                                row->ref.project, row->ref.name);
        r = target_check(row, body, &params, reterr);
        if (r < 0)
                return r;
        r = store_request_add(s, row->ref.uuid, req->action, params, api_actor(req), &id, reterr);
        if (r < 0)
                return r;
        log_info("%s mysql_ha %s/%s queued as request %" PRId64 " by %s", req->action,
                 row->ref.project, row->ref.name, id, api_actor(req));
        snprintf(msg, sizeof(msg),
                 "%s queued as request %" PRId64
                 ": the controller runs it and records it as an operation",
                 req->action, id);
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
                r = json_add_int(o, "request", id);
        if (r >= 0)
                r = json_add_take(o, "params", TAKE_PTR(params));
        if (r >= 0)
                r = json_add_string(o, "message", msg);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 202, TAKE_PTR(o));
}
