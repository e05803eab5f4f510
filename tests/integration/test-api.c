/* SPDX-License-Identifier: MIT */
/* Integration test of berthd's HTTP API: a real PostgreSQL (embedded, or
 * BERTH_TEST_DATABASE_URL), the real server on 127.0.0.1:<free port>, libcurl as the client,
 * and the local Docker engine when it answers (readyz, dry-run plans, logs). Prints TAP. */
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "util/common.h"

#include "api/server.h"
#include "drivers/docker/docker.h"
#include "model/document.h"
#include "store/embedded.h"
#include "store/store.h"

#define RESP_MAX (8 * 1024 * 1024)

static int n_tests, n_failed;
static char base_url[64];
static char project[NAME_MAX_LEN + 1];

static bool check(bool ok, const char *fmt, ...) _printf_(2, 3);
static bool check(bool ok, const char *fmt, ...) {
        va_list ap;

        printf("%s %d - ", ok ? "ok" : "not ok", ++n_tests);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (!ok)
                n_failed++;
        return ok;
}

/* ---- HTTP client ------------------------------------------------------------------------------
 */

typedef struct Resp {
        long status;
        Buf body;
        Buf headers;
        cJSON *json; /* parsed body when it is JSON */
} Resp;

static void resp_release(Resp *r) {
        buf_release(&r->body);
        buf_release(&r->headers);
        if (r->json)
                cJSON_Delete(r->json);
        *r = (Resp){};
}

static size_t on_body(char *p, size_t size, size_t n, void *userdata) {
        Buf *b = userdata;
        return buf_append(b, p, size * n) < 0 ? 0 : size * n;
}

typedef struct Upload {
        const char *data;
        size_t len, off;
} Upload;

static size_t on_read(char *p, size_t size, size_t n, void *userdata) {
        Upload *u = userdata;
        size_t k = MIN(size * n, u->len - u->off);

        memcpy(p, u->data + u->off, k);
        u->off += k;
        return k;
}

/* chunked: send the body with Transfer-Encoding: chunked (no Content-Length). */
static CURLcode http_ex(const char *method, const char *path, const char *body, size_t len,
                        const char *header, bool chunked, Resp *ret) {
        CURL *c = curl_easy_init();
        struct curl_slist *hdrs = NULL;
        char url[512];
        Upload up = {.data = body, .len = len};
        CURLcode cc;

        *ret = (Resp){.body = BUF_INIT(RESP_MAX), .headers = BUF_INIT(64 * 1024)};
        if (!c)
                return CURLE_OUT_OF_MEMORY;
        snprintf(url, sizeof(url), "%s%s", base_url, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (streq(method, "HEAD"))
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &ret->body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &ret->headers);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        if (header)
                hdrs = curl_slist_append(hdrs, header);
        if (body && chunked) {
                hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
                curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(c, CURLOPT_READDATA, &up);
        } else if (body) {
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(c);
        if (ret->body.len > 0)
                ret->json = cJSON_ParseWithLength(ret->body.buf, ret->body.len);
        return cc;
}

static CURLcode http(const char *method, const char *path, const char *body, Resp *ret) {
        return http_ex(method, path, body, body ? strlen(body) : 0, NULL, false, ret);
}

static const char *jstr(const cJSON *o, const char *path) {
        /* "a.b.c" into nested objects; "a[0].b" for arrays. */
        char buf[256], *save = NULL;
        const cJSON *cur = o;

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
                char *br = strchr(tok, '[');
                if (br) {
                        *br = 0;
                        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
                        cur = cJSON_GetArrayItem(cur, (int) strtol(br + 1, NULL, 10));
                } else
                        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        }
        return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static const cJSON *jget(const cJSON *o, const char *path) {
        char buf[256], *save = NULL;
        const cJSON *cur = o;

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
                char *br = strchr(tok, '[');
                if (br) {
                        *br = 0;
                        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
                        cur = cJSON_GetArrayItem(cur, (int) strtol(br + 1, NULL, 10));
                } else
                        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        }
        return cur;
}

static double jnum(const cJSON *o, const char *path) {
        const cJSON *v = jget(o, path);
        return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static bool streq_ptr(const char *a, const char *b) {
        return a && b && streq(a, b);
}

static bool has_header(const Resp *r, const char *line) {
        return r->headers.buf && strcasestr(r->headers.buf, line) != NULL;
}

/* ---- documents ----------------------------------------------------------------------------------
 */

static char *service_yaml(const char *name, const char *image, int replicas) {
        char *s = NULL;
        if (asprintf(&s,
                     "kind: docker_service\n"
                     "metadata:\n"
                     "  name: %s\n"
                     "  project: %s\n"
                     "  labels: {team: api-test}\n"
                     "spec:\n"
                     "  image: %s\n"
                     "  replicas: %d\n"
                     "  env: {GREETING: hello}\n",
                     name, project, image, replicas) < 0)
                abort();
        return s;
}

static void path_of(char *buf, size_t n, const char *name, const char *suffix) {
        snprintf(buf, n, "/api/v1/resources/docker_service/%s%s?project=%s", name, suffix, project);
}

/* ---- SSE ----------------------------------------------------------------------------------------
 */

typedef struct SseState {
        Buf data;
        Store *store; /* to insert the event once connected; NULL: don't */
        const char *uuid;
        const char *reason;
        bool inserted;
        int insert_error;
        atomic_bool connected;
        bool got;
} SseState;

static size_t on_sse(char *p, size_t size, size_t n, void *userdata) {
        SseState *st = userdata;
        char want[128];

        if (buf_append(&st->data, p, size * n) < 0)
                return 0;
        if (!atomic_load(&st->connected) && strstr(buf_str(&st->data), ": connected\n"))
                atomic_store(&st->connected, true);
        if (st->store && !st->inserted && atomic_load(&st->connected)) {
                Error e = ERROR_INIT;
                st->inserted = true;
                st->insert_error = store_event_add(st->store, st->uuid, "Normal", st->reason,
                                                   "inserted by test-api", &e);
                if (st->insert_error < 0)
                        fprintf(stderr, "store_event_add: %s\n", e.msg);
        }
        if (st->reason) {
                snprintf(want, sizeof(want), "event: %s\ndata: ", st->reason);
                const char *at = strstr(buf_str(&st->data), want);
                if (at && strstr(at, "\n\n")) {
                        st->got = true;
                        return 0; /* enough: abort the transfer */
                }
        }
        return size * n;
}

static CURLcode sse_run(const char *path, const char *header, SseState *st, long timeout_s) {
        CURL *c = curl_easy_init();
        struct curl_slist *hdrs = NULL;
        char url[512];
        CURLcode cc;

        snprintf(url, sizeof(url), "%s%s", base_url, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sse);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, st);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
        if (header)
                hdrs = curl_slist_append(hdrs, header);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        cc = curl_easy_perform(c);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(c);
        return cc;
}

typedef struct StreamThread {
        SseState st;
        CURLcode cc;
        atomic_bool finished;
} StreamThread;

static void *stream_thread(void *arg) {
        StreamThread *t = arg;
        t->cc = sse_run("/api/v1/events?follow=true", NULL, &t->st, 60);
        atomic_store(&t->finished, true);
        return NULL;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
        (void) sb;
        (void) flag;
        (void) ftw;
        return remove(p) < 0 ? -errno : 0;
}

/* ---- main ---------------------------------------------------------------------------------------
 */

static int docker_up(const DockerEngine *eng) {
        DockerClient *c = NULL;
        Error e = ERROR_INIT;
        int r = docker_client_new(eng, &c, &e);
        if (r >= 0)
                r = docker_ping(c, &e);
        docker_client_free(c);
        return r;
}

int main(void) {
        char datadir[] = "/tmp/berth-test-api-XXXXXX";
        const char *url = getenv("BERTH_TEST_DATABASE_URL");
        EmbeddedPg *pg = NULL;
        char *conninfo = NULL;
        Store *store = NULL;
        ApiServer *srv = NULL;
        DockerEngine eng = {};
        Error e = ERROR_INIT;
        bool have_docker;
        char path[512], uuid[37] = "";
        Resp r = {};
        int rc;

        setvbuf(stdout, NULL, _IOLBF, 0);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        alloc_install_cjson();
        snprintf(project, sizeof(project), "apitest-%d", (int) getpid());

        if (url)
                conninfo = b_strdup(url);
        else {
                if (!mkdtemp(datadir)) {
                        perror("mkdtemp");
                        return 1;
                }
                rc = embedded_pg_start(datadir, &pg, &conninfo, &e);
                if (rc < 0) {
                        fprintf(stderr, "embedded_pg_start: %s\n", e.msg);
                        return 1;
                }
        }
        rc = store_open(conninfo, &store, &e);
        if (rc >= 0)
                rc = store_migrate(store, &e);
        if (rc < 0) {
                fprintf(stderr, "store: %s\n", e.msg);
                return 1;
        }

        if (docker_engine_from_env(&eng) < 0)
                eng = (DockerEngine){};
        have_docker = docker_up(&eng) >= 0;

        rc = api_server_start(&(ApiConfig){.listen = "127.0.0.1:0",
                                           .conninfo = conninfo,
                                           .engine = &eng,
                                           .store_pool_size = 4},
                              &srv, &e);
        if (!check(rc >= 0, "api_server_start (%s)", rc < 0 ? e.msg : "ok"))
                return 1;
        snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", api_server_port(srv));

        /* Listen address parsing. */
        {
                ApiServer *bad = NULL;
                Error be = ERROR_INIT;
                check(api_server_start(&(ApiConfig){.listen = "127.0.0.1", .conninfo = conninfo},
                                       &bad, &be) == -EINVAL,
                      "listen without a port is refused");
                check(api_server_start(&(ApiConfig){.listen = "[::1:80", .conninfo = conninfo},
                                       &bad, &be) == -EINVAL,
                      "bad IPv6 literal is refused");
        }

        /* healthz, security headers */
        http("GET", "/healthz", NULL, &r);
        check(r.status == 200 && streq_ptr(jstr(r.json, "status"), "ok"), "healthz 200 ok");
        check(has_header(&r, "X-Content-Type-Options: nosniff") &&
                      has_header(&r, "Cache-Control: no-store") &&
                      has_header(&r, "X-Frame-Options: DENY") &&
                      has_header(&r, "Content-Security-Policy: default-src 'self'") &&
                      has_header(&r, "Content-Type: application/json") &&
                      !has_header(&r, "Access-Control-Allow-Origin"),
              "security headers, JSON content type, no CORS");
        resp_release(&r);

        /* readyz */
        http("GET", "/readyz", NULL, &r);
        if (have_docker)
                check(r.status == 200, "readyz 200 with store and docker up (got %ld %s)", r.status,
                      buf_str(&r.body));
        else
                check(r.status == 503 && streq_ptr(jstr(r.json, "code"), "NOT_READY"),
                      "readyz 503 NOT_READY without docker (%s)", buf_str(&r.body));
        resp_release(&r);

        /* apply: created, unchanged, configured */
        {
                _cleanup_free_ char *y1 = service_yaml("web", "berth/busybox:latest", 1);
                _cleanup_free_ char *y2 = service_yaml("web", "berth/busybox:latest", 2);

                http("POST", "/api/v1/apply", y1, &r);
                check(r.status == 200 && streq_ptr(jstr(r.json, "results[0].outcome"), "created") &&
                              streq_ptr(jstr(r.json, "results[0].kind"), "docker_service") &&
                              streq_ptr(jstr(r.json, "results[0].name"), "web") &&
                              streq_ptr(jstr(r.json, "results[0].project"), project) &&
                              jnum(r.json, "results[0].generation") == 1 &&
                              jstr(r.json, "results[0].uuid"),
                      "apply YAML: created, generation 1 (%ld %s)", r.status, buf_str(&r.body));
                if (jstr(r.json, "results[0].uuid"))
                        snprintf(uuid, sizeof(uuid), "%s", jstr(r.json, "results[0].uuid"));
                resp_release(&r);

                http("POST", "/api/v1/apply", y1, &r);
                check(r.status == 200 &&
                              streq_ptr(jstr(r.json, "results[0].outcome"), "unchanged") &&
                              jnum(r.json, "results[0].generation") == 1 &&
                              streq_ptr(jstr(r.json, "results[0].uuid"), uuid),
                      "apply same again: unchanged (%s)", buf_str(&r.body));
                resp_release(&r);

                http("POST", "/api/v1/apply", y2, &r);
                check(r.status == 200 &&
                              streq_ptr(jstr(r.json, "results[0].outcome"), "configured") &&
                              jnum(r.json, "results[0].generation") == 2,
                      "apply changed: configured, generation 2 (%s)", buf_str(&r.body));
                resp_release(&r);
        }

        /* JSON body works too */
        {
                char body[512];
                snprintf(body, sizeof(body),
                         "{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"worker\","
                         "\"project\":\"%s\"},\"spec\":{\"image\":\"berth/busybox\"}}",
                         project);
                http_ex("POST", "/api/v1/apply", body, strlen(body),
                        "Content-Type: application/json", false, &r);
                check(r.status == 200 && streq_ptr(jstr(r.json, "results[0].outcome"), "created"),
                      "apply JSON: created (%s)", buf_str(&r.body));
                resp_release(&r);
        }

        /* dry run: nothing stored, outcome and plan (or plan_error) */
        {
                _cleanup_free_ char *y3 = service_yaml("web", "berth/busybox:latest", 3);
                _cleanup_free_ char *ynew = service_yaml("fresh", "berth/busybox:latest", 1);
                _cleanup_free_ char *both = NULL;

                http("POST", "/api/v1/apply?dry_run=true", y3, &r);
                check(r.status == 200 && cJSON_IsTrue(jget(r.json, "dry_run")) &&
                              streq_ptr(jstr(r.json, "results[0].outcome"), "configured") &&
                              jnum(r.json, "results[0].generation") == 3 &&
                              streq_ptr(jstr(r.json, "results[0].uuid"), uuid),
                      "dry run: configured, would be generation 3 (%s)", buf_str(&r.body));
                if (have_docker)
                        check(cJSON_IsArray(jget(r.json, "results[0].plan")),
                              "dry run: plan present (%s)", buf_str(&r.body));
                else
                        check(jstr(r.json, "results[0].plan_error") != NULL,
                              "dry run without docker: plan_error (%s)", buf_str(&r.body));
                resp_release(&r);

                if (asprintf(&both, "%s---\n%s", y3, ynew) < 0)
                        abort();
                http("POST", "/api/v1/apply?dry_run=1", both, &r);
                check(r.status == 200 && streq_ptr(jstr(r.json, "results[1].outcome"), "created") &&
                              cJSON_IsNull(jget(r.json, "results[1].uuid")),
                      "dry run of a new resource: created, no uuid (%s)", buf_str(&r.body));
                resp_release(&r);

                path_of(path, sizeof(path), "web", "");
                http("GET", path, NULL, &r);
                check(r.status == 200 && jnum(r.json, "metadata.generation") == 2 &&
                              jnum(r.json, "spec.replicas") == 2,
                      "dry run stored nothing (generation still 2)");
                resp_release(&r);
                path_of(path, sizeof(path), "fresh", "");
                http("GET", path, NULL, &r);
                check(r.status == 404, "dry run did not create the new resource");
                resp_release(&r);
        }

        /* bad documents: 422 with code and field; nothing stored */
        {
                char bad[512];
                _cleanup_free_ char *good = service_yaml("good", "berth/busybox", 1);
                _cleanup_free_ char *two = NULL;

                snprintf(bad, sizeof(bad),
                         "kind: docker_service\nmetadata: {name: bad, project: %s}\n"
                         "spec: {image: berth/busybox, bogus_field: 1}\n",
                         project);
                http("POST", "/api/v1/apply", bad, &r);
                check(r.status == 422 && jstr(r.json, "code") && jstr(r.json, "message") &&
                              jstr(r.json, "field") && strstr(jstr(r.json, "field"), "bogus_field"),
                      "bad document: 422 with code, message and field (%ld %s)", r.status,
                      buf_str(&r.body));
                resp_release(&r);
                path_of(path, sizeof(path), "bad", "");
                http("GET", path, NULL, &r);
                check(r.status == 404, "bad document stored nothing");
                resp_release(&r);

                if (asprintf(&two, "%s---\n%s", good, bad) < 0)
                        abort();
                http("POST", "/api/v1/apply", two, &r);
                check(r.status == 422, "two documents, second bad: 422 (%s)", buf_str(&r.body));
                resp_release(&r);
                path_of(path, sizeof(path), "good", "");
                http("GET", path, NULL, &r);
                check(r.status == 404, "all-or-nothing: the good first document was not stored");
                resp_release(&r);

                snprintf(bad, sizeof(bad),
                         "kind: pg_tenant\nmetadata: {name: db, project: %s}\nspec: {}\n", project);
                http("POST", "/api/v1/apply", bad, &r);
                check(r.status == 422 && jstr(r.json, "code"), "unsupported kind: 422 (%ld %s)",
                      r.status, buf_str(&r.body));
                resp_release(&r);

                http("POST", "/api/v1/apply", "kind: [unclosed\n  - : :", &r);
                check(r.status == 400 && jstr(r.json, "code") && jstr(r.json, "message"),
                      "malformed YAML: 400 (%ld %s)", r.status, buf_str(&r.body));
                resp_release(&r);

                http("POST", "/api/v1/apply", "", &r);
                check(r.status == 400 || r.status == 422, "empty body refused (%ld %s)", r.status,
                      buf_str(&r.body));
                resp_release(&r);

                http("POST", "/api/v1/apply?dry_run=maybe", good, &r);
                check(r.status == 400 && streq_ptr(jstr(r.json, "code"), "INVALID_PARAMETER") &&
                              streq_ptr(jstr(r.json, "field"), "dry_run"),
                      "bad dry_run value: 400 INVALID_PARAMETER");
                resp_release(&r);
        }

        /* > 1 MiB: 413, with and without Content-Length */
        {
                size_t n = API_MAX_BODY + 4096;
                char *big = malloc(n);
                memset(big, '#', n); /* a YAML comment, if it were read */
                http_ex("POST", "/api/v1/apply", big, n, NULL, false, &r);
                check(r.status == 413 && streq_ptr(jstr(r.json, "code"), "PAYLOAD_TOO_LARGE"),
                      "body over 1 MiB: 413 PAYLOAD_TOO_LARGE (%ld)", r.status);
                resp_release(&r);
                http_ex("POST", "/api/v1/apply", big, n, NULL, true, &r);
                check(r.status == 413 && streq_ptr(jstr(r.json, "code"), "PAYLOAD_TOO_LARGE"),
                      "chunked body over 1 MiB: 413 (%ld)", r.status);
                resp_release(&r);
                free(big);
        }

        /* get */
        path_of(path, sizeof(path), "web", "");
        http("GET", path, NULL, &r);
        check(r.status == 200 && streq_ptr(jstr(r.json, "kind"), "docker_service") &&
                      streq_ptr(jstr(r.json, "metadata.name"), "web") &&
                      streq_ptr(jstr(r.json, "metadata.project"), project) &&
                      streq_ptr(jstr(r.json, "metadata.uid"), uuid) &&
                      streq_ptr(jstr(r.json, "metadata.labels.team"), "api-test") &&
                      jstr(r.json, "metadata.created_at") &&
                      streq_ptr(jstr(r.json, "spec.image"), "berth/busybox:latest") &&
                      streq_ptr(jstr(r.json, "status.phase"), "PENDING") &&
                      jnum(r.json, "status.observed_generation") == 0,
              "get: kind, metadata, spec, PENDING status (%s)", buf_str(&r.body));
        resp_release(&r);

        http("HEAD", path, NULL, &r);
        check(r.status == 200 && r.body.len == 0, "HEAD on a GET route: 200, no body");
        resp_release(&r);

        /* list */
        {
                char lp[256];
                snprintf(lp, sizeof(lp), "/api/v1/resources?project=%s&kind=docker_service",
                         project);
                http("GET", lp, NULL, &r);
                check(r.status == 200 && cJSON_GetArraySize(jget(r.json, "items")) == 2 &&
                              streq_ptr(jstr(r.json, "items[0].name"), "web") &&
                              streq_ptr(jstr(r.json, "items[0].phase"), "PENDING") &&
                              jnum(r.json, "items[0].generation") == 2 &&
                              streq_ptr(jstr(r.json, "items[0].uuid"), uuid) &&
                              jstr(r.json, "items[0].updated_at"),
                      "list by project and kind (%s)", buf_str(&r.body));
                resp_release(&r);

                http("GET", "/api/v1/resources?kind=nope", NULL, &r);
                check(r.status == 400 && streq_ptr(jstr(r.json, "field"), "kind"),
                      "list with unknown kind: 400");
                resp_release(&r);
        }

        /* 404s and 405 */
        http("GET", "/api/v1/resources/nosuchkind/web", NULL, &r);
        check(r.status == 404 && streq_ptr(jstr(r.json, "code"), "INVALID_KIND"),
              "unknown kind in path: 404 INVALID_KIND");
        resp_release(&r);
        http("GET", "/api/v1/resources/docker_service/Not_A_Name", NULL, &r);
        check(r.status == 404 && streq_ptr(jstr(r.json, "code"), "RESOURCE_NOT_FOUND"),
              "invalid name: 404 RESOURCE_NOT_FOUND");
        resp_release(&r);
        path_of(path, sizeof(path), "absent", "");
        http("GET", path, NULL, &r);
        check(r.status == 404 && streq_ptr(jstr(r.json, "code"), "RESOURCE_NOT_FOUND") &&
                      jstr(r.json, "message") && !jget(r.json, "field"),
              "absent resource: 404 RESOURCE_NOT_FOUND, no field");
        resp_release(&r);
        http("GET", "/api/v1/nothing", NULL, &r);
        check(r.status == 404 && streq_ptr(jstr(r.json, "code"), "ROUTE_NOT_FOUND"),
              "unknown route: 404 ROUTE_NOT_FOUND");
        resp_release(&r);
        http("PUT", "/api/v1/apply", "x", &r);
        check(r.status == 405 && has_header(&r, "Allow: POST") &&
                      streq_ptr(jstr(r.json, "code"), "METHOD_NOT_ALLOWED"),
              "wrong method: 405 with Allow: POST");
        resp_release(&r);
        path_of(path, sizeof(path), "web", "");
        http("PATCH", path, NULL, &r);
        check(r.status == 405 && has_header(&r, "Allow: GET, HEAD, DELETE"),
              "405 lists every method of the path");
        resp_release(&r);

        /* history */
        path_of(path, sizeof(path), "web", "/events");
        http("GET", path, NULL, &r);
        check(r.status == 200 && cJSON_IsArray(jget(r.json, "items")), "resource events: items");
        resp_release(&r);
        path_of(path, sizeof(path), "web", "/operations");
        http("GET", path, NULL, &r);
        check(r.status == 200 && cJSON_IsArray(jget(r.json, "items")),
              "resource operations: items (%s)", buf_str(&r.body));
        resp_release(&r);
        path_of(path, sizeof(path), "web", "/events");
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "&limit=0");
        http("GET", path, NULL, &r);
        check(r.status == 400 && streq_ptr(jstr(r.json, "field"), "limit"), "limit=0: 400");
        resp_release(&r);

        /* logs: no controller ran, so no container: an empty text reply */
        path_of(path, sizeof(path), "web", "/logs");
        http("GET", path, NULL, &r);
        if (have_docker)
                check(r.status == 200 && has_header(&r, "Content-Type: text/plain"),
                      "logs: 200 text/plain (%ld %s)", r.status, buf_str(&r.body));
        else
                check(r.status == 503, "logs without docker: 503");
        resp_release(&r);

        /* actions */
        path_of(path, sizeof(path), "web", "/actions/fly");
        http("POST", path, "", &r);
        check(r.status == 404 && streq_ptr(jstr(r.json, "code"), "ACTION_NOT_SUPPORTED") &&
                      strstr(jstr(r.json, "message"), "fly"),
              "unknown action: 404 ACTION_NOT_SUPPORTED (%s)", buf_str(&r.body));
        resp_release(&r);
        path_of(path, sizeof(path), "web", "/actions/restart");
        http("POST", path, "", &r);
        check(r.status == 202 && strstr(buf_str(&r.body), "rolling restart"), "restart: 202 (%s)",
              buf_str(&r.body));
        resp_release(&r);
        path_of(path, sizeof(path), "absent", "/actions/restart");
        http("POST", path, "", &r);
        check(r.status == 404 && streq_ptr(jstr(r.json, "code"), "RESOURCE_NOT_FOUND"),
              "action on an absent resource: RESOURCE_NOT_FOUND");
        resp_release(&r);

        /* events: list and follow */
        {
                SseState st = {.data = BUF_INIT(1024 * 1024),
                               .store = store,
                               .uuid = uuid,
                               .reason = "ApiTestEvent"};
                char ep[256];
                int64_t seen_id = 0;
                const char *idl;

                snprintf(ep, sizeof(ep),
                         "/api/v1/events?project=%s&kind=docker_service&name=web&follow=true",
                         project);
                sse_run(ep, NULL, &st, 30);
                check(st.insert_error >= 0 && st.got, "SSE follow receives an inserted event");
                idl = strstr(buf_str(&st.data), "id: ");
                check(idl && strstr(buf_str(&st.data), "\ndata: {"), "SSE event has id and data");
                /* The id of the ApiTestEvent block. */
                {
                        const char *at = strstr(buf_str(&st.data), "event: ApiTestEvent");
                        const char *p = at;
                        while (p && p > buf_str(&st.data) && !strneq(p, "id: ", 4))
                                p--;
                        if (p && strneq(p, "id: ", 4))
                                seen_id = strtoll(p + 4, NULL, 10);
                }
                check(seen_id > 0, "SSE event id parsed (%" PRId64 ")", seen_id);
                buf_release(&st.data);

                /* Resume: Last-Event-ID skips what was seen; a new event arrives. */
                {
                        SseState st2 = {.data = BUF_INIT(1024 * 1024),
                                        .store = store,
                                        .uuid = uuid,
                                        .reason = "ApiTestSecond"};
                        char hdr[64];
                        snprintf(hdr, sizeof(hdr), "Last-Event-ID: %" PRId64, seen_id);
                        sse_run(ep, hdr, &st2, 30);
                        check(st2.got && !strstr(buf_str(&st2.data), "event: ApiTestEvent\n"),
                              "SSE resume with Last-Event-ID sends only newer events");
                        buf_release(&st2.data);
                }

                snprintf(ep, sizeof(ep), "/api/v1/events?project=%s", project);
                http("GET", ep, NULL, &r);
                check(r.status == 200 && cJSON_GetArraySize(jget(r.json, "items")) >= 2 &&
                              strstr(buf_str(&r.body), "ApiTestEvent"),
                      "events list by project (%s)", buf_str(&r.body));
                resp_release(&r);
                snprintf(ep, sizeof(ep), "/api/v1/events?project=%s&after=%" PRId64, project,
                         seen_id);
                http("GET", ep, NULL, &r);
                check(r.status == 200 && !strstr(buf_str(&r.body), "ApiTestEvent") &&
                              strstr(buf_str(&r.body), "ApiTestSecond"),
                      "events list after=N");
                resp_release(&r);
                http("GET", "/api/v1/events?project=nobody-here", NULL, &r);
                check(r.status == 200 && cJSON_GetArraySize(jget(r.json, "items")) == 0,
                      "events of another project: none");
                resp_release(&r);
        }

        /* delete */
        path_of(path, sizeof(path), "web", "");
        http("DELETE", path, NULL, &r);
        check(r.status == 202 && streq_ptr(jstr(r.json, "phase"), "DELETING") &&
                      streq_ptr(jstr(r.json, "name"), "web"),
              "delete: 202 DELETING (%s)", buf_str(&r.body));
        resp_release(&r);
        http("GET", path, NULL, &r);
        check(r.status == 200 && streq_ptr(jstr(r.json, "status.phase"), "DELETING"),
              "get after delete shows DELETING (%s)", buf_str(&r.body));
        resp_release(&r);
        path_of(path, sizeof(path), "absent", "");
        http("DELETE", path, NULL, &r);
        check(r.status == 404 && streq_ptr(jstr(r.json, "code"), "RESOURCE_NOT_FOUND"),
              "delete absent: 404");
        resp_release(&r);

        /* metrics, page */
        http("GET", "/metrics", NULL, &r);
        check(r.status == 200 && has_header(&r, "Content-Type: text/plain; version=0.0.4") &&
                      strstr(buf_str(&r.body), "berth_reconciles_total") &&
                      strstr(buf_str(&r.body), "berth_resources{phase=\"DELETING\"}") &&
                      strstr(buf_str(&r.body), "berth_docker_api_calls_total") &&
                      strstr(buf_str(&r.body), "berth_api_requests_total{code=\"200\"}") &&
                      strstr(buf_str(&r.body), "berth_build_info{version=\""),
              "metrics: reconciles, resources, docker, requests, build info");
        resp_release(&r);
        http("GET", "/", NULL, &r);
        check(r.status == 200 && has_header(&r, "Content-Type: text/html") &&
                      strstr(buf_str(&r.body), "berth is running") &&
                      strstr(buf_str(&r.body), "/api/v1/resources"),
              "index page");
        resp_release(&r);

        /* stop while a stream is open: the stream ends, stop returns */
        {
                StreamThread t = {.st = {.data = BUF_INIT(4 * 1024 * 1024)}};
                pthread_t th;

                pthread_create(&th, NULL, stream_thread, &t);
                /* Bounded: the stream thread has its own 60 s curl timeout. */
                while (!atomic_load(&t.st.connected) && !atomic_load(&t.finished))
                        usleep(1000);
                srv = api_server_stop(srv);
                pthread_join(th, NULL);
                check(srv == NULL && t.cc == CURLE_OK,
                      "server stop ends an open event stream cleanly (curl: %s)",
                      curl_easy_strerror(t.cc));
                buf_release(&t.st.data);
        }

        store_free(store);
        embedded_pg_stop(pg);
        b_free(conninfo);
        if (!url)
                (void) nftw(datadir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        curl_global_cleanup();

        printf("1..%d\n", n_tests);
        printf("# %d passed, %d failed\n", n_tests - n_failed, n_failed);
        return n_failed ? 1 : 0;
}
