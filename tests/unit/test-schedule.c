/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include <cmocka.h>

#include "util/common.h"
#include "model/schedule.h"

/* model/schedule.c: cron-style schedules and maintenance windows, in UTC. Expected times are
 * computed with libc's timegm() (the test may use the C library's calendar; the model may not),
 * so the model's own calendar arithmetic is checked against an independent one. */

static usec_t at(int year, int month, int day, int hour, int minute) {
        struct tm tm = {
                .tm_year = year - 1900,
                .tm_mon = month - 1,
                .tm_mday = day,
                .tm_hour = hour,
                .tm_min = minute,
        };
        time_t t = timegm(&tm);

        assert_true(t >= 0);
        return (usec_t) t * USEC_PER_SEC;
}

static void fmt(usec_t t, char *buf, size_t n) {
        struct tm tm;
        time_t s = (time_t) (t / USEC_PER_SEC);

        if (t == USEC_INFINITY) {
                snprintf(buf, n, "never");
                return;
        }
        gmtime_r(&s, &tm);
        snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d (%s)", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (const char *[]){"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[tm.tm_wday]);
}

static void check_next(const char *expr, usec_t after, usec_t want) {
        Schedule s;
        Error e = ERROR_INIT;
        char a[64], g[64], w[64];
        usec_t got;

        if (schedule_parse(expr, &s, &e) < 0)
                fail_msg("\"%s\" refused: %s", expr, e.msg);
        got = schedule_next(&s, after);
        if (got != want) {
                fmt(after, a, sizeof(a));
                fmt(got, g, sizeof(g));
                fmt(want, w, sizeof(w));
                fail_msg("\"%s\" after %s: got %s, want %s", expr, a, g, w);
        }
}

static void check_bad_schedule(const char *expr, const char *msg) {
        Schedule s;
        Error e = ERROR_INIT;

        if (schedule_parse(expr, &s, &e) >= 0)
                fail_msg("\"%s\" accepted", expr);
        assert_int_equal(e.code, -EINVAL);
        if (msg && !strstr(e.msg, msg))
                fail_msg("\"%s\": message \"%s\" lacks \"%s\"", expr, e.msg, msg);
}

static void test_hourly_daily(void **state) {
        (void) state;
        check_next("hourly", at(2024, 5, 10, 10, 30), at(2024, 5, 10, 11, 0));
        /* Strictly after: a run exactly at `after` is not the next one. */
        check_next("hourly", at(2024, 5, 10, 10, 0), at(2024, 5, 10, 11, 0));
        check_next("hourly", at(2024, 5, 10, 10, 0) - 1, at(2024, 5, 10, 10, 0));
        check_next("hourly", at(2025, 12, 31, 23, 59) + 30 * USEC_PER_SEC, at(2026, 1, 1, 0, 0));
        check_next("daily", at(2024, 2, 28, 12, 0), at(2024, 2, 29, 0, 0));
        check_next("daily", at(2023, 2, 28, 12, 0), at(2023, 3, 1, 0, 0));
        check_next("daily", at(2023, 12, 31, 0, 0), at(2024, 1, 1, 0, 0));
        check_next("  Daily ", at(2024, 1, 31, 23, 59), at(2024, 2, 1, 0, 0));
        check_next("HOURLY", at(2024, 1, 1, 0, 0), at(2024, 1, 1, 1, 0));
}

static void test_cron_month_year_ends(void **state) {
        (void) state;
        check_next("0 0 31 * *", at(2024, 4, 1, 0, 0), at(2024, 5, 31, 0, 0));
        check_next("0 0 31 * *", at(2024, 1, 31, 0, 0), at(2024, 3, 31, 0, 0));
        check_next("59 23 31 12 *", at(2024, 12, 31, 23, 59), at(2025, 12, 31, 23, 59));
        check_next("0 0 1 1 *", at(2024, 6, 15, 8, 0), at(2025, 1, 1, 0, 0));
        check_next("0 0 * feb *", at(2023, 2, 28, 23, 59), at(2024, 2, 1, 0, 0));
        check_next("30 2 28 2 *", at(2024, 2, 28, 2, 29), at(2024, 2, 28, 2, 30));
}

static void test_cron_leap_days(void **state) {
        (void) state;
        check_next("30 2 29 2 *", at(2024, 3, 1, 0, 0), at(2028, 2, 29, 2, 30));
        check_next("30 2 29 2 *", at(2024, 2, 28, 0, 0), at(2024, 2, 29, 2, 30));
        /* 2100 is not a leap year: eight years between two 29ths of February. */
        check_next("0 0 29 2 *", at(2096, 3, 1, 0, 0), at(2104, 2, 29, 0, 0));
        check_next("0 0 29 feb *", at(1999, 1, 1, 0, 0), at(2000, 2, 29, 0, 0)); /* 2000 is */
        check_next("0 12 * * *", at(2024, 2, 28, 13, 0), at(2024, 2, 29, 12, 0));
}

static void test_cron_day_semantics(void **state) {
        (void) state;
        /* Both restricted: either matches. 2024-01-02 is a Tuesday. */
        check_next("0 0 1 * mon", at(2024, 1, 2, 0, 0), at(2024, 1, 8, 0, 0));
        /* Monday 2024-01-29: the 1st of February (a Thursday) comes before Monday the 5th. */
        check_next("0 0 1 * mon", at(2024, 1, 29, 12, 0), at(2024, 2, 1, 0, 0));
        check_next("0 0 13 * 5", at(2024, 9, 1, 0, 0), at(2024, 9, 6, 0, 0));
        /* Day of month a bare *: weekdays only. Saturday 2024-06-01 -> Monday the 3rd. */
        check_next("0 9 * * 1-5", at(2024, 6, 1, 0, 0), at(2024, 6, 3, 9, 0));
        check_next("0 9 * * mon-fri", at(2024, 6, 3, 9, 0), at(2024, 6, 4, 9, 0));
        /* Day of week a bare *: the day of month alone. */
        check_next("0 0 15 * *", at(2024, 6, 16, 0, 0), at(2024, 7, 15, 0, 0));
        /* 0 and 7 are both Sunday; names in any case. 2024-06-02 is a Sunday. */
        check_next("0 6 * * 7", at(2024, 6, 1, 0, 0), at(2024, 6, 2, 6, 0));
        check_next("0 6 * * 0", at(2024, 6, 1, 0, 0), at(2024, 6, 2, 6, 0));
        check_next("0 6 * * SUN", at(2024, 6, 1, 0, 0), at(2024, 6, 2, 6, 0));
        check_next("0 6 * * Sat", at(2024, 6, 1, 6, 0), at(2024, 6, 8, 6, 0));
        /* Sundays of January and July only. */
        check_next("0 0 * jan,JUL sun", at(2024, 2, 1, 0, 0), at(2024, 7, 7, 0, 0));
}

static void test_cron_step_range_list(void **state) {
        (void) state;
        check_next("*/15 * * * *", at(2024, 1, 1, 10, 7), at(2024, 1, 1, 10, 15));
        check_next("*/15 * * * *", at(2024, 1, 1, 10, 45), at(2024, 1, 1, 11, 0));
        check_next("0 */6 * * *", at(2024, 1, 1, 7, 0), at(2024, 1, 1, 12, 0));
        check_next("0 */6 * * *", at(2024, 1, 1, 18, 0), at(2024, 1, 2, 0, 0));
        check_next("10-50/20 * * * *", at(2024, 1, 1, 10, 10), at(2024, 1, 1, 10, 30));
        check_next("10-50/20 * * * *", at(2024, 1, 1, 10, 50), at(2024, 1, 1, 11, 10));
        check_next("5,10,40 * * * *", at(2024, 1, 1, 10, 10), at(2024, 1, 1, 10, 40));
        check_next("0 8-10 * * *", at(2024, 1, 1, 10, 0), at(2024, 1, 2, 8, 0));
        check_next("0 1,13 1-7 * *", at(2024, 1, 7, 13, 0), at(2024, 2, 1, 1, 0));
        check_next("  0\t3   * * *  ", at(2024, 1, 1, 0, 0), at(2024, 1, 1, 3, 0));
        check_next("* * * * *", at(2024, 1, 1, 0, 0) + 1, at(2024, 1, 1, 0, 1));
}

static void test_cron_errors(void **state) {
        (void) state;
        check_bad_schedule("", "got 0 fields");
        check_bad_schedule("* * * *", "got 4 fields");
        check_bad_schedule("* * * * * *", "got 6 fields");
        check_bad_schedule("weekly", "got 1 field");
        check_bad_schedule("60 * * * *", "field 1 (minute): 60 is out of range 0-59");
        check_bad_schedule("* 25 * * *", "field 2 (hour): 25 is out of range 0-23");
        check_bad_schedule("* * 0 * *", "field 3 (day-of-month): 0 is out of range 1-31");
        check_bad_schedule("* * * 13 *", "field 4 (month): 13 is out of range 1-12");
        check_bad_schedule("* * * * 8", "field 5 (day-of-week): 8 is out of range 0-7");
        check_bad_schedule("5-1 * * * *", "backwards");
        check_bad_schedule("*/0 * * * *", "invalid step");
        check_bad_schedule("*/61 * * * *", "invalid step");
        check_bad_schedule("5/2 * * * *", "needs a range or *");
        check_bad_schedule("a * * * *", "field 1 (minute)");
        check_bad_schedule("0 0 * * funday", "field 5 (day-of-week)");
        check_bad_schedule("0 0 * mon *", "field 4 (month)"); /* a day name as a month */
        check_bad_schedule("1,,2 * * * *", "empty list item");
        check_bad_schedule("1, * * * *", "empty list item");
        check_bad_schedule("1-* * * * *", "not a valid range");
        check_bad_schedule("1000 * * * *", "out of range");
        check_bad_schedule("0 0 30 2 *", "never runs");
        check_bad_schedule("0 0 31 4,6,9,11 *", "never runs");
        check_bad_schedule("daily 03:00", "got 2 fields");
}

static void test_cron_parse_bits(void **state) {
        Schedule s;
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(schedule_parse("0 0 1 * mon", &s, &e), 0);
        assert_false(s.mday_star);
        assert_false(s.wday_star);
        assert_int_equal(s.wdays, 1 << 1);
        assert_int_equal(schedule_parse("*/20 * * * 5-7", &s, &e), 0);
        assert_true(s.minutes == ((1ULL << 0) | (1ULL << 20) | (1ULL << 40)));
        assert_int_equal(s.hours, 0xffffff);
        assert_true(s.mday_star);
        assert_false(s.wday_star);
        assert_int_equal(s.wdays, (1 << 5) | (1 << 6) | (1 << 0));
        assert_int_equal(s.months, 0x1ffe);
        assert_int_equal(schedule_parse("daily", &s, &e), 0);
        assert_true(s.minutes == 1);
        assert_int_equal(s.hours, 1);
        assert_true(s.mday_star && s.wday_star);
        assert_int_equal(schedule_next(NULL, 0), USEC_INFINITY);
}

/* ---- maintenance windows ------------------------------------------------------------------- */

static MaintenanceWindow window(const char *s) {
        MaintenanceWindow w;
        Error e = ERROR_INIT;

        if (window_parse(s, &w, &e) < 0)
                fail_msg("window \"%s\" refused: %s", s, e.msg);
        return w;
}

static void check_bad_window(const char *s, const char *msg) {
        MaintenanceWindow w;
        Error e = ERROR_INIT;

        if (window_parse(s, &w, &e) >= 0)
                fail_msg("window \"%s\" accepted", s);
        assert_int_equal(e.code, -EINVAL);
        if (msg && !strstr(e.msg, msg))
                fail_msg("window \"%s\": message \"%s\" lacks \"%s\"", s, e.msg, msg);
}

static void test_window_parse(void **state) {
        MaintenanceWindow w;
        char buf[32];
        (void) state;

        w = window("sun 02:00-04:00");
        assert_int_equal(w.wday, 0);
        assert_int_equal(w.start_min, 120);
        assert_int_equal(w.end_min, 240);
        assert_string_equal(window_format(&w, buf, sizeof(buf)), "sun 02:00-04:00");
        w = window("  Saturday 23:30-1:15 ");
        assert_int_equal(w.wday, 6);
        assert_string_equal(window_format(&w, buf, sizeof(buf)), "sat 23:30-01:15");
        w = window("DAILY 00:00-24:00");
        assert_int_equal(w.wday, -1);
        assert_int_equal(w.end_min, 1440);
        assert_string_equal(window_format(&w, buf, sizeof(buf)), "daily 00:00-24:00");

        check_bad_window("sun 04:00-04:00", "empty");
        check_bad_window("xyz 02:00-03:00", "expected a day");
        check_bad_window("02:00-03:00", "expected a day");
        check_bad_window("sun", "time range");
        check_bad_window("sun 02:00", "time range");
        check_bad_window("sun 25:00-26:00", "23:59");
        check_bad_window("sun 24:00-01:00", "24:00 only as an end");
        check_bad_window("sun 02:60-03:00", "HH:MM");
        check_bad_window("sun 2-3", "HH:MM");
        check_bad_window("sun 02:00-03:00x", "HH:MM");
        check_bad_window("sun 024:00-03:00", "HH:MM");
}

static void test_window_contains(void **state) {
        MaintenanceWindow w = window("sun 02:00-04:00");
        (void) state;

        /* 2024-06-02 is a Sunday. */
        assert_true(window_contains(&w, at(2024, 6, 2, 2, 0)));
        assert_true(window_contains(&w, at(2024, 6, 2, 3, 59) + 59 * USEC_PER_SEC));
        assert_false(window_contains(&w, at(2024, 6, 2, 4, 0)));
        assert_false(window_contains(&w, at(2024, 6, 2, 1, 59)));
        assert_false(window_contains(&w, at(2024, 6, 3, 2, 30)));

        /* Wraps past midnight: Saturday 23:00 to Sunday 01:00 (2024-06-01 is a Saturday). */
        w = window("sat 23:00-01:00");
        assert_true(window_contains(&w, at(2024, 6, 1, 23, 30)));
        assert_true(window_contains(&w, at(2024, 6, 2, 0, 30)));
        assert_false(window_contains(&w, at(2024, 6, 2, 1, 0)));
        assert_false(window_contains(&w, at(2024, 6, 1, 0, 30))); /* Friday night's morning */
        assert_false(window_contains(&w, at(2024, 6, 1, 22, 59)));

        w = window("daily 22:00-02:00");
        assert_true(window_contains(&w, at(2024, 6, 5, 23, 0)));
        assert_true(window_contains(&w, at(2024, 6, 5, 1, 0)));
        assert_false(window_contains(&w, at(2024, 6, 5, 12, 0)));
        assert_false(window_contains(&w, at(2024, 6, 5, 2, 0)));

        w = window("daily 00:00-24:00");
        assert_true(window_contains(&w, at(2024, 6, 5, 0, 0)));
        assert_true(window_contains(&w, at(2024, 6, 5, 23, 59)));
        assert_false(window_contains(NULL, 0));
}

static void test_window_next_open(void **state) {
        MaintenanceWindow w = window("sun 02:00-04:00");
        usec_t t;
        (void) state;

        /* Inside: now. */
        t = at(2024, 6, 2, 3, 0) + 7;
        assert_true(window_next_open(&w, t) == t);
        /* Monday -> next Sunday 02:00; Sunday 01:00 -> an hour later; Sunday 04:00 -> a week. */
        assert_true(window_next_open(&w, at(2024, 6, 3, 12, 0)) == at(2024, 6, 9, 2, 0));
        assert_true(window_next_open(&w, at(2024, 6, 2, 1, 0)) == at(2024, 6, 2, 2, 0));
        assert_true(window_next_open(&w, at(2024, 6, 2, 4, 0)) == at(2024, 6, 9, 2, 0));
        /* Across a year end: Tuesday 2024-12-31 -> Sunday 2025-01-05. */
        assert_true(window_next_open(&w, at(2024, 12, 31, 12, 0)) == at(2025, 1, 5, 2, 0));

        w = window("sat 23:00-01:00");
        assert_true(window_next_open(&w, at(2024, 6, 2, 0, 59)) == at(2024, 6, 2, 0, 59));
        assert_true(window_next_open(&w, at(2024, 6, 2, 1, 0)) == at(2024, 6, 8, 23, 0));
        assert_true(window_next_open(&w, at(2024, 6, 1, 12, 0)) == at(2024, 6, 1, 23, 0));

        w = window("daily 22:00-02:00");
        assert_true(window_next_open(&w, at(2024, 2, 28, 12, 0)) == at(2024, 2, 28, 22, 0));
        assert_true(window_next_open(&w, at(2024, 2, 29, 2, 0)) == at(2024, 2, 29, 22, 0));
        assert_true(window_next_open(NULL, 0) == USEC_INFINITY);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hourly_daily),
                cmocka_unit_test(test_cron_month_year_ends),
                cmocka_unit_test(test_cron_leap_days),
                cmocka_unit_test(test_cron_day_semantics),
                cmocka_unit_test(test_cron_step_range_list),
                cmocka_unit_test(test_cron_errors),
                cmocka_unit_test(test_cron_parse_bits),
                cmocka_unit_test(test_window_parse),
                cmocka_unit_test(test_window_contains),
                cmocka_unit_test(test_window_next_open),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
