/* SPDX-License-Identifier: MIT */
/* The state store against a real PostgreSQL: the embedded server (store/embedded.c) in a
 * temporary directory, removed afterwards. TAP-style output; exit status 1 on any failure. */
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "util/common.h"

#include "store/audit.h"
#include "schema/migrations.h"
#include "store/store.h"
#include "store-harness.h"

static void msleep(long ms) {
        nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000}, NULL);
}

/* A docker_service document built by hand (no model parsing). */
static void doc_make(Document *d, ResourceKind kind, const char *project, const char *name,
                     const char *image, int replicas, const char *team) {
        *d = (Document){.kind = kind};
        snprintf(d->project, sizeof(d->project), "%s", project);
        snprintf(d->name, sizeof(d->name), "%s", name);
        snprintf(d->environment, sizeof(d->environment), "staging");
        d->spec = cJSON_CreateObject();
        cJSON_AddStringToObject(d->spec, "image", image);
        cJSON_AddStringToObject(d->spec, "type", "web");
        cJSON_AddNumberToObject(d->spec, "replicas", replicas);
        d->labels = cJSON_CreateObject();
        cJSON_AddStringToObject(d->labels, "team", team);
}

static void doc_done(Document *d) {
        cJSON_Delete(d->spec);
        cJSON_Delete(d->labels);
        *d = (Document){};
}

/* Terminates the backends of an application_name and waits until they are gone. */
static bool raw_kill(PGconn *raw, const char *app) {
        if (!raw_exec(raw,
                      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = $1",
                      app))
                return false;
        for (int i = 0; i < 200; i++) {
                if (raw_count(raw,
                              "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                              app) == 0)
                        return true;
                msleep(25);
        }
        return false;
}

static void drain(Store *l) {
        for (;;) {
                Error e = ERROR_INIT;
                char *c = NULL, *p = NULL;

                if (store_notify_wait(l, 50 * USEC_PER_MSEC, &c, &p, &e) <= 0)
                        return;
                b_free(c);
                b_free(p);
        }
}

static char *conninfo_app(const char *conninfo, const char *app) {
        Buf b = BUF_INIT(1024);

        if (buf_printf(&b, "%s application_name=%s", conninfo, app) < 0)
                abort();
        return buf_take(&b);
}

static const cJSON *array_last(const cJSON *a) {
        int n = cJSON_GetArraySize(a);
        return n > 0 ? cJSON_GetArrayItem(a, n - 1) : NULL;
}

static void test_migrate(Store *a, PGconn *raw) {
        Error e = ERROR_INIT;
        int r;

        check_r(store_migrate(a, &e), 0, &e, "migrate on an empty database");
        check_r(store_migrate(a, &e), 0, &e, "migrate again is a no-op");
        check(raw_count(raw, "SELECT count(*) FROM schema_migrations", NULL) ==
                      (long) schema_migrations_count,
              "every embedded migration recorded once");

        check(raw_exec(raw, "INSERT INTO schema_migrations VALUES (9999, '9999_future', now())",
                       NULL),
              "fake a newer migration");
        r = store_migrate(a, &e);
        check_r(r, -EPROTO, &e, "a newer store schema is refused");
        {
                char want[96];
                snprintf(want, sizeof(want), "schema version 9999 is newer than this berthd (%d)",
                         schema_migrations[schema_migrations_count - 1].version);
                check(strstr(e.msg, want) != NULL, "message names both versions: %s", e.msg);
        }
        check(raw_exec(raw, "DELETE FROM schema_migrations WHERE version = 9999", NULL),
              "remove the fake migration");
        check_r(store_migrate(a, &e), 0, &e, "migrate after the fake is gone");
}

/* A second start adopts the running server; after a stop, a start reuses the data (no initdb). */
static void test_restart(const char *dir, const char *conninfo, EmbeddedPg **pg) {
        _cleanup_free_ char *ci2 = NULL, *ci3 = NULL;
        EmbeddedPg *pg2 = NULL;
        StoredResource *list = NULL;
        Error e = ERROR_INIT;
        Store *s = NULL;
        size_t n = 0;
        int r;

        r = embedded_pg_start(dir, &pg2, &ci2, &e);
        check_r(r, 0, &e, "start on a running server adopts it");
        check(ci2 && streq(ci2, conninfo), "same conninfo");
        pg2 = embedded_pg_stop(pg2);
        *pg = embedded_pg_stop(*pg); /* already stopped: harmless */

        r = embedded_pg_start(dir, pg, &ci3, &e);
        check_r(r, 0, &e, "restart on the existing data directory");
        if (r < 0)
                return;
        check_r(store_open(ci3, &s, &e), 0, &e, "open after restart");
        if (!s)
                return;
        check_r(store_migrate(s, &e), 0, &e, "migrate after restart is a no-op");
        r = store_resource_list(s, NULL, _KIND_INVALID, &list, &n, &e);
        check(r == 0 && n == 3, "data survived the restart: %zu resources", n);
        stored_resources_free(list, n);
        store_free(s);
}

int main(void) {
        _cleanup_free_ char *ci_a = NULL, *ci_l = NULL;
        char uuid[37] = "", uuid2[37] = "";
        Store *a = NULL, *l = NULL, *la = NULL, *lb = NULL;
        StoreHarness h;
        PGconn *raw;
        Error e = ERROR_INIT;
        ApplyOutcome out;
        int64_t gen, epoch = 0, epoch2 = 0;
        Document d1, d2, d3, d4;
        int r;

        if (!store_harness_start(&h, "berth-store"))
                return 1;
        raw = h.raw;
        ci_a = conninfo_app(h.conninfo, "berth-test-a");
        ci_l = conninfo_app(h.conninfo, "berth-test-listen");
        check_r(store_open(ci_a, &a, &e), 0, &e, "store_open (worker session)");
        check_r(store_open(ci_l, &l, &e), 0, &e, "store_open (listener session)");
        if (!a || !l)
                return store_harness_finish(&h);
        check_r(store_ping(a, &e), 0, &e, "ping");

        test_migrate(a, raw);

        /* --- apply */
        check_r(store_listen(l, STORE_CHANNEL_SPEC, &e), 0, &e, "LISTEN spec channel");
        check_r(store_listen(l, STORE_CHANNEL_STATUS, &e), 0, &e, "LISTEN status channel");

        doc_make(&d1, KIND_DOCKER_SERVICE, "shop", "web", "berth/busybox", 1, "core");
        check_r(store_resource_compare(a, &d1, &out, &e), 0, &e, "compare before create");
        check(out == APPLY_CREATED, "compare says created");

        check_r(store_begin(a, &e), 0, &e, "begin");
        r = store_resource_apply(a, &d1, "alice", &out, uuid, &gen, &e);
        check_r(r, 0, &e, "apply create");
        check(out == APPLY_CREATED && gen == 1, "created, generation 1 (%s, %" PRId64 ")",
              apply_outcome_to_string(out), gen);
        check(strlen(uuid) == 36, "uuid returned: %s", uuid);
        r = store_notify_wait(l, 200 * USEC_PER_MSEC, NULL, NULL, &e);
        check_r(r, 0, &e, "no notification before commit");
        check_r(store_commit(a, &e), 0, &e, "commit");
        check(wait_for(l, STORE_CHANNEL_SPEC, uuid), "listener receives the uuid after commit");

        r = store_resource_apply(a, &d1, "alice", &out, NULL, &gen, &e);
        check_r(r, 0, &e, "apply same spec (own transaction)");
        check(out == APPLY_UNCHANGED && gen == 1, "unchanged, generation 1");
        check_r(store_resource_compare(a, &d1, &out, &e), 0, &e, "compare same spec");
        check(out == APPLY_UNCHANGED, "compare says unchanged");

        cJSON_ReplaceItemInObject(d1.spec, "replicas", cJSON_CreateNumber(2));
        check_r(store_resource_compare(a, &d1, &out, &e), 0, &e, "compare changed spec");
        check(out == APPLY_CONFIGURED, "compare says configured");
        r = store_resource_apply(a, &d1, "alice", &out, NULL, &gen, &e);
        check_r(r, 0, &e, "apply changed spec");
        check(out == APPLY_CONFIGURED && gen == 2, "configured, generation 2 (%s, %" PRId64 ")",
              apply_outcome_to_string(out), gen);

        cJSON_ReplaceItemInObject(d1.labels, "team", cJSON_CreateString("payments"));
        r = store_resource_apply(a, &d1, "bob", &out, NULL, &gen, &e);
        check_r(r, 0, &e, "apply changed labels");
        check(out == APPLY_CONFIGURED && gen == 3, "labels change bumps to generation 3");
        snprintf(d1.environment, sizeof(d1.environment), "production");
        r = store_resource_apply(a, &d1, "bob", &out, NULL, &gen, &e);
        check(r == 0 && out == APPLY_CONFIGURED && gen == 4,
              "environment change bumps to generation 4");

        doc_make(&d2, KIND_DOCKER_SERVICE, "shop", "worker", "berth/busybox", 1, "core");
        doc_make(&d3, KIND_DOCKER_SERVICE, "other", "web", "berth/busybox", 1, "core");
        doc_make(&d4, KIND_JOB, "shop", "batch", "berth/busybox", 1, "core");
        check(store_resource_apply(a, &d2, "alice", &out, uuid2, NULL, &e) == 0 &&
                      store_resource_apply(a, &d3, "alice", NULL, NULL, NULL, &e) == 0 &&
                      store_resource_apply(a, &d4, "alice", NULL, NULL, NULL, &e) == 0,
              "apply three more resources");
        drain(l);

        /* --- list and get */
        {
                StoredResource *list = NULL;
                size_t n = 0;

                r = store_resource_list(a, NULL, _KIND_INVALID, &list, &n, &e);
                check(r == 0 && n == 4, "list all: %zu", n);
                check(n == 4 && streq(list[0].ref.project, "other") &&
                              streq(list[1].ref.name, "web") && streq(list[2].ref.name, "worker") &&
                              streq(list[3].ref.name, "batch"),
                      "ordered by project, kind, name");
                stored_resources_free(list, n);

                r = store_resource_list(a, "shop", _KIND_INVALID, &list, &n, &e);
                check(r == 0 && n == 3, "list project shop: %zu", n);
                stored_resources_free(list, n);
                r = store_resource_list(a, NULL, KIND_JOB, &list, &n, &e);
                check(r == 0 && n == 1 && list[0].ref.kind == KIND_JOB, "list kind job");
                stored_resources_free(list, n);
                r = store_resource_list(a, "shop", KIND_DOCKER_SERVICE, &list, &n, &e);
                check(r == 0 && n == 2, "list project and kind");
                stored_resources_free(list, n);
                r = store_resource_list(a, "nobody", _KIND_INVALID, &list, &n, &e);
                check(r == 0 && n == 0, "list of an empty project");
                stored_resources_free(list, n);
        }
        {
                StoredResource sr = {};
                char *want = cJSON_PrintUnformatted(d1.spec), *got = NULL;

                r = store_resource_get(a, KIND_DOCKER_SERVICE, "shop", "web", &sr, &e);
                check_r(r, 0, &e, "get");
                if (r == 0)
                        got = cJSON_PrintUnformatted(sr.spec);
                check(r == 0 && streq(sr.ref.uuid, uuid) && sr.ref.generation == 4 &&
                              sr.phase == PHASE_PENDING && !sr.status && !sr.ref.deleting &&
                              sr.observed_generation == 0 && streq(sr.environment, "production"),
                      "get returns the row");
                check(got && streq(got, want), "spec text round-trips with key order: %s",
                      strna(got));
                check(r == 0 && streq(strna(jstr(sr.labels, "team")), "payments"), "labels");
                check(r == 0 && sr.created_at > 0 && sr.updated_at >= sr.created_at, "times");
                cJSON_free(got);
                cJSON_free(want);
                stored_resource_release(&sr);

                r = store_resource_get_by_uuid(a, uuid, &sr, &e);
                check(r == 0 && streq(sr.ref.name, "web"), "get by uuid");
                stored_resource_release(&sr);
                r = store_resource_get(a, KIND_DOCKER_SERVICE, "shop", "nope", &sr, &e);
                check_r(r, -ENOENT, &e, "get of a missing resource");
                r = store_resource_get_by_uuid(a, "00000000-0000-0000-0000-000000000000", &sr, &e);
                check_r(r, -ENOENT, &e, "get by unknown uuid");
        }
        {
                char **uuids = NULL;

                r = store_resource_list_uuids(a, &uuids, &e);
                check(r == 0 && strv_length(uuids) == 4 && strv_contains(uuids, uuid),
                      "list uuids");
                strv_free(uuids);
        }

        /* --- lease and status */
        check_r(store_open(h.conninfo, &la, &e), 0, &e, "open lease session A");
        check_r(store_open(h.conninfo, &lb, &e), 0, &e, "open lease session B");
        r = store_lease_acquire(la, "A", &epoch, &e);
        check(r == 1 && epoch >= 1, "A acquires the lease, epoch %" PRId64, epoch);
        {
                int64_t again = 0;

                r = store_lease_acquire(la, "A", &again, &e);
                check(r == 1 && again == epoch, "A again: same epoch, no bump");
        }
        r = store_lease_acquire(lb, "B", &epoch2, &e);
        check_r(r, 0, &e, "B does not get the lease");

        {
                Status st = {.phase = PHASE_RUNNING, .observed_generation = 4};
                cJSON *sj = cJSON_CreateObject(), *ev = NULL;
                char msg[] = "all replicas running";
                StoredResource sr = {};
                char *want = NULL, *got = NULL;
                int64_t before;

                st.message = msg;
                cJSON_AddStringToObject(sj, "phase", "RUNNING");
                cJSON_AddNumberToObject(sj, "observed_generation", 4);
                cJSON_AddStringToObject(sj, "message", msg);
                cJSON_AddNumberToObject(cJSON_AddObjectToObject(sj, "replicas"), "desired", 2);
                want = cJSON_PrintUnformatted(sj);

                r = store_status_write(a, uuid, epoch, &st, sj, &e);
                check_r(r, 0, &e, "status write with the current epoch");
                check(wait_for(l, STORE_CHANNEL_STATUS, uuid), "status NOTIFY received");
                r = store_resource_get_by_uuid(a, uuid, &sr, &e);
                if (r == 0)
                        got = cJSON_PrintUnformatted(sr.status);
                check(r == 0 && sr.phase == PHASE_RUNNING && sr.observed_generation == 4,
                      "phase and observed_generation stored");
                check(got && streq(got, want), "status JSON round-trips: %s", strna(got));
                stored_resource_release(&sr);
                cJSON_free(got);
                cJSON_free(want);

                r = store_events_list(a, uuid, 0, 10, &ev, &e);
                check(r == 0 && cJSON_IsArray(ev), "events list");
                check(r == 0 &&
                              streq(strna(jstr(array_last(ev), "message")),
                                    "PENDING → RUNNING: all replicas running") &&
                              streq(strna(jstr(array_last(ev), "reason")), "PhaseChanged") &&
                              streq(strna(jstr(array_last(ev), "type")), "Normal"),
                      "PhaseChanged event recorded");
                cJSON_Delete(ev);

                before = raw_count(raw, "SELECT count(*) FROM events WHERE resource_uuid = $1",
                                   uuid);
                r = store_status_write(a, uuid, epoch, &st, sj, &e);
                check_r(r, 0, &e, "same status again");
                check(raw_count(raw, "SELECT count(*) FROM events WHERE resource_uuid = $1",
                                uuid) == before,
                      "no event when the phase did not change");
                r = store_notify_wait(l, 200 * USEC_PER_MSEC, NULL, NULL, &e);
                check(r == 0, "no NOTIFY for an unchanged status");

                st.phase = PHASE_FAILED;
                r = store_status_write(a, uuid, epoch, &st, NULL, &e);
                check_r(r, 0, &e, "status write FAILED without JSON");
                r = store_events_list(a, uuid, 0, 10, &ev, &e);
                check(r == 0 && streq(strna(jstr(array_last(ev), "type")), "Warning"),
                      "FAILED makes a Warning event");
                cJSON_Delete(ev);
                drain(l);

                r = store_status_write(a, "00000000-0000-0000-0000-000000000000", epoch, &st, NULL,
                                       &e);
                check_r(r, -ENOENT, &e, "status write to a missing resource");

                la = store_free(la);
                for (int i = 0; i < 100; i++) {
                        r = store_lease_acquire(lb, "B", &epoch2, &e);
                        if (r != 0)
                                break;
                        msleep(20);
                }
                check(r == 1 && epoch2 == epoch + 1, "after A closes, B leads with epoch %" PRId64,
                      epoch2);
                st.phase = PHASE_RUNNING;
                r = store_status_write(a, uuid, epoch, &st, sj, &e);
                check_r(r, -ESTALE, &e, "write with the old epoch is fenced");
                r = store_status_write(a, uuid, epoch2, &st, sj, &e);
                check_r(r, 0, &e, "write with the new epoch");
                cJSON_Delete(sj);
        }
        {
                int64_t counts[_PHASE_MAX];

                r = store_phase_counts(a, counts, &e);
                check(r == 0 && counts[PHASE_RUNNING] == 1 && counts[PHASE_PENDING] == 3,
                      "phase counts");
        }

        /* --- history */
        {
                cJSON *ev = NULL, *ops = NULL, *au = NULL;
                int64_t op = 0, last_id;
                _cleanup_free_ char *big = b_malloc(100 * 1024 + 1);

                check_r(store_event_add(a, uuid, "Normal", "Test", "hello", &e), 0, &e,
                        "event add");
                check_r(store_event_add(a, NULL, "Warning", "Global", "not about a resource", &e),
                        0, &e, "event add without resource");
                r = store_event_add(a, "00000000-0000-0000-0000-000000000000", "Normal", "X", "y",
                                    &e);
                check_r(r, -ENOENT, &e, "event for a missing resource");
                r = store_events_list(a, NULL, 0, 100, &ev, &e);
                check(r == 0 && streq(strna(jstr(array_last(ev), "reason")), "Global") &&
                              cJSON_IsNull(cJSON_GetObjectItem(array_last(ev), "resource")),
                      "all events, newest last; global event has resource null");
                last_id = (int64_t) cJSON_GetNumberValue(
                        cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 0), "id"));
                cJSON_Delete(ev);
                r = store_events_list(a, NULL, last_id, 100, &ev, &e);
                check(r == 0 && cJSON_GetArraySize(ev) >= 1 &&
                              (int64_t) cJSON_GetNumberValue(cJSON_GetObjectItem(
                                      cJSON_GetArrayItem(ev, 0), "id")) > last_id,
                      "events after an id");
                cJSON_Delete(ev);
                r = store_events_list(a, uuid, 0, 100, &ev, &e);
                check(r == 0 && streq(strna(jstr(cJSON_GetObjectItem(array_last(ev), "resource"),
                                                 "name")),
                                      "web"),
                      "resource events name their resource");
                cJSON_Delete(ev);

                r = store_operation_start(a, uuid, "deploy", "alice", &op, &e);
                check(r == 0 && op > 0, "operation start");
                memset(big, 'x', 100 * 1024);
                big[100 * 1024] = 0;
                big[100 * 1024 - 1] = 'E';
                check_r(store_operation_finish(a, op, true, big, &e), 0, &e, "operation finish");
                check_r(store_operation_finish(a, 999999, false, "x", &e), -ENOENT, &e,
                        "finish of a missing operation");
                r = store_operations_list(a, uuid, 10, &ops, &e);
                check(r == 0 && cJSON_GetArraySize(ops) == 1 &&
                              streq(strna(jstr(array_last(ops), "state")), "DONE") &&
                              jstr(array_last(ops), "finished_at") != NULL,
                      "operations list");
                check(r == 0 && jstr(array_last(ops), "log") &&
                              strlen(jstr(array_last(ops), "log")) == 64 * 1024 &&
                              jstr(array_last(ops), "log")[64 * 1024 - 1] == 'E',
                      "operation log capped to its tail");
                cJSON_Delete(ops);
                r = store_operation_start(a, "00000000-0000-0000-0000-000000000000", "deploy",
                                          "alice", &op, &e);
                check_r(r, -ENOENT, &e, "operation for a missing resource");

                check_r(store_audit_add(a, "alice", "restart", uuid, "{\"why\":\"test\"}", &e), 0,
                        &e, "audit add");
                r = store_audit_list(a, uuid, 0, 100, &au, &e);
                check(r == 0 && cJSON_GetArraySize(au) == 6 &&
                              streq(strna(jstr(array_last(au), "action")), "restart"),
                      "audit list (5 applies + 1)");
                cJSON_Delete(au);
        }

        /* --- delete */
        check_r(store_resource_request_delete(a, KIND_DOCKER_SERVICE, "shop", "web", "carol", &e),
                0, &e, "request delete");
        check(wait_for(l, STORE_CHANNEL_SPEC, uuid), "delete request NOTIFY");
        {
                StoredResource sr = {};

                r = store_resource_get_by_uuid(a, uuid, &sr, &e);
                check(r == 0 && sr.ref.deleting && sr.phase == PHASE_DELETING,
                      "resource is deleting");
                stored_resource_release(&sr);
        }
        r = store_resource_apply(a, &d1, "alice", &out, NULL, NULL, &e);
        check_r(r, -EBUSY, &e, "apply to a deleting resource");
        check(streq(e.msg, "resource is being deleted"), "message: %s", e.msg);
        r = store_resource_compare(a, &d1, &out, &e);
        check_r(r, -EBUSY, &e, "compare of a deleting resource");
        check_r(store_resource_request_delete(a, KIND_DOCKER_SERVICE, "shop", "nope", "carol", &e),
                -ENOENT, &e, "request delete of a missing resource");

        r = store_resource_remove(a, uuid, epoch, &e);
        check_r(r, -ESTALE, &e, "remove with a stale epoch");
        r = store_resource_remove(a, uuid, epoch2, &e);
        check_r(r, 0, &e, "remove");
        {
                StoredResource sr = {};

                r = store_resource_get_by_uuid(a, uuid, &sr, &e);
                check_r(r, -ENOENT, &e, "removed resource is gone");
        }
        check_r(store_resource_remove(a, uuid, epoch2, &e), -ENOENT, &e, "remove twice");
        check(raw_count(raw, "SELECT count(*) FROM events WHERE resource_uuid = $1", uuid) == 0 &&
                      raw_count(raw, "SELECT count(*) FROM operations WHERE resource_uuid = $1",
                                uuid) == 0,
              "events and operations removed with the resource");
        check(raw_count(raw, "SELECT count(*) FROM audit WHERE resource_uuid = $1", uuid) == 8,
              "audit rows kept (apply x5, restart, delete, remove)");
        drain(l);

        /* --- reconnect */
        check(raw_kill(raw, "berth-test-a"), "terminate the worker session");
        check_r(store_ping(a, &e), 0, &e, "ping reconnects");
        check(raw_kill(raw, "berth-test-listen"), "terminate the listener session");
        r = store_notify_wait(l, 5 * USEC_PER_SEC, NULL, NULL, &e);
        check_r(r, -ECONNRESET, &e, "notify_wait reports the lost LISTEN");
        check_r(store_listen(l, STORE_CHANNEL_SPEC, &e), 0, &e, "LISTEN again");
        cJSON_ReplaceItemInObject(d2.spec, "replicas", cJSON_CreateNumber(3));
        r = store_resource_apply(a, &d2, "alice", &out, NULL, NULL, &e);
        check(r == 0 && out == APPLY_CONFIGURED, "apply after reconnect");
        check(wait_for(l, STORE_CHANNEL_SPEC, uuid2), "notification after re-LISTEN");

        doc_done(&d1);
        doc_done(&d2);
        doc_done(&d3);
        doc_done(&d4);
        store_free(a);
        store_free(l);
        store_free(lb);
        PQfinish(raw); /* test_restart() stops the server under it */
        h.raw = NULL;

        test_restart(h.dir, h.conninfo, &h.pg);
        return store_harness_finish(&h);
}
