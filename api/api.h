/* SPDX-License-Identifier: MIT */
#pragma once

/* Internals shared by the api/ sources: the request context handlers see, the route table, the
 * store pool, error mapping and the counters behind /metrics. Nothing here leaves api/. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "api/server.h"
#include "drivers/docker/docker.h"
#include "model/document.h"
#include "model/resource.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

#define API_MAX_SSE_STREAMS    32                          /* more concurrent follows get 503 */
#define API_SSE_POLL_USEC      (250 * USEC_PER_MSEC)       /* event stream store poll */
#define API_SSE_HEARTBEAT_USEC (15 * USEC_PER_SEC)         /* ": ping" comment when idle */
#define API_STOP_DRAIN_USEC    (2 * USEC_PER_SEC)          /* event streams' last chunk at stop */
#define API_POOL_WAIT_USEC     (5 * USEC_PER_SEC)          /* wait for a free store connection */
#define API_MAX_LOGS           (1024 * 1024)               /* logs route reply cap */
#define API_MAX_DISCARD        (8 * (size_t) API_MAX_BODY) /* oversized body drained, then 413 */
#define API_MAX_REPLY          (16 * 1024 * 1024)          /* JSON/text replies */
#define API_LIST_LIMIT_DEFAULT 100
#define API_LIST_LIMIT_MAX     1000
#define API_MAX_CONNECTIONS    256

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

typedef enum ApiRole {
        API_ROLE_PUBLIC,   /* no authentication ever: health, metrics, the page */
        API_ROLE_VIEWER,   /* read resources and history */
        API_ROLE_OPERATOR, /* apply, delete, actions */
} ApiRole;

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
        const DockerEngine *engine;
        int port;

        pthread_mutex_t lock;     /* only pairs with stop_cond */
        pthread_cond_t stop_cond; /* CLOCK_MONOTONIC; broadcast at stop and when a stream ends */
        atomic_bool stopping;
        atomic_int sse_streams;

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

/* Who is asking; "anonymous" until authentication lands. */
const char *api_actor(const ApiRequest *req);

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
/* The one place secrets are removed from a spec before it leaves the API. Returns a copy. */
cJSON *api_redact_spec(ResourceKind kind, const cJSON *spec);

/* handlers-events.c */
int api_handle_events(ApiRequest *req, ApiReply *reply, Error *reterr);

/* handlers-system.c */
int api_handle_healthz(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_readyz(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_metrics(ApiRequest *req, ApiReply *reply, Error *reterr);
int api_handle_index(ApiRequest *req, ApiReply *reply, Error *reterr);
