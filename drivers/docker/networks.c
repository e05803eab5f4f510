/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"

static int oom(Error *reterr, const char *op) {
        return err_set(reterr, -ENOMEM, NULL, "%s: out of memory", op);
}

static int path_error(Error *reterr, const char *op, int r) {
        if (r == -E2BIG)
                return err_set(reterr, r, NULL, "%s: request path too long", op);
        return oom(reterr, op);
}

static int dup_id(const cJSON *doc, const char *op, char **ret, Error *reterr) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "Id");
        char *s;

        if (!cJSON_IsString(id) || isempty(id->valuestring))
                return err_set(reterr, -EBADMSG, NULL, "%s: reply without Id", op);
        if (!ret)
                return 0;
        s = b_strdup(id->valuestring);
        if (!s)
                return oom(reterr, op);
        *ret = s;
        return 0;
}

int docker_network_create(DockerClient *c, const char *name, char *const *labels, bool internal,
                          char **ret_id, Error *reterr) {
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *doc = NULL;
        char op[DOCKER_OP_MAX];
        cJSON *l = NULL;
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "create network %s", name);

        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "Name", name) ||
            !cJSON_AddTrueToObject(body, "CheckDuplicate") ||
            !cJSON_AddStringToObject(body, "Driver", "bridge") ||
            !cJSON_AddBoolToObject(body, "Internal", internal))
                return oom(reterr, op);
        r = docker_json_labels_object(labels, &l);
        if (r == -EINVAL)
                return err_set(reterr, r, NULL, "%s: a label has an empty key", op);
        if (r < 0)
                return oom(reterr, op);
        if (!cJSON_AddItemToObject(body, "Labels", l)) {
                cJSON_Delete(l);
                return oom(reterr, op);
        }

        r = docker_request_json(
                c,
                &(DockerRequest){
                        .method = "POST", .path = "/networks/create", .op = op, .reply = &reply},
                body, reterr);
        if (r < 0)
                return r;
        r = docker_parse_reply(&reply, op, &doc, reterr);
        if (r < 0)
                return r;
        return dup_id(doc, op, ret_id, reterr);
}

int docker_network_inspect_full(DockerClient *c, const char *name, char **ret_id,
                                char ***ret_labels, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        _cleanup_strv_free_ char **labels = NULL;
        _cleanup_free_ char *id = NULL;
        const cJSON *n, *i;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "inspect network %s", name);
        r = docker_path(&path, "/networks/{}", name);
        if (r < 0)
                return path_error(reterr, op, r);
        r = docker_request(
                c, &(DockerRequest){.method = "GET", .path = path.buf, .op = op, .reply = &reply},
                reterr);
        if (r < 0)
                return r;
        r = docker_parse_reply(&reply, op, &doc, reterr);
        if (r < 0)
                return r;
        /* Docker also answers for an id prefix: only an exact name or id is this network. */
        n = cJSON_GetObjectItemCaseSensitive(doc, "Name");
        i = cJSON_GetObjectItemCaseSensitive(doc, "Id");
        if (!(cJSON_IsString(n) && streq(n->valuestring, name)) &&
            !(cJSON_IsString(i) && streq(i->valuestring, name)))
                return err_set(reterr, -ENOENT, NULL, "%s: network %s not found", op, name);
        r = dup_id(doc, op, &id, reterr);
        if (r < 0)
                return r;
        if (ret_labels) {
                r = docker_json_labels_to_strv(cJSON_GetObjectItemCaseSensitive(doc, "Labels"),
                                               &labels);
                if (r < 0)
                        return oom(reterr, op);
                *ret_labels = TAKE_PTR(labels);
        }
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

int docker_network_inspect(DockerClient *c, const char *name, char **ret_id, Error *reterr) {
        return docker_network_inspect_full(c, name, ret_id, NULL, reterr);
}

int docker_network_remove(DockerClient *c, const char *name, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "remove network %s", name);
        r = docker_path(&path, "/networks/{}", name);
        if (r < 0)
                return path_error(reterr, op, r);
        /* 403: "has active endpoints". */
        r = docker_request(c,
                           &(DockerRequest){.method = "DELETE",
                                            .path = path.buf,
                                            .op = op,
                                            .overrides = {{403, -EBUSY}, {409, -EBUSY}}},
                           reterr);
        return r < 0 ? r : 0;
}

int docker_network_list(DockerClient *c, char *const *label_filters, char ***ret_names,
                        Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const char *op = "list networks";
        int r;

        assert_return(c, -EINVAL);
        assert_return(ret_names, -EINVAL);
        r = buf_puts(&path, "/networks");
        if (r >= 0)
                r = docker_query_filters(&path, label_filters, NULL);
        if (r < 0)
                return path_error(reterr, op, r);
        r = docker_request(
                c, &(DockerRequest){.method = "GET", .path = path.buf, .op = op, .reply = &reply},
                reterr);
        if (r < 0)
                return r;
        r = docker_parse_reply(&reply, op, &doc, reterr);
        if (r < 0)
                return r;
        if (!cJSON_IsArray(doc))
                return err_set(reterr, -EBADMSG, NULL, "%s: reply is not an array", op);
        r = docker_names_from_array(doc, ret_names);
        if (r < 0)
                return oom(reterr, op);
        return 0;
}

int docker_network_connect(DockerClient *c, const char *network, const char *container,
                           char *const *aliases, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_(cJSON_Deletep) cJSON *body = NULL;
        char op[DOCKER_OP_MAX];
        cJSON *ep, *a;
        int r;

        assert_return(c, -EINVAL);
        assert_return(network, -EINVAL);
        assert_return(container, -EINVAL);
        docker_op(op, sizeof(op), "connect container %s to network %s", container, network);
        r = docker_path(&path, "/networks/{}/connect", network);
        if (r < 0)
                return path_error(reterr, op, r);
        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "Container", container) ||
            !(ep = cJSON_AddObjectToObject(body, "EndpointConfig")))
                return oom(reterr, op);
        if (aliases && aliases[0]) {
                a = cJSON_AddArrayToObject(ep, "Aliases");
                if (!a)
                        return oom(reterr, op);
                for (char *const *p = aliases; *p; p++) {
                        cJSON *s = cJSON_CreateString(*p);

                        if (!s || !cJSON_AddItemToArray(a, s)) {
                                cJSON_Delete(s);
                                return oom(reterr, op);
                        }
                }
        }
        /* 403: "endpoint with name X already exists in network Y". */
        r = docker_request_json(c,
                                &(DockerRequest){.method = "POST",
                                                 .path = path.buf,
                                                 .op = op,
                                                 .overrides = {{403, -EEXIST}}},
                                body, reterr);
        return r < 0 ? r : 0;
}
