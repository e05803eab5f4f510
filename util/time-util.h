/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

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

/* Pure (berth-core, util/time-parse.c: no clock, no TZ), for model/ and plan.c too. */
/* RFC 3339 with a zone: "2026-11-23T10:15:00Z", "2026-11-23T12:15:00.5+02:00" (T, t or a space
 * between date and time; z or Z; fractions up to nanoseconds, kept to the microsecond) →
 * realtime usec. -EINVAL when malformed, without a zone, or not a real date; -ERANGE before
 * 1970. */
int parse_rfc3339(const char *s, usec_t *ret) _warn_unused_result_;
/* The inverse, in UTC: "2026-11-23T10:15:00Z", or with ".123456" when t has microseconds.
 * buf holds at least 32 bytes. */
const char *format_rfc3339_exact(usec_t t, char *buf, size_t n);
