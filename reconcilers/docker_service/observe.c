/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker.h"
#include "reconcilers/docker_service/service.h"
#include "reconcilers/probe.h"

static int observe_probes(const ServiceSpec *spec, ServiceObserved *o) {
        const ServiceHealthcheck *hc = &spec->healthcheck;
        _cleanup_free_ ProbeTarget *targets = NULL;

        if (o->n_containers == 0)
                return 0;
        o->probes = b_calloc(o->n_containers, sizeof(ProbeResult));
        if (!o->probes)
                return -ENOMEM;
        if (hc->type != HEALTH_HTTP && hc->type != HEALTH_TCP)
                return 0;
        targets = b_calloc(o->n_containers, sizeof(ProbeTarget));
        if (!targets)
                return -ENOMEM;
        for (size_t i = 0; i < o->n_containers; i++) {
                const ObservedContainer *c = &o->containers[i];
                bool running = c->state && streq(c->state, "running");

                targets[i] = (ProbeTarget){
                        .ip = running ? c->ip : NULL,
                        .port = hc->port,
                        .path = hc->type == HEALTH_HTTP ? (hc->path ? hc->path : "/") : NULL,
                };
        }
        probe_run(targets, o->n_containers, hc->timeout ? hc->timeout : 2 * USEC_PER_SEC,
                  o->probes);
        return 0;
}

int service_observe(DockerClient *docker, const ResourceRef *ref, const ServiceSpec *spec,
                    ServiceObserved *ret, Error *reterr) {
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
        }
        r = name_project_network(net, sizeof(net), ref->project);
        if (r < 0)
                return r;
        r = docker_network_inspect(docker, net, &net_id, reterr);
        if (r < 0 && r != -ENOENT)
                return r;
        o.network_exists = r >= 0;
        err_clear(reterr);

        r = observe_probes(spec, &o);
        if (r < 0)
                return r;
        *ret = o;
        o = (ServiceObserved){0};
        return 0;
}
