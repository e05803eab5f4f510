/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "model/json-util.h"
#include "model/units.h"
#include "store/jobs.h"
#include "store/store-internal.h"
#include "store/store.h"

/* Runs of kind job (schema/0009_job_runs.sql). Times travel as realtime microseconds. */

/* The columns row_to_run() reads, in its order. */
#define RUN_COLUMNS                                                                                \
        "seq, generation, state, coalesce(exit_code, -1), coalesce(timeout_ms, 0), "               \
        "(extract(epoch FROM created_at) * 1000000)::bigint, "                                     \
        "coalesce((extract(epoch FROM started_at) * 1000000)::bigint, 0), "                        \
        "coalesce((extract(epoch FROM finished_at) * 1000000)::bigint, 0), trigger, message, "     \
        "actor, length(logs), coalesce(operation, 0) "

static int check_uuid(const char *uuid, Error *reterr) {
        if (!store_uuid_is_valid(uuid))
                return err_set(reterr, -EINVAL, NULL, "invalid resource uuid \"%.40s\"",
                               strempty(uuid));
        return 0;
}

static int row_to_run(const PGresult *res, int i, JobRun *ret) {
        int64_t v[8];
        JobRunState state;

        for (int c = 0; c < 8; c++)
                if (c != 2 && store_get_i64(res, i, c, &v[c]) < 0)
                        return -EBADMSG;
        state = job_run_state_from_string(store_get(res, i, 2));
        if (state < 0)
                return -EBADMSG;
        *ret = (JobRun){
                .seq = v[0],
                .generation = v[1],
                .state = state,
                .exit_code = (int) v[3],
                .timeout = v[4] > 0 ? (usec_t) v[4] * USEC_PER_MSEC : 0,
                .created_at = v[5] > 0 ? (usec_t) v[5] : 0,
                .started_at = v[6] > 0 ? (usec_t) v[6] : 0,
                .finished_at = v[7] > 0 ? (usec_t) v[7] : 0,
        };
        snprintf(ret->trigger, sizeof(ret->trigger), "%s", strempty(store_get(res, i, 8)));
        snprintf(ret->message, sizeof(ret->message), "%s", strempty(store_get(res, i, 9)));
        return 0;
}

int store_job_runs_get(Store *s, const char *uuid, JobRun **ret, size_t *ret_n, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_free_ JobRun *runs = NULL;
        int n, r;

        assert_return(s && ret && ret_n, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        r = store_query(s,
                        "SELECT " RUN_COLUMNS "FROM job_runs WHERE resource_uuid = $1::uuid AND "
                        "(state IN ('PENDING', 'RUNNING') OR seq > (SELECT coalesce(max(seq), 0) - "
                        "3 FROM job_runs WHERE resource_uuid = $1::uuid)) ORDER BY seq",
                        1, (const char *const[]){uuid}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        n = PQntuples(res);
        if (n > 0) {
                runs = b_calloc((size_t) n, sizeof(JobRun));
                if (!runs)
                        return -ENOMEM;
        }
        for (int i = 0; i < n; i++)
                if (row_to_run(res, i, &runs[i]) < 0)
                        return err_set(reterr, -EBADMSG, NULL, "state store: malformed job run");
        *ret = TAKE_PTR(runs);
        *ret_n = (size_t) n;
        return 0;
}

static int event(Store *s, const char *uuid, const char *type, const char *reason, Error *reterr,
                 const char *fmt, ...) _printf_(6, 7);
static int event(Store *s, const char *uuid, const char *type, const char *reason, Error *reterr,
                 const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return store_event_add(s, uuid, type, reason, msg, reterr);
}

/* Locks the resource's row (orders the run transitions of one job); its generation and whether
 * it is being deleted. */
static int lock_resource(Store *s, const char *uuid, int64_t *ret_generation, bool *ret_deleting,
                         Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(s,
                        "SELECT generation, deleting FROM resources WHERE uuid = $1::uuid AND "
                        "kind = 'job' FOR UPDATE",
                        1, (const char *const[]){uuid}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL, "job %s not found",
                                uuid);
        if (store_get_i64(res, 0, 0, ret_generation) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad generation");
        *ret_deleting = store_get_bool(res, 0, 1);
        return 0;
}

/* Inserts a PENDING run for generation, numbered after the job's last one. */
static int insert_run(Store *s, const char *uuid, int64_t generation, const char *trigger,
                      const char *actor, int64_t *ret_seq, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char gen[32];
        int r;

        snprintf(gen, sizeof(gen), "%" PRId64, generation);
        r = store_query(s,
                        "INSERT INTO job_runs (resource_uuid, seq, generation, trigger, actor) "
                        "SELECT $1::uuid, coalesce(max(seq), 0) + 1, $2::bigint, $3, $4 "
                        "FROM job_runs WHERE resource_uuid = $1::uuid RETURNING seq",
                        4, (const char *const[]){uuid, gen, trigger, strempty(actor)}, 0, &res,
                        reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1 || store_get_i64(res, 0, 0, ret_seq) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad run number");
        return 0;
}

int store_job_run_ensure(Store *s, const char *uuid, int64_t generation, int64_t *ret_seq,
                         Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        int64_t current, seq = 0;
        bool deleting;
        char gen[32];
        int r;

        assert_return(s, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        r = store_tx_begin(s, &tx, reterr);
        if (r >= 0)
                r = lock_resource(s, uuid, &current, &deleting, reterr);
        if (r < 0)
                return r;
        /* A pass that read an older generation: the pass that reads the new one acts. */
        if (deleting || current != generation)
                return err_set(reterr, -ESTALE, NULL, "generation %" PRId64 " is not current",
                               generation);

        snprintf(gen, sizeof(gen), "%" PRId64, generation);
        r = store_query(s,
                        "SELECT seq FROM job_runs WHERE resource_uuid = $1::uuid AND "
                        "generation = $2::bigint",
                        2, (const char *const[]){uuid, gen}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0) {
                res = store_result_free(res);
                /* A run queued for an older generation has not started: it runs this spec. */
                r = store_query(s,
                                "UPDATE job_runs SET generation = $2::bigint WHERE seq = ("
                                "SELECT max(seq) FROM job_runs WHERE resource_uuid = $1::uuid "
                                "AND state = 'PENDING' AND generation < $2::bigint) AND "
                                "resource_uuid = $1::uuid RETURNING seq",
                                2, (const char *const[]){uuid, gen}, 0, &res, reterr);
                if (r < 0)
                        return r;
        }
        if (PQntuples(res) > 0) {
                if (store_get_i64(res, 0, 0, &seq) < 0)
                        return err_set(reterr, -EBADMSG, NULL, "state store: bad run number");
        } else {
                r = insert_run(s, uuid, generation, "apply", "", &seq, reterr);
                if (r >= 0)
                        r = event(s, uuid, "Normal", "RunQueued", reterr,
                                  "run %" PRId64 " queued for generation %" PRId64, seq,
                                  generation);
                if (r < 0)
                        return r;
        }
        r = store_tx_commit(&tx, reterr);
        if (r < 0)
                return r;
        if (ret_seq)
                *ret_seq = seq;
        return 0;
}

int store_job_run_request(Store *s, const char *uuid, const char *actor, int64_t *ret_seq,
                          int64_t *ret_generation, bool *ret_new, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        int64_t generation, seq = 0;
        bool deleting, added = false;
        char detail[128];
        int r;

        assert_return(s, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        if (isempty(actor))
                actor = "unknown";
        r = store_tx_begin(s, &tx, reterr);
        if (r >= 0)
                r = lock_resource(s, uuid, &generation, &deleting, reterr);
        if (r < 0)
                return r;
        if (deleting)
                return err_setr(reterr, -EBUSY, "RESOURCE_DELETING", NULL,
                                "the job is being deleted");

        r = store_query(s,
                        "SELECT seq, generation FROM job_runs WHERE resource_uuid = $1::uuid AND "
                        "state = 'PENDING' ORDER BY seq DESC LIMIT 1",
                        1, (const char *const[]){uuid}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 1) {
                /* Queued already: that run is the one asked for. */
                if (store_get_i64(res, 0, 0, &seq) < 0 || store_get_i64(res, 0, 1, &generation) < 0)
                        return err_set(reterr, -EBADMSG, NULL, "state store: bad run row");
        } else {
                res = store_result_free(res);
                r = store_query(s,
                                "UPDATE resources SET generation = generation + 1, updated_at = "
                                "now() WHERE uuid = $1::uuid RETURNING generation",
                                1, (const char *const[]){uuid}, 0, &res, reterr);
                if (r < 0)
                        return r;
                if (PQntuples(res) != 1 || store_get_i64(res, 0, 0, &generation) < 0)
                        return err_set(reterr, -EBADMSG, NULL, "state store: bad generation");
                r = insert_run(s, uuid, generation, "run", actor, &seq, reterr);
                if (r >= 0)
                        r = event(s, uuid, "Normal", "RunQueued", reterr,
                                  "run %" PRId64 " queued by %s (generation %" PRId64 ")", seq,
                                  actor, generation);
                if (r < 0)
                        return r;
                added = true;
        }
        snprintf(detail, sizeof(detail),
                 "{\"run\":%" PRId64 ",\"generation\":%" PRId64 ",\"queued\":%s}", seq, generation,
                 added ? "true" : "false");
        r = store_audit_add(s, actor, "run", uuid, detail, reterr);
        if (r >= 0 && added)
                r = store_query(s, "SELECT pg_notify($1, $2)", 2,
                                (const char *const[]){STORE_CHANNEL_SPEC, uuid}, 0, NULL, reterr);
        if (r >= 0)
                r = store_tx_commit(&tx, reterr);
        if (r < 0)
                return r;
        log_debug("job %s: run %" PRId64 " %s by %s", uuid, seq,
                  added ? "queued" : "already queued", actor);
        if (ret_seq)
                *ret_seq = seq;
        if (ret_generation)
                *ret_generation = generation;
        if (ret_new)
                *ret_new = added;
        return 0;
}

/* Locks run seq: its state, operation (0: none), actor and start time (usec, 0: none). */
static int lock_run(Store *s, const char *uuid, const char *seqs, JobRunState *ret_state,
                    int64_t *ret_op, char ret_actor[128], int64_t *ret_started, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(s,
                        "SELECT state, coalesce(operation, 0), actor, coalesce((extract(epoch "
                        "FROM started_at) * 1000000)::bigint, 0) FROM job_runs WHERE "
                        "resource_uuid = $1::uuid AND seq = $2::bigint FOR UPDATE",
                        2, (const char *const[]){uuid, seqs}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return err_setr(reterr, -ENOENT, "RUN_NOT_FOUND", NULL, "run %s not found", seqs);
        *ret_state = job_run_state_from_string(store_get(res, 0, 0));
        if (*ret_state < 0 || store_get_i64(res, 0, 1, ret_op) < 0 ||
            store_get_i64(res, 0, 3, ret_started) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed job run");
        snprintf(ret_actor, 128, "%s", strempty(store_get(res, 0, 2)));
        return 0;
}

/* The operations row that lists a run, started at `started` (usec). */
static int operation_insert(Store *s, const char *uuid, const char *actor, const char *started,
                            int64_t *ret_id, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(s,
                        "INSERT INTO operations (resource_uuid, kind, actor, started_at) "
                        "VALUES ($1::uuid, 'run', $2, (timestamptz 'epoch' + $3::bigint * interval "
                        "'1 microsecond')) RETURNING id",
                        3,
                        (const char *const[]){uuid, isempty(actor) ? "controller" : actor, started},
                        0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1 || store_get_i64(res, 0, 0, ret_id) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad operation id");
        return 0;
}

int store_job_run_start(Store *s, const char *uuid, int64_t seq, usec_t started_at, usec_t timeout,
                        Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        char seqs[32], started[32], ops[32], tmo[32], actor[128];
        int64_t op, was_started;
        JobRunState state;
        int r;

        assert_return(s, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
        snprintf(started, sizeof(started), "%" PRIu64, started_at);
        snprintf(tmo, sizeof(tmo), "%" PRIu64, timeout / USEC_PER_MSEC);
        r = store_tx_begin(s, &tx, reterr);
        if (r >= 0)
                r = lock_run(s, uuid, seqs, &state, &op, actor, &was_started, reterr);
        if (r < 0)
                return r;
        if (state == JOB_RUN_RUNNING)
                return 0;
        if (state != JOB_RUN_PENDING)
                return err_set(reterr, -EALREADY, NULL, "run %s has ended (%s)", seqs,
                               job_run_state_to_string(state));
        r = operation_insert(s, uuid, actor, started, &op, reterr);
        if (r < 0)
                return r;
        snprintf(ops, sizeof(ops), "%" PRId64, op);
        r = store_query(s,
                        "UPDATE job_runs SET state = 'RUNNING', started_at = (timestamptz 'epoch' "
                        "+ $3::bigint * interval '1 microsecond'), timeout_ms = $4::bigint, "
                        "operation = $5::bigint "
                        "WHERE resource_uuid = $1::uuid AND seq = $2::bigint",
                        5, (const char *const[]){uuid, seqs, started, tmo, ops}, 0, NULL, reterr);
        if (r >= 0)
                r = event(s, uuid, "Normal", "RunStarted", reterr, "run %s started", seqs);
        if (r >= 0)
                r = store_tx_commit(&tx, reterr);
        return r;
}

static const char *run_reason(JobRunState state) {
        switch (state) {
        case JOB_RUN_SUCCEEDED:
                return "RunSucceeded";
        case JOB_RUN_TIMEOUT:
                return "RunTimedOut";
        default:
                return "RunFailed";
        }
}

int store_job_run_finish(Store *s, const char *uuid, int64_t seq, JobRunState state, int exit_code,
                         usec_t finished_at, const char *message, const char *logs, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_(buf_release) Buf summary = BUF_INIT(1024);
        char seqs[32], fin[32], code[16], ops[32], keep[32], actor[128], msg_max[16], log_max[16];
        size_t log_len = strlen(strempty(logs));
        JobRunState was;
        int64_t op, started;
        int r;

        assert_return(s, -EINVAL);
        assert_return(job_run_state_is_final(state), -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        /* The tail, cut at a character boundary: the end says how it ended. */
        if (log_len > JOB_LOG_MAX) {
                logs += log_len - JOB_LOG_MAX;
                while (((unsigned char) *logs & 0xc0) == 0x80)
                        logs++;
        }
        snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
        snprintf(fin, sizeof(fin), "%" PRIu64, finished_at);
        snprintf(code, sizeof(code), "%d", exit_code);
        snprintf(keep, sizeof(keep), "%d", JOB_RUNS_KEEP);
        r = buf_printf(&summary, "---\nrun %s %s: %s\n", seqs, job_run_state_to_string(state),
                       strempty(message));
        if (r < 0)
                return r;

        r = store_tx_begin(s, &tx, reterr);
        if (r >= 0)
                r = lock_run(s, uuid, seqs, &was, &op, actor, &started, reterr);
        if (r < 0)
                return r;
        if (job_run_state_is_final(was))
                return 0; /* a repeat after a crash: the first outcome stands */
        if (op == 0) {
                /* It never started (its container could not be made): listed all the same. */
                char when[32];

                snprintf(when, sizeof(when), "%" PRIu64,
                         started > 0 ? (usec_t) started : finished_at);
                r = operation_insert(s, uuid, actor, when, &op, reterr);
                if (r < 0)
                        return r;
        }
        snprintf(ops, sizeof(ops), "%" PRId64, op);
        snprintf(msg_max, sizeof(msg_max), "%d", STORE_MAX_MESSAGE);
        snprintf(log_max, sizeof(log_max), "%d", STORE_MAX_LOG);
        r = store_query(s,
                        "UPDATE job_runs SET state = $3, exit_code = nullif($4::integer, -1), "
                        "finished_at = (timestamptz 'epoch' + $5::bigint * interval "
                        "'1 microsecond'), message = left($6, $9::integer), logs = $7, "
                        "operation = $8::bigint WHERE resource_uuid = $1::uuid AND "
                        "seq = $2::bigint",
                        9,
                        (const char *const[]){uuid, seqs, job_run_state_to_string(state), code, fin,
                                              strempty(message), strempty(logs), ops, msg_max},
                        0, NULL, reterr);
        /* The operation's log is shorter: its tail, ending with how the run ended. */
        if (r >= 0)
                r = store_query(
                        s,
                        "UPDATE operations SET state = $2, finished_at = (timestamptz "
                        "'epoch' + $3::bigint * interval '1 microsecond'), "
                        "log = right($4 || $5, $6::integer) WHERE id = $1::bigint",
                        6,
                        (const char *const[]){ops, state == JOB_RUN_SUCCEEDED ? "DONE" : "FAILED",
                                              fin, strempty(logs), buf_str(&summary), log_max},
                        0, NULL, reterr);
        if (r >= 0)
                r = event(s, uuid, state == JOB_RUN_SUCCEEDED ? "Normal" : "Warning",
                          run_reason(state), reterr, "run %s %s: %s", seqs,
                          job_run_state_to_string(state), strempty(message));
        /* The newest runs stay; older finished ones go (their operations stay, with the tail). */
        if (r >= 0)
                r = store_query(s,
                                "DELETE FROM job_runs WHERE resource_uuid = $1::uuid AND state "
                                "NOT IN ('PENDING', 'RUNNING') AND seq <= (SELECT max(seq) FROM "
                                "job_runs WHERE resource_uuid = $1::uuid) - $2::integer",
                                2, (const char *const[]){uuid, keep}, 0, NULL, reterr);
        if (r >= 0)
                r = store_tx_commit(&tx, reterr);
        return r;
}

static int add_time(cJSON *o, const char *key, usec_t t) {
        char buf[40];

        return json_add_item_take(o, key,
                                  t > 0 ? cJSON_CreateString(format_rfc3339(t, buf, sizeof(buf)))
                                        : cJSON_CreateNull());
}

static cJSON *run_to_json(const PGresult *res, int i) {
        _cleanup_(store_cjson_deletep) cJSON *o = cJSON_CreateObject();
        int64_t log_bytes = 0, op = 0;
        char tb[64];
        JobRun run;
        int r;

        if (!o || row_to_run(res, i, &run) < 0 || store_get_i64(res, i, 11, &log_bytes) < 0 ||
            store_get_i64(res, i, 12, &op) < 0)
                return NULL;
        r = json_add_item_take(o, "id", cJSON_CreateNumber((double) run.seq));
        if (r >= 0)
                r = json_add_item_take(o, "state",
                                       cJSON_CreateString(job_run_state_to_string(run.state)));
        if (r >= 0)
                r = json_add_item_take(o, "exit_code",
                                       run.exit_code >= 0 ? cJSON_CreateNumber(run.exit_code)
                                                          : cJSON_CreateNull());
        if (r >= 0)
                r = json_add_item_take(o, "generation",
                                       cJSON_CreateNumber((double) run.generation));
        if (r >= 0)
                r = json_add_item_take(o, "trigger", cJSON_CreateString(run.trigger));
        if (r >= 0)
                r = json_add_item_take(o, "actor",
                                       cJSON_CreateString(strempty(store_get(res, i, 10))));
        if (r >= 0)
                r = add_time(o, "created_at", run.created_at);
        if (r >= 0)
                r = add_time(o, "started_at", run.started_at);
        if (r >= 0)
                r = add_time(o, "finished_at", run.finished_at);
        if (r >= 0)
                r = json_add_item_take(o, "timeout",
                                       run.timeout > 0 ? cJSON_CreateString(duration_format(
                                                                 run.timeout, tb, sizeof(tb)))
                                                       : cJSON_CreateNull());
        if (r >= 0)
                r = json_add_item_take(o, "message", cJSON_CreateString(run.message));
        if (r >= 0)
                r = json_add_item_take(o, "log_bytes", cJSON_CreateNumber((double) log_bytes));
        if (r >= 0)
                r = json_add_item_take(o, "operation",
                                       op > 0 ? cJSON_CreateNumber((double) op)
                                              : cJSON_CreateNull());
        return r < 0 ? NULL : TAKE_PTR(o);
}

int store_job_runs_list(Store *s, const char *uuid, int limit, cJSON **ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_(store_cjson_deletep) cJSON *items = NULL;
        char lim[16];
        int r;

        assert_return(s && ret, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        if (limit <= 0)
                limit = STORE_DEFAULT_LIST;
        snprintf(lim, sizeof(lim), "%d", MIN(limit, STORE_MAX_LIST));
        r = store_query(s,
                        "SELECT " RUN_COLUMNS "FROM job_runs WHERE resource_uuid = $1::uuid "
                        "ORDER BY seq DESC LIMIT $2::integer",
                        2, (const char *const[]){uuid, lim}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        items = cJSON_CreateArray();
        if (!items)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        for (int i = 0; i < PQntuples(res); i++) {
                cJSON *item = run_to_json(res, i);

                if (!item || json_add_item_take(items, NULL, item) < 0)
                        return err_set(reterr, -ENOMEM, NULL, "state store: bad job run row");
        }
        *ret = TAKE_PTR(items);
        return 0;
}

int store_job_run_get(Store *s, const char *uuid, int64_t seq, JobRun *ret, char **ret_logs,
                      Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char seqs[32];
        JobRun run;
        int r;

        assert_return(s && ret, -EINVAL);
        r = check_uuid(uuid, reterr);
        if (r < 0)
                return r;
        snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
        r = store_query(s,
                        "SELECT " RUN_COLUMNS ", logs FROM job_runs WHERE resource_uuid = "
                        "$1::uuid AND ($2::bigint = 0 AND state <> 'PENDING' OR seq = $2::bigint) "
                        "ORDER BY seq DESC LIMIT 1",
                        2, (const char *const[]){uuid, seqs}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return err_setr(reterr, -ENOENT, "RUN_NOT_FOUND", "run", "%s%s%s",
                                seq > 0 ? "run " : "the job has not run yet", seq > 0 ? seqs : "",
                                seq > 0 ? " not found" : "");
        if (row_to_run(res, 0, &run) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed job run");
        if (ret_logs) {
                *ret_logs = b_strdup(strempty(store_get(res, 0, 13)));
                if (!*ret_logs)
                        return -ENOMEM;
        }
        *ret = run;
        return 0;
}
