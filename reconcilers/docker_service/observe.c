/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker.h"
#include "store/secrets.h"
#include "store/store.h"
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

/* The version of every secret the spec references: part of the desired containers' hash. */
static int observe_secrets(Store *store, const ResourceRef *ref, const ServiceSpec *spec,
                           ServiceObserved *o, Error *reterr) {
        if (spec->n_secrets == 0)
                return 0;
        if (!store)
                return err_set(reterr, -ENXIO, "spec.secrets", "no secret store to read from");
        o->secret_versions = b_calloc(spec->n_secrets, sizeof(int64_t));
        if (!o->secret_versions)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_secrets; i++) {
                int r = store_secret_get_version(store, ref->project, spec->secrets[i].secret,
                                                 &o->secret_versions[i], reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        o->secret_versions[i] = SECRET_MISSING;
                } else if (r < 0)
                        return r;
        }
        return 0;
}

static const char *spec_str(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsString(v) ? v->valuestring : "";
}

/* What a service needs to reach a pg_single: its network, user, database and the secret of the
 * password (by version, so a new password rolls the service). */
static int observe_database(Store *store, const StoredResource *row, ObservedDependency *d,
                            Error *reterr) {
        const cJSON *pw = cJSON_GetObjectItemCaseSensitive(row->spec, "password");
        int r;

        d->database = true;
        d->port = 5432;
        d->http = false;
        r = name_resource_network(d->network, sizeof(d->network), row->ref.project, row->ref.name);
        if (r < 0)
                return err_set(reterr, r, "spec.depends_on", "network name too long");
        snprintf(d->user, sizeof(d->user), "%s", spec_str(row->spec, "initial_user"));
        snprintf(d->dbname, sizeof(d->dbname), "%s", spec_str(row->spec, "initial_db_name"));
        snprintf(d->secret, sizeof(d->secret), "%s", spec_str(pw, "secret"));
        r = store_secret_get_version(store, row->ref.project, d->secret, &d->secret_version,
                                     reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                d->secret_version = SECRET_MISSING;
                return 0;
        }
        return r;
}

/* Each dependency as the store has it: its phase, and the port its first container listens on. */
static int observe_deps(Store *store, const ResourceRef *ref, const ServiceSpec *spec,
                        ServiceObserved *o, Error *reterr) {
        if (spec->n_deps == 0)
                return 0;
        if (!store)
                return err_set(reterr, -ENXIO, "spec.depends_on", "no state store to read from");
        o->deps = b_calloc(spec->n_deps, sizeof(ObservedDependency));
        if (!o->deps)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_deps; i++) {
                _cleanup_(stored_resource_release) StoredResource row = {0};
                ObservedDependency *d = &o->deps[i];
                const cJSON *ports, *type;
                int r;

                r = store_resource_get(store, kind_from_string(spec->deps[i].kind), ref->project,
                                       spec->deps[i].name, &row, reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        continue;
                }
                if (r < 0)
                        return r;
                d->exists = !row.ref.deleting;
                d->running = d->exists && row.phase == PHASE_RUNNING;
                snprintf(d->phase, sizeof(d->phase), "%s", phase_to_string(row.phase));
                ports = cJSON_GetObjectItemCaseSensitive(row.spec, "ports");
                if (cJSON_GetArraySize(ports) > 0) {
                        const cJSON *cp = cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetArrayItem(ports, 0), "container_port");
                        d->port = cJSON_IsNumber(cp) ? cp->valueint : 0;
                }
                type = cJSON_GetObjectItemCaseSensitive(row.spec, "type");
                d->http = cJSON_IsString(type) && streq(type->valuestring, "web");
                if (row.ref.kind == KIND_PG_SINGLE) {
                        r = observe_database(store, &row, d, reterr);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
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
                r = observe_secrets(store, ref, spec, &o, reterr);
        if (r >= 0)
                r = observe_deps(store, ref, spec, &o, reterr);
        if (r >= 0)
                r = observe_allowed(store, ref, &o, reterr);
        if (r < 0)
                return r;
        *ret = o;
        o = (ServiceObserved){0};
        return 0;
}
