/* SPDX-License-Identifier: MIT */
#pragma once

#include "util/macro.h"

typedef enum LogLevel {
        LOG_LEVEL_DEBUG,
        LOG_LEVEL_INFO,
        LOG_LEVEL_WARN,
        LOG_LEVEL_ERROR,
} LogLevel;

/* Set once at start, before threads. Lines go to stderr: "LEVEL time module: message". */
void log_set_level(LogLevel l);
LogLevel log_parse_level(const char *s);
void log_emit(LogLevel l, const char *module, const char *fmt, ...) _printf_(3, 4);

#ifndef LOG_MODULE
#define LOG_MODULE "berth"
#endif

#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, LOG_MODULE, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_LEVEL_INFO, LOG_MODULE, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_LEVEL_WARN, LOG_MODULE, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, LOG_MODULE, __VA_ARGS__)
