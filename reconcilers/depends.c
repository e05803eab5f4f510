/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "reconcilers/depends.h"
#include "store/secrets.h"
#include "store/store.h"

int depends_secret_versions(Store *store, const char *project, const ServiceSecret *secrets,
                            size_t n, int64_t **ret, Error *reterr) {
        _cleanup_free_ int64_t *v = NULL;

        assert_return(ret, -EINVAL);
        *ret = NULL;
        if (n == 0)
                return 0;
        if (!store)
                return err_set(reterr, -ENXIO, "spec.secrets", "no secret store to read from");
        v = b_calloc(n, sizeof(int64_t));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = store_secret_get_version(store, project, secrets[i].secret, &v[i], reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        v[i] = SECRET_MISSING;
                } else if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static const char *spec_str(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsString(v) ? v->valuestring : "";
}

/* What a container needs to reach a pg_single: its network, user, database and the secret of the
 * password (by version, so a new password rolls a service). */
static int observe_database(Store *store, const StoredResource *row, ObservedDependency *d,
                            Error *reterr) {
        const cJSON *pw = cJSON_GetObjectItemCaseSensitive(row->spec, "password");
        int r;

        d->database = true;
        d->port = 5432;
        d->http = false;
        r = name_resource_network(d->network, sizeof(d->network), row->ref.project, row->ref.name);
        if (r < 0)
                return err_set(reterr, r, "spec.depends_on", "network name too long");
        snprintf(d->user, sizeof(d->user), "%s", spec_str(row->spec, "initial_user"));
        snprintf(d->dbname, sizeof(d->dbname), "%s", spec_str(row->spec, "initial_db_name"));
        snprintf(d->secret, sizeof(d->secret), "%s", spec_str(pw, "secret"));
        r = store_secret_get_version(store, row->ref.project, d->secret, &d->secret_version,
                                     reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                d->secret_version = SECRET_MISSING;
                return 0;
        }
        return r;
}

/* Each dependency as the store has it: its phase, and the port its first container listens on. */
int depends_observe(Store *store, const char *project, const ServiceDependency *deps, size_t n,
                    ObservedDependency **ret, Error *reterr) {
        _cleanup_free_ ObservedDependency *o = NULL;

        assert_return(ret, -EINVAL);
        *ret = NULL;
        if (n == 0)
                return 0;
        if (!store)
                return err_set(reterr, -ENXIO, "spec.depends_on", "no state store to read from");
        o = b_calloc(n, sizeof(ObservedDependency));
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(stored_resource_release) StoredResource row = {0};
                ObservedDependency *d = &o[i];
                const cJSON *ports, *type;
                int r;

                r = store_resource_get(store, kind_from_string(deps[i].kind), project, deps[i].name,
                                       &row, reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        continue;
                }
                if (r < 0)
                        return r;
                d->exists = !row.ref.deleting;
                d->running = d->exists && row.phase == PHASE_RUNNING;
                snprintf(d->phase, sizeof(d->phase), "%s", phase_to_string(row.phase));
                ports = cJSON_GetObjectItemCaseSensitive(row.spec, "ports");
                if (cJSON_GetArraySize(ports) > 0) {
                        const cJSON *cp = cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetArrayItem(ports, 0), "container_port");
                        d->port = cJSON_IsNumber(cp) ? cp->valueint : 0;
                }
                type = cJSON_GetObjectItemCaseSensitive(row.spec, "type");
                d->http = cJSON_IsString(type) && streq(type->valuestring, "web");
                if (row.ref.kind == KIND_PG_SINGLE) {
                        r = observe_database(store, &row, d, reterr);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(o);
        return 0;
}
