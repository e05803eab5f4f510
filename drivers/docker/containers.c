/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"
#include "drivers/docker/stream.h"

/* A json-convert error: out of memory, or its own text after the operation's name. */
static int convert_error(Error *reterr, const char *op, int r) {
        if (r == -ENOMEM)
                return docker_oom(reterr, op);
        (void) err_prefix(reterr, "%s", op); /* returns 0 when reterr is NULL */
        return r;
}

int docker_container_create(DockerClient *c, const ContainerConfig *cfg, char **ret_id,
                            Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *doc = NULL;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(cfg, -EINVAL);
        docker_op(op, sizeof(op), "create container %s", strna(cfg->name));

        r = docker_json_create_body(cfg, &body, reterr);
        if (r == -ENOMEM)
                return docker_oom(reterr, op);
        if (r < 0)
                return r;
        r = docker_call(c, &(DockerRequest){.method = "POST", .op = op}, body, &doc, reterr,
                        isempty(cfg->name) ? "/containers/create" : "/containers/create?name={}",
                        cfg->name);
        if (r < 0)
                return r;
        return docker_reply_id(doc, op, ret_id, reterr);
}

int docker_container_start(DockerClient *c, const char *id_or_name, Error *reterr) {
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "start container %s", id_or_name);
        return docker_call(c,
                           &(DockerRequest){.method = "POST",
                                            .op = op,
                                            .timeout_ms = DOCKER_START_TIMEOUT_MS,
                                            .ok_304 = true},
                           NULL, NULL, reterr, "/containers/{}/start", id_or_name);
}

int docker_container_rename(DockerClient *c, const char *id_or_name, const char *new_name,
                            Error *reterr) {
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(id_or_name && new_name, -EINVAL);
        docker_op(op, sizeof(op), "rename container %s to %s", id_or_name, new_name);
        return docker_call(c, &(DockerRequest){.method = "POST", .op = op}, NULL, NULL, reterr,
                           "/containers/{}/rename?name={}", id_or_name, new_name);
}

int docker_container_stop(DockerClient *c, const char *id_or_name, int timeout_s, Error *reterr) {
        char op[DOCKER_OP_MAX], t[16];
        long timeout_ms;

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "stop container %s", id_or_name);
        /* Docker waits up to the grace period, then kills: allow for both. */
        timeout_ms =
                timeout_s >= 0 ? ((long) MIN(timeout_s, 24 * 3600) + 30) * 1000L : 10L * 60 * 1000;
        snprintf(t, sizeof(t), "%d", timeout_s);
        return docker_call(
                c,
                &(DockerRequest){
                        .method = "POST", .op = op, .timeout_ms = timeout_ms, .ok_304 = true},
                NULL, NULL, reterr,
                timeout_s >= 0 ? "/containers/{}/stop?t={}" : "/containers/{}/stop", id_or_name, t);
}

int docker_container_kill(DockerClient *c, const char *id_or_name, const char *signal,
                          Error *reterr) {
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "kill container %s", id_or_name);
        return docker_call(
                c, &(DockerRequest){.method = "POST", .op = op, .overrides = {{409, -ESRCH}}}, NULL,
                NULL, reterr, "/containers/{}/kill?signal={}", id_or_name,
                signal ? signal : "SIGKILL");
}

int docker_container_remove(DockerClient *c, const char *id_or_name, bool force, bool volumes,
                            Error *reterr) {
        static const char *const paths[2][2] = {
                /* [force][volumes] */
                {"/containers/{}", "/containers/{}?v=1"},
                {"/containers/{}?force=1", "/containers/{}?force=1&v=1"},
        };
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "remove container %s", id_or_name);
        return docker_call(c,
                           &(DockerRequest){.method = "DELETE",
                                            .op = op,
                                            .timeout_ms = DOCKER_START_TIMEOUT_MS,
                                            .overrides = {{409, -EBUSY}}},
                           NULL, NULL, reterr, paths[force][volumes], id_or_name);
}

int docker_container_inspect(DockerClient *c, const char *id_or_name, ObservedContainer *ret,
                             Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        assert_return(ret, -EINVAL);
        docker_op(op, sizeof(op), "inspect container %s", id_or_name);
        r = docker_call(c, &(DockerRequest){.method = "GET", .op = op}, NULL, &doc, reterr,
                        "/containers/{}/json", id_or_name);
        if (r < 0)
                return r;
        r = docker_json_observed_from_inspect(doc, ret, reterr);
        if (r < 0)
                return convert_error(reterr, op, r);
        return 0;
}

typedef struct ObservedList {
        ObservedContainer *v;
        size_t n;
} ObservedList;

static void observed_list_done(ObservedList *l) {
        observed_containers_free(l->v, l->n);
}

int docker_container_list(DockerClient *c, char *const *label_filters, bool all,
                          ObservedContainer **ret, size_t *ret_n, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        _cleanup_(observed_list_done) ObservedList list = {0};
        const char *op = "list containers";
        const cJSON *item;
        int n, r;

        assert_return(c, -EINVAL);
        assert_return(ret, -EINVAL);
        assert_return(ret_n, -EINVAL);
        r = docker_list(c, op, all ? "/containers/json?all=1" : "/containers/json", label_filters,
                        &doc, reterr);
        if (r < 0)
                return r;
        if (!cJSON_IsArray(doc))
                return err_set(reterr, -EBADMSG, NULL, "%s: reply is not an array", op);

        n = cJSON_GetArraySize(doc);
        if (n > 0) {
                list.v = b_calloc((size_t) n, sizeof(ObservedContainer));
                if (!list.v)
                        return docker_oom(reterr, op);
        }
        cJSON_ArrayForEach(item, doc) {
                if (list.n >= (size_t) n)
                        break;
                r = docker_json_observed_from_list(item, &list.v[list.n], reterr);
                if (r < 0)
                        return convert_error(reterr, op, r);
                list.n++;
        }
        *ret_n = list.n;
        *ret = TAKE_PTR(list.v);
        if (!*ret)
                *ret_n = 0;
        list.n = 0;
        return 0;
}

typedef struct LogsCtx {
        DockerFrameDecoder dec;
        Buf *out;
        const char *op;
        Error *reterr;
} LogsCtx;

static int logs_frame(DockerStream stream, const char *data, size_t n, void *userdata) {
        LogsCtx *l = userdata;
        int r;

        if (stream == DOCKER_STREAM_STDIN)
                return 0;
        r = buf_append_keep_tail(l->out, data, n);
        if (r < 0)
                return docker_oom(l->reterr, l->op);
        return 0;
}

static int logs_chunk(const char *data, size_t n, void *userdata) {
        LogsCtx *l = userdata;
        int r;

        r = docker_frame_decoder_feed(&l->dec, data, n);
        if (r == -EBADMSG)
                return err_set(l->reterr, r, NULL, "%s: malformed log stream", l->op);
        return r;
}

int docker_container_logs(DockerClient *c, const char *id, int tail, Buf *out, Error *reterr) {
        char op[DOCKER_OP_MAX], t[16];
        LogsCtx ctx = {.out = out, .op = op, .reterr = reterr};
        int r;

        assert_return(c, -EINVAL);
        assert_return(id, -EINVAL);
        assert_return(out, -EINVAL);
        docker_op(op, sizeof(op), "logs of container %s", id);
        docker_frame_decoder_init(&ctx.dec, true, logs_frame, &ctx);
        snprintf(t, sizeof(t), "%d", tail);
        r = docker_call(
                c,
                &(DockerRequest){
                        .method = "GET", .op = op, .on_chunk = logs_chunk, .userdata = &ctx},
                NULL, NULL, reterr, "/containers/{}/logs?stdout=1&stderr=1&tail={}", id,
                tail >= 0 ? t : "all");
        if (r < 0)
                return r;
        if (docker_frame_decoder_finish(&ctx.dec) < 0)
                return err_set(reterr, -EBADMSG, NULL, "%s: log stream ends inside a frame", op);
        return 0;
}

int docker_container_wait(DockerClient *c, const char *id, long timeout_ms, int *ret_exit_code,
                          Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *code, *error, *msg;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(id, -EINVAL);
        docker_op(op, sizeof(op), "wait for container %s", id);
        r = docker_call(
                c,
                &(DockerRequest){.method = "POST",
                                 .op = op,
                                 .timeout_ms = timeout_ms > 0 ? timeout_ms : DOCKER_TIMEOUT_MS},
                NULL, &doc, reterr, "/containers/{}/wait?condition=not-running", id);
        if (r < 0)
                return r;
        error = cJSON_GetObjectItemCaseSensitive(doc, "Error");
        msg = cJSON_GetObjectItemCaseSensitive(error, "Message");
        if (cJSON_IsString(msg) && !isempty(msg->valuestring))
                return err_set(reterr, -EIO, NULL, "%s: %s", op, msg->valuestring);
        code = cJSON_GetObjectItemCaseSensitive(doc, "StatusCode");
        if (!cJSON_IsNumber(code))
                return err_set(reterr, -EBADMSG, NULL, "%s: reply without StatusCode", op);
        if (ret_exit_code)
                *ret_exit_code = code->valueint;
        return 0;
}

int docker_container_update(DockerClient *c, const char *id_or_name, int64_t nano_cpus,
                            int64_t memory, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL;
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "update container %s", id_or_name);
        body = cJSON_CreateObject();
        /* Swap as Docker sets it at create (twice the memory): a larger limit than the swap
         * limit already set is refused otherwise. */
        if (!body || !cJSON_AddNumberToObject(body, "NanoCpus", (double) nano_cpus) ||
            !cJSON_AddNumberToObject(body, "Memory", (double) memory) ||
            !cJSON_AddNumberToObject(body, "MemorySwap", memory > 0 ? (double) memory * 2 : -1))
                return docker_oom(reterr, op);
        return docker_call(c, &(DockerRequest){.method = "POST", .op = op}, body, NULL, reterr,
                           "/containers/{}/update", id_or_name);
}
