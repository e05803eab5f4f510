/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "model/json-util.h"
#include "model/units.h"
#include "reconcilers/docker_service/plan.h"

/*
 * Slots, revisions and deploys.
 *
 * Replica i is slot i: a container labelled berth.index=i, named <project>-<name>-app-<i> once
 * settled, its persistent volumes pinned to i. The slot's want is the config built for index i;
 * a container whose berth.config-hash differs runs an earlier revision. A deploy replaces, slot
 * by slot, the old container by a current one:
 *
 *  - rolling (the default): slot i's new container starts beside the old one under the surge
 *    name <project>-<name>-app-<i>-r<revision> (its hostname and DNS aliases are the slot's
 *    stable name, so its hash does not depend on the name it got); once it is ready, the old
 *    one is removed and the new one renamed to the stable name. At most replicas + max_surge
 *    containers run and at least replicas - max_unavailable slots serve. A service that
 *    publishes a host port or has persistent volumes cannot run two containers of one slot: it
 *    replaces in place (surge 0, at least 1 unavailable).
 *  - recreate: every old container is removed, then every new one created, in one pass.
 *
 * pre_deploy runs alone before the first new container, post_deploy after the last one is
 * ready; no progress (one more replica of the revision ready) for progress_deadline fails the
 * deploy, which then freezes (nothing new is created) or, with auto_rollback, has reconcile()
 * restore the revision that served before.
 *
 * Nothing of a deploy lives only in memory: Docker shows which slot runs which hash under which
 * name, and the state store keeps the revision's deploy (start, last progress, hooks done,
 * result). After a crash the next pass sees the same and goes on where it stood; a create under
 * a name a killed pass already used adopts that container.
 */

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
        int updated;    /* slots with a container of the wanted config */
        int updated_ready;
        int outdated; /* slots still served by an earlier revision's container */
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
/* ---- slots ---------------------------------------------------------------------------------- */

/* One replica slot for this pass: what it should run, and the (at most) two containers kept in
 * it: `cur` runs the wanted config, `old` an earlier revision's. Other containers claiming the
 * slot are extras, removed. */
typedef struct Slot {
        ContainerConfig want; /* stable name, full config, labels */
        const char *hash;     /* in want.labels */
        const ObservedContainer *cur, *old;
        ProbeStatus cur_probe, old_probe;
        bool cur_ready, old_ready;
        bool cur_gone, old_gone; /* this plan removes it */
} Slot;

/* Everything one pass knows about the service's containers, built before any action. */
typedef struct Slots {
        Slot *slot;
        unsigned n;
        bool *gone; /* parallel to obs->containers: removed by this plan */
        int surge, unavailable;
        bool complete; /* every slot runs the wanted config under its stable name, ready */
} Slots;

static void slots_release(Slots *s) {
        for (unsigned i = 0; s->slot && i < s->n; i++)
                container_config_release(&s->slot[i].want);
        s->slot = mfree(s->slot);
        s->gone = mfree(s->gone);
        s->n = 0;
}

static ProbeStatus probe_of(const ServiceObserved *obs, const ObservedContainer *c) {
        return obs->probes ? obs->probes[c - obs->containers] : (ProbeStatus){0};
}

static bool is_unhealthy(const ServiceSpec *spec, const ObservedContainer *c,
                         const ProbeStatus *probe) {
        return probe_says_replace(spec, probe) || (spec->healthcheck.type == HEALTH_COMMAND &&
                                                   c->health && streq(c->health, "unhealthy"));
}

static bool name_is(const ObservedContainer *c, const char *name) {
        return c->name && streq(c->name, name);
}

/* Whether a's claim to a slot beats b's: ready first, then the stable name, then list order. */
static bool better_claim(const ServiceSpec *spec, const ServiceObserved *obs, const Slot *s,
                         const ObservedContainer *a, const ObservedContainer *b) {
        ProbeStatus pa = probe_of(obs, a), pb = probe_of(obs, b);
        bool ra = container_ready(spec, a, &pa), rb = container_ready(spec, b, &pb);

        if (ra != rb)
                return ra;
        if (name_is(a, s->want.name) != name_is(b, s->want.name))
                return name_is(a, s->want.name);
        return false;
}

static bool in_slot(const ObservedContainer *c, unsigned n) {
        return (!c->role || streq(c->role, SERVICE_ROLE)) && c->index >= 0 &&
               (unsigned) c->index < n;
}

/* The wanted config of every slot, and which containers hold them. */
static int slots_build(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                       unsigned desired, Slots *ret, Error *reterr) {
        _cleanup_(slots_release) Slots s = {.n = desired};
        bool host_port = false, persistent = false;
        int r;

        s.slot = b_calloc(desired ? desired : 1, sizeof(Slot));
        s.gone = b_calloc(obs->n_containers ? obs->n_containers : 1, sizeof(bool));
        if (!s.slot || !s.gone)
                return -ENOMEM;
        for (unsigned i = 0; i < desired; i++) {
                r = service_container_config(ref, spec, obs, i, &s.slot[i].want, reterr);
                if (r < 0)
                        return r;
                s.slot[i].hash = label_value(s.slot[i].want.labels, LABEL_CONFIG_HASH);
        }
        for (size_t k = 0; k < obs->n_containers; k++) {
                const ObservedContainer *c = &obs->containers[k];
                Slot *sl;

                if (state_is(c, "removing") || !in_slot(c, desired))
                        continue;
                sl = &s.slot[c->index];
                if (c->config_hash && sl->hash && streq(c->config_hash, sl->hash)) {
                        if (!sl->cur || better_claim(spec, obs, sl, c, sl->cur))
                                sl->cur = c;
                } else if (!sl->old || better_claim(spec, obs, sl, c, sl->old))
                        sl->old = c;
        }
        s.complete = true;
        for (unsigned i = 0; i < desired; i++) {
                Slot *sl = &s.slot[i];

                if (sl->cur) {
                        sl->cur_probe = probe_of(obs, sl->cur);
                        sl->cur_ready = container_ready(spec, sl->cur, &sl->cur_probe);
                }
                if (sl->old) {
                        sl->old_probe = probe_of(obs, sl->old);
                        sl->old_ready = container_ready(spec, sl->old, &sl->old_probe);
                }
                if (!sl->cur || !sl->cur_ready || sl->old || !name_is(sl->cur, sl->want.name))
                        s.complete = false;
        }

        /* Two containers of one slot cannot share a published host port, nor should they share
         * the slot's persistent volumes: such a service replaces in place. */
        for (size_t i = 0; i < spec->n_ports; i++)
                if (spec->ports[i].host_port > 0)
                        host_port = true;
        for (size_t i = 0; i < spec->n_volumes; i++)
                if (spec->volumes[i].type == VOLUME_PERSISTENT)
                        persistent = true;
        service_deploy_resolve(&spec->deploy, (int) desired, &s.surge, &s.unavailable);
        if (host_port || persistent) {
                s.surge = 0;
                s.unavailable = MAX(s.unavailable, 1);
        }
        *ret = s;
        s = (Slots){0};
        return 0;
}

/* Whether a container this plan keeps (or one Docker is removing) holds `name`. */
static bool name_taken(const ServiceObserved *obs, const Slots *s, const char *name) {
        for (size_t k = 0; k < obs->n_containers; k++)
                if (!s->gone[k] && name_is(&obs->containers[k], name))
                        return true;
        return false;
}

static int remove_container(Plan *p, const ServiceObserved *obs, Slots *s,
                            const ObservedContainer *c, const char *reason) {
        s->gone[c - obs->containers] = true;
        return plan_add(p, ACTION_REMOVE_CONTAINER, c->name, c->id, reason, NULL);
}

static int rename_container(Plan *p, const ObservedContainer *c, const char *to) {
        _cleanup_strv_free_ char **argv = NULL;
        char reason[160];
        int r;

        r = strv_push(&argv, to);
        if (r < 0)
                return r;
        snprintf(reason, sizeof(reason), "to %s", to);
        r = plan_add(p, ACTION_RENAME_CONTAINER, c->name, c->id, reason, NULL);
        if (r < 0)
                return r;
        p->actions[p->n_actions - 1].argv = TAKE_PTR(argv);
        return 0;
}

/* A create for slot i, under its stable name when free (the old container gone or elsewhere),
 * else under the surge name. The config moves into the plan. */
static int create_in_slot(Plan *p, const ResourceRef *ref, const ServiceObserved *obs, Slots *s,
                          unsigned i, const char *reason) {
        Slot *sl = &s->slot[i];
        ContainerConfig *cfg;
        char name[160];
        int r;

        if (name_taken(obs, s, sl->want.name)) {
                r = service_surge_name(name, sizeof(name), ref, i, obs->deploy.revision);
                if (r < 0)
                        return r;
        } else
                snprintf(name, sizeof(name), "%s", sl->want.name);
        cfg = b_malloc(sizeof(ContainerConfig));
        if (!cfg)
                return -ENOMEM;
        *cfg = sl->want;
        sl->want = (ContainerConfig){0};
        b_free(cfg->name);
        cfg->name = b_strdup(name);
        if (!cfg->name) {
                container_config_release(cfg);
                b_free(cfg);
                return -ENOMEM;
        }
        return plan_add(p, ACTION_CREATE_CONTAINER, name, NULL, reason, cfg);
}

/* The current container of a slot: started when stopped, replaced when unhealthy. */
static int plan_current(const ServiceSpec *spec, const ServiceObserved *obs, Slots *s, Slot *sl,
                        Plan *p, Tally *t) {
        const ObservedContainer *c = sl->cur;

        if (state_is(c, "running")) {
                t->running++;
                if (!sl->cur_ready && is_unhealthy(spec, c, &sl->cur_probe)) {
                        /* Unhealthy means replaced: Docker only reports it. */
                        t->failed++;
                        sl->cur_gone = true;
                        return remove_container(p, obs, s, c, "unhealthy");
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

/* The container of an earlier revision in a slot. While a deploy moves, one that does not serve
 * goes at once (its replacement is created); once the slot's new container is ready, it is
 * retired. A failed deploy freezes: it is only started again if it stops. */
static int plan_old(const ServiceSpec *spec, const ServiceObserved *obs, Slots *s, Slot *sl,
                    bool frozen, Plan *p, Tally *t) {
        const ObservedContainer *c = sl->old;
        char reason[96];

        if (state_is(c, "running"))
                t->running++;
        if (frozen) {
                if (state_is(c, "created") || state_is(c, "exited") || state_is(c, "dead"))
                        return plan_add(p, ACTION_START_CONTAINER, c->name, c->id,
                                        "not running (older revision)", NULL);
                return 0;
        }
        if (!state_is(c, "running")) {
                sl->old_gone = true;
                return remove_container(p, obs, s, c, "older revision, not running");
        }
        if (!sl->old_ready && is_unhealthy(spec, c, &sl->old_probe)) {
                sl->old_gone = true;
                return remove_container(p, obs, s, c, "older revision, unhealthy");
        }
        if (sl->cur && !sl->cur_gone && sl->cur_ready) {
                sl->old_gone = true;
                if (obs->deploy.revision > 0)
                        snprintf(reason, sizeof(reason), "replaced by revision %" PRId64,
                                 obs->deploy.revision);
                else
                        snprintf(reason, sizeof(reason), "replaced");
                return remove_container(p, obs, s, c, reason);
        }
        return 0;
}

/* Per slot, in order: extras out, the current container healed, the old one retired or dropped,
 * a settled replica renamed to the stable name. Creates are left to plan_creates(). */
static int plan_slots(const ServiceSpec *spec, const ServiceObserved *obs, Slots *s, bool frozen,
                      Plan *p, Tally *t) {
        int r;

        for (unsigned i = 0; i < s->n; i++) {
                Slot *sl = &s->slot[i];

                for (size_t k = 0; k < obs->n_containers; k++) {
                        const ObservedContainer *c = &obs->containers[k];

                        if (state_is(c, "removing") || !in_slot(c, s->n) ||
                            (unsigned) c->index != i || c == sl->cur || c == sl->old)
                                continue;
                        r = remove_container(p, obs, s, c,
                                             c->config_hash && sl->hash &&
                                                             streq(c->config_hash, sl->hash)
                                                     ? "duplicate"
                                                     : "superseded");
                        if (r < 0)
                                return r;
                }
                if (sl->cur) {
                        ProbeStatus probe = sl->cur_probe;
                        r = add_node(&p->status, spec, sl->cur, &probe);
                        if (r >= 0)
                                r = plan_current(spec, obs, s, sl, p, t);
                        if (r < 0)
                                return r;
                }
                if (sl->old) {
                        ProbeStatus probe = sl->old_probe;
                        r = add_node(&p->status, spec, sl->old, &probe);
                        if (r >= 0)
                                r = plan_old(spec, obs, s, sl, frozen, p, t);
                        if (r < 0)
                                return r;
                }
                if ((sl->cur && !sl->cur_gone && sl->cur_ready) ||
                    (sl->old && !sl->old_gone && sl->old_ready))
                        t->ready++;
                if (sl->cur && !sl->cur_gone) {
                        t->updated++;
                        if (sl->cur_ready)
                                t->updated_ready++;
                }
                if (sl->old && !sl->old_gone)
                        t->outdated++;
                /* Settled: the new replica takes the slot's stable name. */
                if (sl->cur && !sl->cur_gone && (!sl->old || sl->old_gone) &&
                    !name_is(sl->cur, sl->want.name) && !name_taken(obs, s, sl->want.name)) {
                        r = rename_container(p, sl->cur, sl->want.name);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

enum { CREATE_MISSING = 1, CREATE_DEPLOY = 2 };

/* New containers: every empty slot, then the slots still on an older revision as far as the
 * strategy allows. Removes first (they free stable names), creates last and together (they go
 * out in parallel). */
static int plan_creates(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                        Slots *s, bool frozen, Plan *p) {
        /* Per slot: 0 nothing, CREATE_MISSING an empty slot, CREATE_DEPLOY a new revision. */
        _cleanup_free_ unsigned char *create = b_calloc(s->n ? s->n : 1, 1);
        int total = 0, available = 0, floor = (int) s->n - s->unavailable;
        bool recreate = spec->deploy.strategy == DEPLOY_RECREATE, any_old = false;
        char reason[96];
        int r;

        if (!create)
                return -ENOMEM;
        if (frozen)
                return 0; /* a failed deploy makes no new container until the spec changes */
        for (unsigned i = 0; i < s->n; i++) {
                Slot *sl = &s->slot[i];
                bool cur = sl->cur && !sl->cur_gone, old = sl->old && !sl->old_gone;

                total += cur + old;
                if ((cur && sl->cur_ready) || (old && sl->old_ready))
                        available++;
                if (!sl->cur && !old)
                        create[i] = CREATE_MISSING;
                any_old |= old && (recreate || !sl->cur);
        }
        for (unsigned i = 0; i < s->n; i++)
                total += create[i] != 0;

        snprintf(reason, sizeof(reason), "%s", recreate ? "recreate" : "rolling");
        if (obs->deploy.revision > 0)
                snprintf(reason, sizeof(reason), "%s to revision %" PRId64,
                         recreate ? "recreate" : "rolling", obs->deploy.revision);
        for (unsigned i = 0; any_old && i < s->n; i++) {
                Slot *sl = &s->slot[i];

                if (!sl->old || sl->old_gone || (!recreate && sl->cur))
                        continue;
                if (recreate) {
                        /* Every old replica stops, then every new one starts. */
                        r = remove_container(p, obs, s, sl->old, reason);
                        if (r < 0)
                                return r;
                        sl->old_gone = true;
                        if (!sl->cur)
                                create[i] = CREATE_DEPLOY;
                } else if (total < (int) s->n + s->surge) {
                        /* Surge: the new replica starts beside the old one. */
                        create[i] = CREATE_DEPLOY;
                        total++;
                } else if (available - (sl->old_ready ? 1 : 0) >= floor) {
                        /* No room to surge: replace in place, within max_unavailable. */
                        r = remove_container(p, obs, s, sl->old, reason);
                        if (r < 0)
                                return r;
                        sl->old_gone = true;
                        available -= sl->old_ready ? 1 : 0;
                        create[i] = CREATE_DEPLOY;
                }
        }
        for (unsigned i = 0; i < s->n; i++) {
                if (!create[i])
                        continue;
                r = create_in_slot(p, ref, obs, s, i,
                                   create[i] == CREATE_DEPLOY ? reason : "missing");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Containers outside every slot: beyond the replicas (a scale-down), unlabelled, or a hook's
 * run that a crash left behind. */
static int plan_surplus(const ServiceObserved *obs, Slots *s, Plan *p) {
        for (size_t k = 0; k < obs->n_containers; k++) {
                const ObservedContainer *c = &obs->containers[k];
                int r;

                if (state_is(c, "removing") || in_slot(c, s->n) || s->gone[k])
                        continue;
                r = remove_container(p, obs, s, c,
                                     c->role && !streq(c->role, SERVICE_ROLE) ? "leftover"
                                                                              : "surplus");
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

/* ---- deploys -------------------------------------------------------------------------------- */

/* What this pass makes of the deploy of obs->deploy.revision. */
typedef struct DeployView {
        bool in_progress; /* recorded IN_PROGRESS */
        bool frozen;      /* FAILED, recorded or now: nothing new is created */
        bool pre_hook;    /* this pass runs pre_deploy, and nothing else */
        bool post_hook;   /* this pass ends with post_deploy */
        int updated_ready;
        DeployOutcome out;
} DeployView;

static const char *strategy_name(const ServiceSpec *spec) {
        return spec->deploy.strategy == DEPLOY_RECREATE ? "recreate" : "rolling";
}

/* The first replica of the new revision that keeps it from being ready, for messages. */
static const char *first_unready(const Slots *s, char *buf, size_t n) {
        for (unsigned i = 0; i < s->n; i++) {
                const Slot *sl = &s->slot[i];

                if (sl->cur && !sl->cur_ready) {
                        snprintf(buf, n, "; %s is %s", strna(sl->cur->name),
                                 state_is(sl->cur, "running") ? "not healthy"
                                                              : strna(sl->cur->state));
                        return buf;
                }
        }
        return "";
}

static void deploy_view(const ServiceSpec *spec, const ServiceObserved *obs, const Slots *s,
                        usec_t now, DeployView *v) {
        const RevisionDeploy *d = &obs->deploy;
        usec_t since = d->progress_at > 0 ? d->progress_at : d->started_at;
        char why[160], dl[32];

        *v = (DeployView){.out = {.state = d->state}};
        for (unsigned i = 0; i < s->n; i++)
                if (s->slot[i].cur && s->slot[i].cur_ready)
                        v->updated_ready++;
        v->out.ready = v->updated_ready;
        v->in_progress = d->state == DEPLOY_IN_PROGRESS;
        v->frozen = d->state == DEPLOY_FAILED;
        if (v->frozen)
                snprintf(v->out.message, sizeof(v->out.message), "%s", d->message);
        if (!v->in_progress)
                return;
        if (s->n == 0) {
                v->out.state = DEPLOY_DONE; /* nothing runs: nothing to deploy */
                return;
        }
        if (s->complete) {
                if (spec->deploy.post_deploy && !d->post_deploy_done)
                        v->post_hook = true;
                else
                        v->out.state = DEPLOY_DONE;
                return;
        }
        /* Progress is a replica of the revision becoming ready (or a hook done): none for the
         * whole deadline fails the deploy, as Kubernetes' progressDeadlineSeconds. */
        if (since > 0 && now >= since + spec->deploy.progress_deadline &&
            v->updated_ready <= d->ready) {
                v->frozen = true;
                v->out.state = DEPLOY_FAILED;
                v->out.rollback = spec->deploy.auto_rollback && d->from_revision > 0;
                snprintf(v->out.message, sizeof(v->out.message),
                         "no progress for %s: %d/%u replicas of revision %" PRId64 " ready%s",
                         duration_format(spec->deploy.progress_deadline, dl, sizeof(dl)),
                         v->updated_ready, s->n, d->revision, first_unready(s, why, sizeof(why)));
                return;
        }
        if (spec->deploy.pre_deploy && !d->pre_deploy_done)
                v->pre_hook = true;
}

static int add_hook(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                    bool pre, Plan *p, Error *reterr) {
        ContainerConfig *cfg = b_calloc(1, sizeof(ContainerConfig));
        int r;

        if (!cfg)
                return -ENOMEM;
        r = service_hook_config(ref, spec, obs, pre ? "pre-deploy" : "post-deploy",
                                pre ? spec->deploy.pre_deploy : spec->deploy.post_deploy, cfg,
                                reterr);
        if (r < 0) {
                b_free(cfg);
                return r;
        }
        r = plan_add(p, ACTION_RUN_TO_COMPLETION, cfg->name, NULL,
                     pre ? "pre_deploy" : "post_deploy", cfg);
        if (r < 0)
                return r;
        /* A hook that hangs must not hold a worker: it gets the deploy's progress deadline. */
        p->actions[p->n_actions - 1].timeout = spec->deploy.progress_deadline;
        return 0;
}

/* status.revision and status.deploy: which revision the spec makes and how its deploy stands. */
static int deploy_status(const ServiceSpec *spec, const ServiceObserved *obs, const Tally *t,
                         const DeployView *v, Status *st) {
        const RevisionDeploy *d = &obs->deploy;
        cJSON *o;
        int r;

        if (d->revision <= 0)
                return 0;
        if (!st->extra && !(st->extra = cJSON_CreateObject()))
                return -ENOMEM;
        r = json_add_item_take(st->extra, "revision", cJSON_CreateNumber((double) d->revision));
        if (r < 0)
                return r;
        o = cJSON_AddObjectToObject(st->extra, "deploy");
        if (!o)
                return -ENOMEM;
        r = json_add_item_take(o, "revision", cJSON_CreateNumber((double) d->revision));
        if (r >= 0 && d->from_revision > 0)
                r = json_add_item_take(o, "from_revision",
                                       cJSON_CreateNumber((double) d->from_revision));
        if (r >= 0)
                r = json_add_item_take(o, "strategy", cJSON_CreateString(strategy_name(spec)));
        if (r >= 0)
                r = json_add_item_take(
                        o, "state",
                        cJSON_CreateString(strna(deploy_state_to_string(
                                v->out.state == DEPLOY_NONE ? d->state : v->out.state))));
        if (r >= 0)
                r = json_add_item_take(o, "updated", cJSON_CreateNumber(t->updated));
        if (r >= 0)
                r = json_add_item_take(o, "updated_ready", cJSON_CreateNumber(v->updated_ready));
        if (r >= 0)
                r = json_add_item_take(o, "outdated", cJSON_CreateNumber(t->outdated));
        if (r >= 0 && !isempty(v->out.message))
                r = json_add_item_take(o, "message", cJSON_CreateString(v->out.message));
        return r;
}

/* "revision 3", or "a new revision" when the store's number is not known (a preview). */
static const char *revision_text(int64_t revision, char *buf, size_t n) {
        if (revision > 0)
                snprintf(buf, n, "revision %" PRId64, revision);
        else
                snprintf(buf, n, "a new revision");
        return buf;
}

static Phase phase_by_readiness(const Tally *t) {
        return t->ready >= t->desired ? PHASE_RUNNING
               : t->ready == 0        ? PHASE_PROVISIONING
                                      : PHASE_DEGRADED;
}

/* The status of a pass that is part of a deploy; 0 with nothing set when it is not. */
static int deploy_message(const ServiceSpec *spec, const ServiceObserved *obs, const Tally *t,
                          const DeployView *v, Status *st) {
        const RevisionDeploy *d = &obs->deploy;
        char from[96] = "", rev[48];

        revision_text(d->revision, rev, sizeof(rev));
        if (v->frozen) {
                if (v->out.rollback)
                        snprintf(from, sizeof(from), "; rolling back to revision %" PRId64,
                                 d->from_revision);
                else if (t->outdated > 0 && d->from_revision > 0)
                        snprintf(from, sizeof(from),
                                 "; revision %" PRId64 " still serves (the rollback action "
                                 "returns to it)",
                                 d->from_revision);
                st->phase = PHASE_FAILED;
                return set_message(st, "deploy of %s failed: %s; %d/%d ready%s", rev,
                                   isempty(v->out.message) ? "?" : v->out.message, t->ready,
                                   t->desired, from);
        }
        if (v->pre_hook) {
                st->phase = phase_by_readiness(t);
                return set_message(st,
                                   "%s: running pre_deploy before its first replica; %d/%d ready",
                                   rev, t->ready, t->desired);
        }
        if (v->post_hook) {
                st->phase = phase_by_readiness(t);
                return set_message(st, "%s: every replica ready; running post_deploy", rev);
        }
        /* Replacing an earlier revision (a first deploy reads as any convergence), until it is
         * recorded DONE; failing replicas say so below instead. */
        if (t->outdated > 0 || (v->in_progress && v->out.state == DEPLOY_IN_PROGRESS &&
                                d->from_revision > 0 && t->failed == 0)) {
                st->phase = phase_by_readiness(t);
                return set_message(st, "deploying %s (%s): %d/%d replicas updated, %d/%d ready",
                                   rev, strategy_name(spec), t->updated, t->desired, t->ready,
                                   t->desired);
        }
        return 0;
}

static int finish_status(const ResourceRef *ref, const ServiceSpec *spec,
                         const ServiceObserved *obs, const Tally *t, const DeployView *v, Plan *p) {
        Status *st = &p->status;
        size_t acting = p->n_actions, removing = count_actions(p, ACTION_REMOVE_CONTAINER);
        int r;

        /* A rename touches no serving replica: it counts as nothing to converge. */
        acting -= count_actions(p, ACTION_RENAME_CONTAINER);
        st->observed_generation = ref->generation;
        st->replicas_desired = t->desired;
        st->replicas_running = t->ready;
        st->replicas_failed = t->failed;
        r = set_endpoints(ref, spec, st);
        if (r >= 0)
                r = deploy_status(spec, obs, t, v, st);
        if (r < 0)
                return r;

        if (spec->paused) {
                st->phase = PHASE_PAUSED;
                return set_message(st, "paused: %zu container(s) to stop", removing);
        }
        r = deploy_message(spec, obs, t, v, st);
        if (r < 0 || st->message)
                return r;
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

/* The persistent volumes of every slot exist (with berth's labels) before a container needs
 * them. */
static int plan_volumes(const ServiceObserved *obs, const Slots *s, Plan *p) {
        for (unsigned i = 0; i < s->n; i++)
                for (size_t k = 0; k < s->slot[i].want.n_mounts; k++) {
                        const MountSpec *m = &s->slot[i].want.mounts[k];
                        int r;

                        if (!m->source || !streq(strempty(m->type), "volume") ||
                            strv_contains(obs->volumes, m->source))
                                continue;
                        r = plan_add(p, ACTION_ENSURE_VOLUME, m->source, NULL, "missing", NULL);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Nodes of the containers kept in the slots, when a pass acts on none of them (a hook runs). */
static int add_slot_nodes(const ServiceSpec *spec, const Slots *s, Tally *t, Status *st) {
        for (unsigned i = 0; i < s->n; i++) {
                const Slot *sl = &s->slot[i];
                ProbeStatus probe;
                int r;

                if (sl->cur) {
                        probe = sl->cur_probe;
                        r = add_node(st, spec, sl->cur, &probe);
                        if (r < 0)
                                return r;
                        t->updated++;
                }
                if (sl->old) {
                        probe = sl->old_probe;
                        r = add_node(st, spec, sl->old, &probe);
                        if (r < 0)
                                return r;
                        t->outdated++;
                }
                if ((sl->cur && sl->cur_ready) || (sl->old && sl->old_ready))
                        t->ready++;
        }
        return 0;
}

static int plan_early(const ResourceRef *ref, Plan *p, Plan *ret) {
        p->status.observed_generation = ref->generation;
        *ret = *p;
        plan_init(p);
        return 0;
}

int service_plan(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                 usec_t now, Plan *ret, DeployOutcome *ret_deploy, Error *reterr) {
        _cleanup_(plan_release) Plan p;
        _cleanup_(slots_release) Slots s = {0};
        DeployView v = {.out = {.state = obs ? obs->deploy.state : DEPLOY_NONE}};
        Tally t = {0};
        unsigned desired;
        int r;

        assert_return(ref && spec && obs && ret, -EINVAL);

        plan_init(&p);
        if (ret_deploy)
                *ret_deploy = v.out;
        if (ref->deleting) {
                r = plan_deleting(ref, spec, obs, &p);
                if (r < 0)
                        return r;
                return plan_early(ref, &p, ret);
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
                        p.status.replicas_desired = t.desired;
                        r = set_message(&p.status, "waiting for %s %s (%s)", spec->deps[i].kind,
                                        spec->deps[i].name,
                                        d->exists ? d->phase : "it does not exist yet");
                        if (r < 0)
                                return r;
                        p.requeue_after = REQUEUE_WAITING_DEPENDENCY;
                        return plan_early(ref, &p, ret);
                }
        /* A referenced secret that does not exist: nothing can be created or rolled until the
         * user stores it (setting it notifies this resource). Running replicas are left alone. */
        for (size_t i = 0; obs->secret_versions && i < spec->n_secrets; i++)
                if (obs->secret_versions[i] == SECRET_MISSING) {
                        p.status.phase = PHASE_FAILED;
                        p.status.replicas_desired = t.desired;
                        r = set_message(&p.status,
                                        "secret \"%s\" (spec.secrets.%s) does not exist in project "
                                        "%s: berth secret set %s -p %s ...",
                                        spec->secrets[i].secret, spec->secrets[i].key, ref->project,
                                        spec->secrets[i].secret, ref->project);
                        if (r < 0)
                                return r;
                        return plan_early(ref, &p, ret);
                }
        if (!obs->network_exists && desired > 0) {
                char net[96];
                r = name_project_network(net, sizeof(net), ref->project);
                if (r >= 0)
                        r = plan_add(&p, ACTION_ENSURE_NETWORK, net, NULL, "missing", NULL);
                if (r < 0)
                        return r;
        }
        r = slots_build(ref, spec, obs, desired, &s, reterr);
        if (r < 0)
                return r;
        deploy_view(spec, obs, &s, now, &v);

        if (v.pre_hook) {
                /* Nothing of the new revision runs before its pre_deploy succeeded. */
                v.out.runs_pre_deploy = true;
                r = add_hook(ref, spec, obs, true, &p, reterr);
                if (r >= 0)
                        r = add_slot_nodes(spec, &s, &t, &p.status);
                if (r >= 0)
                        r = finish_status(ref, spec, obs, &t, &v, &p);
                if (r < 0)
                        return r;
                p.requeue_after = REQUEUE_AFTER_ACTION;
                if (ret_deploy)
                        *ret_deploy = v.out;
                *ret = p;
                plan_init(&p);
                return 0;
        }

        r = plan_volumes(obs, &s, &p);
        if (r >= 0)
                r = plan_slots(spec, obs, &s, v.frozen, &p, &t);
        if (r >= 0)
                r = plan_creates(ref, spec, obs, &s, v.frozen, &p);
        if (r >= 0)
                r = plan_surplus(obs, &s, &p);
        if (r >= 0 && t.outdated == 0 && !v.frozen)
                r = plan_restart(ref, obs, desired, &t, &p);
        if (r >= 0 && v.post_hook) {
                if (p.n_actions == 0) {
                        v.out.runs_post_deploy = true;
                        r = add_hook(ref, spec, obs, false, &p, reterr);
                } else
                        v.post_hook = false; /* the next pass, once this one's actions are done */
        }
        if (r >= 0)
                r = finish_status(ref, spec, obs, &t, &v, &p);
        if (r < 0)
                return r;

        if (p.n_actions > 0)
                p.requeue_after = REQUEUE_AFTER_ACTION;
        else if (t.busy || t.ready + t.failed < t.desired ||
                 (v.in_progress && v.out.state == DEPLOY_IN_PROGRESS))
                p.requeue_after = REQUEUE_WHILE_STARTING;
        else if (spec->healthcheck.type == HEALTH_HTTP || spec->healthcheck.type == HEALTH_TCP)
                p.requeue_after = spec->healthcheck.interval; /* keep probing while running */
        if (ret_deploy)
                *ret_deploy = v.out;
        *ret = p;
        plan_init(&p);
        return 0;
}
