/* SPDX-License-Identifier: MIT */
#include "util/common.h"

/* RFC 3339 timestamps without libc's time zone machinery (no TZ, no timegm, no gmtime_r): the
 * civil-date arithmetic of Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms", so
 * berth-core (model/, plan.c) can parse and print them. */

#define SECS_PER_DAY INT64_C(86400)
#define YEAR_MAX     9999

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned) (y - era * 400);
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d) {
        int64_t era, y;
        unsigned doe, yoe, doy, mp, d, m;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = (unsigned) (z - era * 146097);
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = (int64_t) yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = doy - (153 * mp + 2) / 5 + 1;
        m = mp < 10 ? mp + 3 : mp - 9;
        *ret_y = y + (m <= 2);
        *ret_m = m;
        *ret_d = d;
}

static bool is_leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Exactly n decimal digits. */
static bool read_digits(const char **p, int n, int *ret) {
        int v = 0;

        for (int i = 0; i < n; i++) {
                char c = (*p)[i];

                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (c - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

int parse_rfc3339(const char *s, usec_t *ret) {
        int year, mon, day, hour, min, sec, off_h = 0, off_m = 0, sign;
        uint64_t frac = 0, frac_div = 1;
        const char *p = s;
        int64_t secs;
        int digits = 0;

        if (isempty(s) || !ret)
                return -EINVAL;
        if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &mon) || *p++ != '-' ||
            !read_digits(&p, 2, &day))
                return -EINVAL;
        if (*p != 'T' && *p != 't' && *p != ' ')
                return -EINVAL;
        p++;
        if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &min) || *p++ != ':' ||
            !read_digits(&p, 2, &sec))
                return -EINVAL;
        if (*p == '.') {
                p++;
                for (; *p >= '0' && *p <= '9'; p++, digits++) {
                        if (digits >= 9)
                                return -EINVAL; /* nanoseconds at most */
                        if (frac_div < USEC_PER_SEC) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                frac_div *= 10;
                        }
                }
                if (digits == 0)
                        return -EINVAL;
        }
        if (*p == 'Z' || *p == 'z') {
                sign = 0;
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p++ == '-' ? -1 : 1;
                if (!read_digits(&p, 2, &off_h) || *p++ != ':' || !read_digits(&p, 2, &off_m))
                        return -EINVAL;
                if (off_h > 23 || off_m > 59)
                        return -EINVAL;
        } else
                return -EINVAL; /* a zone is required: local time means nothing to a server */
        if (*p)
                return -EINVAL;
        if (year > YEAR_MAX || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
            hour > 23 || min > 59 || sec > 59)
                return -EINVAL;

        secs = days_from_civil(year, (unsigned) mon, (unsigned) day) * SECS_PER_DAY + hour * 3600 +
               min * 60 + sec - (int64_t) sign * (off_h * 3600 + off_m * 60);
        if (secs < 0)
                return -ERANGE;
        *ret = (usec_t) secs * USEC_PER_SEC + frac * (USEC_PER_SEC / frac_div);
        return 0;
}

const char *format_rfc3339_exact(usec_t t, char *buf, size_t n) {
        int64_t days = (int64_t) (t / USEC_PER_SEC / (usec_t) SECS_PER_DAY), y;
        unsigned rem = (unsigned) (t / USEC_PER_SEC % (usec_t) SECS_PER_DAY), m, d;
        unsigned usec = (unsigned) (t % USEC_PER_SEC);

        civil_from_days(days, &y, &m, &d);
        if (usec == 0)
                (void) snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
                                rem / 3600, rem / 60 % 60, rem % 60);
        else
                (void) snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%06uZ", y, m, d,
                                rem / 3600, rem / 60 % 60, rem % 60, usec);
        return buf;
}
