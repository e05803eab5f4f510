/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"

int docker_volume_create(DockerClient *c, const char *name, char *const *labels, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "create volume %s", name);
        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "Name", name) ||
            !cJSON_AddStringToObject(body, "Driver", "local"))
                return docker_oom(reterr, op);
        r = docker_body_add_labels(body, labels, op, reterr);
        if (r < 0)
                return r;
        return docker_call(c, &(DockerRequest){.method = "POST", .op = op}, body, NULL, reterr,
                           "/volumes/create");
}

int docker_volume_remove(DockerClient *c, const char *name, bool force, Error *reterr) {
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(name, -EINVAL);
        docker_op(op, sizeof(op), "remove volume %s", name);
        /* 409: "volume is in use". */
        return docker_call(
                c, &(DockerRequest){.method = "DELETE", .op = op, .overrides = {{409, -EBUSY}}},
                NULL, NULL, reterr, force ? "/volumes/{}?force=1" : "/volumes/{}", name);
}

int docker_volume_list(DockerClient *c, char *const *label_filters, char ***ret_names,
                       Error *reterr) {
        assert_return(c, -EINVAL);
        assert_return(ret_names, -EINVAL);
        return docker_list_names(c, "list volumes", "/volumes", "Volumes", label_filters, ret_names,
                                 reterr);
}
