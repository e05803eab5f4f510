/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"
#include "drivers/docker/stream.h"

static int oom(Error *reterr, const char *op) {
        return err_set(reterr, -ENOMEM, NULL, "%s: out of memory", op);
}

/* A Buf error while building a path: too long or out of memory. */
static int path_error(Error *reterr, const char *op, int r) {
        if (r == -E2BIG)
                return err_set(reterr, r, NULL, "%s: request path too long", op);
        return oom(reterr, op);
}

int docker_container_create(DockerClient *c, const ContainerConfig *cfg, char **ret_id,
                            Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *doc = NULL;
        char op[DOCKER_OP_MAX];
        const cJSON *id;
        int r;

        assert_return(c, -EINVAL);
        assert_return(cfg, -EINVAL);
        docker_op(op, sizeof(op), "create container %s", strna(cfg->name));

        r = docker_json_create_body(cfg, &body, reterr);
        if (r == -ENOMEM)
                return oom(reterr, op);
        if (r < 0)
                return r;
        r = buf_puts(&path, "/containers/create");
        if (r >= 0 && !isempty(cfg->name))
                r = docker_query(&path, "name", cfg->name);
        if (r < 0)
                return path_error(reterr, op, r);

        r = docker_request_json(
                c, &(DockerRequest){.method = "POST", .path = path.buf, .op = op, .reply = &reply},
                body, reterr);
        if (r < 0)
                return r;
        r = docker_parse_reply(&reply, op, &doc, reterr);
        if (r < 0)
                return r;
        id = cJSON_GetObjectItemCaseSensitive(doc, "Id");
        if (!cJSON_IsString(id) || isempty(id->valuestring))
                return err_set(reterr, -EBADMSG, NULL, "%s: reply without Id", op);
        if (ret_id) {
                char *s = b_strdup(id->valuestring);

                if (!s)
                        return oom(reterr, op);
                *ret_id = s;
        }
        return 0;
}

/* POST /containers/{id}/<verb>[?key=value] with no body. */
static int container_post(DockerClient *c, const char *id, const char *verb, const char *key,
                          const char *value, DockerRequest *rq, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        int r;

        r = docker_path(&path, "/containers/{}/", id);
        if (r >= 0)
                r = buf_puts(&path, verb);
        if (r >= 0 && key)
                r = docker_query(&path, key, value);
        if (r < 0)
                return path_error(reterr, rq->op, r);
        rq->method = "POST";
        rq->path = path.buf;
        return docker_request(c, rq, reterr);
}

int docker_container_start(DockerClient *c, const char *id_or_name, Error *reterr) {
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "start container %s", id_or_name);
        r = container_post(
                c, id_or_name, "start", NULL, NULL,
                &(DockerRequest){.op = op, .timeout_ms = DOCKER_START_TIMEOUT_MS, .ok_304 = true},
                reterr);
        return r < 0 ? r : 0;
}

int docker_container_stop(DockerClient *c, const char *id_or_name, int timeout_s, Error *reterr) {
        char op[DOCKER_OP_MAX], t[16];
        long timeout_ms;
        int r;

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "stop container %s", id_or_name);
        /* Docker waits up to the grace period, then kills: allow for both. */
        timeout_ms =
                timeout_s >= 0 ? ((long) MIN(timeout_s, 24 * 3600) + 30) * 1000L : 10L * 60 * 1000;
        snprintf(t, sizeof(t), "%d", timeout_s);
        r = container_post(c, id_or_name, "stop", timeout_s >= 0 ? "t" : NULL, t,
                           &(DockerRequest){.op = op, .timeout_ms = timeout_ms, .ok_304 = true},
                           reterr);
        return r < 0 ? r : 0;
}

int docker_container_kill(DockerClient *c, const char *id_or_name, const char *signal,
                          Error *reterr) {
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "kill container %s", id_or_name);
        r = container_post(c, id_or_name, "kill", "signal", signal ? signal : "SIGKILL",
                           &(DockerRequest){.op = op, .overrides = {{409, -ESRCH}}}, reterr);
        return r < 0 ? r : 0;
}

int docker_container_remove(DockerClient *c, const char *id_or_name, bool force, bool volumes,
                            Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        docker_op(op, sizeof(op), "remove container %s", id_or_name);
        r = docker_path(&path, "/containers/{}", id_or_name);
        if (r >= 0 && force)
                r = docker_query(&path, "force", "1");
        if (r >= 0 && volumes)
                r = docker_query(&path, "v", "1");
        if (r < 0)
                return path_error(reterr, op, r);
        r = docker_request(c,
                           &(DockerRequest){.method = "DELETE",
                                            .path = path.buf,
                                            .op = op,
                                            .timeout_ms = DOCKER_START_TIMEOUT_MS,
                                            .overrides = {{409, -EBUSY}}},
                           reterr);
        return r < 0 ? r : 0;
}

int docker_container_inspect(DockerClient *c, const char *id_or_name, ObservedContainer *ret,
                             Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(id_or_name, -EINVAL);
        assert_return(ret, -EINVAL);
        docker_op(op, sizeof(op), "inspect container %s", id_or_name);
        r = docker_path(&path, "/containers/{}/json", id_or_name);
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
        r = docker_json_observed_from_inspect(doc, ret, reterr);
        if (r == -ENOMEM)
                return oom(reterr, op);
        if (r < 0) {
                (void) err_prefix(reterr, "%s", op); /* returns 0 when reterr is NULL */
                return r;
        }
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
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        _cleanup_(observed_list_done) ObservedList list = {0};
        const char *op = "list containers";
        const cJSON *item;
        int n, r;

        assert_return(c, -EINVAL);
        assert_return(ret, -EINVAL);
        assert_return(ret_n, -EINVAL);
        r = buf_puts(&path, "/containers/json");
        if (r >= 0 && all)
                r = docker_query(&path, "all", "1");
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

        n = cJSON_GetArraySize(doc);
        if (n > 0) {
                list.v = b_calloc((size_t) n, sizeof(ObservedContainer));
                if (!list.v)
                        return oom(reterr, op);
        }
        cJSON_ArrayForEach(item, doc) {
                if (list.n >= (size_t) n)
                        break;
                r = docker_json_observed_from_list(item, &list.v[list.n], reterr);
                if (r == -ENOMEM)
                        return oom(reterr, op);
                if (r < 0) {
                        (void) err_prefix(reterr, "%s", op);
                        return r;
                }
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
                return oom(l->reterr, l->op);
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
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        char op[DOCKER_OP_MAX], t[16];
        LogsCtx ctx = {.out = out, .op = op, .reterr = reterr};
        int r;

        assert_return(c, -EINVAL);
        assert_return(id, -EINVAL);
        assert_return(out, -EINVAL);
        docker_op(op, sizeof(op), "logs of container %s", id);
        docker_frame_decoder_init(&ctx.dec, true, logs_frame, &ctx);
        snprintf(t, sizeof(t), "%d", tail);
        r = docker_path(&path, "/containers/{}/logs", id);
        if (r >= 0)
                r = docker_query(&path, "stdout", "1");
        if (r >= 0)
                r = docker_query(&path, "stderr", "1");
        if (r >= 0)
                r = docker_query(&path, "tail", tail >= 0 ? t : "all");
        if (r < 0)
                return path_error(reterr, op, r);
        r = docker_request(c,
                           &(DockerRequest){.method = "GET",
                                            .path = path.buf,
                                            .op = op,
                                            .on_chunk = logs_chunk,
                                            .userdata = &ctx},
                           reterr);
        if (r < 0)
                return r;
        if (docker_frame_decoder_finish(&ctx.dec) < 0)
                return err_set(reterr, -EBADMSG, NULL, "%s: log stream ends inside a frame", op);
        return 0;
}

int docker_container_wait(DockerClient *c, const char *id, long timeout_ms, int *ret_exit_code,
                          Error *reterr) {
        _cleanup_(buf_release) Buf reply = BUF_INIT(DOCKER_MAX_REPLY);
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *code, *error, *msg;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(id, -EINVAL);
        docker_op(op, sizeof(op), "wait for container %s", id);
        r = container_post(
                c, id, "wait", "condition", "not-running",
                &(DockerRequest){.op = op,
                                 .timeout_ms = timeout_ms > 0 ? timeout_ms : DOCKER_TIMEOUT_MS,
                                 .reply = &reply},
                reterr);
        if (r < 0)
                return r;
        r = docker_parse_reply(&reply, op, &doc, reterr);
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
