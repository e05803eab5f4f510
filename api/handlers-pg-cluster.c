/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "model/resource.h"
#include "store/requests.h"
#include "store/store.h"

/* pg_cluster's switchover and failover actions: checked here (the candidate must be a member
 * of this cluster), queued as requests that the controller runs in order through Patroni's REST
 * API. */

#define CANDIDATE_MAX 16

static int standbys_of(const StoredResource *row) {
        const cJSON *topo = cJSON_GetObjectItemCaseSensitive(row->spec, "topology");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(topo, "standbys");

        return cJSON_IsNumber(n) ? (int) n->valuedouble : 0;
}

/* {candidate: "pg-N"} or nothing (Patroni's choice: the synchronous standby, else the replica
 * least behind). */
static int params_of(const ApiRequest *req, const StoredResource *row, cJSON **ret, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *doc = NULL, *out = cJSON_CreateObject();
        const cJSON *m;
        unsigned k;
        char tail;

        if (!out)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (req->body.buf && req->body.len > 0 &&
            strspn(req->body.buf, " \t\r\n") != req->body.len) {
                doc = cJSON_ParseWithLength(req->body.buf, req->body.len);
                if (!cJSON_IsObject(doc))
                        return err_setr(reterr, -EBADMSG, "INVALID_JSON", "params",
                                        "the body must be a JSON object of the action's "
                                        "parameters");
        }
        cJSON_ArrayForEach(m, doc) {
                char field[80];

                snprintf(field, sizeof(field), "params.%.60s", m->string);
                if (!streq(m->string, "candidate"))
                        return err_setr(reterr, -EINVAL, "UNKNOWN_FIELD", field,
                                        "%s: %s takes only candidate=pg-N", field, req->action);
                if (!cJSON_IsString(m) || strlen(m->valuestring) >= CANDIDATE_MAX ||
                    sscanf(m->valuestring, "pg-%u%c", &k, &tail) != 1 ||
                    k > (unsigned) standbys_of(row))
                        return err_setr(reterr, -EINVAL, "INVALID_VALUE", field,
                                        "%s: not a member of %s (pg-0 .. pg-%d)", field,
                                        row->ref.name, standbys_of(row));
                if (!cJSON_AddStringToObject(out, "candidate", m->valuestring))
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* In synchronous mode a switchover goes to the synchronous standby (the controller checks again
 * with what it sees then): refused here already when the last status names another. */
static int sync_check(const ApiRequest *req, const StoredResource *row, const cJSON *params,
                      Error *reterr) {
        const cJSON *topo = cJSON_GetObjectItemCaseSensitive(row->spec, "topology");
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(topo, "replication_mode");
        const cJSON *cand = cJSON_GetObjectItemCaseSensitive(params, "candidate");
        const cJSON *sync = cJSON_GetObjectItemCaseSensitive(row->status, "sync_standby");
        const cJSON *leader = cJSON_GetObjectItemCaseSensitive(row->status, "leader");

        if (!cJSON_IsString(cand))
                return 0;
        if (cJSON_IsString(leader) && streq(leader->valuestring, cand->valuestring))
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "params.candidate",
                                "params.candidate: %s is the leader already", cand->valuestring);
        if (!streq(req->action, "switchover") || !cJSON_IsString(mode) ||
            !streq(mode->valuestring, "sync") || !cJSON_IsString(sync) ||
            streq(sync->valuestring, cand->valuestring))
                return 0;
        return err_setr(reterr, -EINVAL, "INVALID_VALUE", "params.candidate",
                        "params.candidate: in synchronous mode only the synchronous standby (%s) "
                        "has every acknowledged commit: name it, leave the candidate out, or use "
                        "failover to force %s",
                        sync->valuestring, cand->valuestring);
}

int api_pg_cluster_action_queue(ApiRequest *req, Store *s, const StoredResource *row,
                                ApiReply *reply, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *params = NULL, *o = NULL;
        const cJSON *cand;
        char msg[256];
        int64_t id = 0;
        int r;

        if (row->ref.deleting)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "pg_cluster \"%s\" is being deleted", row->ref.name);
        r = params_of(req, row, &params, reterr);
        if (r < 0)
                return r;
        r = sync_check(req, row, params, reterr);
        if (r < 0)
                return r;
        r = store_request_add(s, row->ref.uuid, req->action, params, api_actor(req), &id, reterr);
        if (r < 0)
                return r;
        cand = cJSON_GetObjectItemCaseSensitive(params, "candidate");
        log_info("%s pg_cluster %s/%s to %s queued as request %" PRId64 " by %s", req->action,
                 row->ref.project, row->ref.name, cand ? cand->valuestring : "the best member", id,
                 api_actor(req));
        snprintf(msg, sizeof(msg),
                 "%s to %s queued as request %" PRId64
                 ": Patroni hands over; the leader change is recorded in the operations",
                 req->action, cand ? cand->valuestring : "the best member", id);
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
