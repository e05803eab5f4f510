/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"
#include "util/metrics.h"

#include "api/api.h"
#include "drivers/docker/docker.h"
#include "model/resource.h"
#include "model/status.h"
#include "store/store.h"

/* /healthz, /readyz, /metrics and the status page. */

#define READY_POOL_WAIT (1 * USEC_PER_SEC)
#define METRICS_MAX     (1024 * 1024)

int api_handle_healthz(ApiRequest *req, ApiReply *reply, Error *reterr) {
        cJSON *o = cJSON_CreateObject();

        (void) req;
        if (!o || json_add_string(o, "status", "ok") < 0) {
                cJSON_Delete(o);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        return api_reply_json(reply, 200, o);
}

/* Ready when a pooled store connection answers a ping and the Docker engine answers _ping. */
int api_handle_readyz(ApiRequest *req, ApiReply *reply, Error *reterr) {
        char store_part[sizeof(((Error *) NULL)->msg) + 16] = "state store: ok",
                                                        docker_part[sizeof(((Error *) NULL)->msg) +
                                                                    16] = "docker: ok";
        Error e = ERROR_INIT;
        DockerClient *dc = NULL;
        bool ready = true;
        cJSON *o;
        int r;

        {
                Store *s = NULL;
                r = api_pool_get(req->server->pool, READY_POOL_WAIT, &s, &e);
                api_pool_put(req->server->pool, s);
                if (r < 0) {
                        ready = false;
                        /* The pool prefixes "state store: " already. */
                        snprintf(store_part, sizeof(store_part), "%s", e.msg);
                }
        }

        err_clear(&e);
        r = api_docker(req, &dc, &e);
        if (r >= 0)
                r = docker_ping(dc, &e);
        if (r < 0) {
                ready = false;
                snprintf(docker_part, sizeof(docker_part), "%s%s",
                         strneq(e.msg, "docker", STRLEN("docker")) ? "" : "docker: ", e.msg);
        }

        if (!ready)
                return err_setr(reterr, -EAGAIN, "NOT_READY", NULL, "%s; %s", store_part,
                                docker_part);

        o = cJSON_CreateObject();
        if (!o || json_add_string(o, "status", "ok") < 0) {
                cJSON_Delete(o);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        return api_reply_json(reply, 200, o);
}

/* ---- metrics -------------------------------------------------------------------------------- */

static int render_resources(ApiRequest *req, Buf *out) {
        int64_t counts[_PHASE_MAX] = {};
        Error e = ERROR_INIT;
        Store *s = NULL;
        bool store_up;
        int r;

        r = api_pool_get(req->server->pool, READY_POOL_WAIT, &s, &e);
        if (r >= 0) {
                r = store_phase_counts(s, counts, &e);
                api_pool_put(req->server->pool, s);
        }
        store_up = r >= 0;
        if (!store_up)
                log_debug("metrics: %s", e.msg);

        r = buf_printf(out,
                       "# HELP berth_store_up Whether the state store answered this scrape.\n"
                       "# TYPE berth_store_up gauge\n"
                       "berth_store_up %d\n",
                       store_up ? 1 : 0);
        if (r < 0 || !store_up)
                return r;

        r = buf_puts(out, "# HELP berth_resources Resources by phase.\n"
                          "# TYPE berth_resources gauge\n");
        for (int p = 0; r >= 0 && p < _PHASE_MAX; p++)
                r = buf_printf(out, "berth_resources{phase=\"%s\"} %" PRId64 "\n",
                               phase_to_string((Phase) p), counts[p]);
        return r;
}

static int render_docker(Buf *out) {
        uint64_t calls = 0, errors = 0;

        docker_metrics(&calls, &errors);
        return buf_printf(out,
                          "# HELP berth_docker_api_calls_total Docker Engine API calls made.\n"
                          "# TYPE berth_docker_api_calls_total counter\n"
                          "berth_docker_api_calls_total %" PRIu64 "\n"
                          "# HELP berth_docker_api_errors_total Docker Engine API calls that "
                          "failed.\n"
                          "# TYPE berth_docker_api_errors_total counter\n"
                          "berth_docker_api_errors_total %" PRIu64 "\n",
                          calls, errors);
}

static int render_api(ApiServer *s, Buf *out) {
        int r;

        r = buf_puts(out, "# HELP berth_api_requests_total HTTP requests answered, by status.\n"
                          "# TYPE berth_api_requests_total counter\n");
        for (size_t code = 100; r >= 0 && code < ELEMENTSOF(s->requests_by_code); code++) {
                unsigned long n = atomic_load(&s->requests_by_code[code]);
                if (n > 0)
                        r = buf_printf(out, "berth_api_requests_total{code=\"%zu\"} %lu\n", code,
                                       n);
        }
        if (r >= 0)
                r = buf_printf(out,
                               "# HELP berth_api_event_streams Open server-sent event streams.\n"
                               "# TYPE berth_api_event_streams gauge\n"
                               "berth_api_event_streams %d\n",
                               atomic_load(&s->sse_streams));
        return r;
}

int api_handle_metrics(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(METRICS_MAX);
        const char *kind_names[_KIND_MAX];
        int r;

        for (int k = 0; k < _KIND_MAX; k++)
                kind_names[k] = kind_to_string((ResourceKind) k);

        r = metrics_render(&out, kind_names, _KIND_MAX);
        if (r >= 0)
                r = render_resources(req, &out);
        if (r >= 0)
                r = render_docker(&out);
        if (r >= 0)
                r = render_api(req->server, &out);
        if (r >= 0)
                r = buf_puts(&out, "# HELP berth_build_info berthd's version.\n"
                                   "# TYPE berth_build_info gauge\n"
                                   "berth_build_info{version=\"" BERTH_VERSION "\"} 1\n");
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot render metrics");

        reply->status = 200;
        reply->text_len = out.len;
        reply->text = buf_take(&out);
        if (!reply->text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
        return 0;
}

/* ---- status page ---------------------------------------------------------------------------- */

/* Self-contained (no external assets; the CSP allows only this page's inline script and style).
 * Text from the API is inserted with textContent, never as HTML. */
static const char index_html[] =
        "<!doctype html>\n"
        "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>berth</title>\n"
        "<style>\n"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
        "table{border-collapse:collapse;margin-top:1em}\n"
        "th,td{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left}\n"
        "th{background:#f4f4f4}.RUNNING{color:#080}.FAILED,.DEGRADED{color:#b00}\n"
        "#err{color:#b00}\n"
        "</style></head><body>\n"
        "<h1>berth is running</h1>\n"
        "<p>berthd " BERTH_VERSION " &mdash; API at <code>/api/v1</code>, metrics at "
        "<a href=\"/metrics\">/metrics</a>.</p>\n"
        "<p id=\"err\"></p>\n"
        "<table><thead><tr><th>project</th><th>kind</th><th>name</th><th>phase</th>"
        "<th>generation</th><th>message</th></tr></thead><tbody id=\"rows\"></tbody></table>\n"
        "<script>\n"
        "function cell(tr, text, cls) {\n"
        "  var td = document.createElement('td');\n"
        "  td.textContent = text == null ? '' : String(text);\n"
        "  if (cls) td.className = cls;\n"
        "  tr.appendChild(td);\n"
        "}\n"
        "function load() {\n"
        "  fetch('/api/v1/resources').then(function (r) { return r.json(); })\n"
        "  .then(function (j) {\n"
        "    var body = document.getElementById('rows');\n"
        "    body.textContent = '';\n"
        "    (j.items || []).forEach(function (it) {\n"
        "      var tr = document.createElement('tr');\n"
        "      cell(tr, it.project); cell(tr, it.kind); cell(tr, it.name);\n"
        "      cell(tr, it.phase, it.phase);\n"
        "      cell(tr, it.observed_generation + '/' + it.generation);\n"
        "      cell(tr, it.message);\n"
        "      body.appendChild(tr);\n"
        "    });\n"
        "    document.getElementById('err').textContent = j.code ? j.message : '';\n"
        "  }).catch(function (e) {\n"
        "    document.getElementById('err').textContent = 'cannot reach the API: ' + e;\n"
        "  });\n"
        "}\n"
        "load();\n"
        "setInterval(load, 5000);\n"
        "</script>\n"
        "</body></html>\n";

int api_handle_index(ApiRequest *req, ApiReply *reply, Error *reterr) {
        (void) req;
        reply->text = b_strndup(index_html, sizeof(index_html) - 1);
        if (!reply->text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        reply->text_len = sizeof(index_html) - 1;
        reply->content_type = "text/html; charset=utf-8";
        reply->status = 200;
        return 0;
}
