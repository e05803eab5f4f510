/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "util/common.h"
#include "model/pg-parameters.h"
#include "model/validate-util.h"

/* Server parameters: lookup in the generated table and value checks that follow PostgreSQL's
 * own parsers (src/backend/utils/misc/guc.c: parse_bool, parse_int, parse_real, enum lookup). */

#define NAME_MAX_CHARS  64
#define VALUE_MAX_CHARS 4096

/* ---- lookup -------------------------------------------------------------------------------- */

static bool lower_copy(const char *s, char *buf, size_t n) {
        size_t i = 0;

        for (; s[i]; i++) {
                if (i + 1 >= n)
                        return false;
                buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char) (s[i] - 'A' + 'a') : s[i];
        }
        buf[i] = 0;
        return true;
}

static int info_cmp(const void *key, const void *item) {
        return strcmp(key, ((const PgParamInfo *) item)->name);
}

const PgParamInfo *pg_parameter_find(const char *name) {
        char key[NAME_MAX_CHARS + 1];

        if (!name || !lower_copy(name, key, sizeof(key)))
                return NULL;
        return bsearch(key, pg_parameters, pg_parameters_count, sizeof(pg_parameters[0]), info_cmp);
}

bool pg_parameter_is_managed(const char *name) {
        static const char *const exact[] = {
                "listen_addresses",
                "port",
                "data_directory",
                "config_file",
                "hba_file",
                "ident_file",
                "external_pid_file",
                "unix_socket_directories",
                "unix_socket_group",
                "unix_socket_permissions",
                "archive_mode",
                "archive_command",
                "archive_library",
                "archive_cleanup_command",
                "restore_command",
                "recovery_end_command",
                "primary_conninfo",
                "primary_slot_name",
                "promote_trigger_file",
                "hot_standby",
                "wal_level",
                "max_wal_senders",
                "max_replication_slots",
                "ssl",
                "cluster_name",
        };
        static const char *const prefixes[] = {"recovery_target", "ssl_"};
        char key[NAME_MAX_CHARS + 1];

        if (!name || !lower_copy(name, key, sizeof(key)))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(exact); i++)
                if (streq(key, exact[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strneq(key, prefixes[i], strlen(prefixes[i])))
                        return true;
        return false;
}

/* Levenshtein distance, capped at NAME_MAX_CHARS characters. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t row[NAME_MAX_CHARS + 1];

        if (la > NAME_MAX_CHARS || lb > NAME_MAX_CHARS)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] != b[j - 1]);

                        best = MIN(best, up + 1);
                        best = MIN(best, row[j - 1] + 1);
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

const char *pg_parameter_suggest(const char *name) {
        char key[NAME_MAX_CHARS + 1];
        const char *best = NULL;
        size_t best_d = 3; /* at most two edits away */

        if (!name || !lower_copy(name, key, sizeof(key)))
                return NULL;
        for (size_t i = 0; i < pg_parameters_count; i++) {
                size_t d = edit_distance(key, pg_parameters[i].name);

                if (d < best_d && !pg_parameter_is_managed(pg_parameters[i].name)) {
                        best = pg_parameters[i].name;
                        best_d = d;
                }
        }
        return best;
}

/* ---- units --------------------------------------------------------------------------------- */

typedef struct Unit {
        const char *name;
        double size; /* bytes or microseconds */
} Unit;

/* Largest first: the canonical spelling uses the largest unit that divides a value exactly. */
static const Unit memory_units[] = {
        {"TB", 1099511627776.0}, {"GB", 1073741824.0}, {"MB", 1048576.0},
        {"kB", 1024.0},          {"B", 1.0},
};
static const Unit time_units[] = {
        {"d", 86400e6}, {"h", 3600e6}, {"min", 60e6}, {"s", 1e6}, {"ms", 1e3}, {"us", 1.0},
};

typedef struct UnitFamily {
        const Unit *units;
        size_t n;
        double base; /* the parameter's unit in bytes or microseconds */
        const char *hint;
} UnitFamily;

/* The family of a parameter's base unit; false when it has none. */
static bool unit_family(const PgParamInfo *p, UnitFamily *ret) {
        static const struct {
                const char *name;
                bool memory;
                double size;
        } bases[] = {
                {"B", true, 1.0},        {"kB", true, 1024.0},       {"8kB", true, 8192.0},
                {"MB", true, 1048576.0}, {"ms", false, 1e3},         {"s", false, 1e6},
                {"min", false, 60e6},    {"h", false, 3600e6},       {"d", false, 86400e6},
                {"us", false, 1.0},      {"GB", true, 1073741824.0},
        };

        if (!p->unit)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(bases); i++)
                if (streq(bases[i].name, p->unit)) {
                        *ret = (UnitFamily){
                                .units = bases[i].memory ? memory_units : time_units,
                                .n = bases[i].memory ? ELEMENTSOF(memory_units)
                                                     : ELEMENTSOF(time_units),
                                .base = bases[i].size,
                                .hint = bases[i].memory ? "B, kB, MB, GB and TB"
                                                        : "us, ms, s, min, h and d",
                        };
                        return true;
                }
        return false;
}

static const Unit *unit_find(const UnitFamily *f, const char *s) {
        for (size_t i = 0; i < f->n; i++)
                if (streq(f->units[i].name, s))
                        return &f->units[i];
        return NULL;
}

/* ---- value parsing ------------------------------------------------------------------------- */

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* A decimal number [+-]digits[.digits][e[+-]digits] at the start of s (no hex, inf or nan, which
 * strtod would take); *ret_end points past it. */
static int parse_decimal(const char *s, double *ret, const char **ret_end) {
        const char *p = s;
        char *end;
        bool digits = false;

        if (*p == '+' || *p == '-')
                p++;
        while (is_digit(*p))
                p++, digits = true;
        if (*p == '.') {
                p++;
                while (is_digit(*p))
                        p++, digits = true;
        }
        if (!digits)
                return -EINVAL;
        if (*p == 'e' || *p == 'E') {
                const char *q = p + 1;

                if (*q == '+' || *q == '-')
                        q++;
                if (is_digit(*q)) {
                        while (is_digit(*q))
                                q++;
                        p = q;
                }
        }
        errno = 0;
        *ret = strtod(s, &end);
        if (end != p)
                return -EINVAL;
        if (errno == ERANGE || *ret > 1e300 || *ret < -1e300)
                return -ERANGE;
        *ret_end = p;
        return 0;
}

/* PostgreSQL's parse_bool_with_len: a prefix of true, false, yes or no; on, of(f); 1 or 0. Any
 * case. */
static int parse_bool(const char *s, bool *ret) {
        static const struct {
                const char *word;
                size_t min_len; /* shortest accepted prefix */
                bool value;
        } words[] = {
                {"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false},
                {"on", 2, true},   {"off", 2, false},   {"1", 1, true},   {"0", 1, false},
        };
        size_t n = strlen(s);

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (n >= words[i].min_len && n <= strlen(words[i].word) &&
                    strncasecmp(s, words[i].word, n) == 0) {
                        *ret = words[i].value;
                        return 0;
                }
        return -EINVAL;
}

static int round_half_away(double v, int64_t *ret) {
        if (v > 9e18 || v < -9e18)
                return -ERANGE;
        *ret = v >= 0 ? (int64_t) (v + 0.5) : -(int64_t) (-v + 0.5);
        return 0;
}

/* The shortest decimal spelling of v. */
static const char *real_format(double v, char *buf, size_t n) {
        return number_format(v == 0 ? 0 : v, buf, n); /* no "-0" */
}

/* A value in base units as the server shows it: the largest unit that divides it exactly, bare
 * when not positive or without a unit. */
static const char *value_format(const PgParamInfo *p, double v, char *buf, size_t n) {
        UnitFamily f;
        char num[64];

        if (v > 0 && unit_family(p, &f)) {
                double scaled = v * f.base;

                for (size_t i = 0; i < f.n; i++) {
                        double q = scaled / f.units[i].size;

                        if (q < 1e15 && q == (double) (int64_t) q) {
                                (void) snprintf(buf, n, "%" PRId64 "%s", (int64_t) q,
                                                f.units[i].name);
                                return buf;
                        }
                }
        }
        if (p->type == PG_PARAM_INTEGER)
                (void) snprintf(buf, n, "%" PRId64, (int64_t) v);
        else
                (void) snprintf(buf, n, "%s", real_format(v, num, sizeof(num)));
        return buf;
}

static int out_of_range(const PgParamInfo *p, const char *value, Error *e) {
        char lo[64], hi[64];

        return err_setr(e, -EINVAL, R_OUT_OF_RANGE, NULL, "%s: %s is out of range (%s..%s)",
                        p->name, value, value_format(p, p->min, lo, sizeof(lo)),
                        value_format(p, p->max, hi, sizeof(hi)));
}

/* Integers and reals: a number, then optionally (after spaces) a unit of the parameter's family;
 * without a unit the number is in the parameter's base unit. */
static int check_number(const PgParamInfo *p, const char *value, char **ret, Error *e) {
        const char *what = p->type == PG_PARAM_INTEGER ? "an integer" : "a number";
        const char *end;
        char buf[64], unit[8];
        UnitFamily f;
        bool has_family = unit_family(p, &f);
        double v;
        int r;

        r = parse_decimal(value, &v, &end);
        if (r == -ERANGE)
                return out_of_range(p, value, e);
        if (r < 0) {
                if (has_family)
                        return err_setr(e, -EINVAL, R_INVALID_VALUE, NULL,
                                        "%s: \"%s\" is not %s with an optional unit (%s)", p->name,
                                        value, what, f.hint);
                return err_setr(e, -EINVAL, R_INVALID_VALUE, NULL, "%s: \"%s\" is not %s", p->name,
                                value, what);
        }
        while (is_space(*end))
                end++;
        if (*end) {
                const Unit *u;
                size_t n = strlen(end);

                while (n > 0 && is_space(end[n - 1]))
                        n--;
                if (!has_family)
                        return err_setr(e, -EINVAL, R_INVALID_VALUE, NULL,
                                        "%s: \"%s\" is not %s (this parameter takes no unit)",
                                        p->name, value, what);
                if (n >= sizeof(unit))
                        u = NULL;
                else {
                        memcpy(unit, end, n);
                        unit[n] = 0;
                        u = unit_find(&f, unit);
                }
                if (!u)
                        return err_setr(e, -EINVAL, R_INVALID_VALUE, NULL,
                                        "%s: \"%s\" has an invalid unit (valid units for this "
                                        "parameter are %s)",
                                        p->name, value, f.hint);
                v = v * u->size / f.base;
        }
        if (p->type == PG_PARAM_INTEGER) {
                int64_t i;

                if (round_half_away(v, &i) < 0 || i < INT32_MIN || i > INT32_MAX)
                        return out_of_range(p, value, e);
                v = (double) i;
        }
        if (v < p->min || v > p->max)
                return out_of_range(p, value, e);
        *ret = b_strdup(value_format(p, v, buf, sizeof(buf)));
        return *ret ? 0 : -ENOMEM;
}

static int check_enum(const PgParamInfo *p, const char *value, char **ret, Error *e) {
        _cleanup_(buf_release) Buf list = BUF_INIT(1024);
        bool on = false, off = false, b;
        int r;

        for (const char *const *c = p->choices; c && *c; c++) {
                if (strcasecmp(*c, value) == 0) {
                        *ret = b_strdup(*c);
                        return *ret ? 0 : -ENOMEM;
                }
                on = on || streq(*c, "on");
                off = off || streq(*c, "off");
        }
        /* The server takes the boolean spellings as hidden aliases of on/off (synchronous_commit:
         * true, huge_pages: yes), and YAML users write true/false. */
        if (on && off && parse_bool(value, &b) >= 0) {
                *ret = b_strdup(b ? "on" : "off");
                return *ret ? 0 : -ENOMEM;
        }
        for (const char *const *c = p->choices; c && *c; c++) {
                r = buf_printf(&list, "%s%s", c == p->choices ? "" : ", ", **c ? *c : "\"\"");
                if (r < 0)
                        return r;
        }
        return err_setr(e, -EINVAL, R_INVALID_VALUE, NULL, "%s: \"%s\" is not one of %s", p->name,
                        value, buf_str(&list));
}

int pg_parameter_check(const PgParamInfo *p, const char *value, char **ret_canonical,
                       Error *reterr) {
        _cleanup_free_ char *trimmed = NULL;
        size_t n;
        bool b;

        assert_return(p && value && ret_canonical, -EINVAL);
        n = strlen(value);
        if (n > VALUE_MAX_CHARS)
                return err_setr(reterr, -EINVAL, R_OUT_OF_RANGE, NULL,
                                "%s: the value is %zu bytes long, at most %d are allowed", p->name,
                                n, VALUE_MAX_CHARS);
        /* Values are written into postgresql.conf as name = 'value': a line break would end the
         * line, a quote or backslash the string. None of them is needed by any parameter. */
        for (const char *c = value; *c; c++) {
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return err_setr(reterr, -EINVAL, R_INVALID_VALUE, NULL,
                                        "%s: the value contains control characters", p->name);
                if (*c == '\'' || *c == '\\')
                        return err_setr(reterr, -EINVAL, R_INVALID_VALUE, NULL,
                                        "%s: the value may not contain ' or \\ (use \" to quote "
                                        "identifiers)",
                                        p->name);
        }

        if (p->type == PG_PARAM_STRING) {
                *ret_canonical = b_strdup(value);
                return *ret_canonical ? 0 : -ENOMEM;
        }

        /* Everything else ignores surrounding spaces, as the server does. */
        while (is_space(*value))
                value++;
        n = strlen(value);
        while (n > 0 && is_space(value[n - 1]))
                n--;
        trimmed = b_strndup(value, n);
        if (!trimmed)
                return -ENOMEM;

        switch (p->type) {
        case PG_PARAM_BOOL:
                if (parse_bool(trimmed, &b) < 0)
                        return err_setr(reterr, -EINVAL, R_INVALID_VALUE, NULL,
                                        "%s: \"%s\" is not a boolean (on, off, true, false, yes, "
                                        "no, 1 or 0)",
                                        p->name, trimmed);
                *ret_canonical = b_strdup(b ? "on" : "off");
                return *ret_canonical ? 0 : -ENOMEM;
        case PG_PARAM_INTEGER:
        case PG_PARAM_REAL:
                return check_number(p, trimmed, ret_canonical, reterr);
        case PG_PARAM_ENUM:
                return check_enum(p, trimmed, ret_canonical, reterr);
        default:
                return err_setr(reterr, -EINVAL, R_INVALID_VALUE, NULL,
                                "%s: the parameter has an unknown type", p->name);
        }
}
