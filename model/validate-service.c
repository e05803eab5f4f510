/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/resource.h"
#include "model/service.h"
#include "model/units.h"
#include "model/validate-container.h"
#include "model/validate-deploy.h"
#include "model/validate-util.h"

/* docker_service: validation and normalisation. The output is a new object with every default
 * filled in and keys in one fixed order, so the same intent always serialises to the same
 * bytes (and hashes the same). Normalised output validates again to itself. */

#define PORTS_MAX        64
#define ARGV_MAX         CONTAINER_ARGV_MAX
#define REPLICAS_MAX     100
#define MEMORY_MIN       CONTAINER_MEMORY_MIN
#define RETRIES_MAX      1000
#define PATH_MAX_LEN     CONTAINER_PATH_MAX
#define VOLUMES_MAX      16
#define FILES_MAX        64
#define FILE_CONTENT_MAX (256 * 1024)
#define TMPFS_DEFAULT    ((int64_t) 64 << 20)

static const char *const spec_fields[] = {
        "image",       "type",       "command",   "args",     "env",
        "ports",       "plan",       "resources", "replicas", "restart_policy",
        "healthcheck", "networks",   "paused",    "volumes",  "config_files",
        "secrets",     "depends_on", "deploy",    NULL,
};

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
        r = validate_container_path(spec_member(v, "mount_path"), f.s, &mount, e);
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

        r = validate_optional_list(spec, "volumes", VOLUMES_MAX, "volumes", &v, &l, e);
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

        r = validate_optional_list(spec, "config_files", FILES_MAX, "files", &v, &l, e);
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
                r = validate_container_path(spec_member(it, "path"), path_key(f.s, "path").s, &path,
                                            e);
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
        r = check_map(spec, "spec", spec_fields, NULL, NULL, reterr);
        if (r < 0)
                return r;
        out = cJSON_CreateObject();
        if (!out)
                return -ENOMEM;

        /* Fixed order: this is the order of the normalised output. */
        r = validate_container_image(
                spec, "is required (the container image to run, e.g. berth/busybox)", out, reterr);
        if (r >= 0)
                r = v_type(spec, out, reterr);
        if (r >= 0)
                r = validate_container_argv(spec, "command", out, reterr);
        if (r >= 0)
                r = validate_container_argv(spec, "args", out, reterr);
        if (r >= 0)
                r = validate_container_env(spec, out, reterr);
        if (r >= 0)
                r = v_ports(spec, out, reterr);
        if (r >= 0)
                r = validate_container_resources(spec, out, reterr);
        if (r >= 0)
                r = v_replicas(spec, out, &replicas, reterr);
        if (r >= 0)
                r = check_host_ports(out, replicas, reterr);
        if (r >= 0)
                r = v_restart(spec, out, reterr);
        if (r >= 0)
                r = v_healthcheck(spec, out, reterr);
        if (r >= 0)
                r = validate_container_networks(spec, out, reterr);
        if (r >= 0)
                r = v_paused(spec, out, reterr);
        if (r >= 0)
                r = v_volumes(spec, out, reterr);
        if (r >= 0)
                r = v_config_files(spec, out, reterr);
        if (r >= 0)
                r = validate_container_secrets(spec, out, reterr);
        if (r >= 0)
                r = validate_container_depends_on(spec, out, reterr);
        if (r >= 0)
                r = validate_service_deploy(spec, out, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
