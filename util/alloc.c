/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/alloc.h"

static atomic_long alloc_calls;
static atomic_long alloc_limit = -1;

static int alloc_should_fail(void) {
        long n = atomic_fetch_add(&alloc_calls, 1);
        long lim = atomic_load(&alloc_limit);
        return lim >= 0 && n >= lim;
}

void alloc_fail_after(long n) {
        atomic_store(&alloc_calls, 0);
        atomic_store(&alloc_limit, n);
}

long alloc_count(void) {
        return atomic_load(&alloc_calls);
}

void *b_malloc(size_t n) {
        if (alloc_should_fail())
                return NULL;
        return malloc(n ? n : 1);
}

void *b_calloc(size_t n, size_t size) {
        if (alloc_should_fail())
                return NULL;
        return calloc(n ? n : 1, size ? size : 1);
}

void *b_realloc(void *p, size_t n) {
        if (alloc_should_fail())
                return NULL;
        return realloc(p, n ? n : 1);
}

char *b_strndup(const char *s, size_t n) {
        size_t len = strnlen(s, n);
        char *d = b_malloc(len + 1);
        if (!d)
                return NULL;
        memcpy(d, s, len);
        d[len] = 0;
        return d;
}

char *b_strdup(const char *s) {
        return b_strndup(s, strlen(s));
}

void b_free(void *p) {
        free(p);
}

void alloc_install_cjson(void) {
        cJSON_Hooks hooks = {.malloc_fn = b_malloc, .free_fn = b_free};
        cJSON_InitHooks(&hooks);
}
