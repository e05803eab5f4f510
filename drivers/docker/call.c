/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"

/* The shape of nearly every driver call: a path from a template, one request whose status
 * docker_request() maps, a JSON reply. The object files keep only what is their own: the
 * operation's name, its body, its status refinements and what they read from the reply. */

int docker_oom(Error *reterr, const char *op) {
        return err_set(reterr, -ENOMEM, NULL, "%s: out of memory", op);
}

int docker_path_error(Error *reterr, const char *op, int r) {
        if (r == -E2BIG)
                return err_set(reterr, r, NULL, "%s: request path too long", op);
        return docker_oom(reterr, op);
}

/* Sends obj (may be NULL: rq's own body, if any) as the JSON body. */
static int request_json(DockerClient *c, DockerRequest *rq, const cJSON *obj, Error *reterr) {
        _cleanup_cjson_str_ char *body = NULL;

        if (obj) {
                body = cJSON_PrintUnformatted(obj);
                if (!body)
                        return err_set(reterr, -ENOMEM, NULL, "%s: out of memory",
                                       rq->op ? rq->op : rq->path);
                rq->body = body;
                rq->body_len = strlen(body);
                rq->content_type = "application/json";
        }
        return docker_request(c, rq, reterr);
}

static int parse_reply(const Buf *body, const char *op, cJSON **ret, Error *reterr) {
        cJSON *doc;

        doc = body->len > 0 ? cJSON_ParseWithLength(body->buf, body->len) : NULL;
        if (!doc)
                return err_set(reterr, -EBADMSG, NULL, "%s: unparsable reply", op);
        *ret = doc;
        return 0;
}

/* docker_call() once the path is built. */
static int call_path(DockerClient *c, const DockerRequest *rq, const char *path, const cJSON *body,
                     cJSON **ret, Error *reterr) {
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        DockerRequest call = *rq;
        int r;

        call.path = path;
        if (ret)
                call.reply = &reply;
        r = request_json(c, &call, body, reterr);
        if (r < 0)
                return r;
        if (!ret)
                return 0;
        return parse_reply(&reply, call.op, ret, reterr);
}

int docker_call(DockerClient *c, const DockerRequest *rq, const cJSON *body, cJSON **ret,
                Error *reterr, const char *tmpl, ...) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        va_list ap;
        int r;

        va_start(ap, tmpl);
        r = docker_pathv(&path, tmpl, ap);
        va_end(ap);
        if (r < 0)
                return docker_path_error(reterr, rq->op, r);
        return call_path(c, rq, path.buf, body, ret, reterr);
}

int docker_list(DockerClient *c, const char *op, const char *base, char *const *label_filters,
                cJSON **ret, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        int r;

        r = buf_puts(&path, base);
        if (r >= 0)
                r = docker_query_filters(&path, label_filters, NULL);
        if (r < 0)
                return docker_path_error(reterr, op, r);
        return call_path(c, &(DockerRequest){.method = "GET", .op = op}, path.buf, NULL, ret,
                         reterr);
}

/* The "Name" of each object of arr, as a NULL-terminated strv (empty when arr is NULL). */
static int names_from_array(const cJSON *arr, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const cJSON *it;
        int r;

        l = b_calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        cJSON_ArrayForEach(it, arr) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "Name");

                if (!cJSON_IsString(n))
                        continue;
                r = strv_push(&l, n->valuestring);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int docker_list_names(DockerClient *c, const char *op, const char *base, const char *wrapper,
                      char *const *label_filters, char ***ret_names, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *arr;
        int r;

        r = docker_list(c, op, base, label_filters, &doc, reterr);
        if (r < 0)
                return r;
        if (wrapper) {
                arr = cJSON_GetObjectItemCaseSensitive(doc, wrapper); /* null when there are none */
                if (!cJSON_IsObject(doc) || (!cJSON_IsArray(arr) && !cJSON_IsNull(arr) && arr))
                        return err_set(reterr, -EBADMSG, NULL, "%s: unexpected reply", op);
        } else {
                if (!cJSON_IsArray(doc))
                        return err_set(reterr, -EBADMSG, NULL, "%s: reply is not an array", op);
                arr = doc;
        }
        r = names_from_array(arr, ret_names);
        if (r < 0)
                return docker_oom(reterr, op);
        return 0;
}

int docker_reply_id(const cJSON *doc, const char *op, char **ret, Error *reterr) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "Id");
        char *s;

        if (!cJSON_IsString(id) || isempty(id->valuestring))
                return err_set(reterr, -EBADMSG, NULL, "%s: reply without Id", op);
        if (!ret)
                return 0;
        s = b_strdup(id->valuestring);
        if (!s)
                return docker_oom(reterr, op);
        *ret = s;
        return 0;
}

int docker_reply_id_labels(const cJSON *doc, const cJSON *labels, const char *op, char **ret_id,
                           char ***ret_labels, Error *reterr) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        r = docker_reply_id(doc, op, &id, reterr);
        if (r < 0)
                return r;
        if (ret_labels) {
                r = docker_json_labels_to_strv(labels, &l);
                if (r < 0)
                        return docker_oom(reterr, op);
                *ret_labels = TAKE_PTR(l);
        }
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

int docker_body_add_labels(cJSON *body, char *const *labels, const char *op, Error *reterr) {
        cJSON *l = NULL;
        int r;

        r = docker_json_labels_object(labels, &l);
        if (r == -EINVAL)
                return err_set(reterr, r, NULL, "%s: a label has an empty key", op);
        if (r < 0)
                return docker_oom(reterr, op);
        if (!cJSON_AddItemToObject(body, "Labels", l)) {
                cJSON_Delete(l);
                return docker_oom(reterr, op);
        }
        return 0;
}
