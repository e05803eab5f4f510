/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/common.h"

#include "api/api.h"
#include "store/secret-box.h"
#include "store/secrets.h"
#include "store/store.h"

/* /api/v1/secrets: set (PUT), list (GET, names and versions), reveal (GET one) and delete
 * secrets of a project; owner role in that project. Only the reveal route answers a value (for
 * `berth secret get`, e.g. the generated password of a pg_single), each reveal audited as
 * secret_reveal; the controller reads values at container create time (store_secret_reveal).
 * The request body and the reveal's reply, which hold a value, are wiped as soon as they are done
 * with; nothing here logs or audits a value. */

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

/* A complete, minimal UTF-8 check (no overlongs, surrogates or code points past U+10FFFF) and no
 * NUL: such a value travels as a JSON string as is; anything else as base64. */
static bool is_utf8_text(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n;) {
                uint8_t c = p[i];
                size_t len;
                uint32_t cp;

                if (c == 0)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        len = 2, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        len = 3, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        len = 4, cp = c & 0x07;
                else
                        return false;
                if (n - i < len)
                        return false;
                for (size_t k = 1; k < len; k++) {
                        if ((p[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i + k] & 0x3f);
                }
                if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += len;
        }
        return true;
}

/* Frees a reply text that holds a value, wiping it first (MHD calls this when it is sent). */
static void secret_text_free(void *p) {
        if (!p)
                return;
        OPENSSL_cleanse(p, strlen(p));
        cJSON_free(p);
}

static void cjson_free_securep(char **p) {
        secret_text_free(*p);
}

/* The value as a JSON member: itself when it is UTF-8 text, else base64 (encoding says which). */
static int add_value(cJSON *o, const Buf *plain, Error *reterr) {
        _cleanup_(buf_release_secure) Buf b64 = BUF_INIT(0);
        bool text = is_utf8_text((const uint8_t *) plain->buf, plain->len);
        cJSON *v;

        if (!text) {
                size_t n = 4 * ((plain->len + 2) / 3) + 1;

                b64.buf = b_malloc(n);
                if (!b64.buf)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                b64.alloc = b64.max = n;
                b64.len = (size_t) EVP_EncodeBlock((unsigned char *) b64.buf,
                                                   (const unsigned char *) plain->buf,
                                                   (int) plain->len);
        }
        if (!cJSON_AddStringToObject(o, "encoding", text ? "utf-8" : "base64"))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        v = cJSON_CreateString(text ? plain->buf : b64.buf);
        if (!v || !cJSON_AddItemToObject(o, "value", v)) {
                cJSON_Delete(v);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        return 0;
}

static int reveal_audit(Store *s, const char *actor, const char *project, const char *name,
                        int64_t version, Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *detail = cJSON_CreateObject();
        char *text;
        int r;

        if (!detail || !cJSON_AddStringToObject(detail, "kind", "secret") ||
            !cJSON_AddStringToObject(detail, "project", project) ||
            !cJSON_AddStringToObject(detail, "name", name) ||
            !cJSON_AddNumberToObject(detail, "version", (double) version))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        text = cJSON_PrintUnformatted(detail);
        if (!text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = store_audit_add(s, actor, "secret_reveal", NULL, text, reterr);
        cJSON_free(text);
        return r;
}

int api_handle_secret_get(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(SECRET_VALUE_MAX);
        _cleanup_(json_wipe_deletep) cJSON *o = NULL;
        _cleanup_(cjson_free_securep) char *text = NULL;
        const SecretBox *box = NULL;
        struct MHD_Response *resp;
        int64_t version = 0;
        int r;

        r = api_authorize(req, req->project, reterr);
        if (r >= 0)
                r = secret_box(req, &box, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_secret_reveal(lease.store, box, req->project, req->name, &plain, &version,
                                        reterr);
        /* No audit row, no value. */
        if (r >= 0)
                r = reveal_audit(lease.store, api_actor(req), req->project, req->name, version,
                                 reterr);
        if (r < 0)
                return r;
        pool_lease_release(&lease);

        o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "project", req->project) ||
            !cJSON_AddStringToObject(o, "name", req->name) ||
            !cJSON_AddNumberToObject(o, "version", (double) version))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = add_value(o, &plain, reterr);
        if (r < 0)
                return r;
        text = cJSON_PrintUnformatted(o);
        if (!text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");

        /* A response of our own, so the copy MHD sends from is wiped too. */
        resp = MHD_create_response_from_buffer_with_free_callback(strlen(text), text,
                                                                  secret_text_free);
        if (!resp)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        TAKE_PTR(text);
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        reply->response = resp;
        reply->status = 200;
        return 0;
}
