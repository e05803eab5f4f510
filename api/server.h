/* SPDX-License-Identifier: MIT */
#pragma once

#include "drivers/docker/docker-t.h"
#include "util/error.h"
#include "util/macro.h"

/* berthd's HTTP API (DESIGN.md part 1, "HTTP API"): libmicrohttpd, one thread per connection,
 * bound to exactly the configured address. */
typedef struct ApiConfig {
        const char *listen;   /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080"; port 0: any */
        const char *conninfo; /* libpq conninfo of the state store */
        const DockerEngine *engine; /* for /readyz, logs and dry-run previews; NULL: no Docker */
        int store_pool_size;        /* connections kept for request handlers (<= 0: 4) */
} ApiConfig;

typedef struct ApiServer ApiServer;

/* Binds and starts serving. The configuration's strings are copied; `engine` is borrowed and
 * must outlive the server. Store connections are opened lazily, so a store that is down at
 * start makes /readyz answer 503 instead of failing here. */
int api_server_start(const ApiConfig *cfg, ApiServer **ret, Error *reterr) _warn_unused_result_;
/* Stops accepting, ends event streams (within 250 ms), waits for in-flight requests, frees.
 * NULL is fine; returns NULL. */
ApiServer *api_server_stop(ApiServer *s);
/* The bound TCP port (useful with port 0). */
int api_server_port(const ApiServer *s);
