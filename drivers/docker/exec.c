/* SPDX-License-Identifier: MIT */
#include <time.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"
#include "drivers/docker/stream.h"

/* After the output stream ends, Docker may report the exec as running for a moment more. */
#define EXEC_SETTLE_TRIES 100
#define EXEC_SETTLE_NSEC  (10L * 1000 * 1000)

typedef struct ExecCtx {
        DockerFrameDecoder dec;
        Buf *out, *err;
        const char *op;
        Error *reterr;
} ExecCtx;

static int exec_frame(DockerStream stream, const char *data, size_t n, void *userdata) {
        ExecCtx *x = userdata;
        Buf *b = stream == DOCKER_STREAM_STDOUT   ? x->out
                 : stream == DOCKER_STREAM_STDERR ? x->err
                                                  : NULL;
        int r;

        if (!b)
                return 0;
        r = buf_append(b, data, n);
        if (r == -E2BIG)
                return err_set(x->reterr, r, NULL, "%s: %s larger than %zu bytes", x->op,
                               stream == DOCKER_STREAM_STDOUT ? "stdout" : "stderr", b->max);
        if (r < 0)
                return docker_oom(x->reterr, x->op);
        return 0;
}

static int exec_chunk(const char *data, size_t n, void *userdata) {
        ExecCtx *x = userdata;
        int r;

        r = docker_frame_decoder_feed(&x->dec, data, n);
        if (r == -EBADMSG)
                return err_set(x->reterr, r, NULL, "%s: malformed output stream", x->op);
        return r;
}

static int exec_create(DockerClient *c, const char *container, char *const *argv, const char *op,
                       char **ret_id, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *doc = NULL;
        cJSON *cmd;
        int r;

        body = cJSON_CreateObject();
        if (!body || !cJSON_AddFalseToObject(body, "AttachStdin") ||
            !cJSON_AddTrueToObject(body, "AttachStdout") ||
            !cJSON_AddTrueToObject(body, "AttachStderr") || !cJSON_AddFalseToObject(body, "Tty") ||
            !(cmd = cJSON_AddArrayToObject(body, "Cmd")))
                return docker_oom(reterr, op);
        for (char *const *a = argv; *a; a++) {
                cJSON *item = cJSON_CreateString(*a);

                if (!item || !cJSON_AddItemToArray(cmd, item)) {
                        cJSON_Delete(item);
                        return docker_oom(reterr, op);
                }
        }
        /* 409: "Container X is not running". */
        r = docker_call(c,
                        &(DockerRequest){.method = "POST", .op = op, .overrides = {{409, -ESRCH}}},
                        body, &doc, reterr, "/containers/{}/exec", container);
        if (r < 0)
                return r;
        return docker_reply_id(doc, op, ret_id, reterr);
}

/* Returns 1 with the exit code when the exec has finished, 0 while it still runs. */
static int exec_inspect(DockerClient *c, const char *exec_id, const char *op, int *ret_exit_code,
                        Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *code;
        int r;

        r = docker_call(c, &(DockerRequest){.method = "GET", .op = op}, NULL, &doc, reterr,
                        "/exec/{}/json", exec_id);
        if (r < 0)
                return r;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "Running")))
                return 0;
        code = cJSON_GetObjectItemCaseSensitive(doc, "ExitCode");
        if (!cJSON_IsNumber(code))
                return 0; /* null until Docker has recorded it */
        *ret_exit_code = code->valueint;
        return 1;
}

int docker_exec(DockerClient *c, const char *container, char *const *argv, Buf *out, Buf *err,
                int *ret_exit_code, Error *reterr) {
        _cleanup_free_ char *exec_id = NULL;
        char op[DOCKER_OP_MAX];
        ExecCtx ctx = {.out = out, .err = err, .op = op, .reterr = reterr};
        static const char start_body[] = "{\"Detach\":false,\"Tty\":false}";
        int r, exit_code = -1;

        assert_return(c, -EINVAL);
        assert_return(container, -EINVAL);
        assert_return(argv && argv[0], -EINVAL);
        docker_op(op, sizeof(op), "exec %s in container %s", argv[0], container);

        r = exec_create(c, container, argv, op, &exec_id, reterr);
        if (r < 0)
                return r;

        docker_frame_decoder_init(&ctx.dec, false, exec_frame, &ctx);
        /* Docker hijacks the connection and streams frames until the command ends. */
        r = docker_call(c,
                        &(DockerRequest){.method = "POST",
                                         .op = op,
                                         .content_type = "application/json",
                                         .body = start_body,
                                         .body_len = STRLEN(start_body),
                                         .timeout_ms = DOCKER_EXEC_TIMEOUT_MS,
                                         .on_chunk = exec_chunk,
                                         .userdata = &ctx,
                                         .overrides = {{409, -ESRCH}}},
                        NULL, NULL, reterr, "/exec/{}/start", exec_id);
        if (r < 0)
                return r;
        if (docker_frame_decoder_finish(&ctx.dec) < 0)
                return err_set(reterr, -EBADMSG, NULL, "%s: output ends inside a frame", op);

        for (int i = 0;; i++) {
                r = exec_inspect(c, exec_id, op, &exit_code, reterr);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
                if (i >= EXEC_SETTLE_TRIES)
                        return err_set(reterr, -ETIMEDOUT, NULL,
                                       "%s: output ended but the command still runs", op);
                (void) nanosleep(&(struct timespec){.tv_nsec = EXEC_SETTLE_NSEC}, NULL);
        }
        if (ret_exit_code)
                *ret_exit_code = exit_code;
        return 0;
}
