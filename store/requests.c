/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/requests.h"
#include "store/store-internal.h"
#include "store/store.h"

/* Queued actions (schema/0006_requests.sql). */

/* PENDING + RUNNING requests one resource may hold: a queue, not a way to fill the store. */
#define STORE_MAX_OPEN_REQUESTS 32

/* RFC 3339 UTC with milliseconds, as format_rfc3339() prints. */
#define SQL_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define STR(x)  STR_(x)
#define STR_(x) #x

void stored_request_release(StoredRequest *r) {
        if (!r)
                return;
        cJSON_Delete(r->params);
        *r = (StoredRequest){};
}

static int check_uuid(const char *uuid, Error *reterr) {
        if (!store_uuid_is_valid(uuid))
                return err_set(reterr, -EINVAL, NULL, "invalid resource uuid \"%.40s\"",
                               strempty(uuid));
        return 0;
}

static int request_audit(Store *s, const char *actor, const char *action, const char *uuid,
                         int64_t id, const cJSON *params, Error *reterr) {
        _cleanup_cjson_ cJSON *detail = cJSON_CreateObject();
        _cleanup_cjson_free_ char *text = NULL;

        if (!detail || !cJSON_AddNumberToObject(detail, "request", (double) id) ||
            !cJSON_AddItemToObject(detail, "params",
                                   params ? cJSON_Duplicate(params, true) : cJSON_CreateObject()))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        text = cJSON_PrintUnformatted(detail);
        if (!text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        return store_audit_add(s, actor, action, uuid, text, reterr);
}

int store_request_add(Store *s, const char *uuid, const char *action, const cJSON *params,
                      const char *actor, int64_t *ret_id, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_cjson_free_ char *ptext = NULL;
        char msg[128];
        int64_t id, open;
        int r;

        assert_return(s, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        if (isempty(action) || strlen(action) >= sizeof(((StoredRequest){}).action))
                return err_set(reterr, -EINVAL, "action", "invalid action \"%.64s\"",
                               strempty(action));
        if (params && !cJSON_IsObject(params))
                return err_set(reterr, -EINVAL, "params", "request parameters must be an object");
        if (params) {
                ptext = cJSON_PrintUnformatted(params);
                if (!ptext)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }

        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;
        /* The resource's row lock orders concurrent adds, so the cap below holds. */
        r = store_query(s, "SELECT deleting FROM resources WHERE uuid = $1::uuid FOR UPDATE", 1,
                        (const char *const[]){uuid}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "resource %s not found", uuid);
        if (store_get_bool(res, 0, 0))
                return err_setr(reterr, -EBUSY, "RESOURCE_DELETING", NULL,
                                "the resource is being deleted");
        res = store_result_free(res);

        r = store_query(s,
                        "SELECT count(*) FROM requests "
                        "WHERE resource_uuid = $1::uuid AND state IN ('PENDING', 'RUNNING')",
                        1, (const char *const[]){uuid}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (store_get_i64(res, 0, 0, &open) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad request count");
        if (open >= STORE_MAX_OPEN_REQUESTS)
                return err_setr(reterr, -EBUSY, "TOO_MANY_REQUESTS", NULL,
                                "%" PRId64 " requests are already queued for this resource (at "
                                "most %d): wait for them to finish",
                                open, STORE_MAX_OPEN_REQUESTS);
        res = store_result_free(res);

        r = store_query(s,
                        "INSERT INTO requests (resource_uuid, action, params, actor) "
                        "VALUES ($1::uuid, $2, $3::json, $4) RETURNING id",
                        4,
                        (const char *const[]){uuid, action, ptext ? ptext : "{}",
                                              isempty(actor) ? "unknown" : actor},
                        0, &res, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, r, "RESOURCE_NOT_FOUND", NULL, "resource %s not found",
                                uuid);
        if (r < 0)
                return r;
        if (store_get_i64(res, 0, 0, &id) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad request id");

        snprintf(msg, sizeof(msg), "%s queued as request %" PRId64 " by %s", action, id,
                 isempty(actor) ? "unknown" : actor);
        r = store_query(s, "SELECT pg_notify($1, $2)", 2,
                        (const char *const[]){STORE_CHANNEL_SPEC, uuid}, 0, NULL, reterr);
        if (r >= 0)
                r = store_event_add(s, uuid, "Normal", "ActionQueued", msg, reterr);
        if (r >= 0)
                r = request_audit(s, actor, action, uuid, id, params, reterr);
        if (r < 0)
                return r;
        r = store_tx_commit(&tx, reterr);
        if (r < 0)
                return r;
        log_debug("request %" PRId64 " (%s) added for %s", id, action, uuid);
        if (ret_id)
                *ret_id = id;
        return 0;
}

int store_request_next(Store *s, const char *uuid, StoredRequest *ret, Error *reterr) {
        _cleanup_(stored_request_release) StoredRequest q = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        const char *action;
        int64_t created;
        int r;

        assert_return(s && ret, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        r = store_query(s,
                        "SELECT id, action, params, actor, "
                        "  (extract(epoch FROM created_at) * 1000000)::bigint, "
                        "  coalesce(operation, 0) "
                        "FROM requests "
                        "WHERE resource_uuid = $1::uuid AND state IN ('PENDING', 'RUNNING') "
                        "ORDER BY id LIMIT 1",
                        1, (const char *const[]){uuid}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_set(reterr, -ENOENT, NULL, "no queued request");

        action = store_get(res, 0, 1);
        if (store_get_i64(res, 0, 0, &q.id) < 0 || store_get_i64(res, 0, 4, &created) < 0 ||
            store_get_i64(res, 0, 5, &q.operation) < 0 || !action ||
            strlen(action) >= sizeof(q.action))
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed request row");
        snprintf(q.action, sizeof(q.action), "%s", action);
        snprintf(q.actor, sizeof(q.actor), "%s", strempty(store_get(res, 0, 3)));
        q.created_at = created > 0 ? (usec_t) created : 0;
        r = store_get_json(res, 0, 2, &q.params, reterr);
        if (r < 0)
                return r;
        if (!q.params) {
                q.params = cJSON_CreateObject();
                if (!q.params)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        *ret = q;
        q = (StoredRequest){};
        return 0;
}

/* Why an update that matched no open request matched nothing: -ENOENT when there is no such
 * request, else its final state in *ret_state ("DONE", "FAILED"). */
static int request_state(Store *s, const char *ids, char ret_state[16], Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(s, "SELECT state FROM requests WHERE id = $1::bigint", 1,
                        (const char *const[]){ids}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_set(reterr, -ENOENT, NULL, "request %s not found", ids);
        snprintf(ret_state, 16, "%s", strempty(store_get(res, 0, 0)));
        return 0;
}

int store_request_start(Store *s, int64_t id, int64_t operation, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char ids[32], ops[32], state[16];
        int r;

        assert_return(s, -EINVAL);
        assert_return(operation >= 0, -EINVAL);

        snprintf(ids, sizeof(ids), "%" PRId64, id);
        snprintf(ops, sizeof(ops), "%" PRId64, operation);
        /* Taken again after a restart: the first start time stays, a new operation replaces the
         * old link (0 keeps it). */
        r = store_query(s,
                        "UPDATE requests SET state = 'RUNNING', "
                        "  started_at = coalesce(started_at, now()), "
                        "  operation = coalesce(nullif($2::bigint, 0), operation) "
                        "WHERE id = $1::bigint AND state IN ('PENDING', 'RUNNING') RETURNING id",
                        2, (const char *const[]){ids, ops}, 0, &res, reterr);
        if (r == -ENOENT)
                return err_set(reterr, r, NULL, "operation %s not found", ops);
        if (r < 0)
                return r;
        if (PQntuples(res) == 1)
                return 0;
        r = request_state(s, ids, state, reterr);
        if (r < 0)
                return r;
        return err_set(reterr, -EALREADY, NULL, "request %s has already finished (%s)", ids, state);
}

int store_request_finish(Store *s, int64_t id, bool ok, const char *message, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char ids[32], state[16];
        int r;

        assert_return(s, -EINVAL);

        snprintf(ids, sizeof(ids), "%" PRId64, id);
        /* NOTIFY: the controller takes the resource's next queued request. */
        r = store_query(s,
                        "WITH upd AS ("
                        "  UPDATE requests SET state = $2, finished_at = now(), "
                        "    message = left($3, " STR(
                                STORE_MAX_MESSAGE) ") "
                                                   "  WHERE id = $1::bigint AND state IN "
                                                   "('PENDING', 'RUNNING') "
                                                   "  RETURNING resource_uuid) "
                                                   "SELECT pg_notify('" STORE_CHANNEL_SPEC
                                                   "', resource_uuid::text) FROM upd",
                        3, (const char *const[]){ids, ok ? "DONE" : "FAILED", strempty(message)}, 0,
                        &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 1)
                return 0;
        /* Finished already (a rerun after a crash): the first outcome stands. */
        return request_state(s, ids, state, reterr);
}

int store_request_list(Store *s, const char *uuid, int limit, cJSON **ret, Error *reterr) {
        char lim[16];
        int r;

        assert_return(s && ret, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        if (limit <= 0)
                limit = STORE_DEFAULT_LIST;
        snprintf(lim, sizeof(lim), "%d", MIN(limit, STORE_MAX_LIST));
        return store_query_json(
                s,
                "SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]'::json) FROM ("
                "  SELECT q.id, json_build_object("
                "    'id', q.id, 'action', q.action, 'params', q.params, 'state', q.state, "
                "    'actor', q.actor, "
                "    'created_at', " SQL_TIME(
                        "q.created_at") ", "
                                        "    'started_at', " SQL_TIME(
                                                "q.started_at") ", "
                                                                "    'finished_at', " SQL_TIME(
                                                                        "q.finished_at") ", "
                                                                                         "    "
                                                                                         "'message'"
                                                                                         ", "
                                                                                         "q."
                                                                                         "message, "
                                                                                         "'operatio"
                                                                                         "n', "
                                                                                         "q."
                                                                                         "operation"
                                                                                         ") AS j "
                                                                                         "  FROM "
                                                                                         "requests "
                                                                                         "q WHERE "
                                                                                         "q."
                                                                                         "resource_"
                                                                                         "uuid = "
                                                                                         "$1::uuid "
                                                                                         "  ORDER "
                                                                                         "BY q.id "
                                                                                         "DESC "
                                                                                         "LIMIT "
                                                                                         "$2::"
                                                                                         "integer) "
                                                                                         "x",
                2, (const char *const[]){uuid, lim}, ret, reterr);
}
