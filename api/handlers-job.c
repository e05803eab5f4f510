/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "drivers/docker/docker.h"
#include "model/job.h"
#include "model/resource.h"
#include "store/jobs.h"
#include "store/store.h"

/* kind job: the run action, the runs list, and a run's logs. */

/* {kind, name, project}: how every answer about one resource starts. */
static int add_identity(cJSON *o, const StoredResource *row) {
        int r = json_add_string(o, "kind", kind_to_string(row->ref.kind));
        if (r >= 0)
                r = json_add_string(o, "name", row->ref.name);
        if (r >= 0)
                r = json_add_string(o, "project", row->ref.project);
        return r;
}

/* run takes no parameters: an empty body or an empty JSON object. */
static int run_params_check(const ApiRequest *req, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *doc = NULL;

        if (!req->body.buf || req->body.len == 0 ||
            strspn(req->body.buf, " \t\r\n") == req->body.len)
                return 0;
        doc = cJSON_ParseWithLength(req->body.buf, req->body.len);
        if (!cJSON_IsObject(doc))
                return err_setr(reterr, -EBADMSG, "INVALID_JSON", "params",
                                "the body must be a JSON object of the action's parameters");
        if (doc->child) {
                char field[80];

                snprintf(field, sizeof(field), "params.%.60s", doc->child->string);
                return err_setr(reterr, -EINVAL, "UNKNOWN_FIELD", field,
                                "%s: run takes no parameters", field);
        }
        return 0;
}

int api_job_action_run(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                       Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        int64_t seq = 0, generation = 0;
        bool added = false;
        char msg[160];
        int r;

        r = run_params_check(req, reterr);
        if (r < 0)
                return r;
        r = store_job_run_request(s, row->ref.uuid, api_actor(req), &seq, &generation, &added,
                                  reterr);
        if (r < 0)
                return r;
        log_info("run job %s/%s by %s: run %" PRId64 " %s", row->ref.project, row->ref.name,
                 api_actor(req), seq, added ? "queued" : "was queued already");
        if (added)
                snprintf(msg, sizeof(msg),
                         "run %" PRId64 " queued (generation %" PRId64
                         "): it starts once its dependencies are RUNNING and no run is running",
                         seq, generation);
        else
                snprintf(msg, sizeof(msg), "run %" PRId64 " is queued already: nothing added", seq);

        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = add_identity(o, row);
        if (r >= 0)
                r = json_add_string(o, "action", "run");
        if (r >= 0)
                r = json_add_int(o, "run", seq);
        if (r >= 0)
                r = json_add_int(o, "generation", generation);
        if (r >= 0)
                r = json_add_bool(o, "queued", added);
        if (r >= 0)
                r = json_add_string(o, "message", msg);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 202, TAKE_PTR(o));
}

/* {kind}/{name}?project= of a job; another kind answers RUNS_NOT_SUPPORTED. */
static int job_lookup(ApiRequest *req, Store *s, StoredResource *ret, Error *reterr) {
        const char *project;
        int r;

        r = api_query_project(req, &project, reterr);
        if (r < 0)
                return r;
        r = api_authorize(req, project, reterr);
        if (r < 0)
                return r;
        r = store_resource_get(s, req->kind, project, req->name, ret, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "%s \"%s\" not found in project \"%s\"", kind_to_string(req->kind),
                                req->name, project);
        if (r < 0)
                return r;
        if (ret->ref.kind != KIND_JOB)
                return err_setr(reterr, -ENOENT, "RUNS_NOT_SUPPORTED", NULL,
                                "%s resources have no runs (a job has)",
                                kind_to_string(ret->ref.kind));
        return 0;
}

int api_handle_resource_runs(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_release) StoredResource row = {};
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        cJSON *items = NULL;
        int64_t limit;
        int r;

        r = api_query_int(req, "limit", API_LIST_LIMIT_DEFAULT, 1, API_LIST_LIMIT_MAX, &limit,
                          reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = job_lookup(req, lease.store, &row, reterr);
        if (r >= 0)
                r = store_job_runs_list(lease.store, row.ref.uuid, (int) limit, &items, reterr);
        if (r < 0)
                return r;
        o = cJSON_CreateObject();
        if (!o) {
                cJSON_Delete(items);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        r = add_identity(o, &row);
        if (r >= 0)
                r = json_add_take(o, "items", items);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 200, TAKE_PTR(o));
}

/* The last `tail` lines of text (all when tail < 0). */
static const char *text_tail(const char *s, int64_t tail) {
        const char *p;
        int64_t lines = 0;
        size_t n = strlen(s);

        if (tail < 0)
                return s;
        if (tail == 0)
                return s + n;
        p = s + n;
        if (p > s && p[-1] == '\n')
                p--;
        for (; p > s; p--)
                if (p[-1] == '\n' && ++lines == tail)
                        break;
        return p;
}

/* A run's logs: while it runs, from its container; once it ended, as the controller kept them
 * (the last 1 MiB). ?run=N picks a run, the newest that started by default. */
int api_job_logs(ApiRequest *req, const StoredResource *row, int64_t tail, ApiReply *reply,
                 Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(API_MAX_LOGS);
        _cleanup_free_ char *saved = NULL;
        char name[128];
        int64_t seq;
        JobRun run;
        int r;

        r = api_query_int(req, "run", 0, 1, INT64_MAX, &seq, reterr);
        if (r < 0)
                return r;
        {
                _cleanup_(pool_lease_release) PoolLease lease = {};

                r = api_store(req, &lease, reterr);
                if (r >= 0)
                        r = store_job_run_get(lease.store, row->ref.uuid, seq, &run, &saved,
                                              reterr);
                if (r < 0)
                        return r;
        }
        r = name_container(name, sizeof(name), row->ref.project, row->ref.name, JOB_ROLE,
                           (unsigned) run.seq);
        if (r < 0)
                return err_set(reterr, r, NULL, "container name too long");
        if (run.exit_code >= 0)
                r = buf_printf(&out, "==> %s (run %" PRId64 ", %s, exit code %d) <==\n", name,
                               run.seq, job_run_state_to_string(run.state), run.exit_code);
        else
                r = buf_printf(&out, "==> %s (run %" PRId64 ", %s) <==\n", name, run.seq,
                               job_run_state_to_string(run.state));
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");

        if (run.state == JOB_RUN_RUNNING) {
                _cleanup_(buf_release) Buf live = BUF_INIT(API_MAX_LOGS - out.len - 1);
                DockerClient *dc = NULL;
                Error e = ERROR_INIT;

                r = api_docker(req, &dc, reterr);
                if (r < 0)
                        return r;
                r = docker_container_logs(dc, name, (int) MIN(tail, INT32_MAX), &live, &e);
                if (r < 0)
                        r = buf_printf(&out, "(logs unavailable: %s)\n", e.msg);
                else
                        r = buf_append(&out, live.buf ? live.buf : "", live.len);
        } else {
                const char *t = text_tail(strempty(saved), tail);
                r = buf_append(&out, t, MIN(strlen(t), out.max - out.len));
        }
        if (r >= 0 && out.len > 0 && out.buf[out.len - 1] != '\n' && out.len < out.max)
                r = buf_putc(&out, '\n');
        if (r < 0 && r != -E2BIG)
                return err_set(reterr, r, NULL, "out of memory");

        reply->status = 200;
        reply->text_len = out.len;
        reply->text = buf_take(&out);
        if (!reply->text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        reply->content_type = "text/plain; charset=utf-8";
        return 0;
}
