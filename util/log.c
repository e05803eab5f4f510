/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

static LogLevel log_level = LOG_LEVEL_INFO;

void log_set_level(LogLevel l) {
        log_level = l;
}

LogLevel log_parse_level(const char *s) {
        if (!s)
                return LOG_LEVEL_INFO;
        if (strcmp(s, "debug") == 0)
                return LOG_LEVEL_DEBUG;
        if (strcmp(s, "warn") == 0)
                return LOG_LEVEL_WARN;
        if (strcmp(s, "error") == 0)
                return LOG_LEVEL_ERROR;
        return LOG_LEVEL_INFO;
}

void log_emit(LogLevel l, const char *module, const char *fmt, ...) {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        char line[1024], ts[32];
        struct timespec now;
        struct tm tm;
        va_list ap;

        if (l < log_level)
                return;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        /* One fprintf per line so lines from threads do not interleave. */
        fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", ts, now.tv_nsec / 1000000, names[l], module,
                line);
}
