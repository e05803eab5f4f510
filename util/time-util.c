/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <time.h>

#include "util/time-util.h"

static usec_t ts_to_usec(const struct timespec *ts) {
        return (usec_t) ts->tv_sec * USEC_PER_SEC + (usec_t) ts->tv_nsec / 1000;
}

usec_t now_monotonic(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts_to_usec(&ts);
}

usec_t now_realtime(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts_to_usec(&ts);
}

const char *format_rfc3339(usec_t t, char *buf, size_t n) {
        time_t sec = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        char base[32];

        gmtime_r(&sec, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%03uZ", base, (unsigned) ((t % USEC_PER_SEC) / 1000));
        return buf;
}
