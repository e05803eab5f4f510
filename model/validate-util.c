/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdarg.h>

#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/units.h"
#include "model/validate-util.h"

Path path_key(const char *parent, const char *key) {
        Path p;

        if (isempty(parent))
                (void) snprintf(p.s, sizeof(p.s), "%s", key);
        else
                (void) snprintf(p.s, sizeof(p.s), "%s.%s", parent, key);
        return p;
}

Path path_index(const char *parent, size_t i) {
        Path p;

        (void) snprintf(p.s, sizeof(p.s), "%s[%zu]", strempty(parent), i);
        return p;
}

int verr(Error *e, int code, const char *reason, const char *field, const char *fmt, ...) {
        char what[sizeof(e->msg)];
        va_list ap;

        if (!e)
                return code;
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (isempty(field))
                return err_setr(e, code, reason, field, "%s", what);
        return err_setr(e, code, reason, field, "%s: %s", field, what);
}

const char *number_format(double d, char *buf, size_t n) {
        if (json_number_is_integer(d) && d < 1e15 && d > -1e15) {
                (void) snprintf(buf, n, "%.0f", d);
                return buf;
        }
        (void) snprintf(buf, n, "%.15g", d);
        if (strtod(buf, NULL) != d)
                (void) snprintf(buf, n, "%.17g", d);
        return buf;
}

const char *json_describe(const cJSON *v, char *buf, size_t n) {
        if (cJSON_IsString(v)) {
                size_t len = strlen(v->valuestring);

                if (len > 40)
                        (void) snprintf(buf, n, "\"%.37s...\"", v->valuestring);
                else
                        (void) snprintf(buf, n, "\"%s\"", v->valuestring);
        } else if (cJSON_IsNumber(v))
                return number_format(v->valuedouble, buf, n);
        else if (cJSON_IsBool(v))
                (void) snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
        else if (cJSON_IsArray(v))
                (void) snprintf(buf, n, "a list");
        else if (cJSON_IsObject(v))
                (void) snprintf(buf, n, "a map");
        else
                (void) snprintf(buf, n, "null");
        return buf;
}

const cJSON *spec_member(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsNull(v) ? NULL : v;
}

static bool in_list(const char *const *l, const char *s) {
        if (!l)
                return false;
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* Levenshtein distance of short keys, capped: enough to say "did you mean replicas?". */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t row[33];

        if (la > 32 || lb > 32)
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

static const char *suggest(const char *key, const char *const *known) {
        const char *best = NULL;
        size_t best_d = 3; /* at most two edits away */

        for (; known && *known; known++) {
                size_t d = edit_distance(key, *known);

                if (d < best_d) {
                        best = *known;
                        best_d = d;
                }
        }
        return best;
}

int want_map(const cJSON *v, const char *field, Error *e) {
        char d[64];

        if (!cJSON_IsObject(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, field, "must be a map, not %s",
                            json_describe(v, d, sizeof(d)));
        return 0;
}

int check_map(const cJSON *o, const char *path, const char *const *known,
              const char *const *unsupported, const char *const *read_only, Error *e) {
        const char *dup = NULL;
        const cJSON *c;
        int r;

        r = want_map(o, path, e);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(c, o) {
                const char *k = c->string ? c->string : "";
                Path f = path_key(path, k);
                const char *hint;

                if (in_list(known, k))
                        continue;
                if (in_list(read_only, k))
                        return verr(e, -EINVAL, R_FIELD_READ_ONLY, f.s,
                                    "this field is set by the server and cannot be applied");
                if (in_list(unsupported, k))
                        return verr(e, -EOPNOTSUPP, R_NOT_SUPPORTED, f.s, "is not supported yet");
                hint = suggest(k, known);
                if (hint)
                        return verr(e, -EINVAL, R_UNKNOWN_FIELD, f.s,
                                    "unknown field (did you mean \"%s\"?)", hint);
                return verr(e, -EINVAL, R_UNKNOWN_FIELD, f.s, "unknown field");
        }
        r = json_find_duplicate_key(o, &dup);
        if (r < 0)
                return r;
        if (dup)
                return verr(e, -EINVAL, R_DUPLICATE, path_key(path, dup).s,
                            "is set more than once");
        return 0;
}

int want_int(const cJSON *v, const char *field, int64_t min, int64_t max, int64_t *ret, Error *e) {
        char d[64];

        if (!cJSON_IsNumber(v) || !json_number_is_integer(v->valuedouble))
                return verr(e, -EINVAL, R_INVALID_TYPE, field, "must be an integer, not %s",
                            json_describe(v, d, sizeof(d)));
        if (v->valuedouble < (double) min || v->valuedouble > (double) max)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field,
                            "%s is out of range (%" PRId64 "..%" PRId64 ")",
                            json_describe(v, d, sizeof(d)), min, max);
        *ret = (int64_t) v->valuedouble;
        return 0;
}

int want_number(const cJSON *v, const char *field, double min, double max, double *ret, Error *e) {
        char d[64], lo[32], hi[32];

        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
                return verr(e, -EINVAL, R_INVALID_TYPE, field, "must be a number, not %s",
                            json_describe(v, d, sizeof(d)));
        if (v->valuedouble < min || v->valuedouble > max)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field, "%s is out of range (%s..%s)",
                            json_describe(v, d, sizeof(d)), number_format(min, lo, sizeof(lo)),
                            number_format(max, hi, sizeof(hi)));
        *ret = v->valuedouble;
        return 0;
}

int want_bool(const cJSON *v, const char *field, bool *ret, Error *e) {
        char d[64];

        if (!cJSON_IsBool(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, field, "must be true or false, not %s",
                            json_describe(v, d, sizeof(d)));
        *ret = cJSON_IsTrue(v);
        return 0;
}

int want_string(const cJSON *v, const char *field, size_t max_len, const char **ret, Error *e) {
        char d[64];
        size_t len;

        if (!cJSON_IsString(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, field, "must be a string, not %s",
                            json_describe(v, d, sizeof(d)));
        len = strlen(v->valuestring);
        if (len > max_len)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field,
                            "is %zu bytes long, at most %zu are allowed", len, max_len);
        *ret = v->valuestring;
        return 0;
}

int want_enum(const cJSON *v, const char *field, const char *const *choices, const char **ret,
              Error *e) {
        _cleanup_(buf_release) Buf list = BUF_INIT(256);
        const char *s;
        char d[64];
        int r;

        r = want_string(v, field, 64, &s, e);
        if (r < 0)
                return r;
        for (const char *const *c = choices; *c; c++)
                if (streq(*c, s)) {
                        *ret = *c;
                        return 0;
                }
        for (const char *const *c = choices; *c; c++) {
                r = buf_printf(&list, "%s%s", c == choices ? "" : ", ", *c);
                if (r < 0)
                        return r;
        }
        return verr(e, -EINVAL, R_INVALID_VALUE, field, "%s is not one of %s",
                    json_describe(v, d, sizeof(d)), buf_str(&list));
}

int want_duration(const cJSON *v, const char *field, usec_t min, usec_t max, usec_t *ret,
                  Error *e) {
        char d[64], lo[32], hi[32];
        const char *s;
        usec_t t;
        int r;

        if (!cJSON_IsString(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, field,
                            "must be a duration such as \"10s\", \"500ms\" or \"1m\", not %s",
                            json_describe(v, d, sizeof(d)));
        s = v->valuestring;
        r = duration_parse(s, &t);
        if (r == -EINVAL)
                return verr(e, -EINVAL, R_INVALID_VALUE, field,
                            "%s is not a duration (use h, m, s or ms: \"10s\", \"1m30s\")",
                            json_describe(v, d, sizeof(d)));
        if (r < 0 || t < min || t > max)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field, "%s is out of range (%s..%s)",
                            json_describe(v, d, sizeof(d)), duration_format(min, lo, sizeof(lo)),
                            duration_format(max, hi, sizeof(hi)));
        *ret = t;
        return 0;
}

int want_string_list(const cJSON *v, const char *field, bool allow_single, size_t max_items,
                     cJSON **ret, Error *e) {
        _cleanup_json_ cJSON *out = NULL;
        const cJSON *it;
        size_t i = 0;
        char d[64];
        int r;

        if (allow_single && cJSON_IsString(v)) {
                const char *s;

                r = want_string(v, field, SPEC_STRING_MAX, &s, e);
                if (r < 0)
                        return r;
                out = cJSON_CreateArray();
                if (!out)
                        return -ENOMEM;
                r = json_add_item_take(out, NULL, cJSON_CreateString(s));
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(out);
                return 0;
        }
        if (!cJSON_IsArray(v))
                return verr(e, -EINVAL, R_INVALID_TYPE, field, "must be a list of strings, not %s",
                            json_describe(v, d, sizeof(d)));
        if ((size_t) cJSON_GetArraySize(v) > max_items)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field, "has more than %zu items",
                            max_items);
        out = cJSON_CreateArray();
        if (!out)
                return -ENOMEM;
        cJSON_ArrayForEach(it, v) {
                _cleanup_free_ char *s = NULL;

                r = want_scalar_string(it, path_index(field, i++).s, SPEC_STRING_MAX, &s, e);
                if (r < 0)
                        return r;
                r = json_add_item_take(out, NULL, cJSON_CreateString(s));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int want_scalar_string(const cJSON *v, const char *field, size_t max_len, char **ret, Error *e) {
        char num[64], d[64];
        const char *s;
        size_t len;

        if (cJSON_IsString(v))
                s = v->valuestring;
        else if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
                s = number_format(v->valuedouble, num, sizeof(num));
        else if (cJSON_IsBool(v))
                s = cJSON_IsTrue(v) ? "true" : "false";
        else
                return verr(e, -EINVAL, R_INVALID_TYPE, field, "must be a string, not %s",
                            json_describe(v, d, sizeof(d)));
        len = strlen(s);
        if (len > max_len)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, field,
                            "is %zu bytes long, at most %zu are allowed", len, max_len);
        *ret = b_strdup(s);
        return *ret ? 0 : -ENOMEM;
}
