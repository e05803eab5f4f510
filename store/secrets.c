/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "model/resource.h"
#include "store/secret-box.h"
#include "store/secrets.h"
#include "store/store-internal.h"
#include "store/store.h"

/* Secrets: sealed values (secret-box.c) in the `secrets` table. Values cross libpq only sealed,
 * as hex text (decode($n, 'hex') / encode(value, 'hex')), so neither the statement, its
 * parameters nor a server log line can hold a plaintext. Debug lines name project/name and the
 * version, never a value. */

/* RFC 3339 UTC with milliseconds, as format_rfc3339() prints. */
#define SQL_RFC3339 "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

/* A project's secrets as one JSON array: names, versions and times, never values. */
#define SQL_LIST                                                                                   \
        "SELECT coalesce(json_agg(json_build_object("                                              \
        "  'project', project, 'name', name, 'version', version, "                                 \
        "  'created_at', to_char(created_at AT TIME ZONE 'UTC', " SQL_RFC3339 "), "                \
        "  'updated_at', to_char(updated_at AT TIME ZONE 'UTC', " SQL_RFC3339 ")"                  \
        ") ORDER BY name), '[]'::json) FROM secrets WHERE project = $1"

/* Resources of project $1, not being deleted, whose spec.secrets has an entry {secret: $2}. */
#define SQL_USERS_OF_SECRET                                                                        \
        "FROM resources WHERE project = $1 AND NOT deleting "                                      \
        "AND jsonb_path_exists(spec::jsonb, '$.** ? (@.secret == $n)', "                           \
        "jsonb_build_object('n', $2::text))"

#define AAD_MAX  (2 * NAME_MAX_LEN + 2) /* "project/name" */
#define BLOB_MAX (SECRET_VALUE_MAX + SECRET_BOX_OVERHEAD)

static const char *const outcome_names[_SECRET_SET_OUTCOME_MAX] = {
        [SECRET_CREATED] = "created",
        [SECRET_UPDATED] = "updated",
        [SECRET_UNCHANGED] = "unchanged",
};

const char *secret_set_outcome_to_string(SecretSetOutcome o) {
        if (o < 0 || o >= _SECRET_SET_OUTCOME_MAX)
                return NULL;
        return outcome_names[o];
}

static int check_project(const char *project, Error *reterr) {
        if (!name_is_valid(project))
                return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "project",
                                "project must be a DNS label ([a-z0-9-], at most %d characters)",
                                NAME_MAX_LEN);
        return 0;
}

/* Validates both names and formats the authenticated data "project/name". */
static int check_names(const char *project, const char *name, char aad[AAD_MAX], Error *reterr) {
        int r = check_project(project, reterr);

        if (r < 0)
                return r;
        if (!name_is_valid(name))
                return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "name",
                                "secret names are DNS labels ([a-z0-9-], at most %d characters)",
                                NAME_MAX_LEN);
        snprintf(aad, AAD_MAX, "%s/%s", project, name);
        return 0;
}

static int not_found(Error *reterr, const char *project, const char *name) {
        return err_setr(reterr, -ENOENT, "SECRET_NOT_FOUND", NULL,
                        "secret \"%s\" not found in project \"%s\"", name, project);
}

static char *hex_encode(const void *p, size_t n) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *b = p;
        char *out = b_malloc(2 * n + 1);

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[b[i] >> 4];
                out[2 * i + 1] = digits[b[i] & 0xf];
        }
        out[2 * n] = 0;
        return out;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* The sealed value as the store returned it (encode(value, 'hex')) into out (capped). */
static int hex_decode(const char *hex, Buf *out) {
        size_t n = hex ? strlen(hex) : 0;

        if (!hex || n % 2 != 0)
                return -EBADMSG;
        if (n / 2 > out->max)
                return -E2BIG;
        buf_reset(out);
        for (size_t i = 0; i < n; i += 2) {
                int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]), r;

                if (hi < 0 || lo < 0)
                        return -EBADMSG;
                r = buf_putc(out, (char) (hi << 4 | lo));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int seal_hex(const SecretBox *box, const void *value, size_t n, const char *aad, char **ret,
                    Error *reterr) {
        _cleanup_(buf_release) Buf blob = BUF_INIT(BLOB_MAX);
        int r;

        r = secret_box_seal(box, value, n, aad, &blob, reterr);
        if (r < 0)
                return r;
        *ret = hex_encode(blob.buf, blob.len);
        return *ret ? 0 : err_set(reterr, -ENOMEM, NULL, "out of memory");
}

static int secret_audit(Store *s, const char *actor, const char *action, const char *project,
                        const char *name, int64_t version, const char *outcome, Error *reterr) {
        _cleanup_cjson_ cJSON *detail = NULL;
        _cleanup_cjson_free_ char *text = NULL;

        detail = cJSON_CreateObject();
        if (!detail || !cJSON_AddStringToObject(detail, "kind", "secret") ||
            !cJSON_AddStringToObject(detail, "project", project) ||
            !cJSON_AddStringToObject(detail, "name", name) ||
            !cJSON_AddNumberToObject(detail, "version", (double) version) ||
            (outcome && !cJSON_AddStringToObject(detail, "outcome", outcome)))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        text = cJSON_PrintUnformatted(detail);
        if (!text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        return store_audit_add(s, actor, action, NULL, text, reterr);
}

/* True when the stored blob (hex) opens to exactly value. A blob that does not open (another
 * master key, damage) is "different": setting the secret again repairs it. */
static int stored_equals(const SecretBox *box, const char *hex, const char *aad, const void *value,
                         size_t n, Error *reterr) {
        _cleanup_(buf_release) Buf blob = BUF_INIT(BLOB_MAX);
        _cleanup_(buf_release_secure) Buf old = BUF_INIT(SECRET_VALUE_MAX);
        Error e = ERROR_INIT;
        int r;

        r = hex_decode(hex, &blob);
        if (r == -EBADMSG || r == -E2BIG)
                return false;
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        r = secret_box_open_blob(box, blob.buf, blob.len, aad, &old, &e);
        if (r == -EBADMSG || r == -E2BIG) {
                log_debug("secret %s: the stored value does not open (%s); replacing it", aad,
                          e.msg);
                return false;
        }
        if (r < 0) {
                if (reterr)
                        *reterr = e;
                return r;
        }
        return old.len == n && (n == 0 || CRYPTO_memcmp(old.buf, value, n) == 0);
}

/* NOTIFY berth_spec for every resource that uses the secret: they re-reconcile and roll. */
static int notify_users(Store *s, const char *project, const char *name, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        r = store_query(
                s, "SELECT pg_notify('" STORE_CHANNEL_SPEC "', uuid::text) " SQL_USERS_OF_SECRET, 2,
                (const char *const[]){project, name}, 0, &res, reterr);
        if (r < 0)
                return r;
        log_debug("secret %s/%s: %d resource(s) notified", project, name, PQntuples(res));
        return 0;
}

int store_secret_set(Store *s, const SecretBox *box, const char *project, const char *name,
                     const void *value, size_t n, const char *actor, int64_t *ret_version,
                     Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_free_ char *hex = NULL;
        SecretSetOutcome outcome = SECRET_UNCHANGED;
        char aad[AAD_MAX];
        int64_t version = 0;
        int r;

        assert_return(s && box, -EINVAL);
        assert_return(value || n == 0, -EINVAL);

        r = check_names(project, name, aad, reterr);
        if (r < 0)
                return r;
        if (n == 0)
                return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "value",
                                "a secret value cannot be empty");
        if (n > SECRET_VALUE_MAX)
                return err_setr(reterr, -E2BIG, "PAYLOAD_TOO_LARGE", "value",
                                "a secret value has at most %d bytes", SECRET_VALUE_MAX);

        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;

        /* Lock the row, or create it; a concurrent creator makes our insert a no-op, and the
         * second lookup (a new snapshot under READ COMMITTED) then sees and locks its row. */
        for (int attempt = 0;; attempt++) {
                res = store_result_free(res);
                r = store_query(s,
                                "SELECT version, encode(value, 'hex') FROM secrets "
                                "WHERE project = $1 AND name = $2 FOR UPDATE",
                                2, (const char *const[]){project, name}, 0, &res, reterr);
                if (r < 0)
                        return r;
                if (PQntuples(res) > 0)
                        break;
                if (attempt > 0)
                        return err_set(reterr, -EAGAIN, NULL, "concurrent secret change, retry");

                if (!hex) {
                        r = seal_hex(box, value, n, aad, &hex, reterr);
                        if (r < 0)
                                return r;
                }
                res = store_result_free(res);
                r = store_query(s,
                                "INSERT INTO secrets (project, name, value) "
                                "VALUES ($1, $2, decode($3, 'hex')) "
                                "ON CONFLICT (project, name) DO NOTHING RETURNING version",
                                3, (const char *const[]){project, name, hex}, 0, &res, reterr);
                if (r < 0)
                        return r;
                if (PQntuples(res) > 0) {
                        outcome = SECRET_CREATED;
                        break;
                }
        }
        if (store_get_i64(res, 0, 0, &version) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad secret version");

        if (outcome != SECRET_CREATED) {
                r = stored_equals(box, store_get(res, 0, 1), aad, value, n, reterr);
                if (r < 0)
                        return r;
                if (!r) {
                        outcome = SECRET_UPDATED;
                        hex = mfree(hex); /* a fresh nonce for every seal */
                        r = seal_hex(box, value, n, aad, &hex, reterr);
                        if (r < 0)
                                return r;
                        res = store_result_free(res);
                        r = store_query(s,
                                        "UPDATE secrets SET value = decode($3, 'hex'), "
                                        "version = version + 1, updated_at = now() "
                                        "WHERE project = $1 AND name = $2 RETURNING version",
                                        3, (const char *const[]){project, name, hex}, 0, &res,
                                        reterr);
                        if (r < 0)
                                return r;
                        if (PQntuples(res) != 1 || store_get_i64(res, 0, 0, &version) < 0)
                                return err_set(reterr, -EIO, NULL,
                                               "state store: update lost its row");
                }
        }

        if (outcome != SECRET_UNCHANGED) {
                r = notify_users(s, project, name, reterr);
                if (r < 0)
                        return r;
        }
        r = secret_audit(s, actor, "secret_set", project, name, version,
                         secret_set_outcome_to_string(outcome), reterr);
        if (r < 0)
                return r;
        r = store_tx_commit(&tx, reterr);
        if (r < 0)
                return r;

        log_debug("secret %s/%s: %s (version %" PRId64 ")", project, name,
                  secret_set_outcome_to_string(outcome), version);
        if (ret_version)
                *ret_version = version;
        return outcome;
}

int store_secret_list(Store *s, const char *project, cJSON **ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        cJSON *j;
        int r;

        assert_return(s && ret, -EINVAL);

        r = check_project(project, reterr);
        if (r < 0)
                return r;
        r = store_query(s, SQL_LIST, 1, (const char *const[]){project}, STORE_Q_RETRY, &res,
                        reterr);
        if (r < 0)
                return r;
        r = store_get_json(res, 0, 0, &j, reterr);
        if (r < 0)
                return r;
        if (!j)
                return err_set(reterr, -EBADMSG, NULL, "state store: empty reply");
        *ret = j;
        return 0;
}

int store_secret_delete(Store *s, const char *project, const char *name, const char *actor,
                        Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        char aad[AAD_MAX];
        int64_t version = 0, users = 0;
        int r;

        assert_return(s, -EINVAL);

        r = check_names(project, name, aad, reterr);
        if (r < 0)
                return r;
        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;

        r = store_query(s,
                        "SELECT version FROM secrets WHERE project = $1 AND name = $2 FOR UPDATE",
                        2, (const char *const[]){project, name}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return not_found(reterr, project, name);
        if (store_get_i64(res, 0, 0, &version) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad secret version");

        res = store_result_free(res);
        r = store_query(s,
                        "SELECT kind, name, count(*) OVER () " SQL_USERS_OF_SECRET
                        " ORDER BY kind, name LIMIT 1",
                        2, (const char *const[]){project, name}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) > 0) {
                if (store_get_i64(res, 0, 2, &users) < 0)
                        users = 1;
                if (users > 1)
                        return err_setr(reterr, -EBUSY, "SECRET_IN_USE", NULL,
                                        "secret \"%s\" is used by %s \"%s\" and %" PRId64
                                        " other resource(s) in project \"%s\": remove those "
                                        "references first",
                                        name, strna(store_get(res, 0, 0)),
                                        strna(store_get(res, 0, 1)), users - 1, project);
                return err_setr(reterr, -EBUSY, "SECRET_IN_USE", NULL,
                                "secret \"%s\" is used by %s \"%s\" in project \"%s\": remove "
                                "that reference first",
                                name, strna(store_get(res, 0, 0)), strna(store_get(res, 0, 1)),
                                project);
        }

        res = store_result_free(res);
        r = store_query(s, "DELETE FROM secrets WHERE project = $1 AND name = $2", 2,
                        (const char *const[]){project, name}, 0, NULL, reterr);
        if (r < 0)
                return r;
        r = secret_audit(s, actor, "secret_delete", project, name, version, NULL, reterr);
        if (r < 0)
                return r;
        r = store_tx_commit(&tx, reterr);
        if (r < 0)
                return r;
        log_debug("secret %s/%s: deleted (version %" PRId64 ")", project, name, version);
        return 0;
}

int store_secret_get_version(Store *s, const char *project, const char *name, int64_t *ret,
                             Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char aad[AAD_MAX];
        int64_t version;
        int r;

        assert_return(s && ret, -EINVAL);

        r = check_names(project, name, aad, reterr);
        if (r < 0)
                return r;
        r = store_query(s, "SELECT version FROM secrets WHERE project = $1 AND name = $2", 2,
                        (const char *const[]){project, name}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return not_found(reterr, project, name);
        if (store_get_i64(res, 0, 0, &version) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad secret version");
        *ret = version;
        return 0;
}

int store_secret_reveal(Store *s, const SecretBox *box, const char *project, const char *name,
                        Buf *ret_plain, int64_t *ret_version, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_(buf_release) Buf blob = BUF_INIT(BLOB_MAX);
        char aad[AAD_MAX];
        int64_t version;
        int r;

        assert_return(s && box && ret_plain, -EINVAL);

        r = check_names(project, name, aad, reterr);
        if (r < 0)
                return r;
        r = store_query(s,
                        "SELECT version, encode(value, 'hex') FROM secrets "
                        "WHERE project = $1 AND name = $2",
                        2, (const char *const[]){project, name}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return not_found(reterr, project, name);
        if (store_get_i64(res, 0, 0, &version) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad secret version");
        r = hex_decode(store_get(res, 0, 1), &blob);
        if (r == -ENOMEM)
                return err_set(reterr, r, NULL, "out of memory");
        if (r < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: malformed sealed secret");
        r = secret_box_open_blob(box, blob.buf, blob.len, aad, ret_plain, reterr);
        if (r < 0)
                return r;
        if (ret_version)
                *ret_version = version;
        return 0;
}

int store_secret_version_or(Store *s, const char *project, const char *name, int64_t missing,
                            int64_t *ret, Error *reterr) {
        int r;

        if (!s) {
                *ret = 0;
                return 0;
        }
        r = store_secret_get_version(s, project, name, ret, reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                *ret = missing;
                return 0;
        }
        return r;
}
