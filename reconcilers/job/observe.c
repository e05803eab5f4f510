/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker.h"
#include "reconcilers/depends.h"
#include "reconcilers/job/job.h"
#include "store/jobs.h"
#include "store/store.h"

static bool run_is_open(const JobObserved *o, int index) {
        for (size_t i = 0; i < o->n_runs; i++)
                if (o->runs[i].seq == index && !job_run_state_is_final(o->runs[i].state))
                        return true;
        return false;
}

/* The list has no start or end time, exit code or OOM kill: inspect the containers of the open
 * runs (one, or two around a crash). */
static int observe_runs_containers(DockerClient *docker, JobObserved *o, Error *reterr) {
        for (size_t i = 0; i < o->n_containers; i++) {
                ObservedContainer *c = &o->containers[i], fresh = {0};
                int r;

                if (!c->id || !run_is_open(o, c->index))
                        continue;
                r = docker_container_inspect(docker, c->id, &fresh, reterr);
                if (r == -ENOENT) { /* gone meanwhile: the next pass sees it */
                        err_clear(reterr);
                        continue;
                }
                if (r < 0)
                        return r;
                if (fresh.state) {
                        b_free(c->state);
                        c->state = TAKE_PTR(fresh.state);
                }
                c->exit_code = fresh.exit_code;
                c->oom_killed = fresh.oom_killed;
                c->started_at = fresh.started_at;
                c->finished_at = fresh.finished_at;
                if (fresh.created > 0)
                        c->created = fresh.created;
                observed_container_release(&fresh);
        }
        return 0;
}

/* spec.from_service: the service's container part under the job's (the effective spec). */
static int observe_service(Store *store, const ResourceRef *ref, const JobSpec *spec,
                           JobSpec *ret_spec, JobObserved *o, Error *reterr) {
        _cleanup_(stored_resource_release) StoredResource row = {0};
        _cleanup_(service_spec_release) ServiceSpec svc = {0};
        int r;

        if (!spec->from_service || !store)
                return job_spec_resolve(spec, NULL, ret_spec);
        r = store_resource_get(store, KIND_DOCKER_SERVICE, ref->project, spec->from_service, &row,
                               reterr);
        if (r == -ENOENT || (r >= 0 && row.ref.deleting)) {
                err_clear(reterr);
                return job_spec_resolve(spec, NULL, ret_spec);
        }
        if (r < 0)
                return r;
        r = service_container_from_json(row.spec, &svc, reterr);
        if (r < 0)
                return err_prefix(reterr, "docker_service %s", spec->from_service);
        o->service_exists = true;
        snprintf(o->service_phase, sizeof(o->service_phase), "%s", phase_to_string(row.phase));
        return job_spec_resolve(spec, &svc, ret_spec);
}

int job_observe(DockerClient *docker, Store *store, const ResourceRef *ref, const JobSpec *spec,
                JobSpec *ret_spec, JobObserved *ret, Error *reterr) {
        _cleanup_(job_observed_release) JobObserved o = {0};
        _cleanup_(job_spec_release) JobSpec eff = {0};
        _cleanup_strv_free_ char **filters = NULL;
        bool alive = false;
        int r;

        assert_return(docker && ref && spec && ret_spec && ret, -EINVAL);
        if (!isempty(ref->uuid)) {
                r = strv_pushf(&filters, "%s=%s", LABEL_RESOURCE, ref->uuid);
                if (r < 0)
                        return r;
                r = docker_container_list(docker, filters, true, &o.containers, &o.n_containers,
                                          reterr);
                if (r < 0)
                        return r;
                if (store) {
                        r = store_job_runs_get(store, ref->uuid, &o.runs, &o.n_runs, reterr);
                        if (r < 0)
                                return r;
                }
        }
        r = observe_runs_containers(docker, &o, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o.n_containers; i++)
                alive = alive || (o.containers[i].state && streq(o.containers[i].state, "running"));
        if (alive)
                o.network_exists = true; /* a running container is attached to it */
        else {
                _cleanup_free_ char *net_id = NULL;
                char net[96];

                r = name_project_network(net, sizeof(net), ref->project);
                if (r < 0)
                        return r;
                r = docker_network_inspect(docker, net, &net_id, reterr);
                if (r < 0 && r != -ENOENT)
                        return r;
                o.network_exists = r >= 0;
                err_clear(reterr);
        }
        if (ref->deleting) {
                /* Only the containers matter now. */
                r = job_spec_resolve(spec, NULL, &eff);
                if (r < 0)
                        return r;
                *ret_spec = eff;
                eff = (JobSpec){0};
                *ret = o;
                o = (JobObserved){0};
                return 0;
        }
        r = observe_service(store, ref, spec, &eff, &o, reterr);
        if (r >= 0)
                r = depends_secret_versions(store, ref->project, eff.container.secrets,
                                            eff.container.n_secrets, &o.secret_versions, reterr);
        if (r >= 0)
                r = depends_observe(store, ref->project, eff.container.deps, eff.container.n_deps,
                                    &o.deps, reterr);
        if (r < 0)
                return r;
        *ret_spec = eff;
        eff = (JobSpec){0};
        *ret = o;
        o = (JobObserved){0};
        return 0;
}
