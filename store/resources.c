/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/store-internal.h"
#include "store/store.h"

#define RESOURCE_COLUMNS                                                                           \
        "uuid, kind, project, name, generation, deleting, environment, labels, spec, status, "     \
        "phase, observed_generation, "                                                             \
        "(extract(epoch FROM created_at) * 1000000)::bigint, "                                     \
        "(extract(epoch FROM updated_at) * 1000000)::bigint, "                                     \
        "coalesce((extract(epoch FROM restart_requested_at) * 1000000)::bigint, 0), "              \
        "purge_requested_at IS NOT NULL"

const char *apply_outcome_to_string(ApplyOutcome o) {
        switch (o) {
        case APPLY_CREATED:
                return "created";
        case APPLY_CONFIGURED:
                return "configured";
        case APPLY_UNCHANGED:
                return "unchanged";
        }
        return NULL;
}

void stored_resource_release(StoredResource *r) {
        if (!r)
                return;
        b_free(r->environment);
        cJSON_Delete(r->labels);
        cJSON_Delete(r->spec);
        cJSON_Delete(r->status);
        *r = (StoredResource){};
}

void stored_resources_free(StoredResource *r, size_t n) {
        if (!r)
                return;
        for (size_t i = 0; i < n; i++)
                stored_resource_release(&r[i]);
        b_free(r);
}

void stored_resource_list_release(StoredResourceList *l) {
        stored_resources_free(l->rows, l->n);
        *l = (StoredResourceList){};
}

static int copy_name(char *dst, size_t n, const char *src) {
        if (!src || strlen(src) >= n)
                return -EBADMSG;
        snprintf(dst, n, "%s", src);
        return 0;
}

static int resource_from_row(const PGresult *res, int row, StoredResource *ret, Error *reterr) {
        _cleanup_(stored_resource_release) StoredResource r = {};
        int64_t t;
        int x;

        if (copy_name(r.ref.uuid, sizeof(r.ref.uuid), store_get(res, row, 0)) < 0 ||
            copy_name(r.ref.project, sizeof(r.ref.project), store_get(res, row, 2)) < 0 ||
            copy_name(r.ref.name, sizeof(r.ref.name), store_get(res, row, 3)) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed resource row");
        r.ref.kind = kind_from_string(store_get(res, row, 1));
        if (r.ref.kind < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: unknown kind '%s'",
                               strna(store_get(res, row, 1)));
        if (store_get_i64(res, row, 4, &r.ref.generation) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed generation");
        r.ref.deleting = store_get_bool(res, row, 5);
        r.environment = b_strdup(strempty(store_get(res, row, 6)));
        if (!r.environment)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        x = store_get_json(res, row, 7, &r.labels, reterr);
        if (x < 0)
                return x;
        x = store_get_json(res, row, 8, &r.spec, reterr);
        if (x < 0)
                return x;
        x = store_get_json(res, row, 9, &r.status, reterr);
        if (x < 0)
                return x;
        r.phase = phase_from_string(store_get(res, row, 10));
        if (r.phase < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: unknown phase '%s'",
                               strna(store_get(res, row, 10)));
        if (store_get_i64(res, row, 11, &r.observed_generation) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed generation");
        if (store_get_i64(res, row, 12, &t) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed time");
        r.created_at = (usec_t) t;
        if (store_get_i64(res, row, 13, &t) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed time");
        r.updated_at = (usec_t) t;
        if (store_get_i64(res, row, 14, &t) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed time");
        r.ref.restart_after = (usec_t) t;
        r.ref.purge = store_get_bool(res, row, 15);

        *ret = r;
        r = (StoredResource){};
        return 0;
}

/* The canonical texts of a document as stored and compared. */
typedef struct DocTexts {
        char *spec;
        char *labels;
        char hash[65];
} DocTexts;

static void doc_texts_release(DocTexts *t) {
        if (t->spec)
                cJSON_free(t->spec);
        if (t->labels)
                cJSON_free(t->labels);
        *t = (DocTexts){};
}

static int doc_texts(const Document *d, DocTexts *ret, Error *reterr) {
        _cleanup_(doc_texts_release) DocTexts t = {};
        int r;

        /* The model normalises key order, so the unformatted print is canonical. */
        t.spec = cJSON_PrintUnformatted(d->spec);
        if (!t.spec)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (d->labels && !cJSON_IsObject(d->labels))
                return err_set(reterr, -EINVAL, "metadata.labels", "labels must be an object");
        if (d->labels) {
                t.labels = cJSON_PrintUnformatted(d->labels);
                if (!t.labels)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        r = store_text_hash(t.spec, t.hash);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot hash spec");
        *ret = t;
        t = (DocTexts){};
        return 0;
}

/* Row 0 of the lookup: uuid, spec_hash, labels equal, environment, generation, deleting. */
static int resource_lookup(Store *s, const Document *d, const DocTexts *t, bool for_update,
                           PGresult **ret, Error *reterr) {
        const char *params[] = {
                kind_to_string(d->kind),
                d->project,
                d->name,
                t->labels ? t->labels : "{}",
        };

        return store_query(s,
                           for_update ? "SELECT uuid, spec_hash, labels = $4::jsonb, environment, "
                                        "generation, deleting FROM resources "
                                        "WHERE kind = $1 AND project = $2 AND name = $3 FOR UPDATE"
                                      : "SELECT uuid, spec_hash, labels = $4::jsonb, environment, "
                                        "generation, deleting FROM resources "
                                        "WHERE kind = $1 AND project = $2 AND name = $3",
                           4, params, for_update ? 0 : STORE_Q_RETRY, ret, reterr);
}

static int lookup_outcome(const PGresult *res, const Document *d, const DocTexts *t,
                          ApplyOutcome *ret, Error *reterr) {
        if (PQntuples(res) == 0) {
                *ret = APPLY_CREATED;
                return 0;
        }
        if (store_get_bool(res, 0, 5))
                return err_setr(reterr, -EBUSY, "RESOURCE_DELETING", NULL,
                                "resource is being deleted");
        if (streq(strempty(store_get(res, 0, 1)), t->hash) && store_get_bool(res, 0, 2) &&
            streq(strempty(store_get(res, 0, 3)), d->environment))
                *ret = APPLY_UNCHANGED;
        else
                *ret = APPLY_CONFIGURED;
        return 0;
}

static int check_document(const Document *d) {
        if (!d || !d->spec || !kind_to_string(d->kind))
                return -EINVAL;
        if (isempty(d->name) || isempty(d->project))
                return -EINVAL;
        return 0;
}

/* An audit row {kind, project, name[, outcome, generation]} for a control action. */
static int resource_audit(Store *s, const char *actor, const char *action, const char *uuid,
                          const char *kind, const char *project, const char *name,
                          const char *outcome, int64_t generation, Error *reterr) {
        _cleanup_cjson_ cJSON *detail = NULL;
        _cleanup_cjson_free_ char *text = NULL;

        detail = cJSON_CreateObject();
        if (!detail || !cJSON_AddStringToObject(detail, "kind", kind) ||
            !cJSON_AddStringToObject(detail, "project", project) ||
            !cJSON_AddStringToObject(detail, "name", name))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (outcome && (!cJSON_AddStringToObject(detail, "outcome", outcome) ||
                        !cJSON_AddNumberToObject(detail, "generation", (double) generation)))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        text = cJSON_PrintUnformatted(detail);
        if (!text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        return store_audit_add(s, actor, action, uuid, text, reterr);
}

static int notify_spec(Store *s, const char *uuid, Error *reterr) {
        return store_query(s, "SELECT pg_notify($1, $2)", 2,
                           (const char *const[]){STORE_CHANNEL_SPEC, uuid}, 0, NULL, reterr);
}

/* Resources of the project whose spec.depends_on names this one: their injected env (host,
 * port) may change with it, so they are reconciled too. A database's allow list decides which
 * services join its network, before or after this change: all the project's services look. */
static int notify_dependents(Store *s, const Document *d, Error *reterr) {
        return store_query(s,
                           "SELECT pg_notify($1, uuid::text) FROM resources "
                           "WHERE project = $2 AND NOT deleting AND ((spec::jsonb -> 'depends_on') "
                           "@> jsonb_build_array(jsonb_build_object('kind', $3::text, "
                           "'name', $4::text)) OR (kind = 'docker_service' AND $3 = 'pg_single'))",
                           4,
                           (const char *const[]){STORE_CHANNEL_SPEC, d->project,
                                                 kind_to_string(d->kind), d->name},
                           0, NULL, reterr);
}

/* Docker objects are named after project and name, whatever the kind (network
 * berth-<project>-<name>, volumes <project>-<name>-data-N...): one name, one resource per
 * project, or two kinds would share a volume. A concurrent twin is caught by the same check in
 * its own transaction once this one commits (the unique index is per kind). */
static int check_name_free(Store *s, const Document *d, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(
                s,
                "SELECT kind FROM resources WHERE project = $1 AND name = $2 AND kind <> $3 "
                "LIMIT 1",
                3, (const char *const[]){d->project, d->name, kind_to_string(d->kind)}, 0, &res,
                reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) > 0)
                return err_setr(
                        reterr, -EEXIST, "NAME_TAKEN", "metadata.name",
                        "metadata.name: %s is taken in project %s by a %s (names are unique "
                        "per project across kinds: Docker objects are named after them)",
                        d->name, d->project, strempty(store_get(res, 0, 0)));
        return 0;
}

int store_resource_apply(Store *s, const Document *d, const char *actor, ApplyOutcome *ret,
                         char *ret_uuid, int64_t *ret_generation, Error *reterr) {
        _cleanup_(doc_texts_release) DocTexts t = {};
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        ApplyOutcome outcome = APPLY_UNCHANGED;
        char uuid[37] = "";
        int64_t generation = 0;
        int r;

        assert_return(s, -EINVAL);
        assert_return(check_document(d) >= 0, -EINVAL);

        r = doc_texts(d, &t, reterr);
        if (r < 0)
                return r;
        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;
        r = check_name_free(s, d, reterr);
        if (r < 0)
                return r;

        /* Lock the row, or create it; a concurrent creator makes our insert a no-op, and the
         * second lookup (a new snapshot under READ COMMITTED) then sees its row. */
        for (int attempt = 0;; attempt++) {
                const char *params[] = {
                        kind_to_string(d->kind),    d->project, d->name, d->environment,
                        t.labels ? t.labels : "{}", t.spec,     t.hash,  strempty(actor),
                };

                res = store_result_free(res);
                r = resource_lookup(s, d, &t, true, &res, reterr);
                if (r < 0)
                        return r;
                if (PQntuples(res) > 0)
                        break;
                if (attempt > 0)
                        return err_set(reterr, -EAGAIN, NULL, "concurrent apply, retry");

                res = store_result_free(res);
                r = store_query(s,
                                "INSERT INTO resources (kind, project, name, environment, labels, "
                                "spec, spec_hash, generation, applied_by) "
                                "VALUES ($1, $2, $3, $4, $5::jsonb, $6::json, $7, 1, $8) "
                                "ON CONFLICT (kind, project, name) DO NOTHING "
                                "RETURNING uuid, generation",
                                8, params, 0, &res, reterr);
                if (r < 0)
                        return r;
                if (PQntuples(res) > 0) {
                        outcome = APPLY_CREATED;
                        break;
                }
        }

        if (outcome == APPLY_CREATED) {
                snprintf(uuid, sizeof(uuid), "%s", strempty(store_get(res, 0, 0)));
                generation = 1;
        } else {
                r = lookup_outcome(res, d, &t, &outcome, reterr);
                if (r < 0)
                        return r;
                snprintf(uuid, sizeof(uuid), "%s", strempty(store_get(res, 0, 0)));
                if (store_get_i64(res, 0, 4, &generation) < 0)
                        return err_set(reterr, -EBADMSG, NULL, "state store: bad generation");
        }

        if (outcome == APPLY_CONFIGURED) {
                const char *params[] = {
                        uuid,           t.spec,          t.hash, t.labels ? t.labels : "{}",
                        d->environment, strempty(actor),
                };

                res = store_result_free(res);
                r = store_query(s,
                                "UPDATE resources SET spec = $2::json, spec_hash = $3, "
                                "labels = $4::jsonb, environment = $5, applied_by = $6, "
                                "generation = generation + 1, updated_at = now() "
                                "WHERE uuid = $1::uuid RETURNING generation",
                                6, params, 0, &res, reterr);
                if (r < 0)
                        return r;
                if (PQntuples(res) != 1 || store_get_i64(res, 0, 0, &generation) < 0)
                        return err_set(reterr, -EIO, NULL, "state store: update lost its row");
        }

        if (outcome != APPLY_UNCHANGED) {
                r = notify_spec(s, uuid, reterr);
                if (r >= 0)
                        r = notify_dependents(s, d, reterr);
                if (r < 0)
                        return r;
        }
        r = resource_audit(s, actor, "apply", uuid, kind_to_string(d->kind), d->project, d->name,
                           apply_outcome_to_string(outcome), generation, reterr);
        if (r < 0)
                return r;
        r = store_tx_commit(&tx, reterr);
        if (r < 0)
                return r;

        log_debug("apply %s %s/%s: %s (generation %" PRId64 ")", kind_to_string(d->kind),
                  d->project, d->name, apply_outcome_to_string(outcome), generation);
        if (ret)
                *ret = outcome;
        if (ret_uuid)
                memcpy(ret_uuid, uuid, sizeof(uuid));
        if (ret_generation)
                *ret_generation = generation;
        return 0;
}

int store_resource_compare(Store *s, const Document *d, ApplyOutcome *ret, Error *reterr) {
        _cleanup_(doc_texts_release) DocTexts t = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        ApplyOutcome outcome;
        int r;

        assert_return(s, -EINVAL);
        assert_return(check_document(d) >= 0, -EINVAL);

        r = doc_texts(d, &t, reterr);
        if (r < 0)
                return r;
        r = resource_lookup(s, d, &t, false, &res, reterr);
        if (r < 0)
                return r;
        r = lookup_outcome(res, d, &t, &outcome, reterr);
        if (r < 0)
                return r;
        if (ret)
                *ret = outcome;
        return 0;
}

static int resource_get_one(Store *s, const char *sql, int n, const char *const *params,
                            StoredResource *ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(s, sql, n, params, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        return resource_from_row(res, 0, ret, reterr);
}

int store_resource_get(Store *s, ResourceKind kind, const char *project, const char *name,
                       StoredResource *ret, Error *reterr) {
        const char *k = kind_to_string(kind);
        int r;

        assert_return(s, -EINVAL);
        assert_return(k && project && name, -EINVAL);
        assert_return(ret, -EINVAL);

        r = resource_get_one(s,
                             "SELECT " RESOURCE_COLUMNS " FROM resources "
                             "WHERE kind = $1 AND project = $2 AND name = $3",
                             3, (const char *const[]){k, project, name}, ret, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, r, "RESOURCE_NOT_FOUND", NULL, "%s %s/%s not found", k,
                                project, name);
        return r;
}

int store_resource_get_by_uuid(Store *s, const char *uuid, StoredResource *ret, Error *reterr) {
        int r;

        assert_return(s, -EINVAL);
        assert_return(uuid, -EINVAL);
        assert_return(ret, -EINVAL);

        if (!store_uuid_is_valid(uuid))
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "resource %s not found", uuid);
        r = resource_get_one(s, "SELECT " RESOURCE_COLUMNS " FROM resources WHERE uuid = $1::uuid",
                             1, (const char *const[]){uuid}, ret, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, r, "RESOURCE_NOT_FOUND", NULL, "resource %s not found",
                                uuid);
        return r;
}

int store_resource_list(Store *s, const char *project, ResourceKind kind, StoredResource **ret,
                        size_t *ret_n, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        StoredResource *list;
        const char *k = NULL;
        size_t n;
        int r;

        assert_return(s, -EINVAL);
        assert_return(ret && ret_n, -EINVAL);
        if ((int) kind >= 0) {
                k = kind_to_string(kind);
                assert_return(k, -EINVAL);
        }

        r = store_query(s,
                        "SELECT " RESOURCE_COLUMNS " FROM resources "
                        "WHERE ($1::text IS NULL OR project = $1) "
                        "AND ($2::text IS NULL OR kind = $2) "
                        "ORDER BY project, kind, name",
                        2, (const char *const[]){project, k}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;

        n = (size_t) PQntuples(res);
        list = b_calloc(n + 1, sizeof(StoredResource));
        if (!list)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        for (size_t i = 0; i < n; i++) {
                r = resource_from_row(res, (int) i, &list[i], reterr);
                if (r < 0) {
                        stored_resources_free(list, i);
                        return r;
                }
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int store_resource_list_uuids(Store *s, char ***ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t n;
        int r;

        assert_return(s, -EINVAL);
        assert_return(ret, -EINVAL);

        r = store_query(s, "SELECT uuid FROM resources ORDER BY uuid", 0, NULL, STORE_Q_RETRY, &res,
                        reterr);
        if (r < 0)
                return r;
        n = (size_t) PQntuples(res);
        l = b_calloc(n + 1, sizeof(char *));
        if (!l)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        for (size_t i = 0; i < n; i++) {
                l[i] = b_strdup(strempty(store_get(res, (int) i, 0)));
                if (!l[i])
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int store_resource_request_restart(Store *s, ResourceKind kind, const char *project,
                                   const char *name, const char *actor, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        const char *uuid;
        char detail[160];
        int r;

        assert_return(s && project && name, -EINVAL);
        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;
        r = store_query(s,
                        "UPDATE resources SET restart_requested_at = now() "
                        "WHERE kind = $1 AND project = $2 AND name = $3 AND NOT deleting "
                        "RETURNING uuid",
                        3, (const char *const[]){kind_to_string(kind), project, name}, 0, &res,
                        reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return err_set(reterr, -ENOENT, NULL, "%s %s/%s not found", kind_to_string(kind),
                               project, name);
        uuid = store_get(res, 0, 0);
        snprintf(detail, sizeof(detail), "%s %s/%s", kind_to_string(kind), project, name);
        r = notify_spec(s, uuid, reterr);
        if (r >= 0)
                r = store_event_add(s, uuid, "Normal", "RestartRequested",
                                    "rolling restart requested", reterr);
        if (r >= 0)
                r = store_audit_add(s, actor, "restart", uuid, detail, reterr);
        if (r < 0)
                return r;
        return store_tx_commit(&tx, reterr);
}

int store_resource_list_brief(Store *s, ResourceBrief **ret, size_t *ret_n, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_free_ ResourceBrief *l = NULL;
        size_t n;
        int r;

        assert_return(s && ret && ret_n, -EINVAL);
        r = store_query(s,
                        "SELECT uuid, phase, generation, observed_generation, deleting "
                        "FROM resources ORDER BY uuid",
                        0, NULL, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        n = (size_t) PQntuples(res);
        l = b_calloc(n ? n : 1, sizeof(ResourceBrief));
        if (!l)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        for (size_t i = 0; i < n; i++) {
                ResourceBrief *b = &l[i];

                snprintf(b->uuid, sizeof(b->uuid), "%s", strempty(store_get(res, (int) i, 0)));
                b->phase = phase_from_string(strempty(store_get(res, (int) i, 1)));
                if (store_get_i64(res, (int) i, 2, &b->generation) < 0 ||
                    store_get_i64(res, (int) i, 3, &b->observed_generation) < 0)
                        return err_set(reterr, -EIO, NULL, "state store: bad generation");
                b->deleting = store_get_bool(res, (int) i, 4);
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int store_resource_request_delete(Store *s, ResourceKind kind, const char *project,
                                  const char *name, const char *actor, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        const char *k = kind_to_string(kind);
        char uuid[37];
        bool was_deleting;
        int r;

        assert_return(s, -EINVAL);
        assert_return(k && project && name, -EINVAL);

        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;
        r = store_query(s,
                        "WITH old AS MATERIALIZED (SELECT uuid, deleting FROM resources "
                        "  WHERE kind = $1 AND project = $2 AND name = $3 FOR UPDATE) "
                        "UPDATE resources r SET deleting = true, phase = 'DELETING', "
                        "  updated_at = now() "
                        "FROM old WHERE r.uuid = old.uuid RETURNING r.uuid, old.deleting",
                        3, (const char *const[]){k, project, name}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL, "%s %s/%s not found",
                                k, project, name);
        snprintf(uuid, sizeof(uuid), "%s", strempty(store_get(res, 0, 0)));
        was_deleting = store_get_bool(res, 0, 1);

        if (!was_deleting) {
                char msg[STORE_MAX_MESSAGE];

                snprintf(msg, sizeof(msg), "deletion requested by %s", strna(actor));
                r = store_event_add(s, uuid, "Normal", "DeleteRequested", msg, reterr);
                if (r < 0)
                        return r;
        }
        r = notify_spec(s, uuid, reterr);
        if (r < 0)
                return r;
        r = resource_audit(s, actor, "delete", uuid, k, project, name, NULL, 0, reterr);
        if (r < 0)
                return r;
        return store_tx_commit(&tx, reterr);
}

/* One UPDATE by (kind, project, name) in its own transaction with an event, a NOTIFY and an
 * audit row: the shape of undelete and purge. `sql` returns the uuid, or nothing when the row
 * is not in a state the change applies to. */
static int resource_change(Store *s, ResourceKind kind, const char *project, const char *name,
                           const char *actor, const char *sql, const char *action,
                           const char *event_reason, const char *event_msg, int no_row_code,
                           const char *no_row_reason, const char *no_row_msg, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_(stored_resource_release) StoredResource row = {};
        char uuid[37];
        int r;

        assert_return(s && project && name, -EINVAL);
        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;
        r = store_resource_get(s, kind, project, name, &row, reterr);
        if (r < 0)
                return r;
        r = store_query(s, sql, 1, (const char *const[]){row.ref.uuid}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return err_setr(reterr, no_row_code, no_row_reason, NULL, "%s %s/%s %s",
                                kind_to_string(kind), project, name, no_row_msg);
        snprintf(uuid, sizeof(uuid), "%s", strempty(store_get(res, 0, 0)));
        r = store_event_add(s, uuid, "Normal", event_reason, event_msg, reterr);
        if (r >= 0)
                r = notify_spec(s, uuid, reterr);
        if (r >= 0)
                r = resource_audit(s, actor, action, uuid, kind_to_string(kind), project, name,
                                   NULL, 0, reterr);
        if (r < 0)
                return r;
        return store_tx_commit(&tx, reterr);
}

int store_resource_undelete(Store *s, ResourceKind kind, const char *project, const char *name,
                            const char *actor, Error *reterr) {
        return resource_change(s, kind, project, name, actor,
                               "UPDATE resources SET deleting = false, purge_requested_at = NULL, "
                               "phase = 'PENDING', generation = generation + 1, "
                               "updated_at = now() "
                               "WHERE uuid = $1::uuid AND deleting AND purge_requested_at IS NULL "
                               "RETURNING uuid",
                               "undelete", "Undeleted", "brought back from deletion", -EALREADY,
                               "RESOURCE_NOT_DELETED", "is not deleted (or is being purged)",
                               reterr);
}

int store_resource_request_purge(Store *s, ResourceKind kind, const char *project, const char *name,
                                 const char *actor, Error *reterr) {
        return resource_change(s, kind, project, name, actor,
                               "UPDATE resources SET deleting = true, phase = 'DELETING', "
                               "purge_requested_at = coalesce(purge_requested_at, now()), "
                               "updated_at = now() WHERE uuid = $1::uuid RETURNING uuid",
                               "purge", "PurgeRequested", "purge requested: data and backups go",
                               -ENOENT, "RESOURCE_NOT_FOUND", "not found", reterr);
}

int store_resource_remove(Store *s, const char *uuid, int64_t epoch, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char ep[32];
        int r;

        assert_return(s, -EINVAL);
        assert_return(uuid, -EINVAL);

        if (!store_uuid_is_valid(uuid))
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "resource %s not found", uuid);
        snprintf(ep, sizeof(ep), "%" PRId64, epoch);

        /* Fenced like a status write. Events and operations go with the row (ON DELETE
         * CASCADE); the audit trail stays. */
        r = store_query(s,
                        "WITH lease AS MATERIALIZED (SELECT epoch FROM leases "
                        "  WHERE name = '" STORE_LEASE_NAME "' AND epoch = $2::bigint FOR SHARE), "
                        "del AS (DELETE FROM resources WHERE uuid = $1::uuid "
                        "  AND EXISTS (SELECT 1 FROM lease) "
                        "  RETURNING uuid, kind, project, name), "
                        "audit_row AS (INSERT INTO audit (actor, action, resource_uuid, detail) "
                        "  SELECT 'controller', 'remove', uuid, json_build_object("
                        "    'kind', kind, 'project', project, 'name', name)::text FROM del), "
                        "note AS (SELECT pg_notify('" STORE_CHANNEL_STATUS "', uuid::text) "
                        "  FROM del) "
                        "SELECT (SELECT count(*) FROM lease), (SELECT count(*) FROM del), "
                        "  (SELECT count(*) FROM note)",
                        2, (const char *const[]){uuid, ep}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (streq(strempty(store_get(res, 0, 0)), "0"))
                return err_set(reterr, -ESTALE, NULL, "lease epoch %" PRId64 " is stale", epoch);
        if (streq(strempty(store_get(res, 0, 1)), "0"))
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "resource %s not found", uuid);
        log_debug("removed resource %s", uuid);
        return 0;
}
