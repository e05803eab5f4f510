/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "util/macro.h"

/* NULL-terminated vectors of owned strings (argv, env "K=V", labels "k=v"). */
typedef char **Strv;

size_t strv_length(char *const *l);
/* Appends a copy of s; *l may be NULL. */
int strv_push(char ***l, const char *s) _warn_unused_result_;
int strv_pushf(char ***l, const char *fmt, ...) _printf_(2, 3) _warn_unused_result_;
/* Appends s itself (owned) on success; frees s on failure. */
int strv_push_take(char ***l, char *s) _warn_unused_result_;
char **strv_copy(char *const *l);
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
int strv_contains(char *const *l, const char *s);
int strv_equal(char *const *a, char *const *b);
