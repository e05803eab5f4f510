/* SPDX-License-Identifier: MIT */
#include "util/common.h"
#include "model/units.h"

#define DURATION_MAX (24 * 3600 * USEC_PER_SEC)
#define MEMORY_MAX   ((int64_t) 1 << 50)

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

int duration_parse(const char *s, usec_t *ret) {
        usec_t total = 0;

        assert_return(s && ret, -EINVAL);
        if (!*s)
                return -EINVAL;
        while (*s) {
                uint64_t v = 0;
                usec_t unit;
                int digits = 0;

                while (is_digit(*s)) {
                        if (++digits > 12)
                                return -ERANGE;
                        v = v * 10 + (uint64_t) (*s++ - '0');
                }
                if (digits == 0)
                        return -EINVAL;
                if (s[0] == 'm' && s[1] == 's') {
                        unit = USEC_PER_MSEC;
                        s += 2;
                } else if (s[0] == 'h') {
                        unit = 3600 * USEC_PER_SEC;
                        s++;
                } else if (s[0] == 'm') {
                        unit = 60 * USEC_PER_SEC;
                        s++;
                } else if (s[0] == 's') {
                        unit = USEC_PER_SEC;
                        s++;
                } else
                        return -EINVAL;
                if (v > DURATION_MAX / unit)
                        return -ERANGE;
                total += v * unit;
                if (total > DURATION_MAX)
                        return -ERANGE;
        }
        *ret = total;
        return 0;
}

const char *duration_format(usec_t t, char *buf, size_t n) {
        static const struct {
                usec_t unit;
                const char *suffix;
        } units[] = {
                {3600 * USEC_PER_SEC, "h"},
                {60 * USEC_PER_SEC, "m"},
                {USEC_PER_SEC, "s"},
                {USEC_PER_MSEC, "ms"},
        };
        size_t len = 0;

        if (!buf || n == 0)
                return NULL;
        buf[0] = 0;
        if (t < USEC_PER_MSEC) {
                snprintf(buf, n, "0s");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && len < n; i++) {
                usec_t v = t / units[i].unit;
                int k;

                if (v == 0)
                        continue;
                t -= v * units[i].unit;
                k = snprintf(buf + len, n - len, "%" PRIu64 "%s", (uint64_t) v, units[i].suffix);
                if (k < 0)
                        break;
                len += (size_t) k;
        }
        return buf;
}

int memory_parse(const char *s, int64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t mult;
        } units[] = {
                {"", 1},
                {"k", 1000},
                {"K", 1000},
                {"M", 1000 * 1000},
                {"G", 1000 * 1000 * 1000},
                {"T", 1000ull * 1000 * 1000 * 1000},
                {"Ki", 1ull << 10},
                {"Mi", 1ull << 20},
                {"Gi", 1ull << 30},
                {"Ti", 1ull << 40},
        };
        uint64_t ip = 0, frac = 0, frac_div = 1, mult = 0;
        int digits = 0;

        assert_return(s && ret, -EINVAL);
        while (is_digit(*s)) {
                if (++digits > 16)
                        return -ERANGE;
                ip = ip * 10 + (uint64_t) (*s++ - '0');
        }
        if (*s == '.') {
                int fd = 0;

                s++;
                while (is_digit(*s)) {
                        if (++fd <= 9) {
                                frac = frac * 10 + (uint64_t) (*s - '0');
                                frac_div *= 10;
                        }
                        s++;
                }
                if (fd == 0)
                        return -EINVAL;
        }
        if (digits == 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(s, units[i].suffix)) {
                        mult = units[i].mult;
                        break;
                }
        if (mult == 0)
                return -EINVAL;
        if (ip > (uint64_t) MEMORY_MAX / mult)
                return -ERANGE;
        /* frac < frac_div <= 1e9 and mult <= 1e12 could overflow: scale in two steps. */
        ip = ip * mult + (frac * (mult / frac_div)) + (frac * (mult % frac_div)) / frac_div;
        if (ip > (uint64_t) MEMORY_MAX)
                return -ERANGE;
        *ret = (int64_t) ip;
        return 0;
}
