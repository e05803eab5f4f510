/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/pg-parameters.h"
#include "model/pg-action.h"
#include "model/pg-single.h"
#include "model/resource.h"
#include "model/schedule.h"
#include "model/units.h"
#include "model/validate-pg-common.h"
#include "model/validate-util.h"

/* pg_single: validation and normalisation, in the manner of validate-service.c; the fields it
 * shares with pg_cluster are checked by validate-pg-common.c. The output is a
 * new object with every default filled in and keys in one fixed order (the order of the v_*
 * calls in pg_single_spec_validate()); normalised output validates again to itself. */

#define SCHEDULE_MAX 128
#define WINDOW_MAX   64

static const char *const spec_fields[] = {
        "version",
        "image",
        "plan",
        "resources",
        "storage",
        "initial_db_name",
        "initial_user",
        "password",
        "parameters",
        "allow",
        "allow_public",
        "expose",
        "read_replicas",
        "max_replication_lag",
        "backup",
        "maintenance",
        "paused",
        "restore_from",
        NULL,
};
/* pg_cluster's own fields: refused by name, pointing at the kind that has them. */
static const char *const cluster_fields[] = {"topology", "ha", "endpoints", NULL};

static const PgvPlan plans[] = {
        {"dev_single", 0.5, (int64_t) 512 << 20, (int64_t) 5 << 30},
        {"small_single", 1.0, (int64_t) 2 << 30, (int64_t) 20 << 30},
        {"medium_single", 2.0, (int64_t) 4 << 30, (int64_t) 50 << 30},
};

static int add_string(cJSON *o, const char *key, const char *s) {
        return json_add_item_take(o, key, cJSON_CreateString(s));
}

static int add_number(cJSON *o, const char *key, double v) {
        return json_add_item_take(o, key, cJSON_CreateNumber(v));
}

static int v_expose(const cJSON *spec, bool allow_public, cJSON *out, Error *e) {
        static const char *const known[] = {"host_port", "bind", NULL};
        const cJSON *v = spec_member(spec, "expose"), *f;
        char bind[INET6_ADDRSTRLEN + 1] = PGV_DEFAULT_BIND;
        int64_t port;
        cJSON *o;
        int r;

        if (!v)
                return 0;
        r = check_map(v, "spec.expose", known, NULL, NULL, e);
        if (r < 0)
                return r;
        f = spec_member(v, "host_port");
        if (!f)
                return verr(e, -EINVAL, R_REQUIRED, "spec.expose.host_port",
                            "is required (the port to publish on the host)");
        r = want_int(f, "spec.expose.host_port", 1, 65535, &port, e);
        if (r < 0)
                return r;
        f = spec_member(v, "bind");
        if (f) {
                r = pgv_bind(f, "spec.expose.bind", allow_public, bind, sizeof(bind), e);
                if (r < 0)
                        return r;
        }
        o = cJSON_AddObjectToObject(out, "expose");
        if (!o)
                return -ENOMEM;
        r = add_number(o, "host_port", (double) port);
        if (r >= 0)
                r = add_string(o, "bind", bind);
        return r;
}

/* ---- replicas ------------------------------------------------------------------------------ */

static int v_read_replicas(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "read_replicas");
        int64_t n = 0;
        int r;

        if (v) {
                r = want_int(v, "spec.read_replicas", 0, PG_MAX_READ_REPLICAS, &n, e);
                if (r < 0)
                        return r;
        }
        return add_number(out, "read_replicas", (double) n);
}

static int v_maintenance(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"window", "vacuum_analyze", NULL};
        const cJSON *v = spec_member(spec, "maintenance"), *f;
        _cleanup_json_ cJSON *o = NULL;
        int r;

        if (!v)
                return 0;
        r = check_map(v, "spec.maintenance", known, NULL, NULL, e);
        if (r < 0)
                return r;
        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        f = spec_member(v, "window");
        if (f) {
                MaintenanceWindow w;
                Error we = ERROR_INIT;
                char buf[32];
                const char *s;

                r = want_string(f, "spec.maintenance.window", WINDOW_MAX, &s, e);
                if (r < 0)
                        return r;
                r = window_parse(s, &w, &we);
                if (r < 0)
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.maintenance.window",
                                    "\"%s\": %s", s, we.msg);
                r = add_string(o, "window", window_format(&w, buf, sizeof(buf)));
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "vacuum_analyze");
        if (f) {
                char schedule[SCHEDULE_MAX + 1];

                r = pgv_schedule(f, "spec.maintenance.vacuum_analyze", schedule, sizeof(schedule),
                                 e);
                if (r >= 0)
                        r = add_string(o, "vacuum_analyze", schedule);
                if (r < 0)
                        return r;
        }
        if (cJSON_GetArraySize(o) == 0)
                return 0;
        return json_add_item_take(out, "maintenance", TAKE_PTR(o));
}

/* restore_from: {name, backup | time}: another pg_single of the project whose backups this one
 * starts from (what the clone action writes). The target is checked as a restore's. */
static int v_restore_from(const cJSON *spec, const char *self, cJSON *out, Error *e) {
        static const char *const known[] = {"name", "backup", "time", NULL};
        const cJSON *v = spec_member(spec, "restore_from"), *f;
        _cleanup_json_ cJSON *o = NULL, *target = NULL, *norm = NULL;
        const char *name;
        Error te = ERROR_INIT;
        int r;

        if (!v)
                return 0;
        r = check_map(v, "spec.restore_from", known, NULL, NULL, e);
        if (r < 0)
                return r;
        f = spec_member(v, "name");
        if (!f)
                return verr(e, -EINVAL, R_REQUIRED, "spec.restore_from.name",
                            "is required: the pg_single whose backups this one starts from");
        r = want_string(f, "spec.restore_from.name", NAME_MAX_LEN, &name, e);
        if (r < 0)
                return r;
        if (!name_is_valid(name))
                return verr(e, -EINVAL, R_INVALID_NAME, "spec.restore_from.name",
                            "\"%s\" is not a valid resource name", name);
        if (streq(name, self))
                return verr(e, -EINVAL, R_INVALID_VALUE, "spec.restore_from.name",
                            "a database cannot start from its own backups (use the restore "
                            "action)");
        target = cJSON_Duplicate(v, true);
        if (!target)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(target, "name");
        r = pg_action_normalise("restore", target, &norm, &te);
        if (r < 0) {
                /* "params.time" → "spec.restore_from.time". */
                const char *key = strchr(te.field, '.'), *msg = te.msg;
                size_t n = strlen(te.field);

                if (n > 0 && strneq(msg, te.field, n) && msg[n] == ':')
                        msg += n + 1 + (msg[n + 1] == ' ');
                return verr(e, r, te.reason[0] ? te.reason : R_INVALID_VALUE,
                            path_key("spec.restore_from", key ? key + 1 : "").s, "%s", msg);
        }
        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        r = add_string(o, "name", name);
        for (const cJSON *m = norm ? norm->child : NULL; r >= 0 && m; m = m->next)
                r = json_add_item_take(o, m->string, cJSON_Duplicate(m, true));
        if (r < 0)
                return r;
        return json_add_item_take(out, "restore_from", TAKE_PTR(o));
}

int pg_single_spec_validate(const cJSON *spec, const char *name, cJSON **ret, Error *reterr) {
        _cleanup_json_ cJSON *out = NULL;
        const char *version = PG_DEFAULT_VERSION;
        int64_t storage = PGV_DEFAULT_STORAGE;
        bool allow_public = false;
        int r;

        assert_return(ret, -EINVAL);
        assert_return(name_is_valid(name), -EINVAL);
        if (!spec)
                return verr(reterr, -EINVAL, R_REQUIRED, "spec", "is required");
        r = want_map(spec, "spec", reterr);
        if (r < 0)
                return r;
        for (const char *const *c = cluster_fields; *c; c++)
                if (cJSON_GetObjectItemCaseSensitive(spec, *c))
                        return verr(reterr, -EOPNOTSUPP, R_NOT_SUPPORTED, path_key("spec", *c).s,
                                    "is a pg_cluster field (a pg_single is one primary with at "
                                    "most %d read replicas): use kind pg_cluster",
                                    PG_MAX_READ_REPLICAS);
        r = check_map(spec, "spec", spec_fields, NULL, NULL, reterr);
        if (r < 0)
                return r;
        /* allow and expose depend on it: read it first, emit it after allow. */
        r = pgv_optional_bool(spec, "allow_public", "spec.allow_public", false, &allow_public,
                              reterr);
        if (r < 0)
                return r;
        out = cJSON_CreateObject();
        if (!out)
                return -ENOMEM;

        /* Fixed order: this is the order of the normalised output. */
        r = pgv_version(spec, out, &version, reterr);
        if (r >= 0)
                r = pgv_image(spec, version, out, reterr);
        if (r >= 0)
                r = pgv_resources(spec, plans, ELEMENTSOF(plans), "dev_single", out, &storage,
                                  reterr);
        if (r >= 0)
                r = pgv_storage(spec, storage, out, reterr);
        if (r >= 0)
                r = pgv_initial_db_name(spec, name, out, reterr);
        if (r >= 0)
                r = pgv_initial_user(spec, out, reterr);
        if (r >= 0)
                r = pgv_password(spec, name, out, reterr);
        if (r >= 0)
                r = pgv_parameters(spec, NULL, NULL, out, reterr);
        if (r >= 0)
                r = pgv_allow(spec, allow_public, out, reterr);
        if (r >= 0)
                r = v_expose(spec, allow_public, out, reterr);
        if (r >= 0)
                r = v_read_replicas(spec, out, reterr);
        if (r >= 0)
                r = pgv_max_replication_lag(spec, "spec", out, reterr);
        if (r >= 0)
                r = pgv_backup(spec, out, reterr);
        if (r >= 0)
                r = v_maintenance(spec, out, reterr);
        if (r >= 0)
                r = pgv_paused(spec, out, reterr);
        if (r >= 0)
                r = v_restore_from(spec, name, out, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
