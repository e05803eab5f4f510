/* SPDX-License-Identifier: MIT */
#include <openssl/crypto.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "api/jwt.h"
#include "store/auth-store.h"
#include "store/store.h"

/* /api/v1/auth/{login,refresh,logout,whoami}, /api/v1/tokens, /api/v1/users and
 * /api/v1/projects/{project}/members. Every change is audited with the caller as actor; failed
 * logins with the attempted user name. Passwords and tokens are never logged nor audited. */

/* Parseable, so an unknown user costs the same scrypt run as a known one. */
static const char dummy_hash[] = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$"
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#define PASSWORD_MIN_LEN 8

/* ---- helpers -------------------------------------------------------------------------------- */

/* Parses the body, then wipes it: it may hold a password, and only the parsed copy is used. */
static int body_object(ApiRequest *req, cJSON **ret, Error *reterr) {
        cJSON *j;

        if (!req->body.buf || req->body.len == 0)
                return err_setr(reterr, -EINVAL, "BAD_REQUEST", NULL, "a JSON object is needed");
        j = cJSON_ParseWithLength(req->body.buf, req->body.len);
        OPENSSL_cleanse(req->body.buf, req->body.len);
        if (!j)
                return err_setr(reterr, -EBADMSG, "INVALID_JSON", NULL, "the body is not JSON");
        if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return err_setr(reterr, -EBADMSG, "INVALID_JSON", NULL,
                                "the body must be a JSON object");
        }
        *ret = j;
        return 0;
}

/* cJSON_Delete for bodies holding a password: string values are wiped first. */
static void secret_json_deletep(cJSON **j) {
        if (!*j)
                return;
        for (cJSON *m = (*j)->child; m; m = m->next)
                if (cJSON_IsString(m) && m->valuestring)
                        OPENSSL_cleanse(m->valuestring, strlen(m->valuestring));
        cJSON_Delete(*j);
}

/* Refuses members other than the listed ones: no silent mass assignment. */
static int body_only(const cJSON *o, const char *const *allowed, Error *reterr) {
        for (const cJSON *m = o->child; m; m = m->next) {
                bool ok = false;
                for (size_t i = 0; allowed[i]; i++)
                        if (m->string && streq(m->string, allowed[i]))
                                ok = true;
                if (!ok)
                        return err_setr(reterr, -EINVAL, "UNKNOWN_FIELD",
                                        m->string ? m->string : "", "unknown field \"%.64s\"",
                                        strempty(m->string));
        }
        return 0;
}

static int body_string(const cJSON *o, const char *key, bool required, const char **ret,
                       Error *reterr) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!v && !required) {
                *ret = NULL;
                return 0;
        }
        if (!cJSON_IsString(v) || isempty(v->valuestring))
                return err_setr(reterr, -EINVAL, v ? "INVALID_TYPE" : "REQUIRED", key,
                                "%s: a non-empty string is needed", key);
        *ret = v->valuestring;
        return 0;
}

/* An attacker-chosen string going into the audit table and rate-limit keys: at most 64 bytes,
 * control characters replaced. */
static void sanitize_name(const char *in, char *out, size_t n) {
        size_t i = 0;

        for (; in && in[i] && i + 1 < n && i < API_USER_NAME_MAX; i++)
                out[i] = ((unsigned char) in[i] < 0x20 || in[i] == 0x7f) ? '?' : in[i];
        out[i] = 0;
}

static void audit(ApiRequest *req, Store *s, const char *actor, const char *action,
                  const char *detail) {
        Error e = ERROR_INIT;

        if (store_audit_add(s, actor ? actor : api_actor(req), action, NULL, detail, &e) < 0)
                log_warn("audit %s: %s", action, e.msg);
}

static int ok_reply(ApiReply *reply, unsigned status, cJSON *o, int r, Error *reterr) {
        if (r < 0) {
                cJSON_Delete(o);
                return err_set(reterr, r, NULL, "out of memory");
        }
        r = api_reply_json(reply, status, o);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return 0;
}

static int items_reply(ApiReply *reply, cJSON *items, Error *reterr) {
        cJSON *o = cJSON_CreateObject();

        if (!o) {
                cJSON_Delete(items);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        return ok_reply(reply, 200, o, json_add_take(o, "items", items), reterr);
}

static int session_reply(ApiReply *reply, const char *user, char *token, int64_t exp,
                         Error *reterr) {
        cJSON *o = cJSON_CreateObject();
        int r;

        r = o ? json_add_string(o, "token", token) : -ENOMEM;
        OPENSSL_cleanse(token, strlen(token));
        if (r >= 0)
                r = json_add_string(o, "token_type", "Bearer");
        if (r >= 0)
                r = json_add_string(o, "username", user);
        if (r >= 0)
                r = json_add_time(o, "expires_at", (usec_t) exp * USEC_PER_SEC);
        if (r >= 0)
                r = json_add_int(o, "expires_in", AUTH_SESSION_TTL_SEC);
        return ok_reply(reply, 200, o, r, reterr);
}

/* ---- login, refresh, logout, whoami --------------------------------------------------------- */

/* 429 when the user name or the address has AUTH_LOGIN_MAX_FAILURES in the window. */
static int login_throttle(ApiRequest *req, ApiReply *reply, Store *s, const char *user,
                          const char *address, Error *reterr) {
        StoreLoginFailures f;
        int64_t retry = 0;
        char detail[128];
        int r;

        r = store_login_failures_count(s, user, address, AUTH_LOGIN_WINDOW_SEC,
                                       AUTH_LOGIN_MAX_FAILURES, &f, reterr);
        if (r < 0)
                return r;
        if (f.by_user >= AUTH_LOGIN_MAX_FAILURES)
                retry = MAX(retry, f.user_retry_after);
        if (f.by_address >= AUTH_LOGIN_MAX_FAILURES)
                retry = MAX(retry, f.address_retry_after);
        if (retry == 0)
                return 0;

        snprintf(detail, sizeof(detail), "from %s: rate limited", address);
        audit(req, s, user, "login_failed", detail);
        reply->retry_after = (unsigned) MIN(retry, (int64_t) AUTH_LOGIN_WINDOW_SEC);
        return err_setr(reterr, -EBUSY, "TOO_MANY_REQUESTS", NULL,
                        "too many failed logins; retry in %u s", reply->retry_after);
}

int api_handle_login(ApiRequest *req, ApiReply *reply, Error *reterr) {
        static const char *const fields[] = {"username", "password", NULL};
        _cleanup_(secret_json_deletep) cJSON *body = NULL;
        _cleanup_(store_user_release) StoreUser user = {};
        _cleanup_free_ char *token = NULL;
        const char *username, *password;
        char name[API_USER_NAME_MAX + 1], address[64], detail[128];
        bool known = false;
        int64_t exp = 0;
        int r, match;

        r = body_object(req, &body, reterr);
        if (r >= 0)
                r = body_only(body, fields, reterr);
        if (r >= 0)
                r = body_string(body, "username", true, &username, reterr);
        if (r >= 0)
                r = body_string(body, "password", true, &password, reterr);
        if (r < 0)
                return r;
        if (strlen(password) > PASSWORD_MAX_LEN)
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "password", "password too long");

        sanitize_name(username, name, sizeof(name));
        api_client_address(req, address, sizeof(address));
        snprintf(detail, sizeof(detail), "from %s", address);

        {
                _cleanup_(pool_lease_release) PoolLease lease = {};
                Error e = ERROR_INIT;

                r = api_store(req, &lease, reterr);
                if (r >= 0)
                        r = login_throttle(req, reply, lease.store, name, address, reterr);
                if (r < 0)
                        return r;
                if (api_user_name_is_valid(username)) {
                        r = store_user_get(lease.store, username, &user, &e);
                        if (r < 0 && r != -ENOENT) {
                                *reterr = e;
                                return r;
                        }
                        known = r >= 0;
                }
        }

        /* No store connection is held across the (deliberately slow) key derivation. */
        r = api_kdf_acquire(req->server, reterr);
        if (r < 0)
                return r;
        match = password_verify(password, known ? user.password_hash : dummy_hash);
        api_kdf_release(req->server);
        if (match < 0 && known)
                log_warn("user %s: unparsable password hash", user.name);

        {
                _cleanup_(pool_lease_release) PoolLease lease = {};
                Error e = ERROR_INIT;

                r = api_store(req, &lease, reterr);
                if (r < 0)
                        return r;
                if (!known || match <= 0) {
                        if (store_login_failure_add(lease.store, name, address,
                                                    AUTH_LOGIN_WINDOW_SEC, &e) < 0)
                                log_warn("login failure not recorded: %s", e.msg);
                        audit(req, lease.store, name, "login_failed", detail);
                        log_info("failed login for %s from %s", name, address);
                        return err_setr(reterr, -EACCES, "UNAUTHENTICATED", NULL,
                                        "invalid user name or password");
                }
                if (store_login_failures_clear(lease.store, user.name, &e) < 0)
                        log_warn("login failures not cleared: %s", e.msg);
                audit(req, lease.store, user.name, "login", detail);
        }

        r = api_session_issue(req->server, user.name, &token, &exp, reterr);
        if (r < 0)
                return r;
        log_info("login: %s from %s", user.name, address);
        return session_reply(reply, user.name, token, exp, reterr);
}

static int session_only(const ApiRequest *req, const char *what, Error *reterr) {
        if (req->caller.kind == API_CALLER_USER)
                return 0;
        return err_setr(reterr, -EINVAL, "BAD_REQUEST", NULL, "%s needs a session token (%s)", what,
                        req->caller.kind == API_CALLER_TOKEN
                                ? "API tokens are revoked with DELETE /api/v1/tokens/{id}"
                                : "authentication is off");
}

int api_handle_refresh(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_free_ char *token = NULL;
        int64_t exp = 0;
        int r;

        r = session_only(req, "refresh", reterr);
        if (r < 0)
                return r;
        r = api_session_issue(req->server, req->caller.name, &token, &exp, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_revocation_add(lease.store, req->caller.jti, req->caller.exp, reterr);
        if (r < 0)
                return r;
        audit(req, lease.store, NULL, "refresh", NULL);
        return session_reply(reply, req->caller.name, token, exp, reterr);
}

int api_handle_logout(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        cJSON *o;
        int r;

        if (req->caller.kind == API_CALLER_LOCAL) {
                o = cJSON_CreateObject();
                return ok_reply(reply, 200, o,
                                o ? json_add_string(o, "status", "authentication is off") : -ENOMEM,
                                reterr);
        }
        r = session_only(req, "logout", reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_revocation_add(lease.store, req->caller.jti, req->caller.exp, reterr);
        if (r < 0)
                return r;
        audit(req, lease.store, NULL, "logout", NULL);
        log_info("logout: %s", req->caller.name);

        o = cJSON_CreateObject();
        return ok_reply(reply, 200, o, o ? json_add_string(o, "status", "logged out") : -ENOMEM,
                        reterr);
}

static cJSON *memberships_json(const ApiCaller *c) {
        _cleanup_(cjson_deletep) cJSON *a = cJSON_CreateArray();

        if (!a)
                return NULL;
        for (size_t i = 0; i < c->n_memberships; i++) {
                cJSON *m = cJSON_CreateObject();
                int r = m ? json_add_string(m, "project", c->memberships[i].project) : -ENOMEM;
                if (r >= 0)
                        r = json_add_string(m, "role", api_role_to_string(c->memberships[i].role));
                if (r < 0) {
                        cJSON_Delete(m);
                        return NULL;
                }
                if (json_append_take(a, m) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

int api_handle_whoami(ApiRequest *req, ApiReply *reply, Error *reterr) {
        const ApiCaller *c = &req->caller;
        cJSON *o = cJSON_CreateObject();
        int r;

        r = o ? json_add_string(o, "username", c->name) : -ENOMEM;
        if (r >= 0)
                r = json_add_string(o, "actor", c->actor);
        if (r >= 0)
                r = json_add_string(o, "kind",
                                    c->kind == API_CALLER_LOCAL   ? "local"
                                    : c->kind == API_CALLER_TOKEN ? "token"
                                                                  : "session");
        if (r >= 0)
                r = json_add_bool(o, "admin", c->admin);
        if (r >= 0)
                r = json_add_take(o, "projects", memberships_json(c));
        if (r >= 0 && c->kind == API_CALLER_USER)
                r = json_add_time(o, "expires_at", (usec_t) c->exp * USEC_PER_SEC);
        return ok_reply(reply, 200, o, r, reterr);
}

/* ---- API tokens ----------------------------------------------------------------------------- */

/* Seconds: a JSON integer, or a string "<n>[s|m|h|d]". */
static int parse_expires_in(const cJSON *v, int64_t *ret, Error *reterr) {
        int64_t secs = AUTH_TOKEN_TTL_DEFAULT;

        if (!v) {
                *ret = secs;
                return 0;
        }
        if (cJSON_IsNumber(v)) {
                double d = v->valuedouble;
                if (!(d >= 0 && d <= (double) AUTH_TOKEN_TTL_MAX) || d != (double) (int64_t) d)
                        secs = -1;
                else
                        secs = (int64_t) d;
        } else if (cJSON_IsString(v) && !isempty(v->valuestring)) {
                char *end = NULL;
                long long n;

                errno = 0;
                n = strtoll(v->valuestring, &end, 10);
                if (errno != 0 || end == v->valuestring || n < 0 || n > AUTH_TOKEN_TTL_MAX)
                        secs = -1;
                else if (streq(end, "") || streq(end, "s"))
                        secs = n;
                else if (streq(end, "m"))
                        secs = n * 60;
                else if (streq(end, "h"))
                        secs = n * 3600;
                else if (streq(end, "d"))
                        secs = n * 86400;
                else
                        secs = -1;
        } else
                secs = -1;

        if (secs < 60 || secs > AUTH_TOKEN_TTL_MAX)
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "expires_in",
                                "expires_in must be 60 s to %d days (seconds, or \"30d\", "
                                "\"12h\", \"90m\")",
                                AUTH_TOKEN_TTL_MAX / 86400);
        *ret = secs;
        return 0;
}

static bool token_name_is_valid(const char *s) {
        size_t n = strnlen(s, STORE_TOKEN_NAME + 1);

        if (n == 0 || n > STORE_TOKEN_NAME)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

int api_handle_token_create(ApiRequest *req, ApiReply *reply, Error *reterr) {
        static const char *const fields[] = {"name", "project", "role", "expires_in", NULL};
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *body = NULL;
        _cleanup_free_ char *secret = NULL;
        const char *name, *project, *role_s;
        StoreToken t = {};
        ApiRole role, have;
        int64_t ttl = 0;
        char detail[256];
        cJSON *o;
        int r;

        r = body_object(req, &body, reterr);
        if (r >= 0)
                r = body_only(body, fields, reterr);
        if (r >= 0)
                r = body_string(body, "name", true, &name, reterr);
        if (r >= 0)
                r = body_string(body, "project", true, &project, reterr);
        if (r >= 0)
                r = body_string(body, "role", true, &role_s, reterr);
        if (r >= 0)
                r = parse_expires_in(cJSON_GetObjectItemCaseSensitive(body, "expires_in"), &ttl,
                                     reterr);
        if (r < 0)
                return r;
        if (!token_name_is_valid(name))
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "name",
                                "name: 1 to %d printable characters", STORE_TOKEN_NAME);
        if (!name_is_valid(project))
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "project",
                                "project must be a DNS label");
        role = api_role_from_string(role_s);
        if (role < 0)
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "role",
                                "role must be viewer, operator, editor or owner");

        r = api_authorize(req, project, reterr); /* owner of the project */
        if (r < 0)
                return r;
        if (req->caller.kind == API_CALLER_TOKEN)
                return err_setr(reterr, -EPERM, "FORBIDDEN", NULL,
                                "an API token cannot create API tokens");
        have = api_caller_role(&req->caller, project);
        if (role > have)
                return err_setr(reterr, -EPERM, "FORBIDDEN", "role",
                                "a token cannot have a higher role than its creator");

        r = api_token_new(&secret, t.id, t.secret_sha256);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot create a token");
        snprintf(t.name, sizeof(t.name), "%s", name);
        snprintf(t.owner, sizeof(t.owner), "%s", req->caller.name);
        snprintf(t.project, sizeof(t.project), "%s", project);
        snprintf(t.role, sizeof(t.role), "%s", api_role_to_string(role));

        r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_token_create(lease.store, &t, ttl, reterr);
        OPENSSL_cleanse(t.secret_sha256, sizeof(t.secret_sha256));
        if (r < 0) {
                OPENSSL_cleanse(secret, strlen(secret));
                return r;
        }
        snprintf(detail, sizeof(detail), "token %s \"%s\" project %s role %s", t.id, t.name,
                 t.project, t.role);
        audit(req, lease.store, NULL, "token_create", detail);

        o = cJSON_CreateObject();
        r = o ? json_add_string(o, "id", t.id) : -ENOMEM;
        if (r >= 0)
                r = json_add_string(o, "name", t.name);
        if (r >= 0)
                r = json_add_string(o, "project", t.project);
        if (r >= 0)
                r = json_add_string(o, "role", t.role);
        if (r >= 0)
                r = json_add_string(o, "owner", t.owner);
        if (r >= 0)
                r = json_add_time(o, "expires_at", now_realtime() + (usec_t) ttl * USEC_PER_SEC);
        if (r >= 0)
                r = json_add_string(o, "token", secret);
        OPENSSL_cleanse(secret, strlen(secret));
        return ok_reply(reply, 201, o, r, reterr);
}

/* Owners of the token's project, admins, and the user who made it. */
static bool token_manageable(const ApiCaller *c, const char *project, const char *owner) {
        if (api_caller_role(c, project) >= API_ROLE_OWNER)
                return true;
        return c->kind == API_CALLER_USER && streq(c->name, owner);
}

int api_handle_token_list(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *all = NULL;
        cJSON *items;
        int r;

        r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_token_list(lease.store, &all, reterr);
        if (r < 0)
                return r;
        pool_lease_release(&lease);

        items = cJSON_CreateArray();
        if (!items)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        while (cJSON_GetArraySize(all) > 0) {
                cJSON *t = cJSON_DetachItemFromArray(all, 0);
                const char *project = cJSON_GetStringValue(
                                   cJSON_GetObjectItemCaseSensitive(t, "project")),
                           *owner = cJSON_GetStringValue(
                                   cJSON_GetObjectItemCaseSensitive(t, "owner"));

                if (!project || !owner || !token_manageable(&req->caller, project, owner)) {
                        cJSON_Delete(t);
                        continue;
                }
                if (json_append_take(items, t) < 0) {
                        cJSON_Delete(items);
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                }
        }
        return items_reply(reply, items, reterr);
}

static bool token_id_is_valid(const char *s) {
        if (strlen(s) != API_TOKEN_ID_LEN)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

int api_handle_token_delete(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        Error e = ERROR_INIT;
        char detail[128];
        StoreToken t = {};
        cJSON *o;
        int r;

        if (!token_id_is_valid(req->id))
                return err_setr(reterr, -ENOENT, "TOKEN_NOT_FOUND", NULL,
                                "API token %.64s not found", req->id);
        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = store_token_get(lease.store, req->id, &t, &e);
        OPENSSL_cleanse(t.secret_sha256, sizeof(t.secret_sha256));
        if (r == -ENOENT || (r >= 0 && !token_manageable(&req->caller, t.project, t.owner) &&
                             !api_caller_can_see(&req->caller, t.project)))
                return err_setr(reterr, -ENOENT, "TOKEN_NOT_FOUND", NULL, "API token %s not found",
                                req->id);
        if (r < 0) {
                *reterr = e;
                return r;
        }
        if (!token_manageable(&req->caller, t.project, t.owner))
                return err_setr(reterr, -EPERM, "FORBIDDEN", NULL,
                                "role owner in project \"%s\" is needed", t.project);
        r = store_token_delete(lease.store, t.id, &e);
        if (r == -ENOENT)
                return err_setr(reterr, -ENOENT, "TOKEN_NOT_FOUND", NULL, "API token %s not found",
                                req->id);
        if (r < 0) {
                *reterr = e;
                return r;
        }
        snprintf(detail, sizeof(detail), "token %s project %s", t.id, t.project);
        audit(req, lease.store, NULL, "token_delete", detail);

        o = cJSON_CreateObject();
        r = o ? json_add_string(o, "id", t.id) : -ENOMEM;
        if (r >= 0)
                r = json_add_bool(o, "deleted", true);
        return ok_reply(reply, 200, o, r, reterr);
}

/* ---- users ---------------------------------------------------------------------------------- */

int api_handle_user_create(ApiRequest *req, ApiReply *reply, Error *reterr) {
        static const char *const fields[] = {"username", "password", "admin", NULL};
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(secret_json_deletep) cJSON *body = NULL;
        _cleanup_free_ char *hash = NULL;
        const char *username, *password;
        const cJSON *admin_j;
        bool admin = false;
        size_t plen;
        cJSON *o;
        int r;

        r = body_object(req, &body, reterr);
        if (r >= 0)
                r = body_only(body, fields, reterr);
        if (r >= 0)
                r = body_string(body, "username", true, &username, reterr);
        if (r >= 0)
                r = body_string(body, "password", true, &password, reterr);
        if (r < 0)
                return r;
        admin_j = cJSON_GetObjectItemCaseSensitive(body, "admin");
        if (admin_j && !cJSON_IsBool(admin_j))
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "admin",
                                "admin must be true or false");
        admin = cJSON_IsTrue(admin_j);
        if (!api_user_name_is_valid(username) || api_user_name_is_reserved(username))
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "username",
                                "user names are 1 to %d characters of [a-z0-9._-], starting with a "
                                "letter or digit (not \"local\" or \"anonymous\")",
                                API_USER_NAME_MAX);
        plen = strlen(password);
        if (plen < PASSWORD_MIN_LEN || plen > PASSWORD_MAX_LEN)
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "password",
                                "passwords are %d to %d bytes", PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);

        r = api_kdf_acquire(req->server, reterr);
        if (r < 0)
                return r;
        r = password_hash(password, &hash);
        api_kdf_release(req->server);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot hash the password");

        r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_user_create(lease.store, username, hash, admin, reterr);
        if (r < 0)
                return r;
        audit(req, lease.store, NULL, "user_create", admin ? "admin" : "user");
        log_info("user %s created by %s", username, api_actor(req));

        o = cJSON_CreateObject();
        r = o ? json_add_string(o, "username", username) : -ENOMEM;
        if (r >= 0)
                r = json_add_bool(o, "admin", admin);
        return ok_reply(reply, 201, o, r, reterr);
}

int api_handle_user_list(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        cJSON *items = NULL;
        int r;

        r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_user_list(lease.store, &items, reterr);
        if (r < 0)
                return r;
        return items_reply(reply, items, reterr);
}

/* ---- members -------------------------------------------------------------------------------- */

int api_handle_member_list(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        cJSON *items = NULL;
        int r;

        r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_members_list(lease.store, req->project, &items, reterr);
        if (r < 0)
                return r;
        return items_reply(reply, items, reterr);
}

int api_handle_member_put(ApiRequest *req, ApiReply *reply, Error *reterr) {
        static const char *const fields[] = {"role", NULL};
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *body = NULL;
        const char *role_s;
        char detail[160];
        ApiRole role;
        cJSON *o;
        int r;

        r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = body_object(req, &body, reterr);
        if (r >= 0)
                r = body_only(body, fields, reterr);
        if (r >= 0)
                r = body_string(body, "role", true, &role_s, reterr);
        if (r < 0)
                return r;
        role = api_role_from_string(role_s);
        if (role < 0)
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "role",
                                "role must be viewer, operator, editor or owner");
        if (role > api_caller_role(&req->caller, req->project))
                return err_setr(reterr, -EPERM, "FORBIDDEN", "role",
                                "you cannot grant a role higher than yours");

        r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_membership_set(lease.store, req->user, req->project,
                                         api_role_to_string(role), reterr);
        if (r < 0)
                return r;
        snprintf(detail, sizeof(detail), "project %s user %s role %s", req->project, req->user,
                 api_role_to_string(role));
        audit(req, lease.store, NULL, "member_set", detail);

        o = cJSON_CreateObject();
        r = o ? json_add_string(o, "project", req->project) : -ENOMEM;
        if (r >= 0)
                r = json_add_string(o, "username", req->user);
        if (r >= 0)
                r = json_add_string(o, "role", api_role_to_string(role));
        return ok_reply(reply, 200, o, r, reterr);
}

int api_handle_member_delete(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        char detail[160];
        cJSON *o;
        int r;

        r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_membership_delete(lease.store, req->user, req->project, reterr);
        if (r < 0)
                return r;
        snprintf(detail, sizeof(detail), "project %s user %s", req->project, req->user);
        audit(req, lease.store, NULL, "member_remove", detail);

        o = cJSON_CreateObject();
        r = o ? json_add_string(o, "project", req->project) : -ENOMEM;
        if (r >= 0)
                r = json_add_string(o, "username", req->user);
        if (r >= 0)
                r = json_add_bool(o, "removed", true);
        return ok_reply(reply, 200, o, r, reterr);
}
