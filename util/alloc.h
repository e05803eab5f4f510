/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "util/macro.h"

/* Every allocation in berth goes through these, so tests can fail the Nth call
 * (torture runs) and so cJSON shares the same hooks (see alloc_install_cjson()). */
void *b_malloc(size_t n);
void *b_calloc(size_t n, size_t size);
void *b_realloc(void *p, size_t n);
char *b_strdup(const char *s);
char *b_strndup(const char *s, size_t n);
void b_free(void *p);

/* b_free() that takes and returns NULL, for `p = mfree(p)`. */
static inline void *mfree(void *p) {
        b_free(p);
        return NULL;
}

static inline void freep(void *p) {
        b_free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Torture support: after alloc_fail_after(n), the (n+1)th allocation fails; -1 disables. */
void alloc_fail_after(long n);
long alloc_count(void);

/* Point cJSON's allocator at ours. Call once at start, before threads. */
void alloc_install_cjson(void);
