/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

typedef uint64_t usec_t;
#define USEC_PER_MSEC ((usec_t) 1000)
#define USEC_PER_SEC  ((usec_t) 1000000)
#define USEC_INFINITY ((usec_t) UINT64_MAX)

/* Clocks live here, but plan() never calls them: it takes `now` as an argument.
 * (time-util.c is outside berth-core so a planner that reads the clock fails to link.) */
usec_t now_monotonic(void);
usec_t now_realtime(void);
/* Formats a realtime usec as RFC 3339 UTC ("2026-11-23T11:07:19.123Z") into buf (>= 32). */
const char *format_rfc3339(usec_t t, char *buf, size_t n);
