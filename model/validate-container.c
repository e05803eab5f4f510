/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/resource.h"
#include "model/units.h"
#include "model/validate-container.h"
#include "model/validate-util.h"

/* The fields every kind that runs a container shares (docker_service, job): validation and
 * normalisation, each into the caller's output object, so both kinds accept and spell them the
 * same way. */

#define ENV_MAX        1024
#define ENV_NAME_MAX   256
#define NETWORKS_MAX   16
#define IMAGE_MAX      512
#define IMAGE_NAME_MAX 255
#define CPU_MIN        0.01
#define CPU_MAX        64.0
#define SECRETS_MAX    64
#define DEPENDS_MAX    16
#define ARGV_MAX       CONTAINER_ARGV_MAX
#define MEMORY_MIN     CONTAINER_MEMORY_MIN
#define MEMORY_MAX     ((int64_t) 256 << 30)
#define PATH_MAX_LEN   CONTAINER_PATH_MAX

static int add_string(cJSON *o, const char *key, const char *s) {
        return json_add_item_take(o, key, cJSON_CreateString(s));
}

static int add_number(cJSON *o, const char *key, double v) {
        return json_add_item_take(o, key, cJSON_CreateNumber(v));
}

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
const char *image_reference_check(const char *ref) {
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

bool env_name_is_valid(const char *s) {
        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        for (const char *p = s + 1; *p; p++)
                if (!is_word(*p))
                        return false;
        return true;
}

int validate_container_image(const cJSON *spec, const char *required, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "image");
        const char *s, *why;
        char d[64];
        int r;

        if (!v && !required)
                return 0;
        if (!v)
                return verr(e, -EINVAL, R_REQUIRED, "spec.image", "%s", required);
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

int validate_container_argv(const cJSON *spec, const char *key, cJSON *out, Error *e) {
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
cJSON *json_sorted_copy(const cJSON *o) {
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
int validate_map_prologue(const cJSON *v, const char *field, size_t max, const char *items,
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

int validate_container_env(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "env"), *c;
        _cleanup_json_ cJSON *env = NULL;
        int r;

        if (!v)
                return json_add_item_take(out, "env", cJSON_CreateObject());
        r = validate_map_prologue(v, "spec.env", ENV_MAX, "variables", &env, e);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(c, v) {
                Path f = path_key("spec.env", c->string);
                _cleanup_free_ char *value = NULL;

                if (strlen(c->string) > ENV_NAME_MAX || !env_name_is_valid(c->string))
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
        return json_add_item_take(out, "env", json_sorted_copy(env));
}

static int plan_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(plans); i++)
                if (streq(plans[i].name, name))
                        return (int) i;
        return -1;
}

int validate_container_resources(const cJSON *spec, cJSON *out, Error *e) {
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

int validate_container_networks(const cJSON *spec, cJSON *out, Error *e) {
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

int validate_container_path(const cJSON *v, const char *field, const char **ret, Error *e) {
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
int validate_optional_list(const cJSON *spec, const char *key, size_t max, const char *items,
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
                if (strlen(c->string) > ENV_NAME_MAX || !env_name_is_valid(c->string))
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
                        r = validate_container_path(spec_member(c, "path"), path_key(f.s, "path").s,
                                                    &path, e);
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

int validate_container_secrets(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "secrets"), *c;
        _cleanup_json_ cJSON *m = NULL;
        cJSON *sorted;
        int r;

        if (!v)
                return 0;
        r = validate_map_prologue(v, "spec.secrets", SECRETS_MAX, "secrets", &m, e);
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
        sorted = json_sorted_copy(m);
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

/* depends_on: [{kind, name, env_prefix}]: the container waits until each is RUNNING and gets
 * PREFIX_HOST, PREFIX_PORT and PREFIX_URL. Same project. Emitted only when present. */
int validate_container_depends_on(const cJSON *spec, cJSON *out, Error *e) {
        _cleanup_json_ cJSON *l = NULL;
        const cJSON *v, *it;
        size_t i = 0;
        int r;

        r = validate_optional_list(spec, "depends_on", DEPENDS_MAX, "dependencies", &v, &l, e);
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
                if (!env_name_is_valid(prefix))
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
