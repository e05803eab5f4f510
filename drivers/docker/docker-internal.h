/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the drivers/docker .c files only. */

#include <stdarg.h>
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
int docker_pathv(Buf *out, const char *tmpl, va_list ap) _warn_unused_result_;
/* Appends "?key=value" (first) or "&key=value", value escaped. */
int docker_query(Buf *out, const char *key, const char *value) _warn_unused_result_;
/* Appends a filters= query for label filters and an optional type (nothing when both empty). */
int docker_query_filters(Buf *out, char *const *labels, const char *type) _warn_unused_result_;

/* Formats an operation name into buf: "create container x". */
const char *docker_op(char *buf, size_t n, const char *fmt, ...) _printf_(3, 4);
#define DOCKER_OP_MAX 160

/* ---- call.c: what the object files' calls share ---- */

/* "<op>: out of memory"; for a Buf error while building a path (r), "<op>: request path too
 * long" when it is -E2BIG. Both return the code. */
int docker_oom(Error *reterr, const char *op) _warn_unused_result_;
int docker_path_error(Error *reterr, const char *op, int r) _warn_unused_result_;

/* One call: rq (method, op, timeouts, overrides, handlers; not path and reply) to the path tmpl
 * with each "{}" replaced by the next const char * argument, escaped. A query may be part of
 * tmpl ("/containers/{}/kill?signal={}"); arguments past the last hole are ignored, so a caller
 * may choose between templates. body (may be NULL) goes as JSON; with ret, the reply is parsed
 * into *ret (the caller's), else discarded. Returns 0 or a negative errno, reterr filled. */
int docker_call(DockerClient *c, const DockerRequest *rq, const cJSON *body, cJSON **ret,
                Error *reterr, const char *tmpl, ...) _warn_unused_result_;
/* GET base (may hold a query) with a filters= query for label_filters; the reply into *ret. */
int docker_list(DockerClient *c, const char *op, const char *base, char *const *label_filters,
                cJSON **ret, Error *reterr) _warn_unused_result_;
/* docker_list(), then the "Name" of each object as a NULL-terminated strv. The objects are the
 * reply (wrapper NULL) or its member wrapper, which may be null or absent when there are none. */
int docker_list_names(DockerClient *c, const char *op, const char *base, const char *wrapper,
                      char *const *label_filters, char ***ret_names,
                      Error *reterr) _warn_unused_result_;

/* The "Id" of a reply; ret may be NULL (only checked). -EBADMSG when there is none. */
int docker_reply_id(const cJSON *doc, const char *op, char **ret,
                    Error *reterr) _warn_unused_result_;
/* The "Id" and, when ret_labels is not NULL, the labels (the object labels, may be NULL) of an
 * inspect reply. */
int docker_reply_id_labels(const cJSON *doc, const cJSON *labels, const char *op, char **ret_id,
                           char ***ret_labels, Error *reterr) _warn_unused_result_;
/* Adds "Labels" from "k=v" strings to a create body. */
int docker_body_add_labels(cJSON *body, char *const *labels, const char *op,
                           Error *reterr) _warn_unused_result_;
