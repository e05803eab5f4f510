/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/service.h"
#include "model/units.h"

/* Reads a normalised docker_service spec (validate-service.c wrote it, the store kept it).
 * Validation already refused anything out of range; this only checks types, so a damaged row
 * is an error and not a crash. Absent members take the validator's defaults. */

static void service_port_release(ServicePort *p) {
        p->bind = mfree(p->bind);
        p->protocol = mfree(p->protocol);
}

void service_spec_release(ServiceSpec *s) {
        if (!s)
                return;
        s->image = mfree(s->image);
        s->command = strv_free(s->command);
        s->args = strv_free(s->args);
        s->env = strv_free(s->env);
        for (size_t i = 0; i < s->n_ports; i++)
                service_port_release(&s->ports[i]);
        s->ports = mfree(s->ports);
        s->n_ports = 0;
        s->restart_policy = mfree(s->restart_policy);
        s->healthcheck.path = mfree(s->healthcheck.path);
        s->healthcheck.command = strv_free(s->healthcheck.command);
        s->networks = strv_free(s->networks);
        for (size_t i = 0; i < s->n_volumes; i++) {
                s->volumes[i].name = mfree(s->volumes[i].name);
                s->volumes[i].mount_path = mfree(s->volumes[i].mount_path);
        }
        s->volumes = mfree(s->volumes);
        s->n_volumes = 0;
        for (size_t i = 0; i < s->n_files; i++) {
                s->files[i].path = mfree(s->files[i].path);
                s->files[i].content = mfree(s->files[i].content);
        }
        s->files = mfree(s->files);
        s->n_files = 0;
        for (size_t i = 0; i < s->n_secrets; i++) {
                s->secrets[i].key = mfree(s->secrets[i].key);
                s->secrets[i].secret = mfree(s->secrets[i].secret);
                s->secrets[i].path = mfree(s->secrets[i].path);
        }
        s->secrets = mfree(s->secrets);
        s->n_secrets = 0;
        for (size_t i = 0; i < s->n_deps; i++) {
                s->deps[i].kind = mfree(s->deps[i].kind);
                s->deps[i].name = mfree(s->deps[i].name);
                s->deps[i].prefix = mfree(s->deps[i].prefix);
        }
        s->deps = mfree(s->deps);
        s->n_deps = 0;
        s->deploy.pre_deploy = strv_free(s->deploy.pre_deploy);
        s->deploy.post_deploy = strv_free(s->deploy.post_deploy);
}

static int bad(Error *e, const char *field, const char *what) {
        return err_setr(e, -EINVAL, "INVALID_SPEC", field, "%s: stored spec is damaged (%s)", field,
                        what);
}

static const cJSON *member(const cJSON *o, const char *key) {
        return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* NULL when absent or empty (image default), else a copy of the string list. */
static int get_strv(const cJSON *o, const char *key, const char *field, Strv *ret, Error *e) {
        _cleanup_strv_free_ Strv l = NULL;
        const cJSON *a = member(o, key), *it;
        int r;

        *ret = NULL;
        if (!a || cJSON_IsNull(a))
                return 0;
        if (!cJSON_IsArray(a))
                return bad(e, field, "not a list");
        cJSON_ArrayForEach(it, a) {
                if (!cJSON_IsString(it))
                        return bad(e, field, "not a string");
                r = strv_push(&l, it->valuestring);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int get_string(const cJSON *o, const char *key, const char *field, const char *def,
                      char **ret, Error *e) {
        const cJSON *v = member(o, key);
        const char *s = def;

        *ret = NULL;
        if (v) {
                if (!cJSON_IsString(v))
                        return bad(e, field, "not a string");
                s = v->valuestring;
        }
        if (!s)
                return 0;
        *ret = b_strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_int(const cJSON *o, const char *key, const char *field, int def, int *ret,
                   Error *e) {
        const cJSON *v = member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsNumber(v) || v->valuedouble < -2147483648.0 || v->valuedouble > 2147483647.0)
                return bad(e, field, "not an integer");
        *ret = (int) v->valuedouble;
        return 0;
}

static int get_duration(const cJSON *o, const char *key, const char *field, usec_t def, usec_t *ret,
                        Error *e) {
        const cJSON *v = member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsString(v) || duration_parse(v->valuestring, ret) < 0)
                return bad(e, field, "not a duration");
        return 0;
}

/* Orders "K=V" entries by key alone: "A=1" before "A1=1". */
static int env_cmp(const void *x, const void *y) {
        const char *a = *(const char *const *) x, *b = *(const char *const *) y;
        size_t la = strcspn(a, "="), lb = strcspn(b, "=");
        int c = memcmp(a, b, MIN(la, lb));

        if (c != 0)
                return c;
        return la < lb ? -1 : la > lb;
}

static int get_env(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *env = member(spec, "env"), *it;
        size_t n;
        int r;

        if (!env)
                return 0;
        if (!cJSON_IsObject(env))
                return bad(e, "spec.env", "not a map");
        cJSON_ArrayForEach(it, env) {
                if (!cJSON_IsString(it) || !it->string)
                        return bad(e, "spec.env", "value not a string");
                r = strv_pushf(&s->env, "%s=%s", it->string, it->valuestring);
                if (r < 0)
                        return r;
        }
        /* Normalised specs are sorted already; sort anyway so the order never depends on it. */
        n = strv_length(s->env);
        if (n > 1)
                qsort(s->env, n, sizeof(char *), env_cmp);
        return 0;
}

static int get_ports(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *ports = member(spec, "ports"), *it;
        size_t n;
        int r;

        if (!ports)
                return 0;
        if (!cJSON_IsArray(ports))
                return bad(e, "spec.ports", "not a list");
        n = (size_t) cJSON_GetArraySize(ports);
        if (n == 0)
                return 0;
        s->ports = b_calloc(n, sizeof(*s->ports));
        if (!s->ports)
                return -ENOMEM;
        cJSON_ArrayForEach(it, ports) {
                ServicePort *p = &s->ports[s->n_ports++];

                if (!cJSON_IsObject(it))
                        return bad(e, "spec.ports", "item not a map");
                r = get_int(it, "container_port", "spec.ports.container_port", 0,
                            &p->container_port, e);
                if (r >= 0)
                        r = get_int(it, "host_port", "spec.ports.host_port", 0, &p->host_port, e);
                if (r >= 0)
                        r = get_string(it, "bind", "spec.ports.bind", "127.0.0.1", &p->bind, e);
                if (r >= 0)
                        r = get_string(it, "protocol", "spec.ports.protocol", "tcp", &p->protocol,
                                       e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int get_volumes(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *vols = member(spec, "volumes"), *it;
        size_t n;
        int r;

        if (!vols)
                return 0;
        if (!cJSON_IsArray(vols))
                return bad(e, "spec.volumes", "not a list");
        n = (size_t) cJSON_GetArraySize(vols);
        if (n == 0)
                return 0;
        s->volumes = b_calloc(n, sizeof(*s->volumes));
        if (!s->volumes)
                return -ENOMEM;
        cJSON_ArrayForEach(it, vols) {
                ServiceVolume *v = &s->volumes[s->n_volumes++];
                _cleanup_free_ char *type = NULL;
                const cJSON *size = member(it, "size");

                if (!cJSON_IsObject(it))
                        return bad(e, "spec.volumes", "item not a map");
                r = get_string(it, "name", "spec.volumes.name", NULL, &v->name, e);
                if (r >= 0)
                        r = get_string(it, "mount_path", "spec.volumes.mount_path", NULL,
                                       &v->mount_path, e);
                if (r >= 0)
                        r = get_string(it, "type", "spec.volumes.type", "persistent", &type, e);
                if (r < 0)
                        return r;
                if (!v->name || !v->mount_path)
                        return bad(e, "spec.volumes", "name or mount_path missing");
                v->type = streq(type, "ephemeral") ? VOLUME_EPHEMERAL : VOLUME_PERSISTENT;
                if (size && !cJSON_IsNumber(size))
                        return bad(e, "spec.volumes.size", "not a number");
                v->size = size ? (int64_t) size->valuedouble : 0;
                v->retain = cJSON_IsTrue(member(it, "retain"));
        }
        return 0;
}

static int get_files(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *files = member(spec, "config_files"), *it;
        size_t n;
        int r;

        if (!files)
                return 0;
        if (!cJSON_IsArray(files))
                return bad(e, "spec.config_files", "not a list");
        n = (size_t) cJSON_GetArraySize(files);
        if (n == 0)
                return 0;
        s->files = b_calloc(n, sizeof(*s->files));
        if (!s->files)
                return -ENOMEM;
        cJSON_ArrayForEach(it, files) {
                ServiceFile *f = &s->files[s->n_files++];
                _cleanup_free_ char *mode = NULL;

                if (!cJSON_IsObject(it))
                        return bad(e, "spec.config_files", "item not a map");
                r = get_string(it, "path", "spec.config_files.path", NULL, &f->path, e);
                if (r >= 0)
                        r = get_string(it, "content", "spec.config_files.content", "", &f->content,
                                       e);
                if (r >= 0)
                        r = get_string(it, "mode", "spec.config_files.mode", "0644", &mode, e);
                if (r < 0)
                        return r;
                if (!f->path)
                        return bad(e, "spec.config_files.path", "missing");
                f->mode = (unsigned) strtoul(mode, NULL, 8) & 07777;
        }
        return 0;
}

static int get_secrets(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *m = member(spec, "secrets"), *it;
        size_t n;
        int r;

        if (!m)
                return 0;
        if (!cJSON_IsObject(m))
                return bad(e, "spec.secrets", "not a map");
        n = (size_t) cJSON_GetArraySize(m);
        if (n == 0)
                return 0;
        s->secrets = b_calloc(n, sizeof(*s->secrets));
        if (!s->secrets)
                return -ENOMEM;
        cJSON_ArrayForEach(it, m) {
                ServiceSecret *sec = &s->secrets[s->n_secrets++];
                _cleanup_free_ char *as = NULL;

                if (!cJSON_IsObject(it))
                        return bad(e, "spec.secrets", "item not a map");
                sec->key = b_strdup(it->string);
                if (!sec->key)
                        return -ENOMEM;
                r = get_string(it, "secret", "spec.secrets.secret", NULL, &sec->secret, e);
                if (r >= 0)
                        r = get_string(it, "as", "spec.secrets.as", "env", &as, e);
                if (r >= 0)
                        r = get_string(it, "path", "spec.secrets.path", NULL, &sec->path, e);
                if (r < 0)
                        return r;
                if (!sec->secret)
                        return bad(e, "spec.secrets.secret", "missing");
                sec->as_file = streq(as, "file");
                if (sec->as_file && !sec->path)
                        return bad(e, "spec.secrets.path", "missing");
        }
        return 0;
}

static int get_deps(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *l = member(spec, "depends_on"), *it;
        size_t n;
        int r;

        if (!l)
                return 0;
        if (!cJSON_IsArray(l))
                return bad(e, "spec.depends_on", "not a list");
        n = (size_t) cJSON_GetArraySize(l);
        if (n == 0)
                return 0;
        s->deps = b_calloc(n, sizeof(*s->deps));
        if (!s->deps)
                return -ENOMEM;
        cJSON_ArrayForEach(it, l) {
                ServiceDependency *d = &s->deps[s->n_deps++];

                if (!cJSON_IsObject(it))
                        return bad(e, "spec.depends_on", "item not a map");
                r = get_string(it, "kind", "spec.depends_on.kind", NULL, &d->kind, e);
                if (r >= 0)
                        r = get_string(it, "name", "spec.depends_on.name", NULL, &d->name, e);
                if (r >= 0)
                        r = get_string(it, "env_prefix", "spec.depends_on.env_prefix", NULL,
                                       &d->prefix, e);
                if (r < 0)
                        return r;
                if (!d->kind || !d->name || !d->prefix)
                        return bad(e, "spec.depends_on", "kind, name or env_prefix missing");
        }
        return 0;
}

static int get_resources(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *res = member(spec, "resources"), *cpu, *mem;

        if (!res)
                return 0;
        if (!cJSON_IsObject(res))
                return bad(e, "spec.resources", "not a map");
        cpu = member(res, "cpu");
        mem = member(res, "memory");
        if (cpu) {
                if (!cJSON_IsNumber(cpu))
                        return bad(e, "spec.resources.cpu", "not a number");
                s->cpu = cpu->valuedouble;
        }
        if (mem) {
                if (!cJSON_IsNumber(mem))
                        return bad(e, "spec.resources.memory", "not a number of bytes");
                s->memory = (int64_t) mem->valuedouble;
        }
        return 0;
}

static int get_restart(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *rp = member(spec, "restart_policy");
        int r;

        if (!rp) {
                s->restart_policy = b_strdup("unless-stopped");
                return s->restart_policy ? 0 : -ENOMEM;
        }
        if (!cJSON_IsObject(rp))
                return bad(e, "spec.restart_policy", "not a map");
        r = get_string(rp, "name", "spec.restart_policy.name", "unless-stopped", &s->restart_policy,
                       e);
        if (r >= 0)
                r = get_int(rp, "max_retries", "spec.restart_policy.max_retries", 0,
                            &s->restart_max_retries, e);
        if (r >= 0)
                r = get_duration(rp, "delay", "spec.restart_policy.delay", 0, &s->restart_delay, e);
        return r;
}

static int get_healthcheck(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *hc = member(spec, "healthcheck"), *type;
        ServiceHealthcheck *h = &s->healthcheck;
        int r;

        h->type = HEALTH_NONE;
        if (!hc || cJSON_IsNull(hc))
                return 0;
        if (!cJSON_IsObject(hc))
                return bad(e, "spec.healthcheck", "not a map");
        type = member(hc, "type");
        if (!cJSON_IsString(type))
                return bad(e, "spec.healthcheck.type", "not a string");
        if (streq(type->valuestring, "http"))
                h->type = HEALTH_HTTP;
        else if (streq(type->valuestring, "tcp"))
                h->type = HEALTH_TCP;
        else if (streq(type->valuestring, "command"))
                h->type = HEALTH_COMMAND;
        else
                return bad(e, "spec.healthcheck.type", "unknown type");

        r = get_string(hc, "path", "spec.healthcheck.path", h->type == HEALTH_HTTP ? "/" : NULL,
                       &h->path, e);
        if (r >= 0)
                r = get_int(hc, "port", "spec.healthcheck.port", 0, &h->port, e);
        if (r >= 0)
                r = get_strv(hc, "command", "spec.healthcheck.command", &h->command, e);
        if (r >= 0)
                r = get_duration(hc, "interval", "spec.healthcheck.interval", 10 * USEC_PER_SEC,
                                 &h->interval, e);
        if (r >= 0)
                r = get_duration(hc, "timeout", "spec.healthcheck.timeout", 2 * USEC_PER_SEC,
                                 &h->timeout, e);
        if (r >= 0)
                r = get_int(hc, "healthy_threshold", "spec.healthcheck.healthy_threshold", 1,
                            &h->healthy_threshold, e);
        if (r >= 0)
                r = get_int(hc, "unhealthy_threshold", "spec.healthcheck.unhealthy_threshold", 3,
                            &h->unhealthy_threshold, e);
        return r;
}

/* A number, or a string "N%" (validation wrote one of the two). */
static int get_amount(const cJSON *o, const char *key, const char *field, int def,
                      DeployAmount *ret, Error *e) {
        const cJSON *v = member(o, key);
        char *end = NULL;
        long n;

        *ret = (DeployAmount){.value = def};
        if (!v)
                return 0;
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 100000) {
                ret->value = (int) v->valuedouble;
                return 0;
        }
        if (!cJSON_IsString(v))
                return bad(e, field, "not a number or percentage");
        errno = 0;
        n = strtol(v->valuestring, &end, 10);
        if (errno != 0 || end == v->valuestring || !streq(end, "%") || n < 0 || n > 100)
                return bad(e, field, "not a percentage");
        *ret = (DeployAmount){.value = (int) n, .percent = true};
        return 0;
}

static int get_hook(const cJSON *deploy, const char *key, const char *field, Strv *ret, Error *e) {
        const cJSON *h = member(deploy, key);

        *ret = NULL;
        if (!h || cJSON_IsNull(h))
                return 0;
        if (!cJSON_IsObject(h))
                return bad(e, field, "not a map");
        return get_strv(h, "command", field, ret, e);
}

static int get_deploy(const cJSON *spec, ServiceSpec *s, Error *e) {
        const cJSON *d = member(spec, "deploy"), *v;
        ServiceDeploy *dp = &s->deploy;
        int r;

        *dp = (ServiceDeploy){
                .strategy = DEPLOY_ROLLING,
                .max_surge = {.value = 1},
                .progress_deadline = DEPLOY_PROGRESS_DEADLINE_DEFAULT,
        };
        if (!d || cJSON_IsNull(d))
                return 0;
        if (!cJSON_IsObject(d))
                return bad(e, "spec.deploy", "not a map");
        v = member(d, "strategy");
        if (v) {
                if (!cJSON_IsString(v))
                        return bad(e, "spec.deploy.strategy", "not a string");
                if (streq(v->valuestring, "recreate"))
                        dp->strategy = DEPLOY_RECREATE;
                else if (!streq(v->valuestring, "rolling"))
                        return bad(e, "spec.deploy.strategy", "unknown strategy");
        }
        v = member(d, "auto_rollback");
        if (v) {
                if (!cJSON_IsBool(v))
                        return bad(e, "spec.deploy.auto_rollback", "not a boolean");
                dp->auto_rollback = cJSON_IsTrue(v);
        }
        r = get_amount(d, "max_surge", "spec.deploy.max_surge", 1, &dp->max_surge, e);
        if (r >= 0)
                r = get_amount(d, "max_unavailable", "spec.deploy.max_unavailable", 0,
                               &dp->max_unavailable, e);
        if (r >= 0)
                r = get_duration(d, "progress_deadline", "spec.deploy.progress_deadline",
                                 DEPLOY_PROGRESS_DEADLINE_DEFAULT, &dp->progress_deadline, e);
        if (r >= 0)
                r = get_hook(d, "pre_deploy", "spec.deploy.pre_deploy", &dp->pre_deploy, e);
        if (r >= 0)
                r = get_hook(d, "post_deploy", "spec.deploy.post_deploy", &dp->post_deploy, e);
        if (r < 0)
                return r;
        if (strv_length(dp->pre_deploy) == 0)
                dp->pre_deploy = strv_free(dp->pre_deploy);
        if (strv_length(dp->post_deploy) == 0)
                dp->post_deploy = strv_free(dp->post_deploy);
        return 0;
}

static int amount_resolve(const DeployAmount *a, int replicas, bool round_up) {
        if (!a->percent)
                return a->value;
        return round_up ? (replicas * a->value + 99) / 100 : replicas * a->value / 100;
}

void service_deploy_resolve(const ServiceDeploy *d, int replicas, int *ret_surge,
                            int *ret_unavailable) {
        int surge = amount_resolve(&d->max_surge, replicas, true);
        int unavailable = amount_resolve(&d->max_unavailable, replicas, false);

        if (surge == 0 && unavailable == 0)
                unavailable = 1;
        *ret_surge = surge;
        *ret_unavailable = unavailable;
}

int service_spec_from_json(const cJSON *spec, ServiceSpec *ret, Error *reterr) {
        _cleanup_(service_spec_release) ServiceSpec s = {0};
        const cJSON *type, *paused;
        int r;

        assert_return(ret, -EINVAL);
        if (!cJSON_IsObject(spec))
                return bad(reterr, "spec", "not a map");

        r = get_string(spec, "image", "spec.image", NULL, &s.image, reterr);
        if (r < 0)
                return r;
        if (!s.image)
                return bad(reterr, "spec.image", "missing");

        type = member(spec, "type");
        s.type = SERVICE_WEB;
        if (type) {
                if (!cJSON_IsString(type))
                        return bad(reterr, "spec.type", "not a string");
                if (streq(type->valuestring, "worker"))
                        s.type = SERVICE_WORKER;
                else if (!streq(type->valuestring, "web"))
                        return bad(reterr, "spec.type", "unknown type");
        }

        r = get_strv(spec, "command", "spec.command", &s.command, reterr);
        if (r >= 0 && strv_length(s.command) == 0)
                s.command = strv_free(s.command);
        if (r >= 0)
                r = get_strv(spec, "args", "spec.args", &s.args, reterr);
        if (r >= 0 && strv_length(s.args) == 0)
                s.args = strv_free(s.args);
        if (r >= 0)
                r = get_env(spec, &s, reterr);
        if (r >= 0)
                r = get_ports(spec, &s, reterr);
        if (r >= 0)
                r = get_resources(spec, &s, reterr);
        if (r >= 0)
                r = get_int(spec, "replicas", "spec.replicas", 1, &s.replicas, reterr);
        if (r >= 0)
                r = get_restart(spec, &s, reterr);
        if (r >= 0)
                r = get_healthcheck(spec, &s, reterr);
        if (r >= 0)
                r = get_strv(spec, "networks", "spec.networks", &s.networks, reterr);
        if (r < 0)
                return r;
        if (strv_length(s.networks) == 0)
                s.networks = strv_free(s.networks);

        paused = member(spec, "paused");
        if (paused) {
                if (!cJSON_IsBool(paused))
                        return bad(reterr, "spec.paused", "not a boolean");
                s.paused = cJSON_IsTrue(paused);
        }

        r = get_volumes(spec, &s, reterr);
        if (r >= 0)
                r = get_files(spec, &s, reterr);
        if (r >= 0)
                r = get_secrets(spec, &s, reterr);
        if (r >= 0)
                r = get_deps(spec, &s, reterr);
        if (r >= 0)
                r = get_deploy(spec, &s, reterr);
        if (r < 0)
                return r;

        *ret = s;
        s = (ServiceSpec){0};
        return 0;
}

/* The container part of a spec, shared with the other kinds that run a container (job). */
int service_container_from_json(const cJSON *spec, ServiceSpec *ret, Error *reterr) {
        _cleanup_(service_spec_release) ServiceSpec s = {0};
        int r;

        assert_return(ret, -EINVAL);
        if (!cJSON_IsObject(spec))
                return bad(reterr, "spec", "not a map");
        r = get_string(spec, "image", "spec.image", NULL, &s.image, reterr);
        if (r >= 0)
                r = get_strv(spec, "command", "spec.command", &s.command, reterr);
        if (r >= 0 && strv_length(s.command) == 0)
                s.command = strv_free(s.command);
        if (r >= 0)
                r = get_strv(spec, "args", "spec.args", &s.args, reterr);
        if (r >= 0 && strv_length(s.args) == 0)
                s.args = strv_free(s.args);
        if (r >= 0)
                r = get_env(spec, &s, reterr);
        if (r >= 0)
                r = get_resources(spec, &s, reterr);
        if (r >= 0)
                r = get_strv(spec, "networks", "spec.networks", &s.networks, reterr);
        if (r >= 0 && strv_length(s.networks) == 0)
                s.networks = strv_free(s.networks);
        if (r >= 0)
                r = get_secrets(spec, &s, reterr);
        if (r >= 0)
                r = get_deps(spec, &s, reterr);
        if (r < 0)
                return r;
        *ret = s;
        s = (ServiceSpec){0};
        return 0;
}
