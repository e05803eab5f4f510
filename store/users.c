/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/auth-store.h"
#include "store/store-internal.h"
#include "store/store.h"

/* Users, memberships, API tokens, revoked session tokens and login failures. */

#define SQL_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

void store_user_release(StoreUser *u) {
        if (!u)
                return;
        b_free(u->password_hash);
        *u = (StoreUser){};
}

static int copy_text(char *dst, size_t n, const char *src) {
        if (!src || strlen(src) >= n)
                return -EBADMSG;
        snprintf(dst, n, "%s", src);
        return 0;
}

/* ---- users ---------------------------------------------------------------------------------- */

int store_user_create(Store *s, const char *name, const char *password_hash, bool admin,
                      Error *reterr) {
        int r;

        assert_return(s, -EINVAL);
        assert_return(!isempty(name) && !isempty(password_hash), -EINVAL);

        r = store_query(s, "INSERT INTO users (name, password_hash, admin) VALUES ($1, $2, $3)", 3,
                        (const char *const[]){name, password_hash, admin ? "true" : "false"}, 0,
                        NULL, reterr);
        if (r == -EEXIST)
                return err_setr(reterr, r, "CONFLICT", "username", "user \"%s\" already exists",
                                name);
        if (r == -EINVAL)
                return err_setr(reterr, r, "INVALID_PARAMETER", "username",
                                "user names are 1 to 64 characters of [a-z0-9._-], starting with "
                                "a letter or digit");
        return r;
}

int store_user_get(Store *s, const char *name, StoreUser *ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        StoreUser u = {};
        int r;

        assert_return(s, -EINVAL);
        assert_return(name && ret, -EINVAL);

        r = store_query(s, "SELECT name, password_hash, admin FROM users WHERE name = $1", 1,
                        (const char *const[]){name}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_set(reterr, -ENOENT, NULL, "user \"%s\" not found", name);
        if (copy_text(u.name, sizeof(u.name), store_get(res, 0, 0)) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad user row");
        u.password_hash = b_strdup(strempty(store_get(res, 0, 1)));
        if (!u.password_hash)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        u.admin = store_get_bool(res, 0, 2);
        *ret = u;
        return 0;
}

int store_user_list(Store *s, cJSON **ret, Error *reterr) {
        assert_return(s, -EINVAL);
        assert_return(ret, -EINVAL);

        return store_query_json(
                s,
                "SELECT coalesce(json_agg(json_build_object("
                "  'username', u.name, 'admin', u.admin, 'created_at', " SQL_TIME(
                        "u.created_at") ","
                                        "  'memberships', (SELECT "
                                        "coalesce(json_agg(json_build_object("
                                        "      'project', m.project, 'role', m.role) ORDER BY "
                                        "m.project), '[]'::json)"
                                        "    FROM memberships m WHERE m.username = u.name)"
                                        ") ORDER BY u.name), '[]'::json) FROM users u",
                0, NULL, ret, reterr);
}

/* ---- memberships ---------------------------------------------------------------------------- */

int store_memberships_get(Store *s, const char *user, StoreMembership **ret, size_t *ret_n,
                          Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_free_ StoreMembership *m = NULL;
        int n, r;

        assert_return(s, -EINVAL);
        assert_return(user && ret && ret_n, -EINVAL);

        r = store_query(s,
                        "SELECT project, role FROM memberships WHERE username = $1 "
                        "ORDER BY project LIMIT 1000",
                        1, (const char *const[]){user}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        n = PQntuples(res);
        m = b_calloc(n > 0 ? (size_t) n : 1, sizeof(StoreMembership));
        if (!m)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        for (int i = 0; i < n; i++)
                if (copy_text(m[i].project, sizeof(m[i].project), store_get(res, i, 0)) < 0 ||
                    copy_text(m[i].role, sizeof(m[i].role), store_get(res, i, 1)) < 0)
                        return err_set(reterr, -EBADMSG, NULL, "state store: bad membership row");
        *ret = TAKE_PTR(m);
        *ret_n = (size_t) n;
        return 0;
}

int store_membership_set(Store *s, const char *user, const char *project, const char *role,
                         Error *reterr) {
        int r;

        assert_return(s, -EINVAL);
        assert_return(!isempty(user) && !isempty(project) && !isempty(role), -EINVAL);

        r = store_query(s,
                        "INSERT INTO memberships (username, project, role) VALUES ($1, $2, $3) "
                        "ON CONFLICT (username, project) DO UPDATE SET role = EXCLUDED.role",
                        3, (const char *const[]){user, project, role}, 0, NULL, reterr);
        if (r == -ENOENT) /* foreign key: no such user */
                return err_setr(reterr, r, "USER_NOT_FOUND", NULL, "user \"%s\" not found", user);
        return r;
}

int store_membership_delete(Store *s, const char *user, const char *project, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s, -EINVAL);
        assert_return(user && project, -EINVAL);

        r = store_query(s,
                        "DELETE FROM memberships WHERE username = $1 AND project = $2 "
                        "RETURNING username",
                        2, (const char *const[]){user, project}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_setr(reterr, -ENOENT, "USER_NOT_FOUND", NULL,
                                "user \"%s\" is not a member of project \"%s\"", user, project);
        return 0;
}

int store_members_list(Store *s, const char *project, cJSON **ret, Error *reterr) {
        assert_return(s, -EINVAL);
        assert_return(project && ret, -EINVAL);

        return store_query_json(
                s,
                "SELECT coalesce(json_agg(json_build_object('username', m.username, "
                "  'role', m.role, 'created_at', " SQL_TIME(
                        "m.created_at") ") "
                                        "  ORDER BY m.username), '[]'::json) "
                                        "FROM memberships m WHERE m.project = $1",
                1, (const char *const[]){project}, ret, reterr);
}

/* ---- API tokens ----------------------------------------------------------------------------- */

int store_token_create(Store *s, const StoreToken *t, int64_t expires_in_sec, Error *reterr) {
        char secs[32];
        int r;

        assert_return(s && t, -EINVAL);
        assert_return(expires_in_sec > 0, -EINVAL);

        snprintf(secs, sizeof(secs), "%" PRId64, expires_in_sec);
        r = store_query(
                s,
                "INSERT INTO api_tokens (id, name, owner, project, role, secret_sha256, "
                "  expires_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::bigint))",
                7,
                (const char *const[]){t->id, t->name, t->owner, t->project, t->role,
                                      t->secret_sha256, secs},
                0, NULL, reterr);
        if (r == -EEXIST)
                return err_set(reterr, r, NULL, "token id collision, try again");
        return r;
}

int store_token_get(Store *s, const char *id, StoreToken *ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        StoreToken t = {};
        int r;

        assert_return(s, -EINVAL);
        assert_return(id && ret, -EINVAL);

        r = store_query(s,
                        "SELECT id, name, owner, project, role, secret_sha256, "
                        "  extract(epoch FROM expires_at)::bigint, expires_at <= now() "
                        "FROM api_tokens WHERE id = $1",
                        1, (const char *const[]){id}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_set(reterr, -ENOENT, NULL, "token %s not found", id);
        if (copy_text(t.id, sizeof(t.id), store_get(res, 0, 0)) < 0 ||
            copy_text(t.name, sizeof(t.name), store_get(res, 0, 1)) < 0 ||
            copy_text(t.owner, sizeof(t.owner), store_get(res, 0, 2)) < 0 ||
            copy_text(t.project, sizeof(t.project), store_get(res, 0, 3)) < 0 ||
            copy_text(t.role, sizeof(t.role), store_get(res, 0, 4)) < 0 ||
            copy_text(t.secret_sha256, sizeof(t.secret_sha256), store_get(res, 0, 5)) < 0 ||
            store_get_i64(res, 0, 6, &t.expires_at) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad token row");
        t.expired = store_get_bool(res, 0, 7);
        *ret = t;
        return 0;
}

int store_token_list(Store *s, cJSON **ret, Error *reterr) {
        assert_return(s, -EINVAL);
        assert_return(ret, -EINVAL);

        return store_query_json(
                s,
                "SELECT coalesce(json_agg(json_build_object("
                "  'id', t.id, 'name', t.name, 'owner', t.owner, 'project', t.project, "
                "  'role', t.role, 'created_at', " SQL_TIME(
                        "t.created_at") ", "
                                        "  'expires_at', " SQL_TIME(
                                                "t.expires_at") ", 'expired', t.expires_at <= now()"
                                                                ") ORDER BY t.created_at DESC, "
                                                                "t.id), '[]'::json) FROM "
                                                                "api_tokens t",
                0, NULL, ret, reterr);
}

int store_token_delete(Store *s, const char *id, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s, -EINVAL);
        assert_return(id, -EINVAL);

        r = store_query(s, "DELETE FROM api_tokens WHERE id = $1 RETURNING id", 1,
                        (const char *const[]){id}, 0, &res, reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return err_set(reterr, -ENOENT, NULL, "token %s not found", id);
        return 0;
}

/* ---- revoked session tokens ----------------------------------------------------------------- */

int store_revocation_add(Store *s, const char *jti, int64_t exp, Error *reterr) {
        char exps[32];
        int r;

        assert_return(s, -EINVAL);
        assert_return(!isempty(jti), -EINVAL);

        snprintf(exps, sizeof(exps), "%" PRId64, exp);
        r = store_query(s, "DELETE FROM revoked_tokens WHERE expires_at < now()", 0, NULL, 0, NULL,
                        reterr);
        if (r < 0)
                return r;
        return store_query(s,
                           "INSERT INTO revoked_tokens (jti, expires_at) "
                           "VALUES ($1, to_timestamp($2::bigint)) ON CONFLICT (jti) DO NOTHING",
                           2, (const char *const[]){jti, exps}, 0, NULL, reterr);
}

int store_revocation_check(Store *s, const char *jti, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s, -EINVAL);
        assert_return(jti, -EINVAL);

        r = store_query(s, "SELECT 1 FROM revoked_tokens WHERE jti = $1", 1,
                        (const char *const[]){jti}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        return PQntuples(res) > 0 ? 1 : 0;
}

/* ---- login failures ------------------------------------------------------------------------- */

int store_login_failures_count(Store *s, const char *user, const char *address, int64_t window_sec,
                               int64_t limit, StoreLoginFailures *ret, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        StoreLoginFailures f = {};
        char win[32], lim[32];
        int r;

        assert_return(s, -EINVAL);
        assert_return(user && address && ret, -EINVAL);
        assert_return(window_sec > 0 && limit > 0, -EINVAL);

        snprintf(win, sizeof(win), "%" PRId64, window_sec);
        snprintf(lim, sizeof(lim), "%" PRId64, limit);
        /* The limit-th newest failure is the one whose expiry brings the count under the limit. */
        r = store_query(
                s,
                "WITH u AS (SELECT time FROM login_failures WHERE username = $1 "
                "             AND time > now() - make_interval(secs => $3::bigint)), "
                "     a AS (SELECT time FROM login_failures WHERE address = $2 "
                "             AND time > now() - make_interval(secs => $3::bigint)) "
                "SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM a), "
                "  (SELECT ceil(extract(epoch FROM time + make_interval(secs => $3::bigint) "
                "     - now()))::bigint FROM u ORDER BY time DESC OFFSET $4::bigint - 1 LIMIT 1), "
                "  (SELECT ceil(extract(epoch FROM time + make_interval(secs => $3::bigint) "
                "     - now()))::bigint FROM a ORDER BY time DESC OFFSET $4::bigint - 1 LIMIT 1)",
                4, (const char *const[]){user, address, win, lim}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (store_get_i64(res, 0, 0, &f.by_user) < 0 ||
            store_get_i64(res, 0, 1, &f.by_address) < 0 ||
            store_get_i64(res, 0, 2, &f.user_retry_after) < 0 ||
            store_get_i64(res, 0, 3, &f.address_retry_after) < 0)
                return err_set(reterr, -EBADMSG, NULL, "state store: bad login failure counts");
        f.user_retry_after = MAX(f.user_retry_after, (int64_t) 1);
        f.address_retry_after = MAX(f.address_retry_after, (int64_t) 1);
        *ret = f;
        return 0;
}

int store_login_failure_add(Store *s, const char *user, const char *address, int64_t window_sec,
                            Error *reterr) {
        char win[32];
        int r;

        assert_return(s, -EINVAL);
        assert_return(user && address && window_sec > 0, -EINVAL);

        snprintf(win, sizeof(win), "%" PRId64, window_sec);
        r = store_query(s,
                        "DELETE FROM login_failures "
                        "WHERE time < now() - make_interval(secs => $1::bigint)",
                        1, (const char *const[]){win}, 0, NULL, reterr);
        if (r < 0)
                return r;
        return store_query(s, "INSERT INTO login_failures (username, address) VALUES ($1, $2)", 2,
                           (const char *const[]){user, address}, 0, NULL, reterr);
}

int store_login_failures_clear(Store *s, const char *user, Error *reterr) {
        assert_return(s, -EINVAL);
        assert_return(user, -EINVAL);

        return store_query(s, "DELETE FROM login_failures WHERE username = $1", 1,
                           (const char *const[]){user}, 0, NULL, reterr);
}
