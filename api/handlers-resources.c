/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "drivers/docker/docker.h"
#include "model/observed.h"
#include "model/pg-action.h"
#include "model/resource.h"
#include "model/status.h"
#include "store/requests.h"
#include "store/store.h"

/* /api/v1/resources and /api/v1/resources/{kind}/{name}[/...]. */

cJSON *api_redact_spec(ResourceKind kind, const cJSON *spec) {
        /* The one place a spec is cleaned before it leaves the API. Today no kind stores a
         * secret value in its spec: docker_service `secrets` are references ({secret: NAME}) and
         * `env` is plain by contract. When secret values or generated passwords land in a spec,
         * blank them here, per kind. */
        (void) kind;
        return spec ? cJSON_Duplicate(spec, true) : cJSON_CreateObject();
}

/* Reads {kind}/{name}?project= into ret; RESOURCE_NOT_FOUND when absent. */
static int resource_lookup(ApiRequest *req, Store *s, StoredResource *ret, Error *reterr) {
        const char *project;
        int r;

        r = api_query_project(req, &project, reterr);
        if (r < 0)
                return r;
        /* The route's role in the resource's project; a project the caller cannot see answers
         * exactly as a missing resource below. */
        r = api_authorize(req, project, reterr);
        if (r < 0)
                return r;
        r = store_resource_get(s, req->kind, project, req->name, ret, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "%s \"%s\" not found in project \"%s\"", kind_to_string(req->kind),
                                req->name, project);
        return r;
}

static const cJSON *status_member(const StoredResource *row, const char *key) {
        return row->status ? cJSON_GetObjectItemCaseSensitive(row->status, key) : NULL;
}

/* {kind, name, project}: how every answer about one resource starts. */
static int add_identity(cJSON *o, ResourceKind kind, const char *name, const char *project) {
        int r = json_add_string(o, "kind", kind_to_string(kind));
        if (r >= 0)
                r = json_add_string(o, "name", name);
        if (r >= 0)
                r = json_add_string(o, "project", project);
        return r;
}

static cJSON *list_item(const StoredResource *row) {
        _cleanup_(cjson_deletep) cJSON *o = cJSON_CreateObject();
        const cJSON *msg = status_member(row, "message");
        const cJSON *replicas = status_member(row, "replicas");
        int r;

        if (!o)
                return NULL;
        r = add_identity(o, row->ref.kind, row->ref.name, row->ref.project);
        if (r >= 0)
                r = json_add_string(o, "environment", row->environment);
        if (r >= 0)
                r = json_add_string(o, "uuid", row->ref.uuid);
        if (r >= 0)
                r = json_add_int(o, "generation", row->ref.generation);
        if (r >= 0)
                r = json_add_int(o, "observed_generation", row->observed_generation);
        if (r >= 0)
                r = json_add_string(o, "phase", phase_to_string(row->phase));
        if (r >= 0)
                r = json_add_string(o, "message", cJSON_IsString(msg) ? msg->valuestring : NULL);
        if (r >= 0 && cJSON_IsObject(replicas))
                r = json_add_take(o, "replicas", cJSON_Duplicate(replicas, true));
        if (r >= 0)
                r = json_add_time(o, "created_at", row->created_at);
        if (r >= 0)
                r = json_add_time(o, "updated_at", row->updated_at);
        return r < 0 ? NULL : TAKE_PTR(o);
}

int api_handle_resource_list(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_list_release) StoredResourceList l = {};
        _cleanup_(cjson_deletep) cJSON *root = NULL;
        const char *project = api_query(req, "project"), *kind_s = api_query(req, "kind");
        ResourceKind kind = _KIND_INVALID;
        cJSON *items;
        int r;

        if (isempty(project))
                project = NULL;
        else if (!name_is_valid(project))
                return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "project",
                                "project must be a DNS label");
        if (!isempty(kind_s)) {
                kind = kind_from_string(kind_s);
                if (kind < 0)
                        return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "kind",
                                        "unknown kind \"%.64s\"", kind_s);
        }

        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = store_resource_list(lease.store, project, kind, &l.rows, &l.n, reterr);
        if (r < 0)
                return r;
        pool_lease_release(&lease);

        root = cJSON_CreateObject();
        items = root ? cJSON_AddArrayToObject(root, "items") : NULL;
        if (!items)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        for (size_t i = 0; i < l.n; i++) {
                if (!api_caller_can_see(&req->caller, l.rows[i].ref.project))
                        continue; /* lists hold visible projects only */
                r = json_append_take(items, list_item(&l.rows[i]));
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }
        return api_reply_json(reply, 200, TAKE_PTR(root));
}

static cJSON *metadata_json(const StoredResource *row) {
        _cleanup_(cjson_deletep) cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return NULL;
        r = json_add_string(o, "name", row->ref.name);
        if (r >= 0)
                r = json_add_string(o, "project", row->ref.project);
        if (r >= 0)
                r = json_add_string(o, "environment", row->environment);
        if (r >= 0)
                r = json_add_take(o, "labels",
                                  row->labels ? cJSON_Duplicate(row->labels, true)
                                              : cJSON_CreateObject());
        if (r >= 0)
                r = json_add_string(o, "uid", row->ref.uuid);
        if (r >= 0)
                r = json_add_int(o, "generation", row->ref.generation);
        if (r >= 0)
                r = json_add_time(o, "created_at", row->created_at);
        if (r >= 0)
                r = json_add_time(o, "updated_at", row->updated_at);
        return r < 0 ? NULL : TAKE_PTR(o);
}

/* The stored status JSON, with phase and observed_generation from the row's columns (the row is
 * authoritative: a delete request sets DELETING before the controller writes anything). */
static cJSON *status_json(const StoredResource *row) {
        _cleanup_(cjson_deletep) cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return NULL;
        r = json_add_string(o, "phase", phase_to_string(row->phase));
        if (r >= 0)
                r = json_add_int(o, "observed_generation", row->observed_generation);
        if (r >= 0 && cJSON_IsObject(row->status))
                for (const cJSON *m = row->status->child; r >= 0 && m; m = m->next) {
                        if (!m->string || streq(m->string, "phase") ||
                            streq(m->string, "observed_generation"))
                                continue;
                        r = json_add_take(o, m->string, cJSON_Duplicate(m, true));
                }
        return r < 0 ? NULL : TAKE_PTR(o);
}

int api_handle_resource_get(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_release) StoredResource row = {};
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        int r;

        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = resource_lookup(req, lease.store, &row, reterr);
        if (r < 0)
                return r;
        pool_lease_release(&lease);

        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = json_add_string(o, "kind", kind_to_string(row.ref.kind));
        if (r >= 0)
                r = json_add_take(o, "metadata", metadata_json(&row));
        if (r >= 0)
                r = json_add_take(o, "spec", api_redact_spec(row.ref.kind, row.spec));
        if (r >= 0)
                r = json_add_take(o, "status", status_json(&row));
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 200, TAKE_PTR(o));
}

int api_handle_resource_delete(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        const char *project;
        int r;

        r = api_query_project(req, &project, reterr);
        if (r < 0)
                return r;
        r = api_authorize(req, project, reterr); /* editor */
        if (r < 0)
                return r;
        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = store_resource_request_delete(lease.store, req->kind, project, req->name,
                                          api_actor(req), reterr);
        if (r == -ENOENT)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "%s \"%s\" not found in project \"%s\"", kind_to_string(req->kind),
                                req->name, project);
        if (r < 0)
                return r;
        log_info("delete %s %s/%s requested by %s", kind_to_string(req->kind), project, req->name,
                 api_actor(req));

        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = add_identity(o, req->kind, req->name, project);
        if (r >= 0)
                r = json_add_string(o, "phase", phase_to_string(PHASE_DELETING));
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 202, TAKE_PTR(o));
}

static int items_reply(ApiReply *reply, cJSON *items, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *o = cJSON_CreateObject();
        int r;

        if (!o) {
                cJSON_Delete(items);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        r = json_add_take(o, "items", items ? items : cJSON_CreateArray());
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 200, TAKE_PTR(o));
}

int api_handle_resource_events(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_release) StoredResource row = {};
        cJSON *items = NULL;
        int64_t limit, after;
        int r;

        r = api_query_int(req, "limit", API_LIST_LIMIT_DEFAULT, 1, API_LIST_LIMIT_MAX, &limit,
                          reterr);
        if (r >= 0)
                r = api_query_int(req, "after", 0, 0, INT64_MAX, &after, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = resource_lookup(req, lease.store, &row, reterr);
        if (r >= 0)
                r = store_events_list(lease.store, row.ref.uuid, after, (int) limit, &items,
                                      reterr);
        if (r < 0)
                return r;
        return items_reply(reply, items, reterr);
}

int api_handle_resource_operations(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_release) StoredResource row = {};
        cJSON *items = NULL;
        int64_t limit;
        int r;

        r = api_query_int(req, "limit", API_LIST_LIMIT_DEFAULT, 1, API_LIST_LIMIT_MAX, &limit,
                          reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = resource_lookup(req, lease.store, &row, reterr);
        if (r >= 0)
                r = store_operations_list(lease.store, row.ref.uuid, (int) limit, &items, reterr);
        if (r < 0)
                return r;
        return items_reply(reply, items, reterr);
}

/* Queued actions of the resource (store/requests.h), newest first. */
int api_handle_resource_requests(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_release) StoredResource row = {};
        cJSON *items = NULL;
        int64_t limit;
        int r;

        r = api_query_int(req, "limit", API_LIST_LIMIT_DEFAULT, 1, API_LIST_LIMIT_MAX, &limit,
                          reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = resource_lookup(req, lease.store, &row, reterr);
        if (r >= 0)
                r = store_request_list(lease.store, row.ref.uuid, (int) limit, &items, reterr);
        if (r < 0)
                return r;
        return items_reply(reply, items, reterr);
}

/* A pg_single's backups as the controller last reported them: status.backup.backups (pgBackRest's
 * backup sets, oldest first), and the summary beside them. The API reads no repository itself. */
int api_handle_resource_backups(ApiRequest *req, ApiReply *reply, Error *reterr) {
        static const char *const summary[] = {"last_successful", "next_scheduled", "last_error"};
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(stored_resource_release) StoredResource row = {};
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        const cJSON *backup, *list;
        int r;

        r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = resource_lookup(req, lease.store, &row, reterr);
        if (r < 0)
                return r;
        pool_lease_release(&lease);
        if (row.ref.kind != KIND_PG_SINGLE)
                return err_setr(reterr, -ENOENT, "BACKUPS_NOT_SUPPORTED", NULL,
                                "%s resources have no backups to list (pg_single has)",
                                kind_to_string(row.ref.kind));

        backup = status_member(&row, "backup");
        list = cJSON_IsObject(backup) ? cJSON_GetObjectItemCaseSensitive(backup, "backups") : NULL;
        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = add_identity(o, row.ref.kind, row.ref.name, row.ref.project);
        if (r >= 0)
                r = json_add_take(o, "backups",
                                  cJSON_IsArray(list) ? cJSON_Duplicate(list, true)
                                                      : cJSON_CreateArray());
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(summary); i++) {
                const cJSON *v = cJSON_IsObject(backup)
                                         ? cJSON_GetObjectItemCaseSensitive(backup, summary[i])
                                         : NULL;
                if (v)
                        r = json_add_take(o, summary[i], cJSON_Duplicate(v, true));
        }
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 200, TAKE_PTR(o));
}

/* ---- logs ----------------------------------------------------------------------------------- */

typedef struct ContainerList {
        ObservedContainer *c;
        size_t n;
} ContainerList;

static void container_list_release(ContainerList *l) {
        if (l->c)
                observed_containers_free(l->c, l->n);
        *l = (ContainerList){};
}

static int container_cmp(const void *a, const void *b) {
        const ObservedContainer *x = a, *y = b;
        return strcmp(strempty(x->name), strempty(y->name));
}

/* Appends one container's section; -E2BIG when the reply is full. */
static int logs_append(DockerClient *dc, const ObservedContainer *c, int tail, Buf *out) {
        _cleanup_(buf_release) Buf one = BUF_INIT(0);
        Error e = ERROR_INIT;
        size_t room;
        int r;

        r = buf_printf(out, "==> %s <==\n", strempty(c->name));
        if (r < 0)
                return r;
        room = out->max - out->len;
        if (room < 2)
                return -E2BIG;
        /* The driver keeps the newest lines when the container's logs exceed the room left. */
        buf_init(&one, room - 1);
        r = docker_container_logs(dc, c->id, tail, &one, &e);
        if (r < 0)
                return buf_printf(out, "(logs unavailable: %s)\n", e.msg);
        r = buf_append(out, one.buf ? one.buf : "", one.len);
        if (r >= 0 && one.len > 0 && one.buf[one.len - 1] != '\n')
                r = buf_putc(out, '\n');
        return r;
}

int api_handle_resource_logs(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(stored_resource_release) StoredResource row = {};
        _cleanup_(container_list_release) ContainerList l = {};
        _cleanup_(buf_release) Buf out = BUF_INIT(API_MAX_LOGS);
        _cleanup_strv_free_ char **filters = NULL;
        DockerClient *dc = NULL;
        int64_t tail;
        int r;

        r = api_query_int(req, "tail", 100, -1, 100000, &tail, reterr);
        if (r < 0)
                return r;
        {
                _cleanup_(pool_lease_release) PoolLease lease = {};
                r = api_store(req, &lease, reterr);
                if (r >= 0)
                        r = resource_lookup(req, lease.store, &row, reterr);
                if (r < 0)
                        return r;
        }
        if (row.ref.kind == KIND_JOB) /* a run's logs, kept after its container is gone */
                return api_job_logs(req, &row, tail, reply, reterr);

        r = strv_pushf(&filters, "%s=%s", LABEL_RESOURCE, row.ref.uuid);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        r = api_docker(req, &dc, reterr);
        if (r < 0)
                return r;
        r = docker_container_list(dc, filters, true, &l.c, &l.n, reterr);
        if (r < 0)
                return err_prefix(reterr, "docker");
        if (l.n > 1)
                qsort(l.c, l.n, sizeof(l.c[0]), container_cmp);

        for (size_t i = 0; i < l.n; i++) {
                r = logs_append(dc, &l.c[i], (int) tail, &out);
                if (r == -E2BIG)
                        break; /* capped at API_MAX_LOGS */
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }

        reply->status = 200;
        reply->text_len = out.len;
        reply->text = buf_take(&out);
        if (!reply->text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        reply->content_type = "text/plain; charset=utf-8";
        return 0;
}

/* ---- actions -------------------------------------------------------------------------------- */

/* Actions per kind, added here as reconcilers grow them (restart, switchover, backup, run ...).
 * An action acts on the stored resource `row`, on the caller's store connection. */
typedef int (*ApiActionFn)(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                           Error *reterr);

typedef struct ApiAction {
        ResourceKind kind;
        const char *action;
        ApiActionFn handler;
        const char *usage;
} ApiAction;

/* pause / resume write spec.paused, as `kubectl scale` writes spec.replicas: the change is a new
 * generation, audited with the caller, and a GitOps sync sees it as drift. */
static int set_paused(ApiRequest *req, Store *s, const StoredResource *row, bool paused,
                      ApiReply *reply, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *doc = cJSON_CreateObject(), *o = NULL;
        _cleanup_(document_release) Document d = {};
        cJSON *meta, *spec;
        ApplyOutcome outcome;
        int64_t generation;
        char uuid[37];
        int r;

        if (!doc)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        meta = cJSON_AddObjectToObject(doc, "metadata");
        spec = cJSON_Duplicate(row->spec, true);
        if (!meta || !spec || !cJSON_AddItemToObject(doc, "spec", spec))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (!cJSON_AddStringToObject(doc, "kind", kind_to_string(row->ref.kind)) ||
            !cJSON_AddStringToObject(meta, "name", row->ref.name) ||
            !cJSON_AddStringToObject(meta, "project", row->ref.project) ||
            !cJSON_AddStringToObject(meta, "environment", strempty(row->environment)) ||
            (row->labels &&
             !cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(row->labels, true))))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "paused");
        if (!cJSON_AddBoolToObject(spec, "paused", paused))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = document_from_json(doc, &d, reterr);
        if (r < 0)
                return r;
        r = store_resource_apply(s, &d, api_actor(req), &outcome, uuid, &generation, reterr);
        if (r < 0)
                return r;
        /* The apply row says what changed; this one says which action asked for it. */
        r = store_audit_add(s, api_actor(req), req->action, uuid, apply_outcome_to_string(outcome),
                            reterr);
        if (r < 0)
                return r;
        log_info("%s %s %s/%s by %s: %s", req->action, kind_to_string(row->ref.kind),
                 row->ref.project, row->ref.name, api_actor(req), apply_outcome_to_string(outcome));

        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = add_identity(o, row->ref.kind, row->ref.name, row->ref.project);
        if (r >= 0)
                r = json_add_string(o, "action", req->action);
        if (r >= 0)
                r = json_add_string(o, "outcome", apply_outcome_to_string(outcome));
        if (r >= 0)
                r = json_add_int(o, "generation", generation);
        if (r >= 0)
                r = json_add_string(o, "message",
                                    outcome == APPLY_UNCHANGED
                                            ? (paused ? "already paused" : "already running")
                                    : row->ref.kind == KIND_PG_SINGLE
                                            ? (paused ? "pausing: the containers stop, the data "
                                                        "is kept"
                                                      : "resuming: the containers start again")
                                            : (paused ? "pausing: every replica stops"
                                                      : "resuming: replicas start again"));
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 202, TAKE_PTR(o));
}

static int action_pause(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                        Error *reterr) {
        return set_paused(req, s, row, true, reply, reterr);
}

static int action_resume(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                         Error *reterr) {
        return set_paused(req, s, row, false, reply, reterr);
}

/* restart: a rolling restart by the controller (one replica at a time, the next once the
 * replacement is ready); here only the request is recorded. */
static int action_restart(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                          Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        int r;

        r = store_resource_request_restart(s, row->ref.kind, row->ref.project, row->ref.name,
                                           api_actor(req), reterr);
        if (r < 0)
                return r;
        log_info("restart %s %s/%s requested by %s", kind_to_string(row->ref.kind),
                 row->ref.project, row->ref.name, api_actor(req));
        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = add_identity(o, row->ref.kind, row->ref.name, row->ref.project);
        if (r >= 0)
                r = json_add_string(o, "action", req->action);
        if (r >= 0)
                r = json_add_string(o, "message",
                                    row->ref.kind == KIND_PG_SINGLE
                                            ? "restart requested: the controller restarts "
                                              "PostgreSQL"
                                            : "rolling restart: one replica at a time, each once "
                                              "the previous replacement is ready");
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 202, TAKE_PTR(o));
}

/* The action's parameters: the request body, a JSON object (`berth do KIND NAME ACTION k=v`
 * sends one); NULL when the body is empty. */
static int action_params(const ApiRequest *req, cJSON **ret, Error *reterr) {
        cJSON *doc;

        if (!req->body.buf || req->body.len == 0 ||
            strspn(req->body.buf, " \t\r\n") == req->body.len) {
                *ret = NULL;
                return 0;
        }
        doc = cJSON_ParseWithLength(req->body.buf, req->body.len);
        if (!doc)
                return err_setr(reterr, -EBADMSG, "INVALID_JSON", "params",
                                "the body must be a JSON object of the action's parameters");
        *ret = doc;
        return 0;
}

static int reply_message(ApiReply *reply, const StoredResource *row, const char *action,
                         const char *msg) {
        _cleanup_(cjson_deletep) cJSON *o = cJSON_CreateObject();
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = add_identity(o, row->ref.kind, row->ref.name, row->ref.project);
        if (r >= 0)
                r = json_add_string(o, "action", action);
        if (r >= 0)
                r = json_add_string(o, "message", msg);
        if (r < 0)
                return r;
        return api_reply_json(reply, 202, TAKE_PTR(o));
}

/* A restore's or a clone's time must fall where the source's backups and WAL can reach: not in the
 * future, not before the end of its oldest backup (as the controller last listed them). */
static int restore_time_check(const StoredResource *row, const cJSON *body, Error *reterr) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "time"), *list, *first, *fin;
        usec_t when = 0, oldest = 0;
        char buf[40];

        if (!cJSON_IsString(t) || parse_rfc3339(t->valuestring, &when) < 0)
                return 0; /* the model's validation says what is wrong with it */
        if (when > now_realtime())
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "params.time",
                                "params.time: %s is in the future", t->valuestring);
        list = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(row->status, "backup"), "backups");
        first = cJSON_GetArrayItem(list, 0);
        fin = cJSON_GetObjectItemCaseSensitive(first, "finished_at");
        if (!cJSON_IsString(fin) || parse_rfc3339(fin->valuestring, &oldest) < 0)
                return 0;
        if (when < oldest)
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "params.time",
                                "params.time: %s is before the end of the oldest backup (%s)",
                                t->valuestring, format_rfc3339_exact(oldest, buf, sizeof(buf)));
        return 0;
}

/* backup, restore, vacuum of a pg_single: validated and normalised by the model, then queued
 * as a request the controller runs in order (store/requests.h). */
static int action_queue(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                        Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *body = NULL, *params = NULL, *o = NULL;
        _cleanup_(pg_action_release) PgAction a = {};
        char msg[128], when[40];
        int64_t id = 0;
        int r;

        r = action_params(req, &body, reterr);
        /* A soft-deleted database comes back on the data it kept; with a target, it is then
         * restored to it as any other. */
        if (r >= 0 && row->ref.deleting && streq(req->action, "restore")) {
                r = store_resource_undelete(s, row->ref.kind, row->ref.project, row->ref.name,
                                            api_actor(req), reterr);
                if (r >= 0 && cJSON_GetArraySize(body) == 0)
                        return reply_message(reply, row, req->action,
                                             "undeleted: it starts again on the data it kept");
        }
        if (r >= 0 && streq(req->action, "restore"))
                r = restore_time_check(row, body, reterr);
        if (r >= 0)
                r = pg_action_normalise(req->action, body, &params, reterr);
        if (r >= 0)
                r = pg_action_from_json(req->action, params, &a, reterr);
        if (r < 0)
                return r;
        /* The model is pure: "not in the future" needs the clock, so it is checked here. */
        if (a.type == PG_ACTION_RESTORE && a.target_time > now_realtime())
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "params.time",
                                "params.time: %s is in the future",
                                format_rfc3339_exact(a.target_time, when, sizeof(when)));
        r = store_request_add(s, row->ref.uuid, req->action, params, api_actor(req), &id, reterr);
        if (r < 0)
                return r;
        log_info("%s %s %s/%s queued as request %" PRId64 " by %s", req->action,
                 kind_to_string(row->ref.kind), row->ref.project, row->ref.name, id,
                 api_actor(req));

        snprintf(msg, sizeof(msg),
                 "%s queued as request %" PRId64 ": queued actions run one at a time, in order",
                 req->action, id);
        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = add_identity(o, row->ref.kind, row->ref.name, row->ref.project);
        if (r >= 0)
                r = json_add_string(o, "action", req->action);
        if (r >= 0)
                r = json_add_int(o, "request", id);
        if (r >= 0)
                r = json_add_take(o, "params", TAKE_PTR(params));
        if (r >= 0)
                r = json_add_string(o, "message", msg);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_reply_json(reply, 202, TAKE_PTR(o));
}

/* clone: a new pg_single of the same project made from this one's backups (spec.restore_from,
 * to a backup label, a time, or the latest); the original is not touched. The copy takes the
 * original's spec without its published port and with a password of its own. */
static int action_clone(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                        Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *body = NULL, *doc = NULL;
        _cleanup_(document_release) Document d = {};
        _cleanup_(stored_resource_release) StoredResource existing = {};
        const cJSON *name, *backup = cJSON_GetObjectItemCaseSensitive(row->spec, "backup");
        cJSON *meta, *spec, *from, *m;
        ApplyOutcome outcome;
        int64_t generation;
        char uuid[37], msg[256];
        int r;

        r = action_params(req, &body, reterr);
        if (r < 0)
                return r;
        name = cJSON_GetObjectItemCaseSensitive(body, "name");
        if (!cJSON_IsString(name))
                return err_setr(reterr, -EINVAL, "REQUIRED", "params.name",
                                "params.name: the new database's name is required (name=NEW)");
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(backup, "enabled")))
                return err_setr(reterr, -EINVAL, "INVALID_VALUE", "spec.backup.enabled",
                                "%s/%s has no backups to clone from (spec.backup.enabled)",
                                row->ref.project, row->ref.name);
        r = restore_time_check(row, body, reterr);
        if (r < 0)
                return r;
        r = store_resource_get(s, KIND_PG_SINGLE, row->ref.project, name->valuestring, &existing,
                               reterr);
        if (r >= 0)
                return err_setr(reterr, -EEXIST, "RESOURCE_EXISTS", "params.name",
                                "pg_single %s/%s exists already", row->ref.project,
                                name->valuestring);
        if (r != -ENOENT)
                return r;
        err_clear(reterr);

        doc = cJSON_CreateObject();
        spec = cJSON_Duplicate(row->spec, true);
        if (!doc || !spec || !cJSON_AddItemToObject(doc, "spec", spec) ||
            !(meta = cJSON_AddObjectToObject(doc, "metadata")) ||
            !cJSON_AddStringToObject(doc, "kind", kind_to_string(KIND_PG_SINGLE)) ||
            !cJSON_AddStringToObject(meta, "name", name->valuestring) ||
            !cJSON_AddStringToObject(meta, "project", row->ref.project) ||
            !cJSON_AddStringToObject(meta, "environment", strempty(row->environment)) ||
            (row->labels &&
             !cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(row->labels, true))))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "expose");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "password");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "restore_from");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "paused");
        from = cJSON_AddObjectToObject(spec, "restore_from");
        if (!from || !cJSON_AddStringToObject(from, "name", row->ref.name))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        cJSON_ArrayForEach(
                m, body) if (!streq(m->string, "name") &&
                             !cJSON_AddItemToObject(
                                     from, m->string,
                                     cJSON_Duplicate(m, true))) return err_set(reterr, -ENOMEM,
                                                                               NULL,
                                                                               "out of memory");
        /* The target's errors name the action's parameters, as the user wrote them. */
        r = document_from_json(doc, &d, reterr);
        if (r < 0) {
                static const char prefix[] = "spec.restore_from.";
                char key[64];

                if (strneq(reterr->field, prefix, STRLEN(prefix))) {
                        snprintf(key, sizeof(key), "%s", reterr->field + STRLEN(prefix));
                        snprintf(reterr->field, sizeof(reterr->field), "params.%s", key);
                } else if (streq(reterr->field, "metadata.name"))
                        snprintf(reterr->field, sizeof(reterr->field), "params.name");
                return r;
        }
        r = store_resource_apply(s, &d, api_actor(req), &outcome, uuid, &generation, reterr);
        if (r < 0)
                return r;
        r = store_audit_add(s, api_actor(req), "clone", row->ref.uuid, d.name, reterr);
        if (r < 0)
                return r;
        log_info("clone pg_single %s/%s to %s by %s", row->ref.project, row->ref.name, d.name,
                 api_actor(req));
        snprintf(msg, sizeof(msg),
                 "cloning: %s starts from the backups of %s, which is not touched", d.name,
                 row->ref.name);
        return reply_message(reply, row, req->action, msg);
}

/* purge: the data a soft delete keeps (volumes, backups) goes now; deletes first if needed. */
static int action_purge(ApiRequest *req, Store *s, const StoredResource *row, ApiReply *reply,
                        Error *reterr) {
        int r;

        r = store_resource_request_purge(s, row->ref.kind, row->ref.project, row->ref.name,
                                         api_actor(req), reterr);
        if (r < 0)
                return r;
        log_info("purge %s %s/%s requested by %s", kind_to_string(row->ref.kind), row->ref.project,
                 row->ref.name, api_actor(req));
        return reply_message(reply, row, req->action,
                             "purging: containers, data and backups are removed for good");
}

static const ApiAction api_actions[] = {
        {KIND_DOCKER_SERVICE, "restart", action_restart, "replace every replica, one at a time"},
        {KIND_DOCKER_SERVICE, "pause", action_pause, "stop every replica (spec.paused: true)"},
        {KIND_DOCKER_SERVICE, "resume", action_resume, "start the replicas again"},
        {KIND_DOCKER_SERVICE, "rollback", api_action_rollback,
         "apply an earlier revision again: revision=N (default: the one before the newest)"},
        {KIND_PG_SINGLE, "backup", action_queue, "back up now: type=auto|full|diff|incr"},
        {KIND_PG_SINGLE, "restore", action_queue,
         "restore in place: backup=LABEL, time=RFC3339, or neither (latest)"},
        {KIND_PG_SINGLE, "vacuum", action_queue, "VACUUM ANALYZE every database now"},
        {KIND_PG_SINGLE, "restart", action_restart, "restart PostgreSQL"},
        {KIND_PG_SINGLE, "pause", action_pause, "stop the containers, keep the data"},
        {KIND_PG_SINGLE, "resume", action_resume, "start the containers again"},
        {KIND_PG_SINGLE, "clone", action_clone,
         "a new pg_single from the backups: name=NEW and backup=LABEL, time=RFC3339 or neither"},
        {KIND_PG_SINGLE, "purge", action_purge,
         "delete now with the data and backups a delete keeps"},
        {KIND_MYSQL_HA, "switchover", api_mysql_action_queue,
         "planned change of primary, no acknowledged write lost: target=N (default: the most "
         "advanced replica)"},
        {KIND_MYSQL_HA, "failover", api_mysql_action_queue,
         "fence the primary and promote a replica now (also past the anti-flapping window): "
         "target=N"},
        {KIND_MYSQL_HA, "pause", action_pause, "stop the servers and the proxy, keep the data"},
        {KIND_MYSQL_HA, "resume", action_resume, "start them again"},
        {KIND_PG_CLUSTER, "switchover", api_pg_cluster_action_queue,
         "hand the leader over through Patroni, no acknowledged write lost: candidate=pg-N "
         "(default: the synchronous standby, else the replica least behind)"},
        {KIND_PG_CLUSTER, "failover", api_pg_cluster_action_queue,
         "force a new leader now through Patroni: candidate=pg-N (default: the best one)"},
        {KIND_PG_CLUSTER, "restart", action_restart,
         "rolling restart: replicas one at a time, then a switchover, then the old leader"},
        {KIND_PG_CLUSTER, "pause", action_pause,
         "stop the proxy, the members and the DCS, keep the data"},
        {KIND_PG_CLUSTER, "resume", action_resume, "start them again"},
        {KIND_JOB, "run", api_job_action_run,
         "run it again now (a new generation of the same spec); coalesces with a queued run"},
};

int api_handle_resource_action(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(stored_resource_release) StoredResource row = {};
        _cleanup_(pool_lease_release) PoolLease lease = {};
        int r;

        r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = resource_lookup(req, lease.store, &row, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(api_actions); i++)
                if (api_actions[i].kind == req->kind && streq(api_actions[i].action, req->action))
                        return api_actions[i].handler(req, lease.store, &row, reply, reterr);

        {
                _cleanup_(buf_release) Buf known = BUF_INIT(256);

                for (size_t i = 0; i < ELEMENTSOF(api_actions); i++)
                        if (api_actions[i].kind == req->kind)
                                DISCARD(buf_printf(&known, "%s%s", known.len ? ", " : "",
                                                   api_actions[i].action));
                return err_setr(reterr, -ENOENT, "ACTION_NOT_SUPPORTED", NULL,
                                "action %s is not supported for kind %s%s%s%s", req->action,
                                kind_to_string(req->kind), known.len ? " (it has: " : " yet",
                                buf_str(&known), known.len ? ")" : "");
        }
}
