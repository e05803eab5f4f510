/* SPDX-License-Identifier: MIT */
#pragma once

/* Internals shared by the api/ sources: the request context handlers see, the route table, the
 * store pool, error mapping and the counters behind /metrics. Nothing here leaves api/. */

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "api/server.h"
#include "drivers/docker/docker.h"
#include "model/document.h"
#include "model/resource.h"
#include "store/secret-box.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

#define API_MAX_SSE_STREAMS          32                    /* more concurrent follows get 503 */
#define API_MAX_SSE_STREAMS_PER_USER 8                     /* one caller cannot take every stream */
#define API_SSE_POLL_USEC            (250 * USEC_PER_MSEC) /* event stream store poll */
#define API_SSE_HEARTBEAT_USEC       (15 * USEC_PER_SEC)   /* ": ping" comment when idle */
#define API_STOP_DRAIN_USEC          (2 * USEC_PER_SEC)    /* event streams' last chunk at stop */
#define API_POOL_WAIT_USEC           (5 * USEC_PER_SEC)    /* wait for a free store connection */
#define API_MAX_LOGS                 (1024 * 1024)         /* logs route reply cap */
#define API_MAX_DISCARD              (8 * (size_t) API_MAX_BODY) /* oversized body drained, then 413 */
#define API_MAX_REPLY                (16 * 1024 * 1024)          /* JSON/text replies */
#define API_LIST_LIMIT_DEFAULT       100
#define API_LIST_LIMIT_MAX           1000
#define API_MAX_CONNECTIONS          256

/* ---- store pool (pool.c) ---------------------------------------------------------------- */

/* A fixed number of Store connections for request handlers (a Store is not thread-safe: one
 * handler holds one at a time). Opened lazily, pinged (and so reconnected) at checkout. */
typedef struct ApiPool ApiPool;

int api_pool_new(const char *conninfo, int size, ApiPool **ret, Error *reterr) _warn_unused_result_;
/* Every connection must have been returned. NULL is fine. */
ApiPool *api_pool_free(ApiPool *p);
/* Waits up to `timeout` for a connection, opens or pings it. -ETIMEDOUT when all are busy. */
int api_pool_get(ApiPool *p, usec_t timeout, Store **ret, Error *reterr) _warn_unused_result_;
/* Returns s (NULL is fine). */
void api_pool_put(ApiPool *p, Store *s);

/* A checked-out connection that goes back to its pool at scope exit. */
typedef struct PoolLease {
        ApiPool *pool;
        Store *store;
} PoolLease;

void pool_lease_release(PoolLease *l);

/* ---- server, requests, replies (server.c) ----------------------------------------------- */

/* What a route requires, in increasing order. Project roles (viewer..owner) are held per project
 * (memberships); admin holds every project and the users API. A handler that touches a resource
 * checks the caller's role in THAT resource's project with api_authorize(); the dispatcher checks
 * only that the caller is authenticated (and an admin, for API_ROLE_ADMIN routes). */
typedef enum ApiRole {
        API_ROLE_PUBLIC,   /* no authentication ever: health, metrics, the page, login */
        API_ROLE_USER,     /* any authenticated caller (logout, refresh, filtered lists) */
        API_ROLE_VIEWER,   /* read resources and history */
        API_ROLE_OPERATOR, /* actions */
        API_ROLE_EDITOR,   /* apply, delete */
        API_ROLE_OWNER,    /* members and API tokens of the project */
        API_ROLE_ADMIN,    /* every project, users */
        _API_ROLE_MAX,
        _API_ROLE_INVALID = -EINVAL,
} ApiRole;

/* "viewer" .. "owner", "admin"; "public", "user" for the route table's own levels. */
const char *api_role_to_string(ApiRole r);
/* Project roles only: "viewer", "operator", "editor", "owner"; else _API_ROLE_INVALID. */
ApiRole api_role_from_string(const char *s);

typedef enum ApiCallerKind {
        API_CALLER_NONE,  /* not authenticated (public routes) */
        API_CALLER_LOCAL, /* authentication off: the built-in admin "local" */
        API_CALLER_USER,  /* a session token (JWT) */
        API_CALLER_TOKEN, /* an API token: one project, one role */
} ApiCallerKind;

typedef struct ApiMembership {
        char project[NAME_MAX_LEN + 1];
        ApiRole role;
} ApiMembership;

#define API_ACTOR_MAX 128

/* Who is asking: attached to each request by authentication, before its handler runs. */
typedef struct ApiCaller {
        ApiCallerKind kind;
        char name[65];             /* user name (a token: its owner); "local"; "" */
        char actor[API_ACTOR_MAX]; /* for audit rows and logs: "alice", "alice/token:<id>" */
        bool admin;
        char jti[65]; /* sessions: the token id, for logout and refresh */
        int64_t exp;  /* sessions: expiry, unix seconds */
        char token_id[17];
        ApiMembership *memberships; /* owned; a token has exactly one */
        size_t n_memberships;
} ApiCaller;

/* User names: 1 to 64 characters of [a-z0-9._-], starting with a letter or digit (the users
 * table's CHECK); "local" and "anonymous" are reserved. */
#define API_USER_NAME_MAX 64
bool api_user_name_is_valid(const char *s);
bool api_user_name_is_reserved(const char *s);

void api_caller_release(ApiCaller *c);
/* The built-in admin of authentication-off mode. */
void api_caller_set_local(ApiCaller *c);
/* The caller's role in project: API_ROLE_ADMIN for admins, the membership's role, else
 * API_ROLE_USER (authenticated, but the project does not exist for them) or API_ROLE_PUBLIC. */
ApiRole api_caller_role(const ApiCaller *c, const char *project);
static inline bool api_caller_can_see(const ApiCaller *c, const char *project) {
        return api_caller_role(c, project) >= API_ROLE_VIEWER;
}
/* 0 when the caller holds at least `need` in project. A project the caller cannot see answers
 * -ENOENT RESOURCE_NOT_FOUND ("<what> not found in project \"p\"", or "project \"p\" not
 * found" when what is NULL), exactly as a missing resource does; a visible project with too low
 * a role -EPERM FORBIDDEN. */
int api_caller_check(const ApiCaller *c, const char *project, ApiRole need, const char *what,
                     Error *reterr) _warn_unused_result_;

typedef struct ApiRequest ApiRequest;
typedef struct ApiReply ApiReply;

typedef int (*ApiHandler)(ApiRequest *req, ApiReply *reply, Error *reterr);

typedef struct ApiRoute {
        const char *method;
        const char *path; /* literal segments and {kind}, {name}, {action} */
        ApiHandler handler;
        ApiRole role;
        const char *usage;
} ApiRoute;

/* routes.c */
extern const ApiRoute api_routes[];
extern const size_t api_n_routes;

struct ApiServer {
        struct MHD_Daemon *daemon;
        ApiPool *pool;
        SecretBox *secrets; /* seals secret values (handlers-secrets.c); NULL: no master key */
        const DockerEngine *engine;
        int port;

        /* Authentication (auth.c). Off: every request acts as the admin "local". */
        bool auth;
        bool tls;
        uint8_t jwt_key[32];      /* read once at start */
        char *tls_cert, *tls_key; /* PEM, kept for the daemon's lifetime */
        sem_t kdf_slots;          /* bounds concurrent scrypt runs (32 MiB each) */

        pthread_mutex_t lock;     /* only pairs with stop_cond */
        pthread_cond_t stop_cond; /* CLOCK_MONOTONIC; broadcast at stop and when a stream ends */
        atomic_bool stopping;
        atomic_int sse_streams;
        /* Open streams per caller name, under `lock`: a small table, streams are few. */
        struct {
                char name[65];
                int n;
        } sse_users[API_MAX_SSE_STREAMS];

        atomic_ulong requests_by_code[600]; /* berth_api_requests_total{code} */
};

struct ApiRequest {
        ApiServer *server;
        struct MHD_Connection *conn;
        const char *method;
        char *url; /* path only, owned */
        const ApiRoute *route;

        /* Path captures, validated by the dispatcher when the route has them. */
        ResourceKind kind;
        char name[NAME_MAX_LEN + 1];
        char action[64];
        char project[NAME_MAX_LEN + 1]; /* {project} */
        char user[65];                  /* {user} */
        char id[64];                    /* {id} */

        ApiCaller caller; /* set before the handler runs */

        Buf body;
        size_t discarded; /* bytes past API_MAX_BODY that were drained */
        bool too_large;
        bool done; /* a response was queued */

        DockerClient *docker; /* lazily created, freed with the request */
};

/* What a handler answers with on success. Exactly one of json, text or response. */
struct ApiReply {
        unsigned status; /* 0: 200 */
        cJSON *json;     /* owned */
        char *text;      /* owned, b_malloc'd */
        size_t text_len;
        const char *content_type;      /* for text; default text/plain; charset=utf-8 */
        struct MHD_Response *response; /* prebuilt (event streams); owned */
        char allow[64];                /* Allow header (405), empty: none */
        unsigned retry_after;          /* Retry-After seconds (429), 0: none */
};

void api_reply_release(ApiReply *r);
/* Sets reply to json (taking it; NULL means -ENOMEM) with status. */
int api_reply_json(ApiReply *reply, unsigned status, cJSON *json) _warn_unused_result_;

/* Query string value or NULL. */
const char *api_query(const ApiRequest *req, const char *key);
/* Request header value or NULL. */
const char *api_header(const ApiRequest *req, const char *key);
/* Boolean query parameter: absent → def; "true"/"1"/"yes"/"" → true, "false"/"0"/"no" → false. */
int api_query_bool(const ApiRequest *req, const char *key, bool def, bool *ret,
                   Error *reterr) _warn_unused_result_;
/* Integer query parameter within [min, max]; absent → def. */
int api_query_int(const ApiRequest *req, const char *key, int64_t def, int64_t min, int64_t max,
                  int64_t *ret, Error *reterr) _warn_unused_result_;
/* ?project=, defaulting to "default"; validated as a name. */
int api_query_project(const ApiRequest *req, const char **ret, Error *reterr) _warn_unused_result_;

/* Who is asking, for audit rows and logs: the caller's actor ("local" with authentication off,
 * "anonymous" on public routes). */
const char *api_actor(const ApiRequest *req);

/* ---- authentication (auth.c) and authorisation (authz.c) -------------------------------- */

#define AUTH_SESSION_TTL_SEC    (15 * 60) /* session tokens (JWT) */
#define AUTH_LOGIN_WINDOW_SEC   (5 * 60)  /* failed logins counted over this window */
#define AUTH_LOGIN_MAX_FAILURES 5         /* per user name and per client address */
#define AUTH_KDF_SLOTS          4         /* concurrent password hashings */
#define AUTH_KDF_WAIT_SEC       10
#define AUTH_TOKEN_TTL_DEFAULT  (30 * 24 * 3600)
#define AUTH_TOKEN_TTL_MAX      (366 * 24 * 3600)

/* Reads the Authorization header (Bearer JWT or API token) into req->caller, or makes the
 * caller "local" when authentication is off. Public routes get no caller. -EACCES
 * UNAUTHENTICATED when a required token is missing, malformed, expired, revoked or unknown. */
int api_authenticate(ApiRequest *req, Error *reterr) _warn_unused_result_;
/* api_caller_check() with the route's role, naming the request's {kind}/{name} when it has
 * them. */
int api_authorize(ApiRequest *req, const char *project, Error *reterr) _warn_unused_result_;
/* The peer's address as text ("127.0.0.1", "::1"), "unknown" when MHD has none. */
void api_client_address(const ApiRequest *req, char *buf, size_t n);
/* A new session token for user. */
int api_session_issue(ApiServer *s, const char *user, char **ret_token, int64_t *ret_exp,
                      Error *reterr) _warn_unused_result_;
/* Waits for one of AUTH_KDF_SLOTS; -EAGAIN (503) after AUTH_KDF_WAIT_SEC. */
int api_kdf_acquire(ApiServer *s, Error *reterr) _warn_unused_result_;
void api_kdf_release(ApiServer *s);
/* Creates path (0600, 32 random bytes) when absent, then reads it: exactly 32 bytes, owned by us,
 * not readable by group or others. */
int api_jwt_key_load(const char *path, uint8_t ret[32], Error *reterr) _warn_unused_result_;

/* A store connection from the server's pool, returned at scope exit of the lease. */
int api_store(ApiRequest *req, PoolLease *ret, Error *reterr) _warn_unused_result_;
/* The request's Docker client, created on first use. -ENXIO when berthd has no engine. */
int api_docker(ApiRequest *req, DockerClient **ret, Error *reterr) _warn_unused_result_;

/* cJSON helpers that fail with -ENOMEM instead of silently dropping members. */
int json_add_string(cJSON *o, const char *key, const char *value) _warn_unused_result_;
int json_add_int(cJSON *o, const char *key, int64_t value) _warn_unused_result_;
int json_add_bool(cJSON *o, const char *key, bool value) _warn_unused_result_;
int json_add_time(cJSON *o, const char *key, usec_t t) _warn_unused_result_; /* RFC 3339, 0: null */
/* Adds item (taking it, even on failure). */
int json_add_take(cJSON *o, const char *key, cJSON *item) _warn_unused_result_;
int json_append_take(cJSON *array, cJSON *item) _warn_unused_result_;
static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}

/* ---- errors (errors.c): the only place that turns Error into HTTP ------------------------ */

/* Status and machine code for an error. */
unsigned api_error_status(const Error *e, const char **ret_code);
/* {"code","message","field"} for e, with its status. */
int api_error_reply(const Error *e, ApiReply *reply) _warn_unused_result_;

/* ---- handlers ----------------------------------------------------------------------------- */

/* handlers-apply.c */
int api_handle_apply(ApiRequest *req, ApiReply *reply, Error *reterr);

/* handlers-resources.c */
int api_handle_resource_list(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_get(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_delete(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_events(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_operations(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_logs(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_action(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_requests(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_resource_backups(ApiRequest *req, ApiReply *reply, Error *reterr);
/* The one place secrets are removed from a spec before it leaves the API. Returns a copy. */
cJSON *api_redact_spec(ResourceKind kind, const cJSON *spec);

/* handlers-revisions.c: a docker_service's revisions, and its rollback action (an entry of the
 * actions table in handlers-resources.c, with that table's handler signature). */
int api_handle_resource_revisions(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_action_rollback(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                        Error *reterr);

/* handlers-auth.c */
int api_handle_login(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_refresh(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_logout(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_whoami(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_token_create(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_token_list(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_token_delete(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_user_create(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_user_list(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_audit_list(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_quota_get(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_quota_put(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_member_list(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_member_put(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_member_delete(ApiRequest *req, ApiReply *reply, Error *reterr);

/* handlers-events.c */
int api_handle_events(ApiRequest *req, ApiReply *reply, Error *reterr);

/* handlers-job.c: kind job. The run action (the actions table of handlers-resources.c), the runs
 * list, and the logs route for a job: a run's logs, live while it runs, kept once it ended. */
int api_job_action_run(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                       Error *reterr);
int api_handle_resource_runs(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_job_logs(ApiRequest *req, const StoredResource *row, int64_t tail, ApiReply *reply,
                 Error *reterr);

/* handlers-mysql.c: mysql_ha's switchover and failover actions (entries of the actions table in
 * handlers-resources.c), queued as requests for the controller. */
int api_mysql_action_queue(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                           Error *reterr);

/* handlers-pg-cluster.c: pg_cluster's switchover and failover actions (entries of the actions
 * table in handlers-resources.c), queued as requests for the controller. */
int api_pg_cluster_action_queue(ApiRequest *req, Store *s, const StoredResource *row,
                                ApiReply *reply, Error *reterr);

/* handlers-secrets.c */
int api_handle_secret_put(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_secret_list(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_secret_delete(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_secret_get(ApiRequest *req, ApiReply *reply, Error *reterr);

/* handlers-system.c */
int api_handle_healthz(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_readyz(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_metrics(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_index(ApiRequest *req, ApiReply *reply, Error *reterr);
