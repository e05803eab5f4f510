/* SPDX-License-Identifier: MIT */
#include "util/common.h"

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

static int secrets_copy(const ServiceSpec *spec, const int64_t *versions, ContainerConfig *c) {
        if (spec->n_secrets == 0)
                return 0;
        c->secrets = b_calloc(spec->n_secrets, sizeof(ContainerSecret));
        if (!c->secrets)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_secrets; i++) {
                const ServiceSecret *s = &spec->secrets[i];
                ContainerSecret *cs = &c->secrets[c->n_secrets++];

                cs->secret = b_strdup(s->secret);
                cs->version = versions ? versions[i] : 0;
                if (s->as_file)
                        cs->path = b_strdup(s->path);
                else
                        cs->env = b_strdup(s->key);
                if (!cs->secret || (!cs->path && !cs->env))
                        return -ENOMEM;
        }
        return 0;
}

static int add_env_secret(ContainerConfig *c, const char *env, const char *secret, int64_t version,
                          const char *url_before, const char *url_after) {
        ContainerSecret *n = b_realloc(c->secrets, (c->n_secrets + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        c->secrets = n;
        n = &c->secrets[c->n_secrets++];
        *n = (ContainerSecret){.version = version};
        n->secret = b_strdup(secret);
        n->env = b_strdup(env);
        n->url_before = url_before ? b_strdup(url_before) : NULL;
        n->url_after = url_after ? b_strdup(url_after) : NULL;
        if (!n->secret || !n->env || (url_before && !n->url_before) || (url_after && !n->url_after))
                return -ENOMEM;
        return 0;
}

/* A database dependency: its network, PREFIX_HOST/_PORT/_USER/_DATABASE, and the password as
 * PREFIX_PASSWORD and inside PREFIX_URL, both from the secret at create time (never in the
 * spec, the plan or Docker's record of the config beyond the env itself). */
static int database_env(const ServiceDependency *d, const ObservedDependency *o,
                        ContainerConfig *c) {
        char key[96], before[256], after[256];
        int r = 0;

        if (!strv_contains(c->extra_networks, o->network))
                r = strv_push(&c->extra_networks, o->network);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_HOST=%s", d->prefix, d->name);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_PORT=%d", d->prefix, o->port);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_USER=%s", d->prefix, o->user);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_DATABASE=%s", d->prefix, o->dbname);
        if (r < 0 || o->secret_version == SECRET_MISSING)
                return r;
        snprintf(key, sizeof(key), "%s_PASSWORD", d->prefix);
        r = add_env_secret(c, key, o->secret, o->secret_version, NULL, NULL);
        if (r < 0)
                return r;
        snprintf(key, sizeof(key), "%s_URL", d->prefix);
        snprintf(before, sizeof(before), "postgresql://%s:", o->user);
        snprintf(after, sizeof(after), "@%s:%d/%s", d->name, o->port, o->dbname);
        return add_env_secret(c, key, o->secret, o->secret_version, before, after);
}

/* PREFIX_HOST, PREFIX_PORT, PREFIX_URL per dependency that exists: its service name answers on
 * the project network. A changed port changes the env, hence the hash: the service rolls. */
static int deps_env(const ServiceSpec *spec, const ServiceObserved *obs, ContainerConfig *c) {
        int r = 0;

        for (size_t i = 0; r >= 0 && obs && obs->deps && i < spec->n_deps; i++) {
                const ServiceDependency *d = &spec->deps[i];
                const ObservedDependency *o = &obs->deps[i];

                if (!o->exists)
                        continue;
                if (o->database) {
                        r = database_env(d, o, c);
                        continue;
                }
                r = strv_pushf(&c->env, "%s_HOST=%s", d->prefix, d->name);
                if (r >= 0 && o->port > 0)
                        r = strv_pushf(&c->env, "%s_PORT=%d", d->prefix, o->port);
                if (r >= 0 && o->port > 0)
                        r = strv_pushf(&c->env, "%s_URL=%s://%s:%d", d->prefix,
                                       o->http ? "http" : "tcp", d->name, o->port);
        }
        return r;
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
                r = secrets_copy(spec, obs ? obs->secret_versions : NULL, &c);
        if (r >= 0)
                r = deps_env(spec, obs, &c);
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
        if (r < 0)
                return r;

        *ret = c;
        c = (ContainerConfig){0};
        return 0;
}
