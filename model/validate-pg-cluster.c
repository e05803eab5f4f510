/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>

#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/pg-cluster.h"
#include "model/resource.h"
#include "model/units.h"
#include "model/validate-pg-common.h"
#include "model/validate-util.h"

/* pg_cluster: validation and normalisation. The fields it shares with pg_single are checked by
 * validate-pg-common.c; topology, ha and endpoints here. The output has every default filled in
 * and keys in the order of the calls in pg_cluster_spec_validate(); it validates to itself. */

#define TTL_MIN   5
#define TTL_MAX   600
#define LOOP_MIN  1
#define LOOP_MAX  60
#define RETRY_MIN 1
#define RETRY_MAX 120

static const char *const spec_fields[] = {
        "version",      "image",     "plan",       "resources", "storage",      "initial_db_name",
        "initial_user", "password",  "parameters", "allow",     "allow_public", "topology",
        "ha",           "endpoints", "backup",     "paused",    NULL,
};

/* pg_single's own fields: refused by name, saying what a cluster has instead. */
static const struct {
        const char *field;
        const char *why;
} single_fields[] = {
        {"read_replicas", "is a pg_single field: a pg_cluster has topology.standbys"},
        {"expose",
         "is a pg_single field: a pg_cluster publishes its proxy's endpoints.write_port and "
         "endpoints.read_port"},
        {"max_replication_lag", "is topology.max_replication_lag in a pg_cluster"},
        {"maintenance", "is not supported by pg_cluster yet"},
        {"restore_from", "is not supported by pg_cluster yet"},
};

/* Patroni sets these itself: synchronous_standby_names from synchronous_mode, wal_log_hints for
 * pg_rewind. */
static const char *const patroni_parameters[] = {"synchronous_standby_names", "wal_log_hints",
                                                 NULL};

static const PgvPlan plans[] = {
        {"dev_cluster", 0.5, (int64_t) 512 << 20, (int64_t) 5 << 30},
        {"small_cluster", 1.0, (int64_t) 2 << 30, (int64_t) 20 << 30},
        {"medium_cluster", 2.0, (int64_t) 4 << 30, (int64_t) 50 << 30},
};

static int add_string(cJSON *o, const char *key, const char *s) {
        return json_add_item_take(o, key, cJSON_CreateString(s));
}

static int add_number(cJSON *o, const char *key, double v) {
        return json_add_item_take(o, key, cJSON_CreateNumber(v));
}

static int add_bool(cJSON *o, const char *key, bool b) {
        return json_add_item_take(o, key, cJSON_CreateBool(b));
}

/* ---- topology ------------------------------------------------------------------------------ */

static int v_topology(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"standbys", "replication_mode",
                                            "synchronous_mode_strict", "max_replication_lag", NULL};
        static const char *const modes[] = {"sync", "async", NULL};
        const cJSON *v = spec_member(spec, "topology"), *f;
        const char *mode = "sync";
        int64_t standbys = PGC_DEFAULT_STANDBYS;
        bool strict = false;
        char d[64];
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.topology", known, NULL, NULL, e);
                if (r < 0)
                        return r;
        }
        /* The mode first: what standbys may be depends on it. */
        f = spec_member(v, "replication_mode");
        if (f) {
                r = want_enum(f, "spec.topology.replication_mode", modes, &mode, e);
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "standbys");
        if (f) {
                if (!cJSON_IsNumber(f) || !json_number_is_integer(f->valuedouble))
                        return verr(e, -EINVAL, R_INVALID_TYPE, "spec.topology.standbys",
                                    "must be a whole number of standbys (1..%d), not %s",
                                    PGC_STANDBYS_MAX, json_describe(f, d, sizeof(d)));
                if (f->valuedouble < PGC_STANDBYS_MIN && streq(mode, "sync"))
                        return verr(e, -EINVAL, R_OUT_OF_RANGE, "spec.topology.standbys",
                                    "%s with replication_mode sync leaves no standby to confirm "
                                    "a commit: every write would wait for one that does not "
                                    "exist. Give 1..%d standbys (2 or more keep writes going "
                                    "while one is down), or replication_mode: async",
                                    json_describe(f, d, sizeof(d)), PGC_STANDBYS_MAX);
                if (f->valuedouble < PGC_STANDBYS_MIN)
                        return verr(e, -EINVAL, R_OUT_OF_RANGE, "spec.topology.standbys",
                                    "%s is out of range (1..%d): a cluster with no standby has "
                                    "nothing to fail over to (use kind pg_single)",
                                    json_describe(f, d, sizeof(d)), PGC_STANDBYS_MAX);
                r = want_int(f, "spec.topology.standbys", PGC_STANDBYS_MIN, PGC_STANDBYS_MAX,
                             &standbys, e);
                if (r < 0)
                        return r;
        }
        r = pgv_optional_bool(v, "synchronous_mode_strict", "spec.topology.synchronous_mode_strict",
                              false, &strict, e);
        if (r < 0)
                return r;
        if (strict && !streq(mode, "sync"))
                return verr(e, -EINVAL, R_CONFLICT, "spec.topology.synchronous_mode_strict",
                            "needs replication_mode: sync (it refuses writes while no "
                            "synchronous standby confirms them)");
        o = cJSON_AddObjectToObject(out, "topology");
        if (!o)
                return -ENOMEM;
        r = add_number(o, "standbys", (double) standbys);
        if (r >= 0)
                r = add_string(o, "replication_mode", mode);
        if (r >= 0)
                r = add_bool(o, "synchronous_mode_strict", strict);
        if (r >= 0)
                r = pgv_max_replication_lag(v, "spec.topology", o, e);
        return r;
}

/* ---- ha ------------------------------------------------------------------------------------ */

/* A timer in whole seconds: a number of seconds or a duration ("10s"). */
static int want_seconds(const cJSON *v, const char *field, int min, int max, int *ret, Error *e) {
        usec_t t;
        char d[64];
        int64_t n;
        int r;

        if (cJSON_IsNumber(v)) {
                r = want_int(v, field, min, max, &n, e);
                if (r < 0)
                        return r;
                *ret = (int) n;
                return 0;
        }
        r = want_duration(v, field, (usec_t) min * USEC_PER_SEC, (usec_t) max * USEC_PER_SEC, &t,
                          e);
        if (r < 0)
                return r;
        if (t % USEC_PER_SEC != 0)
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "%s is not a whole number of seconds (Patroni counts in seconds)",
                            json_describe(v, d, sizeof(d)));
        *ret = (int) (t / USEC_PER_SEC);
        return 0;
}

static int add_seconds(cJSON *o, const char *key, int s) {
        char buf[32];

        return add_string(o, key, duration_format((usec_t) s * USEC_PER_SEC, buf, sizeof(buf)));
}

static int v_ha(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"engine",    "dcs_members",   "ttl",
                                            "loop_wait", "retry_timeout", NULL};
        static const char *const engines[] = {"patroni", NULL};
        const cJSON *v = spec_member(spec, "ha"), *f;
        const char *engine = "patroni";
        int ttl = PGC_DEFAULT_TTL, loop = PGC_DEFAULT_LOOP_WAIT, retry = PGC_DEFAULT_RETRY;
        int64_t dcs = PGC_DEFAULT_DCS;
        char d[64];
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.ha", known, NULL, NULL, e);
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "engine");
        if (f) {
                r = want_enum(f, "spec.ha.engine", engines, &engine, e);
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "dcs_members");
        if (f) {
                if (cJSON_IsNumber(f) && f->valuedouble == 2)
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.ha.dcs_members",
                                    "2 etcd members tolerate no failure (a quorum of 2 needs "
                                    "both) and are twice as likely to lose it as one; use 3 "
                                    "(survives one failure) or 1 (tests and development)");
                r = want_int(f, "spec.ha.dcs_members", 1, 3, &dcs, e);
                if (r < 0)
                        return r;
                if (dcs != 1 && dcs != 3)
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.ha.dcs_members",
                                    "%s is not 1 or 3", json_describe(f, d, sizeof(d)));
        }
        f = spec_member(v, "ttl");
        if (f && (r = want_seconds(f, "spec.ha.ttl", TTL_MIN, TTL_MAX, &ttl, e)) < 0)
                return r;
        f = spec_member(v, "loop_wait");
        if (f && (r = want_seconds(f, "spec.ha.loop_wait", LOOP_MIN, LOOP_MAX, &loop, e)) < 0)
                return r;
        f = spec_member(v, "retry_timeout");
        if (f &&
            (r = want_seconds(f, "spec.ha.retry_timeout", RETRY_MIN, RETRY_MAX, &retry, e)) < 0)
                return r;
        /* Patroni's rule: the leader must be able to retry the DCS twice within one TTL, or it
         * can lose its key while it is merely slow to renew it. */
        if (ttl < loop + 2 * retry)
                return verr(e, -EINVAL, R_CONFLICT, "spec.ha.ttl",
                            "%ds is less than loop_wait + 2 × retry_timeout (%ds + 2 × %ds = "
                            "%ds): the leader could lose its key while it retries the DCS; raise "
                            "ttl or lower loop_wait or retry_timeout",
                            ttl, loop, retry, loop + 2 * retry);
        o = cJSON_AddObjectToObject(out, "ha");
        if (!o)
                return -ENOMEM;
        r = add_string(o, "engine", engine);
        if (r >= 0)
                r = add_number(o, "dcs_members", (double) dcs);
        if (r >= 0)
                r = add_seconds(o, "ttl", ttl);
        if (r >= 0)
                r = add_seconds(o, "loop_wait", loop);
        if (r >= 0)
                r = add_seconds(o, "retry_timeout", retry);
        return r;
}

/* ---- endpoints ----------------------------------------------------------------------------- */

static int v_endpoints(const cJSON *spec, bool allow_public, cJSON *out, Error *e) {
        static const char *const known[] = {"write_port", "read_port", "bind", NULL};
        const cJSON *v = spec_member(spec, "endpoints"), *f;
        char bind[INET6_ADDRSTRLEN + 1] = PGV_DEFAULT_BIND;
        int64_t write = 0, read = 0;
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.endpoints", known, NULL, NULL, e);
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "write_port");
        if (f && (r = want_int(f, "spec.endpoints.write_port", 1, 65535, &write, e)) < 0)
                return r;
        f = spec_member(v, "read_port");
        if (f && (r = want_int(f, "spec.endpoints.read_port", 1, 65535, &read, e)) < 0)
                return r;
        if (write > 0 && write == read)
                return verr(e, -EINVAL, R_CONFLICT, "spec.endpoints.read_port",
                            "%" PRIi64 " is also the write_port: the proxy publishes writes "
                            "(to the primary) and reads (to the standbys) on two ports",
                            read);
        f = spec_member(v, "bind");
        if (f && (r = pgv_bind(f, "spec.endpoints.bind", allow_public, bind, sizeof(bind), e)) < 0)
                return r;
        o = cJSON_AddObjectToObject(out, "endpoints");
        if (!o)
                return -ENOMEM;
        r = write > 0 ? add_number(o, "write_port", (double) write) : 0;
        if (r >= 0 && read > 0)
                r = add_number(o, "read_port", (double) read);
        if (r >= 0)
                r = add_string(o, "bind", bind);
        return r;
}

/* Backups of a cluster (from a standby, through pgBackRest) are not built yet: the section is
 * accepted as pg_single spells it, but only switched off. */
static int v_backup(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *b;
        int r;

        r = pgv_backup(spec, out, e);
        if (r < 0)
                return r;
        b = cJSON_GetObjectItemCaseSensitive(out, "backup");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "enabled")))
                return verr(e, -EOPNOTSUPP, R_NOT_SUPPORTED, "spec.backup.enabled",
                            "backups of a pg_cluster are not supported yet (leave backup out, "
                            "or set enabled: false)");
        return 0;
}

int pg_cluster_spec_validate(const cJSON *spec, const char *name, cJSON **ret, Error *reterr) {
        _cleanup_json_ cJSON *out = NULL;
        const char *version = PG_DEFAULT_VERSION;
        int64_t storage = PGV_DEFAULT_STORAGE;
        bool allow_public = false;
        int r;

        assert_return(ret, -EINVAL);
        assert_return(name_is_valid(name), -EINVAL);
        if (!spec)
                return verr(reterr, -EINVAL, R_REQUIRED, "spec",
                            "is required (an empty map gives a 3-member synchronous cluster)");
        r = want_map(spec, "spec", reterr);
        if (r < 0)
                return r;
        if (strlen(name) > PGC_NAME_MAX)
                return verr(reterr, -EINVAL, R_INVALID_NAME, "metadata.name",
                            "\"%s\" is %zu characters long; a pg_cluster's name is at most %d "
                            "(its generated secrets, such as \"%s-replication\", must be names "
                            "too)",
                            name, strlen(name), PGC_NAME_MAX, name);
        for (size_t i = 0; i < ELEMENTSOF(single_fields); i++)
                if (cJSON_GetObjectItemCaseSensitive(spec, single_fields[i].field))
                        return verr(reterr, -EOPNOTSUPP, R_NOT_SUPPORTED,
                                    path_key("spec", single_fields[i].field).s, "%s",
                                    single_fields[i].why);
        r = check_map(spec, "spec", spec_fields, NULL, NULL, reterr);
        if (r < 0)
                return r;
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
                r = pgv_resources(spec, plans, ELEMENTSOF(plans), "dev_cluster", out, &storage,
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
                r = pgv_parameters(spec, patroni_parameters,
                                   "is set by Patroni in a pg_cluster (synchronous_standby_names "
                                   "follows topology.replication_mode; wal_log_hints keeps "
                                   "pg_rewind possible) and cannot be set",
                                   out, reterr);
        if (r >= 0)
                r = pgv_allow(spec, allow_public, out, reterr);
        if (r >= 0)
                r = v_topology(spec, out, reterr);
        if (r >= 0)
                r = v_ha(spec, out, reterr);
        if (r >= 0)
                r = v_endpoints(spec, allow_public, out, reterr);
        if (r >= 0)
                r = v_backup(spec, out, reterr);
        if (r >= 0)
                r = pgv_paused(spec, out, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
