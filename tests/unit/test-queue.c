/* SPDX-License-Identifier: MIT */
/* The controller's work queue: de-duplication, the dirty-while-in-flight rule, delayed adds and
 * backoff. Single-threaded checks of the rules; the parallel use is exercised by integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/common.h"

#include "controller/queue.h"

static WorkQueue *q;

static int setup(void **state) {
        (void) state;
        return queue_new(&q);
}

static int teardown(void **state) {
        (void) state;
        q = queue_free(q);
        return 0;
}

static void test_dedup(void **state) {
        char k[QUEUE_KEY_MAX];

        (void) state;
        queue_add(q, "a");
        queue_add(q, "b");
        queue_add(q, "a");
        assert_int_equal(queue_depth(q), 2);
        assert_true(queue_get(q, k));
        assert_string_equal(k, "a");
        assert_true(queue_get(q, k));
        assert_string_equal(k, "b");
        assert_int_equal(queue_depth(q), 0);
        queue_done(q, "a");
        queue_done(q, "b");
}

static void test_dirty_while_in_flight(void **state) {
        char k[QUEUE_KEY_MAX];

        (void) state;
        queue_add(q, "a");
        assert_true(queue_get(q, k));
        /* Added again while a worker holds it: not handed to a second worker... */
        queue_add(q, "a");
        queue_add(q, "a");
        assert_int_equal(queue_depth(q), 0);
        /* ...but handed out once more after done. */
        queue_done(q, "a");
        assert_int_equal(queue_depth(q), 1);
        assert_true(queue_get(q, k));
        assert_string_equal(k, "a");
        queue_done(q, "a");
        assert_int_equal(queue_depth(q), 0);
}

static void test_add_after(void **state) {
        char k[QUEUE_KEY_MAX];
        usec_t start = now_monotonic();

        (void) state;
        queue_add_after(q, "late", 30 * USEC_PER_MSEC);
        queue_add_after(q, "soon", 10 * USEC_PER_MSEC);
        assert_int_equal(queue_depth(q), 0);
        assert_true(queue_get(q, k));
        assert_string_equal(k, "soon");
        assert_true(now_monotonic() - start >= 10 * USEC_PER_MSEC);
        queue_done(q, "soon");
        assert_true(queue_get(q, k));
        assert_string_equal(k, "late");
        assert_true(now_monotonic() - start >= 30 * USEC_PER_MSEC);
        queue_done(q, "late");
}

static void test_backoff_grows_and_resets(void **state) {
        char k[QUEUE_KEY_MAX];
        usec_t t0, first, third;

        (void) state;
        t0 = now_monotonic();
        queue_add_rate_limited(q, "x"); /* 5 ms */
        assert_true(queue_get(q, k));
        first = now_monotonic() - t0;
        queue_done(q, "x");
        queue_add_rate_limited(q, "x"); /* 10 ms */
        assert_true(queue_get(q, k));
        queue_done(q, "x");
        t0 = now_monotonic();
        queue_add_rate_limited(q, "x"); /* 20 ms */
        assert_true(queue_get(q, k));
        third = now_monotonic() - t0;
        queue_done(q, "x");
        assert_true(first >= QUEUE_BACKOFF_BASE);
        assert_true(third >= 4 * QUEUE_BACKOFF_BASE);
        queue_forget(q, "x");
        t0 = now_monotonic();
        queue_add_rate_limited(q, "x"); /* back to 5 ms */
        assert_true(queue_get(q, k));
        assert_true(now_monotonic() - t0 < 4 * QUEUE_BACKOFF_BASE + 50 * USEC_PER_MSEC);
        queue_done(q, "x");
        queue_forget(q, "x");
}

static void test_shutdown(void **state) {
        char k[QUEUE_KEY_MAX];

        (void) state;
        queue_add(q, "a");
        queue_shutdown(q);
        assert_false(queue_get(q, k));
        queue_add(q, "b");
        assert_false(queue_get(q, k));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dirty_while_in_flight, setup, teardown),
                cmocka_unit_test_setup_teardown(test_add_after, setup, teardown),
                cmocka_unit_test_setup_teardown(test_backoff_grows_and_resets, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
