/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

static void copy_trunc(char *dst, size_t n, const char *src) {
        if (!src) {
                dst[0] = 0;
                return;
        }
        snprintf(dst, n, "%s", src);
}

int err_set(Error *e, int code, const char *field, const char *fmt, ...) {
        va_list ap;

        if (!e)
                return code;
        e->code = code;
        e->reason[0] = 0;
        copy_trunc(e->field, sizeof(e->field), field);
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        return code;
}

int err_setr(Error *e, int code, const char *reason, const char *field, const char *fmt, ...) {
        va_list ap;

        if (!e)
                return code;
        e->code = code;
        copy_trunc(e->reason, sizeof(e->reason), reason);
        copy_trunc(e->field, sizeof(e->field), field);
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        return code;
}

int err_prefix(Error *e, const char *fmt, ...) {
        char prefix[128], old[sizeof(e->msg)];
        va_list ap;

        if (!e)
                return 0;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, e->msg, sizeof(old));
        /* Truncation is fine: the message is one human line. */
        if (snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old) < 0)
                e->msg[0] = 0;
        return e->code;
}

void err_clear(Error *e) {
        if (e)
                *e = (Error) ERROR_INIT;
}

bool err_is_transient(int code) {
        switch (-code) {
        case EAGAIN:
        case ETIMEDOUT:
        case ECONNREFUSED:
        case ECONNRESET:
        case ECONNABORTED:
        case EPIPE:
        case ENOTCONN:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case ENETDOWN:
        case EIO:
        case EBUSY:
        case ENOMEM:
        case EINTR:
        case ESHUTDOWN:
                return true;
        default:
                return false;
        }
}

const char *err_str(int code, char *buf, size_t n) {
        int e = code < 0 ? -code : code;
        /* GNU strerror_r may return a static string instead of filling buf. */
        return strerror_r(e, buf, n);
}
