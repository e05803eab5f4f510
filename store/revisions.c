/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "model/document.h"
#include "model/revision.h"
#include "store/revisions.h"
#include "store/store-internal.h"
#include "store/store.h"

/* Columns of a revision row, in the order revision_from_row() reads them. */
#define REVISION_COLUMNS                                                                           \
        "revision, config_hash, generation, spec, secret_versions, image, actor, "                 \
        "coalesce(from_revision, 0), deploy_state, "                                               \
        "(extract(epoch FROM created_at) * 1000000)::bigint, "                                     \
        "(extract(epoch FROM progress_at) * 1000000)::bigint, ready, pre_deploy_done, "            \
        "post_deploy_done, deploy_message, coalesce(operation, 0)"

void stored_revision_release(StoredRevision *r) {
        if (!r)
                return;
        cJSON_Delete(r->spec);
        cJSON_Delete(r->secret_versions);
        b_free(r->image);
        b_free(r->actor);
        *r = (StoredRevision){};
}

static int lease_check(Store *s, int64_t epoch, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char ep[32];
        int r;

        snprintf(ep, sizeof(ep), "%" PRId64, epoch);
        r = store_query(s,
                        "SELECT 1 FROM leases WHERE name = '" STORE_LEASE_NAME
                        "' AND epoch = $1::bigint FOR SHARE",
                        1, (const char *const[]){ep}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_set(reterr, -ESTALE, NULL, "lease epoch %" PRId64 " is stale", epoch);
        return 0;
}

static int revision_from_row(const PGresult *res, int row, StoredRevision *ret, Error *reterr) {
        _cleanup_(stored_revision_release) StoredRevision r = {};
        int64_t t, n;
        int x;

        if (store_get_i64(res, row, 0, &r.deploy.revision) < 0 ||
            store_get_i64(res, row, 2, &r.generation) < 0 ||
            store_get_i64(res, row, 7, &r.deploy.from_revision) < 0 ||
            store_get_i64(res, row, 11, &n) < 0 || store_get_i64(res, row, 15, &r.operation) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed revision row");
        snprintf(r.config_hash, sizeof(r.config_hash), "%s", strempty(store_get(res, row, 1)));
        x = store_get_json(res, row, 3, &r.spec, reterr);
        if (x >= 0)
                x = store_get_json(res, row, 4, &r.secret_versions, reterr);
        if (x < 0)
                return x;
        r.image = b_strdup(strempty(store_get(res, row, 5)));
        r.actor = b_strdup(strempty(store_get(res, row, 6)));
        if (!r.image || !r.actor)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r.deploy.state = deploy_state_from_string(store_get(res, row, 8));
        if (r.deploy.state < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: unknown deploy state '%s'",
                               strna(store_get(res, row, 8)));
        if (store_get_i64(res, row, 9, &t) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed time");
        r.deploy.started_at = (usec_t) t;
        if (store_get_i64(res, row, 10, &t) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed time");
        r.deploy.progress_at = (usec_t) t;
        r.deploy.ready = (int) n;
        r.deploy.pre_deploy_done = store_get_bool(res, row, 12);
        r.deploy.post_deploy_done = store_get_bool(res, row, 13);
        snprintf(r.deploy.message, sizeof(r.deploy.message), "%s",
                 strempty(store_get(res, row, 14)));
        *ret = r;
        r = (StoredRevision){};
        return 0;
}

static int revision_query_one(Store *s, const char *sql, int n, const char *const *params,
                              StoredRevision *ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(s, sql, n, params, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        return revision_from_row(res, 0, ret, reterr);
}

int store_revision_latest(Store *s, const char *uuid, StoredRevision *ret, Error *reterr) {
        assert_return(s && uuid && ret, -EINVAL);
        return revision_query_one(s,
                                  "SELECT " REVISION_COLUMNS " FROM revisions "
                                  "WHERE resource_uuid = $1::uuid ORDER BY revision DESC LIMIT 1",
                                  1, (const char *const[]){uuid}, ret, reterr);
}

int store_revision_get(Store *s, const char *uuid, int64_t revision, StoredRevision *ret,
                       Error *reterr) {
        char rev[32];
        int r;

        assert_return(s && uuid && ret, -EINVAL);
        snprintf(rev, sizeof(rev), "%" PRId64, revision);
        r = revision_query_one(s,
                               "SELECT " REVISION_COLUMNS " FROM revisions "
                               "WHERE resource_uuid = $1::uuid AND revision = $2::bigint",
                               2, (const char *const[]){uuid, rev}, ret, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, r, "REVISION_NOT_FOUND", "params.revision",
                                "revision %" PRId64 " not found", revision);
        return r;
}

int store_revision_find_hash(Store *s, const char *uuid, const char *hash, int64_t before,
                             int64_t *ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char b[32];
        int r;

        assert_return(s && uuid && hash && ret, -EINVAL);
        snprintf(b, sizeof(b), "%" PRId64, before);
        r = store_query(s,
                        "SELECT coalesce(max(revision), 0) FROM revisions "
                        "WHERE resource_uuid = $1::uuid AND config_hash = $2 "
                        "AND revision < $3::bigint",
                        3, (const char *const[]){uuid, hash, b}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (store_get_i64(res, 0, 0, ret) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed revision");
        return 0;
}

int store_revision_add(Store *s, const char *uuid, int64_t epoch, const RevisionNew *n,
                       bool spec_changed, RevisionDeploy *ret, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_cjson_free_ char *spec = NULL, *secrets = NULL;
        _cleanup_(buf_release) Buf log = BUF_INIT(STORE_MAX_LOG);
        char rev[32], from[32], gen[32], op[32], cap[16], superseded[96];
        int64_t newest, done, operation;
        char actor[128];
        int r;

        assert_return(s && uuid && n && n->config_hash && n->spec && n->image && ret, -EINVAL);
        spec = cJSON_PrintUnformatted(n->spec);
        secrets = n->secret_versions ? cJSON_PrintUnformatted(n->secret_versions) : NULL;
        if (!spec || (n->secret_versions && !secrets))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");

        r = store_tx_begin(s, &tx, reterr);
        if (r >= 0)
                r = lease_check(s, epoch, reterr);
        if (r >= 0)
                r = store_query(s,
                                "SELECT applied_by, "
                                "  (SELECT coalesce(max(revision), 0) FROM revisions "
                                "    WHERE resource_uuid = $1::uuid), "
                                "  (SELECT coalesce(max(revision), 0) FROM revisions "
                                "    WHERE resource_uuid = $1::uuid AND deploy_state = 'DONE'), "
                                "  (SELECT image FROM revisions WHERE resource_uuid = $1::uuid "
                                "    AND deploy_state = 'DONE' ORDER BY revision DESC LIMIT 1) "
                                "FROM resources WHERE uuid = $1::uuid FOR UPDATE",
                                1, (const char *const[]){uuid}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "resource %s not found", uuid);
        if (store_get_i64(res, 0, 1, &newest) < 0 || store_get_i64(res, 0, 2, &done) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed revision");
        /* Copied: res is reused below. */
        snprintf(actor, sizeof(actor), "%s",
                 !spec_changed                   ? "controller"
                 : isempty(store_get(res, 0, 0)) ? "unknown"
                                                 : store_get(res, 0, 0));

        /* "revision 3 (from 2): image A → B", then what changed. */
        r = buf_printf(&log, "revision %" PRId64, newest + 1);
        if (r >= 0 && done > 0)
                r = buf_printf(&log, " (from %" PRId64 "): image %s → %s\n", done,
                               strempty(store_get(res, 0, 3)), n->image);
        else if (r >= 0)
                r = buf_printf(&log, ": image %s\n", n->image);
        if (r >= 0)
                r = buf_puts(&log, strempty(n->diff));
        if (r < 0 && r != -E2BIG)
                return err_set(reterr, r, NULL, "out of memory");

        snprintf(rev, sizeof(rev), "%" PRId64, newest + 1);
        snprintf(from, sizeof(from), "%" PRId64, done);
        snprintf(gen, sizeof(gen), "%" PRId64, n->generation);
        snprintf(superseded, sizeof(superseded), "superseded by revision %" PRId64, newest + 1);
        snprintf(cap, sizeof(cap), "%d", STORE_MAX_LOG);
        res = store_result_free(res);
        r = store_query(s,
                        "WITH sup AS (UPDATE revisions SET deploy_state = 'SUPERSEDED', "
                        "    finished_at = now(), deploy_message = $2 "
                        "  WHERE resource_uuid = $1::uuid AND deploy_state = 'IN_PROGRESS' "
                        "  RETURNING operation) "
                        "UPDATE operations SET state = 'FAILED', finished_at = now(), "
                        "  log = right(log || $2 || E'\\n', $3::integer) "
                        "WHERE id IN (SELECT operation FROM sup)",
                        3, (const char *const[]){uuid, superseded, cap}, 0, NULL, reterr);
        if (r >= 0)
                r = store_query(s,
                                "INSERT INTO operations (resource_uuid, kind, actor, log) "
                                "VALUES ($1::uuid, 'deploy', $2, right($3, $4::integer)) "
                                "RETURNING id",
                                4, (const char *const[]){uuid, actor, buf_str(&log), cap}, 0, &res,
                                reterr);
        if (r < 0)
                return r;
        if (store_get_i64(res, 0, 0, &operation) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad operation id");
        snprintf(op, sizeof(op), "%" PRId64, operation);
        res = store_result_free(res);
        r = store_query(s,
                        "INSERT INTO revisions (resource_uuid, revision, config_hash, generation, "
                        "  spec, secret_versions, image, diff, actor, from_revision, operation) "
                        "VALUES ($1::uuid, $2::bigint, $3, $4::bigint, $5::json, "
                        "  coalesce($6::json, '{}'::json), $7, right($8, $12::integer), $9, "
                        "  nullif($10::bigint, 0), $11::bigint) "
                        "RETURNING " REVISION_COLUMNS,
                        12,
                        (const char *const[]){uuid, rev, n->config_hash, gen, spec, secrets,
                                              n->image, strempty(n->diff), actor, from, op, cap},
                        0, &res, reterr);
        if (r < 0)
                return r;
        {
                _cleanup_(stored_revision_release) StoredRevision row = {};

                r = revision_from_row(res, 0, &row, reterr);
                if (r < 0)
                        return r;
                r = store_tx_commit(&tx, reterr);
                if (r < 0)
                        return r;
                log_debug("revision %" PRId64 " of %s (from %" PRId64 ")", row.deploy.revision,
                          uuid, done);
                *ret = row.deploy;
        }
        return 0;
}

int store_revision_update(Store *s, const char *uuid, int64_t epoch, int64_t revision,
                          const RevisionUpdate *u, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char ep[32], rev[32], ready[16], cap[16], result[STORE_MAX_MESSAGE + 64];
        const char *state;
        int r;

        assert_return(s && uuid && u, -EINVAL);
        state = deploy_state_to_string(u->state);
        assert_return(state && u->state != DEPLOY_NONE, -EINVAL);
        snprintf(ep, sizeof(ep), "%" PRId64, epoch);
        snprintf(rev, sizeof(rev), "%" PRId64, revision);
        snprintf(ready, sizeof(ready), "%d", u->ready);
        if (u->state == DEPLOY_DONE)
                snprintf(result, sizeof(result), "DONE: every replica runs revision %" PRId64 "\n",
                         revision);
        else
                snprintf(result, sizeof(result), "%s: %s\n", state, strempty(u->message));

        snprintf(cap, sizeof(cap), "%d", STORE_MAX_LOG);
        r = store_query(s,
                        "WITH lease AS MATERIALIZED (SELECT epoch FROM leases "
                        "  WHERE name = '" STORE_LEASE_NAME "' AND epoch = $2::bigint FOR SHARE), "
                        "upd AS (UPDATE revisions SET deploy_state = $4, "
                        "    progress_at = CASE WHEN $5::int > ready OR $8::bool THEN now() "
                        "      ELSE progress_at END, "
                        "    ready = greatest(ready, $5::int), "
                        "    pre_deploy_done = pre_deploy_done OR $6::bool, "
                        "    post_deploy_done = post_deploy_done OR $7::bool, "
                        "    deploy_message = left($9, 1024), "
                        "    finished_at = CASE WHEN $4 <> 'IN_PROGRESS' THEN now() END "
                        "  WHERE resource_uuid = $1::uuid AND revision = $3::bigint "
                        "    AND deploy_state = 'IN_PROGRESS' AND EXISTS (SELECT 1 FROM lease) "
                        "  RETURNING operation, deploy_state), "
                        "op AS (UPDATE operations o SET "
                        "    state = CASE WHEN upd.deploy_state = 'DONE' THEN 'DONE' "
                        "      WHEN upd.deploy_state = 'IN_PROGRESS' THEN o.state "
                        "      ELSE 'FAILED' END, "
                        "    finished_at = CASE WHEN upd.deploy_state = 'IN_PROGRESS' "
                        "      THEN o.finished_at ELSE now() END, "
                        "    log = right(o.log || $12 || CASE WHEN upd.deploy_state = "
                        "      'IN_PROGRESS' THEN '' ELSE $10 END, $11::integer) "
                        "  FROM upd WHERE o.id = upd.operation "
                        "    AND (upd.deploy_state <> 'IN_PROGRESS' OR $12 <> '') RETURNING o.id) "
                        "SELECT (SELECT count(*) FROM lease), (SELECT count(*) FROM upd), "
                        "  (SELECT count(*) FROM op)",
                        12,
                        (const char *const[]){uuid, ep, rev, state, ready,
                                              u->pre_deploy_done ? "true" : "false",
                                              u->post_deploy_done ? "true" : "false",
                                              u->progress ? "true" : "false", strempty(u->message),
                                              result, cap, strempty(u->output)},
                        0, &res, reterr);
        if (r < 0)
                return r;
        if (streq(strempty(store_get(res, 0, 0)), "0"))
                return err_set(reterr, -ESTALE, NULL, "lease epoch %" PRId64 " is stale", epoch);
        return 0;
}

int store_revisions_list(Store *s, const char *uuid, int limit, cJSON **ret, Error *reterr) {
        static const char sql[] =
                "SELECT coalesce(json_agg(x.j ORDER BY x.revision), '[]'::json) FROM ("
                "  SELECT r.revision, json_build_object("
                "    'revision', r.revision,"
                "    'created_at', to_char(r.created_at AT TIME ZONE 'UTC', "
                "      'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                "    'generation', r.generation, 'actor', r.actor, 'image', r.image,"
                "    'config_hash', r.config_hash, 'diff', r.diff, 'spec', r.spec,"
                "    'secret_versions', r.secret_versions,"
                "    'current', r.revision = (SELECT max(revision) FROM revisions"
                "      WHERE resource_uuid = r.resource_uuid),"
                "    'deploy', json_build_object("
                "      'state', r.deploy_state, 'from_revision', r.from_revision,"
                "      'old_image', f.image, 'new_image', r.image,"
                "      'started_at', to_char(r.created_at AT TIME ZONE 'UTC', "
                "        'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                "      'finished_at', to_char(r.finished_at AT TIME ZONE 'UTC', "
                "        'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                "      'message', nullif(r.deploy_message, ''), 'operation', r.operation)"
                "  ) AS j"
                "  FROM revisions r LEFT JOIN revisions f"
                "    ON f.resource_uuid = r.resource_uuid AND f.revision = r.from_revision"
                "  WHERE r.resource_uuid = $1::uuid"
                "  ORDER BY r.revision DESC LIMIT $2::integer) x";
        char lim[16];

        assert_return(s && uuid && ret, -EINVAL);
        snprintf(lim, sizeof(lim), "%d",
                 limit <= 0 ? STORE_DEFAULT_LIST : MIN(limit, STORE_MAX_LIST));
        return store_query_json(s, sql, 2, (const char *const[]){uuid, lim}, ret, reterr);
}

/* The document of `row` with `spec` in place of its own, as an apply would bring it. */
static int row_document(const StoredResource *row, const cJSON *spec, Document *ret,
                        Error *reterr) {
        _cleanup_cjson_ cJSON *doc = cJSON_CreateObject();
        cJSON *meta;

        if (!doc || !(meta = cJSON_AddObjectToObject(doc, "metadata")) ||
            !cJSON_AddStringToObject(doc, "kind", kind_to_string(row->ref.kind)) ||
            !cJSON_AddStringToObject(meta, "name", row->ref.name) ||
            !cJSON_AddStringToObject(meta, "project", row->ref.project) ||
            !cJSON_AddStringToObject(meta, "environment", strempty(row->environment)) ||
            (row->labels &&
             !cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(row->labels, true))) ||
            !cJSON_AddItemToObject(doc, "spec", cJSON_Duplicate(spec, true)))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        return document_from_json(doc, ret, reterr);
}

int store_revision_rollback(Store *s, const StoredResource *row, int64_t revision,
                            const char *actor, int64_t *ret_revision, ApplyOutcome *ret_outcome,
                            int64_t *ret_generation, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_(stored_revision_release) StoredRevision latest = {}, target = {};
        _cleanup_(document_release) Document d = {};
        _cleanup_cjson_ cJSON *spec = NULL;
        _cleanup_cjson_free_ char *detail = NULL;
        ApplyOutcome outcome;
        int64_t generation;
        char uuid[37], msg[160];
        int r;

        assert_return(s && row && row->spec, -EINVAL);
        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;
        r = store_revision_latest(s, row->ref.uuid, &latest, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, -EALREADY, "NO_PREVIOUS_REVISION", NULL,
                                "%s %s/%s has no revision recorded yet",
                                kind_to_string(row->ref.kind), row->ref.project, row->ref.name);
        if (r < 0)
                return r;
        if (revision <= 0)
                revision = latest.deploy.from_revision > 0 ? latest.deploy.from_revision
                                                           : latest.deploy.revision - 1;
        if (revision <= 0)
                return err_setr(reterr, -EALREADY, "NO_PREVIOUS_REVISION", NULL,
                                "%s %s/%s has no earlier revision to roll back to (it is at "
                                "revision %" PRId64 ")",
                                kind_to_string(row->ref.kind), row->ref.project, row->ref.name,
                                latest.deploy.revision);
        r = store_revision_get(s, row->ref.uuid, revision, &target, reterr);
        if (r < 0)
                return r;
        r = revision_rollback_spec(row->spec, target.spec, &spec);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        r = row_document(row, spec, &d, reterr);
        if (r < 0)
                return err_prefix(reterr, "revision %" PRId64 " no longer validates", revision);
        r = store_resource_apply(s, &d, actor, &outcome, uuid, &generation, reterr);
        if (r < 0)
                return r;

        {
                _cleanup_cjson_ cJSON *o = cJSON_CreateObject();

                if (!o || !cJSON_AddStringToObject(o, "kind", kind_to_string(row->ref.kind)) ||
                    !cJSON_AddStringToObject(o, "project", row->ref.project) ||
                    !cJSON_AddStringToObject(o, "name", row->ref.name) ||
                    !cJSON_AddNumberToObject(o, "revision", (double) revision) ||
                    !cJSON_AddStringToObject(o, "outcome", apply_outcome_to_string(outcome)) ||
                    !cJSON_AddNumberToObject(o, "generation", (double) generation) ||
                    !(detail = cJSON_PrintUnformatted(o)))
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        r = store_audit_add(s, actor, "rollback", row->ref.uuid, detail, reterr);
        snprintf(msg, sizeof(msg), "rollback to revision %" PRId64 " by %s%s", revision,
                 isempty(actor) ? "unknown" : actor,
                 outcome == APPLY_UNCHANGED ? " (its spec is the current one)" : "");
        if (r >= 0)
                r = store_event_add(s, row->ref.uuid, "Normal", "RollbackRequested", msg, reterr);
        if (r >= 0)
                r = store_tx_commit(&tx, reterr);
        if (r < 0)
                return r;
        log_debug("rollback of %s to revision %" PRId64 ": %s", row->ref.uuid, revision,
                  apply_outcome_to_string(outcome));
        if (ret_revision)
                *ret_revision = revision;
        if (ret_outcome)
                *ret_outcome = outcome;
        if (ret_generation)
                *ret_generation = generation;
        return 0;
}
