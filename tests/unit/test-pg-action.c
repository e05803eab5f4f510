/* SPDX-License-Identifier: MIT */
/* pg_single's queued actions: parameter validation and normalisation (model/pg-action.c), and
 * the pure RFC 3339 parser and printer they use (util/time-parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/json-util.h"
#include "model/pg-action.h"

/* Normalises params (JSON text, NULL: none) and returns the result as compact JSON text, or
 * NULL with *e filled. */
static char *norm(const char *action, const char *params, Error *e) {
        _cleanup_json_ cJSON *in = NULL, *out = NULL;
        char *text;

        err_clear(e);
        if (params) {
                in = cJSON_Parse(params);
                assert_non_null(in);
        }
        if (pg_action_normalise(action, in, &out, e) < 0)
                return NULL;
        text = cJSON_PrintUnformatted(out);
        assert_non_null(text);
        return text;
}

static void want_norm(const char *action, const char *params, const char *want) {
        Error e = ERROR_INIT;
        char *got = norm(action, params, &e);

        if (!got)
                fail_msg("%s %s: %s", action, strna(params), e.msg);
        assert_string_equal(got, want);
        cJSON_free(got);
}

static void want_error(const char *action, const char *params, int code, const char *reason,
                       const char *field) {
        Error e = ERROR_INIT;
        char *got = norm(action, params, &e);

        if (got)
                fail_msg("%s %s: accepted as %s", action, strna(params), got);
        assert_int_equal(e.code, code);
        assert_string_equal(e.reason, reason);
        assert_string_equal(e.field, field);
        assert_true(strneq(e.msg, field, strlen(field))); /* the message names the field */
}

static void test_type_names(void **state) {
        (void) state;
        assert_string_equal(pg_action_type_to_string(PG_ACTION_BACKUP), "backup");
        assert_string_equal(pg_action_type_to_string(PG_ACTION_RESTORE), "restore");
        assert_string_equal(pg_action_type_to_string(PG_ACTION_VACUUM), "vacuum");
        assert_null(pg_action_type_to_string(_PG_ACTION_MAX));
        assert_null(pg_action_type_to_string(_PG_ACTION_INVALID));
        assert_int_equal(pg_action_type_from_string("restore"), PG_ACTION_RESTORE);
        assert_int_equal(pg_action_type_from_string("Restore"), _PG_ACTION_INVALID);
        assert_int_equal(pg_action_type_from_string("restart"), _PG_ACTION_INVALID);
        assert_int_equal(pg_action_type_from_string(NULL), _PG_ACTION_INVALID);
}

static void test_backup(void **state) {
        (void) state;
        want_norm("backup", NULL, "{\"type\":\"auto\"}");
        want_norm("backup", "null", "{\"type\":\"auto\"}");
        want_norm("backup", "{}", "{\"type\":\"auto\"}");
        want_norm("backup", "{\"type\": null}", "{\"type\":\"auto\"}");
        want_norm("backup", "{\"type\": \"full\"}", "{\"type\":\"full\"}");
        want_norm("backup", "{\"type\": \"diff\"}", "{\"type\":\"diff\"}");
        want_norm("backup", "{\"type\": \"incr\"}", "{\"type\":\"incr\"}");
        /* Normalising a normalised body returns it unchanged. */
        want_norm("backup", "{\"type\":\"auto\"}", "{\"type\":\"auto\"}");

        want_error("backup", "{\"type\": \"differential\"}", -EINVAL, "INVALID_VALUE",
                   "params.type");
        want_error("backup", "{\"type\": 1}", -EINVAL, "INVALID_TYPE", "params.type");
        want_error("backup", "{\"typ\": \"full\"}", -EINVAL, "UNKNOWN_FIELD", "params.typ");
        want_error("backup", "{\"type\": \"full\", \"type\": \"diff\"}", -EINVAL, "DUPLICATE",
                   "params.type");
        want_error("backup", "[\"full\"]", -EINVAL, "INVALID_TYPE", "params");
        want_error("backup", "\"full\"", -EINVAL, "INVALID_TYPE", "params");
}

static void test_restore(void **state) {
        (void) state;
        want_norm("restore", NULL, "{}");
        want_norm("restore", "{}", "{}");
        want_norm("restore", "{\"backup\": \"20261123-101500F\"}",
                  "{\"backup\":\"20261123-101500F\"}");
        want_norm("restore", "{\"backup\": \"20261123-101500F_20261124-020000D\"}",
                  "{\"backup\":\"20261123-101500F_20261124-020000D\"}");
        want_norm("restore", "{\"backup\": \"20261123-101500F_20261124-020000I\"}",
                  "{\"backup\":\"20261123-101500F_20261124-020000I\"}");
        want_norm("restore", "{\"time\": \"2026-11-23T10:15:00Z\"}",
                  "{\"time\":\"2026-11-23T10:15:00Z\"}");
        /* Zones become UTC; fractions are kept to the microsecond. */
        want_norm("restore", "{\"time\": \"2026-11-23T11:15:00+01:00\"}",
                  "{\"time\":\"2026-11-23T10:15:00Z\"}");
        want_norm("restore", "{\"time\": \"2026-11-23t05:45:00.25-04:30\"}",
                  "{\"time\":\"2026-11-23T10:15:00.250000Z\"}");
        want_norm("restore", "{\"time\": \"2026-11-23 10:15:00.123456789z\"}",
                  "{\"time\":\"2026-11-23T10:15:00.123456Z\"}");
        want_norm("restore", "{\"time\": \"2026-11-23T00:30:00+01:00\"}",
                  "{\"time\":\"2026-11-22T23:30:00Z\"}");
        want_norm("restore", "{\"time\": \"2026-11-23T10:15:00.250000Z\"}",
                  "{\"time\":\"2026-11-23T10:15:00.250000Z\"}");

        /* Both: a conflict, named on the time. */
        want_error("restore",
                   "{\"backup\": \"20261123-101500F\", \"time\": \"2026-11-23T10:15:00Z\"}",
                   -EINVAL, "CONFLICT", "params.time");
        want_error("restore", "{\"target\": \"latest\"}", -EINVAL, "UNKNOWN_FIELD",
                   "params.target");
        want_error("restore", "{\"tim\": \"2026-11-23T10:15:00Z\"}", -EINVAL, "UNKNOWN_FIELD",
                   "params.tim");
        want_error("restore", "{\"type\": \"full\"}", -EINVAL, "UNKNOWN_FIELD", "params.type");

        /* Labels: only pgBackRest's syntax, nothing that could become an option. */
        want_error("restore", "{\"backup\": \"latest\"}", -EINVAL, "INVALID_VALUE",
                   "params.backup");
        want_error("restore", "{\"backup\": \"20261123-101500D\"}", -EINVAL, "INVALID_VALUE",
                   "params.backup");
        want_error("restore", "{\"backup\": \"20261123-101500F_20261124-020000F\"}", -EINVAL,
                   "INVALID_VALUE", "params.backup");
        want_error("restore", "{\"backup\": \"20261123-101500F --delta\"}", -EINVAL,
                   "INVALID_VALUE", "params.backup");
        want_error("restore", "{\"backup\": \"2026112-1101500F\"}", -EINVAL, "INVALID_VALUE",
                   "params.backup");
        want_error("restore", "{\"backup\": 20261123}", -EINVAL, "INVALID_TYPE", "params.backup");
        want_error("restore",
                   "{\"backup\": \"20261123-101500F_20261124-020000D_20261124-020000D\"}", -EINVAL,
                   "OUT_OF_RANGE", "params.backup");

        /* Times: RFC 3339 with a zone, a real date. */
        static const char *const bad_times[] = {
                "2026-11-23T10:15:00",             /* no zone */
                "2026-11-23",                      /* no time */
                "2026-11-23T10:15Z",               /* no seconds */
                "2026-11-23T10:15:00+0100",        /* offset without a colon */
                "2026-11-23T10:15:00+01",          /* offset without minutes */
                "2026-11-23T10:15:00+24:00",       /* offset out of range */
                "2026-11-23T10:15:00.Z",           /* empty fraction */
                "2026-11-23T10:15:00.1234567890Z", /* below the nanosecond */
                "2026-02-29T10:15:00Z",            /* not a leap year */
                "2026-04-31T10:15:00Z",            /* April has 30 days */
                "2026-13-01T10:15:00Z",            /* month 13 */
                "2026-11-23T24:00:00Z",            /* hour 24 */
                "2026-11-23T10:60:00Z",            /* minute 60 */
                "2026-11-23T10:15:60Z",            /* leap seconds are not accepted */
                "2026-11-23T10:15:00Z ",           /* trailing text */
                "1969-12-31T23:59:59Z",            /* before 1970 */
                "1970-01-01T00:00:00Z",            /* zero is "none" */
                "now",
                "",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_times); i++) {
                char params[128];

                snprintf(params, sizeof(params), "{\"time\": \"%s\"}", bad_times[i]);
                want_error("restore", params, -EINVAL, "INVALID_VALUE", "params.time");
        }
        want_error("restore", "{\"time\": 1763892900}", -EINVAL, "INVALID_TYPE", "params.time");
}

static void test_vacuum(void **state) {
        (void) state;
        want_norm("vacuum", NULL, "{}");
        want_norm("vacuum", "{}", "{}");
        want_error("vacuum", "{\"full\": true}", -EINVAL, "UNKNOWN_FIELD", "params.full");
}

static void test_unknown_action(void **state) {
        (void) state;
        want_error("restart", NULL, -EOPNOTSUPP, "NOT_SUPPORTED", "action");
        want_error("", "{}", -EOPNOTSUPP, "NOT_SUPPORTED", "action");
}

static void test_from_json(void **state) {
        _cleanup_json_ cJSON *p = NULL;
        PgAction a = {};
        Error e = ERROR_INIT;

        (void) state;
        p = cJSON_Parse("{\"type\":\"diff\"}");
        assert_int_equal(pg_action_from_json("backup", p, &a, &e), 0);
        assert_int_equal(a.type, PG_ACTION_BACKUP);
        assert_int_equal(a.backup_type, PG_BACKUP_DIFF);
        assert_null(a.backup);
        assert_int_equal(a.target_time, 0);
        pg_action_release(&a);
        cJSON_Delete(p);

        p = cJSON_Parse("{\"backup\":\"20261123-101500F\"}");
        assert_int_equal(pg_action_from_json("restore", p, &a, &e), 0);
        assert_int_equal(a.type, PG_ACTION_RESTORE);
        assert_string_equal(a.backup, "20261123-101500F");
        assert_int_equal(a.target_time, 0);
        pg_action_release(&a);
        cJSON_Delete(p);

        p = cJSON_Parse("{\"time\":\"2026-11-23T10:15:00.5Z\"}");
        assert_int_equal(pg_action_from_json("restore", p, &a, &e), 0);
        assert_null(a.backup);
        assert_int_equal(a.target_time, UINT64_C(1795428900500000));
        pg_action_release(&a);
        cJSON_Delete(p);

        p = cJSON_Parse("{}");
        assert_int_equal(pg_action_from_json("restore", p, &a, &e), 0);
        assert_null(a.backup);
        assert_int_equal(a.target_time, 0); /* latest */
        pg_action_release(&a);

        assert_int_equal(pg_action_from_json("vacuum", NULL, &a, &e), 0);
        assert_int_equal(a.type, PG_ACTION_VACUUM);
        pg_action_release(&a);

        /* Invalid stored params are refused as at the API; ret is untouched. */
        a = (PgAction){.type = PG_ACTION_VACUUM};
        cJSON_Delete(p);
        p = cJSON_Parse("{\"backup\":\"x\"}");
        assert_int_equal(pg_action_from_json("restore", p, &a, &e), -EINVAL);
        assert_int_equal(a.type, PG_ACTION_VACUUM);
        assert_null(a.backup);
        pg_action_release(NULL);
}

static void test_rfc3339(void **state) {
        char buf[40];
        usec_t t;

        (void) state;
        assert_int_equal(parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(parse_rfc3339("1970-01-01T01:00:00+01:00", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(parse_rfc3339("1970-01-01T00:00:00+00:01", &t), -ERANGE);
        assert_int_equal(parse_rfc3339("2000-02-29T12:00:00Z", &t), 0);
        assert_int_equal(t, UINT64_C(951825600) * USEC_PER_SEC);
        assert_int_equal(parse_rfc3339("1900-02-29T12:00:00Z", &t), -EINVAL);
        assert_int_equal(parse_rfc3339("2024-02-29T00:00:00Z", &t), 0);
        assert_int_equal(parse_rfc3339("2026-11-23T10:15:00Z", &t), 0);
        assert_int_equal(t, UINT64_C(1795428900) * USEC_PER_SEC);
        assert_int_equal(parse_rfc3339("2026-11-23T10:15:00.000001Z", &t), 0);
        assert_int_equal(t, UINT64_C(1795428900) * USEC_PER_SEC + 1);
        assert_int_equal(parse_rfc3339("9999-12-31T23:59:59.999999Z", &t), 0);
        assert_int_equal(parse_rfc3339("10000-01-01T00:00:00Z", &t), -EINVAL);
        assert_int_equal(parse_rfc3339(NULL, &t), -EINVAL);
        assert_int_equal(parse_rfc3339("2026-11-23T10:15:00Z", NULL), -EINVAL);

        assert_string_equal(format_rfc3339_exact(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
        assert_string_equal(
                format_rfc3339_exact(UINT64_C(951825600) * USEC_PER_SEC, buf, sizeof(buf)),
                "2000-02-29T12:00:00Z");
        assert_string_equal(
                format_rfc3339_exact(UINT64_C(1795428900) * USEC_PER_SEC + 1, buf, sizeof(buf)),
                "2026-11-23T10:15:00.000001Z");

        /* Round trip over a range of days (every month end, leap days, century rules). */
        for (usec_t day = 0; day < 150000; day += 7) {
                usec_t in = day * 86400 * USEC_PER_SEC + (day % 86400) * USEC_PER_SEC + day, out;

                format_rfc3339_exact(in, buf, sizeof(buf));
                assert_int_equal(parse_rfc3339(buf, &out), 0);
                assert_int_equal(out, in);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_type_names),     cmocka_unit_test(test_backup),
                cmocka_unit_test(test_restore),        cmocka_unit_test(test_vacuum),
                cmocka_unit_test(test_unknown_action), cmocka_unit_test(test_from_json),
                cmocka_unit_test(test_rfc3339),
        };

        alloc_install_cjson();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
