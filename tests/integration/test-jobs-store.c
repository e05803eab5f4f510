/* SPDX-License-Identifier: MIT */
/* Runs of kind job (store/jobs.c) against a real PostgreSQL: the embedded server in a temporary
 * directory, removed afterwards. Every transition must be idempotent (a controller killed between
 * two repeats the last) and the run action must coalesce. TAP output; exit status 1 on failure. */
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "util/common.h"

#include "store/jobs.h"
#include "store/store.h"
#include "store-harness.h"

static void doc_make(Document *d, const char *name) {
        *d = (Document){.kind = KIND_JOB};
        snprintf(d->project, sizeof(d->project), "shop");
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->spec = cJSON_CreateObject();
        cJSON_AddStringToObject(d->spec, "image", "berth/busybox");
        cJSON_AddStringToObject(d->spec, "timeout", "1h");
        d->labels = cJSON_CreateObject();
}

static const JobRun *run_of(const JobRun *runs, size_t n, int64_t seq) {
        for (size_t i = 0; i < n; i++)
                if (runs[i].seq == seq)
                        return &runs[i];
        return NULL;
}

static void test_runs(Store *a, PGconn *raw, const char *uuid) {
        _cleanup_free_ JobRun *runs = NULL;
        _cleanup_free_ char *logs = NULL;
        const JobRun *run;
        usec_t t0 = 1795000000 * USEC_PER_SEC;
        Error e = ERROR_INIT;
        int64_t seq = 0, seq2 = 0, gen = 0;
        size_t n = 0;
        bool added = false;
        JobRun got;
        cJSON *list = NULL;

        check_r(store_job_run_ensure(a, uuid, 1, &seq, &e), 0, &e, "ensure: generation 1's run");
        check(seq == 1, "it is run 1 (%" PRId64 ")", seq);
        check_r(store_job_run_ensure(a, uuid, 1, &seq2, &e), 0, &e, "ensure again");
        check(seq2 == 1 && raw_count(raw, "SELECT count(*) FROM job_runs WHERE resource_uuid = $1",
                                     uuid) == 1,
              "... adds nothing");
        check_r(store_job_run_ensure(a, uuid, 7, &seq2, &e), -ESTALE, &e,
                "ensure of a generation that is not current: -ESTALE");

        check_r(store_job_runs_get(a, uuid, &runs, &n, &e), 0, &e, "get runs");
        check(n == 1 && runs[0].state == JOB_RUN_PENDING && runs[0].generation == 1 &&
                      streq(runs[0].trigger, "apply") && runs[0].created_at > 0,
              "run 1 PENDING for generation 1 (apply)");
        runs = mfree(runs);

        /* run action while run 1 is pending: coalesced. */
        check_r(store_job_run_request(a, uuid, "alice", &seq, &gen, &added, &e), 0, &e,
                "run action with a run queued");
        check(!added && seq == 1 && gen == 1, "... coalesces with run 1, generation unchanged");

        check_r(store_job_run_start(a, uuid, 1, t0, 600 * USEC_PER_SEC, &e), 0, &e, "start run 1");
        check_r(store_job_run_start(a, uuid, 1, t0 + USEC_PER_SEC, 600 * USEC_PER_SEC, &e), 0, &e,
                "start again: idempotent");
        check_r(store_job_runs_get(a, uuid, &runs, &n, &e), 0, &e, "get runs");
        run = run_of(runs, n, 1);
        check(run && run->state == JOB_RUN_RUNNING && run->started_at == t0 &&
                      run->timeout == 600 * USEC_PER_SEC,
              "RUNNING since the first start, timeout kept (%" PRIu64 ")",
              run ? run->started_at : 0);
        runs = mfree(runs);
        check(raw_count(raw,
                        "SELECT count(*) FROM operations WHERE kind = 'run' AND state = "
                        "'IN_PROGRESS' AND resource_uuid = $1",
                        uuid) == 1,
              "one operation IN_PROGRESS");

        /* run action while run 1 runs: a new generation and run 2. */
        check_r(store_job_run_request(a, uuid, "alice", &seq, &gen, &added, &e), 0, &e,
                "run action while run 1 runs");
        check(added && seq == 2 && gen == 2, "... run 2, generation 2");
        check(raw_count(raw, "SELECT generation FROM resources WHERE uuid = $1", uuid) == 2,
              "the resource's generation moved");
        check(raw_count(raw,
                        "SELECT count(*) FROM audit WHERE action = 'run' AND actor = 'alice' AND "
                        "resource_uuid = $1",
                        uuid) == 2,
              "both run actions audited");
        check_r(store_job_run_request(a, uuid, "bob", &seq, &gen, &added, &e), 0, &e,
                "a second run action");
        check(!added && seq == 2, "... coalesces with run 2");

        /* A spec change (generation 3) while run 2 waits: run 2 takes it. */
        check(raw_count(raw,
                        "WITH u AS (UPDATE resources SET generation = 3 WHERE uuid = $1 "
                        "RETURNING 1) SELECT count(*) FROM u",
                        uuid) == 1,
              "generation 3 (an apply)");
        check_r(store_job_run_ensure(a, uuid, 3, &seq, &e), 0, &e, "ensure generation 3");
        check(seq == 2 && raw_count(raw,
                                    "SELECT generation FROM job_runs WHERE seq = 2 AND "
                                    "resource_uuid = $1",
                                    uuid) == 3,
              "the waiting run 2 runs generation 3");

        check_r(store_job_run_finish(a, uuid, 1, JOB_RUN_FAILED, 3, t0 + 5 * USEC_PER_SEC,
                                     "exited with code 3", "line one\nline two\n", &e),
                0, &e, "finish run 1 FAILED");
        check_r(store_job_run_finish(a, uuid, 1, JOB_RUN_SUCCEEDED, 0, t0 + 9 * USEC_PER_SEC,
                                     "late", "other", &e),
                0, &e, "finish again: no-op");
        check_r(store_job_run_get(a, uuid, 1, &got, &logs, &e), 0, &e, "get run 1");
        check(got.state == JOB_RUN_FAILED && got.exit_code == 3 &&
                      got.finished_at == t0 + 5 * USEC_PER_SEC &&
                      streq(got.message, "exited with code 3") &&
                      streq(logs, "line one\nline two\n"),
              "the first outcome stands, with its logs");
        logs = mfree(logs);
        check(raw_count(raw,
                        "SELECT count(*) FROM operations WHERE kind = 'run' AND state = 'FAILED' "
                        "AND log LIKE 'line one%run 1 FAILED: exited with code 3%' AND "
                        "resource_uuid = $1",
                        uuid) == 1,
              "its operation FAILED, with the logs and how it ended");
        check_r(store_job_run_start(a, uuid, 1, t0, USEC_PER_SEC, &e), -EALREADY, &e,
                "start of an ended run: -EALREADY");

        /* Run 2 never starts (no such image): finished all the same, with an operation. */
        check_r(store_job_run_finish(a, uuid, 2, JOB_RUN_FAILED, -1, t0 + 6 * USEC_PER_SEC,
                                     "could not start", "", &e),
                0, &e, "finish a run that never started");
        check(raw_count(raw, "SELECT count(*) FROM operations WHERE resource_uuid = $1", uuid) == 2,
              "it has an operation too");
        check_r(store_job_run_get(a, uuid, 0, &got, NULL, &e), 0, &e, "get the newest run");
        check(got.seq == 2 && got.exit_code == -1 && got.started_at == 0,
              "run 2, no exit code, never started");

        check_r(store_job_runs_list(a, uuid, 10, &list, &e), 0, &e, "list");
        check(cJSON_GetArraySize(list) == 2 &&
                      cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "id")->valueint == 2 &&
                      cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "exit_code")) &&
                      cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "log_bytes")->valueint == 18,
              "newest first, exit_code null when none, log_bytes");
        cJSON_Delete(list);
        check_r(store_job_run_get(a, uuid, 9, &got, NULL, &e), -ENOENT, &e,
                "a run that does not exist: -ENOENT");
}

/* Logs over the cap keep their tail; old runs are pruned. */
static void test_caps(Store *a, PGconn *raw, const char *uuid) {
        _cleanup_(buf_release) Buf big = BUF_INIT(JOB_LOG_MAX + 4096);
        _cleanup_free_ char *logs = NULL;
        usec_t t0 = 1795000000 * USEC_PER_SEC;
        Error e = ERROR_INIT;
        int64_t seq = 0, gen = 0;
        bool added;
        JobRun got;
        int r = 0;

        for (int i = 0; r >= 0 && i < JOB_LOG_MAX / 8 + 100; i++)
                r = buf_printf(&big, "%07d\n", i);
        check(r >= 0 && big.len > JOB_LOG_MAX, "%zu bytes of logs", big.len);
        for (int i = 0; i < JOB_RUNS_KEEP + 3; i++) {
                r = store_job_run_request(a, uuid, "ci", &seq, &gen, &added, &e);
                if (r >= 0)
                        r = store_job_run_start(a, uuid, seq, t0, USEC_PER_SEC, &e);
                if (r >= 0)
                        r = store_job_run_finish(a, uuid, seq, JOB_RUN_SUCCEEDED, 0, t0,
                                                 "exited with code 0", buf_str(&big), &e);
                if (r < 0)
                        break;
        }
        check_r(r, 0, &e, "many runs");
        check(raw_count(raw, "SELECT count(*) FROM job_runs WHERE resource_uuid = $1", uuid) ==
                      JOB_RUNS_KEEP,
              "the newest %d are kept", JOB_RUNS_KEEP);
        check_r(store_job_run_get(a, uuid, 0, &got, &logs, &e), 0, &e, "the newest run's logs");
        check(got.seq == seq && strlen(logs) <= JOB_LOG_MAX && strlen(logs) > JOB_LOG_MAX - 16 &&
                      strstr(logs, "\n0131171\n"),
              "at most %d bytes, the tail (%zu)", JOB_LOG_MAX, strlen(logs));
}

int main(void) {
        Store *a = NULL, *lease = NULL;
        int64_t epoch = 0;
        StoreHarness h;
        PGconn *raw;
        Error e = ERROR_INIT;
        char uuid[37] = "", uuid2[37] = "";
        ApplyOutcome out;
        Document d1, d2;

        if (!store_harness_start(&h, "berth-jobs"))
                return 1;
        raw = h.raw;
        check_r(store_open(h.conninfo, &a, &e), 0, &e, "store_open");
        check_r(store_open(h.conninfo, &lease, &e), 0, &e, "store_open (lease)");
        if (a && lease) {
                check_r(store_migrate(a, &e), 0, &e, "migrate (with 0009_job_runs)");
                doc_make(&d1, "migrate");
                doc_make(&d2, "many");
                check_r(store_resource_apply(a, &d1, "alice", &out, uuid, NULL, &e), 0, &e,
                        "a job");
                check_r(store_resource_apply(a, &d2, "alice", &out, uuid2, NULL, &e), 0, &e,
                        "another");
                test_runs(a, raw, uuid);
                test_caps(a, raw, uuid2);
                check(store_lease_acquire(lease, "test", &epoch, &e) == 1, "lead");
                check_r(store_resource_remove(a, uuid, epoch, &e), 0, &e, "remove the job");
                check(raw_count(raw, "SELECT count(*) FROM job_runs WHERE resource_uuid = $1",
                                uuid) == 0,
                      "its runs go with it");
                document_release(&d1);
                document_release(&d2);
        }
        a = store_free(a);
        lease = store_free(lease);
        return store_harness_finish(&h);
}
