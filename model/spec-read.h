/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "model/validate-util.h" /* spec_member() */
#include "util/error.h"
#include "util/time-util.h"

/* Reading a stored, normalised spec into its typed form (model/<kind>.c). Validation has run, so
 * only types are checked: a damaged row is an error (INVALID_SPEC naming the field), never a
 * crash. A member that is absent or JSON null takes the default. */

int spec_damaged(Error *e, const char *field, const char *what);
/* A copy of the string, or of def (NULL stays NULL). */
int spec_get_string(const cJSON *o, const char *key, const char *field, const char *def, char **ret,
                    Error *e) _warn_unused_result_;
int spec_get_bool(const cJSON *o, const char *key, const char *field, bool def, bool *ret,
                  Error *e) _warn_unused_result_;
int spec_get_int_range(const cJSON *o, const char *key, const char *field, int def, int min,
                       int max, int *ret, Error *e) _warn_unused_result_;
int spec_get_duration(const cJSON *o, const char *key, const char *field, usec_t def, usec_t *ret,
                      Error *e) _warn_unused_result_;
/* The map, or NULL when absent; *ret_r < 0 when it is there but not a map. */
const cJSON *spec_get_map(const cJSON *o, const char *key, const char *field, int *ret_r, Error *e);
