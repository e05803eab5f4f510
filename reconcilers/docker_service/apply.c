/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "docker_service"
#include "util/common.h"
#include "util/log.h"

#include "drivers/docker/docker.h"
#include "util/tar.h"
#include "reconcilers/docker_service/service.h"
#include "reconcilers/reconciler.h"

/* All config files of one container, packed: the spec's own limits keep it far below. */
#define SERVICE_FILES_MAX_ARCHIVE (32 * 1024 * 1024)

static int event(ReconcileCtx *ctx, const ResourceRef *ref, const char *type, const char *reason,
                 const char *fmt, ...) _printf_(5, 6);
static int event(ReconcileCtx *ctx, const ResourceRef *ref, const char *type, const char *reason,
                 const char *fmt, ...) {
        char msg[512];
        va_list ap;

        if (!ctx->store || isempty(ref->uuid))
                return 0;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* History is best effort: a failed event insert must not undo a converging step. */
        DISCARD(store_event_add(ctx->store, ref->uuid, type, reason, msg, NULL));
        return 0;
}

static int ensure_network(ReconcileCtx *ctx, const ResourceRef *ref, const char *name,
                          Error *reterr) {
        _cleanup_strv_free_ char **labels = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        r = strv_pushf(&labels, "%s=true", LABEL_MANAGED);
        if (r >= 0 && !isempty(ref->installation))
                r = strv_pushf(&labels, "%s=%s", LABEL_INSTALLATION, ref->installation);
        if (r >= 0)
                r = strv_pushf(&labels, "%s=%s", LABEL_PROJECT, ref->project);
        if (r < 0)
                return r;
        if (ctx->network_lock)
                pthread_mutex_lock(ctx->network_lock);
        r = docker_network_inspect(ctx->docker, name, &id, reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                r = docker_network_create(ctx->docker, name, labels, false, &id, reterr);
        }
        if (ctx->network_lock)
                pthread_mutex_unlock(ctx->network_lock);
        if (r == -EEXIST) {
                err_clear(reterr);
                return 0;
        }
        return r;
}

/* Create under the deterministic name; a 409 means it exists already (a crash between create
 * and start, or a second pass): adopt it if it is ours, refuse if another resource owns it. */
static int create_or_adopt(ReconcileCtx *ctx, const ResourceRef *ref, const ContainerConfig *cfg,
                           char **ret_id, Error *reterr) {
        _cleanup_(observed_container_release) ObservedContainer existing = {0};
        int r;

        r = docker_container_create(ctx->docker, cfg, ret_id, reterr);
        if (r == -ENOENT) {
                /* No such image: try a pull, then create again; the pull's error is the user's. */
                err_clear(reterr);
                r = docker_image_pull(ctx->docker, cfg->image, NULL, NULL, reterr);
                if (r < 0)
                        return r;
                r = docker_container_create(ctx->docker, cfg, ret_id, reterr);
        }
        if (r != -EEXIST)
                return r;
        err_clear(reterr);
        r = docker_container_inspect(ctx->docker, cfg->name, &existing, reterr);
        if (r < 0)
                return r;
        if (!existing.resource || !streq(existing.resource, ref->uuid))
                return err_set(reterr, -EEXIST, NULL,
                               "container name %s is taken by an object berth does not own here",
                               cfg->name);
        *ret_id = TAKE_PTR(existing.id);
        return 0;
}

static int ensure_volume(ReconcileCtx *ctx, const ResourceRef *ref, const char *name,
                         Error *reterr) {
        _cleanup_strv_free_ char **labels = NULL;
        int r;

        r = strv_pushf(&labels, "%s=true", LABEL_MANAGED);
        if (r >= 0 && !isempty(ref->installation))
                r = strv_pushf(&labels, "%s=%s", LABEL_INSTALLATION, ref->installation);
        if (r >= 0)
                r = strv_pushf(&labels, "%s=%s", LABEL_RESOURCE, ref->uuid);
        if (r >= 0)
                r = strv_pushf(&labels, "%s=%s", LABEL_PROJECT, ref->project);
        if (r >= 0)
                r = strv_pushf(&labels, "%s=%s", LABEL_NAME, ref->name);
        if (r < 0)
                return r;
        /* Docker answers an existing volume's create with the volume: idempotent. */
        return docker_volume_create(ctx->docker, name, labels, reterr);
}

/* Config files go in between create and start, so the process never sees them missing. */
static int upload_files(ReconcileCtx *ctx, const ContainerConfig *cfg, const char *id,
                        Error *reterr) {
        _cleanup_(buf_release) Buf tar = BUF_INIT(SERVICE_FILES_MAX_ARCHIVE);
        int r = 0;

        if (cfg->n_files == 0)
                return 0;
        for (size_t i = 0; r >= 0 && i < cfg->n_files; i++)
                r = tar_add_file(&tar, cfg->files[i].path + 1, cfg->files[i].content,
                                 cfg->files[i].size, cfg->files[i].mode);
        if (r >= 0)
                r = tar_finish(&tar);
        if (r < 0)
                return err_set(reterr, r, "spec.config_files", "cannot pack the config files");
        return docker_archive_put(ctx->docker, id, "/", tar.buf, tar.len, reterr);
}

static int apply_one(ReconcileCtx *ctx, const ResourceRef *ref, const Action *a, Error *reterr) {
        _cleanup_free_ char *id = NULL;
        int r;

        switch (a->type) {
        case ACTION_ENSURE_NETWORK:
                return ensure_network(ctx, ref, a->target, reterr);
        case ACTION_CREATE_CONTAINER:
                r = create_or_adopt(ctx, ref, a->container, &id, reterr);
                if (r < 0)
                        return r;
                r = upload_files(ctx, a->container, id, reterr);
                if (r < 0)
                        return r;
                r = docker_container_start(ctx->docker, id, reterr);
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "ContainerCreated", "created and started %s (%s)",
                             a->target, a->reason);
        case ACTION_START_CONTAINER:
                r = docker_container_start(ctx->docker, a->id ? a->id : a->target, reterr);
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "ContainerStarted", "started %s (%s)", a->target,
                             a->reason);
        case ACTION_REMOVE_CONTAINER:
                r = docker_container_remove(ctx->docker, a->id ? a->id : a->target, true, false,
                                            reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        return 0;
                }
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "ContainerRemoved", "removed %s (%s)", a->target,
                             a->reason);
        case ACTION_ENSURE_VOLUME:
                return ensure_volume(ctx, ref, a->target, reterr);
        case ACTION_REMOVE_VOLUME:
                r = docker_volume_remove(ctx->docker, a->target, false, reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        return 0;
                }
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "VolumeRemoved", "removed volume %s", a->target);
        case ACTION_REMOVE_NETWORK:
                /* Shared by the project's services: still in use is fine, so is already gone. */
                DISCARD(docker_network_remove(ctx->docker, a->target, reterr));
                err_clear(reterr);
                return 0;
        default:
                return err_set(reterr, -EOPNOTSUPP, NULL, "action %s is not handled here",
                               action_type_to_string(a->type));
        }
}

int service_apply(ReconcileCtx *ctx, const ResourceRef *ref, const Plan *plan, size_t *ret_done,
                  Error *reterr) {
        size_t i;
        int r = 0;

        for (i = 0; i < plan->n_actions; i++) {
                const Action *a = &plan->actions[i];

                log_debug("%s/%s: %s %s (%s)", ref->project, ref->name,
                          action_type_to_string(a->type), strna(a->target), strna(a->reason));
                r = apply_one(ctx, ref, a, reterr);
                if (r < 0) {
                        err_prefix(reterr, "%s %s", action_type_to_string(a->type),
                                   strna(a->target));
                        break;
                }
        }
        if (ret_done)
                *ret_done = i;
        return r;
}
