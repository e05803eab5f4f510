/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker-internal.h"

int docker_archive_put(DockerClient *c, const char *container, const char *dir, const void *tar,
                       size_t tar_len, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(container, -EINVAL);
        assert_return(dir, -EINVAL);
        assert_return(tar || tar_len == 0, -EINVAL);
        docker_op(op, sizeof(op), "copy into %s:%s", container, dir);
        r = docker_path(&path, "/containers/{}/archive", container);
        if (r >= 0)
                r = docker_query(&path, "path", dir);
        if (r < 0)
                return err_set(reterr, r == -E2BIG ? r : -ENOMEM, NULL, "%s: %s", op,
                               r == -E2BIG ? "request path too long" : "out of memory");
        /* 403: read-only target; 404: no such container or directory. */
        r = docker_request(c,
                           &(DockerRequest){.method = "PUT",
                                            .path = path.buf,
                                            .op = op,
                                            .content_type = "application/x-tar",
                                            .body = tar,
                                            .body_len = tar_len,
                                            .timeout_ms = DOCKER_START_TIMEOUT_MS},
                           reterr);
        return r < 0 ? r : 0;
}
