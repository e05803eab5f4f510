/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "util/common.h"

#include "api/api.h"
#include "store/secret-box.h"
#include "store/secrets.h"
#include "store/store.h"

/* /api/v1/secrets: set (PUT), list (GET, names and versions) and delete secrets of a project;
 * owner role in that project. No route answers a value: reading one back is for the controller
 * only, at container create time (store_secret_reveal). The request body, which holds the value,
 * is wiped as soon as the handler is done with it; nothing here logs or audits a value. */

/* The request body holds the value: wipe it whatever the handler's outcome. */
static void request_body_wipe(ApiRequest **req) {
        if (*req)
                buf_release_secure(&(*req)->body);
}

/* Wipes every string of a parsed body before freeing it (cJSON copies strings at parse). */
static void json_wipe(cJSON *j) {
        for (cJSON *it = j; it; it = it->next) {
                if (it->valuestring)
                        OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
                json_wipe(it->child);
        }
}

static void json_wipe_deletep(cJSON **j) {
        if (!*j)
                return;
        json_wipe(*j);
        cJSON_Delete(*j);
}

static bool content_type_is_json(const char *type) {
        return type && strncasecmp(type, "application/json", STRLEN("application/json")) == 0;
}

/* The value: the raw body (any content type but JSON), or {"value": "..."} with a JSON body.
 * *ret_value points into the body or into *ret_doc. */
static int body_value(const ApiRequest *req, cJSON **ret_doc, const char **ret_value, size_t *ret_n,
                      Error *reterr) {
        _cleanup_(json_wipe_deletep) cJSON *doc = NULL;
        const cJSON *v;

        if (!content_type_is_json(api_header(req, "Content-Type"))) {
                *ret_doc = NULL;
                *ret_value = req->body.buf ? req->body.buf : "";
                *ret_n = req->body.len;
                return 0;
        }
        if (!req->body.buf || req->body.len == 0)
                return err_setr(reterr, -EINVAL, "BAD_REQUEST", NULL,
                                "a JSON object {\"value\": \"...\"} is needed");
        doc = cJSON_ParseWithLength(req->body.buf, req->body.len);
        if (!doc || !cJSON_IsObject(doc))
                return err_setr(reterr, -EBADMSG, "INVALID_JSON", NULL,
                                "the body must be a JSON object {\"value\": \"...\"}");
        for (const cJSON *m = doc->child; m; m = m->next)
                if (!m->string || !streq(m->string, "value"))
                        return err_setr(reterr, -EINVAL, "UNKNOWN_FIELD",
                                        m->string ? m->string : "", "unknown field \"%.64s\"",
                                        strempty(m->string));
        v = cJSON_GetObjectItemCaseSensitive(doc, "value");
        if (!cJSON_IsString(v) || !v->valuestring)
                return err_setr(reterr, -EINVAL, "BAD_REQUEST", "value",
                                "value: a string is needed");
        *ret_value = v->valuestring;
        *ret_n = strlen(v->valuestring);
        *ret_doc = TAKE_PTR(doc);
        return 0;
}

static int secret_box(const ApiRequest *req, const SecretBox **ret, Error *reterr) {
        if (!req->server->secrets)
                return err_setr(reterr, -ENXIO, "UNAVAILABLE", NULL,
                                "secrets: berthd has no master key (BERTH_MASTER_KEY_FILE)");
        *ret = req->server->secrets;
        return 0;
}

static int object_reply(ApiReply *reply, cJSON *o, int r, Error *reterr) {
        if (r < 0) {
                cJSON_Delete(o);
                return err_set(reterr, r, NULL, "out of memory");
        }
        r = api_reply_json(reply, 200, o);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return 0;
}

int api_handle_secret_put(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(request_body_wipe) ApiRequest *wipe = req;
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(json_wipe_deletep) cJSON *doc = NULL;
        const SecretBox *box = NULL;
        const char *value = NULL;
        int64_t version = 0;
        size_t n = 0;
        cJSON *o;
        int r, outcome;

        r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = secret_box(req, &box, reterr);
        if (r >= 0)
                r = body_value(req, &doc, &value, &n, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        outcome = store_secret_set(lease.store, box, req->project, req->name, value, n,
                                   api_actor(req), &version, reterr);
        if (outcome < 0)
                return outcome;

        o = cJSON_CreateObject();
        r = o ? json_add_string(o, "project", req->project) : -ENOMEM;
        if (r >= 0)
                r = json_add_string(o, "name", req->name);
        if (r >= 0)
                r = json_add_int(o, "version", version);
        if (r >= 0)
                r = json_add_string(o, "outcome", secret_set_outcome_to_string(outcome));
        return object_reply(reply, o, r, reterr);
}

int api_handle_secret_list(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        cJSON *items = NULL, *o;
        const char *project;
        int r;

        r = api_query_project(req, &project, reterr);
        if (r >= 0)
                r = api_authorize(req, project, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_secret_list(lease.store, project, &items, reterr);
        if (r < 0)
                return r;

        o = cJSON_CreateObject();
        if (!o) {
                cJSON_Delete(items);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        return object_reply(reply, o, json_add_take(o, "items", items), reterr);
}

int api_handle_secret_delete(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        cJSON *o;
        int r;

        r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_secret_delete(lease.store, req->project, req->name, api_actor(req),
                                        reterr);
        if (r < 0)
                return r;

        o = cJSON_CreateObject();
        r = o ? json_add_string(o, "project", req->project) : -ENOMEM;
        if (r >= 0)
                r = json_add_string(o, "name", req->name);
        if (r >= 0)
                r = json_add_bool(o, "deleted", true);
        return object_reply(reply, o, r, reterr);
}
