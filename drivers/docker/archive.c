/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker-internal.h"

int docker_archive_put(DockerClient *c, const char *container, const char *dir, const void *tar,
                       size_t tar_len, Error *reterr) {
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(container, -EINVAL);
        assert_return(dir, -EINVAL);
        assert_return(tar || tar_len == 0, -EINVAL);
        docker_op(op, sizeof(op), "copy into %s:%s", container, dir);
        /* 403: read-only target; 404: no such container or directory. */
        return docker_call(c,
                           &(DockerRequest){.method = "PUT",
                                            .op = op,
                                            .content_type = "application/x-tar",
                                            .body = tar,
                                            .body_len = tar_len,
                                            .timeout_ms = DOCKER_START_TIMEOUT_MS},
                           NULL, NULL, reterr, "/containers/{}/archive?path={}", container, dir);
}
