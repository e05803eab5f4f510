/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "api/jwt.h"
#include "store/auth-store.h"
#include "store/store.h"

/* Authentication: turns the Authorization header into the request's caller before its handler
 * runs. Two kinds of bearer tokens:
 *
 *   - session tokens (JWT HS256, 15 minutes, from /api/v1/auth/login): verified with the key read
 *     once at start, then checked against the revocation list; the user's memberships are read
 *     from the store on every request, so a role change applies at once;
 *   - API tokens ("bt_<id>_<secret>"): looked up by id, the secret's sha256 compared in constant
 *     time; they act in one project with min(token role, owner's current role there).
 *
 * With authentication off (loopback only, see exposure.c) every non-public request acts as the
 * built-in admin "local". Tokens and passwords are never logged. */

static int unauthenticated(Error *e, const char *msg) {
        return err_setr(e, -EACCES, "UNAUTHENTICATED", NULL, "%s", msg);
}

static int64_t now_sec(void) {
        return (int64_t) (now_realtime() / USEC_PER_SEC);
}

void api_client_address(const ApiRequest *req, char *buf, size_t n) {
        const union MHD_ConnectionInfo *ci;
        const struct sockaddr *sa;

        snprintf(buf, n, "unknown");
        ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!ci || !ci->client_addr)
                return;
        sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
                (void) inet_ntop(AF_INET,
                                 &((const struct sockaddr_in *) (const void *) sa)->sin_addr, buf,
                                 (socklen_t) n);
        else if (sa->sa_family == AF_INET6)
                (void) inet_ntop(AF_INET6,
                                 &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr, buf,
                                 (socklen_t) n);
}

/* ---- the key ------------------------------------------------------------------------------- */

static void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}

static int key_create(const char *path, Error *reterr) {
        _cleanup_(closep) int fd = -1;
        uint8_t key[JWT_KEY_LEN];
        ssize_t n;

        if (RAND_bytes(key, sizeof(key)) != 1)
                return err_set(reterr, -EIO, NULL, "no randomness for %s", path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                OPENSSL_cleanse(key, sizeof(key));
                if (errno == EEXIST)
                        return 0; /* another berthd made it first: read theirs */
                return err_set(reterr, -errno, NULL, "cannot create %s: %m", path);
        }
        n = write(fd, key, sizeof(key));
        OPENSSL_cleanse(key, sizeof(key));
        if (n != (ssize_t) sizeof(key) || fsync(fd) < 0) {
                int r = n < 0 ? -errno : -EIO;
                (void) unlink(path);
                return err_set(reterr, r, NULL, "cannot write %s", path);
        }
        log_info("created session signing key %s", path);
        return 0;
}

int api_jwt_key_load(const char *path, uint8_t ret[32], Error *reterr) {
        _cleanup_(closep) int fd = -1;
        struct stat st;
        ssize_t n;
        int r;

        assert_return(!isempty(path) && ret, -EINVAL);

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
                r = key_create(path, reterr);
                if (r < 0)
                        return r;
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (fd < 0)
                return err_set(reterr, -errno, NULL, "cannot open %s: %m", path);
        if (fstat(fd, &st) < 0)
                return err_set(reterr, -errno, NULL, "cannot stat %s: %m", path);
        if (!S_ISREG(st.st_mode) || st.st_size != JWT_KEY_LEN)
                return err_set(reterr, -EINVAL, NULL, "%s must be a file of exactly %d bytes", path,
                               JWT_KEY_LEN);
        if ((st.st_mode & 077) != 0 || st.st_uid != geteuid())
                return err_set(reterr, -EPERM, NULL,
                               "%s must belong to berthd's user and have mode 0600", path);
        n = read(fd, ret, JWT_KEY_LEN);
        if (n != JWT_KEY_LEN)
                return err_set(reterr, n < 0 ? -errno : -EIO, NULL, "cannot read %s", path);
        return 0;
}

/* ---- password hashing slots ----------------------------------------------------------------- */

int api_kdf_acquire(ApiServer *s, Error *reterr) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += AUTH_KDF_WAIT_SEC;
        while (sem_timedwait(&s->kdf_slots, &ts) < 0) {
                if (errno == EINTR)
                        continue;
                return err_setr(reterr, -EAGAIN, "UNAVAILABLE", NULL,
                                "too many logins at once, try again");
        }
        return 0;
}

void api_kdf_release(ApiServer *s) {
        (void) sem_post(&s->kdf_slots);
}

/* ---- sessions ------------------------------------------------------------------------------- */

int api_session_issue(ApiServer *s, const char *user, char **ret_token, int64_t *ret_exp,
                      Error *reterr) {
        JwtClaims c = {};
        int r;

        assert_return(s && user && ret_token, -EINVAL);

        if (strlen(user) >= sizeof(c.sub))
                return err_set(reterr, -EINVAL, NULL, "user name too long");
        snprintf(c.sub, sizeof(c.sub), "%s", user);
        c.iat = now_sec();
        c.exp = c.iat + AUTH_SESSION_TTL_SEC;
        r = jwt_jti_new(c.jti);
        if (r >= 0)
                r = jwt_encode(s->jwt_key, &c, ret_token);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot issue a session token");
        if (ret_exp)
                *ret_exp = c.exp;
        return 0;
}

/* ---- authentication ------------------------------------------------------------------------- */

static int caller_memberships(ApiCaller *c, const StoreMembership *m, size_t n, Error *reterr) {
        c->memberships = b_calloc(n > 0 ? n : 1, sizeof(ApiMembership));
        if (!c->memberships)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        c->n_memberships = 0;
        for (size_t i = 0; i < n; i++) {
                ApiRole role = api_role_from_string(m[i].role);
                if (role < 0)
                        continue;
                snprintf(c->memberships[c->n_memberships].project,
                         sizeof(c->memberships[0].project), "%s", m[i].project);
                c->memberships[c->n_memberships++].role = role;
        }
        return 0;
}

static int session_authenticate(ApiRequest *req, const char *token, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(store_user_release) StoreUser user = {};
        _cleanup_free_ StoreMembership *m = NULL;
        ApiCaller *c = &req->caller;
        Error e = ERROR_INIT;
        JwtClaims claims;
        size_t n = 0;
        int r;

        r = jwt_verify(req->server->jwt_key, token, now_sec(), &claims, &e);
        if (r == -ENOMEM)
                return err_set(reterr, r, NULL, "out of memory");
        if (r < 0)
                return unauthenticated(reterr, e.msg);

        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = store_revocation_check(lease.store, claims.jti, reterr);
        if (r < 0)
                return r;
        if (r > 0)
                return unauthenticated(reterr, "token revoked (logged out)");
        r = store_user_get(lease.store, claims.sub, &user, &e);
        if (r == -ENOENT)
                return unauthenticated(reterr, "the token's user no longer exists");
        if (r < 0) {
                *reterr = e;
                return r;
        }
        if (!user.admin) {
                r = store_memberships_get(lease.store, user.name, &m, &n, reterr);
                if (r < 0)
                        return r;
        }

        api_caller_release(c);
        r = caller_memberships(c, m, n, reterr);
        if (r < 0)
                return r;
        c->kind = API_CALLER_USER;
        c->admin = user.admin;
        snprintf(c->name, sizeof(c->name), "%s", user.name);
        snprintf(c->actor, sizeof(c->actor), "%s", user.name);
        snprintf(c->jti, sizeof(c->jti), "%s", claims.jti);
        c->exp = claims.exp;
        return 0;
}

static int token_authenticate(ApiRequest *req, const char *token, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(store_user_release) StoreUser owner = {};
        _cleanup_free_ StoreMembership *m = NULL;
        char id[API_TOKEN_ID_LEN + 1], sha[SHA256_HEX_LEN + 1];
        ApiCaller *c = &req->caller;
        Error e = ERROR_INIT;
        StoreToken t;
        ApiRole role, cap = API_ROLE_ADMIN;
        size_t n = 0;
        bool match;
        int r;

        r = api_token_parse(token, id, sha);
        if (r < 0)
                return unauthenticated(reterr, "malformed API token");

        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = store_token_get(lease.store, id, &t, &e);
        if (r == -ENOENT)
                return unauthenticated(reterr, "unknown API token");
        if (r < 0) {
                *reterr = e;
                return r;
        }
        match = secret_equal(sha, t.secret_sha256);
        OPENSSL_cleanse(sha, sizeof(sha));
        OPENSSL_cleanse(t.secret_sha256, sizeof(t.secret_sha256));
        if (!match)
                return unauthenticated(reterr, "invalid API token");
        if (t.expired)
                return unauthenticated(reterr, "API token expired");
        role = api_role_from_string(t.role);
        if (role < 0)
                return unauthenticated(reterr, "invalid API token");

        /* The token never exceeds what its owner may do today ("local": made with
         * authentication off, by whoever could reach loopback then). */
        if (!streq(t.owner, "local")) {
                r = store_user_get(lease.store, t.owner, &owner, &e);
                if (r == -ENOENT)
                        return unauthenticated(reterr, "the API token's owner no longer exists");
                if (r < 0) {
                        *reterr = e;
                        return r;
                }
                if (!owner.admin) {
                        r = store_memberships_get(lease.store, owner.name, &m, &n, reterr);
                        if (r < 0)
                                return r;
                        cap = API_ROLE_USER;
                        for (size_t i = 0; i < n; i++)
                                if (streq(m[i].project, t.project)) {
                                        ApiRole mr = api_role_from_string(m[i].role);
                                        cap = mr < 0 ? API_ROLE_USER : mr;
                                }
                }
        }

        api_caller_release(c);
        c->memberships = b_calloc(1, sizeof(ApiMembership));
        if (!c->memberships)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (MIN(role, cap) >= API_ROLE_VIEWER) {
                snprintf(c->memberships[0].project, sizeof(c->memberships[0].project), "%s",
                         t.project);
                c->memberships[0].role = MIN(role, cap);
                c->n_memberships = 1;
        }
        c->kind = API_CALLER_TOKEN;
        snprintf(c->name, sizeof(c->name), "%s", t.owner);
        snprintf(c->token_id, sizeof(c->token_id), "%s", t.id);
        snprintf(c->actor, sizeof(c->actor), "%s/token:%s", t.owner, t.id);
        return 0;
}

int api_authenticate(ApiRequest *req, Error *reterr) {
        const char *h, *token;

        assert_return(req && req->route, -EINVAL);

        if (req->route->role == API_ROLE_PUBLIC)
                return 0;
        if (!req->server->auth) {
                api_caller_set_local(&req->caller);
                return 0;
        }

        h = api_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        if (isempty(h))
                return unauthenticated(reterr, "authentication required: send \"Authorization: "
                                               "Bearer TOKEN\" (berth login)");
        if (strncasecmp(h, "Bearer ", STRLEN("Bearer ")) != 0)
                return unauthenticated(reterr, "only \"Authorization: Bearer TOKEN\" is accepted");
        token = h + STRLEN("Bearer ");
        token += strspn(token, " ");
        if (isempty(token))
                return unauthenticated(reterr, "empty bearer token");

        if (strneq(token, API_TOKEN_PREFIX, STRLEN(API_TOKEN_PREFIX)))
                return token_authenticate(req, token, reterr);
        return session_authenticate(req, token, reterr);
}
