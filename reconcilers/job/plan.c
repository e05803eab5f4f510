/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "util/common.h"

#include "model/json-util.h"
#include "model/units.h"
#include "reconcilers/job/plan.h"

/* A job's phase follows its runs, so that `berth wait job NAME --for phase=RUNNING` waits for
 * the current generation's run to succeed:
 *   PROVISIONING  a run is queued (waiting for dependencies) or running
 *   RUNNING       idle, and the last run SUCCEEDED
 *   FAILED        idle, and the last run FAILED or timed out; or a run cannot start (a secret it
 *                 needs is missing)
 *   DEGRADED      (reconcile.c) Docker could not be reached to start a run: tried again
 *   DELETING      its containers are being removed */

#define REQUEUE_NOW                (1 * USEC_PER_MSEC)
#define REQUEUE_AFTER_ACTION       (100 * USEC_PER_MSEC)
#define REQUEUE_WAITING_DEPENDENCY (500 * USEC_PER_MSEC)
#define REQUEUE_WAITING_SECRET     (5 * USEC_PER_SEC)
/* Docker's die event ends a run's pass at once; this is only the safety net, and the timeout. */
#define REQUEUE_WHILE_RUNNING_MAX (30 * USEC_PER_SEC)

static const char *const step_table[_JOB_STEP_MAX] = {
        [JOB_STEP_NONE] = "none",   [JOB_STEP_QUEUE] = "queue",   [JOB_STEP_START] = "start",
        [JOB_STEP_ADOPT] = "adopt", [JOB_STEP_FINISH] = "finish", [JOB_STEP_LOST] = "lost",
};

const char *job_step_to_string(JobStep s) {
        if (s < 0 || s >= _JOB_STEP_MAX)
                return NULL;
        return step_table[s];
}

void job_observed_release(JobObserved *o) {
        if (!o)
                return;
        observed_containers_free(o->containers, o->n_containers);
        b_free(o->runs);
        b_free(o->secret_versions);
        b_free(o->deps);
        *o = (JobObserved){0};
}

void job_plan_init(JobPlan *p) {
        *p = (JobPlan){.exit_code = -1};
        plan_init(&p->plan);
}

void job_plan_release(JobPlan *p) {
        if (!p)
                return;
        plan_release(&p->plan);
        job_plan_init(p);
}

static int set_message(Status *st, const char *fmt, ...) _printf_(2, 3);
static int set_message(Status *st, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        b_free(st->message);
        st->message = b_strdup(buf);
        return st->message ? 0 : -ENOMEM;
}

static bool state_is(const ObservedContainer *c, const char *s) {
        return c->state && streq(c->state, s);
}

/* Still executing as far as a run is concerned (paused counts: it may resume). */
static bool container_alive(const ObservedContainer *c) {
        return state_is(c, "running") || state_is(c, "paused") || state_is(c, "restarting");
}

static const ObservedContainer *container_of(const JobObserved *obs, int64_t seq) {
        for (size_t i = 0; i < obs->n_containers; i++)
                if (obs->containers[i].index >= 0 && obs->containers[i].index == seq)
                        return &obs->containers[i];
        return NULL;
}

/* The run the job works on: the RUNNING one, else the oldest PENDING one; NULL when idle. */
static const JobRun *active_run(const JobObserved *obs) {
        const JobRun *pending = NULL;

        for (size_t i = 0; i < obs->n_runs; i++) {
                if (obs->runs[i].state == JOB_RUN_RUNNING)
                        return &obs->runs[i];
                if (obs->runs[i].state == JOB_RUN_PENDING && !pending)
                        pending = &obs->runs[i];
        }
        return pending;
}

static const JobRun *newest_run(const JobObserved *obs) {
        return obs->n_runs > 0 ? &obs->runs[obs->n_runs - 1] : NULL;
}

/* The newest run that started or ended: what status.last_run shows. */
static const JobRun *last_started_run(const JobObserved *obs) {
        for (size_t i = obs->n_runs; i > 0; i--)
                if (obs->runs[i - 1].state != JOB_RUN_PENDING)
                        return &obs->runs[i - 1];
        return NULL;
}

static int add_time(cJSON *o, const char *key, usec_t t) {
        char buf[40];

        return json_add_item_take(
                o, key,
                t > 0 ? cJSON_CreateString(format_rfc3339_exact(t, buf, sizeof(buf)))
                      : cJSON_CreateNull());
}

/* status.last_run: {id, state, exit_code, started_at, finished_at, generation, trigger,
 * message}. */
static int status_last_run(Status *st, const JobRun *run) {
        cJSON *o;
        int r;

        if (!run)
                return 0;
        if (!st->extra && !(st->extra = cJSON_CreateObject()))
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(st->extra, "last_run");
        o = cJSON_AddObjectToObject(st->extra, "last_run");
        if (!o)
                return -ENOMEM;
        r = json_add_item_take(o, "id", cJSON_CreateNumber((double) run->seq));
        if (r >= 0)
                r = json_add_item_take(o, "state",
                                       cJSON_CreateString(job_run_state_to_string(run->state)));
        if (r >= 0)
                r = json_add_item_take(o, "exit_code",
                                       run->exit_code >= 0 ? cJSON_CreateNumber(run->exit_code)
                                                           : cJSON_CreateNull());
        if (r >= 0)
                r = add_time(o, "started_at", run->started_at);
        if (r >= 0)
                r = add_time(o, "finished_at", run->finished_at);
        if (r >= 0)
                r = json_add_item_take(o, "generation",
                                       cJSON_CreateNumber((double) run->generation));
        if (r >= 0)
                r = json_add_item_take(o, "trigger", cJSON_CreateString(run->trigger));
        if (r >= 0 && run->message[0])
                r = json_add_item_take(o, "message", cJSON_CreateString(run->message));
        return r;
}

/* The run's container as a node of the status. */
static int status_node(Status *st, const ObservedContainer *c) {
        StatusNode *n;

        if (!c)
                return 0;
        n = b_realloc(st->nodes, (st->n_nodes + 1) * sizeof(StatusNode));
        if (!n)
                return -ENOMEM;
        st->nodes = n;
        n = &st->nodes[st->n_nodes++];
        *n = (StatusNode){.index = (unsigned) MAX(c->index, 0)};
        n->name = b_strdup(strempty(c->name));
        n->role = b_strdup(JOB_ROLE);
        n->state = b_strdup(strempty(c->state));
        n->health = b_strdup("none");
        if (!n->name || !n->role || !n->state || !n->health)
                return -ENOMEM;
        if (!container_alive(c) && !state_is(c, "created")) {
                n->has_exit = true;
                n->exit_code = c->exit_code;
                n->oom_killed = c->oom_killed;
        }
        return 0;
}

/* Idle: the phase and message the last ended run gives. */
static int status_idle(Status *st, const JobRun *last) {
        char tb[64];

        if (!last) {
                st->phase = PHASE_PROVISIONING;
                return set_message(st, "no run yet");
        }
        switch (last->state) {
        case JOB_RUN_SUCCEEDED:
                st->phase = PHASE_RUNNING;
                break;
        case JOB_RUN_FAILED:
        case JOB_RUN_TIMEOUT:
                st->phase = PHASE_FAILED;
                break;
        default:
                st->phase = PHASE_PROVISIONING;
                return set_message(st, "run %" PRId64 " %s", last->seq,
                                   job_run_state_to_string(last->state));
        }
        if (last->message[0])
                return set_message(st, "run %" PRId64 " %s: %s", last->seq,
                                   job_run_state_to_string(last->state), last->message);
        return set_message(st, "run %" PRId64 " %s (timeout %s)", last->seq,
                           job_run_state_to_string(last->state),
                           duration_format(last->timeout, tb, sizeof(tb)));
}

/* How a run whose container ended, ended. */
static void decide_outcome(const JobRun *run, const ObservedContainer *c, usec_t now, JobPlan *p) {
        usec_t finished = c->finished_at > 0 ? c->finished_at : now;
        usec_t deadline = run->started_at + run->timeout;
        char tb[64];

        p->finished_at = finished;
        p->exit_code = state_is(c, "created") ? -1 : c->exit_code;
        duration_format(run->timeout, tb, sizeof(tb));
        if (state_is(c, "created")) {
                p->state = JOB_RUN_FAILED;
                snprintf(p->message, sizeof(p->message), "its container never started");
        } else if (run->timeout > 0 && run->started_at > 0 && finished >= deadline) {
                /* Stopped at its timeout (or ended after it): whatever the exit code. */
                p->state = JOB_RUN_TIMEOUT;
                snprintf(p->message, sizeof(p->message),
                         "stopped at its timeout of %s (exit code %d)", tb, c->exit_code);
        } else if (c->exit_code == 0) {
                p->state = JOB_RUN_SUCCEEDED;
                snprintf(p->message, sizeof(p->message), "exited with code 0");
        } else {
                p->state = JOB_RUN_FAILED;
                snprintf(p->message, sizeof(p->message), "exited with code %d%s", c->exit_code,
                         c->oom_killed ? " (killed: out of memory)" : "");
        }
}

/* Containers that belong to no run in progress: their run ended and its logs are kept (or it
 * is not a run berth knows). Removed. */
static int plan_leftovers(const JobObserved *obs, const JobRun *active, Plan *p) {
        for (size_t i = 0; i < obs->n_containers; i++) {
                const ObservedContainer *c = &obs->containers[i];
                int r;

                if (active && c->index == active->seq)
                        continue;
                if (state_is(c, "removing"))
                        continue;
                r = plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, "its run has ended", NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_deleting(const JobObserved *obs, JobPlan *jp) {
        Plan *p = &jp->plan;
        bool busy = false;

        p->status.phase = PHASE_DELETING;
        for (size_t i = 0; i < obs->n_containers; i++) {
                const ObservedContainer *c = &obs->containers[i];
                int r;

                if (state_is(c, "removing")) {
                        busy = true;
                        continue;
                }
                r = plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, "deleting", NULL);
                if (r < 0)
                        return r;
        }
        if (obs->n_containers == 0) {
                p->delete_done = true;
                return set_message(&p->status, "deleted");
        }
        p->requeue_after = busy ? REQUEUE_AFTER_ACTION : REQUEUE_NOW;
        return set_message(&p->status, "removing %zu container(s)", obs->n_containers);
}

/* A queued run waits for what it needs; returns 1 when it must wait (status set). */
static int plan_wait(const ResourceRef *ref, const JobSpec *spec, const JobObserved *obs,
                     const JobRun *run, JobPlan *jp) {
        Status *st = &jp->plan.status;
        int r;

        if (spec->from_service && !obs->service_exists) {
                st->phase = PHASE_PROVISIONING;
                jp->plan.requeue_after = REQUEUE_WAITING_DEPENDENCY;
                r = set_message(st,
                                "run %" PRId64 " waiting for docker_service %s (it does not exist)",
                                run->seq, spec->from_service);
                return r < 0 ? r : 1;
        }
        for (size_t i = 0; obs->deps && i < spec->container.n_deps; i++) {
                const ObservedDependency *d = &obs->deps[i];

                if (d->running)
                        continue;
                st->phase = PHASE_PROVISIONING;
                jp->plan.requeue_after = REQUEUE_WAITING_DEPENDENCY;
                r = set_message(st, "run %" PRId64 " waiting for %s %s (%s)", run->seq,
                                spec->container.deps[i].kind, spec->container.deps[i].name,
                                d->exists ? d->phase : "it does not exist yet");
                return r < 0 ? r : 1;
        }
        /* Setting a secret the job names notifies it; one that comes from from_service's spec
         * does not: look again now and then. */
        for (size_t i = 0; obs->secret_versions && i < spec->container.n_secrets; i++)
                if (obs->secret_versions[i] == SECRET_MISSING) {
                        st->phase = PHASE_FAILED;
                        jp->plan.requeue_after = REQUEUE_WAITING_SECRET;
                        r = set_message(st,
                                        "run %" PRId64 " cannot start: secret \"%s\" "
                                        "(spec.secrets.%s) does not exist in project %s",
                                        run->seq, spec->container.secrets[i].secret,
                                        spec->container.secrets[i].key, ref->project);
                        return r < 0 ? r : 1;
                }
        return 0;
}

static int plan_pending(const ResourceRef *ref, const JobSpec *spec, const JobObserved *obs,
                        const JobRun *run, usec_t now, JobPlan *jp, Error *reterr) {
        const ObservedContainer *c = container_of(obs, run->seq);
        _cleanup_free_ ContainerConfig *cfg = NULL;
        Plan *p = &jp->plan;
        char net[96], tb[64];
        int r;

        jp->run = run->seq;
        if (c && state_is(c, "created")) {
                /* Made but never started (a crash in between): made again, whole. */
                p->status.phase = PHASE_PROVISIONING;
                p->requeue_after = REQUEUE_NOW;
                r = plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, "never started", NULL);
                if (r >= 0)
                        r = set_message(&p->status, "run %" PRId64 " starting", run->seq);
                return r;
        }
        if (c && !state_is(c, "removing")) {
                /* Its container started and the controller stopped before it said so. */
                jp->step = JOB_STEP_ADOPT;
                jp->started_at = c->started_at > 0 ? c->started_at
                                 : c->created > 0  ? c->created
                                                   : now;
                jp->timeout = spec->timeout;
                snprintf(jp->container, sizeof(jp->container), "%s", strempty(c->name));
                snprintf(jp->container_id, sizeof(jp->container_id), "%s", strempty(c->id));
                p->status.phase = PHASE_PROVISIONING;
                p->requeue_after = REQUEUE_NOW;
                r = status_node(&p->status, c);
                if (r >= 0)
                        r = set_message(&p->status, "run %" PRId64 " running (timeout %s)",
                                        run->seq, duration_format(spec->timeout, tb, sizeof(tb)));
                return r;
        }
        if (c) { /* being removed: wait for Docker */
                p->status.phase = PHASE_PROVISIONING;
                p->requeue_after = REQUEUE_AFTER_ACTION;
                return set_message(&p->status, "run %" PRId64 " starting", run->seq);
        }
        r = plan_wait(ref, spec, obs, run, jp);
        if (r != 0)
                return r < 0 ? r : 0;

        cfg = b_calloc(1, sizeof(ContainerConfig));
        if (!cfg)
                return -ENOMEM;
        r = job_container_config(ref, spec, obs, run->seq, cfg, reterr);
        if (r < 0) {
                container_config_release(cfg);
                return r;
        }
        jp->step = JOB_STEP_START;
        jp->started_at = now;
        jp->timeout = spec->timeout;
        snprintf(jp->container, sizeof(jp->container), "%s", cfg->name);
        if (!obs->network_exists) {
                r = name_project_network(net, sizeof(net), ref->project);
                if (r >= 0)
                        r = plan_add(p, ACTION_ENSURE_NETWORK, net, NULL, "missing", NULL);
                if (r < 0) {
                        container_config_release(cfg);
                        return r;
                }
        }
        r = plan_add(p, ACTION_CREATE_CONTAINER, jp->container, NULL,
                     run->trigger[0] && streq(run->trigger, "run") ? "run action" : "spec changed",
                     TAKE_PTR(cfg));
        if (r < 0)
                return r;
        p->status.phase = PHASE_PROVISIONING;
        p->requeue_after = REQUEUE_AFTER_ACTION;
        return set_message(&p->status, "run %" PRId64 " starting (timeout %s)", run->seq,
                           duration_format(spec->timeout, tb, sizeof(tb)));
}

static int plan_running(const JobRun *run, const JobObserved *obs, usec_t now, JobPlan *jp) {
        const ObservedContainer *c = container_of(obs, run->seq);
        Plan *p = &jp->plan;
        usec_t deadline = run->started_at + run->timeout;
        char tb[64];
        int r;

        jp->run = run->seq;
        duration_format(run->timeout, tb, sizeof(tb));
        p->status.phase = PHASE_PROVISIONING;
        if (!c) {
                jp->step = JOB_STEP_LOST;
                jp->state = JOB_RUN_FAILED;
                jp->finished_at = now;
                snprintf(jp->message, sizeof(jp->message),
                         "its container disappeared while it ran (removed by hand?)");
                p->requeue_after = REQUEUE_NOW;
                return set_message(&p->status, "run %" PRId64 " FAILED: %s", run->seq, jp->message);
        }
        snprintf(jp->container, sizeof(jp->container), "%s", strempty(c->name));
        snprintf(jp->container_id, sizeof(jp->container_id), "%s", strempty(c->id));
        r = status_node(&p->status, c);
        if (r < 0)
                return r;
        if (state_is(c, "removing")) {
                p->requeue_after = REQUEUE_AFTER_ACTION;
                return set_message(&p->status, "run %" PRId64 " ending", run->seq);
        }
        if (container_alive(c)) {
                if (run->timeout > 0 && now >= deadline) {
                        r = plan_add(p, ACTION_STOP_CONTAINER, c->name, c->id,
                                     "its timeout has passed", NULL);
                        if (r < 0)
                                return r;
                        p->requeue_after = REQUEUE_AFTER_ACTION;
                        return set_message(&p->status,
                                           "run %" PRId64 " reached its timeout of %s: stopping",
                                           run->seq, tb);
                }
                p->requeue_after = run->timeout > 0 ? MIN(deadline - now, REQUEUE_WHILE_RUNNING_MAX)
                                                    : REQUEUE_WHILE_RUNNING_MAX;
                return set_message(&p->status, "run %" PRId64 " running (timeout %s)", run->seq,
                                   tb);
        }

        /* Ended: its logs are kept, its outcome recorded, then its container goes. */
        jp->step = JOB_STEP_FINISH;
        decide_outcome(run, c, now, jp);
        r = plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, "its run has ended, logs kept",
                     NULL);
        if (r < 0)
                return r;
        p->requeue_after = REQUEUE_NOW;
        return set_message(&p->status, "run %" PRId64 " %s: %s", run->seq,
                           job_run_state_to_string(jp->state), jp->message);
}

static int plan_idle(const ResourceRef *ref, const JobObserved *obs, JobPlan *jp) {
        const JobRun *newest = newest_run(obs), *last = last_started_run(obs);
        int r;

        r = plan_leftovers(obs, NULL, &jp->plan);
        if (r >= 0)
                r = status_idle(&jp->plan.status, last);
        if (r >= 0)
                r = status_last_run(&jp->plan.status, last);
        if (r < 0)
                return r;
        if (!newest || newest->generation != ref->generation) {
                /* A new spec (or the run action's new generation): a new run. */
                jp->step = JOB_STEP_QUEUE;
                jp->plan.status.phase = PHASE_PROVISIONING;
                jp->plan.requeue_after = REQUEUE_NOW;
                return set_message(&jp->plan.status, "a run of generation %" PRId64 " is queued",
                                   ref->generation);
        }
        if (jp->plan.n_actions > 0)
                jp->plan.requeue_after = REQUEUE_AFTER_ACTION;
        return 0;
}

static int plan_active(const ResourceRef *ref, const JobSpec *spec, const JobObserved *obs,
                       const JobRun *active, usec_t now, JobPlan *jp, Error *reterr) {
        const JobRun *newest = newest_run(obs), *last = last_started_run(obs);
        JobRun cur;
        int r;

        r = plan_leftovers(obs, active, &jp->plan);
        if (r < 0)
                return r;
        if (active->state == JOB_RUN_RUNNING)
                r = plan_running(active, obs, now, jp);
        else
                r = plan_pending(ref, spec, obs, active, now, jp, reterr);
        if (r < 0)
                return r;

        /* status.last_run: the run as this pass leaves it. */
        cur = *active;
        if (jp->step == JOB_STEP_FINISH || jp->step == JOB_STEP_LOST) {
                cur.state = jp->state;
                cur.exit_code = jp->exit_code;
                cur.finished_at = jp->finished_at;
                snprintf(cur.message, sizeof(cur.message), "%s", jp->message);
                last = &cur;
        } else if (jp->step == JOB_STEP_START || jp->step == JOB_STEP_ADOPT) {
                cur.state = JOB_RUN_RUNNING;
                cur.started_at = jp->started_at;
                cur.timeout = jp->timeout;
                last = &cur;
        }
        r = status_last_run(&jp->plan.status, last);
        if (r < 0)
                return r;
        /* The run ended and nothing else is to run: the phase it leaves the job in, at once. */
        if ((jp->step == JOB_STEP_FINISH || jp->step == JOB_STEP_LOST) && newest &&
            newest->seq == active->seq && newest->generation == ref->generation) {
                r = status_idle(&jp->plan.status, &cur);
                if (r < 0)
                        return r;
        }
        /* A new generation while a run waits or runs: its run is queued now (a waiting run takes
         * it), and starts once this one has ended. */
        if (jp->step == JOB_STEP_NONE && newest && newest->generation != ref->generation) {
                jp->step = JOB_STEP_QUEUE;
                jp->plan.requeue_after = REQUEUE_NOW;
        }
        return 0;
}

int job_plan(const ResourceRef *ref, const JobSpec *spec, const JobObserved *obs, usec_t now,
             JobPlan *ret, Error *reterr) {
        _cleanup_(job_plan_release) JobPlan jp;
        const JobRun *active;
        int r;

        job_plan_init(&jp);
        assert_return(ref && spec && obs && ret, -EINVAL);
        jp.plan.status.observed_generation = ref->generation;

        active = active_run(obs);
        if (ref->deleting)
                r = plan_deleting(obs, &jp);
        else if (!active)
                r = plan_idle(ref, obs, &jp);
        else
                r = plan_active(ref, spec, obs, active, now, &jp, reterr);
        if (r < 0)
                return r;
        *ret = jp;
        job_plan_init(&jp);
        return 0;
}

int job_plan_to_text(const JobPlan *p, Buf *out) {
        int r;

        assert_return(p && out, -EINVAL);
        switch (p->step) {
        case JOB_STEP_NONE:
                r = buf_puts(out, "step: none\n");
                break;
        case JOB_STEP_QUEUE:
                r = buf_puts(out, "step: queue a run of the current generation\n");
                break;
        case JOB_STEP_START:
        case JOB_STEP_ADOPT:
                r = buf_printf(out, "step: %s run %" PRId64 " (%s)\n", job_step_to_string(p->step),
                               p->run, p->container);
                break;
        default:
                r = buf_printf(out, "step: %s run %" PRId64 ": %s, exit code %d: %s\n",
                               job_step_to_string(p->step), p->run,
                               job_run_state_to_string(p->state), p->exit_code, p->message);
                break;
        }
        if (r < 0)
                return r;
        return plan_to_text(&p->plan, out);
}
