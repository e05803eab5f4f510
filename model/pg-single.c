/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/spec-read.h"
#include "model/json-util.h"
#include "model/pg-parameters.h"
#include "model/pg-single.h"
#include "model/resource.h"

/* Reads a normalised pg_single spec (validate-pg-single.c wrote it, the store kept it).
 * Validation already refused anything out of range; this only checks types, so a damaged row
 * is an error and not a crash. Absent members take the validator's defaults. */

#define PASSWORD_SUFFIX "-password"

int pg_password_secret_name(char *buf, size_t n, const char *name) {
        int k;

        assert_return(buf && name, -EINVAL);
        k = snprintf(buf, n, "%s%s", name, PASSWORD_SUFFIX);
        if (k < 0)
                return -EINVAL;
        /* The secret's name must be a name as well (a DNS label of at most 40 characters). */
        if ((size_t) k >= n || (size_t) k > NAME_MAX_LEN)
                return -E2BIG;
        return 0;
}

void pg_single_spec_release(PgSingleSpec *s) {
        if (!s)
                return;
        s->version = mfree(s->version);
        s->image = mfree(s->image);
        s->plan = mfree(s->plan);
        s->initial_db_name = mfree(s->initial_db_name);
        s->initial_user = mfree(s->initial_user);
        s->password_secret = mfree(s->password_secret);
        for (size_t i = 0; i < s->n_parameters; i++) {
                s->parameters[i].name = mfree(s->parameters[i].name);
                s->parameters[i].value = mfree(s->parameters[i].value);
        }
        s->parameters = mfree(s->parameters);
        s->n_parameters = 0;
        s->allow_services = strv_free(s->allow_services);
        s->allow_cidrs = strv_free(s->allow_cidrs);
        s->expose_bind = mfree(s->expose_bind);
        s->backup.schedule = mfree(s->backup.schedule);
        s->maintenance.window = mfree(s->maintenance.window);
        s->maintenance.vacuum_analyze = mfree(s->maintenance.vacuum_analyze);
        s->restore_from = mfree(s->restore_from);
        s->backup.s3_bucket = mfree(s->backup.s3_bucket);
        s->backup.s3_endpoint = mfree(s->backup.s3_endpoint);
        s->backup.s3_region = mfree(s->backup.s3_region);
        s->backup.s3_path = mfree(s->backup.s3_path);
        s->backup.s3_uri_style = mfree(s->backup.s3_uri_style);
        s->backup.s3_access_key_secret = mfree(s->backup.s3_access_key_secret);
        s->backup.s3_secret_key_secret = mfree(s->backup.s3_secret_key_secret);
        pg_action_release(&s->restore_target);
}

static int get_int64(const cJSON *o, const char *key, const char *field, int64_t def, int64_t *ret,
                     Error *e) {
        const cJSON *v = spec_member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9e15)
                return spec_damaged(e, field, "not a non-negative integer");
        *ret = (int64_t) v->valuedouble;
        return 0;
}

static int get_int(const cJSON *o, const char *key, const char *field, int def, int *ret,
                   Error *e) {
        int64_t v;
        int r;

        r = get_int64(o, key, field, def, &v, e);
        if (r < 0)
                return r;
        if (v > INT32_MAX)
                return spec_damaged(e, field, "out of range");
        *ret = (int) v;
        return 0;
}

static int parameter_cmp(const void *a, const void *b) {
        return strcmp(((const PgParameter *) a)->name, ((const PgParameter *) b)->name);
}

static int get_parameters(const cJSON *spec, PgSingleSpec *s, Error *e) {
        const cJSON *params, *it;
        size_t n;
        int r;

        params = spec_get_map(spec, "parameters", "spec.parameters", &r, e);
        if (r < 0 || !params)
                return r;
        n = (size_t) cJSON_GetArraySize(params);
        if (n == 0)
                return 0;
        s->parameters = b_calloc(n, sizeof(*s->parameters));
        if (!s->parameters)
                return -ENOMEM;
        cJSON_ArrayForEach(it, params) {
                PgParameter *p = &s->parameters[s->n_parameters];
                const PgParamInfo *info;

                if (!cJSON_IsString(it) || !it->string)
                        return spec_damaged(e, "spec.parameters", "value not a string");
                p->name = b_strdup(it->string);
                p->value = b_strdup(it->valuestring);
                s->n_parameters++;
                if (!p->name || !p->value)
                        return -ENOMEM;
                /* A parameter this build does not know (a newer table wrote it) restarts: the
                 * safe guess. */
                info = pg_parameter_find(p->name);
                p->restart = !info || streq(info->context, "postmaster");
        }
        /* Normalised specs are sorted already; sort anyway so the order never depends on it. */
        qsort(s->parameters, s->n_parameters, sizeof(*s->parameters), parameter_cmp);
        return 0;
}

static int get_allow(const cJSON *spec, PgSingleSpec *s, Error *e) {
        const cJSON *allow = spec_member(spec, "allow"), *it;
        int r;

        if (!allow)
                return 0;
        if (!cJSON_IsArray(allow))
                return spec_damaged(e, "spec.allow", "not a list");
        cJSON_ArrayForEach(it, allow) {
                if (!cJSON_IsString(it))
                        return spec_damaged(e, "spec.allow", "item not a string");
                /* Validation wrote networks as a.b.c.d/n or IPv6/n, services as DNS labels. */
                if (strchr(it->valuestring, '/'))
                        r = strv_push(&s->allow_cidrs, it->valuestring);
                else
                        r = strv_push(&s->allow_services, it->valuestring);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int get_password(const cJSON *spec, PgSingleSpec *s, Error *e) {
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

static int get_resources(const cJSON *spec, PgSingleSpec *s, Error *e) {
        const cJSON *res, *storage, *v;
        int r;

        res = spec_get_map(spec, "resources", "spec.resources", &r, e);
        if (r < 0)
                return r;
        v = spec_member(res, "cpu");
        if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
                return spec_damaged(e, "spec.resources.cpu", "not a number");
        s->cpu = v ? v->valuedouble : 0;
        r = get_int64(res, "memory", "spec.resources.memory", 0, &s->memory, e);
        if (r < 0)
                return r;
        storage = spec_get_map(spec, "storage", "spec.storage", &r, e);
        if (r < 0)
                return r;
        return get_int64(storage, "size", "spec.storage.size", 0, &s->storage_size, e);
}

static int get_expose(const cJSON *spec, PgSingleSpec *s, Error *e) {
        const cJSON *ex;
        int r;

        ex = spec_get_map(spec, "expose", "spec.expose", &r, e);
        if (r < 0 || !ex)
                return r;
        r = get_int(ex, "host_port", "spec.expose.host_port", 0, &s->expose_port, e);
        if (r >= 0 && (s->expose_port < 1 || s->expose_port > 65535))
                r = spec_damaged(e, "spec.expose.host_port", "not a port");
        if (r >= 0)
                r = spec_get_string(ex, "bind", "spec.expose.bind", "127.0.0.1", &s->expose_bind,
                                    e);
        return r;
}

static int get_lag(const cJSON *spec, PgSingleSpec *s, Error *e) {
        const cJSON *lag;
        int64_t seconds;
        int r;

        lag = spec_get_map(spec, "max_replication_lag", "spec.max_replication_lag", &r, e);
        if (r < 0)
                return r;
        if (!lag) {
                s->max_lag_seconds = 30 * USEC_PER_SEC;
                return 0;
        }
        r = get_int64(lag, "bytes", "spec.max_replication_lag.bytes", 0, &s->max_lag_bytes, e);
        if (r >= 0)
                r = get_int64(lag, "seconds", "spec.max_replication_lag.seconds", 0, &seconds, e);
        if (r < 0)
                return r;
        if (seconds > 86400)
                return spec_damaged(e, "spec.max_replication_lag.seconds", "out of range");
        s->max_lag_seconds = (usec_t) seconds * USEC_PER_SEC;
        return 0;
}

static int get_s3(const cJSON *backup, PgBackupSpec *b, Error *e) {
        const cJSON *repo = spec_member(backup, "repository");
        int r;

        if (!repo || !spec_member(repo, "bucket"))
                return 0;
        r = spec_get_string(repo, "bucket", "spec.backup.repository.bucket", NULL, &b->s3_bucket,
                            e);
        if (r >= 0)
                r = spec_get_string(repo, "endpoint", "spec.backup.repository.endpoint", NULL,
                                    &b->s3_endpoint, e);
        if (r >= 0)
                r = spec_get_string(repo, "region", "spec.backup.repository.region", "us-east-1",
                                    &b->s3_region, e);
        if (r >= 0)
                r = spec_get_string(repo, "path", "spec.backup.repository.path", "/pgbackrest",
                                    &b->s3_path, e);
        if (r >= 0)
                r = spec_get_string(repo, "uri_style", "spec.backup.repository.uri_style", "path",
                                    &b->s3_uri_style, e);
        if (r >= 0)
                r = spec_get_bool(repo, "verify_tls", "spec.backup.repository.verify_tls", true,
                                  &b->s3_verify_tls, e);
        if (r >= 0)
                r = spec_get_string(spec_member(repo, "access_key"), "secret",
                                    "spec.backup.repository.access_key", NULL,
                                    &b->s3_access_key_secret, e);
        if (r >= 0)
                r = spec_get_string(spec_member(repo, "secret_key"), "secret",
                                    "spec.backup.repository.secret_key", NULL,
                                    &b->s3_secret_key_secret, e);
        return r;
}

static int get_backup(const cJSON *spec, PgSingleSpec *s, Error *e) {
        const cJSON *b;
        int r;

        b = spec_get_map(spec, "backup", "spec.backup", &r, e);
        if (r < 0)
                return r;
        r = spec_get_bool(b, "enabled", "spec.backup.enabled", false, &s->backup.enabled, e);
        if (r >= 0)
                r = spec_get_string(b, "schedule", "spec.backup.schedule", "daily",
                                    &s->backup.schedule, e);
        if (r >= 0)
                r = get_int(b, "retention_days", "spec.backup.retention_days",
                            PG_DEFAULT_RETENTION_DAYS, &s->backup.retention_days, e);
        if (r >= 0)
                r = spec_get_bool(b, "pitr", "spec.backup.pitr", false, &s->backup.pitr, e);
        if (r >= 0)
                r = get_s3(b, &s->backup, e);
        return r;
}

static int get_restore_from(const cJSON *spec, PgSingleSpec *s, Error *e) {
        _cleanup_json_ cJSON *target = NULL;
        const cJSON *m;
        int r;

        m = spec_get_map(spec, "restore_from", "spec.restore_from", &r, e);
        if (!m)
                return r;
        r = spec_get_string(m, "name", "spec.restore_from.name", NULL, &s->restore_from, e);
        if (r < 0)
                return r;
        target = cJSON_Duplicate(m, true);
        if (!target)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(target, "name");
        return pg_action_from_json("restore", target, &s->restore_target, e);
}

static int get_maintenance(const cJSON *spec, PgSingleSpec *s, Error *e) {
        const cJSON *m;
        int r;

        m = spec_get_map(spec, "maintenance", "spec.maintenance", &r, e);
        if (r < 0 || !m)
                return r;
        r = spec_get_string(m, "window", "spec.maintenance.window", NULL, &s->maintenance.window,
                            e);
        if (r >= 0)
                r = spec_get_string(m, "vacuum_analyze", "spec.maintenance.vacuum_analyze", NULL,
                                    &s->maintenance.vacuum_analyze, e);
        return r;
}

int pg_single_spec_from_json(const cJSON *spec, PgSingleSpec *ret, Error *reterr) {
        _cleanup_(pg_single_spec_release) PgSingleSpec s = {0};
        char def_image[64];
        int r;

        assert_return(ret, -EINVAL);
        if (!cJSON_IsObject(spec))
                return spec_damaged(reterr, "spec", "not a map");

        r = spec_get_string(spec, "version", "spec.version", PG_DEFAULT_VERSION, &s.version,
                            reterr);
        if (r < 0)
                return r;
        (void) snprintf(def_image, sizeof(def_image), "berth/postgres:%s", s.version);
        r = spec_get_string(spec, "image", "spec.image", def_image, &s.image, reterr);
        if (r >= 0)
                r = spec_get_string(spec, "plan", "spec.plan", NULL, &s.plan, reterr);
        if (r >= 0)
                r = get_resources(spec, &s, reterr);
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
                r = get_parameters(spec, &s, reterr);
        if (r >= 0)
                r = get_allow(spec, &s, reterr);
        if (r >= 0)
                r = spec_get_bool(spec, "allow_public", "spec.allow_public", false, &s.allow_public,
                                  reterr);
        if (r >= 0)
                r = get_expose(spec, &s, reterr);
        if (r >= 0)
                r = get_int(spec, "read_replicas", "spec.read_replicas", 0, &s.read_replicas,
                            reterr);
        if (r >= 0 && s.read_replicas > PG_MAX_READ_REPLICAS)
                r = spec_damaged(reterr, "spec.read_replicas", "out of range");
        if (r >= 0)
                r = get_lag(spec, &s, reterr);
        if (r >= 0)
                r = get_backup(spec, &s, reterr);
        if (r >= 0)
                r = get_maintenance(spec, &s, reterr);
        if (r >= 0)
                r = spec_get_bool(spec, "paused", "spec.paused", false, &s.paused, reterr);
        if (r >= 0)
                r = get_restore_from(spec, &s, reterr);
        if (r < 0)
                return r;
        *ret = s;
        s = (PgSingleSpec){0};
        return 0;
}
