/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdlib.h>

#define _cleanup_(f)         __attribute__((cleanup(f)))
#define _printf_(a, b)       __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _unused_             __attribute__((unused))
#define _noreturn_           __attribute__((noreturn))
#define _likely_(x)          (__builtin_expect(!!(x), 1))
#define _unlikely_(x)        (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))
#define STRLEN(s)     (sizeof(s) - 1)

/* Move a pointer out of a _cleanup_ variable so the cleanup does not free it. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp_ = (p);                                                          \
                (p) = NULL;                                                                        \
                _tp_;                                                                              \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tfd_ = (fd);                                                                  \
                (fd) = -1;                                                                         \
                _tfd_;                                                                             \
        })

/* Defines name##p(type **) that calls func on the pointee when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p) {                                                      \
                if (*p)                                                                            \
                        func(*p);                                                                  \
        }

/* Returns early with the given code when a precondition of a public entry point fails. */
#define assert_return(expr, r)                                                                     \
        do {                                                                                       \
                if (_unlikely_(!(expr)))                                                           \
                        return (r);                                                                \
        } while (0)

static inline int negative_errno_or(int fallback, int e) {
        return e > 0 ? -e : fallback;
}

#define streq(a, b)     (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s)      (!(s) || !(s)[0])
#define strempty(s)     ((s) ? (s) : "")
#define strna(s)        ((s) ? (s) : "n/a")

/* Drops a result on purpose, where failure is acceptable (best-effort history, cleanup).
 * gcc does not accept a plain (void) cast on a _warn_unused_result_ call. */
#define DISCARD(expr)                                                                              \
        do {                                                                                       \
                __typeof__(expr) _discard_ = (expr);                                               \
                (void) _discard_;                                                                  \
        } while (0)
