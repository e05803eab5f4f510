/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

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

        /* Authentication off (false): every request acts as the built-in admin "local".
         * api_exposure_decide() says which mode a listen address allows. */
        bool auth;
        /* HMAC key of session tokens: read (or created 0600) once at start. NULL: a random key
         * for this process only (sessions end with it). */
        const char *jwt_key_file;
        /* AES-256 key of secret values at rest (store/secret-box.h): read, or created 0600 when
         * absent, at start; a key file that is unsafe or malformed stops the start. NULL: the
         * secrets routes answer 503. */
        const char *master_key_file;
        /* PEM files; both or neither. Set: HTTPS only. */
        const char *tls_cert_file;
        const char *tls_key_file;
} ApiConfig;

/* Exposure policy (exposure.c), decided before anything starts:
 *   - auth: BERTH_AUTH "on" | "off"; unset: off on a loopback address, on otherwise;
 *   - a non-loopback address needs TLS (BERTH_TLS_CERT and BERTH_TLS_KEY) and auth on;
 *   - TLS may be used on loopback too; a certificate without its key (or the reverse) is refused.
 * -EPERM with a message naming the missing variable when berthd must refuse to start. */
typedef struct ApiExposure {
        bool auth;
        bool tls;
        bool loopback;
} ApiExposure;

int api_exposure_decide(const char *listen, const char *auth_env, const char *tls_cert,
                        const char *tls_key, ApiExposure *ret, Error *reterr) _warn_unused_result_;
/* True for 127.0.0.0/8, ::1 and "localhost"; any other name counts as non-loopback. */
bool api_listen_is_loopback(const char *listen);

/* `berthd init-admin [--username NAME] [--password-file FILE]` (init-admin.c): opens the state
 * store as berthd does (BERTH_DATABASE_URL / --database-url, else the embedded one in
 * BERTH_DATA_DIR / --data-dir), migrates it and creates an admin user. Without a password file,
 * prints a random one-time password. argv[0] is "init-admin". Returns the exit code. */
int api_init_admin_main(int argc, char **argv);

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
