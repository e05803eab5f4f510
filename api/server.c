/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "api/server.h"
#include "drivers/docker/docker.h"
#include "model/document.h"
#include "model/resource.h"

/* Threading: MHD_USE_THREAD_PER_CONNECTION with its internal polling thread. Each connection
 * gets a thread that runs our handler, which may block on the store (bounded by the pool wait
 * and libpq) or Docker (bounded by the driver's timeouts); an event stream blocks in its content
 * callback on a condition variable that api_server_stop() broadcasts. This keeps handlers plain
 * sequential code. The cost, a thread per open connection, is capped by
 * MHD_OPTION_CONNECTION_LIMIT and API_MAX_SSE_STREAMS; a thread pool with suspend/resume would
 * scale further but needs every handler to be written as a state machine. */

static const char *const security_headers[][2] = {
        {"X-Content-Type-Options", "nosniff"},
        {"Cache-Control", "no-store"},
        {"X-Frame-Options", "DENY"},
        {"Content-Security-Policy",
         "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'"},
};

/* ---- JSON helpers --------------------------------------------------------------------------- */

int json_add_string(cJSON *o, const char *key, const char *value) {
        if (!value)
                return cJSON_AddNullToObject(o, key) ? 0 : -ENOMEM;
        return cJSON_AddStringToObject(o, key, value) ? 0 : -ENOMEM;
}

int json_add_int(cJSON *o, const char *key, int64_t value) {
        return cJSON_AddNumberToObject(o, key, (double) value) ? 0 : -ENOMEM;
}

int json_add_bool(cJSON *o, const char *key, bool value) {
        return cJSON_AddBoolToObject(o, key, value) ? 0 : -ENOMEM;
}

int json_add_time(cJSON *o, const char *key, usec_t t) {
        char buf[64];

        if (t == 0)
                return cJSON_AddNullToObject(o, key) ? 0 : -ENOMEM;
        return json_add_string(o, key, format_rfc3339(t, buf, sizeof(buf)));
}

int json_add_take(cJSON *o, const char *key, cJSON *item) {
        if (!item)
                return -ENOMEM;
        if (!cJSON_AddItemToObject(o, key, item)) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        return 0;
}

int json_append_take(cJSON *array, cJSON *item) {
        if (!item)
                return -ENOMEM;
        if (!cJSON_AddItemToArray(array, item)) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        return 0;
}

/* ---- replies -------------------------------------------------------------------------------- */

void api_reply_release(ApiReply *r) {
        if (!r)
                return;
        if (r->json)
                cJSON_Delete(r->json);
        b_free(r->text);
        if (r->response)
                MHD_destroy_response(r->response);
        *r = (ApiReply){};
}

int api_reply_json(ApiReply *reply, unsigned status, cJSON *json) {
        if (!json)
                return -ENOMEM;
        if (reply->json)
                cJSON_Delete(reply->json);
        reply->json = json;
        reply->status = status;
        return 0;
}

/* ---- request accessors ---------------------------------------------------------------------- */

const char *api_query(const ApiRequest *req, const char *key) {
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *api_header(const ApiRequest *req, const char *key) {
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, key);
}

int api_query_bool(const ApiRequest *req, const char *key, bool def, bool *ret, Error *reterr) {
        const char *v = NULL;

        if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v,
                                          NULL) != MHD_YES) {
                *ret = def;
                return 0;
        }
        /* "?dry_run" alone means true. */
        if (isempty(v) || streq(v, "true") || streq(v, "1") || streq(v, "yes")) {
                *ret = true;
                return 0;
        }
        if (streq(v, "false") || streq(v, "0") || streq(v, "no")) {
                *ret = false;
                return 0;
        }
        return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", key,
                        "query parameter %s must be true or false", key);
}

int api_query_int(const ApiRequest *req, const char *key, int64_t def, int64_t min, int64_t max,
                  int64_t *ret, Error *reterr) {
        const char *v = api_query(req, key);
        char *end = NULL;
        long long n;

        if (!v) {
                *ret = def;
                return 0;
        }
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno != 0 || end == v || *end != 0 || n < min || n > max)
                return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", key,
                                "query parameter %s must be an integer in [%" PRId64 ", %" PRId64
                                "]",
                                key, min, max);
        *ret = n;
        return 0;
}

int api_query_project(const ApiRequest *req, const char **ret, Error *reterr) {
        const char *p = api_query(req, "project");

        if (isempty(p)) {
                *ret = "default";
                return 0;
        }
        if (!name_is_valid(p))
                return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "project",
                                "project must be a DNS label ([a-z0-9-], at most %d characters)",
                                NAME_MAX_LEN);
        *ret = p;
        return 0;
}

const char *api_actor(const ApiRequest *req) {
        return req && req->caller.actor[0] ? req->caller.actor : "anonymous";
}

int api_store(ApiRequest *req, PoolLease *ret, Error *reterr) {
        Store *s = NULL;
        int r;

        r = api_pool_get(req->server->pool, API_POOL_WAIT_USEC, &s, reterr);
        if (r < 0)
                return r;
        *ret = (PoolLease){.pool = req->server->pool, .store = s};
        return 0;
}

int api_docker(ApiRequest *req, DockerClient **ret, Error *reterr) {
        int r;

        if (!req->docker) {
                if (!req->server->engine)
                        return err_setr(reterr, -ENXIO, "UNAVAILABLE", NULL,
                                        "docker: no engine configured");
                r = docker_client_new(req->server->engine, &req->docker, reterr);
                if (r < 0)
                        return err_prefix(reterr, "docker");
        }
        *ret = req->docker;
        return 0;
}

/* ---- listen address ------------------------------------------------------------------------- */

typedef struct ListenAddr {
        struct sockaddr_storage sa;
        socklen_t len;
} ListenAddr;

/* "host:port", "[v6]:port". The host may be a name; its first address is used. */
static int parse_listen(const char *listen, ListenAddr *ret, Error *reterr) {
        char host[256], port[8];
        const char *colon, *h, *p;
        size_t hl;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
        struct addrinfo *res = NULL;
        char *end = NULL;
        long n;
        int r;

        if (isempty(listen))
                return err_set(reterr, -EINVAL, "listen", "empty listen address");
        if (listen[0] == '[') {
                const char *close = strchr(listen, ']');
                if (!close || close[1] != ':')
                        return err_set(reterr, -EINVAL, "listen",
                                       "bad listen address \"%s\" (want [addr]:port)", listen);
                h = listen + 1;
                hl = (size_t) (close - h);
                p = close + 2;
        } else {
                colon = strrchr(listen, ':');
                if (!colon || strchr(listen, ':') != colon)
                        return err_set(reterr, -EINVAL, "listen",
                                       "bad listen address \"%s\" (want host:port)", listen);
                h = listen;
                hl = (size_t) (colon - listen);
                p = colon + 1;
        }
        if (hl == 0 || hl >= sizeof(host))
                return err_set(reterr, -EINVAL, "listen", "bad host in listen address \"%s\"",
                               listen);
        memcpy(host, h, hl);
        host[hl] = 0;

        errno = 0;
        n = strtol(p, &end, 10);
        if (errno != 0 || end == p || *end != 0 || n < 0 || n > 65535)
                return err_set(reterr, -EINVAL, "listen", "bad port in listen address \"%s\"",
                               listen);
        snprintf(port, sizeof(port), "%ld", n);

        r = getaddrinfo(host, port, &hints, &res);
        if (r != 0)
                return err_set(reterr, -EADDRNOTAVAIL, "listen", "cannot resolve \"%s\": %s", host,
                               gai_strerror(r));
        if (!res || res->ai_addrlen > sizeof(ret->sa)) {
                freeaddrinfo(res);
                return err_set(reterr, -EADDRNOTAVAIL, "listen", "no address for \"%s\"", host);
        }
        memset(&ret->sa, 0, sizeof(ret->sa));
        memcpy(&ret->sa, res->ai_addr, res->ai_addrlen);
        ret->len = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
}

/* ---- routing -------------------------------------------------------------------------------- */

typedef struct Captures {
        char kind[64];
        char name[64];
        char action[64];
        char project[64];
        char user[72];
        char id[64];
        bool overflow; /* a captured segment was longer than its slot */
} Captures;

static char *capture_slot(Captures *c, const char *pat, size_t pl, size_t *ret_size) {
        static const struct {
                const char *pattern;
                size_t offset, size;
        } slots[] = {
                {"{kind}", offsetof(Captures, kind), sizeof(((Captures *) NULL)->kind)},
                {"{name}", offsetof(Captures, name), sizeof(((Captures *) NULL)->name)},
                {"{action}", offsetof(Captures, action), sizeof(((Captures *) NULL)->action)},
                {"{project}", offsetof(Captures, project), sizeof(((Captures *) NULL)->project)},
                {"{user}", offsetof(Captures, user), sizeof(((Captures *) NULL)->user)},
                {"{id}", offsetof(Captures, id), sizeof(((Captures *) NULL)->id)},
        };

        for (size_t i = 0; i < ELEMENTSOF(slots); i++)
                if (pl == strlen(slots[i].pattern) && strneq(pat, slots[i].pattern, pl)) {
                        *ret_size = slots[i].size;
                        return (char *) c + slots[i].offset;
                }
        return NULL;
}

/* Segment-wise match of path against pattern; {x} captures one non-empty segment. */
static bool path_match(const char *pat, const char *path, Captures *c) {
        if (streq(pat, "/") || streq(path, "/"))
                return streq(pat, path);

        while (*pat && *path) {
                size_t pl, ul, size = 0;
                char *slot;

                if (*pat != '/' || *path != '/')
                        return false;
                pat++;
                path++;
                pl = strcspn(pat, "/");
                ul = strcspn(path, "/");
                if (ul == 0)
                        return false;
                slot = pat[0] == '{' ? capture_slot(c, pat, pl, &size) : NULL;
                if (slot) {
                        size_t n = MIN(ul, size - 1);
                        if (ul > size - 1)
                                c->overflow = true;
                        memcpy(slot, path, n);
                        slot[n] = 0;
                } else if (pl != ul || !strneq(pat, path, pl))
                        return false;
                pat += pl;
                path += ul;
        }
        return *pat == 0 && *path == 0;
}

static bool method_matches(const char *route_method, const char *method) {
        if (streq(route_method, method))
                return true;
        return streq(method, "HEAD") && streq(route_method, "GET");
}

static void allow_add(char *allow, size_t n, const char *method) {
        size_t len = strlen(allow);

        if (strstr(allow, method))
                return;
        snprintf(allow + len, n - len, "%s%s", len ? ", " : "", method);
}

/* Finds the route, validates path captures and calls the handler. */
static int route_request(ApiRequest *req, ApiReply *reply, Error *e) {
        const ApiRoute *found = NULL;
        char allow[64] = "";
        Captures c = {};
        int r;

        for (size_t i = 0; i < api_n_routes; i++) {
                Captures tmp = {};

                if (!path_match(api_routes[i].path, req->url, &tmp))
                        continue;
                allow_add(allow, sizeof(allow), api_routes[i].method);
                if (streq(api_routes[i].method, "GET"))
                        allow_add(allow, sizeof(allow), "HEAD");
                if (!found && method_matches(api_routes[i].method, req->method)) {
                        found = &api_routes[i];
                        c = tmp;
                }
        }

        if (!found) {
                if (allow[0]) {
                        r = err_setr(e, -EINVAL, "METHOD_NOT_ALLOWED", NULL,
                                     "method %s is not allowed here (allowed: %s)", req->method,
                                     allow);
                        snprintf(reply->allow, sizeof(reply->allow), "%s", allow);
                        return r;
                }
                return err_setr(e, -ENOENT, "ROUTE_NOT_FOUND", NULL, "no route for %s %s",
                                req->method, req->url);
        }
        req->route = found;

        if (strstr(found->path, "{kind}")) {
                req->kind = c.overflow ? _KIND_INVALID : kind_from_string(c.kind);
                if (req->kind < 0)
                        return err_setr(e, -ENOENT, "INVALID_KIND", NULL, "unknown kind \"%s\"",
                                        c.kind);
        }
        if (strstr(found->path, "{name}")) {
                if (c.overflow || !name_is_valid(c.name) || strlen(c.name) >= sizeof(req->name))
                        return err_setr(e, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                        "%s \"%s\" not found (not a valid name)",
                                        req->kind >= 0 ? kind_to_string(req->kind) : "resource",
                                        c.name);
                memcpy(req->name, c.name, strlen(c.name) + 1);
        }
        if (strstr(found->path, "{action}")) {
                if (c.overflow)
                        return err_setr(e, -ENOENT, "ACTION_NOT_SUPPORTED", NULL,
                                        "action name too long");
                snprintf(req->action, sizeof(req->action), "%s", c.action);
        }

        if (strstr(found->path, "{project}")) {
                if (c.overflow || !name_is_valid(c.project) ||
                    strlen(c.project) >= sizeof(req->project))
                        return err_setr(e, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                        "project \"%s\" not found", c.project);
                memcpy(req->project, c.project, strlen(c.project) + 1);
        }
        if (strstr(found->path, "{user}")) {
                if (c.overflow || !api_user_name_is_valid(c.user) ||
                    strlen(c.user) >= sizeof(req->user))
                        return err_setr(e, -ENOENT, "USER_NOT_FOUND", NULL,
                                        "user \"%s\" not found (not a valid user name)", c.user);
                memcpy(req->user, c.user, strlen(c.user) + 1);
        }
        if (strstr(found->path, "{id}")) {
                if (c.overflow)
                        return err_setr(e, -ENOENT, "RESOURCE_NOT_FOUND", NULL, "id too long");
                snprintf(req->id, sizeof(req->id), "%s", c.id);
        }

        /* Who is asking, before anything else is looked at. Project roles are checked by the
         * handlers, in the project of what they touch. */
        r = api_authenticate(req, e);
        if (r < 0)
                return r;
        if (found->role == API_ROLE_ADMIN && !req->caller.admin)
                return err_setr(e, -EPERM, "FORBIDDEN", NULL, "this needs the admin role");

        if (req->too_large)
                return err_setr(e, -E2BIG, "PAYLOAD_TOO_LARGE", NULL,
                                "request body exceeds %d bytes", API_MAX_BODY);

        r = found->handler(req, reply, e);
        if (r < 0 && e->code == 0) {
                char sbuf[128];
                err_set(e, r, NULL, "%s", err_str(r, sbuf, sizeof(sbuf)));
        }
        return r;
}

/* ---- responses ------------------------------------------------------------------------------ */

static const char oom_body[] = "{\"code\":\"INTERNAL\",\"message\":\"out of memory\"}";

static struct MHD_Response *reply_to_response(ApiReply *reply, const char **ret_type) {
        struct MHD_Response *resp;

        if (reply->response) {
                *ret_type = NULL; /* set by whoever built it */
                return TAKE_PTR(reply->response);
        }
        if (reply->json) {
                char *txt = cJSON_PrintUnformatted(reply->json);
                if (!txt)
                        return NULL;
                resp = MHD_create_response_from_buffer_with_free_callback(strlen(txt), txt,
                                                                          cJSON_free);
                if (!resp)
                        cJSON_free(txt);
                *ret_type = "application/json";
                return resp;
        }
        if (reply->text) {
                resp = MHD_create_response_from_buffer_with_free_callback(reply->text_len,
                                                                          reply->text, b_free);
                if (resp)
                        reply->text = NULL;
                *ret_type = reply->content_type ? reply->content_type : "text/plain; charset=utf-8";
                return resp;
        }
        *ret_type = NULL;
        return MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result queue_reply(ApiRequest *req, ApiReply *reply) {
        struct MHD_Response *resp;
        const char *type = NULL;
        unsigned status = reply->status ? reply->status : MHD_HTTP_OK;
        enum MHD_Result ret;

        resp = reply_to_response(reply, &type);
        if (!resp) {
                resp = MHD_create_response_from_buffer(STRLEN(oom_body), (void *) oom_body,
                                                       MHD_RESPMEM_PERSISTENT);
                if (!resp)
                        return MHD_NO;
                status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                type = "application/json";
        }
        if (type)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        if (reply->allow[0])
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
        if (reply->retry_after > 0) {
                char v[16];
                snprintf(v, sizeof(v), "%u", reply->retry_after);
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
        }
        if (status == MHD_HTTP_UNAUTHORIZED)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                               "Bearer realm=\"berth\"");
        if (req->server->tls)
                (void) MHD_add_response_header(resp, "Strict-Transport-Security",
                                               "max-age=31536000");
        for (size_t i = 0; i < ELEMENTSOF(security_headers); i++)
                (void) MHD_add_response_header(resp, security_headers[i][0],
                                               security_headers[i][1]);

        ret = MHD_queue_response(req->conn, status, resp);
        MHD_destroy_response(resp);
        req->done = true;
        if (status < ELEMENTSOF(req->server->requests_by_code))
                atomic_fetch_add(&req->server->requests_by_code[status], 1);
        log_debug("%s %s -> %u", req->method, req->url, status);
        return ret;
}

static enum MHD_Result respond_error(ApiRequest *req, const Error *e) {
        _cleanup_(api_reply_release) ApiReply reply = {};

        if (api_error_reply(e, &reply) < 0)
                api_reply_release(&reply); /* queue_reply answers 500 */
        return queue_reply(req, &reply);
}

/* Server-side failures are worth a line; refusals of bad requests are the client's business,
 * and an unready /readyz or a full stream table are expected states. */
static void log_error_reply(const ApiRequest *req, const Error *e) {
        const char *code = NULL;
        unsigned status = api_error_status(e, &code);

        if (status < 500)
                log_debug("%s %s: %u %s: %s", req->method, req->url, status, code, e->msg);
        else if (streq(code, "NOT_READY") || streq(code, "TOO_MANY_STREAMS"))
                log_info("%s %s: %s", req->method, req->url, e->msg);
        else
                log_warn("%s %s: %s", req->method, req->url, e->msg);
}

static enum MHD_Result dispatch(ApiRequest *req) {
        _cleanup_(api_reply_release) ApiReply reply = {};
        Error e = ERROR_INIT;
        unsigned retry_after;
        char allow[64];
        int r;

        r = route_request(req, &reply, &e);
        if (r >= 0)
                return queue_reply(req, &reply);

        snprintf(allow, sizeof(allow), "%s", reply.allow);
        retry_after = reply.retry_after;
        api_reply_release(&reply);
        if (api_error_reply(&e, &reply) < 0)
                api_reply_release(&reply);
        snprintf(reply.allow, sizeof(reply.allow), "%s", allow);
        reply.retry_after = retry_after;
        log_error_reply(req, &e);
        return queue_reply(req, &reply);
}

/* ---- MHD callbacks -------------------------------------------------------------------------- */

static void request_free(ApiRequest *req) {
        if (!req)
                return;
        buf_release(&req->body);
        api_caller_release(&req->caller);
        docker_client_free(req->docker);
        b_free(req->url);
        b_free(req);
}

static ApiRequest *request_new(ApiServer *s, struct MHD_Connection *conn, const char *method,
                               const char *url) {
        ApiRequest *req = b_calloc(1, sizeof(*req));

        if (!req)
                return NULL;
        req->server = s;
        req->conn = conn;
        req->method = method; /* MHD keeps it for the request's lifetime */
        req->url = b_strdup(url ? url : "/");
        req->kind = _KIND_INVALID;
        buf_init(&req->body, API_MAX_BODY);
        if (!req->url) {
                request_free(req);
                return NULL;
        }
        /* The path is unescaped: keep control characters out of logs (no valid route has any). */
        for (char *p = req->url; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return req;
}

static bool content_length_too_large(const char *v) {
        char *end = NULL;
        unsigned long long n;

        errno = 0;
        n = strtoull(v, &end, 10);
        return errno == 0 && end != v && n > (unsigned long long) API_MAX_BODY;
}

static void body_feed(ApiRequest *req, const char *data, size_t n) {
        if (!req->too_large) {
                int r = buf_append(&req->body, data, n);
                if (r >= 0)
                        return;
                /* -E2BIG (or -ENOMEM): stop keeping the body, drain the rest, answer 413. */
                req->too_large = true;
                req->discarded = req->body.len;
                buf_release(&req->body);
        }
        req->discarded += n;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
        ApiServer *s = cls;
        ApiRequest *req = *con_cls;

        (void) version;

        if (!req) {
                const char *cl;

                req = request_new(s, conn, method, url);
                if (!req)
                        return MHD_NO;
                *con_cls = req;

                /* Refuse a declared oversized body before reading it (with "Expect:
                 * 100-continue" the client never sends it). */
                cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (cl && content_length_too_large(cl)) {
                        Error e = ERROR_INIT;
                        req->too_large = true;
                        err_setr(&e, -E2BIG, "PAYLOAD_TOO_LARGE", NULL,
                                 "request body exceeds %d bytes", API_MAX_BODY);
                        return respond_error(req, &e);
                }
                return MHD_YES;
        }

        if (*upload_data_size > 0) {
                if (!req->done)
                        body_feed(req, upload_data, *upload_data_size);
                *upload_data_size = 0;
                /* A client streaming far past the cap without a length gets cut off. */
                return req->discarded > API_MAX_DISCARD ? MHD_NO : MHD_YES;
        }

        if (req->done)
                return MHD_YES;
        return dispatch(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        (void) cls;
        (void) conn;
        (void) toe;
        request_free(*con_cls);
        *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
        char line[512];
        size_t n;

        (void) cls;
        vsnprintf(line, sizeof(line), fmt, ap);
        n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
        log_warn("microhttpd: %s", line);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void server_free(ApiServer *s) {
        if (!s)
                return;
        api_pool_free(s->pool);
        secret_box_free(s->secrets);
        OPENSSL_cleanse(s->jwt_key, sizeof(s->jwt_key));
        if (s->tls_key)
                OPENSSL_cleanse(s->tls_key, strlen(s->tls_key));
        b_free(s->tls_key);
        b_free(s->tls_cert);
        sem_destroy(&s->kdf_slots);
        pthread_cond_destroy(&s->stop_cond);
        pthread_mutex_destroy(&s->lock);
        b_free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);

/* TLS 1.2 and 1.3 only. */
#define API_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define API_MAX_PEM        (256 * 1024)

static int pem_read(const char *path, char **ret, Error *reterr) {
        _cleanup_(buf_release) Buf b = BUF_INIT(API_MAX_PEM);
        _cleanup_(fclosep) FILE *f = NULL;
        char chunk[4096];
        size_t n;
        int r;

        f = fopen(path, "re");
        if (!f)
                return err_set(reterr, -errno, NULL, "cannot open %s: %m", path);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                r = buf_append(&b, chunk, n);
                if (r < 0) {
                        OPENSSL_cleanse(chunk, sizeof(chunk));
                        return err_set(reterr, r, NULL, "%s: larger than %d bytes", path,
                                       API_MAX_PEM);
                }
        }
        OPENSSL_cleanse(chunk, sizeof(chunk));
        if (ferror(f))
                return err_set(reterr, -EIO, NULL, "cannot read %s", path);
        if (!strstr(buf_str(&b), "-----BEGIN "))
                return err_set(reterr, -EINVAL, NULL, "%s is not a PEM file", path);
        *ret = buf_take(&b);
        return *ret ? 0 : err_set(reterr, -ENOMEM, NULL, "out of memory");
}

/* The session key (read once) and the TLS certificate and key. */
static int server_keys_load(ApiServer *s, const ApiConfig *cfg, Error *reterr) {
        int r;

        r = -ENOENT;
        if (cfg->jwt_key_file) {
                Error e = ERROR_INIT;

                r = api_jwt_key_load(cfg->jwt_key_file, s->jwt_key, &e);
                if (r < 0 && cfg->auth) {
                        if (reterr)
                                *reterr = e;
                        return err_prefix(reterr, "session key");
                }
                /* Authentication off: sessions matter little, berthd starts anyway. */
                if (r < 0)
                        log_warn("session key: %s; using a key for this process only", e.msg);
        }
        if (r < 0 && RAND_bytes(s->jwt_key, sizeof(s->jwt_key)) != 1)
                return err_set(reterr, -EIO, NULL, "no randomness for the session key");

        if (!cfg->tls_cert_file != !cfg->tls_key_file)
                return err_set(reterr, -EINVAL, "tls", "TLS needs both a certificate and a key");
        if (!cfg->tls_cert_file)
                return 0;
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                return err_set(reterr, -EOPNOTSUPP, "tls",
                               "this libmicrohttpd was built without TLS support");
        r = pem_read(cfg->tls_cert_file, &s->tls_cert, reterr);
        if (r >= 0)
                r = pem_read(cfg->tls_key_file, &s->tls_key, reterr);
        if (r < 0)
                return err_prefix(reterr, "TLS");
        s->tls = true;
        return 0;
}

int api_server_start(const ApiConfig *cfg, ApiServer **ret, Error *reterr) {
        ApiServer *s;
        ListenAddr addr;
        const union MHD_DaemonInfo *info;
        unsigned flags;
        int r;

        assert_return(cfg, -EINVAL);
        assert_return(ret, -EINVAL);
        if (isempty(cfg->conninfo))
                return err_set(reterr, -EINVAL, "conninfo", "no state store configured");

        r = parse_listen(cfg->listen, &addr, reterr);
        if (r < 0)
                return r;

        s = b_calloc(1, sizeof(*s));
        if (!s)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        pthread_mutex_init(&s->lock, NULL);
        {
                pthread_condattr_t attr;
                /* Event streams wait on it with monotonic deadlines. */
                pthread_condattr_init(&attr);
                pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
                pthread_cond_init(&s->stop_cond, &attr);
                pthread_condattr_destroy(&attr);
        }
        s->engine = cfg->engine;
        (void) sem_init(&s->kdf_slots, 0, AUTH_KDF_SLOTS);
        s->auth = cfg->auth;

        r = server_keys_load(s, cfg, reterr);
        if (r < 0) {
                server_free(s);
                return r;
        }

        if (cfg->master_key_file) {
                r = secret_box_open(cfg->master_key_file, &s->secrets, reterr);
                if (r < 0) {
                        server_free(s);
                        return r;
                }
        }

        r = api_pool_new(cfg->conninfo, cfg->store_pool_size, &s->pool, reterr);
        if (r < 0) {
                server_free(s);
                return r;
        }

        flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
        if (addr.sa.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        if (s->tls)
                flags |= MHD_USE_TLS;

        {
                /* TLS options go last; MHD_OPTION_END cuts the list short without TLS. */
                struct MHD_OptionItem tls_opts[] = {
                        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
                        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
                        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *) API_TLS_PRIORITIES},
                        {MHD_OPTION_END, 0, NULL},
                };

                errno = 0;
                s->daemon = MHD_start_daemon(
                        flags, 0, NULL, NULL, on_access, s,
                        /* first, so MHD routes every message through it */
                        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
                        (const struct sockaddr *) &addr.sa, MHD_OPTION_NOTIFY_COMPLETED,
                        on_completed, s, MHD_OPTION_CONNECTION_LIMIT,
                        (unsigned) API_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                        (unsigned) 120, MHD_OPTION_ARRAY, s->tls ? tls_opts : &tls_opts[3],
                        MHD_OPTION_END);
        }
        if (!s->daemon) {
                r = negative_errno_or(-EADDRNOTAVAIL, errno);
                server_free(s);
                return err_set(reterr, r, "listen", "cannot listen on %s%s", cfg->listen,
                               cfg->tls_cert_file ? " (or the TLS certificate and key were refused)"
                                                  : "");
        }

        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        s->port = info ? info->port : 0;
        log_info("listening on %s (port %d, %s, authentication %s)", cfg->listen, s->port,
                 s->tls ? "https" : "http", s->auth ? "on" : "off");

        *ret = s;
        return 0;
}

static void deadline_after(struct timespec *ts, usec_t t) {
        usec_t until = now_monotonic() + t;
        ts->tv_sec = (time_t) (until / USEC_PER_SEC);
        ts->tv_nsec = (long) (until % USEC_PER_SEC) * 1000;
}

ApiServer *api_server_stop(ApiServer *s) {
        struct timespec deadline;

        if (!s)
                return NULL;
        atomic_store(&s->stopping, true);

        /* Let event streams end their chunked replies properly before MHD shuts the sockets:
         * each notices `stopping` at once (broadcast) and its free callback signals back. */
        deadline_after(&deadline, API_STOP_DRAIN_USEC);
        pthread_mutex_lock(&s->lock);
        pthread_cond_broadcast(&s->stop_cond);
        while (atomic_load(&s->sse_streams) > 0)
                if (pthread_cond_timedwait(&s->stop_cond, &s->lock, &deadline) == ETIMEDOUT)
                        break;
        pthread_mutex_unlock(&s->lock);

        /* Joins every connection thread. */
        MHD_stop_daemon(s->daemon);
        server_free(s);
        return NULL;
}

int api_server_port(const ApiServer *s) {
        return s ? s->port : -EINVAL;
}
