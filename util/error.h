/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "util/macro.h"

/* A caller-owned, fixed-size error report: reporting ENOMEM needs no memory.
 * `code` is a negative errno, `field` a spec path such as "spec.replicas" (may be empty),
 * `msg` one human line. `reason` is an optional machine code for the API ("RESOURCE_NOT_FOUND");
 * when empty, api/errors.c derives one from `code`. */
typedef struct Error {
        int code;
        char reason[48];
        char field[96];
        char msg[256];
} Error;

#define ERROR_INIT                                                                                 \
        { 0 }

/* Fills e (which may be NULL) and returns code, so `return err_set(...)` reads naturally. */
int err_set(Error *e, int code, const char *field, const char *fmt, ...) _printf_(4, 5);
/* As err_set() with an API reason code such as "VALIDATION_FAILED". */
int err_setr(Error *e, int code, const char *reason, const char *field, const char *fmt, ...)
        _printf_(5, 6);
/* Prepends "what: " to the message, keeping code and field. Returns e->code. */
int err_prefix(Error *e, const char *fmt, ...) _printf_(2, 3);
void err_clear(Error *e);

/* Transient errors requeue with backoff; others are terminal until the input changes. */
bool err_is_transient(int code);

/* strerror_r wrapper that always returns a usable string. */
const char *err_str(int code, char *buf, size_t n);
