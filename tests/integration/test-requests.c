/* SPDX-License-Identifier: MIT */
/* Queued actions (store/requests.c) against a real PostgreSQL: the embedded server in a
 * temporary directory, removed afterwards. TAP output; exit status 1 on any failure. */
#include <ftw.h>
#include <stdarg.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "util/common.h"

#include "store/embedded.h"
#include "store/requests.h"
#include "store/store.h"

static int test_n;
static int test_failed;

static bool check(bool ok, const char *fmt, ...) _printf_(2, 3);
static bool check(bool ok, const char *fmt, ...) {
        va_list ap;

        printf("%s %d - ", ok ? "ok" : "not ok", ++test_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (!ok)
                test_failed++;
        return ok;
}

static bool check_r(int r, int want, const Error *e, const char *what) {
        char b[64];

        if (r == want)
                return check(true, "%s", what);
        return check(false, "%s: got %d (%s) \"%s\", want %d", what, r, err_str(r, b, sizeof(b)),
                     e->msg, want);
}

static void print_log(const char *dir) {
        char path[512], line[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/state.log", dir);
        f = fopen(path, "re");
        if (!f)
                return;
        printf("# --- %s\n", path);
        while (fgets(line, sizeof(line), f))
                printf("# %s", line);
        fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 ? -1 : 0;
}

static void rm_rf(const char *dir) {
        if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                printf("# cannot remove %s\n", dir);
}

static int64_t raw_count(PGconn *raw, const char *sql, const char *param) {
        PGresult *res = PQexecParams(raw, sql, param ? 1 : 0, NULL, (const char *const[]){param},
                                     NULL, NULL, 0);
        int64_t n = -1;

        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
                n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        else
                printf("# raw query failed: %s", PQerrorMessage(raw));
        PQclear(res);
        return n;
}

static bool raw_exec(PGconn *raw, const char *sql, const char *param) {
        PGresult *res = PQexecParams(raw, sql, param ? 1 : 0, NULL, (const char *const[]){param},
                                     NULL, NULL, 0);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

        if (!ok) {
                char msg[512];

                snprintf(msg, sizeof(msg), "%s", PQerrorMessage(raw));
                for (char *p = msg; *p; p++)
                        if (*p == '\n')
                                *p = ' ';
                printf("# raw query failed: %s\n", msg);
        }
        PQclear(res);
        return ok;
}

/* Waits for a notification on channel with payload (others are skipped). */
static bool wait_for(Store *l, const char *channel, const char *payload) {
        for (int i = 0; i < 20; i++) {
                Error e = ERROR_INIT;
                char *c = NULL, *p = NULL;
                bool match;
                int r;

                r = store_notify_wait(l, 5 * USEC_PER_SEC, &c, &p, &e);
                if (r <= 0) {
                        printf("# notify_wait: %d %s\n", r, e.msg);
                        return false;
                }
                match = streq(c, channel) && streq(p, payload);
                b_free(c);
                b_free(p);
                if (match)
                        return true;
        }
        return false;
}

/* True when no notification arrives within 200 ms. */
static bool quiet(Store *l) {
        Error e = ERROR_INIT;
        char *c = NULL, *p = NULL;
        int r = store_notify_wait(l, 200 * USEC_PER_MSEC, &c, &p, &e);

        b_free(c);
        b_free(p);
        return r == 0;
}

static const char *jstr(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jint(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsNumber(v) ? (int64_t) v->valuedouble : -1;
}

static void doc_make(Document *d, const char *project, const char *name) {
        *d = (Document){.kind = KIND_DOCKER_SERVICE};
        snprintf(d->project, sizeof(d->project), "%s", project);
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->spec = cJSON_CreateObject();
        cJSON_AddStringToObject(d->spec, "image", "berth/busybox");
        cJSON_AddNumberToObject(d->spec, "replicas", 0);
        d->labels = cJSON_CreateObject();
}

static void test_queue(Store *a, Store *l, PGconn *raw, const char *uuid) {
        _cleanup_(stored_request_release) StoredRequest q = {};
        cJSON *params = cJSON_Parse("{\"type\":\"full\"}"), *list = NULL;
        Error e = ERROR_INIT;
        int64_t id1 = 0, id2 = 0, op = 0;
        const cJSON *first, *second;
        int r;

        check_r(store_request_next(a, uuid, &q, &e), -ENOENT, &e, "no request yet: -ENOENT");

        r = store_request_add(a, uuid, "backup", params, "alice", &id1, &e);
        check_r(r, 0, &e, "add backup");
        check(id1 > 0, "request id %" PRId64, id1);
        check(wait_for(l, STORE_CHANNEL_SPEC, uuid), "add NOTIFYs the controller");
        check(raw_count(raw,
                        "SELECT count(*) FROM audit WHERE action = 'backup' AND actor = 'alice' "
                        "AND resource_uuid = $1 AND detail::json ->> 'request' IS NOT NULL",
                        uuid) == 1,
              "add is audited as the action, with the actor");
        check(raw_count(raw,
                        "SELECT count(*) FROM events WHERE reason = 'ActionQueued' AND "
                        "resource_uuid = $1",
                        uuid) == 1,
              "add records an event");
        r = store_request_add(a, uuid, "restore", NULL, "bob", &id2, &e);
        check_r(r, 0, &e, "add restore without params");
        check(id2 > id1, "ids grow");

        r = store_request_next(a, uuid, &q, &e);
        check_r(r, 0, &e, "next");
        check(q.id == id1 && streq(q.action, "backup") && streq(q.actor, "alice"),
              "next is the oldest: %" PRId64 " %s by %s", q.id, q.action, q.actor);
        check(streq(strna(jstr(q.params, "type")), "full"), "its params");
        check(q.created_at > 1700000000 * USEC_PER_SEC && q.operation == 0,
              "created_at set, no operation yet");
        stored_request_release(&q);

        check_r(store_operation_start(a, uuid, "backup", "alice", &op, &e), 0, &e,
                "an operation records the run");
        check_r(store_request_start(a, id1, op, &e), 0, &e, "start: PENDING -> RUNNING");
        check_r(store_request_start(a, id1, op, &e), 0, &e, "start again: idempotent");
        check_r(store_request_start(a, id1, 0, &e), 0, &e, "start again without an operation");
        r = store_request_next(a, uuid, &q, &e);
        check(r == 0 && q.id == id1 && q.operation == op,
              "a RUNNING request is taken again (after a restart), operation kept");
        stored_request_release(&q);
        {
                char ids[32];

                snprintf(ids, sizeof(ids), "%" PRId64, id1);
                check(raw_count(raw,
                                "SELECT count(*) FROM requests WHERE id = $1::bigint AND "
                                "state = 'RUNNING' AND started_at IS NOT NULL",
                                ids) == 1,
                      "stored RUNNING with its start time");
        }

        while (!quiet(l))
                ;
        check_r(store_request_finish(a, id1, true, "backup 20261123-101500F done", &e), 0, &e,
                "finish DONE");
        check(wait_for(l, STORE_CHANNEL_SPEC, uuid), "finish NOTIFYs: the next request runs");
        check_r(store_request_finish(a, id1, false, "late failure", &e), 0, &e,
                "finish again: no-op, no error");
        check(quiet(l), "... and no second NOTIFY");
        r = store_request_start(a, id1, op, &e);
        check_r(r, -EALREADY, &e, "start of a finished request: -EALREADY");

        r = store_request_next(a, uuid, &q, &e);
        check(r == 0 && q.id == id2 && streq(q.action, "restore") && cJSON_IsObject(q.params) &&
                      !q.params->child,
              "next is the restore, params {}");
        stored_request_release(&q);
        check_r(store_request_finish(a, id2, false, "no backup to restore from", &e), 0, &e,
                "finish a PENDING request as FAILED (refused without running)");
        check_r(store_request_next(a, uuid, &q, &e), -ENOENT, &e, "queue empty again");

        r = store_request_list(a, uuid, 0, &list, &e);
        check_r(r, 0, &e, "list");
        first = cJSON_GetArrayItem(list, 0);
        second = cJSON_GetArrayItem(list, 1);
        check(cJSON_GetArraySize(list) == 2 && jint(first, "id") == id2 &&
                      jint(second, "id") == id1,
              "list: newest first");
        check(streq(strna(jstr(first, "state")), "FAILED") &&
                      streq(strna(jstr(first, "message")), "no backup to restore from") &&
                      cJSON_IsNull(cJSON_GetObjectItem(first, "operation")) &&
                      cJSON_IsNull(cJSON_GetObjectItem(first, "started_at")) &&
                      jstr(first, "finished_at") && streq(strna(jstr(first, "actor")), "bob"),
              "the failed one: state, message, no operation, finished");
        check(streq(strna(jstr(second, "state")), "DONE") &&
                      streq(strna(jstr(second, "message")), "backup 20261123-101500F done") &&
                      jint(second, "operation") == op && jstr(second, "created_at") &&
                      jstr(second, "started_at") && jstr(second, "finished_at") &&
                      streq(strna(jstr(cJSON_GetObjectItem(second, "params"), "type")), "full"),
              "the done one: first outcome kept, operation, times, params");
        cJSON_Delete(list);
        list = NULL;
        r = store_request_list(a, uuid, 1, &list, &e);
        check(r == 0 && cJSON_GetArraySize(list) == 1 &&
                      jint(cJSON_GetArrayItem(list, 0), "id") == id2,
              "list honours the limit");
        cJSON_Delete(list);

        {
                char ops[32];

                snprintf(ops, sizeof(ops), "%" PRId64, op);
                check(raw_exec(raw, "DELETE FROM operations WHERE id = $1::bigint", ops),
                      "remove the operation row");
        }
        r = store_request_list(a, uuid, 0, &list, &e);
        check(r == 0 && cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "operation")),
              "the request outlives its operation (SET NULL)");
        cJSON_Delete(list);

        check_r(store_request_finish(a, 999999, true, NULL, &e), -ENOENT, &e,
                "finish of a missing request: -ENOENT");
        check_r(store_request_start(a, 999999, 0, &e), -ENOENT, &e,
                "start of a missing request: -ENOENT");
        r = store_request_add(a, uuid, "vacuum", NULL, NULL, &id1, &e);
        check_r(r, 0, &e, "add without an actor");
        check_r(store_request_start(a, id1, 987654, &e), -ENOENT, &e,
                "start with a missing operation: -ENOENT");
        check_r(store_request_finish(a, id1, true, "", &e), 0, &e, "finish it");
        cJSON_Delete(params);
}

static void test_refusals(Store *a, const char *uuid) {
        cJSON *arr = cJSON_CreateArray();
        Error e = ERROR_INIT;
        StoredRequest q = {};
        cJSON *list = NULL;
        int64_t id = 0;
        int r;

        r = store_request_add(a, "not-a-uuid", "backup", NULL, "alice", &id, &e);
        check_r(r, -EINVAL, &e, "add with a malformed uuid: -EINVAL");
        r = store_request_add(a, "00000000-0000-0000-0000-000000000000", "backup", NULL, "alice",
                              &id, &e);
        check_r(r, -ENOENT, &e, "add for a missing resource: -ENOENT");
        check(streq(e.reason, "RESOURCE_NOT_FOUND"), "reason RESOURCE_NOT_FOUND");
        check_r(store_request_add(a, uuid, "", NULL, "alice", &id, &e), -EINVAL, &e,
                "add with an empty action: -EINVAL");
        check_r(store_request_add(a, uuid, "an-action-name-of-more-than-31-chars", NULL, "alice",
                                  &id, &e),
                -EINVAL, &e, "add with a too long action: -EINVAL");
        check_r(store_request_add(a, uuid, "backup", arr, "alice", &id, &e), -EINVAL, &e,
                "add with params that are not an object: -EINVAL");
        check_r(store_request_next(a, "nope", &q, &e), -EINVAL, &e,
                "next with a malformed uuid: -EINVAL");
        check_r(store_request_list(a, "nope", 10, &list, &e), -EINVAL, &e,
                "list with a malformed uuid: -EINVAL");
        cJSON_Delete(arr);
}

static void test_cap(Store *a, const char *uuid) {
        Error e = ERROR_INIT;
        int64_t id = 0;
        int r = 0, n = 0;

        for (; n < 100 && r >= 0; n++)
                r = store_request_add(a, uuid, "vacuum", NULL, "alice", &id, &e);
        check(r == -EBUSY && streq(e.reason, "TOO_MANY_REQUESTS"),
              "the queue of one resource is capped: refused at add %d (%s)", n, e.msg);
        check(n == 33, "32 open requests at most (refused the %dth)", n);
        check_r(store_request_finish(a, id, true, "done", &e), 0, &e, "one finishes");
        check_r(store_request_add(a, uuid, "vacuum", NULL, "alice", &id, &e), 0, &e,
                "then there is room for one more");
}

int main(void) {
        char dir[] = "/tmp/berth-requests-XXXXXX";
        _cleanup_free_ char *conninfo = NULL;
        Store *a = NULL, *l = NULL, *lease = NULL;
        EmbeddedPg *pg = NULL;
        PGconn *raw = NULL;
        Error e = ERROR_INIT;
        char uuid[37] = "", uuid2[37] = "";
        ApplyOutcome out;
        int64_t epoch = 0, id = 0;
        Document d1, d2;
        int r;

        alloc_install_cjson();
        printf("TAP version 13\n");

        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }
        r = embedded_pg_start(dir, &pg, &conninfo, &e);
        if (!check_r(r, 0, &e, "embedded PostgreSQL starts")) {
                print_log(dir);
                rm_rf(dir);
                return 1;
        }
        raw = PQconnectdb(conninfo);
        check(PQstatus(raw) == CONNECTION_OK, "raw connection for checks");
        check_r(store_open(conninfo, &a, &e), 0, &e, "store_open");
        check_r(store_open(conninfo, &l, &e), 0, &e, "store_open (listener)");
        check_r(store_open(conninfo, &lease, &e), 0, &e, "store_open (lease)");
        if (!a || !l || !lease) {
                print_log(dir);
                pg = embedded_pg_stop(pg);
                rm_rf(dir);
                return 1;
        }
        check_r(store_migrate(a, &e), 0, &e, "migrate (with 0006_requests)");
        check(raw_count(raw, "SELECT count(*) FROM schema_migrations WHERE name = $1",
                        "0006_requests") == 1,
              "0006_requests recorded");
        check_r(store_listen(l, STORE_CHANNEL_SPEC, &e), 0, &e, "LISTEN");

        doc_make(&d1, "shop", "orders");
        doc_make(&d2, "shop", "billing");
        check_r(store_resource_apply(a, &d1, "alice", &out, uuid, NULL, &e), 0, &e,
                "a resource to queue requests for");
        check_r(store_resource_apply(a, &d2, "alice", &out, uuid2, NULL, &e), 0, &e, "another one");
        check(wait_for(l, STORE_CHANNEL_SPEC, uuid2), "apply NOTIFYs (drained)");

        test_queue(a, l, raw, uuid);
        check(!raw_exec(raw,
                        "UPDATE requests SET state = 'SLEEPING' WHERE resource_uuid = $1::uuid",
                        uuid),
              "the state CHECK refuses other states");
        test_refusals(a, uuid);
        test_cap(a, uuid2);

        /* Deleting: no new requests; removal takes the queue with it. */
        check_r(store_resource_request_delete(a, KIND_DOCKER_SERVICE, "shop", "billing", "carol",
                                              &e),
                0, &e, "request delete");
        r = store_request_add(a, uuid2, "backup", NULL, "alice", &id, &e);
        check(r == -EBUSY && streq(e.reason, "RESOURCE_DELETING"),
              "add to a resource being deleted: -EBUSY RESOURCE_DELETING (%s)", e.msg);
        r = store_lease_acquire(lease, "test", &epoch, &e);
        check(r == 1, "lease for the removal");
        check_r(store_resource_remove(a, uuid2, epoch, &e), 0, &e, "remove the resource");
        check(raw_count(raw, "SELECT count(*) FROM requests WHERE resource_uuid = $1", uuid2) == 0,
              "its requests are gone with it");
        check(raw_count(raw, "SELECT count(*) FROM requests WHERE resource_uuid = $1", uuid) > 0,
              "the other resource's requests stay");

        cJSON_Delete(d1.spec);
        cJSON_Delete(d1.labels);
        cJSON_Delete(d2.spec);
        cJSON_Delete(d2.labels);
        store_free(a);
        store_free(l);
        store_free(lease);
        PQfinish(raw);
        if (test_failed)
                print_log(dir);
        pg = embedded_pg_stop(pg);
        rm_rf(dir);

        printf("1..%d\n", test_n);
        if (test_failed)
                printf("# %d of %d failed\n", test_failed, test_n);
        return test_failed ? 1 : 0;
}
