/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker.h"
#include "store/secrets.h"
#include "store/store.h"
#include "reconcilers/depends.h"
#include "reconcilers/docker_service/service.h"
#include "reconcilers/probe-memory.h"
#include "reconcilers/probe.h"

static int observe_probes(ProbeMemory *mem, const ServiceSpec *spec, ServiceObserved *o) {
        const ServiceHealthcheck *hc = &spec->healthcheck;
        _cleanup_free_ ProbeTarget *targets = NULL;
        _cleanup_free_ ProbeResult *results = NULL;
        _cleanup_free_ size_t *which = NULL;
        usec_t now = now_monotonic();
        size_t n = 0;

        if (o->n_containers == 0)
                return 0;
        o->probes = b_calloc(o->n_containers, sizeof(ProbeStatus));
        if (!o->probes)
                return -ENOMEM;
        if (hc->type != HEALTH_HTTP && hc->type != HEALTH_TCP)
                return 0;
        targets = b_calloc(o->n_containers, sizeof(ProbeTarget));
        results = b_calloc(o->n_containers, sizeof(ProbeResult));
        which = b_calloc(o->n_containers, sizeof(size_t));
        if (!targets || !results || !which)
                return -ENOMEM;
        /* Probe what is due (all at once); the others keep their remembered status. */
        for (size_t i = 0; i < o->n_containers; i++) {
                const ObservedContainer *c = &o->containers[i];

                if (!c->state || !streq(c->state, "running") || !c->id)
                        continue;
                if (!probe_memory_due(mem, c->id, now, hc->interval, &o->probes[i]))
                        continue;
                which[n] = i;
                targets[n++] = (ProbeTarget){
                        .ip = c->ip,
                        .port = hc->port,
                        .path = hc->type == HEALTH_HTTP ? (hc->path ? hc->path : "/") : NULL,
                };
        }
        probe_run(targets, n, hc->timeout ? hc->timeout : 2 * USEC_PER_SEC, results);
        for (size_t k = 0; k < n; k++)
                probe_memory_record(mem, o->containers[which[k]].id, now, hc->interval, results[k],
                                    &o->probes[which[k]]);
        return 0;
}

/* A list reply has no exit code, OOM kill or restart count: inspect the containers that are not
 * running (few, and only while something is wrong) so the status can say why. */
static int observe_stopped(DockerClient *docker, ServiceObserved *o, Error *reterr) {
        for (size_t i = 0; i < o->n_containers; i++) {
                ObservedContainer *c = &o->containers[i], fresh = {0};
                int r;

                if (!c->id || !c->state || streq(c->state, "running") ||
                    streq(c->state, "created") || streq(c->state, "removing"))
                        continue;
                r = docker_container_inspect(docker, c->id, &fresh, reterr);
                if (r == -ENOENT) { /* gone meanwhile: the next pass sees it */
                        err_clear(reterr);
                        continue;
                }
                if (r < 0)
                        return r;
                c->exit_code = fresh.exit_code;
                c->oom_killed = fresh.oom_killed;
                c->restart_count = fresh.restart_count;
                c->finished_at = fresh.finished_at;
                observed_container_release(&fresh);
        }
        return 0;
}

/* Containers created in the same second as a restart request: their exact creation time decides
 * whether they predate it (the list's whole seconds cannot). Rare, so the inspect is cheap. */
static int observe_restart_times(DockerClient *docker, const ResourceRef *ref, ServiceObserved *o,
                                 Error *reterr) {
        for (size_t i = 0; ref->restart_after > 0 && i < o->n_containers; i++) {
                ObservedContainer *c = &o->containers[i], fresh = {0};
                int r;

                if (!c->id || c->created / USEC_PER_SEC != ref->restart_after / USEC_PER_SEC)
                        continue;
                r = docker_container_inspect(docker, c->id, &fresh, reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        continue;
                }
                if (r < 0)
                        return r;
                if (fresh.created > 0)
                        c->created = fresh.created;
                observed_container_release(&fresh);
        }
        return 0;
}

static bool every_slot_filled(const ServiceSpec *spec, const ServiceObserved *o) {
        int desired = spec->paused ? 0 : spec->replicas, filled = 0;

        for (size_t i = 0; i < o->n_containers; i++)
                if (o->containers[i].index >= 0 && o->containers[i].index < desired &&
                    o->containers[i].state && !streq(o->containers[i].state, "removing"))
                        filled++;
        return desired > 0 && filled >= desired;
}

/* Databases of the project that allow this service by name: it joins their networks. Only
 * those whose network exists (they have been reconciled once), so the join cannot fail. */
static int observe_allowed(Store *store, const ResourceRef *ref, ServiceObserved *o,
                           Error *reterr) {
        _cleanup_(stored_resource_list_release) StoredResourceList l = {};
        int r;

        if (!store || ref->deleting)
                return 0;
        r = store_resource_list(store, ref->project, KIND_PG_SINGLE, &l.rows, &l.n, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++) {
                const cJSON *allow = cJSON_GetObjectItemCaseSensitive(l.rows[i].spec, "allow"), *a;
                char net[128];

                if (l.rows[i].ref.deleting || l.rows[i].phase == PHASE_PENDING)
                        continue;
                cJSON_ArrayForEach(a, allow) {
                        if (!cJSON_IsString(a) || !streq(a->valuestring, ref->name))
                                continue;
                        r = name_resource_network(net, sizeof(net), ref->project,
                                                  l.rows[i].ref.name);
                        if (r >= 0)
                                r = strv_push(&o->allowed_networks, net);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int service_observe(DockerClient *docker, Store *store, ProbeMemory *probes, const ResourceRef *ref,
                    const ServiceSpec *spec, ServiceObserved *ret, Error *reterr) {
        _cleanup_(service_observed_release) ServiceObserved o = {0};
        _cleanup_strv_free_ char **filters = NULL;
        _cleanup_free_ char *net_id = NULL;
        char net[96];
        int r;

        if (!isempty(ref->uuid)) {
                r = strv_pushf(&filters, "%s=%s", LABEL_RESOURCE, ref->uuid);
                if (r < 0)
                        return r;
                r = docker_container_list(docker, filters, true, &o.containers, &o.n_containers,
                                          reterr);
                if (r < 0)
                        return r;
                /* Volumes only matter to services that declare them, or while deleting. */
                if (spec->n_volumes > 0 || ref->deleting) {
                        r = docker_volume_list(docker, filters, &o.volumes, reterr);
                        if (r < 0)
                                return r;
                }
        }
        if (every_slot_filled(spec, &o))
                /* Its containers are attached to the project network: it exists. Skipping the
                 * inspect keeps a settled service at one Docker call per pass. */
                o.network_exists = true;
        else {
                r = name_project_network(net, sizeof(net), ref->project);
                if (r < 0)
                        return r;
                r = docker_network_inspect(docker, net, &net_id, reterr);
                if (r < 0 && r != -ENOENT)
                        return r;
                o.network_exists = r >= 0;
                err_clear(reterr);
        }

        r = observe_stopped(docker, &o, reterr);
        if (r >= 0)
                r = observe_restart_times(docker, ref, &o, reterr);
        if (r >= 0)
                r = observe_probes(probes, spec, &o);
        if (r >= 0)
                /* The versions of the secrets it references: part of the containers' hash. */
                r = depends_secret_versions(store, ref->project, spec->secrets, spec->n_secrets,
                                            &o.secret_versions, reterr);
        if (r >= 0)
                r = depends_observe(store, ref->project, spec->deps, spec->n_deps, &o.deps, reterr);
        if (r >= 0)
                r = observe_allowed(store, ref, &o, reterr);
        if (r < 0)
                return r;
        *ret = o;
        o = (ServiceObserved){0};
        return 0;
}
