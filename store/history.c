/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/audit.h"
#include "store/store-internal.h"
#include "store/store.h"

/* RFC 3339 UTC with milliseconds, as format_rfc3339() prints. */
#define SQL_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define STR(x)  STR_(x)
#define STR_(x) #x

static void list_limit(int limit, char buf[16]) {
        if (limit <= 0)
                limit = STORE_DEFAULT_LIST;
        snprintf(buf, 16, "%d", MIN(limit, STORE_MAX_LIST));
}

int store_event_add(Store *s, const char *uuid, const char *type, const char *reason,
                    const char *message, Error *reterr) {
        int r;

        assert_return(s, -EINVAL);
        assert_return(type && (streq(type, "Normal") || streq(type, "Warning")), -EINVAL);
        assert_return(!isempty(reason), -EINVAL);

        r = store_query(s,
                        "INSERT INTO events (resource_uuid, type, reason, message) "
                        "VALUES ($1::uuid, $2, $3, left($4, " STR(STORE_MAX_MESSAGE) "))",
                        4, (const char *const[]){uuid, type, reason, strempty(message)}, 0, NULL,
                        reterr);
        if (r == -ENOENT)
                return err_setr(reterr, r, "RESOURCE_NOT_FOUND", NULL, "resource %s not found",
                                strna(uuid));
        return r;
}

/* after_id > 0: the oldest events after it (resume, in order); otherwise the newest `limit`.
 * Either way the array is oldest first. */
int store_events_list(Store *s, const char *uuid, int64_t after_id, int limit, cJSON **ret,
                      Error *reterr) {
        char after[32], lim[16];

        assert_return(s, -EINVAL);
        assert_return(ret, -EINVAL);

        snprintf(after, sizeof(after), "%" PRId64, MAX(after_id, 0));
        list_limit(limit, lim);
        return store_query_json(
                s,
                "SELECT coalesce(json_agg(x.j ORDER BY x.id), '[]'::json) FROM ("
                "  SELECT e.id, json_build_object("
                "    'id', e.id, 'time', " SQL_TIME(
                        "e.time") ", 'type', e.type, "
                                  "    'reason', e.reason, 'message', e.message, "
                                  "    'resource', CASE WHEN r.uuid IS NULL THEN NULL ELSE "
                                  "json_build_object("
                                  "      'uuid', r.uuid, 'kind', r.kind, 'project', r.project, "
                                  "'name', r.name) END"
                                  "  ) AS j "
                                  "  FROM events e LEFT JOIN resources r ON r.uuid = "
                                  "e.resource_uuid "
                                  "  WHERE ($1::uuid IS NULL OR e.resource_uuid = $1::uuid) AND "
                                  "e.id > $2::bigint "
                                  "  ORDER BY CASE WHEN $2::bigint > 0 THEN e.id ELSE -e.id END "
                                  "  LIMIT $3::integer) x",
                3, (const char *const[]){uuid, after, lim}, ret, reterr);
}

int store_operation_start(Store *s, const char *uuid, const char *kind, const char *actor,
                          int64_t *ret_id, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int64_t id;
        int r;

        assert_return(s, -EINVAL);
        assert_return(uuid && !isempty(kind), -EINVAL);

        r = store_query(s,
                        "INSERT INTO operations (resource_uuid, kind, actor) "
                        "VALUES ($1::uuid, $2, $3) RETURNING id",
                        3, (const char *const[]){uuid, kind, strempty(actor)}, 0, &res, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, r, "RESOURCE_NOT_FOUND", NULL, "resource %s not found",
                                uuid);
        if (r < 0)
                return r;
        if (store_get_i64(res, 0, 0, &id) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad operation id");
        if (ret_id)
                *ret_id = id;
        return 0;
}

/* The log's tail is kept when it exceeds STORE_MAX_LOG: the end says how it ended. */
int store_operation_finish(Store *s, int64_t id, bool ok, const char *log, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char ids[32];
        int r;

        assert_return(s, -EINVAL);

        snprintf(ids, sizeof(ids), "%" PRId64, id);
        r = store_query(
                s,
                "UPDATE operations SET state = $2, finished_at = now(), "
                "  log = right($3, " STR(STORE_MAX_LOG) ") "
                                                        "WHERE id = $1::bigint RETURNING id",
                3, (const char *const[]){ids, ok ? "DONE" : "FAILED", strempty(log)}, 0, &res,
                reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_set(reterr, -ENOENT, NULL, "operation %" PRId64 " not found", id);
        return 0;
}

int store_operations_interrupted(Store *s, int *ret_n, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s, -EINVAL);
        /* A queued request's operation is resumed by its request, a deploy's by the revision's
         * deploy (store/revisions.h); the others cannot be. */
        r = store_query(s,
                        "UPDATE operations o SET state = 'FAILED', finished_at = now(), "
                        "  log = o.log || 'interrupted: the controller stopped before it ended "
                        "(what it started in a container may still have finished)' || chr(10) "
                        "WHERE o.state = 'IN_PROGRESS' AND NOT EXISTS (SELECT FROM requests q "
                        "  WHERE q.operation = o.id AND q.state = 'RUNNING') "
                        "AND NOT EXISTS (SELECT FROM revisions v "
                        "  WHERE v.operation = o.id AND v.deploy_state = 'IN_PROGRESS') "
                        "RETURNING o.id",
                        0, NULL, 0, &res, reterr);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = PQntuples(res);
        return 0;
}

/* The newest `limit` operations, oldest first. */
int store_operations_list(Store *s, const char *uuid, int limit, cJSON **ret, Error *reterr) {
        char lim[16];

        assert_return(s, -EINVAL);
        assert_return(ret, -EINVAL);

        list_limit(limit, lim);
        return store_query_json(
                s,
                "SELECT coalesce(json_agg(x.j ORDER BY x.id), '[]'::json) FROM ("
                "  SELECT o.id, json_build_object("
                "    'id', o.id, 'kind', o.kind, 'state', o.state, 'actor', o.actor, "
                "    'started_at', " SQL_TIME(
                        "o.started_at") ", "
                                        "    'finished_at', " SQL_TIME(
                                                "o.finished_at") ", "
                                                                 "    'log', o.log) AS j "
                                                                 "  FROM operations o "
                                                                 "  WHERE ($1::uuid IS NULL OR "
                                                                 "o.resource_uuid = $1::uuid) "
                                                                 "  ORDER BY o.id DESC LIMIT "
                                                                 "$2::integer) x",
                2, (const char *const[]){uuid, lim}, ret, reterr);
}

int store_audit_add(Store *s, const char *actor, const char *action, const char *uuid,
                    const char *detail, Error *reterr) {
        assert_return(s, -EINVAL);
        assert_return(!isempty(action), -EINVAL);

        return store_query(
                s,
                "INSERT INTO audit (actor, action, resource_uuid, detail) "
                "VALUES ($1, $2, $3::uuid, left($4, " STR(STORE_MAX_LOG) "))",
                4, (const char *const[]){isempty(actor) ? "unknown" : actor, action, uuid, detail},
                0, NULL, reterr);
}

int store_audit_list(Store *s, const char *uuid, int64_t after_id, int limit, cJSON **ret,
                     Error *reterr) {
        char after[32], lim[16];

        assert_return(s, -EINVAL);
        assert_return(ret, -EINVAL);

        snprintf(after, sizeof(after), "%" PRId64, MAX(after_id, 0));
        list_limit(limit, lim);
        return store_query_json(
                s,
                "SELECT coalesce(json_agg(x.j ORDER BY x.id), '[]'::json) FROM ("
                "  SELECT a.id, json_build_object("
                "    'id', a.id, 'time', " SQL_TIME(
                        "a.time") ", 'actor', a.actor, "
                                  "    'action', a.action, 'resource_uuid', a.resource_uuid, "
                                  "'detail', a.detail"
                                  "  ) AS j "
                                  "  FROM audit a "
                                  "  WHERE ($1::uuid IS NULL OR a.resource_uuid = $1::uuid) AND "
                                  "a.id > $2::bigint "
                                  "  ORDER BY CASE WHEN $2::bigint > 0 THEN a.id ELSE -a.id END "
                                  "  LIMIT $3::integer) x",
                3, (const char *const[]){uuid, after, lim}, ret, reterr);
}
