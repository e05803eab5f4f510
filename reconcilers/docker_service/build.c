/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "model/depends.h"
#include "reconcilers/docker_service/plan.h"

static int ports_copy(const ServiceSpec *spec, ContainerConfig *c) {
        if (spec->n_ports == 0)
                return 0;
        c->ports = b_calloc(spec->n_ports, sizeof(PortBinding));
        if (!c->ports)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_ports; i++) {
                const ServicePort *sp = &spec->ports[i];
                PortBinding *pb = &c->ports[c->n_ports++];

                pb->container_port = sp->container_port;
                pb->host_port = sp->host_port;
                pb->host_ip = sp->bind ? b_strdup(sp->bind) : NULL;
                pb->protocol = sp->protocol ? b_strdup(sp->protocol) : NULL;
                if ((sp->bind && !pb->host_ip) || (sp->protocol && !pb->protocol))
                        return -ENOMEM;
        }
        return 0;
}

/* Only command probes run inside the container (through Docker's own healthcheck): http and
 * tcp probes are made by berth from outside, so they work on images with no shell or tools. */
static int healthcheck_copy(const ServiceSpec *spec, ContainerConfig *c) {
        const ServiceHealthcheck *hc = &spec->healthcheck;
        int r;

        if (hc->type != HEALTH_COMMAND)
                return 0;
        r = strv_push(&c->health_test, "CMD");
        for (char **a = hc->command; r >= 0 && a && *a; a++)
                r = strv_push(&c->health_test, *a);
        c->health_interval = hc->interval;
        c->health_timeout = hc->timeout;
        c->health_retries = hc->unhealthy_threshold;
        return r;
}

/* Persistent volumes are pinned to the replica index, so replica 2 always gets its own data
 * back when it is replaced; ephemeral ones are tmpfs of the given size. */
static int mounts_copy(const ResourceRef *ref, const ServiceSpec *spec, unsigned index,
                       ContainerConfig *c) {
        char vol[128];
        int r;

        if (spec->n_volumes == 0)
                return 0;
        c->mounts = b_calloc(spec->n_volumes, sizeof(MountSpec));
        if (!c->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_volumes; i++) {
                const ServiceVolume *v = &spec->volumes[i];
                MountSpec *m = &c->mounts[c->n_mounts++];

                m->target = b_strdup(v->mount_path);
                if (!m->target)
                        return -ENOMEM;
                if (v->type == VOLUME_EPHEMERAL) {
                        m->type = b_strdup("tmpfs");
                        m->tmpfs_size = v->size;
                        if (!m->type)
                                return -ENOMEM;
                        continue;
                }
                r = name_volume(vol, sizeof(vol), ref->project, ref->name, v->name, index);
                if (r < 0)
                        return r;
                m->type = b_strdup("volume");
                m->source = b_strdup(vol);
                if (!m->type || !m->source)
                        return -ENOMEM;
        }
        return 0;
}

static int files_copy(const ServiceSpec *spec, ContainerConfig *c) {
        if (spec->n_files == 0)
                return 0;
        c->files = b_calloc(spec->n_files, sizeof(ContainerFile));
        if (!c->files)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_files; i++) {
                ContainerFile *f = &c->files[c->n_files++];

                f->path = b_strdup(spec->files[i].path);
                f->content = b_strdup(spec->files[i].content);
                if (!f->path || !f->content)
                        return -ENOMEM;
                f->size = strlen(f->content);
                f->mode = spec->files[i].mode;
        }
        return 0;
}

int service_container_config(const ResourceRef *ref, const ServiceSpec *spec,
                             const ServiceObserved *obs, unsigned index, ContainerConfig *ret,
                             Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {0};
        char name[128], net[96], hash[65];
        int r;

        assert_return(ref && spec && ret, -EINVAL);

        r = name_container(name, sizeof(name), ref->project, ref->name, SERVICE_ROLE, index);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "container name too long");
        r = name_project_network(net, sizeof(net), ref->project);
        if (r < 0)
                return err_set(reterr, r, "metadata.project", "network name too long");

        c.name = b_strdup(name);
        c.image = b_strdup(spec->image);
        c.hostname = b_strdup(name);
        c.network = b_strdup(net);
        c.restart_policy = b_strdup(spec->restart_policy ? spec->restart_policy : "unless-stopped");
        if (!c.name || !c.image || !c.hostname || !c.network || !c.restart_policy)
                return -ENOMEM;
        if (spec->command && !(c.entrypoint = strv_copy(spec->command)))
                return -ENOMEM;
        if (spec->args && !(c.cmd = strv_copy(spec->args)))
                return -ENOMEM;
        if (spec->env && !(c.env = strv_copy(spec->env)))
                return -ENOMEM;
        if (spec->networks && !(c.extra_networks = strv_copy(spec->networks)))
                return -ENOMEM;
        /* Reachable by the service name (all replicas answer it) and by its own name. */
        r = strv_push(&c.aliases, ref->name);
        if (r >= 0)
                r = strv_push(&c.aliases, name);
        if (r >= 0)
                r = ports_copy(spec, &c);
        if (r >= 0)
                r = healthcheck_copy(spec, &c);
        if (r >= 0)
                r = mounts_copy(ref, spec, index, &c);
        if (r >= 0)
                r = files_copy(spec, &c);
        if (r >= 0)
                r = depends_secrets_add(spec->secrets, spec->n_secrets,
                                        obs ? obs->secret_versions : NULL, &c);
        if (r >= 0)
                r = depends_env_add(spec->deps, spec->n_deps, obs ? obs->deps : NULL, &c);
        for (char **n = obs ? obs->allowed_networks : NULL; r >= 0 && n && *n; n++)
                if (!strv_contains(c.extra_networks, *n))
                        r = strv_push(&c.extra_networks, *n);
        if (r < 0)
                return r;
        c.restart_max_retries = spec->restart_max_retries;
        c.nano_cpus = (int64_t) (spec->cpu * 1e9);
        c.memory = spec->memory;
        /* An init as PID 1 forwards SIGTERM: servers without a handler stop at once instead of
         * waiting out Docker's 10 s grace period on every replacement. */
        c.init = true;
        c.stop_timeout = -1;

        r = container_config_hash(&c, hash);
        if (r < 0)
                return r;
        r = container_add_labels(&c, ref, KIND_DOCKER_SERVICE, SERVICE_ROLE, index, hash);
        if (r >= 0 && obs && obs->deploy.revision > 0)
                r = strv_pushf(&c.labels, "%s=%" PRId64, LABEL_REVISION, obs->deploy.revision);
        if (r < 0)
                return r;

        *ret = c;
        c = (ContainerConfig){0};
        return 0;
}

int service_revision_hash(const ResourceRef *ref, const ServiceSpec *spec,
                          const ServiceObserved *obs, char ret[65], Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {0};
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        r = service_container_config(ref, spec, obs, 0, &c, reterr);
        if (r < 0)
                return r;
        return container_config_hash(&c, ret);
}

int service_surge_name(char *buf, size_t n, const ResourceRef *ref, unsigned index,
                       int64_t revision) {
        char base[128];
        int r, k;

        r = name_container(base, sizeof(base), ref->project, ref->name, SERVICE_ROLE, index);
        if (r < 0)
                return r;
        if (revision > 0)
                k = snprintf(buf, n, "%s-r%" PRId64, base, revision);
        else
                k = snprintf(buf, n, "%s-next", base);
        return k < 0 || (size_t) k >= n ? -E2BIG : 0;
}

int service_hook_config(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                        const char *hook, char *const *command, ContainerConfig *ret,
                        Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {0};
        unsigned revision = obs && obs->deploy.revision > 0 ? (unsigned) obs->deploy.revision : 0;
        char name[128], hash[65];
        int r;

        assert_return(ref && spec && hook && command && ret, -EINVAL);
        r = service_container_config(ref, spec, obs, 0, &c, reterr);
        if (r < 0)
                return r;
        r = name_container(name, sizeof(name), ref->project, ref->name, hook, revision);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "container name too long");
        /* A one-off run: no traffic (no alias, no ports), no replica's volumes, no restarts. */
        b_free(c.name);
        b_free(c.hostname);
        b_free(c.restart_policy);
        c.name = b_strdup(name);
        c.hostname = b_strdup(name);
        c.restart_policy = b_strdup("no");
        if (!c.name || !c.hostname || !c.restart_policy)
                return -ENOMEM;
        c.aliases = strv_free(c.aliases);
        c.labels = strv_free(c.labels);
        c.health_test = strv_free(c.health_test);
        c.entrypoint = strv_free(c.entrypoint);
        c.cmd = strv_free(c.cmd);
        for (size_t i = 0; i < c.n_ports; i++) {
                b_free(c.ports[i].host_ip);
                b_free(c.ports[i].protocol);
        }
        c.ports = mfree(c.ports);
        c.n_ports = 0;
        for (size_t i = 0; i < c.n_mounts; i++) {
                b_free(c.mounts[i].type);
                b_free(c.mounts[i].source);
                b_free(c.mounts[i].target);
        }
        c.mounts = mfree(c.mounts);
        c.n_mounts = 0;
        c.restart_max_retries = 0;
        c.entrypoint = strv_copy(command);
        if (!c.entrypoint)
                return -ENOMEM;

        r = container_config_hash(&c, hash);
        if (r >= 0)
                r = container_add_labels(&c, ref, KIND_DOCKER_SERVICE, hook, revision, hash);
        if (r < 0)
                return r;
        *ret = c;
        c = (ContainerConfig){0};
        return 0;
}
