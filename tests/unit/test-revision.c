/* SPDX-License-Identifier: MIT */
/* model/revision.c: the human diff between two revisions, the spec a rollback applies, and the
 * deploy states' names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/revision.h"

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

static void assert_diff(const char *a, const char *as, const char *b, const char *bs,
                        const char *want) {
        _cleanup_json_ cJSON *x = a ? cJSON_Parse(a) : NULL, *y = cJSON_Parse(b);
        _cleanup_json_ cJSON *xs = as ? cJSON_Parse(as) : NULL, *ys = bs ? cJSON_Parse(bs) : NULL;
        _cleanup_(buf_release) Buf out = BUF_INIT(64 * 1024);

        assert_true(!a || x);
        assert_non_null(y);
        assert_int_equal(revision_diff(x, xs, y, ys, &out), 0);
        if (!streq(buf_str(&out), want))
                fail_msg("diff\n--- want\n%s--- got\n%s", want, buf_str(&out));
}

static void test_diff(void **state) {
        (void) state;
        /* Image, env added / removed / changed, a list, in spec order. */
        assert_diff("{\"image\":\"app:1\",\"command\":[\"sleep\",\"10\"],\"env\":{\"A\":\"1\","
                    "\"OLD\":\"x\"},\"replicas\":2}",
                    NULL,
                    "{\"image\":\"app:2\",\"command\":[\"sleep\",\"20\"],\"env\":{\"A\":\"2\","
                    "\"FOO\":\"bar\"},\"replicas\":4}",
                    NULL,
                    "image: app:1 → app:2\n"
                    "command: [sleep, 10] → [sleep, 20]\n"
                    "env.A: 1 → 2\n"
                    "env.OLD: removed\n"
                    "env.FOO: added (bar)\n");
        /* Scale, pause and deploy settings are not part of a revision. */
        assert_diff("{\"image\":\"a\",\"replicas\":1,\"paused\":false,\"deploy\":{\"strategy\":"
                    "\"rolling\"}}",
                    NULL, "{\"image\":\"a\",\"replicas\":3,\"paused\":true}", NULL, "");
        /* Lists of maps item by item; numbers; newlines shown; long values cut. */
        assert_diff("{\"ports\":[{\"container_port\":80,\"host_port\":8080}],\"config_files\":"
                    "[{\"path\":\"/etc/a\",\"content\":\"x=1\\n\"}]}",
                    NULL,
                    "{\"ports\":[{\"container_port\":80,\"host_port\":9090}],\"config_files\":"
                    "[{\"path\":\"/etc/a\",\"content\":\"x=2\\n\"}]}",
                    NULL,
                    "ports[0].host_port: 8080 → 9090\n"
                    "config_files[0].content: x=1\\n → x=2\\n\n");
        assert_diff("{\"env\":{\"K\":\"short\"}}", NULL,
                    "{\"env\":{\"K\":\"0123456789012345678901234567890123456789012345678901234567"
                    "89012345678901234567890123456789\"}}",
                    NULL,
                    "env.K: short → 0123456789012345678901234567890123456789012345678901234567"
                    "8901234567890123456789...\n");
        /* Secret versions, by name, never values. */
        assert_diff("{\"image\":\"a\"}", "{\"db-pass\":1,\"tls\":4}", "{\"image\":\"a\"}",
                    "{\"db-pass\":2,\"tls\":4}", "secret db-pass: version 1 → 2\n");
        /* Resources and a nested map. */
        assert_diff("{\"resources\":{\"cpu\":0.5,\"memory\":268435456}}", NULL,
                    "{\"resources\":{\"cpu\":1,\"memory\":268435456}}", NULL,
                    "resources.cpu: 0.5 → 1\n");
        /* The first revision: everything added. */
        assert_diff(NULL, NULL, "{\"image\":\"a\",\"env\":{\"X\":\"1\"},\"replicas\":2}", NULL,
                    "image: added (a)\nenv: added\n");
}

static void test_rollback_spec(void **state) {
        _cleanup_json_ cJSON *cur = cJSON_Parse(
                "{\"image\":\"b\",\"replicas\":5,\"paused\":true,\"deploy\":{\"strategy\":"
                "\"recreate\"}}");
        _cleanup_json_ cJSON *old = cJSON_Parse(
                "{\"image\":\"a\",\"env\":{\"X\":\"1\"},\"replicas\":2,\"paused\":false}");
        _cleanup_json_ cJSON *spec = NULL;
        _cleanup_free_ char *text = NULL;
        (void) state;

        assert_int_equal(revision_rollback_spec(cur, old, &spec), 0);
        text = cJSON_PrintUnformatted(spec);
        assert_string_equal(text, "{\"image\":\"a\",\"env\":{\"X\":\"1\"},\"replicas\":5,"
                                  "\"paused\":true,\"deploy\":{\"strategy\":\"recreate\"}}");
        assert_true(revision_spec_key_ignored("replicas"));
        assert_false(revision_spec_key_ignored("image"));
}

static void test_deploy_states(void **state) {
        (void) state;
        for (int s = 0; s < _DEPLOY_STATE_MAX; s++)
                assert_int_equal(deploy_state_from_string(deploy_state_to_string(s)), s);
        assert_int_equal(deploy_state_from_string("RUNNING"), _DEPLOY_STATE_INVALID);
        assert_null(deploy_state_to_string(_DEPLOY_STATE_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_diff),
                cmocka_unit_test(test_rollback_spec),
                cmocka_unit_test(test_deploy_states),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
