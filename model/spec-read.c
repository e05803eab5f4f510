/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "model/spec-read.h"
#include "model/units.h"

int spec_damaged(Error *e, const char *field, const char *what) {
        return err_setr(e, -EINVAL, "INVALID_SPEC", field, "%s: stored spec is damaged (%s)", field,
                        what);
}

int spec_get_string(const cJSON *o, const char *key, const char *field, const char *def, char **ret,
                    Error *e) {
        const cJSON *v = spec_member(o, key);
        const char *s = def;

        *ret = NULL;
        if (v) {
                if (!cJSON_IsString(v))
                        return spec_damaged(e, field, "not a string");
                s = v->valuestring;
        }
        if (!s)
                return 0;
        *ret = b_strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int spec_get_bool(const cJSON *o, const char *key, const char *field, bool def, bool *ret,
                  Error *e) {
        const cJSON *v = spec_member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsBool(v))
                return spec_damaged(e, field, "not a boolean");
        *ret = cJSON_IsTrue(v);
        return 0;
}

int spec_get_int_range(const cJSON *o, const char *key, const char *field, int def, int min,
                       int max, int *ret, Error *e) {
        const cJSON *v = spec_member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max)
                return spec_damaged(e, field, "not an integer in range");
        *ret = (int) v->valuedouble;
        return 0;
}

int spec_get_duration(const cJSON *o, const char *key, const char *field, usec_t def, usec_t *ret,
                      Error *e) {
        const cJSON *v = spec_member(o, key);

        *ret = def;
        if (!v)
                return 0;
        if (!cJSON_IsString(v) || duration_parse(v->valuestring, ret) < 0)
                return spec_damaged(e, field, "not a duration");
        return 0;
}

const cJSON *spec_get_map(const cJSON *o, const char *key, const char *field, int *ret_r,
                          Error *e) {
        const cJSON *v = spec_member(o, key);

        *ret_r = 0;
        if (v && !cJSON_IsObject(v)) {
                *ret_r = spec_damaged(e, field, "not a map");
                return NULL;
        }
        return v;
}
