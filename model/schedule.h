/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* When recurring work runs (backups, vacuum) and when disruptive work may run (maintenance
 * windows). Pure: times are realtime usec, evaluated in UTC. */

/* "hourly" (minute 0), "daily" (00:00) or a five-field cron expression: minute hour day-of-month
 * month day-of-week, each `*`, a number, a range a-b, a list a,b,c, or a step (`*` or a range,
 * then "/n": every 15 minutes is "*" "/15" written as one word); day-of-week 0-7 (0 and 7
 * Sunday) or sun..sat; month 1-12 or jan..dec; names in any case. When both day fields are
 * restricted (neither is a bare `*`) a day matching either runs, as in cron. Every expression
 * must be able to run: "0 0 30 2 *" is refused. */
typedef struct Schedule {
        uint64_t minutes; /* bit per minute 0..59 */
        uint32_t hours;   /* bit per hour 0..23 */
        uint32_t mdays;   /* bit per day of month 1..31 */
        uint16_t months;  /* bit per month 1..12 */
        uint8_t wdays;    /* bit per weekday 0..6, Sunday 0 */
        bool mday_star, wday_star;
} Schedule;

/* -EINVAL with a message naming what is wrong ("field 2 (hour): 25 is out of range 0-23"). */
int schedule_parse(const char *s, Schedule *ret, Error *reterr) _warn_unused_result_;
/* The first run strictly after `after` (whole minutes). */
usec_t schedule_next(const Schedule *s, usec_t after);

/* A weekly window "sun 02:00-04:00", or "daily 02:00-04:00" (UTC; day names sun..sat or in
 * full, any case); it may wrap past midnight ("sat 23:00-01:00": Saturday 23:00 to Sunday 01:00).
 * Lengths up to 24 h: "24:00" is accepted as an end, an empty window (start equal to end) is
 * refused. end_min <= start_min means the window wraps. */
typedef struct MaintenanceWindow {
        int8_t wday;            /* 0..6, -1: every day */
        int start_min, end_min; /* minutes from the day's 00:00 */
} MaintenanceWindow;

int window_parse(const char *s, MaintenanceWindow *ret, Error *reterr) _warn_unused_result_;
/* The canonical spelling: "sun 02:00-04:00", "daily 23:00-01:00" (buf of at least 24 bytes). */
const char *window_format(const MaintenanceWindow *w, char *buf, size_t n);
bool window_contains(const MaintenanceWindow *w, usec_t t);
/* t itself when inside, else the next opening after t. */
usec_t window_next_open(const MaintenanceWindow *w, usec_t t);
