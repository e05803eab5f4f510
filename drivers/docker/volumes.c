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

int docker_volume_create(DockerClient *c, const char *name, char *const *labels, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL;
        char op[DOCKER_OP_MAX];
        cJSON *l = NULL;
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "create volume %s", name);
        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "Name", name) ||
            !cJSON_AddStringToObject(body, "Driver", "local"))
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
                c, &(DockerRequest){.method = "POST", .path = "/volumes/create", .op = op}, body,
                reterr);
        return r < 0 ? r : 0;
}

int docker_volume_remove(DockerClient *c, const char *name, bool force, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "remove volume %s", name);
        r = docker_path(&path, "/volumes/{}", name);
        if (r >= 0 && force)
                r = docker_query(&path, "force", "1");
        if (r < 0)
                return path_error(reterr, op, r);
        /* 409: "volume is in use". */
        r = docker_request(c,
                           &(DockerRequest){.method = "DELETE",
                                            .path = path.buf,
                                            .op = op,
                                            .overrides = {{409, -EBUSY}}},
                           reterr);
        return r < 0 ? r : 0;
}

int docker_volume_list(DockerClient *c, char *const *label_filters, char ***ret_names,
                       Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const char *op = "list volumes";
        const cJSON *vols;
        int r;

        assert_return(c, -EINVAL);
        assert_return(ret_names, -EINVAL);
        r = buf_puts(&path, "/volumes");
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
        vols = cJSON_GetObjectItemCaseSensitive(doc, "Volumes"); /* null when there are none */
        if (!cJSON_IsObject(doc) || (!cJSON_IsArray(vols) && !cJSON_IsNull(vols) && vols))
                return err_set(reterr, -EBADMSG, NULL, "%s: unexpected reply", op);
        r = docker_names_from_array(vols, ret_names);
        if (r < 0)
                return oom(reterr, op);
        return 0;
}
