/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strv.h"

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (!l)
                return 0;
        while (l[n])
                n++;
        return n;
}

int strv_push_take(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **nl;

        if (!s)
                return -ENOMEM;
        nl = b_realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                b_free(s);
                return -ENOMEM;
        }
        nl[n] = s;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int strv_push(char ***l, const char *s) {
        return strv_push_take(l, b_strdup(s));
}

int strv_pushf(char ***l, const char *fmt, ...) {
        va_list ap, aq;
        char *s;
        int n;

        va_start(ap, fmt);
        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0) {
                va_end(ap);
                return -EINVAL;
        }
        s = b_malloc((size_t) n + 1);
        if (!s) {
                va_end(ap);
                return -ENOMEM;
        }
        vsnprintf(s, (size_t) n + 1, fmt, ap);
        va_end(ap);
        return strv_push_take(l, s);
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = b_calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = b_strdup(l[i]);
                if (!c[i])
                        return strv_free(c);
        }
        return c;
}

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **p = l; *p; p++)
                b_free(*p);
        b_free(l);
        return NULL;
}

int strv_contains(char *const *l, const char *s) {
        if (!l)
                return 0;
        for (; *l; l++)
                if (strcmp(*l, s) == 0)
                        return 1;
        return 0;
}

int strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return 0;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return 0;
        return 1;
}
