/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/document.h"
#include "model/json-util.h"

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

/* Parses text and returns its JSON, printed compactly (caller frees), or NULL with e filled. */
static char *yaml_print(const char *text, Error *e) {
        _cleanup_json_ cJSON *j = NULL;
        int r;

        err_clear(e);
        r = yaml_to_json(text, strlen(text), &j, e);
        if (r < 0) {
                assert_int_equal(r, e->code);
                return NULL;
        }
        return cJSON_PrintUnformatted(j);
}

static void assert_yaml(const char *text, const char *want) {
        Error e = ERROR_INIT;
        _cleanup_free_ char *got = yaml_print(text, &e);

        if (!got)
                fail_msg("yaml_to_json(%s) failed: %s", text, e.msg);
        assert_string_equal(got, want);
}

static void assert_yaml_error(const char *text, int code, const char *reason, const char *field,
                              const char *msg_prefix) {
        Error e = ERROR_INIT;
        _cleanup_free_ char *got = yaml_print(text, &e);

        if (got)
                fail_msg("expected an error for %s, got %s", text, got);
        assert_int_equal(e.code, code);
        assert_string_equal(e.reason, reason);
        if (field)
                assert_string_equal(e.field, field);
        if (msg_prefix && !strneq(e.msg, msg_prefix, strlen(msg_prefix)))
                fail_msg("message \"%s\" does not start with \"%s\"", e.msg, msg_prefix);
}

static void test_scalars(void **state) {
        (void) state;
        assert_yaml("a: 1\nb: -2\nc: +3\nd: 0x1F\ne: 0o17\nf: 1.5\ng: 1e3\nh: .5\ni: 01\n",
                    "[{\"a\":1,\"b\":-2,\"c\":3,\"d\":31,\"e\":15,\"f\":1.5,\"g\":1000,\"h\":0.5,"
                    "\"i\":1}]");
        assert_yaml("a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\n",
                    "[{\"a\":true,\"b\":true,\"c\":true,\"d\":false,\"e\":false,\"f\":false}]");
        assert_yaml("a: ~\nb: null\nc: Null\nd: NULL\ne:\n",
                    "[{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null}]");
        /* YAML 1.1 words are strings in 1.2; so are .inf and things that only look numeric. */
        assert_yaml("a: yes\nb: no\nc: on\nd: .inf\ne: 1.2.3\nf: 0x\ng: 12abc\nh: '-'\ni: 1_000\n",
                    "[{\"a\":\"yes\",\"b\":\"no\",\"c\":\"on\",\"d\":\".inf\",\"e\":\"1.2.3\","
                    "\"f\":\"0x\",\"g\":\"12abc\",\"h\":\"-\",\"i\":\"1_000\"}]");
        /* Quoted scalars are always strings. */
        assert_yaml("a: '1'\nb: \"true\"\nc: ''\nd: \"null\"\ne: 'x y'\n",
                    "[{\"a\":\"1\",\"b\":\"true\",\"c\":\"\",\"d\":\"null\",\"e\":\"x y\"}]");
        /* Keys are text, whatever they look like. */
        assert_yaml("1: a\ntrue: b\n", "[{\"1\":\"a\",\"true\":\"b\"}]");
        /* Huge numbers that do not fit a double stay strings. */
        assert_yaml("a: 1e999\n", "[{\"a\":\"1e999\"}]");
        /* Core-schema tags. */
        assert_yaml("a: !!str 1\nb: !!int 2\nc: !!float 3\nd: !!bool true\ne: !!null ~\nf: ! 5\n",
                    "[{\"a\":\"1\",\"b\":2,\"c\":3,\"d\":true,\"e\":null,\"f\":\"5\"}]");
        assert_yaml("a: |\n  line1\n  line2\nb: >\n  folded\n  text\n",
                    "[{\"a\":\"line1\\nline2\\n\",\"b\":\"folded text\\n\"}]");
        assert_yaml("just a string\n", "[\"just a string\"]");
}

static void test_nesting(void **state) {
        (void) state;
        assert_yaml("a:\n  b:\n    - 1\n    - c: [x, {d: e}]\n  f: {}\ng: []\n",
                    "[{\"a\":{\"b\":[1,{\"c\":[\"x\",{\"d\":\"e\"}]}],\"f\":{}},\"g\":[]}]");
        assert_yaml("- - - 1\n", "[[[[1]]]]");
        assert_yaml("{a: [1, 2], b: {c: d}}", "[{\"a\":[1,2],\"b\":{\"c\":\"d\"}}]");
}

static void test_multi_document(void **state) {
        (void) state;
        assert_yaml("a: 1\n---\nb: 2\n", "[{\"a\":1},{\"b\":2}]");
        /* Empty documents (and null ones) are skipped. */
        assert_yaml("---\n---\na: 1\n...\n---\n# only a comment\n---\n~\n", "[{\"a\":1}]");
        assert_yaml("", "[]");
        assert_yaml("# nothing\n\n", "[]");
        /* Errors in a later document name it. */
        assert_yaml_error("a: 1\n---\nb: 1\n---\nc: {d: &x 1}\n", -EBADMSG, "INVALID_YAML",
                          "documents[2].c.d", "line 5, column 8: anchors");
}

static void test_errors_have_positions(void **state) {
        (void) state;
        assert_yaml_error("a: 1\nb: [1, 2\nc: 3\n", -EBADMSG, "INVALID_YAML", "",
                          "line 3, column 2:");
        assert_yaml_error("a: 1\n  b: 2\n", -EBADMSG, "INVALID_YAML", "", "line 2, column 4:");
        assert_yaml_error("a: \"unterminated\n", -EBADMSG, "INVALID_YAML", "", "line 2, column 1:");
        assert_yaml_error("\tkey: 1\n", -EBADMSG, "INVALID_YAML", "", "line 1, column 1:");
        /* A NUL in the input is a control character. */
        {
                static const char text[] = "a: x\0y\n";
                _cleanup_json_ cJSON *j = NULL;
                Error e = ERROR_INIT;

                assert_int_equal(yaml_to_json(text, sizeof(text) - 1, &j, &e), -EBADMSG);
                assert_string_equal(e.reason, "INVALID_YAML");
                assert_null(j);
        }
}

static void test_depth_bomb(void **state) {
        _cleanup_free_ char *flow = b_malloc(10001), *block = NULL, *ok = NULL;
        _cleanup_(buf_release) Buf b = BUF_INIT(1 << 20);
        Error e = ERROR_INIT;
        _cleanup_json_ cJSON *j = NULL;
        (void) state;

        assert_non_null(flow);
        memset(flow, '[', 10000);
        flow[10000] = 0;
        assert_int_equal(yaml_to_json(flow, 10000, &j, &e), -EBADMSG);
        assert_string_equal(e.reason, "INVALID_YAML");
        assert_non_null(strstr(e.msg, "nesting deeper than 64 levels"));
        assert_non_null(strstr(e.msg, "line 1, column 65:"));

        /* Block style: 100 nested maps. */
        for (int i = 0; i < 100; i++) {
                for (int k = 0; k < i; k++)
                        assert_int_equal(buf_puts(&b, " "), 0);
                assert_int_equal(buf_printf(&b, "k%d:\n", i), 0);
        }
        block = buf_take(&b);
        assert_int_equal(yaml_to_json(block, strlen(block), &j, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "nesting deeper than 64 levels"));
        assert_int_equal(strncmp(e.field, "k0.k1.k2.", 9), 0);

        /* Exactly YAML_MAX_DEPTH levels are fine. */
        ok = b_malloc(2 * YAML_MAX_DEPTH + 1);
        assert_non_null(ok);
        memset(ok, '[', YAML_MAX_DEPTH);
        memset(ok + YAML_MAX_DEPTH, ']', YAML_MAX_DEPTH);
        ok[2 * YAML_MAX_DEPTH] = 0;
        assert_int_equal(yaml_to_json(ok, strlen(ok), &j, &e), 0);
        assert_true(cJSON_IsArray(j));
}

static void test_aliases_refused(void **state) {
        (void) state;
        assert_yaml_error("base: &b {x: 1}\nother: *b\n", -EBADMSG, "INVALID_YAML", "base",
                          "line 1, column 7: anchors (&b) are not supported");
        assert_yaml_error("a: [1, *nope]\n", -EBADMSG, "INVALID_YAML", "a[1]",
                          "line 1, column 8: aliases (*nope) are not supported");
        assert_yaml_error("a: &s scalar\n", -EBADMSG, "INVALID_YAML", "a", "line 1, column 4:");
        assert_yaml_error("- &l [1]\n", -EBADMSG, "INVALID_YAML", "[0]", "line 1, column 3:");
}

static void test_duplicate_keys(void **state) {
        _cleanup_(buf_release) Buf b = BUF_INIT(1 << 20);
        (void) state;

        assert_yaml_error("a: 1\nb: 2\na: 3\n", -EBADMSG, "INVALID_YAML", "a",
                          "line 3, column 1: duplicate key \"a\"");
        assert_yaml_error("spec:\n  env: {X: 1, Y: 2, X: 3}\n", -EBADMSG, "INVALID_YAML",
                          "spec.env.X", "line 2, column 21: duplicate key");
        /* "1" and 1 are the same key once they are text. */
        assert_yaml_error("1: a\n'1': b\n", -EBADMSG, "INVALID_YAML", "1", NULL);

        /* Large maps are checked when they end (sorted, not quadratic). */
        assert_int_equal(buf_puts(&b, "big:\n"), 0);
        for (int i = 0; i < 500; i++)
                assert_int_equal(buf_printf(&b, "  k%d: %d\n", i, i), 0);
        assert_int_equal(buf_puts(&b, "  k7: again\n"), 0);
        assert_yaml_error(buf_str(&b), -EBADMSG, "INVALID_YAML", "big.k7",
                          "line 2, column 3: duplicate key \"k7\"");
}

static void test_unsupported_constructs(void **state) {
        (void) state;
        assert_yaml_error("? [a, b]\n: 1\n", -EBADMSG, "INVALID_YAML", "",
                          "line 1, column 3: only scalar keys");
        assert_yaml_error("a: !custom x\n", -EBADMSG, "INVALID_YAML", "a",
                          "line 1, column 4: tag !custom is not supported");
        assert_yaml_error("a: !!int x\n", -EBADMSG, "INVALID_YAML", "a",
                          "line 1, column 4: \"x\" does not match tag !!int");
        assert_yaml_error("a: !!map [1]\n", -EBADMSG, "INVALID_YAML", "a",
                          "line 1, column 4: tag !!map is not supported");
        assert_yaml_error("a:\n  ?\n  : x\n", -EBADMSG, "INVALID_YAML", "a",
                          "line 2, column 4: empty keys");
        assert_yaml_error("a:\n  '': x\n", -EBADMSG, "INVALID_YAML", "a",
                          "line 2, column 3: empty keys");
}

static void test_nul_in_strings(void **state) {
        (void) state;
        assert_yaml_error("spec:\n  env:\n    A: \"x\\0y\"\n", -EINVAL, "INVALID_VALUE",
                          "spec.env.A", "line 3, column 8: strings may not contain NUL");
        assert_yaml_error("l: [ok, \"\\0\"]\n", -EINVAL, "INVALID_VALUE", "l[1]", NULL);
        assert_yaml_error("\"a\\0b\": 1\n", -EINVAL, "INVALID_VALUE", "a", NULL);
}

static void test_torture(void **state) {
        static const char text[] = "a: [1, {b: c}]\n---\nd: {e: [true, null, 'x']}\n";
        (void) state;

        for (long n = 0;; n++) {
                _cleanup_json_ cJSON *j = NULL;
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(n);
                r = yaml_to_json(text, strlen(text), &j, &e);
                alloc_fail_after(-1);
                if (r == 0) {
                        assert_int_equal(cJSON_GetArraySize(j), 2);
                        break;
                }
                assert_int_equal(r, -ENOMEM);
                assert_true(n < 10000);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalars),
                cmocka_unit_test(test_nesting),
                cmocka_unit_test(test_multi_document),
                cmocka_unit_test(test_errors_have_positions),
                cmocka_unit_test(test_depth_bomb),
                cmocka_unit_test(test_aliases_refused),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_unsupported_constructs),
                cmocka_unit_test(test_nul_in_strings),
                cmocka_unit_test(test_torture),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
