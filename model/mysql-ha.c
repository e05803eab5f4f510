/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/spec-read.h"
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

static int get_resources(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *res, *storage, *v;
        int r;

        res = spec_get_map(spec, "resources", "spec.resources", &r, e);
        if (r < 0)
                return r;
        v = spec_member(res, "cpu");
        if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
                return spec_damaged(e, "spec.resources.cpu", "not a number");
        s->cpu = v ? v->valuedouble : 0;
        v = spec_member(res, "memory");
        if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
                return spec_damaged(e, "spec.resources.memory", "not a number");
        s->memory = v ? (int64_t) v->valuedouble : 0;
        storage = spec_get_map(spec, "storage", "spec.storage", &r, e);
        if (r < 0)
                return r;
        v = spec_member(storage, "size");
        if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
                return spec_damaged(e, "spec.storage.size", "not a number");
        s->storage_size = v ? (int64_t) v->valuedouble : 0;
        return 0;
}

static int get_topology(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *t;
        int r;

        t = spec_get_map(spec, "topology", "spec.topology", &r, e);
        if (r < 0)
                return r;
        r = spec_get_int_range(t, "replicas", "spec.topology.replicas", MYSQL_DEFAULT_REPLICAS, 0,
                               MYSQL_MAX_REPLICAS, &s->replicas, e);
        if (r >= 0)
                r = spec_get_bool(t, "semi_sync", "spec.topology.semi_sync", s->replicas > 0,
                                  &s->semi_sync, e);
        if (r >= 0)
                r = spec_get_duration(t, "max_replication_lag", "spec.topology.max_replication_lag",
                                      30 * USEC_PER_SEC, &s->max_lag, e);
        return r;
}

static int get_proxy(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *p;
        int r;

        p = spec_get_map(spec, "proxy", "spec.proxy", &r, e);
        if (r < 0)
                return r;
        r = spec_get_string(p, "type", "spec.proxy.type", "haproxy", &s->proxy_type, e);
        if (r >= 0)
                r = spec_get_string(p, "image", "spec.proxy.image", MYSQL_DEFAULT_PROXY_IMAGE,
                                    &s->proxy_image, e);
        if (r >= 0)
                r = spec_get_int_range(p, "write_port", "spec.proxy.write_port",
                                       MYSQL_DEFAULT_WRITE_PORT, 1, 65535, &s->write_port, e);
        if (r >= 0)
                r = spec_get_int_range(p, "read_port", "spec.proxy.read_port",
                                       MYSQL_DEFAULT_READ_PORT, 1, 65535, &s->read_port, e);
        if (r >= 0)
                r = spec_get_string(p, "bind", "spec.proxy.bind", "127.0.0.1", &s->bind, e);
        return r;
}

static int get_failover(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *f;
        int r;

        f = spec_get_map(spec, "failover", "spec.failover", &r, e);
        if (r < 0)
                return r;
        r = spec_get_bool(f, "automatic", "spec.failover.automatic", true, &s->failover_automatic,
                          e);
        if (r >= 0)
                r = spec_get_int_range(f, "detection_probes", "spec.failover.detection_probes", 3,
                                       1, 1000, &s->detection_probes, e);
        if (r >= 0)
                r = spec_get_duration(f, "probe_interval", "spec.failover.probe_interval",
                                      USEC_PER_SEC, &s->probe_interval, e);
        if (r >= 0)
                r = spec_get_duration(f, "min_interval", "spec.failover.min_interval",
                                      600 * USEC_PER_SEC, &s->min_interval, e);
        return r;
}

static int get_password(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *pw;
        int r;

        pw = spec_get_map(spec, "password", "spec.password", &r, e);
        if (r < 0)
                return r;
        if (!pw)
                return spec_damaged(e, "spec.password", "missing");
        r = spec_get_string(pw, "secret", "spec.password.secret", NULL, &s->password_secret, e);
        if (r < 0)
                return r;
        if (!s->password_secret)
                return spec_damaged(e, "spec.password.secret", "missing");
        return spec_get_bool(pw, "generated", "spec.password.generated", false,
                             &s->password_generated, e);
}

static int get_allow(const cJSON *spec, MysqlHaSpec *s, Error *e) {
        const cJSON *allow = spec_member(spec, "allow"), *it;
        int r;

        if (!allow)
                return 0;
        if (!cJSON_IsArray(allow))
                return spec_damaged(e, "spec.allow", "not a list");
        cJSON_ArrayForEach(it, allow) {
                if (!cJSON_IsString(it))
                        return spec_damaged(e, "spec.allow", "item not a string");
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
                return spec_damaged(reterr, "spec", "not a map");

        r = spec_get_string(spec, "version", "spec.version", MYSQL_DEFAULT_VERSION, &s.version,
                            reterr);
        if (r < 0)
                return r;
        (void) snprintf(def_image, sizeof(def_image), "berth/mariadb:%s", s.version);
        r = spec_get_string(spec, "flavor", "spec.flavor", "mariadb", &s.flavor, reterr);
        if (r >= 0)
                r = spec_get_string(spec, "image", "spec.image", def_image, &s.image, reterr);
        if (r >= 0)
                r = spec_get_string(spec, "plan", "spec.plan", NULL, &s.plan, reterr);
        if (r >= 0)
                r = get_resources(spec, &s, reterr);
        if (r >= 0)
                r = get_topology(spec, &s, reterr);
        if (r >= 0)
                r = get_proxy(spec, &s, reterr);
        if (r >= 0)
                r = get_failover(spec, &s, reterr);
        if (r >= 0)
                r = spec_get_string(spec, "initial_db_name", "spec.initial_db_name", NULL,
                                    &s.initial_db_name, reterr);
        if (r >= 0 && !s.initial_db_name)
                r = spec_damaged(reterr, "spec.initial_db_name", "missing");
        if (r >= 0)
                r = spec_get_string(spec, "initial_user", "spec.initial_user", "app",
                                    &s.initial_user, reterr);
        if (r >= 0)
                r = get_password(spec, &s, reterr);
        if (r >= 0)
                r = get_allow(spec, &s, reterr);
        if (r >= 0)
                r = spec_get_bool(spec, "paused", "spec.paused", false, &s.paused, reterr);
        if (r < 0)
                return r;
        *ret = s;
        s = (MysqlHaSpec){0};
        return 0;
}
