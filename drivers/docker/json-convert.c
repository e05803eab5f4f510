/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/json-convert.h"
#include "model/resource.h"

/* ---- building ---- */

static int add_item(cJSON *obj, const char *key, cJSON *item) {
        if (!item)
                return -ENOMEM;
        if (!cJSON_AddItemToObject(obj, key, item)) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        return 0;
}

static int append_item(cJSON *arr, cJSON *item) {
        if (!item)
                return -ENOMEM;
        if (!cJSON_AddItemToArray(arr, item)) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        return 0;
}

static int add_str(cJSON *obj, const char *key, const char *value) {
        return add_item(obj, key, cJSON_CreateString(value));
}

static int add_str_if(cJSON *obj, const char *key, const char *value) {
        if (isempty(value))
                return 0;
        return add_str(obj, key, value);
}

static int add_bool(cJSON *obj, const char *key, bool value) {
        return add_item(obj, key, cJSON_CreateBool(value));
}

/* Integers are printed from their decimal text: cJSON keeps doubles, which print as "1e+15"
 * past 15 digits, and Go refuses that for an int64 field. */
static int add_i64(cJSON *obj, const char *key, int64_t value) {
        char text[32];

        snprintf(text, sizeof(text), "%" PRId64, value);
        return add_item(obj, key, cJSON_CreateRaw(text));
}

static int add_strv(cJSON *obj, const char *key, char *const *l) {
        _cleanup_(cJSON_Deletep) cJSON *arr = cJSON_CreateArray();
        int r;

        if (!arr)
                return -ENOMEM;
        for (char *const *p = l; p && *p; p++) {
                r = append_item(arr, cJSON_CreateString(*p));
                if (r < 0)
                        return r;
        }
        return add_item(obj, key, TAKE_PTR(arr));
}

static cJSON *add_object(cJSON *obj, const char *key) {
        cJSON *o = cJSON_CreateObject();

        if (add_item(obj, key, o) < 0)
                return NULL;
        return o;
}

int docker_json_labels_object(char *const *labels, cJSON **ret) {
        _cleanup_(cJSON_Deletep) cJSON *o = cJSON_CreateObject();
        int r;

        assert(ret);
        if (!o)
                return -ENOMEM;
        for (char *const *p = labels; p && *p; p++) {
                _cleanup_free_ char *key = NULL;
                const char *eq = strchr(*p, '=');

                if (eq == *p)
                        return -EINVAL;
                key = eq ? b_strndup(*p, (size_t) (eq - *p)) : b_strdup(*p);
                if (!key)
                        return -ENOMEM;
                /* Later entries win, as with docker run --label. */
                cJSON_DeleteItemFromObjectCaseSensitive(o, key);
                r = add_str(o, key, eq ? eq + 1 : "");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int docker_json_filters(char *const *labels, const char *type, cJSON **ret) {
        _cleanup_(cJSON_Deletep) cJSON *o = cJSON_CreateObject();
        int r;

        assert(ret);
        if (!o)
                return -ENOMEM;
        if (labels && labels[0]) {
                r = add_strv(o, "label", labels);
                if (r < 0)
                        return r;
        }
        if (type) {
                char *types[] = {(char *) type, NULL};

                r = add_strv(o, "type", types);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static bool health_test_has_kind(char *const *test) {
        return test && test[0] &&
               (streq(test[0], "CMD") || streq(test[0], "CMD-SHELL") || streq(test[0], "NONE"));
}

static int add_healthcheck(cJSON *body, const ContainerConfig *cfg) {
        cJSON *hc, *test;
        int r;

        if (!cfg->health_test || !cfg->health_test[0])
                return 0;
        hc = add_object(body, "Healthcheck");
        if (!hc)
                return -ENOMEM;
        test = cJSON_CreateArray();
        r = add_item(hc, "Test", test);
        if (r < 0)
                return r;
        /* ["CMD", argv...] unless the spec already says CMD, CMD-SHELL or NONE. */
        if (!health_test_has_kind(cfg->health_test)) {
                r = append_item(test, cJSON_CreateString("CMD"));
                if (r < 0)
                        return r;
        }
        for (char **p = cfg->health_test; *p; p++) {
                r = append_item(test, cJSON_CreateString(*p));
                if (r < 0)
                        return r;
        }
        /* Docker takes nanoseconds. */
        if (cfg->health_interval > 0 &&
            (r = add_i64(hc, "Interval", (int64_t) cfg->health_interval * 1000)) < 0)
                return r;
        if (cfg->health_timeout > 0 &&
            (r = add_i64(hc, "Timeout", (int64_t) cfg->health_timeout * 1000)) < 0)
                return r;
        if (cfg->health_start_period > 0 &&
            (r = add_i64(hc, "StartPeriod", (int64_t) cfg->health_start_period * 1000)) < 0)
                return r;
        if (cfg->health_retries > 0 && (r = add_i64(hc, "Retries", cfg->health_retries)) < 0)
                return r;
        return 0;
}

static int add_ports(cJSON *body, cJSON *host, const ContainerConfig *cfg, Error *reterr) {
        cJSON *exposed, *bindings = NULL;
        int r;

        if (cfg->n_ports == 0)
                return 0;
        exposed = add_object(body, "ExposedPorts");
        if (!exposed)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_ports; i++) {
                const PortBinding *p = &cfg->ports[i];
                char key[32], hport[16];
                cJSON *list, *b;

                if (p->container_port <= 0 || p->container_port > 65535 || p->host_port < 0 ||
                    p->host_port > 65535)
                        return err_set(reterr, -EINVAL, NULL, "port %d:%d out of range",
                                       p->host_port, p->container_port);
                snprintf(key, sizeof(key), "%d/%s", p->container_port,
                         p->protocol ? p->protocol : "tcp");
                if (!cJSON_GetObjectItemCaseSensitive(exposed, key)) {
                        r = add_item(exposed, key, cJSON_CreateObject());
                        if (r < 0)
                                return r;
                }
                if (p->host_port == 0)
                        continue;
                if (!bindings) {
                        bindings = add_object(host, "PortBindings");
                        if (!bindings)
                                return -ENOMEM;
                }
                list = cJSON_GetObjectItemCaseSensitive(bindings, key);
                if (!list) {
                        list = cJSON_CreateArray();
                        r = add_item(bindings, key, list);
                        if (r < 0)
                                return r;
                }
                b = cJSON_CreateObject();
                r = append_item(list, b);
                if (r < 0)
                        return r;
                snprintf(hport, sizeof(hport), "%d", p->host_port);
                r = add_str(b, "HostIp", p->host_ip ? p->host_ip : "127.0.0.1");
                if (r < 0)
                        return r;
                r = add_str(b, "HostPort", hport);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_mounts(cJSON *host, const ContainerConfig *cfg, Error *reterr) {
        cJSON *mounts;
        int r;

        if (cfg->n_mounts == 0)
                return 0;
        mounts = cJSON_CreateArray();
        r = add_item(host, "Mounts", mounts);
        if (r < 0)
                return r;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                const MountSpec *m = &cfg->mounts[i];
                const char *type = m->type ? m->type : "volume";
                cJSON *o = cJSON_CreateObject();

                r = append_item(mounts, o);
                if (r < 0)
                        return r;
                if (isempty(m->target))
                        return err_set(reterr, -EINVAL, NULL, "mount %zu has no target", i);
                if ((r = add_str(o, "Type", type)) < 0 || (r = add_str(o, "Target", m->target)) < 0)
                        return r;
                if (m->read_only && (r = add_bool(o, "ReadOnly", true)) < 0)
                        return r;
                if (streq(type, "tmpfs")) {
                        cJSON *opts;

                        if (m->tmpfs_size <= 0)
                                continue;
                        opts = add_object(o, "TmpfsOptions");
                        if (!opts)
                                return -ENOMEM;
                        r = add_i64(opts, "SizeBytes", m->tmpfs_size);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (isempty(m->source))
                        return err_set(reterr, -EINVAL, NULL, "%s mount on %s has no source", type,
                                       m->target);
                r = add_str(o, "Source", m->source);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_host_config(cJSON *body, const ContainerConfig *cfg, Error *reterr) {
        cJSON *host = add_object(body, "HostConfig");
        int r;

        if (!host)
                return -ENOMEM;
        r = add_ports(body, host, cfg, reterr);
        if (r < 0)
                return r;
        r = add_mounts(host, cfg, reterr);
        if (r < 0)
                return r;
        if (!isempty(cfg->restart_policy)) {
                cJSON *rp = add_object(host, "RestartPolicy");

                if (!rp)
                        return -ENOMEM;
                r = add_str(rp, "Name", cfg->restart_policy);
                if (r < 0)
                        return r;
                if (streq(cfg->restart_policy, "on-failure") && cfg->restart_max_retries > 0 &&
                    (r = add_i64(rp, "MaximumRetryCount", cfg->restart_max_retries)) < 0)
                        return r;
        }
        if (cfg->nano_cpus > 0 && (r = add_i64(host, "NanoCpus", cfg->nano_cpus)) < 0)
                return r;
        if (cfg->memory > 0 && (r = add_i64(host, "Memory", cfg->memory)) < 0)
                return r;
        if (cfg->init && (r = add_bool(host, "Init", true)) < 0)
                return r;
        return add_str_if(host, "NetworkMode", cfg->network);
}

static int add_networking(cJSON *body, const ContainerConfig *cfg) {
        cJSON *nc, *eps, *ep;

        if (isempty(cfg->network))
                return 0;
        nc = add_object(body, "NetworkingConfig");
        if (!nc)
                return -ENOMEM;
        eps = add_object(nc, "EndpointsConfig");
        if (!eps)
                return -ENOMEM;
        ep = add_object(eps, cfg->network);
        if (!ep)
                return -ENOMEM;
        if (cfg->aliases && cfg->aliases[0])
                return add_strv(ep, "Aliases", cfg->aliases);
        return 0;
}

int docker_json_create_body(const ContainerConfig *cfg, cJSON **ret, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *body = NULL;
        cJSON *labels = NULL;
        int r;

        assert(cfg);
        assert(ret);

        if (isempty(cfg->image))
                return err_set(reterr, -EINVAL, NULL, "container %s has no image",
                               strna(cfg->name));
        body = cJSON_CreateObject();
        if (!body)
                return -ENOMEM;

        if ((r = add_str(body, "Image", cfg->image)) < 0 ||
            (r = add_str_if(body, "User", cfg->user)) < 0 ||
            (r = add_str_if(body, "Hostname", cfg->hostname)) < 0 ||
            (r = add_str_if(body, "WorkingDir", cfg->working_dir)) < 0)
                return r;
        if (cfg->entrypoint && (r = add_strv(body, "Entrypoint", cfg->entrypoint)) < 0)
                return r;
        if (cfg->cmd && (r = add_strv(body, "Cmd", cfg->cmd)) < 0)
                return r;
        if (cfg->env && (r = add_strv(body, "Env", cfg->env)) < 0)
                return r;
        if (cfg->labels) {
                r = docker_json_labels_object(cfg->labels, &labels);
                if (r == -EINVAL)
                        return err_set(reterr, r, NULL, "container %s: a label has an empty key",
                                       strna(cfg->name));
                if (r < 0)
                        return r;
                r = add_item(body, "Labels", labels);
                if (r < 0)
                        return r;
        }
        r = add_healthcheck(body, cfg);
        if (r < 0)
                return r;
        if (cfg->stop_timeout >= 0 && (r = add_i64(body, "StopTimeout", cfg->stop_timeout)) < 0)
                return r;
        if (cfg->stop_signal && (r = add_str(body, "StopSignal", cfg->stop_signal)) < 0)
                return r;
        r = add_host_config(body, cfg, reterr);
        if (r < 0)
                return r;
        r = add_networking(body, cfg);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(body);
        return 0;
}

/* ---- reading ---- */

static const char *get_str(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool get_number(const cJSON *o, const char *key, double *ret) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsNumber(v))
                return false;
        *ret = v->valuedouble;
        return true;
}

static int get_int(const cJSON *o, const char *key, int def) {
        double d;

        if (!get_number(o, key, &d) || d < INT32_MIN || d > INT32_MAX)
                return def;
        return (int) d;
}

static int dup_str(const char *s, char **ret) {
        char *d;

        if (!s) {
                *ret = NULL;
                return 0;
        }
        d = b_strdup(s);
        if (!d)
                return -ENOMEM;
        b_free(*ret);
        *ret = d;
        return 0;
}

int docker_json_labels_to_strv(const cJSON *obj, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const cJSON *it;
        int r;

        assert(ret);
        l = b_calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        if (cJSON_IsObject(obj))
                cJSON_ArrayForEach(it, obj) {
                        if (!it->string || !cJSON_IsString(it))
                                continue;
                        r = strv_pushf(&l, "%s=%s", it->string, it->valuestring);
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_index(const char *s) {
        char *end;
        long v;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -1;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end || v > INT32_MAX)
                return -1;
        return (int) v;
}

static int fill_labels(const cJSON *labels, ObservedContainer *o) {
        int r;

        o->index = parse_index(get_str(labels, LABEL_INDEX));
        if ((r = dup_str(get_str(labels, LABEL_RESOURCE), &o->resource)) < 0 ||
            (r = dup_str(get_str(labels, LABEL_ROLE), &o->role)) < 0 ||
            (r = dup_str(get_str(labels, LABEL_CONFIG_HASH), &o->config_hash)) < 0)
                return r;
        return 0;
}

/* The first network with an address, in Docker's order. */
static int fill_ip(const cJSON *networks, ObservedContainer *o) {
        const cJSON *n;

        cJSON_ArrayForEach(n, networks) {
                const char *ip = get_str(n, "IPAddress");

                if (!isempty(ip))
                        return dup_str(ip, &o->ip);
        }
        return 0;
}

static int name_without_slash(const char *name, char **ret) {
        if (!name)
                return dup_str(NULL, ret);
        return dup_str(name[0] == '/' ? name + 1 : name, ret);
}

const char *docker_health_from_status(const char *status) {
        if (!status)
                return NULL;
        if (strstr(status, "(healthy)"))
                return "healthy";
        if (strstr(status, "(unhealthy)"))
                return "unhealthy";
        if (strstr(status, "(health: starting)"))
                return "starting";
        return NULL;
}

/* "Exited (137) 5 seconds ago" → 137. */
static int exit_code_from_status(const char *status) {
        const char *p;
        char *end;
        long v;

        if (!status || !(p = strstr(status, "Exited (")))
                return 0;
        p += STRLEN("Exited (");
        errno = 0;
        v = strtol(p, &end, 10);
        if (errno != 0 || end == p || *end != ')' || v < INT32_MIN || v > INT32_MAX)
                return 0;
        return (int) v;
}

int docker_json_observed_from_list(const cJSON *item, ObservedContainer *ret, Error *reterr) {
        _cleanup_(observed_container_release) ObservedContainer o = {.index = -1};
        const cJSON *names, *nets;
        const char *status;
        double created;
        int r;

        assert(ret);
        if (!cJSON_IsObject(item) || !get_str(item, "Id"))
                return err_set(reterr, -EBADMSG, NULL, "container list entry without Id");

        names = cJSON_GetObjectItemCaseSensitive(item, "Names");
        status = get_str(item, "Status");
        if ((r = dup_str(get_str(item, "Id"), &o.id)) < 0 ||
            (r = name_without_slash(cJSON_IsArray(names) && cJSON_IsString(names->child)
                                            ? names->child->valuestring
                                            : NULL,
                                    &o.name)) < 0 ||
            (r = dup_str(get_str(item, "Image"), &o.image)) < 0 ||
            (r = dup_str(get_str(item, "State"), &o.state)) < 0 ||
            (r = dup_str(docker_health_from_status(status), &o.health)) < 0)
                return r;
        r = fill_labels(cJSON_GetObjectItemCaseSensitive(item, "Labels"), &o);
        if (r < 0)
                return r;
        nets = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(item, "NetworkSettings"), "Networks");
        r = fill_ip(nets, &o);
        if (r < 0)
                return r;
        if (get_number(item, "Created", &created) && created > 0)
                o.created = (usec_t) created * USEC_PER_SEC;
        o.exit_code = exit_code_from_status(status);

        *ret = o;
        o = (ObservedContainer){0};
        return 0;
}

int docker_json_observed_from_inspect(const cJSON *doc, ObservedContainer *ret, Error *reterr) {
        _cleanup_(observed_container_release) ObservedContainer o = {.index = -1};
        const cJSON *state, *config, *health, *nets, *host;
        const char *hs, *st;
        int r;

        assert(ret);
        if (!cJSON_IsObject(doc) || !get_str(doc, "Id"))
                return err_set(reterr, -EBADMSG, NULL, "container inspect reply without Id");
        state = cJSON_GetObjectItemCaseSensitive(doc, "State");
        config = cJSON_GetObjectItemCaseSensitive(doc, "Config");
        health = cJSON_GetObjectItemCaseSensitive(state, "Health");
        hs = get_str(health, "Status");
        st = get_str(state, "Status");
        /* A stopped container keeps its last health: stale, and list replies (which show health
         * in the status text of running containers only) would disagree. */
        if (isempty(hs) || streq(hs, "none") || !st || !streq(st, "running"))
                hs = NULL;

        if ((r = dup_str(get_str(doc, "Id"), &o.id)) < 0 ||
            (r = name_without_slash(get_str(doc, "Name"), &o.name)) < 0 ||
            (r = dup_str(get_str(config, "Image") ?: get_str(doc, "Image"), &o.image)) < 0 ||
            (r = dup_str(get_str(state, "Status"), &o.state)) < 0 ||
            (r = dup_str(hs, &o.health)) < 0)
                return r;
        r = fill_labels(cJSON_GetObjectItemCaseSensitive(config, "Labels"), &o);
        if (r < 0)
                return r;
        nets = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(doc, "NetworkSettings"), "Networks");
        r = fill_ip(nets, &o);
        if (r < 0)
                return r;

        o.exit_code = get_int(state, "ExitCode", 0);
        o.oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "OOMKilled"));
        o.restart_count = get_int(doc, "RestartCount", 0);
        host = cJSON_GetObjectItemCaseSensitive(doc, "HostConfig");
        if (cJSON_IsObject(host)) {
                const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(host, "NanoCpus");
                const cJSON *mem = cJSON_GetObjectItemCaseSensitive(host, "Memory");

                o.has_resources = true;
                o.nano_cpus = cJSON_IsNumber(cpus) ? (int64_t) cpus->valuedouble : 0;
                o.memory = cJSON_IsNumber(mem) ? (int64_t) mem->valuedouble : 0;
        }
        /* Unparsable times stay 0 ("unknown"): they inform, they do not decide. */
        if (docker_parse_rfc3339(get_str(doc, "Created"), &o.created) < 0)
                o.created = 0;
        if (docker_parse_rfc3339(get_str(state, "StartedAt"), &o.started_at) < 0)
                o.started_at = 0;
        if (docker_parse_rfc3339(get_str(state, "FinishedAt"), &o.finished_at) < 0)
                o.finished_at = 0;

        *ret = o;
        o = (ObservedContainer){0};
        return 0;
}

static bool parse_digits(const char **p, int n, int *ret) {
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static bool expect_char(const char **p, char c) {
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

int docker_parse_rfc3339(const char *s, usec_t *ret) {
        int year, mon, day, hour, min, sec, usec = 0, off = 0;
        struct tm tm = {0};
        const char *p = s;
        time_t t;

        assert(ret);
        if (!s)
                return -EINVAL;
        if (!parse_digits(&p, 4, &year) || !expect_char(&p, '-') || !parse_digits(&p, 2, &mon) ||
            !expect_char(&p, '-') || !parse_digits(&p, 2, &day) ||
            !(expect_char(&p, 'T') || expect_char(&p, 't') || expect_char(&p, ' ')) ||
            !parse_digits(&p, 2, &hour) || !expect_char(&p, ':') || !parse_digits(&p, 2, &min) ||
            !expect_char(&p, ':') || !parse_digits(&p, 2, &sec))
                return -EINVAL;
        if (*p == '.') {
                int digits = 0;

                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++, digits++)
                        if (digits < 6)
                                usec = usec * 10 + (*p - '0');
                for (; digits < 6; digits++)
                        usec *= 10;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1, oh, om;

                p++;
                if (!parse_digits(&p, 2, &oh) || !expect_char(&p, ':') || !parse_digits(&p, 2, &om))
                        return -EINVAL;
                off = sign * (oh * 3600 + om * 60);
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
                return -EINVAL;

        if (year < 1970) {
                *ret = 0; /* Go's zero time: "never" */
                return 0;
        }
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        t -= off;
        if (t < 0) {
                *ret = 0;
                return 0;
        }
        *ret = (usec_t) t * USEC_PER_SEC + (usec_t) usec;
        return 0;
}

int docker_api_version_parse(const char *s) {
        char *end;
        long major, minor;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        major = strtol(s, &end, 10);
        if (errno != 0 || *end != '.' || major > 100 || !isdigit((unsigned char) end[1]))
                return -EINVAL;
        s = end + 1;
        minor = strtol(s, &end, 10);
        if (errno != 0 || *end || minor > 999)
                return -EINVAL;
        return (int) (major * 1000 + minor);
}

/* The numeric value of a top-level "timeNano": the first `"timeNano":` followed by a digit.
 * Inside a JSON string a '"' is escaped, so this can only match a key, and a label named
 * timeNano has a string value. */
static bool scan_time_nano(const char *line, size_t len, int64_t *ret) {
        static const char key[] = "\"timeNano\":";
        const char *p = line, *end = line + len;

        while (p < end) {
                const char *hit = memmem(p, (size_t) (end - p), key, STRLEN(key));
                int64_t v = 0;
                const char *q;

                if (!hit)
                        return false;
                q = hit + STRLEN(key);
                while (q < end && *q == ' ')
                        q++;
                if (q < end && isdigit((unsigned char) *q)) {
                        for (; q < end && isdigit((unsigned char) *q); q++) {
                                if (v > (INT64_MAX - 9) / 10)
                                        return false;
                                v = v * 10 + (*q - '0');
                        }
                        *ret = v;
                        return true;
                }
                p = hit + 1;
        }
        return false;
}

int docker_json_event_parse(const char *line, size_t len, cJSON **ret_doc, DockerEventInfo *ret) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *actor, *attrs;
        DockerEventInfo info = {0};
        double t;

        assert(line);
        assert(ret_doc);
        assert(ret);

        doc = cJSON_ParseWithLength(line, len);
        if (!doc)
                return -EBADMSG; /* or out of memory: cJSON does not tell */
        if (!cJSON_IsObject(doc))
                return -EBADMSG;
        actor = cJSON_GetObjectItemCaseSensitive(doc, "Actor");
        attrs = cJSON_GetObjectItemCaseSensitive(actor, "Attributes");
        info.type = get_str(doc, "Type");
        info.action = get_str(doc, "Action") ?: get_str(doc, "status");
        info.id = get_str(actor, "ID") ?: get_str(doc, "id");
        info.resource = get_str(attrs, LABEL_RESOURCE);
        if (!scan_time_nano(line, len, &info.time_nano)) {
                if (get_number(doc, "timeNano", &t) && t > 0 && t < 9.2e18)
                        info.time_nano = (int64_t) t;
                else if (get_number(doc, "time", &t) && t > 0 && t < 9.2e9)
                        info.time_nano = (int64_t) t * 1000000000;
        }
        if (!info.action)
                return -EBADMSG;

        *ret_doc = TAKE_PTR(doc);
        *ret = info;
        return 0;
}

int docker_json_progress_error(const char *line, size_t len, cJSON **ret_doc,
                               const char **ret_error) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *detail;
        const char *e;

        assert(line);
        assert(ret_doc);
        assert(ret_error);

        doc = cJSON_ParseWithLength(line, len);
        if (!doc)
                return -EBADMSG; /* or out of memory: cJSON does not tell */
        if (!cJSON_IsObject(doc))
                return -EBADMSG;
        detail = cJSON_GetObjectItemCaseSensitive(doc, "errorDetail");
        e = get_str(doc, "error");
        if (!e)
                e = get_str(detail, "message");
        if (!e && detail)
                e = "unknown error";
        *ret_error = e;
        *ret_doc = TAKE_PTR(doc);
        return 0;
}
