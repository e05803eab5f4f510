/* SPDX-License-Identifier: MIT */
/* drivers/docker/json-convert.c: ContainerConfig → create body, list/inspect/event JSON → berth
 * types. Pure: links berth-core and json-convert.c only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"

#include "drivers/docker/json-convert.h"
#include "model/resource.h"

/* Prints obj and parses it back, as Docker would read it. */
static cJSON *roundtrip(const cJSON *obj) {
        _cleanup_cjson_str_ char *s = cJSON_PrintUnformatted(obj);
        cJSON *doc;

        assert_non_null(s);
        doc = cJSON_Parse(s);
        assert_non_null(doc);
        return doc;
}

static const cJSON *path(const cJSON *o, const char *a, const char *b, const char *c) {
        o = cJSON_GetObjectItemCaseSensitive(o, a);
        if (b)
                o = cJSON_GetObjectItemCaseSensitive(o, b);
        if (c)
                o = cJSON_GetObjectItemCaseSensitive(o, c);
        return o;
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c) {
        const cJSON *v = path(o, a, b, c);
        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_create_body_full(void **state) {
        static char *cmd[] = {(char *) "sh", (char *) "-c", (char *) "exec httpd -f", NULL};
        static char *entry[] = {(char *) "/bin/tini", (char *) "--", NULL};
        static char *env[] = {(char *) "A=1", (char *) "B=two words", NULL};
        static char *labels[] = {(char *) "berth.managed=true", (char *) "flag", (char *) "k=v=w",
                                 NULL};
        static char *health[] = {(char *) "true", NULL};
        static char *aliases[] = {(char *) "web", NULL};
        PortBinding ports[] = {
                {.container_port = 8080, .host_port = 18080},
                {.container_port = 8080, .host_port = 18081, .host_ip = (char *) "0.0.0.0"},
                {.container_port = 53, .protocol = (char *) "udp"},
        };
        MountSpec mounts[] = {
                {.type = (char *) "volume",
                 .source = (char *) "data",
                 .target = (char *) "/d",
                 .read_only = true},
                {.type = (char *) "tmpfs", .target = (char *) "/run", .tmpfs_size = 1 << 20},
        };
        ContainerConfig cfg = {
                .name = (char *) "shop-web-0",
                .image = (char *) "shop/web:1",
                .user = (char *) "app",
                .hostname = (char *) "web0",
                .working_dir = (char *) "/srv",
                .entrypoint = entry,
                .cmd = cmd,
                .env = env,
                .labels = labels,
                .network = (char *) "berth-shop",
                .aliases = aliases,
                .ports = ports,
                .n_ports = ELEMENTSOF(ports),
                .mounts = mounts,
                .n_mounts = ELEMENTSOF(mounts),
                .nano_cpus = 1500000000,
                .memory = (int64_t) 1 << 50, /* past 15 digits: must not print as 1e+15 */
                .restart_policy = (char *) "on-failure",
                .restart_max_retries = 5,
                .init = true,
                .stop_timeout = 7,
                .health_test = health,
                .health_interval = 2 * USEC_PER_SEC,
                .health_timeout = 500 * USEC_PER_MSEC,
                .health_start_period = 10 * USEC_PER_SEC,
                .health_retries = 3,
        };
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *doc = NULL;
        _cleanup_cjson_str_ char *text = NULL;
        Error e = ERROR_INIT;
        const cJSON *v, *b;

        (void) state;
        assert_int_equal(docker_json_create_body(&cfg, &body, &e), 0);
        text = cJSON_PrintUnformatted(body);
        assert_non_null(strstr(text, "\"Memory\":1125899906842624"));
        doc = roundtrip(body);

        assert_string_equal(str_at(doc, "Image", NULL, NULL), "shop/web:1");
        assert_string_equal(str_at(doc, "User", NULL, NULL), "app");
        assert_string_equal(str_at(doc, "Hostname", NULL, NULL), "web0");
        assert_string_equal(str_at(doc, "WorkingDir", NULL, NULL), "/srv");
        assert_int_equal(cJSON_GetArraySize(path(doc, "Entrypoint", NULL, NULL)), 2);
        assert_string_equal(cJSON_GetArrayItem(path(doc, "Cmd", NULL, NULL), 2)->valuestring,
                            "exec httpd -f");
        assert_string_equal(cJSON_GetArrayItem(path(doc, "Env", NULL, NULL), 1)->valuestring,
                            "B=two words");
        assert_string_equal(str_at(doc, "Labels", "berth.managed", NULL), "true");
        assert_string_equal(str_at(doc, "Labels", "flag", NULL), "");
        assert_string_equal(str_at(doc, "Labels", "k", NULL), "v=w");

        assert_true(cJSON_IsObject(path(doc, "ExposedPorts", "8080/tcp", NULL)));
        assert_true(cJSON_IsObject(path(doc, "ExposedPorts", "53/udp", NULL)));
        v = path(doc, "HostConfig", "PortBindings", "8080/tcp");
        assert_int_equal(cJSON_GetArraySize(v), 2);
        b = cJSON_GetArrayItem(v, 0);
        assert_string_equal(str_at(b, "HostIp", NULL, NULL), "127.0.0.1");
        assert_string_equal(str_at(b, "HostPort", NULL, NULL), "18080");
        assert_string_equal(str_at(cJSON_GetArrayItem(v, 1), "HostIp", NULL, NULL), "0.0.0.0");
        assert_null(path(doc, "HostConfig", "PortBindings", "53/udp")); /* not published */

        v = path(doc, "Healthcheck", "Test", NULL);
        assert_int_equal(cJSON_GetArraySize(v), 2);
        assert_string_equal(cJSON_GetArrayItem(v, 0)->valuestring, "CMD");
        assert_string_equal(cJSON_GetArrayItem(v, 1)->valuestring, "true");
        assert_true(path(doc, "Healthcheck", "Interval", NULL)->valuedouble == 2e9);
        assert_true(path(doc, "Healthcheck", "Timeout", NULL)->valuedouble == 5e8);
        assert_true(path(doc, "Healthcheck", "StartPeriod", NULL)->valuedouble == 1e10);
        assert_int_equal(path(doc, "Healthcheck", "Retries", NULL)->valueint, 3);
        assert_int_equal(path(doc, "StopTimeout", NULL, NULL)->valueint, 7);

        v = path(doc, "HostConfig", "Mounts", NULL);
        assert_int_equal(cJSON_GetArraySize(v), 2);
        b = cJSON_GetArrayItem(v, 0);
        assert_string_equal(str_at(b, "Type", NULL, NULL), "volume");
        assert_string_equal(str_at(b, "Source", NULL, NULL), "data");
        assert_string_equal(str_at(b, "Target", NULL, NULL), "/d");
        assert_true(cJSON_IsTrue(path(b, "ReadOnly", NULL, NULL)));
        b = cJSON_GetArrayItem(v, 1);
        assert_string_equal(str_at(b, "Type", NULL, NULL), "tmpfs");
        assert_null(path(b, "Source", NULL, NULL));
        assert_int_equal(path(b, "TmpfsOptions", "SizeBytes", NULL)->valueint, 1 << 20);

        assert_string_equal(str_at(doc, "HostConfig", "RestartPolicy", "Name"), "on-failure");
        assert_int_equal(path(doc, "HostConfig", "RestartPolicy", "MaximumRetryCount")->valueint,
                         5);
        assert_true(path(doc, "HostConfig", "NanoCpus", NULL)->valuedouble == 1.5e9);
        assert_true(cJSON_IsTrue(path(doc, "HostConfig", "Init", NULL)));
        assert_string_equal(str_at(doc, "HostConfig", "NetworkMode", NULL), "berth-shop");
        v = path(path(doc, "NetworkingConfig", "EndpointsConfig", "berth-shop"), "Aliases", NULL,
                 NULL);
        assert_string_equal(cJSON_GetArrayItem(v, 0)->valuestring, "web");
}

static void test_create_body_minimal(void **state) {
        static char *health[] = {(char *) "CMD-SHELL", (char *) "curl -f localhost", NULL};
        ContainerConfig cfg = {.image = (char *) "busybox", .stop_timeout = -1};
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *body2 = NULL;
        Error e = ERROR_INIT;
        const cJSON *t;

        (void) state;
        assert_int_equal(docker_json_create_body(&cfg, &body, &e), 0);
        /* Unset fields are omitted: Docker's defaults apply. */
        assert_string_equal(str_at(body, "Image", NULL, NULL), "busybox");
        assert_null(path(body, "Cmd", NULL, NULL));
        assert_null(path(body, "Entrypoint", NULL, NULL));
        assert_null(path(body, "Env", NULL, NULL));
        assert_null(path(body, "Labels", NULL, NULL));
        assert_null(path(body, "User", NULL, NULL));
        assert_null(path(body, "Healthcheck", NULL, NULL));
        assert_null(path(body, "StopTimeout", NULL, NULL));
        assert_null(path(body, "ExposedPorts", NULL, NULL));
        assert_null(path(body, "NetworkingConfig", NULL, NULL));
        assert_null(path(body, "HostConfig", "RestartPolicy", NULL));
        assert_null(path(body, "HostConfig", "Memory", NULL));
        assert_null(path(body, "HostConfig", "Init", NULL));
        assert_null(path(body, "HostConfig", "NetworkMode", NULL));

        /* A test that names its kind is passed as is. */
        cfg.health_test = health;
        assert_int_equal(docker_json_create_body(&cfg, &body2, &e), 0);
        t = path(body2, "Healthcheck", "Test", NULL);
        assert_int_equal(cJSON_GetArraySize(t), 2);
        assert_string_equal(cJSON_GetArrayItem(t, 0)->valuestring, "CMD-SHELL");
}

static void test_create_body_invalid(void **state) {
        static char *labels[] = {(char *) "=v", NULL};
        MountSpec m = {.type = (char *) "volume", .target = (char *) "/d"};
        PortBinding p = {.container_port = 70000};
        ContainerConfig cfg = {.name = (char *) "x", .stop_timeout = -1};
        cJSON *body = NULL;
        Error e = ERROR_INIT;

        (void) state;
        assert_int_equal(docker_json_create_body(&cfg, &body, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "no image"));
        cfg.image = (char *) "busybox";
        cfg.labels = labels;
        assert_int_equal(docker_json_create_body(&cfg, &body, &e), -EINVAL);
        cfg.labels = NULL;
        cfg.mounts = &m;
        cfg.n_mounts = 1;
        assert_int_equal(docker_json_create_body(&cfg, &body, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "no source"));
        cfg.n_mounts = 0;
        cfg.ports = &p;
        cfg.n_ports = 1;
        assert_int_equal(docker_json_create_body(&cfg, &body, &e), -EINVAL);
        assert_null(body);
}

static void test_filters(void **state) {
        static char *labels[] = {(char *) "berth.managed=true", (char *) "berth.role", NULL};
        _cleanup_(cJSON_Deletep) cJSON *f = NULL, *f2 = NULL;
        _cleanup_cjson_str_ char *s = NULL, *s2 = NULL;

        (void) state;
        assert_int_equal(docker_json_filters(labels, "container", &f), 0);
        s = cJSON_PrintUnformatted(f);
        assert_string_equal(s, "{\"label\":[\"berth.managed=true\",\"berth.role\"],"
                               "\"type\":[\"container\"]}");
        assert_int_equal(docker_json_filters(NULL, NULL, &f2), 0);
        s2 = cJSON_PrintUnformatted(f2);
        assert_string_equal(s2, "{}");
}

static const char list_entry[] =
        "{\"Id\":\"2604942aeef1\",\"Names\":[\"/shop-web-0\"],\"Image\":\"shop/web:1\","
        "\"ImageID\":\"sha256:c0c4\",\"Command\":\"sleep 100\",\"Created\":1795432656,"
        "\"Ports\":[],\"Labels\":{\"berth.resource\":\"uuid-1\",\"berth.role\":\"app\","
        "\"berth.index\":\"2\",\"berth.config-hash\":\"abc\"},\"State\":\"running\","
        "\"Status\":\"Up 2 minutes (healthy)\",\"HostConfig\":{\"NetworkMode\":\"default\"},"
        "\"NetworkSettings\":{\"Networks\":{\"a\":{\"IPAddress\":\"\"},"
        "\"b\":{\"IPAddress\":\"10.213.0.5\"}}},\"Mounts\":[]}";

static void test_from_list(void **state) {
        _cleanup_(cJSON_Deletep) cJSON *doc = cJSON_Parse(list_entry);
        _cleanup_(cJSON_Deletep) cJSON *exited = NULL;
        _cleanup_(observed_container_release) ObservedContainer o = {0};
        Error e = ERROR_INIT;

        (void) state;
        assert_non_null(doc);
        assert_int_equal(docker_json_observed_from_list(doc, &o, &e), 0);
        assert_string_equal(o.id, "2604942aeef1");
        assert_string_equal(o.name, "shop-web-0");
        assert_string_equal(o.image, "shop/web:1");
        assert_string_equal(o.state, "running");
        assert_string_equal(o.health, "healthy");
        assert_string_equal(o.resource, "uuid-1");
        assert_string_equal(o.role, "app");
        assert_string_equal(o.config_hash, "abc");
        assert_int_equal(o.index, 2);
        assert_string_equal(o.ip, "10.213.0.5");
        assert_true(o.created == (usec_t) 1795432656 * USEC_PER_SEC);
        assert_int_equal(o.exit_code, 0);
        observed_container_release(&o);

        exited =
                cJSON_Parse("{\"Id\":\"x\",\"Names\":[\"/y\"],\"State\":\"exited\","
                            "\"Status\":\"Exited (137) 5 seconds ago\",\"Labels\":{\"berth.index\":"
                            "\"nope\"}}");
        assert_int_equal(docker_json_observed_from_list(exited, &o, &e), 0);
        assert_int_equal(o.exit_code, 137);
        assert_null(o.health);
        assert_null(o.ip);
        assert_null(o.resource);
        assert_int_equal(o.index, -1);
        observed_container_release(&o);

        cJSON_DeleteItemFromObject(doc, "Id");
        assert_int_equal(docker_json_observed_from_list(doc, &o, &e), -EBADMSG);
}

static const char inspect_doc[] =
        "{\"Id\":\"2604942aeef1\",\"Created\":\"2026-11-23T11:17:36.864281181Z\","
        "\"State\":{\"Status\":\"running\",\"Running\":true,\"OOMKilled\":true,\"ExitCode\":3,"
        "\"StartedAt\":\"2026-11-23T11:17:37.048591781Z\","
        "\"FinishedAt\":\"0001-01-01T00:00:00Z\",\"Health\":{\"Status\":\"unhealthy\"}},"
        "\"Image\":\"sha256:c0c4\",\"Name\":\"/shop-web-0\",\"RestartCount\":4,"
        "\"Config\":{\"Image\":\"shop/web:1\",\"Labels\":{\"berth.resource\":\"uuid-1\","
        "\"berth.index\":\"0\"}},"
        "\"NetworkSettings\":{\"Networks\":{\"berth-shop\":{\"IPAddress\":\"10.213.0.7\"}}}}";

static void test_from_inspect(void **state) {
        _cleanup_(cJSON_Deletep) cJSON *doc = cJSON_Parse(inspect_doc);
        _cleanup_(observed_container_release) ObservedContainer o = {0};
        Error e = ERROR_INIT;
        cJSON *st;

        (void) state;
        assert_non_null(doc);
        assert_int_equal(docker_json_observed_from_inspect(doc, &o, &e), 0);
        assert_string_equal(o.id, "2604942aeef1");
        assert_string_equal(o.name, "shop-web-0");
        assert_string_equal(o.image, "shop/web:1");
        assert_string_equal(o.state, "running");
        assert_string_equal(o.health, "unhealthy");
        assert_string_equal(o.resource, "uuid-1");
        assert_null(o.role);
        assert_int_equal(o.index, 0);
        assert_string_equal(o.ip, "10.213.0.7");
        assert_int_equal(o.exit_code, 3);
        assert_true(o.oom_killed);
        assert_int_equal(o.restart_count, 4);
        assert_true(o.created == (usec_t) 1795432656 * USEC_PER_SEC + 864281);
        assert_true(o.started_at == (usec_t) 1795432657 * USEC_PER_SEC + 48591);
        assert_true(o.finished_at == 0);
        observed_container_release(&o);

        /* A stopped container's health is stale: not reported. */
        st = cJSON_GetObjectItemCaseSensitive(doc, "State");
        cJSON_ReplaceItemInObjectCaseSensitive(st, "Status", cJSON_CreateString("exited"));
        assert_int_equal(docker_json_observed_from_inspect(doc, &o, &e), 0);
        assert_string_equal(o.state, "exited");
        assert_null(o.health);
}

static void test_rfc3339(void **state) {
        usec_t t = 1;

        (void) state;
        assert_int_equal(docker_parse_rfc3339("1970-01-01T00:00:01Z", &t), 0);
        assert_true(t == USEC_PER_SEC);
        assert_int_equal(docker_parse_rfc3339("2026-11-23T11:17:37.048591781Z", &t), 0);
        assert_true(t == (usec_t) 1795432657 * USEC_PER_SEC + 48591);
        assert_int_equal(docker_parse_rfc3339("2026-11-23T12:17:37.5+01:00", &t), 0);
        assert_true(t == (usec_t) 1795432657 * USEC_PER_SEC + 500000);
        assert_int_equal(docker_parse_rfc3339("2026-11-23T10:47:37-00:30", &t), 0);
        assert_true(t == (usec_t) 1795432657 * USEC_PER_SEC);
        assert_int_equal(docker_parse_rfc3339("0001-01-01T00:00:00Z", &t), 0);
        assert_true(t == 0);
        assert_int_equal(docker_parse_rfc3339("", &t), -EINVAL);
        assert_int_equal(docker_parse_rfc3339(NULL, &t), -EINVAL);
        assert_int_equal(docker_parse_rfc3339("2026-11-23", &t), -EINVAL);
        assert_int_equal(docker_parse_rfc3339("2026-11-23T11:17:37", &t), -EINVAL);
        assert_int_equal(docker_parse_rfc3339("2026-11-23T11:17:37.Z", &t), -EINVAL);
        assert_int_equal(docker_parse_rfc3339("2026-13-23T11:17:37Z", &t), -EINVAL);
        assert_int_equal(docker_parse_rfc3339("2026-11-23T11:17:37Zjunk", &t), -EINVAL);
}

static void test_event(void **state) {
        static const char line[] =
                "{\"status\":\"die\",\"id\":\"abc\",\"from\":\"img\",\"Type\":\"container\","
                "\"Action\":\"die\",\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"berth.resource\":"
                "\"uuid-1\",\"exitCode\":\"137\",\"timeNano\":\"label\",\"x\":\"\\\"timeNano\\\":"
                "5\"}},"
                "\"scope\":\"local\",\"time\":1795432657,\"timeNano\":1795432657312303326}";
        static const char health[] =
                "{\"Type\":\"container\",\"Action\":\"health_status: healthy\",\"Actor\":{\"ID\":"
                "\"abc\",\"Attributes\":{}},\"time\":1795432657}";
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL, *doc2 = NULL, *doc3 = NULL;
        DockerEventInfo ev;

        (void) state;
        assert_int_equal(docker_json_event_parse(line, strlen(line), &doc, &ev), 0);
        assert_string_equal(ev.type, "container");
        assert_string_equal(ev.action, "die");
        assert_string_equal(ev.id, "abc");
        assert_string_equal(ev.resource, "uuid-1");
        /* Exact: a double would round to ...303296 or so. */
        assert_true(ev.time_nano == INT64_C(1795432657312303326));

        assert_int_equal(docker_json_event_parse(health, strlen(health), &doc2, &ev), 0);
        assert_string_equal(ev.action, "health_status: healthy");
        assert_null(ev.resource);
        assert_true(ev.time_nano == INT64_C(1795432657000000000));

        assert_int_equal(docker_json_event_parse("not json", 8, &doc3, &ev), -EBADMSG);
        assert_int_equal(docker_json_event_parse("{}", 2, &doc3, &ev), -EBADMSG);
}

static void test_progress(void **state) {
        static const char ok[] = "{\"status\":\"Pulling fs layer\",\"id\":\"a1\"}";
        static const char err[] = "{\"errorDetail\":{\"message\":\"manifest unknown\"},"
                                  "\"error\":\"manifest unknown\"}";
        static const char detail[] = "{\"errorDetail\":{\"message\":\"only detail\"}}";
        _cleanup_(cJSON_Deletep) cJSON *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL;
        const char *e = (const char *) 1;

        (void) state;
        assert_int_equal(docker_json_progress_error(ok, strlen(ok), &d1, &e), 0);
        assert_null(e);
        assert_int_equal(docker_json_progress_error(err, strlen(err), &d2, &e), 0);
        assert_string_equal(e, "manifest unknown");
        assert_int_equal(docker_json_progress_error(detail, strlen(detail), &d3, &e), 0);
        assert_string_equal(e, "only detail");
        assert_int_equal(docker_json_progress_error("[1]", 3, &d4, &e), -EBADMSG);
}

static void test_small_parsers(void **state) {
        _cleanup_strv_free_ char **l = NULL, **empty = NULL;
        _cleanup_(cJSON_Deletep) cJSON *o = cJSON_Parse("{\"a\":\"1\",\"b\":\"\",\"n\":5}");

        (void) state;
        assert_int_equal(docker_api_version_parse("1.41"), 1041);
        assert_int_equal(docker_api_version_parse("1.9"), 1009);
        assert_int_equal(docker_api_version_parse("2.0"), 2000);
        assert_int_equal(docker_api_version_parse("1"), -EINVAL);
        assert_int_equal(docker_api_version_parse("1.x"), -EINVAL);
        assert_int_equal(docker_api_version_parse(""), -EINVAL);

        assert_string_equal(docker_health_from_status("Up 3 minutes (healthy)"), "healthy");
        assert_string_equal(docker_health_from_status("Up 3 seconds (health: starting)"),
                            "starting");
        assert_string_equal(docker_health_from_status("Up 1 hour (unhealthy)"), "unhealthy");
        assert_null(docker_health_from_status("Up 1 hour"));
        assert_null(docker_health_from_status(NULL));

        assert_int_equal(docker_json_labels_to_strv(o, &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "a=1");
        assert_string_equal(l[1], "b=");
        assert_int_equal(docker_json_labels_to_strv(NULL, &empty), 0);
        assert_non_null(empty);
        assert_null(empty[0]);
}

/* Every allocation failing in turn: -ENOMEM, never a crash or a leak (run under ASan). */
static void test_create_body_oom(void **state) {
        static char *cmd[] = {(char *) "a", (char *) "b", NULL};
        static char *labels[] = {(char *) "k=v", NULL};
        static char *health[] = {(char *) "true", NULL};
        PortBinding p = {.container_port = 80, .host_port = 8080};
        MountSpec m = {.type = (char *) "tmpfs", .target = (char *) "/t", .tmpfs_size = 1};
        ContainerConfig cfg = {.image = (char *) "i",
                               .cmd = cmd,
                               .labels = labels,
                               .health_test = health,
                               .health_interval = 1,
                               .ports = &p,
                               .n_ports = 1,
                               .mounts = &m,
                               .n_mounts = 1,
                               .network = (char *) "n",
                               .aliases = cmd,
                               .restart_policy = (char *) "always",
                               .stop_timeout = 1};
        bool succeeded = false;

        (void) state;
        for (long n = 0; n < 10000 && !succeeded; n++) {
                cJSON *body = NULL;
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(n);
                r = docker_json_create_body(&cfg, &body, &e);
                alloc_fail_after(-1);
                if (r == 0) {
                        succeeded = true;
                        cJSON_Delete(body);
                } else {
                        assert_int_equal(r, -ENOMEM);
                        assert_null(body);
                }
        }
        assert_true(succeeded);
}

static void test_from_inspect_oom(void **state) {
        _cleanup_(cJSON_Deletep) cJSON *doc = cJSON_Parse(inspect_doc);
        bool succeeded = false;

        (void) state;
        assert_non_null(doc);
        for (long n = 0; n < 1000 && !succeeded; n++) {
                _cleanup_(observed_container_release) ObservedContainer o = {0};
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(n);
                r = docker_json_observed_from_inspect(doc, &o, &e);
                alloc_fail_after(-1);
                if (r == 0)
                        succeeded = true;
                else {
                        assert_int_equal(r, -ENOMEM);
                        assert_null(o.id);
                }
        }
        assert_true(succeeded);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_body_full),
                cmocka_unit_test(test_create_body_minimal),
                cmocka_unit_test(test_create_body_invalid),
                cmocka_unit_test(test_filters),
                cmocka_unit_test(test_from_list),
                cmocka_unit_test(test_from_inspect),
                cmocka_unit_test(test_rfc3339),
                cmocka_unit_test(test_event),
                cmocka_unit_test(test_progress),
                cmocka_unit_test(test_small_parsers),
                cmocka_unit_test(test_create_body_oom),
                cmocka_unit_test(test_from_inspect_oom),
        };

        alloc_install_cjson();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
