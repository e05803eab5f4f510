/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "util/macro.h"

/* Small cJSON and digest helpers shared by model/ (pure: no I/O). */

static inline void json_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_json_ _cleanup_(json_deletep)

/* Adds item to object o under key, or appends to an array when key is NULL. Takes item, even
 * on failure (-ENOMEM when item is NULL or the key cannot be copied). */
int json_add_item_take(cJSON *o, const char *key, cJSON *item) _warn_unused_result_;

/* Sets *ret_key to the first key that occurs twice in object o (NULL when none). Sorts a
 * copy of the key pointers: O(n log n), so large maps cannot be used to burn CPU. */
int json_find_duplicate_key(const cJSON *o, const char **ret_key) _warn_unused_result_;

/* True when d is finite, integral and exactly representable (|d| <= 2^53). */
bool json_number_is_integer(double d);

/* sha256 of data as 64 lowercase hex characters plus NUL. */
int sha256_hex(const void *data, size_t len, char ret[65]) _warn_unused_result_;
