/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/pg-parameters.h"
#include "model/pg-single.h"
#include "model/resource.h"
#include "model/schedule.h"
#include "model/units.h"
#include "model/validate-pg-common.h"
#include "model/validate-util.h"

/* Validation pieces of the PostgreSQL kinds (validate-pg-common.h), first written for pg_single
 * (validate-pg-single.c) and shared with pg_cluster (validate-pg-cluster.c). */

#define IMAGE_MAX        512
#define IDENT_MAX        63
#define CPU_MIN          0.1
#define CPU_MAX          64.0
#define MEMORY_MIN       ((int64_t) 256 << 20)
#define MEMORY_MAX       ((int64_t) 256 << 30)
#define STORAGE_MIN      ((int64_t) 1 << 30)
#define STORAGE_MAX      ((int64_t) 64 << 40)
#define PARAMETERS_MAX   200
#define PARAM_VALUE_MAX  4096
#define ALLOW_MAX        64
#define LAG_BYTES_MIN    ((int64_t) 1 << 20)
#define LAG_BYTES_MAX    ((int64_t) 1 << 40)
#define LAG_SECONDS_MAX  86400
#define LAG_DEFAULT_SEC  30
#define RETENTION_MAX    3650
#define SCHEDULE_MAX     128
#define DEFAULT_USER     "app"
#define DEFAULT_SCHEDULE "daily"
#define IMAGE_REPOSITORY "berth/postgres"
#define PASSWORD_SUFFIX  "-password"

static const char *const versions[] = {"15", NULL};

static int add_string(cJSON *o, const char *key, const char *s) {
        return json_add_item_take(o, key, cJSON_CreateString(s));
}

static int add_number(cJSON *o, const char *key, double v) {
        return json_add_item_take(o, key, cJSON_CreateNumber(v));
}

static int add_bool(cJSON *o, const char *key, bool b) {
        return json_add_item_take(o, key, cJSON_CreateBool(b));
}

int pgv_optional_bool(const cJSON *o, const char *key, const char *field, bool def, bool *ret,
                      Error *e) {
        const cJSON *v = spec_member(o, key);

        *ret = def;
        return v ? want_bool(v, field, ret, e) : 0;
}

/* A size: bytes as an integer, or a string with a unit ("20Gi"). */
int pgv_want_size(const cJSON *v, const char *field, int64_t min, int64_t max, const char *range,
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
                            "%s is not a size (use bytes or a unit: Ki, Mi, Gi, Ti, or K, M, G, "
                            "T: \"20Gi\")",
                            json_describe(v, d, sizeof(d)));
        if (r < 0 || n < min || n > max)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field, "%s is out of range (%s)",
                            json_describe(v, d, sizeof(d)), range);
        *ret = n;
        return 0;
}

/* ---- version, image, resources, storage -------------------------------------------------- */

int pgv_version(const cJSON *spec, cJSON *out, const char **ret, Error *e) {
        const cJSON *v = spec_member(spec, "version");
        const char *version = PG_DEFAULT_VERSION, *s = NULL;
        char num[32], d[64];

        if (v) {
                if (cJSON_IsNumber(v))
                        s = number_format(v->valuedouble, num, sizeof(num));
                else if (cJSON_IsString(v))
                        s = v->valuestring;
                else
                        return verr(e, -EINVAL, R_INVALID_TYPE, "spec.version",
                                    "must be a version such as \"15\", not %s",
                                    json_describe(v, d, sizeof(d)));
                version = NULL;
                for (const char *const *c = versions; *c; c++)
                        if (streq(*c, s))
                                version = *c;
                if (!version)
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.version",
                                    "%s is not a supported version (supported: \"15\")",
                                    json_describe(v, d, sizeof(d)));
        }
        *ret = version;
        return add_string(out, "version", version);
}

/* A light check of an image reference override: printable ASCII without spaces, starting with a
 * letter or digit. Docker has the last word when it pulls. */
static bool image_looks_valid(const char *s) {
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (const char *p = s; *p; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-") ==
               strlen(s);
}

int pgv_image(const cJSON *spec, const char *version, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "image");
        char def[64], d[64];
        const char *s;
        int r;

        if (!v) {
                (void) snprintf(def, sizeof(def), "%s:%s", IMAGE_REPOSITORY, version);
                return add_string(out, "image", def);
        }
        r = want_string(v, "spec.image", IMAGE_MAX, &s, e);
        if (r < 0)
                return r;
        if (!image_looks_valid(s))
                return verr(e, -EINVAL, R_INVALID_VALUE, "spec.image",
                            "%s is not a valid image reference", json_describe(v, d, sizeof(d)));
        return add_string(out, "image", s);
}

#define PLANS_MAX 8

/* plan and/or resources. The default plan is default_plan; a normalised spec carries the plan
 * and its resources, equal, which re-validates to itself. *ret_storage: the plan's storage. */
int pgv_resources(const cJSON *spec, const PgvPlan *plans, size_t n, const char *default_plan,
                  cJSON *out, int64_t *ret_storage, Error *e) {
        static const char *const known[] = {"cpu", "memory", NULL};
        const char *plan_names[PLANS_MAX + 1] = {};
        const cJSON *pv = spec_member(spec, "plan"), *rv = spec_member(spec, "resources"), *v;
        const char *plan = NULL;
        double cpu = 0;
        int64_t memory = 0;
        bool have_cpu = false, have_mem = false;
        size_t pi = 0;
        cJSON *res;
        int r;

        assert_return(plans && n > 0 && n <= PLANS_MAX && default_plan, -EINVAL);
        for (size_t i = 0; i < n; i++)
                plan_names[i] = plans[i].name;
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
                        r = pgv_want_size(v, "spec.resources.memory", MEMORY_MIN, MEMORY_MAX,
                                          "256Mi..256Gi", &memory, e);
                        if (r < 0)
                                return r;
                        have_mem = true;
                }
        } else if (!plan)
                plan = default_plan;

        *ret_storage = PGV_DEFAULT_STORAGE;
        if (plan) {
                while (pi + 1 < n && !streq(plans[pi].name, plan))
                        pi++;
                if (rv &&
                    (!have_cpu || !have_mem || cpu != plans[pi].cpu || memory != plans[pi].memory))
                        return verr(e, -EINVAL, R_CONFLICT, "spec.resources",
                                    "set either plan or resources, not both");
                cpu = plans[pi].cpu;
                memory = plans[pi].memory;
                have_cpu = have_mem = true;
                *ret_storage = plans[pi].storage;
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

int pgv_storage(const cJSON *spec, int64_t def, cJSON *out, Error *e) {
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
                        r = pgv_want_size(f, "spec.storage.size", STORAGE_MIN, STORAGE_MAX,
                                          "1Gi..64Ti", &size, e);
                        if (r < 0)
                                return r;
                }
        }
        o = cJSON_AddObjectToObject(out, "storage");
        if (!o)
                return -ENOMEM;
        return add_number(o, "size", (double) size);
}

/* ---- database, user, password -------------------------------------------------------------- */

/* A PostgreSQL identifier berth can use unquoted: [a-z_][a-z0-9_]{0,62}. */
static bool identifier_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > IDENT_MAX || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int want_identifier(const cJSON *v, const char *field, const char **ret, Error *e) {
        char d[64];
        int r;

        r = want_string(v, field, 256, ret, e);
        if (r < 0)
                return r;
        if (!identifier_valid(*ret))
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "%s is not a valid identifier (lower-case letters, digits and '_', "
                            "not starting with a digit, at most 63 characters)",
                            json_describe(v, d, sizeof(d)));
        return 0;
}

int pgv_initial_db_name(const cJSON *spec, const char *name, cJSON *out, Error *e) {
        static const char *const reserved[] = {"postgres", "template0", "template1", NULL};
        const cJSON *v = spec_member(spec, "initial_db_name");
        char def[NAME_MAX_LEN + 8];
        const char *db = def;
        size_t k = 0;
        int r;

        if (v) {
                r = want_identifier(v, "spec.initial_db_name", &db, e);
                if (r < 0)
                        return r;
        } else {
                /* metadata.name with '-' as '_'; a name starting with a digit gets "db_". */
                if (name[0] >= '0' && name[0] <= '9')
                        k = (size_t) snprintf(def, sizeof(def), "db_");
                for (const char *p = name; *p && k + 1 < sizeof(def); p++)
                        def[k++] = *p == '-' ? '_' : *p;
                def[k] = 0;
        }
        for (const char *const *c = reserved; *c; c++)
                if (streq(*c, db)) {
                        if (v)
                                return verr(e, -EINVAL, R_INVALID_VALUE, "spec.initial_db_name",
                                            "\"%s\" is reserved (postgres, template0 and "
                                            "template1 belong to the server)",
                                            db);
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.initial_db_name",
                                    "the default \"%s\" (from metadata.name) is reserved; set "
                                    "spec.initial_db_name",
                                    db);
                }
        return add_string(out, "initial_db_name", db);
}

static bool user_reserved(const char *s) {
        static const char *const reserved[] = {
                "postgres",     "replicator",   "public",       "none",
                "current_user", "session_user", "current_role", NULL};

        for (const char *const *c = reserved; *c; c++)
                if (streq(*c, s))
                        return true;
        return strneq(s, "pg_", 3) || strneq(s, "berth", 5);
}

int pgv_initial_user(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "initial_user");
        const char *user = DEFAULT_USER;
        int r;

        if (v) {
                r = want_identifier(v, "spec.initial_user", &user, e);
                if (r < 0)
                        return r;
                if (user_reserved(user))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.initial_user",
                                    "\"%s\" is reserved (postgres, replicator, pg_* and berth* "
                                    "are roles of the server and of berth; PUBLIC, NONE and "
                                    "CURRENT_USER are keywords)",
                                    user);
        }
        return add_string(out, "initial_user", user);
}

/* password: {secret: NAME}; absent: berth generates "<name>-password", which the normalised
 * spec says as {secret: "<name>-password", generated: true}. */
int pgv_password(const cJSON *spec, const char *name, cJSON *out, Error *e) {
        static const char *const known[] = {"secret", "generated", NULL};
        const cJSON *v = spec_member(spec, "password"), *f;
        char def[NAME_MAX_LEN + 16], d[64];
        bool have_def, generated = false;
        const char *secret;
        cJSON *o;
        int r;

        have_def = pg_password_secret_name(def, sizeof(def), name) >= 0;
        if (!v) {
                if (!have_def)
                        return verr(e, -EINVAL, R_REQUIRED, "spec.password",
                                    "is required when metadata.name is longer than %zu characters "
                                    "(the generated secret \"%s%s\" would be too long a name)",
                                    (size_t) NAME_MAX_LEN - STRLEN(PASSWORD_SUFFIX), name,
                                    PASSWORD_SUFFIX);
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
                        /* Only berth's own mark, as a normalised spec carries it, applies. */
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

/* ---- parameters ---------------------------------------------------------------------------- */

static int cmp_item_key(const void *a, const void *b) {
        return strcmp((*(const cJSON *const *) a)->string, (*(const cJSON *const *) b)->string);
}

/* A new object with deep copies of o's members in key order (o's keys are unique). */
static cJSON *sorted_copy(const cJSON *o) {
        _cleanup_free_ const cJSON **items = NULL;
        _cleanup_json_ cJSON *copy = cJSON_CreateObject();
        size_t n = (size_t) cJSON_GetArraySize(o), i = 0;
        const cJSON *c;

        if (!copy)
                return NULL;
        if (n == 0)
                return TAKE_PTR(copy);
        items = b_malloc(n * sizeof(*items));
        if (!items)
                return NULL;
        cJSON_ArrayForEach(c, o) {
                items[i++] = c;
        }
        qsort(items, n, sizeof(*items), cmp_item_key);
        for (i = 0; i < n; i++)
                if (json_add_item_take(copy, items[i]->string, cJSON_Duplicate(items[i], true)) < 0)
                        return NULL;
        return TAKE_PTR(copy);
}

/* pg_parameter_check()'s message starts with the parameter name; the field path replaces it. */
static const char *strip_name(const char *msg, const char *name) {
        size_t n = strlen(name);

        if (strneq(msg, name, n) && msg[n] == ':' && msg[n + 1] == ' ')
                return msg + n + 2;
        return msg;
}

static int v_parameter(const cJSON *c, const char *const *also_managed, const char *also_why,
                       cJSON *params, Error *e) {
        Path f = path_key("spec.parameters", c->string);
        _cleanup_free_ char *value = NULL, *canonical = NULL;
        const PgParamInfo *p;
        Error pe = ERROR_INIT;
        char key[80];
        size_t n = strlen(c->string);
        int r;

        if (n == 0 || n >= sizeof(key))
                return verr(e, -EINVAL, R_UNKNOWN_FIELD, f.s, "unknown PostgreSQL parameter");
        for (size_t i = 0; i <= n; i++)
                key[i] = c->string[i] >= 'A' && c->string[i] <= 'Z'
                                 ? (char) (c->string[i] - 'A' + 'a')
                                 : c->string[i];
        if (pg_parameter_is_managed(key))
                return verr(e, -EINVAL, R_FIELD_READ_ONLY, f.s,
                            "is managed by berth (connections, files, replication, archiving and "
                            "TLS are configured by berth) and cannot be set");
        for (const char *const *m = also_managed; m && *m; m++)
                if (streq(key, *m))
                        return verr(e, -EINVAL, R_FIELD_READ_ONLY, f.s, "%s", strempty(also_why));
        p = pg_parameter_find(key);
        if (!p) {
                const char *hint = pg_parameter_suggest(key);

                if (hint)
                        return verr(e, -EINVAL, R_UNKNOWN_FIELD, f.s,
                                    "unknown PostgreSQL parameter (did you mean \"%s\"?)", hint);
                return verr(e, -EINVAL, R_UNKNOWN_FIELD, f.s, "unknown PostgreSQL parameter");
        }
        if (cJSON_GetObjectItemCaseSensitive(params, p->name))
                return verr(e, -EINVAL, R_DUPLICATE, f.s,
                            "is set more than once (parameter names are case-insensitive)");
        r = want_scalar_string(c, f.s, PARAM_VALUE_MAX, &value, e);
        if (r < 0)
                return r;
        r = pg_parameter_check(p, value, &canonical, &pe);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return verr(e, r, pe.reason[0] ? pe.reason : R_INVALID_VALUE, f.s, "%s",
                            strip_name(pe.msg, p->name));
        return add_string(params, p->name, canonical);
}

int pgv_parameters(const cJSON *spec, const char *const *also_managed, const char *also_why,
                   cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "parameters"), *c;
        _cleanup_json_ cJSON *params = NULL;
        const char *dup = NULL;
        cJSON *sorted;
        int r;

        if (!v)
                return json_add_item_take(out, "parameters", cJSON_CreateObject());
        r = want_map(v, "spec.parameters", e);
        if (r < 0)
                return r;
        if (cJSON_GetArraySize(v) > PARAMETERS_MAX)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, "spec.parameters",
                            "has more than %d parameters", PARAMETERS_MAX);
        r = json_find_duplicate_key(v, &dup);
        if (r < 0)
                return r;
        if (dup)
                return verr(e, -EINVAL, R_DUPLICATE, path_key("spec.parameters", dup).s,
                            "is set more than once");
        params = cJSON_CreateObject();
        if (!params)
                return -ENOMEM;
        cJSON_ArrayForEach(c, v) {
                r = v_parameter(c, also_managed, also_why, params, e);
                if (r < 0)
                        return r;
        }
        sorted = sorted_copy(params);
        if (!sorted)
                return -ENOMEM;
        return json_add_item_take(out, "parameters", sorted);
}

/* ---- network access ------------------------------------------------------------------------ */

typedef struct IpAddr {
        int family; /* AF_INET, AF_INET6 */
        unsigned char bytes[16];
        int bits; /* 32 or 128 */
} IpAddr;

static bool ip_parse(const char *s, IpAddr *ret) {
        if (inet_pton(AF_INET, s, ret->bytes) == 1) {
                ret->family = AF_INET;
                ret->bits = 32;
                return true;
        }
        if (inet_pton(AF_INET6, s, ret->bytes) == 1) {
                ret->family = AF_INET6;
                ret->bits = 128;
                return true;
        }
        return false;
}

static bool ip_format(const IpAddr *a, char *buf, size_t n) {
        return inet_ntop(a->family, a->bytes, buf, (socklen_t) n) != NULL;
}

static bool ip_is_unspecified(const IpAddr *a) {
        for (int i = 0; i < a->bits / 8; i++)
                if (a->bytes[i])
                        return false;
        return true;
}

/* "a.b.c.d/n", an IPv6 network, or a bare address (a /32 or /128). Canonical spelling in buf;
 * *ret_prefix the prefix length. Returns NULL or why not. */
static const char *cidr_parse(const char *s, char *buf, size_t n, int *ret_prefix) {
        char addr[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN + 1];
        const char *slash = strchr(s, '/');
        size_t alen = slash ? (size_t) (slash - s) : strlen(s);
        IpAddr a, masked;
        int prefix;

        if (alen == 0 || alen >= sizeof(addr))
                return "is not an IP address or network";
        memcpy(addr, s, alen);
        addr[alen] = 0;
        if (!ip_parse(addr, &a))
                return "is not an IP address or network (a.b.c.d/n, an IPv6 network, or a "
                       "docker_service name)";
        prefix = a.bits;
        if (slash) {
                const char *p = slash + 1;

                if (!*p || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p) ||
                    (p[0] == '0' && p[1]))
                        return "has an invalid prefix length";
                prefix = (int) strtol(p, NULL, 10);
                if (prefix > a.bits)
                        return a.bits == 32 ? "has a prefix length above 32"
                                            : "has a prefix length above 128";
        }
        masked = a;
        for (int i = 0; i < a.bits / 8; i++) {
                int keep = prefix - i * 8;

                if (keep <= 0)
                        masked.bytes[i] = 0;
                else if (keep < 8)
                        masked.bytes[i] &= (unsigned char) (0xff << (8 - keep));
        }
        if (memcmp(masked.bytes, a.bytes, (size_t) a.bits / 8) != 0) {
                if (!ip_format(&masked, net, sizeof(net)))
                        return "is not an IP network";
                (void) snprintf(buf, n, "has host bits set (the network is %s/%d)", net, prefix);
                return buf;
        }
        if (!ip_format(&a, net, sizeof(net)))
                return "is not an IP network";
        (void) snprintf(buf, n, "%s/%d", net, prefix);
        *ret_prefix = prefix;
        return NULL;
}

int pgv_allow(const cJSON *spec, bool allow_public, cJSON *out, Error *e) {
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

int pgv_bind(const cJSON *f, const char *field, bool allow_public, char *buf, size_t n, Error *e) {
        char d[64];
        const char *s;
        IpAddr a;
        int r;

        r = want_string(f, field, PGV_BIND_MAX, &s, e);
        if (r < 0)
                return r;
        if (!ip_parse(s, &a) || !ip_format(&a, buf, n))
                return verr(e, -EINVAL, R_INVALID_VALUE, field, "%s is not an IP address",
                            json_describe(f, d, sizeof(d)));
        if (ip_is_unspecified(&a) && !allow_public)
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "%s listens on every address of the host, reachable from "
                            "anywhere; set spec.allow_public: true if you mean it",
                            buf);
        return 0;
}

/* A replica further behind than this is reported DEGRADED: a size ("16Mi", or bytes as a
 * number) or a duration ("30s"); normalised as {bytes: N} or {seconds: N}. */
int pgv_max_replication_lag(const cJSON *parent, const char *parent_path, cJSON *out, Error *e) {
        static const char *const known[] = {"bytes", "seconds", NULL};
        Path fp = path_key(parent_path, "max_replication_lag");
        const char *field = fp.s;
        const cJSON *v = spec_member(parent, "max_replication_lag");
        int64_t bytes = 0, seconds = LAG_DEFAULT_SEC;
        char d[64];
        cJSON *o;
        int r;

        if (cJSON_IsNumber(v)) {
                r = pgv_want_size(v, field, LAG_BYTES_MIN, LAG_BYTES_MAX, "1Mi..1Ti", &bytes, e);
                if (r < 0)
                        return r;
                seconds = 0;
        } else if (cJSON_IsString(v)) {
                usec_t t;

                if (duration_parse(v->valuestring, &t) >= 0) {
                        if (t % USEC_PER_SEC != 0 || t < USEC_PER_SEC)
                                return verr(e, -EINVAL, R_OUT_OF_RANGE, field,
                                            "%s is not a whole number of seconds (1s..24h)",
                                            json_describe(v, d, sizeof(d)));
                        seconds = (int64_t) (t / USEC_PER_SEC);
                } else if (memory_parse(v->valuestring, &bytes) >= 0) {
                        r = pgv_want_size(v, field, LAG_BYTES_MIN, LAG_BYTES_MAX, "1Mi..1Ti",
                                          &bytes, e);
                        if (r < 0)
                                return r;
                        seconds = 0;
                } else
                        return verr(e, -EINVAL, R_INVALID_VALUE, field,
                                    "%s is neither a size (\"16Mi\") nor a duration (\"30s\")",
                                    json_describe(v, d, sizeof(d)));
        } else if (v) {
                const cJSON *b, *s;

                r = check_map(v, field, known, NULL, NULL, e);
                if (r < 0)
                        return r;
                b = spec_member(v, "bytes");
                s = spec_member(v, "seconds");
                if ((b && s) || (!b && !s))
                        return verr(e, -EINVAL, R_INVALID_VALUE, field,
                                    "give exactly one of bytes and seconds");
                if (b) {
                        r = want_int(b, path_key(field, "bytes").s, LAG_BYTES_MIN, LAG_BYTES_MAX,
                                     &bytes, e);
                        seconds = 0;
                } else
                        r = want_int(s, path_key(field, "seconds").s, 1, LAG_SECONDS_MAX, &seconds,
                                     e);
                if (r < 0)
                        return r;
        }
        o = cJSON_AddObjectToObject(out, "max_replication_lag");
        if (!o)
                return -ENOMEM;
        if (bytes > 0)
                return add_number(o, "bytes", (double) bytes);
        return add_number(o, "seconds", (double) seconds);
}

/* ---- backup, maintenance, paused ----------------------------------------------------------- */

/* A schedule (schedule.h), spelled canonically: lower case, fields one space apart. */
int pgv_schedule(const cJSON *v, const char *field, char *buf, size_t n, Error *e) {
        Error se = ERROR_INIT;
        Schedule sch;
        const char *s;
        size_t k = 0;
        int r;

        r = want_string(v, field, SCHEDULE_MAX, &s, e);
        if (r < 0)
                return r;
        r = schedule_parse(s, &sch, &se);
        if (r < 0)
                return verr(e, -EINVAL, R_INVALID_VALUE, field, "\"%s\": %s", s, se.msg);
        for (const char *p = s; *p && k + 1 < n; p++) {
                if (*p == ' ' || *p == '\t') {
                        if (k > 0 && buf[k - 1] != ' ')
                                buf[k++] = ' ';
                        continue;
                }
                buf[k++] = *p >= 'A' && *p <= 'Z' ? (char) (*p - 'A' + 'a') : *p;
        }
        while (k > 0 && buf[k - 1] == ' ')
                k--;
        buf[k] = 0;
        return 0;
}

/* {secret: NAME} naming a berth secret of the project. */
static int v_secret_ref(const cJSON *v, const char *field, cJSON *out, const char *key, Error *e) {
        static const char *const known[] = {"secret", NULL};
        const char *name;
        cJSON *o;
        int r;

        if (!v)
                return verr(e, -EINVAL, R_REQUIRED, field, "is required: {secret: NAME}");
        r = check_map(v, field, known, NULL, NULL, e);
        if (r >= 0)
                r = want_string(spec_member(v, "secret"), path_key(field, "secret").s, NAME_MAX_LEN,
                                &name, e);
        if (r < 0)
                return r;
        if (!name_is_valid(name))
                return verr(e, -EINVAL, R_INVALID_NAME, path_key(field, "secret").s,
                            "\"%s\" is not a secret name", name);
        o = cJSON_AddObjectToObject(out, key);
        if (!o)
                return -ENOMEM;
        return add_string(o, "secret", name);
}

/* An S3-compatible bucket for pgBackRest: where (endpoint, bucket, region, path), how (path or
 * host style URIs, TLS verification), and with which keys (berth secrets, delivered to the
 * container's environment, never written in a file). */
static int v_s3(const cJSON *v, cJSON *o, Error *e) {
        static const char *const styles[] = {"path", "host", NULL};
        const char *bucket, *endpoint, *region = "us-east-1", *path = "/pgbackrest",
                                       *style = "path";
        bool verify = true;
        const cJSON *f;
        int r;

        if (!spec_member(v, "bucket") || !spec_member(v, "endpoint"))
                return verr(e, -EINVAL, R_REQUIRED, "spec.backup.repository",
                            "an s3 repository needs bucket and endpoint");
        r = want_string(spec_member(v, "bucket"), "spec.backup.repository.bucket", 63, &bucket, e);
        if (r >= 0 && strlen(bucket) < 3)
                r = verr(e, -EINVAL, R_INVALID_VALUE, "spec.backup.repository.bucket",
                         "\"%s\" is too short for a bucket name", bucket);
        if (r >= 0)
                r = want_string(spec_member(v, "endpoint"), "spec.backup.repository.endpoint", 253,
                                &endpoint, e);
        if (r >= 0 && (f = spec_member(v, "region")))
                r = want_string(f, "spec.backup.repository.region", 64, &region, e);
        if (r >= 0 && (f = spec_member(v, "path")))
                r = want_string(f, "spec.backup.repository.path", 256, &path, e);
        if (r >= 0 && path[0] != '/')
                r = verr(e, -EINVAL, R_INVALID_VALUE, "spec.backup.repository.path",
                         "must start with /");
        if (r >= 0 && (f = spec_member(v, "uri_style")))
                r = want_enum(f, "spec.backup.repository.uri_style", styles, &style, e);
        if (r >= 0)
                r = pgv_optional_bool(v, "verify_tls", "spec.backup.repository.verify_tls", true,
                                      &verify, e);
        if (r < 0)
                return r;
        /* Plain words only: the values go into pgbackrest.conf as they are. */
        for (const char *const *w = (const char *const[]){bucket, endpoint, region, path, NULL}; *w;
             w++)
                if (strpbrk(*w, " \t\r\n#=\"'\\"))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.backup.repository",
                                    "\"%s\" holds a space, a quote or one of #=\\", *w);
        r = add_string(o, "bucket", bucket);
        if (r >= 0)
                r = add_string(o, "endpoint", endpoint);
        if (r >= 0)
                r = add_string(o, "region", region);
        if (r >= 0)
                r = add_string(o, "path", path);
        if (r >= 0)
                r = add_string(o, "uri_style", style);
        if (r >= 0)
                r = add_bool(o, "verify_tls", verify);
        if (r >= 0)
                r = v_secret_ref(spec_member(v, "access_key"), "spec.backup.repository.access_key",
                                 o, "access_key", e);
        if (r >= 0)
                r = v_secret_ref(spec_member(v, "secret_key"), "spec.backup.repository.secret_key",
                                 o, "secret_key", e);
        return r;
}

static int v_repository(const cJSON *backup, cJSON *out, Error *e) {
        static const char *const known[] = {"type",       "bucket",    "endpoint",   "region",
                                            "path",       "uri_style", "verify_tls", "access_key",
                                            "secret_key", NULL};
        static const char *const types[] = {"volume", "s3", NULL};
        const cJSON *v = spec_member(backup, "repository"), *f;
        const char *type = "volume";
        cJSON *o;
        int r;

        if (v) {
                r = want_map(v, "spec.backup.repository", e);
                if (r < 0)
                        return r;
                f = spec_member(v, "type");
                if (f) {
                        r = want_enum(f, "spec.backup.repository.type", types, &type, e);
                        if (r < 0)
                                return r;
                }
                r = check_map(v, "spec.backup.repository", known, NULL, NULL, e);
                if (r < 0)
                        return r;
        }
        o = cJSON_AddObjectToObject(out, "repository");
        if (!o)
                return -ENOMEM;
        r = add_string(o, "type", type);
        if (r >= 0 && streq(type, "s3"))
                r = v_s3(v, o, e);
        else if (r >= 0 && v && cJSON_GetArraySize(v) > (spec_member(v, "type") ? 1 : 0))
                r = verr(e, -EINVAL, R_INVALID_VALUE, "spec.backup.repository",
                         "bucket, endpoint and keys are for type: s3");
        return r;
}

int pgv_backup(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"enabled", "schedule",   "retention_days",
                                            "pitr",    "repository", NULL};
        const cJSON *v = spec_member(spec, "backup"), *f;
        char schedule[SCHEDULE_MAX + 1] = DEFAULT_SCHEDULE;
        bool enabled = false, pitr = false;
        int64_t retention = PG_DEFAULT_RETENTION_DAYS;
        cJSON *o;
        int r;

        if (v) {
                r = check_map(v, "spec.backup", known, NULL, NULL, e);
                if (r < 0)
                        return r;
        }
        o = cJSON_AddObjectToObject(out, "backup");
        if (!o)
                return -ENOMEM;
        r = pgv_optional_bool(v, "enabled", "spec.backup.enabled", false, &enabled, e);
        if (r < 0)
                return r;
        f = spec_member(v, "schedule");
        if (f) {
                r = pgv_schedule(f, "spec.backup.schedule", schedule, sizeof(schedule), e);
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "retention_days");
        if (f) {
                r = want_int(f, "spec.backup.retention_days", 1, RETENTION_MAX, &retention, e);
                if (r < 0)
                        return r;
        }
        r = pgv_optional_bool(v, "pitr", "spec.backup.pitr", false, &pitr, e);
        if (r < 0)
                return r;
        if (pitr && !enabled)
                return verr(e, -EINVAL, R_CONFLICT, "spec.backup.pitr",
                            "needs spec.backup.enabled: true (point-in-time recovery replays "
                            "archived WAL on top of a backup)");
        r = add_bool(o, "enabled", enabled);
        if (r >= 0)
                r = add_string(o, "schedule", schedule);
        if (r >= 0)
                r = add_number(o, "retention_days", (double) retention);
        if (r >= 0)
                r = add_bool(o, "pitr", pitr);
        if (r >= 0)
                r = v_repository(v, o, e);
        return r;
}

int pgv_paused(const cJSON *spec, cJSON *out, Error *e) {
        bool paused = false;
        int r;

        r = pgv_optional_bool(spec, "paused", "spec.paused", false, &paused, e);
        if (r < 0)
                return r;
        return add_bool(out, "paused", paused);
}
