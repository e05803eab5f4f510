/* SPDX-License-Identifier: MIT */
/* Project quotas: parsing the admin's body, summing services, and the refusal's words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/json-util.h"
#include "model/quota.h"

static ProjectQuota parse(const char *json, int want) {
        _cleanup_json_ cJSON *j = cJSON_Parse(json);
        ProjectQuota q = {0};
        Error e = ERROR_INIT;

        assert_non_null(j);
        assert_int_equal(quota_from_json(j, &q, &e), want);
        return q;
}

static void test_parse(void **state) {
        ProjectQuota q;

        (void) state;
        q = parse("{\"max_cpu\": 2, \"max_memory\": \"4Gi\", \"max_replicas\": 10}", 0);
        assert_true(q.has_cpu && q.has_memory && q.has_replicas);
        assert_true(q.max_cpu == 2.0);
        assert_int_equal(q.max_memory, (int64_t) 4 << 30);
        assert_int_equal(q.max_replicas, 10);
        q = parse("{\"max_replicas\": null}", 0);
        assert_true(quota_is_empty(&q));
        parse("{\"max_cpu\": 0}", -EINVAL);
        parse("{\"max_memory\": \"lots\"}", -EINVAL);
        parse("{\"max_replicas\": -1}", -EINVAL);
        parse("{\"max_gpu\": 1}", -EINVAL);
        parse("[1]", -EINVAL);
}

static int add(const ProjectQuota *q, const char *spec_json, QuotaUsage *u) {
        _cleanup_json_ cJSON *spec = cJSON_Parse(spec_json);
        Error e = ERROR_INIT;

        assert_non_null(spec);
        return quota_add_service(q, "svc", spec, u, &e);
}

static void test_sum_and_check(void **state) {
        ProjectQuota q = {.has_cpu = true,
                          .max_cpu = 1.0,
                          .has_memory = true,
                          .max_memory = (int64_t) 1 << 30,
                          .has_replicas = true,
                          .max_replicas = 4};
        QuotaUsage u = {0};
        Error e = ERROR_INIT;

        (void) state;
        assert_int_equal(
                add(&q, "{\"replicas\": 3, \"resources\": {\"cpu\": 0.25, \"memory\": 268435456}}",
                    &u),
                0);
        assert_int_equal(quota_check(&q, "shop", &u, &e), 0);
        assert_int_equal(
                add(&q, "{\"replicas\": 2, \"resources\": {\"cpu\": 0.25, \"memory\": 268435456}}",
                    &u),
                0);
        assert_int_equal(quota_check(&q, "shop", &u, &e), -EDQUOT);
        assert_string_equal(e.reason, "QUOTA_EXCEEDED");
        assert_string_equal(e.field, "spec.replicas");
        assert_non_null(strstr(e.msg, "would run 5 replicas, over its quota of 4"));
}

static void test_cpu_and_memory(void **state) {
        ProjectQuota q = {.has_cpu = true, .max_cpu = 1.0};
        QuotaUsage u = {0};
        Error e = ERROR_INIT;

        (void) state;
        /* Four quarter cores are exactly one: binary floats must not refuse it. */
        assert_int_equal(
                add(&q, "{\"replicas\": 4, \"resources\": {\"cpu\": 0.25, \"memory\": 1}}", &u), 0);
        assert_int_equal(quota_check(&q, "shop", &u, &e), 0);
        assert_int_equal(
                add(&q, "{\"replicas\": 1, \"resources\": {\"cpu\": 0.5, \"memory\": 1}}", &u), 0);
        assert_int_equal(quota_check(&q, "shop", &u, &e), -EDQUOT);
        assert_string_equal(e.field, "spec.resources.cpu");
        /* Without limits a service could take the whole host: refused under a cpu quota. */
        assert_int_equal(add(&q, "{\"replicas\": 1}", &u), -EDQUOT);
        /* ...but replicas: 0 holds nothing. */
        assert_int_equal(add(&q, "{\"replicas\": 0}", &u), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_sum_and_check),
                cmocka_unit_test(test_cpu_and_memory),
        };

        alloc_install_cjson();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
