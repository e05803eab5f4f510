/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "docker_service"
#include "util/common.h"
#include "util/log.h"

#include "drivers/docker/docker.h"
#include "reconcilers/docker_service/service.h"
#include "model/json-util.h"
#include "model/revision.h"
#include "model/units.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/steps.h"
#include "store/revisions.h"

/* Who a deploy's automatic rollback is audited as. */
#define AUTO_ROLLBACK_ACTOR "controller (auto_rollback)"
#define REVISION_DIFF_MAX   (16 * 1024)
#define HOOK_OUTPUT_MAX     (64 * 1024)

/* A new spec generation that makes no new revision (a scale, a pause, new deploy settings) and
 * that Docker sees: kept as an operation "update" with its plan. Deploys have their own (the
 * revision's, store/revisions.h). */
static void record_update(ReconcileCtx *ctx, const StoredResource *r, const Plan *plan,
                          bool new_revision, int result, const Error *err) {
        _cleanup_(buf_release) Buf log = BUF_INIT(64 * 1024);
        int64_t op;

        if (new_revision || r->ref.generation == r->observed_generation || plan->n_actions == 0)
                return;
        if (plan_to_text(plan, &log) < 0)
                return;
        if (result < 0)
                DISCARD(buf_printf(&log, "error: %s\n", err->msg));
        if (store_operation_start(ctx->store, r->ref.uuid, "update", "controller", &op, NULL) < 0)
                return;
        DISCARD(store_operation_finish(ctx->store, op, result >= 0, buf_str(&log), NULL));
}

static int fail_status(ReconcileCtx *ctx, const StoredResource *r, Phase phase, const Error *cause,
                       Error *reterr) {
        return reconcile_fail_status(ctx, r, phase, cause->msg, NULL, reterr);
}

/* ---- revisions ------------------------------------------------------------------------------ */

/* {secret: version} of every secret the containers read (the spec's and a database
 * dependency's password): a new version makes a new revision, and its diff names it. */
static cJSON *secret_versions_json(const ServiceSpec *spec, const ServiceObserved *obs) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        for (size_t i = 0; obs->secret_versions && i < spec->n_secrets; i++) {
                cJSON_DeleteItemFromObjectCaseSensitive(o, spec->secrets[i].secret);
                if (json_add_item_take(o, spec->secrets[i].secret,
                                       cJSON_CreateNumber((double) obs->secret_versions[i])) < 0)
                        return NULL;
        }
        for (size_t i = 0; obs->deps && i < spec->n_deps; i++) {
                const ObservedDependency *d = &obs->deps[i];

                if (!d->exists || !d->database || isempty(d->secret) ||
                    cJSON_GetObjectItemCaseSensitive(o, d->secret))
                        continue;
                if (json_add_item_take(o, d->secret,
                                       cJSON_CreateNumber((double) d->secret_version)) < 0)
                        return NULL;
        }
        return TAKE_PTR(o);
}

/* Whether the planner stops before any container (a secret missing, a first replica waiting for a
 * dependency): the revision is made once what it needs is there. */
static bool revision_blocked(const ServiceSpec *spec, const ServiceObserved *obs) {
        for (size_t i = 0; obs->secret_versions && i < spec->n_secrets; i++)
                if (obs->secret_versions[i] == SECRET_MISSING)
                        return true;
        if (obs->deps && obs->n_containers == 0 && !spec->paused && spec->replicas > 0)
                for (size_t i = 0; i < spec->n_deps; i++)
                        if (!obs->deps[i].running)
                                return true;
        return false;
}

/* The diff of a new revision against the newest one: what changed in the spec or in the secret
 * versions, and a rollback's twin. */
static int revision_diff_text(ReconcileCtx *ctx, const StoredResource *r,
                              const StoredRevision *latest, const char *hash, const cJSON *secrets,
                              Buf *out, Error *reterr) {
        int64_t twin = 0;
        int q;

        if (!latest)
                return buf_puts(out, "first revision\n");
        q = store_revision_find_hash(ctx->store, r->ref.uuid, hash, latest->deploy.revision + 1,
                                     &twin, reterr);
        if (q < 0)
                return q;
        if (twin > 0) {
                q = buf_printf(out, "same as revision %" PRId64 " (a rollback)\n", twin);
                if (q < 0)
                        return q;
        }
        q = revision_diff(latest->spec, latest->secret_versions, r->spec, secrets, out);
        if (q == -E2BIG)
                return 0; /* a long diff is cut */
        if (q >= 0 && out->len == 0)
                q = buf_puts(out, "no change in the spec: what berth derives from other "
                                  "resources changed (a dependency's endpoint or network)\n");
        return q;
}

/* The revision the spec makes now: the newest one when its config hash matches, else a new one
 * (its deploy starts). Fills obs->deploy; ret_new: a revision was made in this pass. */
static int revision_sync(ReconcileCtx *ctx, const StoredResource *r, const ServiceSpec *spec,
                         ServiceObserved *obs, bool *ret_new, Error *reterr) {
        _cleanup_(stored_revision_release) StoredRevision latest = {};
        _cleanup_(buf_release) Buf diff = BUF_INIT(REVISION_DIFF_MAX);
        _cleanup_json_ cJSON *secrets = NULL;
        bool have_latest;
        char hash[65];
        int q;

        *ret_new = false;
        if (!ctx->store || isempty(r->ref.uuid) || revision_blocked(spec, obs))
                return 0;
        q = service_revision_hash(&r->ref, spec, obs, hash, reterr);
        if (q < 0)
                return q;
        q = store_revision_latest(ctx->store, r->ref.uuid, &latest, reterr);
        if (q < 0 && q != -ENOENT)
                return q;
        have_latest = q >= 0;
        err_clear(reterr);
        if (have_latest && streq(latest.config_hash, hash)) {
                obs->deploy = latest.deploy;
                return 0;
        }

        secrets = secret_versions_json(spec, obs);
        if (!secrets)
                return -ENOMEM;
        q = revision_diff_text(ctx, r, have_latest ? &latest : NULL, hash, secrets, &diff, reterr);
        if (q < 0)
                return q;
        q = store_revision_add(ctx->store, r->ref.uuid, ctx->epoch,
                               &(RevisionNew){
                                       .config_hash = hash,
                                       .generation = r->ref.generation,
                                       .spec = r->spec,
                                       .secret_versions = secrets,
                                       .image = spec->image,
                                       .diff = buf_str(&diff),
                               },
                               !have_latest || latest.generation != r->ref.generation, &obs->deploy,
                               reterr);
        if (q < 0)
                return q;
        *ret_new = true;
        {
                /* One line for the event and the log: "revision 3: image: a → b; env.X: added". */
                _cleanup_(buf_release) Buf line = BUF_INIT(1024);
                const char *p = buf_str(&diff);

                DISCARD(buf_printf(&line, "revision %" PRId64 ": ", obs->deploy.revision));
                for (size_t i = 0; p[i]; i++)
                        if (p[i] != '\n')
                                DISCARD(buf_putc(&line, p[i]));
                        else if (p[i + 1])
                                DISCARD(buf_puts(&line, "; "));
                log_info("%s/%s: %s", r->ref.project, r->ref.name, buf_str(&line));
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Normal", "RevisionCreated",
                                        buf_str(&line), NULL));
        }
        return 0;
}

/* The revision the spec would make, read only (apply?dry_run=true): the newest one when it
 * matches, else the next number with its deploy starting now. */
static int revision_peek(Store *store, const ResourceRef *ref, const ServiceSpec *spec,
                         ServiceObserved *obs, Error *reterr) {
        _cleanup_(stored_revision_release) StoredRevision latest = {};
        char hash[65];
        int q;

        if (revision_blocked(spec, obs))
                return 0;
        q = service_revision_hash(ref, spec, obs, hash, reterr);
        if (q < 0)
                return q;
        if (store && !isempty(ref->uuid)) {
                q = store_revision_latest(store, ref->uuid, &latest, reterr);
                if (q < 0 && q != -ENOENT)
                        return q;
                err_clear(reterr);
                if (q >= 0 && streq(latest.config_hash, hash)) {
                        obs->deploy = latest.deploy;
                        return 0;
                }
        }
        obs->deploy = (RevisionDeploy){
                .revision = latest.deploy.revision + 1,
                .from_revision = latest.deploy.state == DEPLOY_DONE ? latest.deploy.revision
                                                                    : latest.deploy.from_revision,
                .state = DEPLOY_IN_PROGRESS,
                .started_at = now_realtime(),
                .progress_at = now_realtime(),
        };
        return 0;
}

/* "pre_deploy exited with 3: <its last line>" out of the step's error, which names the action and
 * ends with the last lines the hook printed. */
static const char *hook_failure(const char *msg, char *buf, size_t n) {
        const char *from = strstr(msg, "pre_deploy exited with "), *colon, *end, *line;

        if (!from)
                from = strstr(msg, "post_deploy exited with ");
        if (!from)
                from = msg;
        colon = strchr(from, ':');
        if (!colon) {
                snprintf(buf, n, "%s", from);
                return buf;
        }
        end = colon + strlen(colon);
        while (end > colon + 1 && (end[-1] == '\n' || end[-1] == ' '))
                end--;
        for (line = end; line > colon + 1 && line[-1] != '\n'; line--)
                ;
        while (*line == ' ')
                line++;
        snprintf(buf, n, "%.*s: %.*s", (int) (colon - from), from, (int) (end - line), line);
        return buf;
}

/* What this pass did to the deploy, recorded: progress, hooks done, its end. A hook that exited
 * non-zero fails the deploy; with auto_rollback, a failure restores the revision that served. */
static void record_deploy(ReconcileCtx *ctx, const StoredResource *r, const ServiceSpec *spec,
                          const ServiceObserved *obs, const DeployOutcome *out, const Buf *output,
                          int result, const Error *err) {
        const RevisionDeploy *d = &obs->deploy;
        RevisionUpdate u = {
                .state = out->state,
                .ready = out->ready,
                .message = out->message,
                .output = buf_str(output),
        };
        bool hook = out->runs_pre_deploy || out->runs_post_deploy;
        Error e = ERROR_INIT;
        char msg[REVISION_MESSAGE_MAX + 64], why[REVISION_MESSAGE_MAX];
        int q;

        if (d->revision <= 0 || d->state != DEPLOY_IN_PROGRESS || out->state == DEPLOY_NONE)
                return;
        if (hook && result >= 0) {
                u.pre_deploy_done = out->runs_pre_deploy;
                u.post_deploy_done = out->runs_post_deploy;
                u.progress = true;
                if (out->runs_post_deploy)
                        u.state = DEPLOY_DONE;
        } else if (hook && result == -EPROTO) {
                /* The hook ran and exited non-zero (its code and last lines are in err). */
                u.state = DEPLOY_FAILED;
                u.message = hook_failure(err->msg, why, sizeof(why));
        } else if (hook && result == -ETIMEDOUT && strstr(err->msg, "ran for more than")) {
                /* It outlived the progress deadline: stopped and removed by the step. */
                char dl[32];

                u.state = DEPLOY_FAILED;
                snprintf(why, sizeof(why), "%s ran longer than the progress deadline (%s)",
                         out->runs_pre_deploy ? "pre_deploy" : "post_deploy",
                         duration_format(spec->deploy.progress_deadline, dl, sizeof(dl)));
                u.message = why;
        } else if (result < 0)
                return; /* Docker trouble: the next pass tries again */
        if (u.state == DEPLOY_IN_PROGRESS && !hook && out->ready <= d->ready)
                return; /* nothing new */

        q = store_revision_update(ctx->store, r->ref.uuid, ctx->epoch, d->revision, &u, &e);
        if (q < 0) {
                log_warn("%s/%s: cannot record the deploy of revision %" PRId64 ": %s",
                         r->ref.project, r->ref.name, d->revision, e.msg);
                return;
        }
        if (u.state == DEPLOY_DONE) {
                log_info("%s/%s: revision %" PRId64 " deployed", r->ref.project, r->ref.name,
                         d->revision);
                snprintf(msg, sizeof(msg), "revision %" PRId64 " deployed: every replica runs it",
                         d->revision);
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Normal", "Deployed", msg, NULL));
                return;
        }
        if (u.state != DEPLOY_FAILED)
                return;
        log_warn("%s/%s: deploy of revision %" PRId64 " failed: %s", r->ref.project, r->ref.name,
                 d->revision, strempty(u.message));
        snprintf(msg, sizeof(msg), "deploy of revision %" PRId64 " failed: %s", d->revision,
                 strempty(u.message));
        DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "DeployFailed", msg, NULL));
        if (!spec->deploy.auto_rollback || d->from_revision <= 0)
                return;
        q = store_revision_rollback(ctx->store, r, d->from_revision, AUTO_ROLLBACK_ACTOR, NULL,
                                    NULL, NULL, &e);
        if (q < 0)
                log_warn("%s/%s: automatic rollback to revision %" PRId64 " failed: %s",
                         r->ref.project, r->ref.name, d->from_revision, e.msg);
        else
                log_info("%s/%s: rolled back to revision %" PRId64 " (auto_rollback)",
                         r->ref.project, r->ref.name, d->from_revision);
}

int service_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                      Error *reterr) {
        _cleanup_(service_spec_release) ServiceSpec spec = {0};
        _cleanup_(service_observed_release) ServiceObserved obs = {0};
        _cleanup_(plan_release) Plan plan;
        _cleanup_(buf_release) Buf output = BUF_INIT(HOOK_OUTPUT_MAX); /* what hooks printed */
        DeployOutcome deploy = {0};
        Error err = ERROR_INIT;
        bool new_revision = false;
        size_t done = 0;
        int q;

        plan_init(&plan);
        q = service_spec_from_json(r->spec, &spec, &err);
        if (q < 0 && !r->ref.deleting) {
                /* A stored spec that no longer parses is terminal until the user applies again. */
                ret->terminal = true;
                (void) fail_status(ctx, r, PHASE_FAILED, &err, NULL);
                return err_set(reterr, q, err.field, "%s", err.msg);
        }
        q = service_observe(ctx->docker, ctx->store, ctx->probes, &r->ref, &spec, &obs, reterr);
        if (q < 0)
                return q;
        if (!r->ref.deleting) {
                q = revision_sync(ctx, r, &spec, &obs, &new_revision, reterr);
                if (q < 0)
                        return q;
        }
        q = service_plan(&r->ref, &spec, &obs, ctx->now, &plan, &deploy, reterr);
        if (q < 0)
                return q;

        q = steps_apply(ctx, &r->ref, &plan, &output, &done, &err);
        record_update(ctx, r, &plan, new_revision, q, &err);
        if (!r->ref.deleting)
                record_deploy(ctx, r, &spec, &obs, &deploy, &output, q, &err);
        if (q < 0) {
                log_warn("%s/%s: %s", r->ref.project, r->ref.name, err.msg);
                DISCARD(store_event_add(ctx->store, r->ref.uuid, "Warning", "ApplyFailed", err.msg,
                                        NULL));
                (void) fail_status(ctx, r, err_is_transient(q) ? PHASE_DEGRADED : PHASE_FAILED,
                                   &err, NULL);
                *reterr = err;
                return q;
        }

        if (plan.delete_done) {
                char net[96];
                if (name_project_network(net, sizeof(net), r->ref.project) >= 0) {
                        /* Shared by the project's services: in use is fine, so is gone. */
                        DISCARD(docker_network_remove(ctx->docker, net, NULL));
                }
                q = store_resource_remove(ctx->store, r->ref.uuid, ctx->epoch, reterr);
                if (q < 0)
                        return q;
                ret->removed = true;
                return 0;
        }

        q = reconcile_write_status(ctx, r, &plan.status, reterr);
        if (q < 0)
                return q;
        ret->requeue_after = plan.requeue_after;
        /* A hook finished or the deploy ended: look again at once, with what was recorded. */
        if (deploy.runs_pre_deploy || deploy.runs_post_deploy || deploy.state == DEPLOY_FAILED)
                ret->requeue_after = 1;
        return 0;
}

int service_preview(DockerClient *docker, Store *store, const ResourceRef *ref,
                    const cJSON *spec_json, Plan *ret, Error *reterr) {
        _cleanup_(service_spec_release) ServiceSpec spec = {0};
        _cleanup_(service_observed_release) ServiceObserved obs = {0};
        int q;

        q = service_spec_from_json(spec_json, &spec, reterr);
        if (q < 0)
                return q;
        q = service_observe(docker, store, NULL, ref, &spec, &obs, reterr);
        if (q < 0)
                return q;
        if (!ref->deleting) {
                q = revision_peek(store, ref, &spec, &obs, reterr);
                if (q < 0)
                        return q;
        }
        return service_plan(ref, &spec, &obs, now_realtime(), ret, NULL, reterr);
}
