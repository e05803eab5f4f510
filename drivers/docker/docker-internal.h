/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the drivers/docker .c files only. */

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "drivers/docker/docker.h"
#include "util/buf.h"
#include "util/error.h"

#define DOCKER_MAX_PATH (64u * 1024u) /* request path with query */

struct DockerClient {
        char *name;
        char *base_url;  /* "http://localhost", "https://h:2376" */
        char *unix_path; /* NULL for tcp */
        bool tls_verify;
        char *ca_file, *cert_file, *key_file; /* NULL: not given */
        CURL *curl;
        char api_version[16]; /* "1.41"; empty until negotiated */
        char curl_error[CURL_ERROR_SIZE];
};

/* Streamed reply handlers. Return < 0 to fail the call with that code (having filled reterr
 * themselves), > 0 to end the transfer early as a success, 0 to go on. */
typedef int (*DockerChunkFn)(const char *data, size_t n, void *userdata);
typedef int (*DockerLineFn)(const char *line, size_t len, void *userdata);

typedef struct DockerStatusOverride {
        long status;
        int code;
} DockerStatusOverride;

typedef struct DockerRequest {
        const char *method; /* GET POST PUT DELETE */
        const char *path;   /* "/containers/x/json?all=1", escaped; the version is prepended */
        bool unversioned;   /* /version, /_ping */
        const char *op;     /* "create container x": prefixes every message */
        const char *content_type;
        const void *body; /* in-memory body (may be NULL: empty) */
        size_t body_len;
        const char *upload_path;           /* or: a file streamed as the body */
        long timeout_ms;                   /* 0: DOCKER_TIMEOUT_MS; < 0: none */
        long stall_s;                      /* > 0: abort when nothing arrives for that long */
        bool ok_304;                       /* 304 is a success (start, stop) */
        DockerStatusOverride overrides[2]; /* status → errno refinements; status 0 ends */
        Buf *reply;                        /* 2xx body; NULL: discarded (unless a handler is set) */
        DockerChunkFn on_chunk;            /* 2xx body, as it arrives */
        DockerLineFn on_line; /* 2xx body, split at '\n' ('\r' stripped, empty lines skipped) */
        void *userdata;
        const volatile bool *stop; /* checked every DOCKER_STOP_POLL_MS; true: success */
} DockerRequest;

/* Runs one HTTP request. Returns the HTTP status (2xx, or 304 with ok_304) on success, else a
 * negative errno with reterr filled ("<op>: <Docker's message>"). Negotiates the API version
 * first unless unversioned. */
int docker_request(DockerClient *c, const DockerRequest *rq, Error *reterr) _warn_unused_result_;
int docker_negotiate(DockerClient *c, Error *reterr) _warn_unused_result_;

/* Percent-encodes s (all but unreserved characters) onto out. */
int docker_escape(Buf *out, const char *s) _warn_unused_result_;
/* Appends tmpl to out, replacing each "{}" with the next const char * argument, escaped. */
int docker_path(Buf *out, const char *tmpl, ...) _warn_unused_result_;
/* Appends "?key=value" (first) or "&key=value", value escaped. */
int docker_query(Buf *out, const char *key, const char *value) _warn_unused_result_;
/* Appends a filters= query for label filters and an optional type (nothing when both empty). */
int docker_query_filters(Buf *out, char *const *labels, const char *type) _warn_unused_result_;

/* Sends a JSON body (printed from obj) and reads the reply into reply (may be NULL). */
int docker_request_json(DockerClient *c, DockerRequest *rq, const cJSON *obj,
                        Error *reterr) _warn_unused_result_;
/* Parses a reply body as JSON; -EBADMSG with "<op>: unparsable reply" when it is not. */
int docker_parse_reply(const Buf *body, const char *op, cJSON **ret,
                       Error *reterr) _warn_unused_result_;
/* Reads a list of names ("Name" of each object of arr) into a NULL-terminated strv. */
int docker_names_from_array(const cJSON *arr, char ***ret) _warn_unused_result_;
/* Formats an operation name into buf: "create container x". */
const char *docker_op(char *buf, size_t n, const char *fmt, ...) _printf_(3, 4);
#define DOCKER_OP_MAX 160
