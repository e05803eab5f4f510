/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Types of the Docker Engine API client (drivers/docker/docker.h), for headers that only need
 * to name them. */

/* Engine API versions: the client asks GET /version and uses min(server ApiVersion,
 * DOCKER_API_MAX); servers older than DOCKER_API_MIN are refused (-EPROTONOSUPPORT). */
#define DOCKER_API_MAX "1.41"
#define DOCKER_API_MIN "1.40"

/* Caps. Every reply body is read into a Buf capped at DOCKER_MAX_REPLY (over: -E2BIG); error
 * bodies at DOCKER_MAX_ERROR_BODY (the rest is dropped); streamed JSON lines (pull, import,
 * events) at DOCKER_MAX_LINE each. */
#define DOCKER_MAX_REPLY      (8u * 1024u * 1024u)
#define DOCKER_MAX_ERROR_BODY (64u * 1024u)
#define DOCKER_MAX_LINE       (1024u * 1024u)

/* Timeouts (ms). Every call has one; stop/kill/wait derive theirs from their arguments. */
#define DOCKER_CONNECT_TIMEOUT_MS 2000L
#define DOCKER_TIMEOUT_MS         30000L            /* default per call */
#define DOCKER_START_TIMEOUT_MS   60000L            /* start, remove(force) */
#define DOCKER_EXEC_TIMEOUT_MS    (10L * 60 * 1000) /* exec start: the command's whole run */
#define DOCKER_IMAGE_TIMEOUT_MS   (30L * 60 * 1000) /* pull, import */
#define DOCKER_STREAM_STALL_S     120L /* pull/import: abort when no byte arrived for this long */
#define DOCKER_STOP_POLL_MS       200L /* events: how often *stop is checked */

/* One engine, as DOCKER_HOST and friends describe it. Strings are borrowed. */
typedef struct DockerEngine {
        const char *name;      /* for messages and metrics; NULL: "local" */
        const char *host;      /* "unix:///var/run/docker.sock" (NULL: that), "tcp://h:2376" */
        bool tls_verify;       /* tcp: https, verify the server against cert_path/ca.pem */
        const char *cert_path; /* dir with ca.pem, cert.pem, key.pem; NULL: $HOME/.docker */
} DockerEngine;

typedef struct DockerClient DockerClient;

/* Called per JSON progress line of a pull (the raw line, NUL-terminated). */
typedef void (*DockerProgressFn)(const char *status_line, void *userdata);

/* Called per container event. action: "create" "start" "die" "destroy" "health_status: healthy"
 * ...; resource: the berth.resource label or NULL; time_nano: the event's timeNano. Return 0 to
 * go on, non-zero to end docker_events_follow() (a negative value is returned by it). */
typedef int (*DockerEventFn)(const char *action, const char *container_id, const char *resource,
                             int64_t time_nano, void *userdata);
