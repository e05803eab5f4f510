/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/mysql-ha.h"
#include "model/resource.h"
#include "model/units.h"
#include "model/validate-util.h"

/* mysql_ha: validation and normalisation, in the manner of validate-pg-single.c. The output is a
 * new object with every default filled in and keys in one fixed order (the order of the v_*
 * calls in mysql_ha_spec_validate()); normalised output validates again to itself. */

#define IMAGE_MAX          512
#define IDENT_MAX          64
#define USER_MAX           32
#define CPU_MIN            0.1
#define CPU_MAX            64.0
#define MEMORY_MIN         ((int64_t) 256 << 20)
#define MEMORY_MAX         ((int64_t) 256 << 30)
#define STORAGE_MIN        ((int64_t) 1 << 30)
#define STORAGE_MAX        ((int64_t) 64 << 40)
#define DEFAULT_STORAGE    ((int64_t) 5 << 30)
#define ALLOW_MAX          64
#define LAG_MIN            USEC_PER_SEC
#define LAG_MAX            ((usec_t) 86400 * USEC_PER_SEC)
#define LAG_DEFAULT        ((usec_t) 30 * USEC_PER_SEC)
#define PROBES_MAX         20
#define PROBES_DEFAULT     3
#define PROBE_INTERVAL_MIN (100 * USEC_PER_MSEC)
#define PROBE_INTERVAL_MAX ((usec_t) 60 * USEC_PER_SEC)
#define PROBE_INTERVAL_DEF USEC_PER_SEC
#define MIN_INTERVAL_MAX   ((usec_t) 7 * 86400 * USEC_PER_SEC)
#define MIN_INTERVAL_DEF   ((usec_t) 600 * USEC_PER_SEC)
#define DEFAULT_USER       "app"
#define DEFAULT_BIND       "127.0.0.1"
#define IMAGE_REPOSITORY   "berth/mariadb"

static const char *const spec_fields[] = {
        "version",      "flavor",   "image", "plan",         "resources",
        "storage",      "topology", "proxy", "failover",     "initial_db_name",
        "initial_user", "password", "allow", "allow_public", "backup",
        "paused",       NULL,
};
/* Fields of the other database kinds, refused by name. */
static const char *const pg_fields[] = {"read_replicas", "expose", "parameters", "ha", NULL};
static const char *const versions[] = {"10.11", NULL};

static const struct {
        const char *name;
        double cpu;
        int64_t memory;
        int64_t storage;
} plans[] = {
        {"dev_ha", 0.5, (int64_t) 512 << 20, (int64_t) 5 << 30},
        {"small_ha", 1.0, (int64_t) 2 << 30, (int64_t) 20 << 30},
        {"medium_ha", 2.0, (int64_t) 4 << 30, (int64_t) 50 << 30},
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

static int add_duration(cJSON *o, const char *key, usec_t t) {
        char buf[64];

        return add_string(o, key, duration_format(t, buf, sizeof(buf)));
}

static int optional_bool(const cJSON *o, const char *key, const char *field, bool def, bool *ret,
                         Error *e) {
        const cJSON *v = spec_member(o, key);

        *ret = def;
        return v ? want_bool(v, field, ret, e) : 0;
}

/* A size: bytes as an integer, or a string with a unit ("20Gi"). */
static int want_size(const cJSON *v, const char *field, int64_t min, int64_t max, const char *range,
                     int64_t *ret, Error *e) {
        char d[64];
        int64_t n;
        int r;

        if (cJSON_IsNumber(v)) {
                if (!json_number_is_integer(v->valuedouble))
                        return verr(e, -EINVAL, R_INVALID_TYPE, field,
                                    "must be a whole number of bytes or a size such as \"20Gi\", "
                                    "not %s",
                                    json_describe(v, d, sizeof(d)));
                if (v->valuedouble < (double) min || v->valuedouble > (double) max)
                        return verr(e, -EINVAL, R_OUT_OF_RANGE, field, "%s is out of range (%s)",
                                    json_describe(v, d, sizeof(d)), range);
                *ret = (int64_t) v->valuedouble;
                return 0;
        }
        if (!cJSON_IsString(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, field,
                            "must be a size such as \"20Gi\", not %s",
                            json_describe(v, d, sizeof(d)));
        r = memory_parse(v->valuestring, &n);
        if (r == -EINVAL)
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "%s is not a size (use bytes or a unit: Ki, Mi, Gi, Ti: \"20Gi\")",
                            json_describe(v, d, sizeof(d)));
        if (r < 0 || n < min || n > max)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field, "%s is out of range (%s)",
                            json_describe(v, d, sizeof(d)), range);
        *ret = n;
        return 0;
}

/* A duration string, or a number of seconds (YAML users write `probe_interval: 1`). */
static int want_duration_or_seconds(const cJSON *v, const char *field, usec_t min, usec_t max,
                                    usec_t *ret, Error *e) {
        char d[64], lo[32], hi[32];

        if (cJSON_IsNumber(v)) {
                double s = v->valuedouble;

                if (!(s >= 0) || s * USEC_PER_SEC < (double) min || s * USEC_PER_SEC > (double) max)
                        return verr(e, -EINVAL, R_OUT_OF_RANGE, field,
                                    "%s seconds is out of range (%s..%s)",
                                    json_describe(v, d, sizeof(d)),
                                    duration_format(min, lo, sizeof(lo)),
                                    duration_format(max, hi, sizeof(hi)));
                *ret = (usec_t) (s * USEC_PER_SEC);
                /* Whole milliseconds: what the canonical spelling can say. */
                *ret -= *ret % USEC_PER_MSEC;
                return 0;
        }
        return want_duration(v, field, min, max, ret, e);
}

/* ---- version, flavor, image, resources, storage -------------------------------------------- */

static int v_version(const cJSON *spec, cJSON *out, const char **ret, Error *e) {
        const cJSON *v = spec_member(spec, "version");
        const char *version = MYSQL_DEFAULT_VERSION, *s = NULL;
        char num[32], d[64];

        if (v) {
                if (cJSON_IsNumber(v))
                        s = number_format(v->valuedouble, num, sizeof(num));
                else if (cJSON_IsString(v))
                        s = v->valuestring;
                else
                        return verr(e, -EINVAL, R_INVALID_TYPE, "spec.version",
                                    "must be a version such as \"10.11\", not %s",
                                    json_describe(v, d, sizeof(d)));
                version = NULL;
                for (const char *const *c = versions; *c; c++)
                        if (streq(*c, s))
                                version = *c;
                if (!version)
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.version",
                                    "%s is not a supported version (supported: \"10.11\", "
                                    "MariaDB)",
                                    json_describe(v, d, sizeof(d)));
        }
        *ret = version;
        return add_string(out, "version", version);
}

/* mariadb, or mysql (MySQL 8: refused for now, its replication commands differ). */
static int v_flavor(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const flavors[] = {"mariadb", "mysql", NULL};
        const cJSON *v = spec_member(spec, "flavor");
        const char *flavor = "mariadb";
        int r;

        if (v) {
                r = want_enum(v, "spec.flavor", flavors, &flavor, e);
                if (r < 0)
                        return r;
                if (streq(flavor, "mysql"))
                        return verr(e, -EOPNOTSUPP, R_NOT_SUPPORTED, "spec.flavor",
                                    "\"mysql\" (MySQL 8) is not supported yet: use \"mariadb\"");
        }
        return add_string(out, "flavor", flavor);
}

/* A light check of an image reference: printable ASCII without spaces, starting with a letter
 * or digit. Docker has the last word when it pulls. */
static bool image_looks_valid(const char *s) {
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-") ==
               strlen(s);
}

static int want_image(const cJSON *v, const char *field, const char **ret, Error *e) {
        char d[64];
        int r;

        r = want_string(v, field, IMAGE_MAX, ret, e);
        if (r < 0)
                return r;
        if (!image_looks_valid(*ret))
                return verr(e, -EINVAL, R_INVALID_VALUE, field, "%s is not a valid image reference",
                            json_describe(v, d, sizeof(d)));
        return 0;
}

static int v_image(const cJSON *spec, const char *version, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "image");
        char def[64];
        const char *s;
        int r;

        if (!v) {
                (void) snprintf(def, sizeof(def), "%s:%s", IMAGE_REPOSITORY, version);
                return add_string(out, "image", def);
        }
        r = want_image(v, "spec.image", &s, e);
        if (r < 0)
                return r;
        return add_string(out, "image", s);
}

static int plan_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(plans); i++)
                if (streq(plans[i].name, name))
                        return (int) i;
        return -1;
}

/* plan and/or resources, per database server. The default plan is dev_ha; a normalised spec
 * carries the plan and its resources, equal, which re-validates to itself. */
static int v_resources(const cJSON *spec, cJSON *out, int64_t *ret_storage, Error *e) {
        static const char *const known[] = {"cpu", "memory", NULL};
        static const char *const plan_names[] = {"dev_ha", "small_ha", "medium_ha", NULL};
        const cJSON *pv = spec_member(spec, "plan"), *rv = spec_member(spec, "resources"), *v;
        const char *plan = NULL;
        double cpu = 0;
        int64_t memory = 0;
        bool have_cpu = false, have_mem = false;
        cJSON *res;
        int r;

        if (pv) {
                r = want_enum(pv, "spec.plan", plan_names, &plan, e);
                if (r < 0)
                        return r;
        }
        if (rv) {
                r = check_map(rv, "spec.resources", known, NULL, NULL, e);
                if (r < 0)
                        return r;
                v = spec_member(rv, "cpu");
                if (v) {
                        r = want_number(v, "spec.resources.cpu", CPU_MIN, CPU_MAX, &cpu, e);
                        if (r < 0)
                                return r;
                        have_cpu = true;
                }
                v = spec_member(rv, "memory");
                if (v) {
                        r = want_size(v, "spec.resources.memory", MEMORY_MIN, MEMORY_MAX,
                                      "256Mi..256Gi", &memory, e);
                        if (r < 0)
                                return r;
                        have_mem = true;
                }
        } else if (!plan)
                plan = "dev_ha";

        *ret_storage = DEFAULT_STORAGE;
        if (plan) {
                int i = plan_find(plan);

                if (rv &&
                    (!have_cpu || !have_mem || cpu != plans[i].cpu || memory != plans[i].memory))
                        return verr(e, -EINVAL, R_CONFLICT, "spec.resources",
                                    "set either plan or resources, not both");
                cpu = plans[i].cpu;
                memory = plans[i].memory;
                have_cpu = have_mem = true;
                *ret_storage = plans[i].storage;
                r = add_string(out, "plan", plan);
                if (r < 0)
                        return r;
        }
        res = cJSON_AddObjectToObject(out, "resources");
        if (!res)
                return -ENOMEM;
        r = have_cpu ? add_number(res, "cpu", cpu) : 0;
        if (r >= 0 && have_mem)
                r = add_number(res, "memory", (double) memory);
        return r;
}

static int v_storage(const cJSON *spec, int64_t def, cJSON *out, Error *e) {
        static const char *const known[] = {"size", NULL};
        const cJSON *v = spec_member(spec, "storage"), *f;
        int64_t size = def;
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.storage", known, NULL, NULL, e);
                if (r < 0)
                        return r;
                f = spec_member(v, "size");
                if (f) {
                        r = want_size(f, "spec.storage.size", STORAGE_MIN, STORAGE_MAX, "1Gi..64Ti",
                                      &size, e);
                        if (r < 0)
                                return r;
                }
        }
        o = cJSON_AddObjectToObject(out, "storage");
        if (!o)
                return -ENOMEM;
        return add_number(o, "size", (double) size);
}

/* ---- topology ------------------------------------------------------------------------------ */

static int v_topology(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"replicas", "semi_sync", "max_replication_lag", NULL};
        const cJSON *v = spec_member(spec, "topology"), *f;
        int64_t replicas = MYSQL_DEFAULT_REPLICAS;
        usec_t lag = LAG_DEFAULT;
        bool semi_sync;
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.topology", known, NULL, NULL, e);
                if (r < 0)
                        return r;
                f = spec_member(v, "replicas");
                if (f) {
                        r = want_int(f, "spec.topology.replicas", 0, MYSQL_MAX_REPLICAS, &replicas,
                                     e);
                        if (r < 0)
                                return r;
                }
                f = spec_member(v, "max_replication_lag");
                if (f) {
                        r = want_duration_or_seconds(f, "spec.topology.max_replication_lag",
                                                     LAG_MIN, LAG_MAX, &lag, e);
                        if (r < 0)
                                return r;
                        if (lag % USEC_PER_SEC != 0)
                                return verr(e, -EINVAL, R_INVALID_VALUE,
                                            "spec.topology.max_replication_lag",
                                            "must be whole seconds (MariaDB reports lag in "
                                            "seconds)");
                }
        }
        /* Semi-synchronous by default when there is a replica to acknowledge. */
        r = optional_bool(v, "semi_sync", "spec.topology.semi_sync", replicas > 0, &semi_sync, e);
        if (r < 0)
                return r;
        if (semi_sync && replicas == 0)
                return verr(e, -EINVAL, R_CONFLICT, "spec.topology.semi_sync",
                            "needs at least one replica (spec.topology.replicas is 0: nothing "
                            "would acknowledge a write)");
        o = cJSON_AddObjectToObject(out, "topology");
        if (!o)
                return -ENOMEM;
        r = add_number(o, "replicas", (double) replicas);
        if (r >= 0)
                r = add_bool(o, "semi_sync", semi_sync);
        if (r >= 0)
                r = add_duration(o, "max_replication_lag", lag);
        return r;
}

/* ---- proxy --------------------------------------------------------------------------------- */

/* An IP address, canonical into buf; the unspecified address only with allow_public. */
static int want_bind(const cJSON *v, const char *field, bool allow_public, char *buf, size_t n,
                     Error *e) {
        unsigned char bytes[16];
        const char *s;
        char d[64];
        int family, r;

        r = want_string(v, field, 64, &s, e);
        if (r < 0)
                return r;
        if (inet_pton(AF_INET, s, bytes) == 1)
                family = AF_INET;
        else if (inet_pton(AF_INET6, s, bytes) == 1)
                family = AF_INET6;
        else
                return verr(e, -EINVAL, R_INVALID_VALUE, field, "%s is not an IP address",
                            json_describe(v, d, sizeof(d)));
        if (!inet_ntop(family, bytes, buf, (socklen_t) n))
                return verr(e, -EINVAL, R_INVALID_VALUE, field, "%s is not an IP address",
                            json_describe(v, d, sizeof(d)));
        if (!allow_public && (streq(buf, "0.0.0.0") || streq(buf, "::")))
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "%s listens on every address of the host, reachable from anywhere; "
                            "set spec.allow_public: true if you mean it",
                            buf);
        return 0;
}

static int v_proxy(const cJSON *spec, bool allow_public, cJSON *out, Error *e) {
        static const char *const known[] = {"type",      "image", "write_port",
                                            "read_port", "bind",  NULL};
        static const char *const types[] = {"haproxy", "proxysql", NULL};
        const cJSON *v = spec_member(spec, "proxy"), *f;
        const char *type = "haproxy", *image = MYSQL_DEFAULT_PROXY_IMAGE;
        int64_t write_port = MYSQL_DEFAULT_WRITE_PORT, read_port = MYSQL_DEFAULT_READ_PORT;
        char bind[INET6_ADDRSTRLEN + 1] = DEFAULT_BIND;
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.proxy", known, NULL, NULL, e);
                if (r < 0)
                        return r;
                f = spec_member(v, "type");
                if (f) {
                        r = want_enum(f, "spec.proxy.type", types, &type, e);
                        if (r < 0)
                                return r;
                        if (streq(type, "proxysql"))
                                return verr(e, -EOPNOTSUPP, R_NOT_SUPPORTED, "spec.proxy.type",
                                            "\"proxysql\" is not supported yet: use \"haproxy\"");
                }
                f = spec_member(v, "image");
                if (f) {
                        r = want_image(f, "spec.proxy.image", &image, e);
                        if (r < 0)
                                return r;
                }
                f = spec_member(v, "write_port");
                if (f) {
                        r = want_int(f, "spec.proxy.write_port", 1, 65535, &write_port, e);
                        if (r < 0)
                                return r;
                }
                f = spec_member(v, "read_port");
                if (f) {
                        r = want_int(f, "spec.proxy.read_port", 1, 65535, &read_port, e);
                        if (r < 0)
                                return r;
                }
                f = spec_member(v, "bind");
                if (f) {
                        r = want_bind(f, "spec.proxy.bind", allow_public, bind, sizeof(bind), e);
                        if (r < 0)
                                return r;
                }
        }
        if (write_port == read_port)
                return verr(e, -EINVAL, R_CONFLICT, "spec.proxy.read_port",
                            "%" PRIi64 " is also spec.proxy.write_port: writes and reads need "
                            "ports of their own",
                            read_port);
        o = cJSON_AddObjectToObject(out, "proxy");
        if (!o)
                return -ENOMEM;
        r = add_string(o, "type", type);
        if (r >= 0)
                r = add_string(o, "image", image);
        if (r >= 0)
                r = add_number(o, "write_port", (double) write_port);
        if (r >= 0)
                r = add_number(o, "read_port", (double) read_port);
        if (r >= 0)
                r = add_string(o, "bind", bind);
        return r;
}

/* ---- failover ------------------------------------------------------------------------------ */

static int v_failover(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"automatic", "detection_probes", "probe_interval",
                                            "min_interval", NULL};
        const cJSON *v = spec_member(spec, "failover"), *f;
        int64_t probes = PROBES_DEFAULT;
        usec_t interval = PROBE_INTERVAL_DEF, min_interval = MIN_INTERVAL_DEF;
        bool automatic = true;
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.failover", known, NULL, NULL, e);
                if (r < 0)
                        return r;
                r = optional_bool(v, "automatic", "spec.failover.automatic", true, &automatic, e);
                if (r < 0)
                        return r;
                f = spec_member(v, "detection_probes");
                if (f) {
                        r = want_int(f, "spec.failover.detection_probes", 1, PROBES_MAX, &probes,
                                     e);
                        if (r < 0)
                                return r;
                }
                f = spec_member(v, "probe_interval");
                if (f) {
                        r = want_duration_or_seconds(f, "spec.failover.probe_interval",
                                                     PROBE_INTERVAL_MIN, PROBE_INTERVAL_MAX,
                                                     &interval, e);
                        if (r < 0)
                                return r;
                }
                f = spec_member(v, "min_interval");
                if (f) {
                        r = want_duration_or_seconds(f, "spec.failover.min_interval", 0,
                                                     MIN_INTERVAL_MAX, &min_interval, e);
                        if (r < 0)
                                return r;
                }
        }
        o = cJSON_AddObjectToObject(out, "failover");
        if (!o)
                return -ENOMEM;
        r = add_bool(o, "automatic", automatic);
        if (r >= 0)
                r = add_number(o, "detection_probes", (double) probes);
        if (r >= 0)
                r = add_duration(o, "probe_interval", interval);
        if (r >= 0)
                r = add_duration(o, "min_interval", min_interval);
        return r;
}

/* ---- database, user, password -------------------------------------------------------------- */

/* An identifier berth can use unquoted in MariaDB: [a-z_][a-z0-9_]*. */
static bool identifier_valid(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n == 0 || n > max || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int want_identifier(const cJSON *v, const char *field, size_t max, const char **ret,
                           Error *e) {
        char d[64];
        int r;

        r = want_string(v, field, 256, ret, e);
        if (r < 0)
                return r;
        if (!identifier_valid(*ret, max))
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "%s is not a valid identifier (lower-case letters, digits and '_', "
                            "not starting with a digit, at most %zu characters)",
                            json_describe(v, d, sizeof(d)), max);
        return 0;
}

static int v_initial_db_name(const cJSON *spec, const char *name, cJSON *out, Error *e) {
        static const char *const reserved[] = {"mysql", "information_schema", "performance_schema",
                                               "sys", NULL};
        const cJSON *v = spec_member(spec, "initial_db_name");
        char def[NAME_MAX_LEN + 8];
        const char *db = def;
        size_t k = 0;
        int r;

        if (v) {
                r = want_identifier(v, "spec.initial_db_name", IDENT_MAX, &db, e);
                if (r < 0)
                        return r;
        } else {
                if (name[0] >= '0' && name[0] <= '9')
                        k = (size_t) snprintf(def, sizeof(def), "db_");
                for (const char *p = name; *p && k + 1 < sizeof(def); p++)
                        def[k++] = *p == '-' ? '_' : *p;
                def[k] = 0;
        }
        for (const char *const *c = reserved; *c; c++)
                if (streq(*c, db))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.initial_db_name",
                                    "%s\"%s\" is reserved (mysql, information_schema, "
                                    "performance_schema and sys belong to the server)%s",
                                    v ? "" : "the default ", db,
                                    v ? "" : "; set spec.initial_db_name");
        return add_string(out, "initial_db_name", db);
}

static int v_initial_user(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const reserved[] = {"root", "mysql", "mariadb", "replicator", NULL};
        const cJSON *v = spec_member(spec, "initial_user");
        const char *user = DEFAULT_USER;
        int r;

        if (v) {
                r = want_identifier(v, "spec.initial_user", USER_MAX, &user, e);
                if (r < 0)
                        return r;
                for (const char *const *c = reserved; *c; c++)
                        if (streq(*c, user))
                                return verr(e, -EINVAL, R_INVALID_VALUE, "spec.initial_user",
                                            "\"%s\" is reserved (root, mysql, mariadb and "
                                            "berth* belong to the server and to berth)",
                                            user);
                if (strneq(user, "berth", 5))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.initial_user",
                                    "\"%s\" is reserved (berth* are berth's own users)", user);
        }
        return add_string(out, "initial_user", user);
}

/* password: {secret: NAME}; absent: berth generates "<name>-password", which the normalised
 * spec says as {secret: "<name>-password", generated: true}. */
static int v_password(const cJSON *spec, const char *name, cJSON *out, Error *e) {
        static const char *const known[] = {"secret", "generated", NULL};
        const cJSON *v = spec_member(spec, "password"), *f;
        char def[NAME_MAX_LEN + 16], d[64];
        bool have_def, generated = false;
        const char *secret;
        cJSON *o;
        int r;

        have_def = mysql_password_secret_name(def, sizeof(def), name) >= 0;
        if (!v) {
                if (!have_def)
                        return verr(e, -EINVAL, R_REQUIRED, "spec.password",
                                    "is required when metadata.name is this long (the generated "
                                    "secret \"%s-password\" would be too long a name)",
                                    name);
                secret = def;
                generated = true;
        } else {
                r = check_map(v, "spec.password", known, NULL, NULL, e);
                if (r < 0)
                        return r;
                f = spec_member(v, "secret");
                if (!f)
                        return verr(e, -EINVAL, R_REQUIRED, "spec.password.secret",
                                    "is required (the name of a stored secret; leave out "
                                    "spec.password to have berth generate one)");
                r = want_string(f, "spec.password.secret", 256, &secret, e);
                if (r < 0)
                        return r;
                if (!name_is_valid(secret))
                        return verr(e, -EINVAL, R_INVALID_NAME, "spec.password.secret",
                                    "%s is not a valid secret name (a DNS label)",
                                    json_describe(f, d, sizeof(d)));
                f = spec_member(v, "generated");
                if (f) {
                        r = want_bool(f, "spec.password.generated", &generated, e);
                        if (r < 0)
                                return r;
                        if (!generated || !have_def || !streq(secret, def))
                                return verr(e, -EINVAL, R_FIELD_READ_ONLY,
                                            "spec.password.generated",
                                            "is set by berth (leave out spec.password to have a "
                                            "password generated into \"%s\")",
                                            have_def ? def : "<name>-password");
                }
        }
        o = cJSON_AddObjectToObject(out, "password");
        if (!o)
                return -ENOMEM;
        r = add_string(o, "secret", secret);
        if (r >= 0 && generated)
                r = add_bool(o, "generated", true);
        return r;
}

/* ---- network access ------------------------------------------------------------------------ */

/* "a.b.c.d/n", an IPv6 network, or a bare address (a /32 or /128), canonical into buf. Returns
 * NULL or why not. */
static const char *cidr_parse(const char *s, char *buf, size_t n, int *ret_prefix) {
        char addr[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN + 1];
        const char *slash = strchr(s, '/');
        size_t alen = slash ? (size_t) (slash - s) : strlen(s);
        unsigned char bytes[16], masked[16];
        int family, bits, prefix;

        if (alen == 0 || alen >= sizeof(addr))
                return "is not an IP address or network";
        memcpy(addr, s, alen);
        addr[alen] = 0;
        if (inet_pton(AF_INET, addr, bytes) == 1) {
                family = AF_INET;
                bits = 32;
        } else if (inet_pton(AF_INET6, addr, bytes) == 1) {
                family = AF_INET6;
                bits = 128;
        } else
                return "is not an IP address or network (a.b.c.d/n, an IPv6 network, or a "
                       "docker_service name)";
        prefix = bits;
        if (slash) {
                const char *p = slash + 1;

                if (!*p || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p) ||
                    (p[0] == '0' && p[1]))
                        return "has an invalid prefix length";
                prefix = (int) strtol(p, NULL, 10);
                if (prefix > bits)
                        return "has a prefix length longer than the address";
        }
        memcpy(masked, bytes, sizeof(bytes));
        for (int i = 0; i < bits / 8; i++) {
                int keep = prefix - i * 8;

                if (keep <= 0)
                        masked[i] = 0;
                else if (keep < 8)
                        masked[i] &= (unsigned char) (0xff << (8 - keep));
        }
        if (memcmp(masked, bytes, (size_t) bits / 8) != 0) {
                if (!inet_ntop(family, masked, net, sizeof(net)))
                        return "is not an IP network";
                (void) snprintf(buf, n, "has host bits set (the network is %s/%d)", net, prefix);
                return buf;
        }
        if (!inet_ntop(family, bytes, net, sizeof(net)))
                return "is not an IP network";
        (void) snprintf(buf, n, "%s/%d", net, prefix);
        *ret_prefix = prefix;
        return NULL;
}

static int v_allow(const cJSON *spec, bool allow_public, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "allow"), *it;
        _cleanup_json_ cJSON *in = NULL, *l = cJSON_CreateArray();
        size_t i = 0;
        int r;

        if (!l)
                return -ENOMEM;
        if (v) {
                r = want_string_list(v, "spec.allow", false, ALLOW_MAX, &in, e);
                if (r < 0)
                        return r;
        }
        cJSON_ArrayForEach(it, in) {
                Path f = path_index("spec.allow", i++);
                const char *s = it->valuestring;
                char canon[INET6_ADDRSTRLEN + 64];
                int prefix = -1;

                if (strpbrk(s, "./:")) {
                        const char *why = cidr_parse(s, canon, sizeof(canon), &prefix);

                        if (why)
                                return verr(e, -EINVAL, R_INVALID_VALUE, f.s, "\"%s\" %s", s, why);
                        if (prefix == 0 && !allow_public)
                                return verr(e, -EINVAL, R_INVALID_VALUE, f.s,
                                            "\"%s\" opens the database to every address; set "
                                            "spec.allow_public: true if you mean it",
                                            s);
                        s = canon;
                } else if (!name_is_valid(s))
                        return verr(e, -EINVAL, R_INVALID_VALUE, f.s,
                                    "\"%s\" is neither a docker_service name nor an IP network "
                                    "(a.b.c.d/n)",
                                    s);
                for (const cJSON *p = l->child; p; p = p->next)
                        if (streq(p->valuestring, s))
                                return verr(e, -EINVAL, R_DUPLICATE, f.s, "\"%s\" is listed twice",
                                            s);
                r = json_add_item_take(l, NULL, cJSON_CreateString(s));
                if (r < 0)
                        return r;
        }
        r = json_add_item_take(out, "allow", TAKE_PTR(l));
        if (r < 0)
                return r;
        return add_bool(out, "allow_public", allow_public);
}

/* backup: {enabled: false} only, for now. */
static int v_backup(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"enabled", NULL};
        static const char *const later[] = {"schedule", "retention_days", "pitr", "repository",
                                            NULL};
        const cJSON *v = spec_member(spec, "backup");
        bool enabled = false;
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.backup", known, later, NULL, e);
                if (r < 0)
                        return r;
                r = optional_bool(v, "enabled", "spec.backup.enabled", false, &enabled, e);
                if (r < 0)
                        return r;
                if (enabled)
                        return verr(e, -EOPNOTSUPP, R_NOT_SUPPORTED, "spec.backup.enabled",
                                    "backups of mysql_ha (mariadb-backup) are not supported yet");
        }
        o = cJSON_AddObjectToObject(out, "backup");
        if (!o)
                return -ENOMEM;
        return add_bool(o, "enabled", false);
}

static int v_paused(const cJSON *spec, cJSON *out, Error *e) {
        bool paused = false;
        int r;

        r = optional_bool(spec, "paused", "spec.paused", false, &paused, e);
        if (r < 0)
                return r;
        return add_bool(out, "paused", paused);
}

int mysql_ha_spec_validate(const cJSON *spec, const char *name, cJSON **ret, Error *reterr) {
        _cleanup_json_ cJSON *out = NULL;
        const char *version = MYSQL_DEFAULT_VERSION;
        int64_t storage = DEFAULT_STORAGE;
        bool allow_public = false;
        int r;

        assert_return(ret, -EINVAL);
        assert_return(name_is_valid(name), -EINVAL);
        if (!spec)
                return verr(reterr, -EINVAL, R_REQUIRED, "spec", "is required");
        r = want_map(spec, "spec", reterr);
        if (r < 0)
                return r;
        for (const char *const *c = pg_fields; *c; c++)
                if (cJSON_GetObjectItemCaseSensitive(spec, *c))
                        return verr(reterr, -EINVAL, R_UNKNOWN_FIELD, path_key("spec", *c).s,
                                    "is a PostgreSQL field: a mysql_ha has spec.topology "
                                    "(replicas) and spec.proxy (write_port, read_port)");
        r = check_map(spec, "spec", spec_fields, NULL, NULL, reterr);
        if (r < 0)
                return r;
        r = optional_bool(spec, "allow_public", "spec.allow_public", false, &allow_public, reterr);
        if (r < 0)
                return r;
        out = cJSON_CreateObject();
        if (!out)
                return -ENOMEM;

        /* Fixed order: this is the order of the normalised output. */
        r = v_version(spec, out, &version, reterr);
        if (r >= 0)
                r = v_flavor(spec, out, reterr);
        if (r >= 0)
                r = v_image(spec, version, out, reterr);
        if (r >= 0)
                r = v_resources(spec, out, &storage, reterr);
        if (r >= 0)
                r = v_storage(spec, storage, out, reterr);
        if (r >= 0)
                r = v_topology(spec, out, reterr);
        if (r >= 0)
                r = v_proxy(spec, allow_public, out, reterr);
        if (r >= 0)
                r = v_failover(spec, out, reterr);
        if (r >= 0)
                r = v_initial_db_name(spec, name, out, reterr);
        if (r >= 0)
                r = v_initial_user(spec, out, reterr);
        if (r >= 0)
                r = v_password(spec, name, out, reterr);
        if (r >= 0)
                r = v_allow(spec, allow_public, out, reterr);
        if (r >= 0)
                r = v_backup(spec, out, reterr);
        if (r >= 0)
                r = v_paused(spec, out, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
