/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"

void buf_init(Buf *b, size_t max) {
        *b = BUF_INIT(max);
}

void buf_release(Buf *b) {
        b->buf = mfree(b->buf);
        b->len = b->alloc = 0;
}

void buf_release_secure(Buf *b) {
        if (b->buf)
                explicit_bzero(b->buf, b->alloc);
        buf_release(b);
}

void buf_reset(Buf *b) {
        b->len = 0;
        if (b->buf)
                b->buf[0] = 0;
}

static int buf_grow(Buf *b, size_t extra) {
        size_t need, n;
        char *p;

        if (extra > b->max || b->len > b->max - extra)
                return -E2BIG;
        need = b->len + extra + 1;
        if (need <= b->alloc)
                return 0;
        n = b->alloc ? b->alloc : 64;
        while (n < need)
                n *= 2;
        if (n > b->max + 1)
                n = b->max + 1;
        p = b_realloc(b->buf, n);
        if (!p)
                return -ENOMEM;
        b->buf = p;
        b->alloc = n;
        return 0;
}

int buf_append(Buf *b, const void *data, size_t n) {
        int r = buf_grow(b, n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->buf + b->len, data, n);
        b->len += n;
        b->buf[b->len] = 0;
        return 0;
}

int buf_puts(Buf *b, const char *s) {
        return buf_append(b, s, strlen(s));
}

int buf_putc(Buf *b, char c) {
        return buf_append(b, &c, 1);
}

int buf_vprintf(Buf *b, const char *fmt, va_list ap) {
        va_list aq;
        int n, r;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        r = buf_grow(b, (size_t) n);
        if (r < 0)
                return r;
        vsnprintf(b->buf + b->len, (size_t) n + 1, fmt, ap);
        b->len += (size_t) n;
        return 0;
}

int buf_printf(Buf *b, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = buf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

char *buf_take(Buf *b) {
        char *p;

        if (!b->buf && buf_grow(b, 0) < 0)
                return NULL;
        p = b->buf;
        b->buf = NULL;
        b->len = b->alloc = 0;
        return p;
}

const char *buf_str(const Buf *b) {
        return b->buf ? b->buf : "";
}

char *buf_last_line(const Buf *b) {
        const char *s = buf_str(b);
        size_t n = strlen(s), start;

        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
                n--;
        start = n;
        while (start > 0 && s[start - 1] != '\n')
                start--;
        return n > start ? b_strndup(s + start, n - start) : NULL;
}
