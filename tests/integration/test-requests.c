/* SPDX-License-Identifier: MIT */
/* Queued actions (store/requests.c) against a real PostgreSQL: the embedded server in a
 * temporary directory, removed afterwards. TAP output; exit status 1 on any failure. */
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "util/common.h"

#include "store/requests.h"
#include "store/store.h"
#include "store-harness.h"

/* True when no notification arrives within 200 ms. */
static bool quiet(Store *l) {
        Error e = ERROR_INIT;
        char *c = NULL, *p = NULL;
        int r = store_notify_wait(l, 200 * USEC_PER_MSEC, &c, &p, &e);

        b_free(c);
        b_free(p);
        return r == 0;
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
        Store *a = NULL, *l = NULL, *lease = NULL;
        StoreHarness h;
        PGconn *raw;
        Error e = ERROR_INIT;
        char uuid[37] = "", uuid2[37] = "";
        ApplyOutcome out;
        int64_t epoch = 0, id = 0;
        Document d1, d2;
        int r;

        if (!store_harness_start(&h, "berth-requests"))
                return 1;
        raw = h.raw;
        check_r(store_open(h.conninfo, &a, &e), 0, &e, "store_open");
        check_r(store_open(h.conninfo, &l, &e), 0, &e, "store_open (listener)");
        check_r(store_open(h.conninfo, &lease, &e), 0, &e, "store_open (lease)");
        if (!a || !l || !lease)
                return store_harness_finish(&h);
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
        return store_harness_finish(&h);
}
