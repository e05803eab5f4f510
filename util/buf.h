/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "util/macro.h"

/* A growable byte buffer with a hard cap, always NUL-terminated.
 * Appends past `max` return -E2BIG and leave the buffer unchanged. */
typedef struct Buf {
        char *buf;
        size_t len;
        size_t alloc;
        size_t max;
} Buf;

#define BUF_INIT(cap) ((Buf){.buf = NULL, .len = 0, .alloc = 0, .max = (cap)})

void buf_init(Buf *b, size_t max);
void buf_release(Buf *b);
/* buf_release() that first wipes the whole allocation (explicit_bzero): for plaintext secrets. */
void buf_release_secure(Buf *b);
void buf_reset(Buf *b);
int buf_append(Buf *b, const void *data, size_t n) _warn_unused_result_;
int buf_puts(Buf *b, const char *s) _warn_unused_result_;
int buf_putc(Buf *b, char c) _warn_unused_result_;
int buf_printf(Buf *b, const char *fmt, ...) _printf_(2, 3) _warn_unused_result_;
int buf_vprintf(Buf *b, const char *fmt, va_list ap) _warn_unused_result_;
/* Moves the contents out; the caller frees with b_free(). Never NULL on success (empty string). */
char *buf_take(Buf *b);
/* A copy of the last non-empty line (the likeliest to say what went wrong), NULL when none. */
char *buf_last_line(const Buf *b);
/* Returns the contents as a string ("" when empty); valid until the next change. */
const char *buf_str(const Buf *b);
