/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* Building blocks for spec validation (model/ only). Every failing check fills the Error with
 * the field path, one of the reasons below, and a message that starts with the field
 * ("spec.replicas: 500 is out of range (0..100)"). Codes are -EINVAL unless noted. */

#define R_UNKNOWN_FIELD   "UNKNOWN_FIELD"
#define R_INVALID_TYPE    "INVALID_TYPE"
#define R_INVALID_VALUE   "INVALID_VALUE"
#define R_INVALID_NAME    "INVALID_NAME"
#define R_OUT_OF_RANGE    "OUT_OF_RANGE"
#define R_REQUIRED        "REQUIRED"
#define R_NOT_SUPPORTED   "NOT_SUPPORTED" /* -EOPNOTSUPP */
#define R_FIELD_READ_ONLY "FIELD_READ_ONLY"
#define R_DUPLICATE       "DUPLICATE"
#define R_CONFLICT        "CONFLICT"

/* Longest string value a spec may carry (env values, command arguments). */
#define SPEC_STRING_MAX (32 * 1024)

/* A field path: "spec" + ".ports" + "[2]"; truncated silently at the size of Error.field. */
typedef struct Path {
        char s[96];
} Path;

Path path_key(const char *parent, const char *key);
Path path_index(const char *parent, size_t i);

/* Fills e with "field: <message>" and the reason; returns code. */
int verr(Error *e, int code, const char *reason, const char *field, const char *fmt, ...)
        _printf_(5, 6);

/* A short human rendering of v for messages: "two" (quoted, truncated), 500, true, a list. */
const char *json_describe(const cJSON *v, char *buf, size_t n);

/* The member, or NULL when absent or null (YAML "key:" with no value means "not set"). */
const cJSON *spec_member(const cJSON *o, const char *key);

/* Checks that o is a map whose keys are all in `known` (NULL-terminated). Keys in
 * `unsupported` are refused with NOT_SUPPORTED; keys in `read_only` with FIELD_READ_ONLY;
 * other keys with UNKNOWN_FIELD (suggesting a close known key); duplicates with DUPLICATE. */
int check_map(const cJSON *o, const char *path, const char *const *known,
              const char *const *unsupported, const char *const *read_only,
              Error *e) _warn_unused_result_;

int want_map(const cJSON *v, const char *field, Error *e) _warn_unused_result_;
int want_int(const cJSON *v, const char *field, int64_t min, int64_t max, int64_t *ret,
             Error *e) _warn_unused_result_;
int want_number(const cJSON *v, const char *field, double min, double max, double *ret,
                Error *e) _warn_unused_result_;
int want_bool(const cJSON *v, const char *field, bool *ret, Error *e) _warn_unused_result_;
int want_string(const cJSON *v, const char *field, size_t max_len, const char **ret,
                Error *e) _warn_unused_result_;
/* One of `choices` (NULL-terminated); INVALID_VALUE listing them otherwise. */
int want_enum(const cJSON *v, const char *field, const char *const *choices, const char **ret,
              Error *e) _warn_unused_result_;
/* A duration string ("10s"); OUT_OF_RANGE outside [min, max]. */
int want_duration(const cJSON *v, const char *field, usec_t min, usec_t max, usec_t *ret,
                  Error *e) _warn_unused_result_;
/* A list of strings (a single string counts as a one-element list when allow_single), each at
 * most SPEC_STRING_MAX bytes; numbers and booleans in the list are spelled as strings, as YAML
 * users write [sleep, 10]. Returns a new JSON array. */
int want_string_list(const cJSON *v, const char *field, bool allow_single, size_t max_items,
                     cJSON **ret, Error *e) _warn_unused_result_;
/* A string, or a number or boolean spelled as a string (env and label values). */
int want_scalar_string(const cJSON *v, const char *field, size_t max_len, char **ret,
                       Error *e) _warn_unused_result_;

/* Formats a JSON number as the shortest decimal string that reads back the same. */
const char *number_format(double d, char *buf, size_t n);
