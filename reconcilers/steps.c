/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "steps"
#include <pthread.h>

#include "util/common.h"
#include "util/log.h"

#include <openssl/rand.h>

#include "drivers/docker/docker.h"
#include "model/units.h"
#include "store/requests.h"
#include "store/secrets.h"
#include "util/tar.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/steps.h"

/* The steps every kind shares: Docker objects under deterministic names, secrets, files,
 * commands in containers. Each is idempotent, so a plan run twice, or again after a crash,
 * converges to the same place. */

/* All config files of one container, packed: the specs' own limits keep it far below. */
#define FILES_MAX_ARCHIVE (32 * 1024 * 1024)
/* What one command or one run-to-completion may add to an operation's log. */
#define STEP_OUTPUT_MAX (256 * 1024)
/* A run to completion (a restore) copies data: hours are possible, forever is not. */
#define RUN_TO_COMPLETION_TIMEOUT_MS (6L * 3600 * 1000)
#define RUN_WAIT_SLICE_MS            2000L

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
static int create_or_adopt(DockerClient *docker, const ResourceRef *ref, const ContainerConfig *cfg,
                           char **ret_id, Error *reterr) {
        _cleanup_(observed_container_release) ObservedContainer existing = {0};
        int r;

        r = docker_container_create(docker, cfg, ret_id, reterr);
        if (r == -ENOENT) {
                /* No such image: try a pull, then create again; the pull's error is the user's. */
                err_clear(reterr);
                r = docker_image_pull(docker, cfg->image, NULL, NULL, reterr);
                if (r < 0)
                        return r;
                r = docker_container_create(docker, cfg, ret_id, reterr);
        }
        if (r != -EEXIST)
                return r;
        err_clear(reterr);
        r = docker_container_inspect(docker, cfg->name, &existing, reterr);
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

/* What a container gets from the secret store at create time, decrypted: env entries and files.
 * Plaintext lives only in these buffers, which are wiped when released. */
typedef struct Revealed {
        char **env; /* the spec's env plus "KEY=value" per env secret */
        Buf files;  /* tar of config files and secret files */
} Revealed;

static void wipe_strv(char **l) {
        for (char **p = l; p && *p; p++)
                explicit_bzero(*p, strlen(*p));
        strv_free(l);
}

static void revealed_release(Revealed *r) {
        wipe_strv(r->env);
        r->env = NULL;
        if (r->files.buf)
                explicit_bzero(r->files.buf, r->files.alloc);
        buf_release(&r->files);
}

/* KEY=before + the value percent-encoded (RFC 3986 unreserved kept) + after. */
static int push_url_env(Revealed *out, const ContainerSecret *s, const Buf *value) {
        _cleanup_(buf_release_secure) Buf b = BUF_INIT(4 * SECRET_VALUE_MAX);
        int r;

        r = buf_printf(&b, "%s=%s", s->env, strempty(s->url_before));
        for (size_t i = 0; r >= 0 && i < value->len; i++) {
                unsigned char c = (unsigned char) value->buf[i];

                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~')
                        r = buf_putc(&b, (char) c);
                else
                        r = buf_printf(&b, "%%%02X", c);
        }
        if (r >= 0)
                r = buf_puts(&b, strempty(s->url_after));
        if (r >= 0)
                r = strv_push(&out->env, buf_str(&b));
        return r;
}

static int reveal_one(ReconcileCtx *ctx, const ResourceRef *ref, const ContainerSecret *s,
                      Revealed *out, Error *reterr) {
        _cleanup_(buf_release_secure) Buf value = BUF_INIT(SECRET_VALUE_MAX);
        int64_t version;
        int r;

        if (!ctx->store || !ctx->secrets)
                return err_set(reterr, -ENXIO, "spec.secrets", "no secret store configured");
        r = store_secret_reveal(ctx->store, ctx->secrets, ref->project, s->secret, &value, &version,
                                reterr);
        if (r < 0)
                return err_prefix(reterr, "secret %s", s->secret);
        if (s->env) {
                if (memchr(value.buf, 0, value.len))
                        return err_set(reterr, -EINVAL, "spec.secrets",
                                       "secret %s holds a NUL byte and cannot be an env value",
                                       s->secret);
                if (s->url_before || s->url_after)
                        return push_url_env(out, s, &value);
                return strv_pushf(&out->env, "%s=%s", s->env, buf_str(&value));
        }
        return tar_add_file(&out->files, s->path + 1, value.buf, value.len, 0400);
}

/* Config files and secrets go in between create and start, so the process never sees them
 * missing; secret files are 0400 and exist only inside Docker's storage. */
static int reveal(ReconcileCtx *ctx, const ResourceRef *ref, const ContainerConfig *cfg,
                  Revealed *out, Error *reterr) {
        int r = 0;

        out->files = BUF_INIT(FILES_MAX_ARCHIVE);
        if (cfg->env && !(out->env = strv_copy(cfg->env)))
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < cfg->n_files; i++)
                r = tar_add_file(&out->files, cfg->files[i].path + 1, cfg->files[i].content,
                                 cfg->files[i].size, cfg->files[i].mode);
        if (r < 0)
                return err_set(reterr, r, "spec.config_files", "cannot pack the config files");
        for (size_t i = 0; r >= 0 && i < cfg->n_secrets; i++)
                r = reveal_one(ctx, ref, &cfg->secrets[i], out, reterr);
        if (r >= 0 && out->files.len > 0)
                r = tar_finish(&out->files);
        return r;
}

/* Joins the extra networks with the same DNS aliases; they must exist (berth does not own a
 * network a user names). Docker accepts a connect of a created container to any name and fails
 * only at start: ask first, to say which one is missing. */
static int join_networks(DockerClient *docker, const ContainerConfig *cfg, const char *id,
                         Error *reterr) {
        for (char **n = cfg->extra_networks; n && *n; n++) {
                _cleanup_free_ char *net_id = NULL;
                int r;

                r = docker_network_inspect(docker, *n, &net_id, reterr);
                if (r == -ENOENT)
                        return err_set(reterr, r, "spec.networks",
                                       "network %s does not exist (create it with docker network "
                                       "create, or remove it from spec.networks)",
                                       *n);
                if (r >= 0)
                        r = docker_network_connect(docker, *n, id, cfg->aliases, reterr);
                if (r == -EEXIST)
                        err_clear(reterr);
                else if (r < 0)
                        return r;
        }
        return 0;
}

/* Docker work of one create: the container under its deterministic name, its networks, its
 * files, start. A container that cannot be completed is removed, so the next pass creates it
 * whole rather than starting a half-made one. Touches only `docker`, so several run at once,
 * each on its own client. */
static int create_with(DockerClient *docker, const ResourceRef *ref, const ContainerConfig *cfg,
                       const Revealed *rev, Error *reterr) {
        _cleanup_free_ char *id = NULL;
        ContainerConfig with_secrets = *cfg;
        int r;

        with_secrets.env = rev->env;
        r = create_or_adopt(docker, ref, &with_secrets, &id, reterr);
        if (r < 0)
                return r;
        r = join_networks(docker, cfg, id, reterr);
        if (r >= 0 && rev->files.len > 0)
                r = docker_archive_put(docker, id, "/", rev->files.buf, rev->files.len, reterr);
        if (r >= 0)
                r = docker_container_start(docker, id, reterr);
        if (r < 0)
                DISCARD(docker_container_remove(docker, id, true, false, NULL));
        return r;
}

/* A secret berth generates (a database password): created once, never replaced, so a restart of
 * the controller or a second pass cannot change a password clients already use. */
static int ensure_secret(ReconcileCtx *ctx, const ResourceRef *ref, const char *name,
                         Error *reterr) {
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        _cleanup_(buf_release_secure) Buf value = BUF_INIT(SECRET_VALUE_MAX);
        unsigned char raw[GENERATED_SECRET_LEN];
        char pw[GENERATED_SECRET_LEN + 1];
        int64_t version;
        int r;

        if (!ctx->store || !ctx->secrets)
                return err_set(reterr, -ENXIO, NULL, "no secret store configured");
        r = store_secret_reveal(ctx->store, ctx->secrets, ref->project, name, &value, &version,
                                reterr);
        if (r != -ENOENT)
                return r;
        err_clear(reterr);
        /* 62 symbols from bytes: rejection sampling keeps them uniform. */
        for (size_t i = 0; i < GENERATED_SECRET_LEN;) {
                if (RAND_bytes(raw, sizeof(raw)) != 1)
                        return err_set(reterr, -EIO, NULL, "no random bytes to be had");
                for (size_t j = 0; j < sizeof(raw) && i < GENERATED_SECRET_LEN; j++)
                        if (raw[j] < 248)
                                pw[i++] = alphabet[raw[j] % 62];
        }
        pw[GENERATED_SECRET_LEN] = 0;
        r = store_secret_set(ctx->store, ctx->secrets, ref->project, name, pw, strlen(pw),
                             "controller", NULL, reterr);
        explicit_bzero(pw, sizeof(pw));
        explicit_bzero(raw, sizeof(raw));
        if (r < 0)
                return r;
        return event(ctx, ref, "Normal", "SecretGenerated", "generated secret %s", name);
}

static int put_files(ReconcileCtx *ctx, const Action *a, Error *reterr) {
        _cleanup_(buf_release_secure) Buf tar = BUF_INIT(FILES_MAX_ARCHIVE);
        int r = 0;

        for (size_t i = 0; r >= 0 && i < a->n_files; i++)
                r = tar_add_file(&tar, a->files[i].path + 1, a->files[i].content, a->files[i].size,
                                 a->files[i].mode);
        if (r >= 0)
                r = tar_finish(&tar);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot pack the files for %s", a->target);
        return docker_archive_put(ctx->docker, a->id ? a->id : a->target, "/", tar.buf, tar.len,
                                  reterr);
}

/* The last lines of what a command printed, for an error message. */
static const char *tail_of(const Buf *b) {
        const char *s = buf_str(b), *p;
        size_t n = strlen(s);

        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                n--;
        p = s + n;
        for (int lines = 0; p > s && lines < 3; p--)
                if (p[-1] == '\n' && ++lines == 3)
                        break;
        return p;
}

static int exec_step(ReconcileCtx *ctx, const Action *a, Buf *log, Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(STEP_OUTPUT_MAX), err = BUF_INIT(STEP_OUTPUT_MAX);
        int r, code = -1;

        r = docker_exec(ctx->docker, a->id ? a->id : a->target, a->argv, &out, &err, &code, reterr);
        if (log) {
                DISCARD(buf_printf(log, "$ %s in %s (%s)\n", a->argv[0], a->target,
                                   strna(a->reason)));
                DISCARD(buf_printf(log, "%s%s", buf_str(&out), buf_str(&err)));
        }
        if (r < 0)
                return r;
        if (code != 0) {
                /* Only the last lines in the message: the log keeps the whole output. */
                return err_set(reterr, -EPROTO, NULL, "%s exited with %d: %s", strna(a->reason),
                               code, tail_of(err.len > 0 ? &err : &out));
        }
        return 0;
}

/* Waits in short slices, so that a controller asked to stop is not held for the length of a
 * restore: the container is then removed and the next leader's pass runs it again (the work
 * it does is idempotent). */
static int wait_exit(ReconcileCtx *ctx, const char *name, const char *id, usec_t timeout,
                     int *ret_code, Error *reterr) {
        usec_t max = RUN_TO_COMPLETION_TIMEOUT_MS * USEC_PER_MSEC;
        usec_t limit = timeout > 0 ? MIN(timeout, max) : max, deadline = now_monotonic() + limit;
        char t[32];
        int r;

        for (;;) {
                r = docker_container_wait(ctx->docker, id, RUN_WAIT_SLICE_MS, ret_code, reterr);
                if (r != -ETIMEDOUT)
                        return r;
                err_clear(reterr);
                if (ctx->stop && *ctx->stop)
                        return err_set(reterr, -ECANCELED, NULL, "%s: the controller is stopping",
                                       name);
                if (now_monotonic() > deadline && timeout > 0)
                        return err_set(reterr, -ETIMEDOUT, NULL, "%s ran for more than %s", name,
                                       duration_format(limit, t, sizeof(t)));
                if (now_monotonic() > deadline)
                        return err_set(reterr, -ETIMEDOUT, NULL, "%s ran for more than %ld h", name,
                                       RUN_TO_COMPLETION_TIMEOUT_MS / 3600000);
        }
}

/* A one-shot container (a restore): made under its deterministic name (a leftover of a crashed
 * pass is removed first), run to its end, its output logged, removed. */
static int run_to_completion(ReconcileCtx *ctx, const ResourceRef *ref, const Action *a, Buf *log,
                             Error *reterr) {
        _cleanup_(revealed_release) Revealed rev = {};
        _cleanup_(buf_release) Buf out = BUF_INIT(STEP_OUTPUT_MAX);
        _cleanup_free_ char *id = NULL;
        ContainerConfig cfg = *a->container;
        int r, code = -1;

        r = docker_container_remove(ctx->docker, cfg.name, true, false, reterr);
        if (r == -ENOENT)
                err_clear(reterr);
        else if (r < 0)
                return r;
        r = reveal(ctx, ref, a->container, &rev, reterr);
        if (r < 0)
                return r;
        cfg.env = rev.env;
        r = create_or_adopt(ctx->docker, ref, &cfg, &id, reterr);
        if (r >= 0 && rev.files.len > 0)
                r = docker_archive_put(ctx->docker, id, "/", rev.files.buf, rev.files.len, reterr);
        if (r >= 0)
                r = docker_container_start(ctx->docker, id, reterr);
        if (r >= 0)
                r = wait_exit(ctx, cfg.name, id, a->timeout, &code, reterr);
        if (id) {
                DISCARD(docker_container_logs(ctx->docker, id, 200, &out, NULL));
                DISCARD(docker_container_remove(ctx->docker, id, true, false, NULL));
        }
        if (log) {
                DISCARD(buf_printf(log, "$ run %s (%s)\n", cfg.name, strna(a->reason)));
                DISCARD(buf_printf(log, "%s", buf_str(&out)));
        }
        if (r < 0)
                return r;
        if (code != 0)
                return err_set(reterr, -EPROTO, NULL, "%s exited with %d: %s", strna(a->reason),
                               code, tail_of(&out));
        return 0;
}

static int finish_request(ReconcileCtx *ctx, const Action *a, Error *reterr) {
        char *end = NULL;
        long long id;

        if (!ctx->store)
                return 0;
        errno = 0;
        id = a->target ? strtoll(a->target, &end, 10) : 0;
        if (!a->target || errno != 0 || *end != 0 || id <= 0)
                return err_set(reterr, -EINVAL, NULL, "bad request id %s", strna(a->target));
        return store_request_finish(ctx->store, id, true, strna(a->reason), reterr);
}

/* Replicas are created in parallel (as `docker run` in a shell loop with & would be): each job
 * has its own Docker client; secrets are revealed before, events written after, on the
 * worker's own store connection. */
#define CREATE_PARALLEL_MAX 16

typedef struct CreateJob {
        const DockerEngine *engine;
        const ResourceRef *ref;
        const Action *action;
        Revealed rev;
        Error err;
        int r;
} CreateJob;

static void *create_job_run(void *userdata) {
        CreateJob *j = userdata;
        _cleanup_(docker_client_freep) DockerClient *d = NULL;

        j->r = docker_client_new(j->engine, &d, &j->err);
        if (j->r >= 0)
                j->r = create_with(d, j->ref, j->action->container, &j->rev, &j->err);
        return NULL;
}

static int create_batch(ReconcileCtx *ctx, const ResourceRef *ref, const Action *actions, size_t n,
                        size_t *ret_done, Error *reterr) {
        CreateJob jobs[CREATE_PARALLEL_MAX] = {};
        pthread_t threads[CREATE_PARALLEL_MAX];
        bool started[CREATE_PARALLEL_MAX] = {};
        size_t done = 0;
        int r = 0;

        assert(n <= CREATE_PARALLEL_MAX);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                jobs[i] = (CreateJob){.engine = ctx->engine, .ref = ref, .action = &actions[i]};
                r = reveal(ctx, ref, actions[i].container, &jobs[i].rev, reterr);
        }
        for (size_t i = 0; r >= 0 && i < n; i++)
                started[i] = pthread_create(&threads[i], NULL, create_job_run, &jobs[i]) == 0;
        for (size_t i = 0; i < n; i++) {
                if (started[i])
                        pthread_join(threads[i], NULL);
                else if (r >= 0)
                        create_job_run(&jobs[i]); /* no thread to be had: do it here */
        }
        for (size_t i = 0; i < n; i++) {
                if (r >= 0 && jobs[i].r < 0) {
                        r = jobs[i].r;
                        *reterr = jobs[i].err;
                        err_prefix(reterr, "create_container %s", strna(actions[i].target));
                } else if (jobs[i].r >= 0 && (started[i] || r >= 0)) {
                        done++;
                        event(ctx, ref, "Normal", "ContainerCreated", "created and started %s (%s)",
                              actions[i].target, actions[i].reason);
                }
                revealed_release(&jobs[i].rev);
        }
        *ret_done = done;
        return r;
}

static int apply_one(ReconcileCtx *ctx, const ResourceRef *ref, const Action *a, Buf *log,
                     Error *reterr) {
        const char *target = a->id ? a->id : a->target;
        int r;

        switch (a->type) {
        case ACTION_ENSURE_NETWORK:
                return ensure_network(ctx, ref, a->target, reterr);
        case ACTION_CREATE_CONTAINER: {
                size_t done;
                return create_batch(ctx, ref, a, 1, &done, reterr);
        }
        case ACTION_START_CONTAINER:
                r = docker_container_start(ctx->docker, a->id ? a->id : a->target, reterr);
                if (r < 0) {
                        /* A container Docker cannot start (seen after a dockerd restart: "task
                         * already exists", forever) is replaced: the next pass creates it anew. */
                        DISCARD(docker_container_remove(ctx->docker, a->id ? a->id : a->target,
                                                        true, false, NULL));
                        event(ctx, ref, "Warning", "ContainerReplaced",
                              "%s could not be started and was removed to be created again: %s",
                              a->target, reterr ? reterr->msg : "");
                        return r;
                }
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
        case ACTION_ENSURE_SECRET:
                return ensure_secret(ctx, ref, a->target, reterr);
        case ACTION_STOP_CONTAINER:
                r = docker_container_stop(ctx->docker, target, -1, reterr);
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "ContainerStopped", "stopped %s (%s)", a->target,
                             a->reason);
        case ACTION_RESTART_CONTAINER:
                r = docker_container_stop(ctx->docker, target, -1, reterr);
                if (r >= 0)
                        r = docker_container_start(ctx->docker, target, reterr);
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "ContainerRestarted", "restarted %s (%s)",
                             a->target, a->reason);
        case ACTION_PUT_FILES:
                return put_files(ctx, a, reterr);
        case ACTION_EXEC:
                return exec_step(ctx, a, log, reterr);
        case ACTION_RUN_TO_COMPLETION:
                return run_to_completion(ctx, ref, a, log, reterr);
        case ACTION_FINISH_REQUEST:
                return finish_request(ctx, a, reterr);
        case ACTION_UPDATE_RESOURCES:
                r = docker_container_update(ctx->docker, target, a->container->nano_cpus,
                                            a->container->memory, reterr);
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "Resized", "%s: %s", a->target, a->reason);
        case ACTION_RENAME_CONTAINER:
                if (strv_length(a->argv) != 1)
                        return err_set(reterr, -EINVAL, NULL, "rename of %s without a new name",
                                       strna(a->target));
                r = docker_container_rename(ctx->docker, target, a->argv[0], reterr);
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "ContainerRenamed", "renamed %s to %s", a->target,
                             a->argv[0]);
        case ACTION_KILL_CONTAINER:
                /* A fence: already stopped or gone is as good. */
                r = docker_container_kill(ctx->docker, target, a->argv ? a->argv[0] : NULL, reterr);
                if (r == -ESRCH || r == -ENOENT) {
                        err_clear(reterr);
                        return 0;
                }
                if (r < 0)
                        return r;
                if (a->argv && a->argv[0])
                        return event(ctx, ref, "Normal", "ContainerSignalled", "sent %s to %s (%s)",
                                     a->argv[0], a->target, strna(a->reason));
                return event(ctx, ref, "Normal", "ContainerKilled", "killed %s (%s)", a->target,
                             strna(a->reason));
        case ACTION_DISCONNECT_NETWORK:
                if (strv_length(a->argv) != 1)
                        return err_set(reterr, -EINVAL, NULL, "disconnect of %s without a network",
                                       strna(a->target));
                r = docker_network_disconnect(ctx->docker, a->argv[0], target, reterr);
                if (r == -ENOTCONN || r == -ENOENT) {
                        err_clear(reterr);
                        return 0;
                }
                if (r < 0)
                        return r;
                return event(ctx, ref, "Normal", "NetworkDisconnected",
                             "disconnected %s from %s (%s)", a->target, a->argv[0],
                             strna(a->reason));
        default:
                return err_set(reterr, -EOPNOTSUPP, NULL, "action %s is not handled here",
                               action_type_to_string(a->type));
        }
}

int steps_apply(ReconcileCtx *ctx, const ResourceRef *ref, const Plan *plan, Buf *log,
                size_t *ret_done, Error *reterr) {
        size_t i;
        int r = 0;

        for (i = 0; i < plan->n_actions; i++) {
                const Action *a = &plan->actions[i];
                size_t n = 0, done = 0;

                log_debug("%s/%s: %s %s (%s)", ref->project, ref->name,
                          action_type_to_string(a->type), strna(a->target), strna(a->reason));
                /* A run of creates (a scale-up, a fresh service) goes out at once. */
                while (i + n < plan->n_actions && n < CREATE_PARALLEL_MAX &&
                       plan->actions[i + n].type == ACTION_CREATE_CONTAINER)
                        n++;
                if (n > 1) {
                        r = create_batch(ctx, ref, a, n, &done, reterr);
                        if (r < 0) {
                                i += done;
                                break;
                        }
                        i += n - 1;
                        continue;
                }
                r = apply_one(ctx, ref, a, log, reterr);
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
