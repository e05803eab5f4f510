/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/resource.h"
#include "model/service.h"
#include "model/units.h"
#include "model/validate-util.h"

/* docker_service: validation and normalisation. The output is a new object with every default
 * filled in and keys in one fixed order, so the same intent always serialises to the same
 * bytes (and hashes the same). Normalised output validates again to itself. */

#define PORTS_MAX        64
#define ENV_MAX          1024
#define ENV_NAME_MAX     256
#define ARGV_MAX         256
#define NETWORKS_MAX     16
#define IMAGE_MAX        512
#define IMAGE_NAME_MAX   255
#define REPLICAS_MAX     100
#define CPU_MIN          0.01
#define CPU_MAX          64.0
#define MEMORY_MIN       ((int64_t) 4 << 20)
#define MEMORY_MAX       ((int64_t) 256 << 30)
#define RETRIES_MAX      1000
#define PATH_MAX_LEN     1024
#define VOLUMES_MAX      16
#define FILES_MAX        64
#define FILE_CONTENT_MAX (256 * 1024)
#define TMPFS_DEFAULT    ((int64_t) 64 << 20)
#define SECRETS_MAX      64
#define DEPENDS_MAX      16

static const char *const spec_fields[] = {
        "image",  "type",      "command",      "args",           "env",         "ports",
        "plan",   "resources", "replicas",     "restart_policy", "healthcheck", "networks",
        "paused", "volumes",   "config_files", "secrets",        "depends_on",  NULL,
};
/* In the contract, not implemented yet: refused by name so nobody is silently ignored. */
static const char *const spec_unsupported[] = {
        "deploy",
        NULL,
};

static const struct {
        const char *name;
        double cpu;
        int64_t memory;
} plans[] = {
        {"small", 0.25, (int64_t) 256 << 20},
        {"medium", 0.5, (int64_t) 512 << 20},
        {"large", 1.0, (int64_t) 1 << 30},
};

/* ---- image references ------------------------------------------------------------------ */

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* over s[0..n) */
static bool path_component_valid(const char *s, size_t n) {
        size_t i = 0;

        while (i < n) {
                size_t run = 0;

                while (i < n && is_lower_alnum(s[i]))
                        i++, run++;
                if (run == 0)
                        return false;
                if (i == n)
                        return true;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
                if (i == n)
                        return false;
        }
        return false;
}

/* host[:port], host = dot-separated ([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]) */
static bool domain_valid(const char *s, size_t n) {
        const char *colon = memchr(s, ':', n);
        size_t hn = colon ? (size_t) (colon - s) : n;
        size_t i = 0;

        if (colon) {
                size_t pn = n - hn - 1;

                if (pn == 0 || pn > 5)
                        return false;
                for (size_t k = hn + 1; k < n; k++)
                        if (s[k] < '0' || s[k] > '9')
                                return false;
        }
        while (i < hn) {
                size_t start = i;

                while (i < hn && s[i] != '.')
                        i++;
                if (i == start || !is_alnum(s[start]) || !is_alnum(s[i - 1]))
                        return false;
                for (size_t k = start; k < i; k++)
                        if (!is_alnum(s[k]) && s[k] != '-')
                                return false;
                if (i < hn && ++i == hn)
                        return false; /* trailing dot */
        }
        return hn > 0;
}

static bool is_word(char c) {
        return is_alnum(c) || c == '_';
}

/* Returns NULL when valid, else why not. */
static const char *image_reference_check(const char *ref) {
        const char *at = strchr(ref, '@'), *slash, *colon;
        size_t n = at ? (size_t) (at - ref) : strlen(ref);
        size_t name_len, start = 0;

        for (const char *p = ref; *p; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        return "it contains spaces or non-ASCII characters";
        if (at) {
                const char *d = at + 1;

                if (!strneq(d, "sha256:", 7) || strlen(d + 7) != 64 ||
                    strspn(d + 7, "0123456789abcdef") != 64)
                        return "a digest must be @sha256: followed by 64 lower-case hex digits";
        }
        if (n == 0)
                return "the repository name is empty";

        /* A ':' after the last '/' starts the tag. */
        slash = memrchr(ref, '/', n);
        colon = memrchr(slash ? slash : ref, ':', n - (size_t) (slash ? slash - ref : 0));
        name_len = colon ? (size_t) (colon - ref) : n;
        if (colon) {
                const char *tag = colon + 1;
                size_t tn = n - name_len - 1;

                if (tn == 0)
                        return "the tag after ':' is empty";
                if (tn > 128)
                        return "the tag is longer than 128 characters";
                if (!is_word(tag[0]))
                        return "a tag must start with a letter, digit or '_'";
                for (size_t i = 0; i < tn; i++)
                        if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
                                return "a tag may contain only letters, digits, '_', '.' and '-'";
        }
        if (name_len == 0)
                return "the repository name is empty";
        if (name_len > IMAGE_NAME_MAX)
                return "the repository name is longer than 255 characters";

        /* The first component is a registry when it looks like one: a '.', a ':' or localhost. */
        slash = memchr(ref, '/', name_len);
        if (slash) {
                size_t dn = (size_t) (slash - ref);
                bool is_domain = memchr(ref, '.', dn) || memchr(ref, ':', dn) ||
                                 (dn == 9 && strneq(ref, "localhost", 9));

                if (is_domain) {
                        if (!domain_valid(ref, dn))
                                return "the registry host is not valid";
                        start = dn + 1;
                }
        }
        while (start <= name_len) {
                const char *end = memchr(ref + start, '/', name_len - start);
                size_t cn = end ? (size_t) (end - ref) - start : name_len - start;

                if (cn == 0)
                        return "a path component is empty";
                if (!path_component_valid(ref + start, cn))
                        return "repository path components are lower-case letters and digits "
                               "separated by '.', '_', '__' or '-'";
                start += cn + 1;
        }
        return NULL;
}

/* ---- fields ----------------------------------------------------------------------------- */

static bool env_name_valid(const char *s) {
        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        for (const char *p = s + 1; *p; p++)
                if (!is_word(*p))
                        return false;
        return true;
}

/* Strict dotted quad: four decimal octets, no leading zeros. */
static bool ipv4_valid(const char *s) {
        for (int part = 0; part < 4; part++) {
                int v = 0, digits = 0;

                if (part > 0 && *s++ != '.')
                        return false;
                if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
                        return false;
                while (*s >= '0' && *s <= '9' && digits < 4) {
                        v = v * 10 + (*s++ - '0');
                        digits++;
                }
                if (digits == 0 || v > 255)
                        return false;
        }
        return *s == 0;
}

static int add_string(cJSON *o, const char *key, const char *s) {
        return json_add_item_take(o, key, cJSON_CreateString(s));
}

static int add_number(cJSON *o, const char *key, double v) {
        return json_add_item_take(o, key, cJSON_CreateNumber(v));
}

static int add_duration(cJSON *o, const char *key, usec_t t) {
        char buf[64];

        return add_string(o, key, duration_format(t, buf, sizeof(buf)));
}

static int v_image(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "image");
        const char *s, *why;
        char d[64];
        int r;

        if (!v)
                return verr(e, -EINVAL, R_REQUIRED, "spec.image",
                            "is required (the container image to run, e.g. berth/busybox)");
        r = want_string(v, "spec.image", IMAGE_MAX, &s, e);
        if (r < 0)
                return r;
        why = image_reference_check(s);
        if (why)
                return verr(e, -EINVAL, R_INVALID_VALUE, "spec.image",
                            "%s is not a valid image reference: %s", json_describe(v, d, sizeof(d)),
                            why);
        return add_string(out, "image", s);
}

static int v_type(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const types[] = {"web", "worker", NULL};
        const cJSON *v = spec_member(spec, "type");
        const char *s = "web";
        int r;

        if (v) {
                r = want_enum(v, "spec.type", types, &s, e);
                if (r < 0)
                        return r;
        }
        return add_string(out, "type", s);
}

static int v_argv(const cJSON *spec, const char *key, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, key);
        cJSON *l = NULL;
        int r;

        if (!v)
                return json_add_item_take(out, key, cJSON_CreateArray());
        r = want_string_list(v, path_key("spec", key).s, true, ARGV_MAX, &l, e);
        if (r < 0)
                return r;
        return json_add_item_take(out, key, l);
}

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

/* The prologue of the maps keyed by name (env, secrets): a map of at most `max` members, no key
 * twice; a new empty output object in *ret_out. */
static int map_prologue(const cJSON *v, const char *field, size_t max, const char *items,
                        cJSON **ret_out, Error *e) {
        const char *dup = NULL;
        int r;

        r = want_map(v, field, e);
        if (r < 0)
                return r;
        if ((size_t) cJSON_GetArraySize(v) > max)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field, "has more than %zu %s", max, items);
        r = json_find_duplicate_key(v, &dup);
        if (r < 0)
                return r;
        if (dup)
                return verr(e, -EINVAL, R_DUPLICATE, path_key(field, dup).s,
                            "is set more than once");
        *ret_out = cJSON_CreateObject();
        return *ret_out ? 0 : -ENOMEM;
}

static int v_env(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "env"), *c;
        _cleanup_json_ cJSON *env = NULL;
        int r;

        if (!v)
                return json_add_item_take(out, "env", cJSON_CreateObject());
        r = map_prologue(v, "spec.env", ENV_MAX, "variables", &env, e);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(c, v) {
                Path f = path_key("spec.env", c->string);
                _cleanup_free_ char *value = NULL;

                if (strlen(c->string) > ENV_NAME_MAX || !env_name_valid(c->string))
                        return verr(e, -EINVAL, R_INVALID_NAME, f.s,
                                    "\"%s\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
                                    c->string);
                r = want_scalar_string(c, f.s, SPEC_STRING_MAX, &value, e);
                if (r < 0)
                        return r;
                r = add_string(env, c->string, value);
                if (r < 0)
                        return r;
        }
        return json_add_item_take(out, "env", sorted_copy(env));
}

static int v_port(const cJSON *p, const char *field, cJSON **ret, int64_t *ret_host,
                  const char **ret_proto, Error *e) {
        static const char *const known[] = {"container_port", "host_port", "bind", "protocol",
                                            NULL};
        static const char *const protocols[] = {"tcp", "udp", NULL};
        _cleanup_json_ cJSON *o = NULL;
        const cJSON *v;
        int64_t cport, hport = 0;
        const char *bind = NULL, *proto = "tcp";
        char d[64];
        int r;

        r = check_map(p, field, known, NULL, NULL, e);
        if (r < 0)
                return r;
        v = spec_member(p, "container_port");
        if (!v)
                return verr(e, -EINVAL, R_REQUIRED, path_key(field, "container_port").s,
                            "is required");
        r = want_int(v, path_key(field, "container_port").s, 1, 65535, &cport, e);
        if (r < 0)
                return r;
        v = spec_member(p, "host_port");
        if (v) {
                r = want_int(v, path_key(field, "host_port").s, 1, 65535, &hport, e);
                if (r < 0)
                        return r;
        }
        v = spec_member(p, "bind");
        if (v) {
                r = want_string(v, path_key(field, "bind").s, 64, &bind, e);
                if (r < 0)
                        return r;
                if (!ipv4_valid(bind))
                        return verr(e, -EINVAL, R_INVALID_VALUE, path_key(field, "bind").s,
                                    "%s is not an IPv4 address", json_describe(v, d, sizeof(d)));
                if (hport == 0)
                        return verr(e, -EINVAL, R_INVALID_VALUE, path_key(field, "bind").s,
                                    "only applies to a published port: set host_port too");
        }
        v = spec_member(p, "protocol");
        if (v) {
                r = want_enum(v, path_key(field, "protocol").s, protocols, &proto, e);
                if (r < 0)
                        return r;
        }

        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        r = add_number(o, "container_port", (double) cport);
        if (r >= 0 && hport > 0)
                r = add_number(o, "host_port", (double) hport);
        if (r >= 0 && hport > 0)
                r = add_string(o, "bind", bind ? bind : "127.0.0.1");
        if (r >= 0)
                r = add_string(o, "protocol", proto);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        *ret_host = hport;
        *ret_proto = proto;
        return 0;
}

static int v_ports(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "ports"), *it;
        cJSON *ports;
        size_t i = 0;
        char d[64];
        int r;

        ports = cJSON_AddArrayToObject(out, "ports");
        if (!ports)
                return -ENOMEM;
        if (!v)
                return 0;
        if (!cJSON_IsArray(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, "spec.ports",
                            "must be a list of {container_port, host_port}, not %s",
                            json_describe(v, d, sizeof(d)));
        if (cJSON_GetArraySize(v) > PORTS_MAX)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, "spec.ports", "has more than %d ports",
                            PORTS_MAX);
        cJSON_ArrayForEach(it, v) {
                Path f = path_index("spec.ports", i);
                const char *proto = "tcp";
                int64_t hport = 0;
                _cleanup_json_ cJSON *o = NULL;
                size_t j = 0;
                const cJSON *prev;
                double cport;

                r = v_port(it, f.s, &o, &hport, &proto, e);
                if (r < 0)
                        return r;
                cport = cJSON_GetObjectItemCaseSensitive(o, "container_port")->valuedouble;
                /* Compare with the ports accepted so far (normalised, so fields are present). */
                cJSON_ArrayForEach(prev, ports) {
                        const cJSON *pp = cJSON_GetObjectItemCaseSensitive(prev, "protocol");
                        const cJSON *pc = cJSON_GetObjectItemCaseSensitive(prev, "container_port");
                        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(prev, "host_port");

                        if (streq(pp->valuestring, proto) && hport > 0 && ph &&
                            (int64_t) ph->valuedouble == hport)
                                return verr(e, -EINVAL, R_DUPLICATE, path_key(f.s, "host_port").s,
                                            "host port %" PRId64 "/%s is already published by "
                                            "spec.ports[%zu]",
                                            hport, proto, j);
                        if (streq(pp->valuestring, proto) && pc->valuedouble == cport)
                                return verr(e, -EINVAL, R_DUPLICATE,
                                            path_key(f.s, "container_port").s,
                                            "container port %.0f/%s is already listed in "
                                            "spec.ports[%zu]",
                                            cport, proto, j);
                        j++;
                }
                r = json_add_item_take(ports, NULL, TAKE_PTR(o));
                if (r < 0)
                        return r;
                i++;
        }
        return 0;
}

static int plan_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(plans); i++)
                if (streq(plans[i].name, name))
                        return (int) i;
        return -1;
}

static int v_resources(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"cpu", "memory", NULL};
        static const char *const plan_names[] = {"small", "medium", "large", NULL};
        const cJSON *pv = spec_member(spec, "plan"), *rv = spec_member(spec, "resources"), *v;
        const char *plan = NULL;
        double cpu = 0;
        int64_t memory = 0;
        bool have_cpu = false, have_mem = false;
        char d[64];
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
                        if (cJSON_IsNumber(v)) {
                                r = want_int(v, "spec.resources.memory", MEMORY_MIN, MEMORY_MAX,
                                             &memory, e);
                                if (r < 0)
                                        return r;
                        } else if (cJSON_IsString(v)) {
                                r = memory_parse(v->valuestring, &memory);
                                if (r == -EINVAL)
                                        return verr(e, -EINVAL, R_INVALID_VALUE,
                                                    "spec.resources.memory",
                                                    "%s is not a size (use bytes or a unit: "
                                                    "Ki, Mi, Gi, or K, M, G: \"256Mi\")",
                                                    json_describe(v, d, sizeof(d)));
                                if (r < 0 || memory < MEMORY_MIN || memory > MEMORY_MAX)
                                        return verr(e, -EINVAL, R_OUT_OF_RANGE,
                                                    "spec.resources.memory",
                                                    "%s is out of range (4Mi..256Gi)",
                                                    json_describe(v, d, sizeof(d)));
                        } else
                                return verr(e, -EINVAL, R_INVALID_TYPE, "spec.resources.memory",
                                            "must be a size such as \"256Mi\", not %s",
                                            json_describe(v, d, sizeof(d)));
                        have_mem = true;
                }
        }
        if (plan) {
                int i = plan_find(plan);

                /* A normalised spec carries both, equal: that re-validates to itself. */
                if (rv &&
                    (!have_cpu || !have_mem || cpu != plans[i].cpu || memory != plans[i].memory))
                        return verr(e, -EINVAL, R_CONFLICT, "spec.resources",
                                    "set either plan or resources, not both");
                cpu = plans[i].cpu;
                memory = plans[i].memory;
                have_cpu = have_mem = true;
                r = add_string(out, "plan", plan);
                if (r < 0)
                        return r;
        }
        if (have_cpu || have_mem) {
                cJSON *res = cJSON_AddObjectToObject(out, "resources");

                if (!res)
                        return -ENOMEM;
                r = have_cpu ? add_number(res, "cpu", cpu) : 0;
                if (r >= 0 && have_mem)
                        r = add_number(res, "memory", (double) memory);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v_replicas(const cJSON *spec, cJSON *out, int64_t *ret, Error *e) {
        const cJSON *v = spec_member(spec, "replicas");
        int64_t n = 1;
        int r;

        if (v) {
                r = want_int(v, "spec.replicas", 0, REPLICAS_MAX, &n, e);
                if (r < 0)
                        return r;
        }
        *ret = n;
        return add_number(out, "replicas", (double) n);
}

/* A published host port can be bound by one container only. */
static int check_host_ports(const cJSON *out, int64_t replicas, Error *e) {
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(out, "ports"), *p;
        size_t i = 0;

        if (replicas <= 1)
                return 0;
        cJSON_ArrayForEach(p, ports) {
                const cJSON *h = cJSON_GetObjectItemCaseSensitive(p, "host_port");

                if (h)
                        return verr(e, -EINVAL, R_CONFLICT,
                                    path_key(path_index("spec.ports", i).s, "host_port").s,
                                    "a published port can only be bound by one replica, and "
                                    "replicas is %" PRId64 " (until berth's load balancer lands, "
                                    "use replicas: 1 or drop host_port)",
                                    replicas);
                i++;
        }
        return 0;
}

static int v_restart(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"name", "max_retries", "delay", NULL};
        static const char *const names[] = {"no", "on-failure", "always", "unless-stopped", NULL};
        const cJSON *v = spec_member(spec, "restart_policy"), *f;
        const char *name = "unless-stopped";
        int64_t retries = 0;
        usec_t delay = 0;
        cJSON *o;
        int r;

        if (v && cJSON_IsString(v)) {
                /* Shorthand: restart_policy: always */
                r = want_enum(v, "spec.restart_policy", names, &name, e);
                if (r < 0)
                        return r;
        } else if (v) {
                r = check_map(v, "spec.restart_policy", known, NULL, NULL, e);
                if (r < 0)
                        return r;
                f = spec_member(v, "name");
                if (f) {
                        r = want_enum(f, "spec.restart_policy.name", names, &name, e);
                        if (r < 0)
                                return r;
                }
                f = spec_member(v, "max_retries");
                if (f) {
                        r = want_int(f, "spec.restart_policy.max_retries", 0, RETRIES_MAX, &retries,
                                     e);
                        if (r < 0)
                                return r;
                        if (!streq(name, "on-failure"))
                                return verr(e, -EINVAL, R_INVALID_VALUE,
                                            "spec.restart_policy.max_retries",
                                            "only applies with name: on-failure (name is %s)",
                                            name);
                }
                f = spec_member(v, "delay");
                if (f) {
                        r = want_duration(f, "spec.restart_policy.delay", 0, 3600 * USEC_PER_SEC,
                                          &delay, e);
                        if (r < 0)
                                return r;
                }
        }
        o = cJSON_AddObjectToObject(out, "restart_policy");
        if (!o)
                return -ENOMEM;
        r = add_string(o, "name", name);
        if (r >= 0 && streq(name, "on-failure"))
                r = add_number(o, "max_retries", (double) retries);
        if (r >= 0)
                r = add_duration(o, "delay", delay);
        return r;
}

static int v_healthcheck(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {"type",
                                            "path",
                                            "port",
                                            "command",
                                            "interval",
                                            "timeout",
                                            "healthy_threshold",
                                            "unhealthy_threshold",
                                            NULL};
        static const char *const types[] = {"http", "tcp", "command", NULL};
        const cJSON *v = spec_member(spec, "healthcheck"), *f;
        _cleanup_json_ cJSON *command = NULL;
        const char *type, *path = "/";
        int64_t port = 0, healthy = 1, unhealthy = 3;
        usec_t interval = 10 * USEC_PER_SEC, timeout;
        char d[64], a[32], b[32];
        cJSON *o;
        int r;

        if (!v)
                return 0;
        r = check_map(v, "spec.healthcheck", known, NULL, NULL, e);
        if (r < 0)
                return r;
        f = spec_member(v, "type");
        if (!f)
                return verr(e, -EINVAL, R_REQUIRED, "spec.healthcheck.type",
                            "is required (http, tcp or command)");
        r = want_enum(f, "spec.healthcheck.type", types, &type, e);
        if (r < 0)
                return r;

        f = spec_member(v, "path");
        if (f) {
                if (!streq(type, "http"))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.healthcheck.path",
                                    "only applies to type http");
                r = want_string(f, "spec.healthcheck.path", PATH_MAX_LEN, &path, e);
                if (r < 0)
                        return r;
                if (path[0] != '/' || strpbrk(path, " \t\r\n"))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.healthcheck.path",
                                    "%s must start with '/' and contain no spaces",
                                    json_describe(f, d, sizeof(d)));
                for (const char *p = path; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                return verr(e, -EINVAL, R_INVALID_VALUE, "spec.healthcheck.path",
                                            "contains control characters");
        }

        f = spec_member(v, "port");
        if (f) {
                if (streq(type, "command"))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.healthcheck.port",
                                    "only applies to types http and tcp");
                r = want_int(f, "spec.healthcheck.port", 1, 65535, &port, e);
                if (r < 0)
                        return r;
        } else if (!streq(type, "command")) {
                const cJSON *first =
                        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "ports"), 0);

                if (!first)
                        return verr(e, -EINVAL, R_REQUIRED, "spec.healthcheck.port",
                                    "is required for a %s check when the service has no ports",
                                    type);
                port = (int64_t) cJSON_GetObjectItemCaseSensitive(first, "container_port")
                               ->valuedouble;
        }

        f = spec_member(v, "command");
        if (f) {
                if (!streq(type, "command"))
                        return verr(e, -EINVAL, R_INVALID_VALUE, "spec.healthcheck.command",
                                    "only applies to type command");
                r = want_string_list(f, "spec.healthcheck.command", false, ARGV_MAX, &command, e);
                if (r < 0)
                        return r;
        }
        if (streq(type, "command") && cJSON_GetArraySize(command) == 0)
                return verr(e, -EINVAL, R_REQUIRED, "spec.healthcheck.command",
                            "is required for type command (a list such as [\"pg_isready\"])");

        f = spec_member(v, "interval");
        if (f) {
                r = want_duration(f, "spec.healthcheck.interval", USEC_PER_SEC, 3600 * USEC_PER_SEC,
                                  &interval, e);
                if (r < 0)
                        return r;
        }
        timeout = MIN(2 * USEC_PER_SEC, interval);
        f = spec_member(v, "timeout");
        if (f) {
                r = want_duration(f, "spec.healthcheck.timeout", USEC_PER_MSEC, 3600 * USEC_PER_SEC,
                                  &timeout, e);
                if (r < 0)
                        return r;
                if (timeout > interval)
                        return verr(e, -EINVAL, R_OUT_OF_RANGE, "spec.healthcheck.timeout",
                                    "%s is longer than the interval (%s)",
                                    duration_format(timeout, a, sizeof(a)),
                                    duration_format(interval, b, sizeof(b)));
        }
        f = spec_member(v, "healthy_threshold");
        if (f) {
                r = want_int(f, "spec.healthcheck.healthy_threshold", 1, 10, &healthy, e);
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "unhealthy_threshold");
        if (f) {
                r = want_int(f, "spec.healthcheck.unhealthy_threshold", 1, 10, &unhealthy, e);
                if (r < 0)
                        return r;
        }

        o = cJSON_AddObjectToObject(out, "healthcheck");
        if (!o)
                return -ENOMEM;
        r = add_string(o, "type", type);
        if (r >= 0 && streq(type, "http"))
                r = add_string(o, "path", path);
        if (r >= 0 && !streq(type, "command"))
                r = add_number(o, "port", (double) port);
        if (r >= 0 && streq(type, "command"))
                r = json_add_item_take(o, "command", TAKE_PTR(command));
        if (r >= 0)
                r = add_duration(o, "interval", interval);
        if (r >= 0)
                r = add_duration(o, "timeout", timeout);
        if (r >= 0)
                r = add_number(o, "healthy_threshold", (double) healthy);
        if (r >= 0)
                r = add_number(o, "unhealthy_threshold", (double) unhealthy);
        return r;
}

static int v_networks(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "networks"), *it;
        _cleanup_json_ cJSON *l = NULL;
        size_t i = 0;
        int r;

        if (!v)
                return json_add_item_take(out, "networks", cJSON_CreateArray());
        r = want_string_list(v, "spec.networks", false, NETWORKS_MAX, &l, e);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(it, l) {
                Path f = path_index("spec.networks", i);

                if (!name_is_valid(it->valuestring))
                        return verr(e, -EINVAL, R_INVALID_NAME, f.s,
                                    "\"%s\" is not a valid network name (a DNS label: "
                                    "lower-case letters, digits and '-')",
                                    it->valuestring);
                for (const cJSON *p = l->child; p != it; p = p->next)
                        if (streq(p->valuestring, it->valuestring))
                                return verr(e, -EINVAL, R_DUPLICATE, f.s, "\"%s\" is listed twice",
                                            it->valuestring);
                i++;
        }
        return json_add_item_take(out, "networks", TAKE_PTR(l));
}

/* An absolute container path: no "..", no empty or "." components, not "/" itself. */
static const char *container_path_check(const char *p) {
        const char *c = p;

        if (p[0] != '/')
                return "must be an absolute path";
        if (streq(p, "/"))
                return "cannot be the root directory";
        if (strlen(p) > PATH_MAX_LEN)
                return "is longer than 1024 characters";
        while (*c) {
                const char *end;
                size_t n;

                c++; /* the '/' */
                end = strchrnul(c, '/');
                n = (size_t) (end - c);
                if (n == 0 && *end)
                        return "has an empty component (\"//\")";
                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return "may not contain \".\" or \"..\" components";
                c = end;
        }
        return NULL;
}

/* A plain file name: [A-Za-z0-9._-]{1,255}, not "." or "..". */
static bool file_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 255 || streq(s, ".") || streq(s, ".."))
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int want_path(const cJSON *v, const char *field, const char **ret, Error *e) {
        const char *why;
        int r;

        r = want_string(v, field, PATH_MAX_LEN, ret, e);
        if (r < 0)
                return r;
        why = container_path_check(*ret);
        if (why)
                return verr(e, -EINVAL, R_INVALID_VALUE, field, "\"%s\" %s", *ret, why);
        return 0;
}

/* The prologue of the optional lists (volumes, config_files, depends_on): *ret_list is NULL when
 * the member is absent, else the input list (checked to be a list of at most `max` items), with a
 * new empty output array in *ret_out. */
static int optional_list(const cJSON *spec, const char *key, size_t max, const char *items,
                         const cJSON **ret_list, cJSON **ret_out, Error *e) {
        const cJSON *v = spec_member(spec, key);
        Path f = path_key("spec", key);

        *ret_list = NULL;
        *ret_out = NULL;
        if (!v)
                return 0;
        if (!cJSON_IsArray(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, f.s, "must be a list");
        if ((size_t) cJSON_GetArraySize(v) > max)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, f.s, "at most %zu %s", max, items);
        *ret_out = cJSON_CreateArray();
        if (!*ret_out)
                return -ENOMEM;
        *ret_list = v;
        return 0;
}

static const char *const volume_fields[] = {"name", "mount_path", "type", "size", "retain", NULL};
static const char *const volume_types[] = {"persistent", "ephemeral", NULL};

static int v_volume(const cJSON *v, const char *field, cJSON **ret, Error *e) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        const char *name, *mount, *type = "persistent";
        int64_t size = 0;
        bool retain = false;
        Path f;
        int r;

        if (!o)
                return -ENOMEM;
        r = check_map(v, field, volume_fields, NULL, NULL, e);
        if (r < 0)
                return r;
        f = path_key(field, "name");
        if (!spec_member(v, "name"))
                return verr(e, -EINVAL, R_REQUIRED, f.s, "is required");
        r = want_string(spec_member(v, "name"), f.s, NAME_MAX_LEN, &name, e);
        if (r < 0)
                return r;
        if (!name_is_valid(name))
                return verr(e, -EINVAL, R_INVALID_NAME, f.s,
                            "\"%s\" is not a valid volume name (a DNS label)", name);
        f = path_key(field, "mount_path");
        if (!spec_member(v, "mount_path"))
                return verr(e, -EINVAL, R_REQUIRED, f.s, "is required");
        r = want_path(spec_member(v, "mount_path"), f.s, &mount, e);
        if (r < 0)
                return r;
        if (spec_member(v, "type")) {
                r = want_enum(spec_member(v, "type"), path_key(field, "type").s, volume_types,
                              &type, e);
                if (r < 0)
                        return r;
        }
        if (spec_member(v, "size")) {
                const char *s;
                f = path_key(field, "size");
                r = want_string(spec_member(v, "size"), f.s, 32, &s, e);
                if (r < 0)
                        return r;
                if (memory_parse(s, &size) < 0 || size < MEMORY_MIN || size > ((int64_t) 16 << 40))
                        return verr(e, -EINVAL, R_OUT_OF_RANGE, f.s,
                                    "\"%s\" is not a size between 4Mi and 16Ti", s);
        } else if (streq(type, "ephemeral"))
                size = TMPFS_DEFAULT;
        if (spec_member(v, "retain")) {
                f = path_key(field, "retain");
                r = want_bool(spec_member(v, "retain"), f.s, &retain, e);
                if (r < 0)
                        return r;
                if (retain && streq(type, "ephemeral"))
                        return verr(e, -EINVAL, R_CONFLICT, f.s,
                                    "an ephemeral volume lives in memory and cannot be retained");
        }
        r = add_string(o, "name", name);
        if (r >= 0)
                r = add_string(o, "mount_path", mount);
        if (r >= 0)
                r = add_string(o, "type", type);
        if (r >= 0 && size > 0)
                r = add_number(o, "size", (double) size);
        if (r >= 0 && streq(type, "persistent"))
                r = json_add_item_take(o, "retain", cJSON_CreateBool(retain));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* Per-replica named volumes (or tmpfs). Emitted only when present, so specs written before
 * volumes existed keep their normalised bytes (no spurious rollout after an upgrade). */
static int v_volumes(const cJSON *spec, cJSON *out, Error *e) {
        _cleanup_json_ cJSON *l = NULL;
        const cJSON *v, *it;
        size_t i = 0;
        int r;

        r = optional_list(spec, "volumes", VOLUMES_MAX, "volumes", &v, &l, e);
        if (r < 0 || !v)
                return r;
        cJSON_ArrayForEach(it, v) {
                Path f = path_index("spec.volumes", i++);
                cJSON *vol = NULL;

                r = v_volume(it, f.s, &vol, e);
                if (r < 0)
                        return r;
                for (const cJSON *p = l->child; p; p = p->next) {
                        const char *pn = cJSON_GetObjectItem(p, "name")->valuestring;
                        const char *pm = cJSON_GetObjectItem(p, "mount_path")->valuestring;
                        const char *n = cJSON_GetObjectItem(vol, "name")->valuestring;
                        const char *m = cJSON_GetObjectItem(vol, "mount_path")->valuestring;
                        if (streq(pn, n) || streq(pm, m)) {
                                /* The message reads n and m, which live in vol: delete after. */
                                r = verr(e, -EINVAL, R_DUPLICATE, f.s,
                                         "volume \"%s\" at %s: name or mount_path used twice", n,
                                         m);
                                cJSON_Delete(vol);
                                return r;
                        }
                }
                r = json_add_item_take(l, NULL, vol);
                if (r < 0)
                        return r;
        }
        if (cJSON_GetArraySize(l) == 0)
                return 0;
        return json_add_item_take(out, "volumes", TAKE_PTR(l));
}

static const char *const file_fields[] = {"path", "content", "mode", NULL};

static int v_file_mode(const cJSON *v, const char *field, int64_t *ret, Error *e) {
        const char *s;
        char *end;
        long m;
        int r;

        /* YAML reads 0644 as the number 644 (YAML 1.2 has no leading-zero octal): spell modes
         * as strings ("0644") or as 0o644, which the parser gives as 420. */
        if (cJSON_IsNumber(v))
                return want_int(v, field, 0, 07777, ret, e);
        r = want_string(v, field, 8, &s, e);
        if (r < 0)
                return r;
        errno = 0;
        m = strtol(s, &end, 8);
        if (errno || end == s || *end || m < 0 || m > 07777)
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "\"%s\" is not an octal file mode such as \"0644\"", s);
        *ret = m;
        return 0;
}

/* Files written into the container before it starts. Emitted only when present. */
static int v_config_files(const cJSON *spec, cJSON *out, Error *e) {
        _cleanup_json_ cJSON *l = NULL;
        const cJSON *v, *it;
        size_t i = 0;
        int r;

        r = optional_list(spec, "config_files", FILES_MAX, "files", &v, &l, e);
        if (r < 0 || !v)
                return r;
        cJSON_ArrayForEach(it, v) {
                Path f = path_index("spec.config_files", i++);
                _cleanup_json_ cJSON *o = cJSON_CreateObject();
                _cleanup_free_ char *content = NULL;
                const char *path;
                int64_t mode = 0644;
                char mbuf[8];

                if (!o)
                        return -ENOMEM;
                r = check_map(it, f.s, file_fields, NULL, NULL, e);
                if (r < 0)
                        return r;
                if (!spec_member(it, "path"))
                        return verr(e, -EINVAL, R_REQUIRED, path_key(f.s, "path").s, "is required");
                r = want_path(spec_member(it, "path"), path_key(f.s, "path").s, &path, e);
                if (r < 0)
                        return r;
                if (!spec_member(it, "content"))
                        return verr(e, -EINVAL, R_REQUIRED, path_key(f.s, "content").s,
                                    "is required");
                r = want_scalar_string(spec_member(it, "content"), path_key(f.s, "content").s,
                                       FILE_CONTENT_MAX, &content, e);
                if (r < 0)
                        return r;
                if (spec_member(it, "mode")) {
                        r = v_file_mode(spec_member(it, "mode"), path_key(f.s, "mode").s, &mode, e);
                        if (r < 0)
                                return r;
                }
                for (const cJSON *p = l->child; p; p = p->next)
                        if (streq(cJSON_GetObjectItem(p, "path")->valuestring, path))
                                return verr(e, -EINVAL, R_DUPLICATE, path_key(f.s, "path").s,
                                            "\"%s\" is listed twice", path);
                snprintf(mbuf, sizeof(mbuf), "%04o", (unsigned) mode);
                r = add_string(o, "path", path);
                if (r >= 0)
                        r = add_string(o, "content", content);
                if (r >= 0)
                        r = add_string(o, "mode", mbuf);
                if (r >= 0)
                        r = json_add_item_take(l, NULL, TAKE_PTR(o));
                if (r < 0)
                        return r;
        }
        if (cJSON_GetArraySize(l) == 0)
                return 0;
        return json_add_item_take(out, "config_files", TAKE_PTR(l));
}

static const char *const secret_fields[] = {"secret", "as", "path", NULL};
static const char *const secret_as[] = {"env", "file", NULL};

/* secrets: {KEY: {secret: NAME, as: env|file, path}}: KEY is the variable name for env, the
 * file name under /run/secrets/ for file (unless path says otherwise). Only references are
 * stored here: values live encrypted in the secret store. Emitted only when present. */
static int v_secret(const cJSON *c, const cJSON *env, const cJSON *files, cJSON **ret, Error *e) {
        Path f = path_key("spec.secrets", c->string);
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        const char *name, *as = "env", *path = NULL;
        char def[PATH_MAX_LEN + 1];
        int r;

        if (!o)
                return -ENOMEM;
        r = check_map(c, f.s, secret_fields, NULL, NULL, e);
        if (r < 0)
                return r;
        if (!spec_member(c, "secret"))
                return verr(e, -EINVAL, R_REQUIRED, path_key(f.s, "secret").s,
                            "is required (the name of a stored secret)");
        r = want_string(spec_member(c, "secret"), path_key(f.s, "secret").s, NAME_MAX_LEN, &name,
                        e);
        if (r < 0)
                return r;
        if (!name_is_valid(name))
                return verr(e, -EINVAL, R_INVALID_NAME, path_key(f.s, "secret").s,
                            "\"%s\" is not a valid secret name (a DNS label)", name);
        if (spec_member(c, "as")) {
                r = want_enum(spec_member(c, "as"), path_key(f.s, "as").s, secret_as, &as, e);
                if (r < 0)
                        return r;
        }
        if (streq(as, "env")) {
                if (strlen(c->string) > ENV_NAME_MAX || !env_name_valid(c->string))
                        return verr(e, -EINVAL, R_INVALID_NAME, f.s,
                                    "\"%s\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
                                    c->string);
                if (spec_member(c, "path"))
                        return verr(e, -EINVAL, R_CONFLICT, path_key(f.s, "path").s,
                                    "only a secret delivered as a file has a path");
                if (cJSON_GetObjectItemCaseSensitive(env, c->string))
                        return verr(e, -EINVAL, R_CONFLICT, f.s, "%s is also set in spec.env",
                                    c->string);
        } else {
                if (spec_member(c, "path")) {
                        r = want_path(spec_member(c, "path"), path_key(f.s, "path").s, &path, e);
                        if (r < 0)
                                return r;
                } else {
                        if (!file_name_valid(c->string))
                                return verr(e, -EINVAL, R_INVALID_NAME, f.s,
                                            "\"%s\" cannot be a file name under /run/secrets "
                                            "(give a path)",
                                            c->string);
                        snprintf(def, sizeof(def), "/run/secrets/%s", c->string);
                        path = def;
                }
                for (const cJSON *p = files ? files->child : NULL; p; p = p->next)
                        if (streq(cJSON_GetObjectItem(p, "path")->valuestring, path))
                                return verr(e, -EINVAL, R_CONFLICT, f.s, "%s is also a config file",
                                            path);
        }
        r = add_string(o, "secret", name);
        if (r >= 0)
                r = add_string(o, "as", as);
        if (r >= 0 && path)
                r = add_string(o, "path", path);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int v_secrets(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "secrets"), *c;
        _cleanup_json_ cJSON *m = NULL;
        cJSON *sorted;
        int r;

        if (!v)
                return 0;
        r = map_prologue(v, "spec.secrets", SECRETS_MAX, "secrets", &m, e);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(c, v) {
                cJSON *o = NULL;

                r = v_secret(c, cJSON_GetObjectItemCaseSensitive(out, "env"),
                             cJSON_GetObjectItemCaseSensitive(out, "config_files"), &o, e);
                if (r >= 0)
                        r = json_add_item_take(m, c->string, o);
                if (r < 0)
                        return r;
        }
        if (cJSON_GetArraySize(m) == 0)
                return 0;
        sorted = sorted_copy(m);
        if (!sorted)
                return -ENOMEM;
        return json_add_item_take(out, "secrets", sorted);
}

static const char *const depends_fields[] = {"kind", "name", "env_prefix", NULL};

/* NAME-with-dashes -> NAME_WITH_DASHES, the default env prefix. */
static void default_prefix(const char *name, char *buf, size_t n) {
        size_t i = 0;

        for (; name[i] && i + 1 < n; i++)
                buf[i] = name[i] == '-' ? '_'
                                        : (char) (name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32
                                                                                   : name[i]);
        buf[i] = 0;
}

/* depends_on: [{kind, name, env_prefix}]: the service waits until each is RUNNING and gets
 * PREFIX_HOST, PREFIX_PORT and PREFIX_URL. Same project. Emitted only when present. */
static int v_depends_on(const cJSON *spec, cJSON *out, Error *e) {
        _cleanup_json_ cJSON *l = NULL;
        const cJSON *v, *it;
        size_t i = 0;
        int r;

        r = optional_list(spec, "depends_on", DEPENDS_MAX, "dependencies", &v, &l, e);
        if (r < 0 || !v)
                return r;
        cJSON_ArrayForEach(it, v) {
                Path f = path_index("spec.depends_on", i++);
                _cleanup_json_ cJSON *o = cJSON_CreateObject();
                const char *kind, *name, *prefix;
                char def[NAME_MAX_LEN + 1];
                ResourceKind k;

                if (!o)
                        return -ENOMEM;
                r = check_map(it, f.s, depends_fields, NULL, NULL, e);
                if (r < 0)
                        return r;
                if (!spec_member(it, "kind") || !spec_member(it, "name"))
                        return verr(e, -EINVAL, R_REQUIRED, f.s, "kind and name are required");
                r = want_string(spec_member(it, "kind"), path_key(f.s, "kind").s, 32, &kind, e);
                if (r < 0)
                        return r;
                k = kind_from_string(kind);
                if (k < 0)
                        return verr(e, -EINVAL, R_INVALID_VALUE, path_key(f.s, "kind").s,
                                    "\"%s\" is not a kind", kind);
                if (k != KIND_DOCKER_SERVICE && k != KIND_PG_SINGLE)
                        return verr(e, -EOPNOTSUPP, R_NOT_SUPPORTED, path_key(f.s, "kind").s,
                                    "depending on a %s is not supported yet", kind);
                r = want_string(spec_member(it, "name"), path_key(f.s, "name").s, NAME_MAX_LEN,
                                &name, e);
                if (r < 0)
                        return r;
                if (!name_is_valid(name))
                        return verr(e, -EINVAL, R_INVALID_NAME, path_key(f.s, "name").s,
                                    "\"%s\" is not a valid resource name", name);
                default_prefix(name, def, sizeof(def));
                prefix = def;
                if (spec_member(it, "env_prefix")) {
                        r = want_string(spec_member(it, "env_prefix"),
                                        path_key(f.s, "env_prefix").s, 64, &prefix, e);
                        if (r < 0)
                                return r;
                }
                if (!env_name_valid(prefix))
                        return verr(e, -EINVAL, R_INVALID_NAME, path_key(f.s, "env_prefix").s,
                                    "\"%s\" cannot start a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                                    prefix);
                for (const cJSON *p = l->child; p; p = p->next)
                        if (streq(cJSON_GetObjectItem(p, "name")->valuestring, name))
                                return verr(e, -EINVAL, R_DUPLICATE, path_key(f.s, "name").s,
                                            "%s is listed twice", name);
                r = add_string(o, "kind", kind);
                if (r >= 0)
                        r = add_string(o, "name", name);
                if (r >= 0)
                        r = add_string(o, "env_prefix", prefix);
                if (r >= 0)
                        r = json_add_item_take(l, NULL, TAKE_PTR(o));
                if (r < 0)
                        return r;
        }
        if (cJSON_GetArraySize(l) == 0)
                return 0;
        return json_add_item_take(out, "depends_on", TAKE_PTR(l));
}

static int v_paused(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "paused");
        bool paused = false;
        int r;

        if (v) {
                r = want_bool(v, "spec.paused", &paused, e);
                if (r < 0)
                        return r;
        }
        return json_add_item_take(out, "paused", cJSON_CreateBool(paused));
}

int service_spec_validate(const cJSON *spec, cJSON **ret, Error *reterr) {
        _cleanup_json_ cJSON *out = NULL;
        int64_t replicas;
        int r;

        assert_return(ret, -EINVAL);
        if (!spec)
                return verr(reterr, -EINVAL, R_REQUIRED, "spec", "is required");
        r = check_map(spec, "spec", spec_fields, spec_unsupported, NULL, reterr);
        if (r < 0)
                return r;
        out = cJSON_CreateObject();
        if (!out)
                return -ENOMEM;

        /* Fixed order: this is the order of the normalised output. */
        r = v_image(spec, out, reterr);
        if (r >= 0)
                r = v_type(spec, out, reterr);
        if (r >= 0)
                r = v_argv(spec, "command", out, reterr);
        if (r >= 0)
                r = v_argv(spec, "args", out, reterr);
        if (r >= 0)
                r = v_env(spec, out, reterr);
        if (r >= 0)
                r = v_ports(spec, out, reterr);
        if (r >= 0)
                r = v_resources(spec, out, reterr);
        if (r >= 0)
                r = v_replicas(spec, out, &replicas, reterr);
        if (r >= 0)
                r = check_host_ports(out, replicas, reterr);
        if (r >= 0)
                r = v_restart(spec, out, reterr);
        if (r >= 0)
                r = v_healthcheck(spec, out, reterr);
        if (r >= 0)
                r = v_networks(spec, out, reterr);
        if (r >= 0)
                r = v_paused(spec, out, reterr);
        if (r >= 0)
                r = v_volumes(spec, out, reterr);
        if (r >= 0)
                r = v_config_files(spec, out, reterr);
        if (r >= 0)
                r = v_secrets(spec, out, reterr);
        if (r >= 0)
                r = v_depends_on(spec, out, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
