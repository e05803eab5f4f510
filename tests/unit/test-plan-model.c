/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/container.h"
#include "model/json-util.h"
#include "model/observed.h"
#include "model/plan.h"
#include "model/resource.h"
#include "model/status.h"
#include "model/units.h"

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

static ContainerConfig *config_new(const char *name) {
        ContainerConfig *c = b_calloc(1, sizeof(*c));

        assert_non_null(c);
        c->name = b_strdup(name);
        c->image = b_strdup("berth/busybox");
        c->network = b_strdup("berth-shop");
        c->restart_policy = b_strdup("unless-stopped");
        assert_int_equal(strv_push(&c->cmd, "httpd"), 0);
        assert_int_equal(strv_push(&c->env, "A=1"), 0);
        assert_int_equal(strv_push(&c->labels, "berth.managed=true"), 0);
        assert_int_equal(strv_push(&c->aliases, "web"), 0);
        c->ports = b_calloc(1, sizeof(*c->ports));
        assert_non_null(c->ports);
        c->n_ports = 1;
        c->ports[0].container_port = 80;
        c->ports[0].host_port = 8080;
        c->ports[0].host_ip = b_strdup("127.0.0.1");
        c->mounts = b_calloc(1, sizeof(*c->mounts));
        assert_non_null(c->mounts);
        c->n_mounts = 1;
        c->mounts[0].type = b_strdup("volume");
        c->mounts[0].source = b_strdup("shop-web-data-0");
        c->mounts[0].target = b_strdup("/data");
        c->stop_timeout = -1;
        return c;
}

static void config_freep(ContainerConfig **c) {
        if (*c) {
                container_config_release(*c);
                b_free(*c);
        }
}

static void test_plan_text(void **state) {
        _cleanup_(plan_release) Plan p;
        _cleanup_(buf_release) Buf out = BUF_INIT(4096);
        (void) state;

        plan_init(&p);
        assert_int_equal(plan_to_text(&p, &out), 0);
        assert_string_equal(buf_str(&out), "");

        assert_int_equal(plan_add(&p, ACTION_ENSURE_NETWORK, "berth-shop", NULL, "missing", NULL),
                         0);
        assert_int_equal(plan_add(&p, ACTION_CREATE_CONTAINER, "shop-web-app-0", NULL, "missing",
                                  config_new("shop-web-app-0")),
                         0);
        assert_int_equal(plan_add(&p, ACTION_START_CONTAINER, "shop-web-app-1", "abc123",
                                  "not running", NULL),
                         0);
        assert_int_equal(plan_add(&p, ACTION_REMOVE_CONTAINER, "shop-web-app-2", "def", NULL, NULL),
                         0);
        assert_int_equal(
                plan_add(&p, ACTION_REMOVE_VOLUME, "shop-web-data-2", NULL, "surplus", NULL), 0);
        assert_int_equal(plan_add(&p, ACTION_REMOVE_NETWORK, "berth-shop", NULL, "", NULL), 0);
        assert_int_equal(p.n_actions, 6);
        assert_non_null(p.actions[1].container);
        assert_string_equal(p.actions[2].id, "abc123");

        assert_int_equal(plan_to_text(&p, &out), 0);
        assert_string_equal(buf_str(&out), "ensure_network berth-shop (missing)\n"
                                           "create_container shop-web-app-0 (missing)\n"
                                           "start_container shop-web-app-1 (not running)\n"
                                           "remove_container shop-web-app-2\n"
                                           "remove_volume shop-web-data-2 (surplus)\n"
                                           "remove_network berth-shop\n");

        /* A capped buffer reports -E2BIG instead of truncating. */
        {
                _cleanup_(buf_release) Buf small = BUF_INIT(16);
                assert_int_equal(plan_to_text(&p, &small), -E2BIG);
        }
}

static void test_plan_json(void **state) {
        _cleanup_(plan_release) Plan p;
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *s = NULL;
        (void) state;

        plan_init(&p);
        assert_int_equal(
                plan_add(&p, ACTION_CREATE_CONTAINER, "shop-web-app-0", NULL, "missing", NULL), 0);
        assert_int_equal(plan_add(&p, ACTION_REMOVE_CONTAINER, "x", "id", NULL, NULL), 0);
        j = plan_to_json(&p);
        assert_non_null(j);
        s = cJSON_PrintUnformatted(j);
        assert_string_equal(s, "[{\"action\":\"create_container\",\"target\":\"shop-web-app-0\","
                               "\"reason\":\"missing\"},{\"action\":\"remove_container\","
                               "\"target\":\"x\",\"reason\":null}]");
}

static void test_plan_add_takes_container(void **state) {
        _cleanup_(plan_release) Plan p;
        (void) state;

        plan_init(&p);
        /* Invalid type: refused, and the config is freed (ASan would see a leak otherwise). */
        assert_int_equal(plan_add(&p, _ACTION_MAX, "x", NULL, NULL, config_new("x")), -EINVAL);
        assert_int_equal(p.n_actions, 0);
        /* Allocation failure: the same. */
        for (long k = 0; k < 8; k++) {
                ContainerConfig *c = config_new("y");
                int r;

                alloc_fail_after(k);
                r = plan_add(&p, ACTION_CREATE_CONTAINER, "y", "id", "why", c);
                alloc_fail_after(-1);
                assert_true(r == 0 || r == -ENOMEM);
        }
}

static void test_config_hash(void **state) {
        _cleanup_(config_freep) ContainerConfig *a = config_new("shop-web-app-0");
        _cleanup_(config_freep) ContainerConfig *b = config_new("shop-web-app-0");
        char ha[65], hb[65], h2[65];
        (void) state;

        assert_int_equal(container_config_hash(a, ha), 0);
        assert_int_equal(strlen(ha), 64);
        assert_int_equal(strspn(ha, "0123456789abcdef"), 64);
        assert_int_equal(container_config_hash(b, hb), 0);
        assert_string_equal(ha, hb);

        /* Labels do not count (the hash itself is a label). */
        assert_int_equal(strv_push(&b->labels, "berth.config-hash=whatever"), 0);
        assert_int_equal(container_config_hash(b, hb), 0);
        assert_string_equal(ha, hb);

        /* Env does. */
        assert_int_equal(strv_push(&b->env, "B=2"), 0);
        assert_int_equal(container_config_hash(b, hb), 0);
        assert_string_not_equal(ha, hb);

        /* As does a value within it, the image, resources, ports and mounts. */
        b_free(b->env[1]);
        b->env[1] = NULL;
        assert_int_equal(container_config_hash(b, hb), 0);
        assert_string_equal(ha, hb);
        b_free(b->env[0]);
        b->env[0] = b_strdup("A=2");
        assert_int_equal(container_config_hash(b, h2), 0);
        assert_string_not_equal(ha, h2);
        b_free(b->env[0]);
        b->env[0] = b_strdup("A=1");

        b->memory = 1 << 20;
        assert_int_equal(container_config_hash(b, h2), 0);
        assert_string_not_equal(ha, h2);
        b->memory = 0;
        b->ports[0].host_port = 8081;
        assert_int_equal(container_config_hash(b, h2), 0);
        assert_string_not_equal(ha, h2);
        b->ports[0].host_port = 8080;
        b->mounts[0].read_only = true;
        assert_int_equal(container_config_hash(b, h2), 0);
        assert_string_not_equal(ha, h2);
        b->mounts[0].read_only = false;
        assert_int_equal(container_config_hash(b, h2), 0);
        assert_string_equal(ha, h2);

        /* No concatenation collisions: ["ab"] vs ["a","b"]. */
        b->cmd = strv_free(b->cmd);
        assert_int_equal(strv_push(&b->cmd, "htt"), 0);
        assert_int_equal(strv_push(&b->cmd, "pd"), 0);
        assert_int_equal(container_config_hash(b, h2), 0);
        assert_string_not_equal(ha, h2);

        /* NULL entrypoint (image default) differs from an empty one. */
        {
                ContainerConfig empty = {0};
                char e1[65], e2[65];

                assert_int_equal(container_config_hash(&empty, e1), 0);
                empty.entrypoint = b_calloc(1, sizeof(char *));
                assert_int_equal(container_config_hash(&empty, e2), 0);
                assert_string_not_equal(e1, e2);
                container_config_release(&empty);
        }
}

static void test_names(void **state) {
        char buf[128], tiny[8];
        (void) state;

        assert_true(name_is_valid("web"));
        assert_true(name_is_valid("a"));
        assert_true(name_is_valid("0"));
        assert_true(name_is_valid("a-b-1"));
        assert_true(name_is_valid("abcdefghijabcdefghijabcdefghijabcdefghij"));
        assert_false(name_is_valid("abcdefghijabcdefghijabcdefghijabcdefghijk"));
        assert_false(name_is_valid(""));
        assert_false(name_is_valid(NULL));
        assert_false(name_is_valid("-a"));
        assert_false(name_is_valid("a-"));
        assert_false(name_is_valid("A"));
        assert_false(name_is_valid("a_b"));
        assert_false(name_is_valid("a.b"));
        assert_false(name_is_valid("../x"));

        assert_int_equal(name_container(buf, sizeof(buf), "shop", "web", "app", 2), 0);
        assert_string_equal(buf, "shop-web-app-2");
        assert_int_equal(name_volume(buf, sizeof(buf), "shop", "db", "data", 0), 0);
        assert_string_equal(buf, "shop-db-data-0");
        assert_int_equal(name_project_network(buf, sizeof(buf), "shop"), 0);
        assert_string_equal(buf, "berth-shop");
        assert_int_equal(name_container(tiny, sizeof(tiny), "shop", "web", "app", 0), -E2BIG);
        assert_int_equal(name_project_network(tiny, sizeof(tiny), "shop"), -E2BIG);
}

static void test_enums(void **state) {
        (void) state;
        for (int k = 0; k < _KIND_MAX; k++)
                assert_int_equal(kind_from_string(kind_to_string((ResourceKind) k)), k);
        assert_string_equal(kind_to_string(KIND_DOCKER_SERVICE), "docker_service");
        assert_string_equal(kind_to_string(KIND_PG_TENANT), "pg_tenant");
        assert_int_equal(kind_from_string("nope"), _KIND_INVALID);
        assert_int_equal(kind_from_string(NULL), _KIND_INVALID);
        assert_null(kind_to_string(_KIND_MAX));

        for (int ph = 0; ph < _PHASE_MAX; ph++)
                assert_int_equal(phase_from_string(phase_to_string((Phase) ph)), ph);
        assert_string_equal(phase_to_string(PHASE_DEGRADED), "DEGRADED");
        assert_int_equal(phase_from_string("running"), _PHASE_INVALID);

        assert_string_equal(action_type_to_string(ACTION_ENSURE_NETWORK), "ensure_network");
        assert_string_equal(action_type_to_string(ACTION_REMOVE_VOLUME), "remove_volume");
        assert_null(action_type_to_string(_ACTION_INVALID));
}

static void test_status_json(void **state) {
        _cleanup_(status_release) Status s = {0};
        _cleanup_json_ cJSON *j = NULL, *j2 = NULL, *j3 = NULL;
        _cleanup_free_ char *txt = NULL;
        const cJSON *ready;
        (void) state;

        s.phase = PHASE_RUNNING;
        s.observed_generation = 7;
        s.message = b_strdup("2/2 replicas ready");
        s.replicas_desired = 2;
        s.replicas_running = 2;
        s.nodes = b_calloc(1, sizeof(*s.nodes));
        assert_non_null(s.nodes);
        s.n_nodes = 1;
        s.nodes[0].name = b_strdup("shop-web-app-0");
        s.nodes[0].role = b_strdup("app");
        s.nodes[0].state = b_strdup("running");
        s.nodes[0].host = b_strdup("172.18.0.2");
        s.endpoints = cJSON_CreateObject();
        assert_non_null(cJSON_AddStringToObject(s.endpoints, "internal", "web:80"));

        j = status_to_json(&s, NULL, "2026-01-01T00:00:00Z");
        assert_non_null(j);
        txt = cJSON_PrintUnformatted(j);
        assert_string_equal(
                txt,
                "{\"phase\":\"RUNNING\",\"observed_generation\":7,\"message\":\"2/2 replicas "
                "ready\","
                "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Running\","
                "\"message\":\"2/2 replicas ready\",\"last_transition\":\"2026-01-01T00:00:00Z\"}],"
                "\"endpoints\":{\"internal\":\"web:80\"},\"nodes\":[{\"name\":\"shop-web-app-0\","
                "\"role\":\"app\",\"state\":\"running\",\"health\":null,\"host\":\"172.18.0.2\","
                "\"index\":0}],\"replicas\":{\"desired\":2,\"running\":2,\"failed\":0}}");

        /* Same Ready status later: the transition time is kept. */
        j2 = status_to_json(&s, j, "2026-01-02T00:00:00Z");
        ready = cJSON_GetArrayItem(cJSON_GetObjectItem(j2, "conditions"), 0);
        assert_string_equal(cJSON_GetObjectItem(ready, "last_transition")->valuestring,
                            "2026-01-01T00:00:00Z");

        /* Ready flips: stamped now. */
        s.phase = PHASE_DEGRADED;
        j3 = status_to_json(&s, j2, "2026-01-03T00:00:00Z");
        ready = cJSON_GetArrayItem(cJSON_GetObjectItem(j3, "conditions"), 0);
        assert_string_equal(cJSON_GetObjectItem(ready, "status")->valuestring, "False");
        assert_string_equal(cJSON_GetObjectItem(ready, "reason")->valuestring, "Degraded");
        assert_string_equal(cJSON_GetObjectItem(ready, "last_transition")->valuestring,
                            "2026-01-03T00:00:00Z");
}

static void test_status_minimal(void **state) {
        Status s = {0};
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *txt = NULL;
        (void) state;

        j = status_to_json(&s, NULL, NULL);
        assert_non_null(j);
        txt = cJSON_PrintUnformatted(j);
        assert_string_equal(txt,
                            "{\"phase\":\"PENDING\",\"observed_generation\":0,\"message\":\"\","
                            "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
                            "\"reason\":\"Pending\",\"message\":\"\",\"last_transition\":null}],"
                            "\"endpoints\":{},\"nodes\":[],\"replicas\":{\"desired\":0,"
                            "\"running\":0,\"failed\":0}}");
        status_release(&s);
        status_release(&s); /* idempotent */

        s.phase = _PHASE_MAX;
        assert_null(status_to_json(&s, NULL, NULL));
}

static void test_observed_release(void **state) {
        ObservedContainer *c = b_calloc(2, sizeof(*c));
        (void) state;

        assert_non_null(c);
        c[0].id = b_strdup("abc");
        c[0].name = b_strdup("shop-web-app-0");
        c[0].health = b_strdup("healthy");
        c[1].config_hash = b_strdup("h");
        c[1].ip = b_strdup("10.0.0.1");
        observed_container_release(&c[0]);
        assert_null(c[0].id);
        observed_containers_free(c, 2);
        observed_containers_free(NULL, 0);
}

static void test_units(void **state) {
        usec_t t;
        int64_t m;
        char buf[64];
        (void) state;

        assert_int_equal(duration_parse("10s", &t), 0);
        assert_int_equal(t, 10 * USEC_PER_SEC);
        assert_int_equal(duration_parse("500ms", &t), 0);
        assert_int_equal(t, 500 * USEC_PER_MSEC);
        assert_int_equal(duration_parse("1h2m3s4ms", &t), 0);
        assert_string_equal(duration_format(t, buf, sizeof(buf)), "1h2m3s4ms");
        assert_int_equal(duration_parse("90s", &t), 0);
        assert_string_equal(duration_format(t, buf, sizeof(buf)), "1m30s");
        assert_string_equal(duration_format(0, buf, sizeof(buf)), "0s");
        assert_int_equal(duration_parse("", &t), -EINVAL);
        assert_int_equal(duration_parse("10", &t), -EINVAL);
        assert_int_equal(duration_parse("s", &t), -EINVAL);
        assert_int_equal(duration_parse("1.5s", &t), -EINVAL);
        assert_int_equal(duration_parse("-1s", &t), -EINVAL);
        assert_int_equal(duration_parse("25h", &t), -ERANGE);
        assert_int_equal(duration_parse("99999999999999h", &t), -ERANGE);

        assert_int_equal(memory_parse("256Mi", &m), 0);
        assert_int_equal(m, 256 << 20);
        assert_int_equal(memory_parse("1.5Gi", &m), 0);
        assert_int_equal(m, 1610612736);
        assert_int_equal(memory_parse("1G", &m), 0);
        assert_int_equal(m, 1000000000);
        assert_int_equal(memory_parse("4194304", &m), 0);
        assert_int_equal(m, 4194304);
        assert_int_equal(memory_parse("512m", &m), -EINVAL);
        assert_int_equal(memory_parse("12Zi", &m), -EINVAL);
        assert_int_equal(memory_parse("Mi", &m), -EINVAL);
        assert_int_equal(memory_parse("1.Mi", &m), -EINVAL);
        assert_int_equal(memory_parse("2Pi", &m), -EINVAL);
        assert_int_equal(memory_parse("99999999999999999Ki", &m), -ERANGE);
        assert_int_equal(memory_parse("2000Ti", &m), -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan_text),
                cmocka_unit_test(test_plan_json),
                cmocka_unit_test(test_plan_add_takes_container),
                cmocka_unit_test(test_config_hash),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_enums),
                cmocka_unit_test(test_status_json),
                cmocka_unit_test(test_status_minimal),
                cmocka_unit_test(test_observed_release),
                cmocka_unit_test(test_units),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
