/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"

int docker_network_create(DockerClient *c, const char *name, char *const *labels, bool internal,
                          char **ret_id, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *doc = NULL;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "create network %s", name);

        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "Name", name) ||
            !cJSON_AddTrueToObject(body, "CheckDuplicate") ||
            !cJSON_AddStringToObject(body, "Driver", "bridge") ||
            !cJSON_AddBoolToObject(body, "Internal", internal))
                return docker_oom(reterr, op);
        r = docker_body_add_labels(body, labels, op, reterr);
        if (r < 0)
                return r;
        r = docker_call(c, &(DockerRequest){.method = "POST", .op = op}, body, &doc, reterr,
                        "/networks/create");
        if (r < 0)
                return r;
        return docker_reply_id(doc, op, ret_id, reterr);
}

/* GET /networks/NAME, refusing what only matches as an id prefix. */
static int network_get(DockerClient *c, const char *name, char *op, size_t n_op, cJSON **ret,
                       Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *n, *i;
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, n_op, "inspect network %s", name);
        r = docker_call(c, &(DockerRequest){.method = "GET", .op = op}, NULL, &doc, reterr,
                        "/networks/{}", name);
        if (r < 0)
                return r;
        /* Docker also answers for an id prefix: only an exact name or id is this network. */
        n = cJSON_GetObjectItemCaseSensitive(doc, "Name");
        i = cJSON_GetObjectItemCaseSensitive(doc, "Id");
        if (!(cJSON_IsString(n) && streq(n->valuestring, name)) &&
            !(cJSON_IsString(i) && streq(i->valuestring, name)))
                return err_set(reterr, -ENOENT, NULL, "%s: network %s not found", op, name);
        *ret = TAKE_PTR(doc);
        return 0;
}

int docker_network_inspect_full(DockerClient *c, const char *name, char **ret_id,
                                char ***ret_labels, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        char op[DOCKER_OP_MAX];
        int r;

        r = network_get(c, name, op, sizeof(op), &doc, reterr);
        if (r < 0)
                return r;
        return docker_reply_id_labels(doc, cJSON_GetObjectItemCaseSensitive(doc, "Labels"), op,
                                      ret_id, ret_labels, reterr);
}

int docker_network_ipam(DockerClient *c, const char *name, char **ret_subnet, char **ret_gateway,
                        Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        _cleanup_free_ char *subnet = NULL, *gateway = NULL;
        const cJSON *cfg, *first, *v;
        char op[DOCKER_OP_MAX];
        int r;

        r = network_get(c, name, op, sizeof(op), &doc, reterr);
        if (r < 0)
                return r;
        cfg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "IPAM"),
                                               "Config");
        first = cJSON_IsArray(cfg) ? cJSON_GetArrayItem(cfg, 0) : NULL;
        v = cJSON_GetObjectItemCaseSensitive(first, "Subnet");
        if (cJSON_IsString(v) && !(subnet = b_strdup(v->valuestring)))
                return docker_oom(reterr, op);
        v = cJSON_GetObjectItemCaseSensitive(first, "Gateway");
        if (cJSON_IsString(v) && !(gateway = b_strdup(v->valuestring)))
                return docker_oom(reterr, op);
        if (!subnet || !gateway)
                return err_set(reterr, -EBADMSG, NULL, "%s: no IPv4 subnet and gateway", op);
        if (ret_subnet)
                *ret_subnet = TAKE_PTR(subnet);
        if (ret_gateway)
                *ret_gateway = TAKE_PTR(gateway);
        return 0;
}

int docker_network_inspect(DockerClient *c, const char *name, char **ret_id, Error *reterr) {
        return docker_network_inspect_full(c, name, ret_id, NULL, reterr);
}

int docker_network_remove(DockerClient *c, const char *name, Error *reterr) {
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "remove network %s", name);
        /* 403: "has active endpoints". */
        return docker_call(c,
                           &(DockerRequest){.method = "DELETE",
                                            .op = op,
                                            .overrides = {{403, -EBUSY}, {409, -EBUSY}}},
                           NULL, NULL, reterr, "/networks/{}", name);
}

int docker_network_list(DockerClient *c, char *const *label_filters, char ***ret_names,
                        Error *reterr) {
        assert_return(c, -EINVAL);
        assert_return(ret_names, -EINVAL);
        return docker_list_names(c, "list networks", "/networks", NULL, label_filters, ret_names,
                                 reterr);
}

int docker_network_connect(DockerClient *c, const char *network, const char *container,
                           char *const *aliases, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL;
        char op[DOCKER_OP_MAX];
        cJSON *ep, *a;

        assert_return(c, -EINVAL);
        assert_return(network, -EINVAL);
        assert_return(container, -EINVAL);
        docker_op(op, sizeof(op), "connect container %s to network %s", container, network);
        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "Container", container) ||
            !(ep = cJSON_AddObjectToObject(body, "EndpointConfig")))
                return docker_oom(reterr, op);
        if (aliases && aliases[0]) {
                a = cJSON_AddArrayToObject(ep, "Aliases");
                if (!a)
                        return docker_oom(reterr, op);
                for (char *const *p = aliases; *p; p++) {
                        cJSON *s = cJSON_CreateString(*p);

                        if (!s || !cJSON_AddItemToArray(a, s)) {
                                cJSON_Delete(s);
                                return docker_oom(reterr, op);
                        }
                }
        }
        /* 403: "endpoint with name X already exists in network Y". */
        return docker_call(
                c, &(DockerRequest){.method = "POST", .op = op, .overrides = {{403, -EEXIST}}},
                body, NULL, reterr, "/networks/{}/connect", network);
}

int docker_network_disconnect(DockerClient *c, const char *network, const char *container,
                              Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL;
        Error e = ERROR_INIT;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(network, -EINVAL);
        assert_return(container, -EINVAL);
        docker_op(op, sizeof(op), "disconnect container %s from network %s", container, network);
        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "Container", container) ||
            !cJSON_AddBoolToObject(body, "Force", true))
                return docker_oom(reterr, op);
        r = docker_call(c, &(DockerRequest){.method = "POST", .op = op}, body, NULL, &e,
                        "/networks/{}/disconnect", network);
        if (r == -EIO && strstr(e.msg, "is not connected"))
                r = -ENOTCONN;
        if (r < 0 && reterr)
                *reterr = e;
        return r;
}
