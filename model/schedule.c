/* SPDX-License-Identifier: MIT */
#include "util/common.h"
#include "model/schedule.h"

/* Schedules and maintenance windows. Pure calendar arithmetic on realtime usec in UTC: no TZ,
 * no libc time functions (days_from_civil / civil_from_days after Howard Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms"). */

#define USEC_PER_MIN ((usec_t) 60 * USEC_PER_SEC)
#define USEC_PER_DAY ((usec_t) 86400 * USEC_PER_SEC)
#define MIN_PER_DAY  1440
/* Days schedule_next() searches: more than the 8 years between two 29ths of February around a
 * century that is not a leap year (2096 -> 2104). A schedule that can fire always fires sooner. */
#define SEARCH_DAYS (366 * 9)

static const char *const field_names[] = {"minute", "hour", "day-of-month", "month", "day-of-week"};
static const int field_min[] = {0, 0, 1, 1, 0};
static const int field_max[] = {59, 23, 31, 12, 7};
static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char *const day_long_names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                             "thursday", "friday", "saturday"};

/* ---- calendar ------------------------------------------------------------------------------ */

typedef struct Civil {
        int64_t year;
        int month; /* 1..12 */
        int day;   /* 1..31 */
} Civil;

static Civil civil_from_days(int64_t z) {
        int64_t era, doe, yoe, y, doy, mp;
        Civil c;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        c.day = (int) (doy - (153 * mp + 2) / 5 + 1);
        c.month = (int) (mp < 10 ? mp + 3 : mp - 9);
        c.year = y + (c.month <= 2);
        return c;
}

/* 1970-01-01 was a Thursday. */
static int weekday_from_days(int64_t z) {
        return (int) (((z % 7) + 11) % 7);
}

static bool is_leap(int64_t y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
        static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* ---- parsing helpers ----------------------------------------------------------------------- */

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static bool word_eq(const char *s, size_t n, const char *w) {
        if (strlen(w) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (lower(s[i]) != w[i])
                        return false;
        return true;
}

/* A number or (month, day-of-week) a name at *p; advances *p. */
static int parse_value(const char **p, int field, int *ret) {
        const char *s = *p;
        size_t n = 0;
        int v = 0;

        if (*s >= '0' && *s <= '9') {
                while (s[n] >= '0' && s[n] <= '9') {
                        if (n >= 3)
                                return -ERANGE;
                        v = v * 10 + (s[n] - '0');
                        n++;
                }
                *p = s + n;
                *ret = v;
                return 0;
        }
        while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z'))
                n++;
        if (n == 0)
                return -EINVAL;
        if (field == 3)
                for (int i = 0; i < 12; i++)
                        if (word_eq(s, n, month_names[i])) {
                                *p = s + n;
                                *ret = i + 1;
                                return 0;
                        }
        if (field == 4)
                for (int i = 0; i < 7; i++)
                        if (word_eq(s, n, day_names[i])) {
                                *p = s + n;
                                *ret = i;
                                return 0;
                        }
        return -EINVAL;
}

static int field_err(Error *e, int field, const char *fmt, const char *item) {
        char what[128];

        (void) snprintf(what, sizeof(what), fmt, item);
        return err_set(e, -EINVAL, NULL, "field %d (%s): %s", field + 1, field_names[field], what);
}

/* One comma-separated field [s, s+n) into a bit set. */
static int parse_field(const char *s, size_t n, int field, uint64_t *ret, Error *e) {
        char item[64];
        uint64_t bits = 0;
        size_t i = 0;

        if (n >= sizeof(item))
                return err_set(e, -EINVAL, NULL, "field %d (%s) is too long", field + 1,
                               field_names[field]);
        while (i <= n) {
                size_t start = i, len;
                const char *p;
                int lo, hi, step = 1, r;

                while (i < n && s[i] != ',')
                        i++;
                len = i - start;
                memcpy(item, s + start, len);
                item[len] = 0;
                i++; /* the comma, or past the end */
                if (len == 0)
                        return err_set(e, -EINVAL, NULL, "field %d (%s): empty list item",
                                       field + 1, field_names[field]);

                p = item;
                if (*p == '*') {
                        lo = field_min[field];
                        hi = field == 4 ? 6 : field_max[field];
                        p++;
                } else {
                        r = parse_value(&p, field, &lo);
                        if (r == -ERANGE)
                                return field_err(e, field, "\"%s\" is out of range", item);
                        if (r < 0)
                                return field_err(e, field, "\"%s\" is not a number, a range or *",
                                                 item);
                        hi = lo;
                        if (*p == '-') {
                                p++;
                                r = parse_value(&p, field, &hi);
                                if (r < 0)
                                        return field_err(e, field, "\"%s\" is not a valid range",
                                                         item);
                        }
                        if (lo < field_min[field] || lo > field_max[field] ||
                            hi < field_min[field] || hi > field_max[field])
                                return err_set(e, -EINVAL, NULL,
                                               "field %d (%s): %s is out of range %d-%d", field + 1,
                                               field_names[field], item, field_min[field],
                                               field_max[field]);
                        if (hi < lo)
                                return field_err(e, field, "range %s goes backwards", item);
                }
                if (*p == '/') {
                        if (item[0] != '*' && !strchr(item, '-'))
                                return field_err(e, field,
                                                 "step in \"%s\" needs a range or * before '/'",
                                                 item);
                        p++;
                        r = parse_value(&p, -1, &step);
                        if (r < 0 || step < 1 || step > field_max[field])
                                return field_err(e, field, "\"%s\" has an invalid step", item);
                }
                if (*p)
                        return field_err(e, field, "\"%s\" is not a number, a range or *", item);
                for (int v = lo; v <= hi; v += step)
                        bits |= (uint64_t) 1 << (field == 4 && v == 7 ? 0 : v);
        }
        *ret = bits;
        return 0;
}

/* ---- schedules ----------------------------------------------------------------------------- */

static bool day_matches(const Schedule *s, int month, int mday, int wday) {
        bool dom = s->mdays & ((uint32_t) 1 << mday);
        bool dow = s->wdays & (1u << wday);

        if (!(s->months & (1u << month)))
                return false;
        if (s->mday_star || s->wday_star)
                return dom && dow;
        return dom || dow;
}

/* With the day of week unrestricted, some selected day of month must exist in some selected
 * month ("0 0 30 2 *" never runs). */
static bool can_fire(const Schedule *s) {
        if (!s->wday_star)
                return true;
        for (int m = 1; m <= 12; m++) {
                if (!(s->months & (1u << m)))
                        continue;
                for (int d = 1; d <= days_in_month(2000, m); d++) /* 2000: leap */
                        if (s->mdays & ((uint32_t) 1 << d))
                                return true;
        }
        return false;
}

int schedule_parse(const char *s, Schedule *ret, Error *reterr) {
        const char *fields[5];
        size_t lens[5], n = 0;
        const char *p;
        uint64_t bits[5];
        Schedule out = {0};
        int r;

        assert_return(s && ret, -EINVAL);
        while (is_space(*s))
                s++;
        p = s;
        while (*p && !is_space(*p))
                p++;
        if (word_eq(s, (size_t) (p - s), "hourly") || word_eq(s, (size_t) (p - s), "daily")) {
                const char *q = p;

                while (is_space(*q))
                        q++;
                if (*q == 0) {
                        out.minutes = 1;
                        out.hours = lower(*s) == 'h' ? 0xffffff : 1;
                        out.mdays = 0xfffffffe;
                        out.months = 0x1ffe;
                        out.wdays = 0x7f;
                        out.mday_star = out.wday_star = true;
                        *ret = out;
                        return 0;
                }
        }

        for (p = s; *p;) {
                const char *start = p;

                while (*p && !is_space(*p))
                        p++;
                if (n < 5) {
                        fields[n] = start;
                        lens[n] = (size_t) (p - start);
                }
                n++;
                while (is_space(*p))
                        p++;
        }
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < 0x20 && !is_space(*c))
                        return err_set(reterr, -EINVAL, NULL, "contains control characters");
        if (n != 5)
                return err_set(reterr, -EINVAL, NULL,
                               "expected \"daily\", \"hourly\" or 5 cron fields (minute hour "
                               "day-of-month month day-of-week), got %zu field%s",
                               n, n == 1 ? "" : "s");
        for (int i = 0; i < 5; i++) {
                r = parse_field(fields[i], lens[i], i, &bits[i], reterr);
                if (r < 0)
                        return r;
        }
        out.minutes = bits[0];
        out.hours = (uint32_t) bits[1];
        out.mdays = (uint32_t) bits[2];
        out.months = (uint16_t) bits[3];
        out.wdays = (uint8_t) bits[4];
        out.mday_star = lens[2] == 1 && fields[2][0] == '*';
        out.wday_star = lens[4] == 1 && fields[4][0] == '*';
        if (!can_fire(&out))
                return err_set(reterr, -EINVAL, NULL,
                               "never runs: no selected month has the selected days of month");
        *ret = out;
        return 0;
}

usec_t schedule_next(const Schedule *s, usec_t after) {
        usec_t t;
        int64_t day;
        int hour, minute;

        if (!s || after >= USEC_INFINITY - USEC_PER_DAY)
                return USEC_INFINITY;
        t = (after / USEC_PER_MIN + 1) * USEC_PER_MIN; /* whole minutes, strictly after */
        day = (int64_t) (t / USEC_PER_DAY);
        hour = (int) (t % USEC_PER_DAY / (60 * USEC_PER_MIN));
        minute = (int) (t % (60 * USEC_PER_MIN) / USEC_PER_MIN);

        for (int i = 0; i < SEARCH_DAYS; i++, day++, hour = 0, minute = 0) {
                Civil c = civil_from_days(day);

                if (!day_matches(s, c.month, c.day, weekday_from_days(day)))
                        continue;
                for (int h = hour; h < 24; h++) {
                        if (!(s->hours & (1u << h)))
                                continue;
                        for (int m = h == hour ? minute : 0; m < 60; m++)
                                if (s->minutes & ((uint64_t) 1 << m))
                                        return (usec_t) day * USEC_PER_DAY +
                                               (usec_t) (h * 60 + m) * USEC_PER_MIN;
                }
        }
        return USEC_INFINITY;
}

/* ---- maintenance windows ------------------------------------------------------------------- */

/* "HH:MM" (hour 0..24, "24:00" only when allow_24) at [s, s+n). */
static int parse_hhmm(const char *s, size_t n, bool allow_24, int *ret) {
        int h = 0, m;
        size_t i = 0;

        while (i < n && i < 2 && s[i] >= '0' && s[i] <= '9')
                h = h * 10 + (s[i++] - '0');
        if (i == 0 || i + 3 != n || s[i] != ':' || s[i + 1] < '0' || s[i + 1] > '5' ||
            s[i + 2] < '0' || s[i + 2] > '9')
                return -EINVAL;
        m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
        if (h > 24 || (h == 24 && (m != 0 || !allow_24)))
                return -ERANGE;
        *ret = h * 60 + m;
        return 0;
}

int window_parse(const char *s, MaintenanceWindow *ret, Error *reterr) {
        const char *p, *dash, *end;
        size_t n;
        int wday = -2, start, stop, r;

        assert_return(s && ret, -EINVAL);
        while (is_space(*s))
                s++;
        for (p = s; *p && !is_space(*p); p++)
                ;
        n = (size_t) (p - s);
        if (word_eq(s, n, "daily"))
                wday = -1;
        for (int i = 0; i < 7; i++)
                if (word_eq(s, n, day_names[i]) || word_eq(s, n, day_long_names[i]))
                        wday = i;
        if (wday == -2)
                return err_set(reterr, -EINVAL, NULL,
                               "expected a day (sun..sat or daily) and a time range, as in "
                               "\"sun 02:00-04:00\"");
        while (is_space(*p))
                p++;
        end = p + strlen(p);
        while (end > p && is_space(end[-1]))
                end--;
        dash = memchr(p, '-', (size_t) (end - p));
        if (!dash)
                return err_set(reterr, -EINVAL, NULL,
                               "expected a time range HH:MM-HH:MM after the day, as in "
                               "\"sun 02:00-04:00\"");
        r = parse_hhmm(p, (size_t) (dash - p), false, &start);
        if (r >= 0)
                r = parse_hhmm(dash + 1, (size_t) (end - dash - 1), true, &stop);
        if (r == -ERANGE)
                return err_set(reterr, -EINVAL, NULL,
                               "times are 00:00 to 23:59 (24:00 only as an end)");
        if (r < 0)
                return err_set(reterr, -EINVAL, NULL,
                               "expected a time range HH:MM-HH:MM (UTC), as in \"02:00-04:00\"");
        if (start == stop)
                return err_set(reterr, -EINVAL, NULL,
                               "the window is empty (start equals end); a whole day is "
                               "00:00-24:00");
        *ret = (MaintenanceWindow){.wday = (int8_t) wday, .start_min = start, .end_min = stop};
        return 0;
}

const char *window_format(const MaintenanceWindow *w, char *buf, size_t n) {
        if (!w || !buf || n == 0)
                return NULL;
        (void) snprintf(buf, n, "%s %02d:%02d-%02d:%02d",
                        w->wday < 0 || w->wday > 6 ? "daily" : day_names[w->wday],
                        w->start_min / 60, w->start_min % 60, w->end_min / 60, w->end_min % 60);
        return buf;
}

static bool on_day(const MaintenanceWindow *w, int64_t day) {
        return w->wday < 0 || weekday_from_days(day) == w->wday;
}

bool window_contains(const MaintenanceWindow *w, usec_t t) {
        int64_t day;
        int m;

        if (!w)
                return false;
        day = (int64_t) (t / USEC_PER_DAY);
        m = (int) (t % USEC_PER_DAY / USEC_PER_MIN);
        if (w->end_min > w->start_min)
                return on_day(w, day) && m >= w->start_min && m < w->end_min;
        /* Wraps past midnight: the evening of its day, or the morning after. */
        return (on_day(w, day) && m >= w->start_min) || (on_day(w, day - 1) && m < w->end_min);
}

usec_t window_next_open(const MaintenanceWindow *w, usec_t t) {
        int64_t day;

        if (!w)
                return USEC_INFINITY;
        if (window_contains(w, t))
                return t;
        if (t >= USEC_INFINITY - 8 * USEC_PER_DAY)
                return USEC_INFINITY;
        day = (int64_t) (t / USEC_PER_DAY);
        for (int i = 0; i <= 7; i++, day++) {
                usec_t open = (usec_t) day * USEC_PER_DAY + (usec_t) w->start_min * USEC_PER_MIN;

                if (on_day(w, day) && open > t)
                        return open;
        }
        return USEC_INFINITY;
}
