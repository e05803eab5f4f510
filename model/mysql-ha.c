/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/mysql-ha.h"
#include "model/resource.h"
#include "model/units.h"

/* Reads a normalised mysql_ha spec (validate-mysql-ha.c wrote it, the store kept it). Validation
 * already refused anything out of range; this only checks types, so a damaged row is an error
 * and not a crash. Absent members take the validator's defaults. */

static int secret_name(char *buf, size_t n, const char *name, const char *suffix) {
        int k;

        assert_return(buf && name, -EINVAL);
        k = snprintf(buf, n, "%s-%s", name, suffix);
        if (k < 0)
                return -EINVAL;
        if ((size_t) k >= n || (size_t) k > NAME_MAX_LEN)
                return -E2BIG;
        return 0;
}

int mysql_password_secret_name(char *buf, size_t n, const char *name) {
        return secret_name(buf, n, name, "password");
}

int mysql_replication_secret_name(char *buf, size_t n, const char *name) {
        return secret_name(buf, n, name, "replication");
}

int mysql_monitor_secret_name(char *buf, size_t n, const char *name) {
        return secret_name(buf, n, name, "monitor");
}

void mysql_ha_spec_release(MysqlHaSpec *s) {
        if (!s)
                return;
        s->version = mfree(s->version);
        s->flavor = mfree(s->flavor);
        s->image = mfree(s->image);
        s->plan = mfree(s->plan);
        s->proxy_type = mfree(s->proxy_type);
        s->proxy_image = mfree(s->proxy_image);
        s->bind = mfree(s->bind);
        s->initial_db_name = mfree(s->initial_db_name);
        s->initial_user = mfree(s->initial_user);
        s->password_secret = mfree(s->password_secret);
        s->allow_services = strv_free(s->allow_services);
        s->allow_cidrs = strv_free(s->allow_cidrs);
}

static int bad(Error *e, const char *field, const char *what) {
        return err_setr(e, -EINVAL, "INVALID_SPEC", field, "%s: stored spec is damaged (%s)", field,
                        what);
}

static const cJSON *member(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsNull(v) ? NULL : v;
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

static int get_int(const cJSON *o, const char *key, const char *field, int def, int min, int max,
                   int *ret, Error *e) {
        const cJSON *v = member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max)
                return bad(e, field, "not an integer in range");
        *ret = (int) v->valuedouble;
        return 0;
}

static int get_bool(const cJSON *o, const char *key, const char *field, bool def, bool *ret,
                    Error *e) {
        const cJSON *v = member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsBool(v))
                return bad(e, field, "not a boolean");
        *ret = cJSON_IsTrue(v);
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

static const cJSON *get_map(const cJSON *o, const char *key, const char *field, int *ret_r,
                            Error *e) {
        const cJSON *v = member(o, key);

        *ret_r = 0;
        if (v && !cJSON_IsObject(v)) {
                *ret_r = bad(e, field, "not a map");
                return NULL;
        }
        return v;
}

static int get_resources(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *res, *storage, *v;
        int r;

        res = get_map(spec, "resources", "spec.resources", &r, e);
        if (r < 0)
                return r;
        v = member(res, "cpu");
        if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
                return bad(e, "spec.resources.cpu", "not a number");
        s->cpu = v ? v->valuedouble : 0;
        v = member(res, "memory");
        if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
                return bad(e, "spec.resources.memory", "not a number");
        s->memory = v ? (int64_t) v->valuedouble : 0;
        storage = get_map(spec, "storage", "spec.storage", &r, e);
        if (r < 0)
                return r;
        v = member(storage, "size");
        if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
                return bad(e, "spec.storage.size", "not a number");
        s->storage_size = v ? (int64_t) v->valuedouble : 0;
        return 0;
}

static int get_topology(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *t;
        int r;

        t = get_map(spec, "topology", "spec.topology", &r, e);
        if (r < 0)
                return r;
        r = get_int(t, "replicas", "spec.topology.replicas", MYSQL_DEFAULT_REPLICAS, 0,
                    MYSQL_MAX_REPLICAS, &s->replicas, e);
        if (r >= 0)
                r = get_bool(t, "semi_sync", "spec.topology.semi_sync", s->replicas > 0,
                             &s->semi_sync, e);
        if (r >= 0)
                r = get_duration(t, "max_replication_lag", "spec.topology.max_replication_lag",
                                 30 * USEC_PER_SEC, &s->max_lag, e);
        return r;
}

static int get_proxy(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *p;
        int r;

        p = get_map(spec, "proxy", "spec.proxy", &r, e);
        if (r < 0)
                return r;
        r = get_string(p, "type", "spec.proxy.type", "haproxy", &s->proxy_type, e);
        if (r >= 0)
                r = get_string(p, "image", "spec.proxy.image", MYSQL_DEFAULT_PROXY_IMAGE,
                               &s->proxy_image, e);
        if (r >= 0)
                r = get_int(p, "write_port", "spec.proxy.write_port", MYSQL_DEFAULT_WRITE_PORT, 1,
                            65535, &s->write_port, e);
        if (r >= 0)
                r = get_int(p, "read_port", "spec.proxy.read_port", MYSQL_DEFAULT_READ_PORT, 1,
                            65535, &s->read_port, e);
        if (r >= 0)
                r = get_string(p, "bind", "spec.proxy.bind", "127.0.0.1", &s->bind, e);
        return r;
}

static int get_failover(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *f;
        int r;

        f = get_map(spec, "failover", "spec.failover", &r, e);
        if (r < 0)
                return r;
        r = get_bool(f, "automatic", "spec.failover.automatic", true, &s->failover_automatic, e);
        if (r >= 0)
                r = get_int(f, "detection_probes", "spec.failover.detection_probes", 3, 1, 1000,
                            &s->detection_probes, e);
        if (r >= 0)
                r = get_duration(f, "probe_interval", "spec.failover.probe_interval", USEC_PER_SEC,
                                 &s->probe_interval, e);
        if (r >= 0)
                r = get_duration(f, "min_interval", "spec.failover.min_interval",
                                 600 * USEC_PER_SEC, &s->min_interval, e);
        return r;
}

static int get_password(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *pw;
        int r;

        pw = get_map(spec, "password", "spec.password", &r, e);
        if (r < 0)
                return r;
        if (!pw)
                return bad(e, "spec.password", "missing");
        r = get_string(pw, "secret", "spec.password.secret", NULL, &s->password_secret, e);
        if (r < 0)
                return r;
        if (!s->password_secret)
                return bad(e, "spec.password.secret", "missing");
        return get_bool(pw, "generated", "spec.password.generated", false, &s->password_generated,
                        e);
}

static int get_allow(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *allow = member(spec, "allow"), *it;
        int r;

        if (!allow)
                return 0;
        if (!cJSON_IsArray(allow))
                return bad(e, "spec.allow", "not a list");
        cJSON_ArrayForEach(it, allow) {
                if (!cJSON_IsString(it))
                        return bad(e, "spec.allow", "item not a string");
                if (strchr(it->valuestring, '/'))
                        r = strv_push(&s->allow_cidrs, it->valuestring);
                else
                        r = strv_push(&s->allow_services, it->valuestring);
                if (r < 0)
                        return r;
        }
        return 0;
}

int mysql_ha_spec_from_json(const cJSON *spec, MysqlHaSpec *ret, Error *reterr) {
        _cleanup_(mysql_ha_spec_release) MysqlHaSpec s = {0};
        char def_image[64];
        int r;

        assert_return(ret, -EINVAL);
        if (!cJSON_IsObject(spec))
                return bad(reterr, "spec", "not a map");

        r = get_string(spec, "version", "spec.version", MYSQL_DEFAULT_VERSION, &s.version, reterr);
        if (r < 0)
                return r;
        (void) snprintf(def_image, sizeof(def_image), "berth/mariadb:%s", s.version);
        r = get_string(spec, "flavor", "spec.flavor", "mariadb", &s.flavor, reterr);
        if (r >= 0)
                r = get_string(spec, "image", "spec.image", def_image, &s.image, reterr);
        if (r >= 0)
                r = get_string(spec, "plan", "spec.plan", NULL, &s.plan, reterr);
        if (r >= 0)
                r = get_resources(spec, &s, reterr);
        if (r >= 0)
                r = get_topology(spec, &s, reterr);
        if (r >= 0)
                r = get_proxy(spec, &s, reterr);
        if (r >= 0)
                r = get_failover(spec, &s, reterr);
        if (r >= 0)
                r = get_string(spec, "initial_db_name", "spec.initial_db_name", NULL,
                               &s.initial_db_name, reterr);
        if (r >= 0 && !s.initial_db_name)
                r = bad(reterr, "spec.initial_db_name", "missing");
        if (r >= 0)
                r = get_string(spec, "initial_user", "spec.initial_user", "app", &s.initial_user,
                               reterr);
        if (r >= 0)
                r = get_password(spec, &s, reterr);
        if (r >= 0)
                r = get_allow(spec, &s, reterr);
        if (r >= 0)
                r = get_bool(spec, "paused", "spec.paused", false, &s.paused, reterr);
        if (r < 0)
                return r;
        *ret = s;
        s = (MysqlHaSpec){0};
        return 0;
}
