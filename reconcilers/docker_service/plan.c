/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "reconcilers/docker_service/plan.h"

/* A container that exited this many times under Docker's restart policy counts as failed. */
#define CRASH_LOOP_RESTARTS 5
/* How soon to look again after acting, or while a replica is still starting. */
/* Short: one list call and a probe per pass, and readiness is what apply -> RUNNING waits on. */
#define REQUEUE_AFTER_ACTION   (100 * USEC_PER_MSEC)
#define REQUEUE_WHILE_STARTING (100 * USEC_PER_MSEC)
/* A dependency's status change does not notify its dependents: look again on this beat. */
#define REQUEUE_WAITING_DEPENDENCY (500 * USEC_PER_MSEC)

void service_observed_release(ServiceObserved *o) {
        if (!o)
                return;
        observed_containers_free(o->containers, o->n_containers);
        b_free(o->probes);
        strv_free(o->volumes);
        b_free(o->secret_versions);
        b_free(o->deps);
        strv_free(o->allowed_networks);
        *o = (ServiceObserved){0};
}

typedef struct Tally {
        int desired, running, ready, failed;
        int restarting; /* replicas still to replace for a restart action */
        bool busy;      /* Docker is still removing or restarting something */
} Tally;

static const char *label_value(char *const *labels, const char *key) {
        size_t n = strlen(key);

        for (; labels && *labels; labels++)
                if (strneq(*labels, key, n) && (*labels)[n] == '=')
                        return *labels + n + 1;
        return NULL;
}

static bool state_is(const ObservedContainer *c, const char *s) {
        return c->state && streq(c->state, s);
}

/* Ready means running and, when the service has a healthcheck, passing it: berth's own probe
 * for http/tcp, Docker's report for command checks. */
static bool container_ready(const ServiceSpec *spec, const ObservedContainer *c,
                            const ProbeStatus *probe) {
        if (!state_is(c, "running"))
                return false;
        switch (spec->healthcheck.type) {
        case HEALTH_HTTP:
        case HEALTH_TCP:
                return probe->result == PROBE_OK &&
                       probe->ok_streak >= MAX(spec->healthcheck.healthy_threshold, 1);
        case HEALTH_COMMAND:
                return c->health && streq(c->health, "healthy");
        default:
                return true;
        }
}

/* Whether berth's own probe says to replace the container: unhealthy_threshold failures in a row
 * (counted once per interval, and only after a first success: see reconcilers/probe-memory.h). */
static bool probe_says_replace(const ServiceSpec *spec, const ProbeStatus *probe) {
        return (spec->healthcheck.type == HEALTH_HTTP || spec->healthcheck.type == HEALTH_TCP) &&
               probe->fail_streak >= MAX(spec->healthcheck.unhealthy_threshold, 1);
}

static const char *container_health(const ServiceSpec *spec, const ObservedContainer *c,
                                    const ProbeStatus *probe) {
        switch (spec->healthcheck.type) {
        case HEALTH_HTTP:
        case HEALTH_TCP:
                if (!state_is(c, "running"))
                        return "none";
                return probe->result == PROBE_OK     ? "healthy"
                       : probe->result == PROBE_FAIL ? "unhealthy"
                                                     : "starting";
        case HEALTH_COMMAND:
                return c->health ? c->health : "starting";
        default:
                return "none";
        }
}

/* Whether a stopped container should be started again by berth. Docker restarts a crashed
 * process itself under its restart policy, but never one that a user killed or stopped: berth
 * brings those back, except where the policy says a stop is final. */
static bool should_restart(const ServiceSpec *spec, const ObservedContainer *c) {
        const char *policy = spec->restart_policy ? spec->restart_policy : "unless-stopped";

        if (streq(policy, "no"))
                return false;
        if (streq(policy, "on-failure"))
                return c->exit_code != 0 && (spec->restart_max_retries == 0 ||
                                             c->restart_count < spec->restart_max_retries);
        return true;
}

static int add_node(Status *st, const ServiceSpec *spec, const ObservedContainer *c,
                    const ProbeStatus *probe) {
        StatusNode *n, *nodes;

        nodes = b_realloc(st->nodes, (st->n_nodes + 1) * sizeof(StatusNode));
        if (!nodes)
                return -ENOMEM;
        st->nodes = nodes;
        n = &st->nodes[st->n_nodes];
        *n = (StatusNode){0};
        n->name = b_strdup(strempty(c->name));
        n->role = b_strdup(SERVICE_ROLE);
        n->state = b_strdup(c->state ? c->state : "unknown");
        n->health = b_strdup(container_health(spec, c, probe));
        n->host = c->ip ? b_strdup(c->ip) : NULL;
        n->index = c->index < 0 ? 0 : (unsigned) c->index;
        n->restarts = c->restart_count;
        /* observe() inspected the stopped ones: their exit code and OOM kill say why. */
        n->has_exit = !state_is(c, "running") && !state_is(c, "created") && c->finished_at > 0;
        n->exit_code = c->exit_code;
        n->oom_killed = c->oom_killed;
        st->n_nodes++;
        if (!n->name || !n->role || !n->state || !n->health || (c->ip && !n->host))
                return -ENOMEM;
        return 0;
}

/* Whether observed volume `vol` belongs to a spec volume marked retain. Names are
 * <project>-<name>-<vol>-<index>, all DNS labels, so the prefix identifies the spec volume. */
static bool volume_retained(const ResourceRef *ref, const ServiceSpec *spec, const char *vol) {
        for (size_t i = 0; i < spec->n_volumes; i++) {
                char prefix[160];
                size_t n;

                if (!spec->volumes[i].retain)
                        continue;
                snprintf(prefix, sizeof(prefix), "%s-%s-%s-", ref->project, ref->name,
                         spec->volumes[i].name);
                n = strlen(prefix);
                if (strneq(vol, prefix, n) && vol[n] &&
                    strspn(vol + n, "0123456789") == strlen(vol + n))
                        return true;
        }
        return false;
}

static int plan_deleting(const ResourceRef *ref, const ServiceSpec *spec,
                         const ServiceObserved *obs, Plan *p) {
        size_t volumes = 0;
        int r;

        p->status.phase = PHASE_DELETING;
        for (size_t i = 0; i < obs->n_containers; i++) {
                const ObservedContainer *c = &obs->containers[i];
                r = plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, "resource deleted", NULL);
                if (r < 0)
                        return r;
        }
        /* Volumes go once no container holds them; retained ones stay for the user. */
        for (char **v = obs->volumes; obs->n_containers == 0 && v && *v; v++) {
                if (volume_retained(ref, spec, *v))
                        continue;
                r = plan_add(p, ACTION_REMOVE_VOLUME, *v, NULL, "resource deleted", NULL);
                if (r < 0)
                        return r;
                volumes++;
        }
        if (obs->n_containers > 0 || volumes > 0) {
                p->requeue_after = REQUEUE_AFTER_ACTION;
                p->status.message =
                        b_strdup(volumes > 0 ? "removing volumes" : "removing containers");
        } else {
                p->delete_done = true;
                p->status.message = b_strdup("every container removed");
        }
        return p->status.message ? 0 : -ENOMEM;
}

/* Index of the container that holds replica slot `index`: the one with the deterministic name
 * wins; any other container claiming the slot is a duplicate. */
static const ObservedContainer *slot_owner(const ServiceObserved *obs, int index,
                                           const char *want_name) {
        const ObservedContainer *found = NULL;

        for (size_t i = 0; i < obs->n_containers; i++) {
                const ObservedContainer *c = &obs->containers[i];
                if (c->index != index || state_is(c, "removing"))
                        continue;
                if (c->name && streq(c->name, want_name))
                        return c;
                if (!found)
                        found = c;
        }
        return found;
}

static int plan_slot(const ServiceSpec *spec, const ServiceObserved *obs, const ResourceRef *ref,
                     unsigned index, Plan *p, Tally *t, Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig want = {0};
        const ObservedContainer *c;
        const char *want_hash;
        ProbeStatus probe = {0};
        int r;

        r = service_container_config(ref, spec, obs, index, &want, reterr);
        if (r < 0)
                return r;
        want_hash = label_value(want.labels, LABEL_CONFIG_HASH);
        /* Its persistent volumes exist (with berth's labels) before the container needs them. */
        for (size_t i = 0; i < want.n_mounts; i++) {
                const MountSpec *m = &want.mounts[i];
                if (!m->source || !streq(strempty(m->type), "volume") ||
                    strv_contains(obs->volumes, m->source))
                        continue;
                r = plan_add(p, ACTION_ENSURE_VOLUME, m->source, NULL, "missing", NULL);
                if (r < 0)
                        return r;
        }
        c = slot_owner(obs, (int) index, want.name);
        if (!c) {
                _cleanup_free_ char *name = b_strdup(want.name);
                ContainerConfig *cfg = b_malloc(sizeof(ContainerConfig));
                if (!name || !cfg) {
                        b_free(cfg);
                        return -ENOMEM;
                }
                *cfg = want;
                want = (ContainerConfig){0};
                return plan_add(p, ACTION_CREATE_CONTAINER, name, NULL, "missing", cfg);
        }

        if (obs->probes)
                probe = obs->probes[c - obs->containers];
        r = add_node(&p->status, spec, c, &probe);
        if (r < 0)
                return r;

        if (!c->config_hash || !want_hash || !streq(c->config_hash, want_hash) ||
            !streq(strempty(c->name), want.name)) {
                ContainerConfig *cfg;

                r = plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, "config changed", NULL);
                if (r < 0)
                        return r;
                cfg = b_malloc(sizeof(ContainerConfig));
                if (!cfg)
                        return -ENOMEM;
                *cfg = want;
                want = (ContainerConfig){0};
                return plan_add(p, ACTION_CREATE_CONTAINER, cfg->name, NULL, "config changed", cfg);
        }

        if (state_is(c, "running")) {
                t->running++;
                if (container_ready(spec, c, &probe))
                        t->ready++;
                else if (probe_says_replace(spec, &probe) ||
                         (spec->healthcheck.type == HEALTH_COMMAND && c->health &&
                          streq(c->health, "unhealthy"))) {
                        /* Unhealthy means replaced: Docker only reports it. */
                        t->failed++;
                        return plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, "unhealthy",
                                        NULL);
                }
                return 0;
        }
        if (state_is(c, "restarting")) {
                t->busy = true;
                if (c->restart_count >= CRASH_LOOP_RESTARTS)
                        t->failed++;
                return 0;
        }
        if (state_is(c, "created") || state_is(c, "exited") || state_is(c, "dead")) {
                if (state_is(c, "created") || should_restart(spec, c))
                        return plan_add(p, ACTION_START_CONTAINER, c->name, c->id, "not running",
                                        NULL);
                t->failed++;
                return 0;
        }
        /* paused by hand, or a state Docker added later: look again soon. */
        t->busy = true;
        return 0;
}

static int plan_surplus(const ServiceObserved *obs, const ResourceRef *ref, unsigned desired,
                        Plan *p) {
        for (size_t i = 0; i < obs->n_containers; i++) {
                const ObservedContainer *c = &obs->containers[i];
                char want[128];
                int r;

                if (state_is(c, "removing"))
                        continue;
                if (c->index >= 0 && (unsigned) c->index < desired) {
                        r = name_container(want, sizeof(want), ref->project, ref->name,
                                           SERVICE_ROLE, (unsigned) c->index);
                        if (r < 0)
                                return r;
                        /* The slot's owner is handled by plan_slot(); others are duplicates. */
                        if (slot_owner(obs, c->index, want) == c)
                                continue;
                }
                r = plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id,
                             c->index < 0 || (unsigned) c->index >= desired ? "surplus"
                                                                            : "duplicate",
                             NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Created before the restart action. A list reply gives creation times in whole seconds; observe()
 * inspects the containers created in the same second as the request for the exact time. */
static bool created_before_restart(const ResourceRef *ref, const ObservedContainer *c) {
        return ref->restart_after > 0 && c->created < ref->restart_after;
}

/* The restart action, rolling: when every replica is ready and nothing else is under way, replace
 * the first one created before the request; its slot is created again on the next pass, and the
 * next is replaced only once that one is ready (never more than one down). */
static int plan_restart(const ResourceRef *ref, const ServiceObserved *obs, unsigned desired,
                        Tally *t, Plan *p) {
        const ObservedContainer *next = NULL;

        t->restarting = 0;
        for (size_t i = 0; i < obs->n_containers; i++) {
                const ObservedContainer *c = &obs->containers[i];

                if (c->index < 0 || (unsigned) c->index >= desired ||
                    !created_before_restart(ref, c))
                        continue;
                t->restarting++;
                if (!next || c->index < next->index)
                        next = c;
        }
        if (!next || p->n_actions > 0 || t->ready < t->desired)
                return 0;
        return plan_add(p, ACTION_REMOVE_CONTAINER, next->name, next->id, "restart", NULL);
}

static int set_message(Status *st, const char *fmt, ...) _printf_(2, 3);
static int set_message(Status *st, const char *fmt, ...) {
        _cleanup_(buf_release) Buf b = BUF_INIT(sizeof(((Error *) 0)->msg));
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = buf_vprintf(&b, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        b_free(st->message);
        st->message = buf_take(&b);
        return st->message ? 0 : -ENOMEM;
}

static int set_endpoints(const ResourceRef *ref, const ServiceSpec *spec, Status *st) {
        char v[160];

        if (spec->n_ports == 0)
                return 0;
        st->endpoints = cJSON_CreateObject();
        if (!st->endpoints)
                return -ENOMEM;
        snprintf(v, sizeof(v), "%s:%d", ref->name, spec->ports[0].container_port);
        if (!cJSON_AddStringToObject(st->endpoints, "internal", v))
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_ports; i++) {
                if (spec->ports[i].host_port == 0)
                        continue;
                snprintf(v, sizeof(v), "%s:%d",
                         spec->ports[i].bind ? spec->ports[i].bind : "127.0.0.1",
                         spec->ports[i].host_port);
                return cJSON_AddStringToObject(st->endpoints, "public", v) ? 0 : -ENOMEM;
        }
        return 0;
}

static size_t count_actions(const Plan *p, ActionType type) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].type == type)
                        n++;
        return n;
}

static int finish_status(const ResourceRef *ref, const ServiceSpec *spec, const Tally *t, Plan *p) {
        Status *st = &p->status;
        size_t acting = p->n_actions, removing = count_actions(p, ACTION_REMOVE_CONTAINER);
        int r;

        st->observed_generation = ref->generation;
        st->replicas_desired = t->desired;
        st->replicas_running = t->ready;
        st->replicas_failed = t->failed;
        r = set_endpoints(ref, spec, st);
        if (r < 0)
                return r;

        if (spec->paused) {
                st->phase = PHASE_PAUSED;
                return set_message(st, "paused: %zu container(s) to stop", removing);
        }
        if (t->restarting > 0) {
                st->phase = t->ready >= t->desired ? PHASE_RUNNING : PHASE_DEGRADED;
                return set_message(st,
                                   "rolling restart: %d replica(s) left to replace; %d/%d ready",
                                   t->restarting, t->ready, t->desired);
        }
        if (t->ready >= t->desired && acting == removing) {
                /* Every replica serves; only surplus containers are left to go (a scale-down). */
                st->phase = PHASE_RUNNING;
                if (removing > 0)
                        return set_message(
                                st, "%d/%d replicas ready; removing %zu surplus container(s)",
                                t->ready, t->desired, removing);
                return set_message(st, "%d/%d replicas ready", t->ready, t->desired);
        }
        if (acting == 0 && t->desired > 0 && t->failed >= t->desired) {
                const StatusNode *why = NULL;

                st->phase = PHASE_FAILED;
                for (size_t i = 0; i < st->n_nodes && !why; i++)
                        if (st->nodes[i].has_exit)
                                why = &st->nodes[i];
                if (why && why->oom_killed)
                        return set_message(st, "%d/%d replicas failed: %s was killed out of memory",
                                           t->failed, t->desired, why->name);
                if (why)
                        return set_message(st, "%d/%d replicas failed: %s exited with code %d",
                                           t->failed, t->desired, why->name, why->exit_code);
                return set_message(st, "%d/%d replicas failed (exited or crash looping)", t->failed,
                                   t->desired);
        }
        st->phase = t->ready == 0 ? PHASE_PROVISIONING : PHASE_DEGRADED;
        if (acting > 0)
                return set_message(st, "%d/%d replicas ready; %zu action(s) to converge", t->ready,
                                   t->desired, acting);
        return set_message(st, "%d/%d replicas ready; waiting for %d to pass health checks",
                           t->ready, t->desired, t->desired - t->ready);
}

int service_plan(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                 usec_t now, Plan *ret, Error *reterr) {
        _cleanup_(plan_release) Plan p;
        Tally t = {0};
        unsigned desired;
        int r;

        assert_return(ref && spec && obs && ret, -EINVAL);
        (void) now;

        plan_init(&p);
        if (ref->deleting) {
                r = plan_deleting(ref, spec, obs, &p);
                if (r < 0)
                        return r;
                p.status.observed_generation = ref->generation;
                *ret = p;
                plan_init(&p);
                return 0;
        }

        desired = spec->paused ? 0 : (unsigned) spec->replicas;
        t.desired = (int) desired;
        /* depends_on, as Compose has it: the first replicas wait until every dependency is
         * RUNNING; once the service runs, a dependency's trouble does not stop it healing. */
        if (obs->deps && obs->n_containers == 0 && desired > 0)
                for (size_t i = 0; i < spec->n_deps; i++) {
                        const ObservedDependency *d = &obs->deps[i];

                        if (d->running)
                                continue;
                        p.status.phase = PHASE_PROVISIONING;
                        p.status.observed_generation = ref->generation;
                        p.status.replicas_desired = t.desired;
                        r = set_message(&p.status, "waiting for %s %s (%s)", spec->deps[i].kind,
                                        spec->deps[i].name,
                                        d->exists ? d->phase : "it does not exist yet");
                        if (r < 0)
                                return r;
                        p.requeue_after = REQUEUE_WAITING_DEPENDENCY;
                        *ret = p;
                        plan_init(&p);
                        return 0;
                }
        /* A referenced secret that does not exist: nothing can be created or rolled until the
         * user stores it (setting it notifies this resource). Running replicas are left alone. */
        for (size_t i = 0; obs->secret_versions && i < spec->n_secrets; i++)
                if (obs->secret_versions[i] == SECRET_MISSING) {
                        p.status.phase = PHASE_FAILED;
                        p.status.observed_generation = ref->generation;
                        p.status.replicas_desired = t.desired;
                        r = set_message(&p.status,
                                        "secret \"%s\" (spec.secrets.%s) does not exist in project "
                                        "%s: berth secret set %s -p %s ...",
                                        spec->secrets[i].secret, spec->secrets[i].key, ref->project,
                                        spec->secrets[i].secret, ref->project);
                        if (r < 0)
                                return r;
                        *ret = p;
                        plan_init(&p);
                        return 0;
                }
        if (!obs->network_exists && desired > 0) {
                char net[96];
                r = name_project_network(net, sizeof(net), ref->project);
                if (r >= 0)
                        r = plan_add(&p, ACTION_ENSURE_NETWORK, net, NULL, "missing", NULL);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < desired; i++) {
                r = plan_slot(spec, obs, ref, i, &p, &t, reterr);
                if (r < 0)
                        return r;
        }
        r = plan_surplus(obs, ref, desired, &p);
        if (r >= 0)
                r = plan_restart(ref, obs, desired, &t, &p);
        if (r < 0)
                return r;
        r = finish_status(ref, spec, &t, &p);
        if (r < 0)
                return r;

        if (p.n_actions > 0)
                p.requeue_after = REQUEUE_AFTER_ACTION;
        else if (t.busy || t.ready + t.failed < t.desired)
                p.requeue_after = REQUEUE_WHILE_STARTING;
        else if (spec->healthcheck.type == HEALTH_HTTP || spec->healthcheck.type == HEALTH_TCP)
                p.requeue_after = spec->healthcheck.interval; /* keep probing while running */
        *ret = p;
        plan_init(&p);
        return 0;
}
