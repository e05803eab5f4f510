/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "model/depends.h"
#include "reconcilers/job/plan.h"

/* ---- the effective spec ----------------------------------------------------------------- */

static size_t env_key_len(const char *kv) {
        return strcspn(kv, "=");
}

static bool env_has_key(char *const *env, const char *kv) {
        size_t n = env_key_len(kv);

        for (; env && *env; env++)
                if (env_key_len(*env) == n && strneq(*env, kv, n))
                        return true;
        return false;
}

/* The service's variables the job does not set, then the job's. */
static int env_merge(char *const *base, char *const *over, Strv *ret) {
        int r = 0;

        for (; r >= 0 && base && *base; base++)
                if (!env_has_key(over, *base))
                        r = strv_push(ret, *base);
        for (; r >= 0 && over && *over; over++)
                r = strv_push(ret, *over);
        return r;
}

static int secret_copy(const ServiceSecret *s, ServiceSecret *d) {
        *d = (ServiceSecret){.as_file = s->as_file};
        d->key = b_strdup(s->key);
        d->secret = b_strdup(s->secret);
        d->path = s->path ? b_strdup(s->path) : NULL;
        return d->key && d->secret && (!s->path || d->path) ? 0 : -ENOMEM;
}

static int secrets_merge(const ServiceSpec *base, const ServiceSpec *over, ServiceSpec *out) {
        size_t n = base->n_secrets + over->n_secrets;

        if (n == 0)
                return 0;
        out->secrets = b_calloc(n, sizeof(ServiceSecret));
        if (!out->secrets)
                return -ENOMEM;
        for (size_t i = 0; i < base->n_secrets; i++) {
                bool overridden = false;

                for (size_t j = 0; j < over->n_secrets; j++)
                        overridden =
                                overridden || streq(over->secrets[j].key, base->secrets[i].key);
                if (!overridden &&
                    secret_copy(&base->secrets[i], &out->secrets[out->n_secrets++]) < 0)
                        return -ENOMEM;
        }
        for (size_t j = 0; j < over->n_secrets; j++)
                if (secret_copy(&over->secrets[j], &out->secrets[out->n_secrets++]) < 0)
                        return -ENOMEM;
        return 0;
}

static int dep_copy(const ServiceDependency *s, ServiceDependency *d) {
        d->kind = b_strdup(s->kind);
        d->name = b_strdup(s->name);
        d->prefix = b_strdup(s->prefix);
        return d->kind && d->name && d->prefix ? 0 : -ENOMEM;
}

static int deps_merge(const ServiceSpec *base, const ServiceSpec *over, ServiceSpec *out) {
        size_t n = base->n_deps + over->n_deps;

        if (n == 0)
                return 0;
        out->deps = b_calloc(n, sizeof(ServiceDependency));
        if (!out->deps)
                return -ENOMEM;
        for (size_t i = 0; i < base->n_deps; i++) {
                bool overridden = false;

                for (size_t j = 0; j < over->n_deps; j++)
                        overridden = overridden || streq(over->deps[j].name, base->deps[i].name);
                if (!overridden && dep_copy(&base->deps[i], &out->deps[out->n_deps++]) < 0)
                        return -ENOMEM;
        }
        for (size_t j = 0; j < over->n_deps; j++)
                if (dep_copy(&over->deps[j], &out->deps[out->n_deps++]) < 0)
                        return -ENOMEM;
        return 0;
}

static int strv_union(char *const *a, char *const *b, Strv *ret) {
        int r = 0;

        for (; r >= 0 && a && *a; a++)
                if (!strv_contains(*ret, *a))
                        r = strv_push(ret, *a);
        for (; r >= 0 && b && *b; b++)
                if (!strv_contains(*ret, *b))
                        r = strv_push(ret, *b);
        return r;
}

static int strv_dup(char *const *l, Strv *ret) {
        *ret = NULL;
        if (!l)
                return 0;
        *ret = strv_copy(l);
        return *ret ? 0 : -ENOMEM;
}

int job_spec_resolve(const JobSpec *job, const ServiceSpec *svc, JobSpec *ret) {
        static const ServiceSpec none = {0};
        _cleanup_(job_spec_release) JobSpec s = {0};
        const ServiceSpec *j = &job->container, *base = svc ? svc : &none;
        bool own_argv = j->command || j->args;
        int r;

        assert_return(job && ret, -EINVAL);
        s.timeout = job->timeout;
        if (job->from_service && !(s.from_service = b_strdup(job->from_service)))
                return -ENOMEM;
        if (j->image || base->image) {
                s.container.image = b_strdup(j->image ? j->image : base->image);
                if (!s.container.image)
                        return -ENOMEM;
        }
        r = strv_dup(own_argv ? j->command : base->command, &s.container.command);
        if (r >= 0)
                r = strv_dup(own_argv ? j->args : base->args, &s.container.args);
        if (r >= 0)
                r = env_merge(base->env, j->env, &s.container.env);
        if (r >= 0)
                r = strv_union(base->networks, j->networks, &s.container.networks);
        if (r >= 0)
                r = secrets_merge(base, j, &s.container);
        if (r >= 0)
                r = deps_merge(base, j, &s.container);
        if (r < 0)
                return r;
        if (j->cpu > 0 || j->memory > 0) {
                s.container.cpu = j->cpu;
                s.container.memory = j->memory;
        } else {
                s.container.cpu = base->cpu;
                s.container.memory = base->memory;
        }
        *ret = s;
        s = (JobSpec){0};
        return 0;
}

/* ---- the container of a run ------------------------------------------------------------- */

int job_container_config(const ResourceRef *ref, const JobSpec *spec, const JobObserved *obs,
                         int64_t seq, ContainerConfig *ret, Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {0};
        const ServiceSpec *s = &spec->container;
        char name[128], net[96], hash[65];
        int r;

        assert_return(ref && spec && ret && seq > 0 && seq <= UINT32_MAX, -EINVAL);
        if (!s->image)
                return err_set(reterr, -EINVAL, "spec.from_service",
                               "no image to run: docker_service %s is not there to take it from",
                               strna(spec->from_service));
        r = name_container(name, sizeof(name), ref->project, ref->name, JOB_ROLE, (unsigned) seq);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "container name too long");
        r = name_project_network(net, sizeof(net), ref->project);
        if (r < 0)
                return err_set(reterr, r, "metadata.project", "network name too long");

        c.name = b_strdup(name);
        c.image = b_strdup(s->image);
        c.hostname = b_strdup(name);
        c.network = b_strdup(net);
        /* A run is one attempt: Docker never restarts it; berth records how it ended. */
        c.restart_policy = b_strdup("no");
        if (!c.name || !c.image || !c.hostname || !c.network || !c.restart_policy)
                return -ENOMEM;
        if (s->command && !(c.entrypoint = strv_copy(s->command)))
                return -ENOMEM;
        if (s->args && !(c.cmd = strv_copy(s->args)))
                return -ENOMEM;
        if (s->env && !(c.env = strv_copy(s->env)))
                return -ENOMEM;
        if (s->networks && !(c.extra_networks = strv_copy(s->networks)))
                return -ENOMEM;
        r = strv_push(&c.aliases, name);
        if (r >= 0)
                r = depends_secrets_add(s->secrets, s->n_secrets, obs ? obs->secret_versions : NULL,
                                        &c);
        if (r >= 0)
                r = depends_env_add(s->deps, s->n_deps, obs ? obs->deps : NULL, &c);
        if (r < 0)
                return r;
        c.nano_cpus = (int64_t) (s->cpu * 1e9);
        c.memory = s->memory;
        /* An init as PID 1 forwards the SIGTERM of a timeout to the command. */
        c.init = true;
        c.stop_timeout = JOB_STOP_TIMEOUT_S;

        r = container_config_hash(&c, hash);
        if (r < 0)
                return r;
        r = container_add_labels(&c, ref, KIND_JOB, JOB_ROLE, (unsigned) seq, hash);
        if (r >= 0)
                r = strv_pushf(&c.labels, "%s=%" PRId64, LABEL_JOB_RUN, seq);
        if (r < 0)
                return r;
        *ret = c;
        c = (ContainerConfig){0};
        return 0;
}
