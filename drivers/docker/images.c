/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"

int docker_image_inspect(DockerClient *c, const char *ref, char **ret_id, char ***ret_labels,
                         Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *config;
        char op[DOCKER_OP_MAX];
        int r;

        assert_return(c, -EINVAL);
        assert_return(ref, -EINVAL);
        docker_op(op, sizeof(op), "inspect image %s", ref);
        r = docker_call(c, &(DockerRequest){.method = "GET", .op = op}, NULL, &doc, reterr,
                        "/images/{}/json", ref);
        if (r < 0)
                return r;
        config = cJSON_GetObjectItemCaseSensitive(doc, "Config");
        return docker_reply_id_labels(doc, cJSON_GetObjectItemCaseSensitive(config, "Labels"), op,
                                      ret_id, ret_labels, reterr);
}

/* Splits "repo[:tag][@digest]" at the tag's colon (one after the last '/': a registry's port
 * is not a tag). *ret_tag is NULL when there is no tag; digests stay in the repo part. */
static int split_ref(const char *ref, char **ret_repo, const char **ret_tag) {
        const char *slash = strrchr(ref, '/'), *colon, *at = strchr(ref, '@');
        char *repo;

        colon = strrchr(slash ? slash : ref, ':');
        if (at || !colon) {
                repo = b_strdup(ref);
                *ret_tag = NULL;
        } else {
                repo = b_strndup(ref, (size_t) (colon - ref));
                *ret_tag = colon + 1;
        }
        if (!repo)
                return -ENOMEM;
        *ret_repo = repo;
        return 0;
}

typedef struct ProgressCtx {
        DockerProgressFn fn;
        void *userdata;
        const char *op;
        Error *reterr;
} ProgressCtx;

static int progress_line(const char *line, size_t len, void *userdata) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        ProgressCtx *p = userdata;
        const char *e = NULL;
        int r;

        r = docker_json_progress_error(line, len, &doc, &e);
        if (r < 0)
                return 0; /* not JSON: nothing to learn from it */
        if (e)
                return err_set(p->reterr, -EIO, NULL, "%s: %s", p->op, e);
        if (p->fn)
                p->fn(line, p->userdata);
        return 0;
}

int docker_image_pull(DockerClient *c, const char *ref, DockerProgressFn fn, void *userdata,
                      Error *reterr) {
        _cleanup_free_ char *repo = NULL;
        char op[DOCKER_OP_MAX];
        ProgressCtx ctx = {.fn = fn, .userdata = userdata, .op = op, .reterr = reterr};
        const char *tag;
        int r;

        assert_return(c, -EINVAL);
        assert_return(!isempty(ref), -EINVAL);
        docker_op(op, sizeof(op), "pull image %s", ref);
        r = split_ref(ref, &repo, &tag);
        if (r < 0)
                return docker_oom(reterr, op);
        /* Without a tag Docker would pull every tag of the repository. */
        return docker_call(c,
                           &(DockerRequest){.method = "POST",
                                            .op = op,
                                            .timeout_ms = DOCKER_IMAGE_TIMEOUT_MS,
                                            .stall_s = DOCKER_STREAM_STALL_S,
                                            .on_line = progress_line,
                                            .userdata = &ctx},
                           NULL, NULL, reterr,
                           strchr(repo, '@') ? "/images/create?fromImage={}"
                                             : "/images/create?fromImage={}&tag={}",
                           repo, tag ? tag : "latest");
}

int docker_image_import(DockerClient *c, const char *tar_path, const char *ref,
                        char *const *changes, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        _cleanup_free_ char *repo = NULL;
        char op[DOCKER_OP_MAX];
        ProgressCtx ctx = {.op = op, .reterr = reterr};
        const char *tag;
        int r;

        assert_return(c, -EINVAL);
        assert_return(tar_path, -EINVAL);
        assert_return(!isempty(ref), -EINVAL);
        docker_op(op, sizeof(op), "import image %s", ref);
        if (strchr(ref, '@'))
                return err_set(reterr, -EINVAL, NULL, "%s: a digest cannot be imported", op);
        r = split_ref(ref, &repo, &tag);
        if (r < 0)
                return docker_oom(reterr, op);
        r = buf_puts(&path, "/images/create");
        if (r >= 0)
                r = docker_query(&path, "fromSrc", "-");
        if (r >= 0)
                r = docker_query(&path, "repo", repo);
        if (r >= 0 && tag)
                r = docker_query(&path, "tag", tag);
        for (char *const *ch = changes; r >= 0 && ch && *ch; ch++)
                r = docker_query(&path, "changes", *ch);
        if (r < 0)
                return docker_path_error(reterr, op, r);
        r = docker_request(c,
                           &(DockerRequest){.method = "POST",
                                            .path = path.buf,
                                            .op = op,
                                            .content_type = "application/x-tar",
                                            .upload_path = tar_path,
                                            .timeout_ms = DOCKER_IMAGE_TIMEOUT_MS,
                                            .stall_s = DOCKER_STREAM_STALL_S,
                                            .on_line = progress_line,
                                            .userdata = &ctx},
                           reterr);
        return r < 0 ? r : 0;
}

int docker_image_remove(DockerClient *c, const char *ref, bool force, Error *reterr) {
        char op[DOCKER_OP_MAX];

        assert_return(c, -EINVAL);
        assert_return(!isempty(ref), -EINVAL);
        docker_op(op, sizeof(op), "remove image %s", ref);
        return docker_call(c,
                           &(DockerRequest){.method = "DELETE",
                                            .op = op,
                                            .timeout_ms = DOCKER_START_TIMEOUT_MS,
                                            .overrides = {{409, -EBUSY}}},
                           NULL, NULL, reterr, force ? "/images/{}?force=1" : "/images/{}", ref);
}
