/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"
#include "util/macro.h"

/* PostgreSQL's own list of server parameters, generated from `postgres --describe-config` of
 * the berth/postgres image by scripts/gen-pg-parameters.sh (model/pg-parameters-table.c), so a
 * spec's `parameters` are checked against the server that will run them. */

typedef enum PgParamType {
        PG_PARAM_BOOL,
        PG_PARAM_INTEGER,
        PG_PARAM_REAL,
        PG_PARAM_STRING,
        PG_PARAM_ENUM
} PgParamType;

typedef struct PgParamInfo {
        const char *name;    /* lower case */
        const char *context; /* postmaster, sighup, superuser, user, backend, internal ... */
        PgParamType type;
        const char *unit; /* base unit of integers/reals: "kB", "8kB", "ms", "s", "min"; NULL */
        double min, max;  /* integer, real */
        const char *const *choices; /* enum: NULL-terminated */
} PgParamInfo;

extern const PgParamInfo pg_parameters[];
extern const size_t pg_parameters_count;

/* By name, case-insensitive; NULL when the server has no such parameter. */
const PgParamInfo *pg_parameter_find(const char *name);

/* Checks `value` as the server would (booleans on/off/true/false/yes/no/1/0; integers and reals
 * with the parameter's unit family: memory B/kB/MB/GB/TB, time us/ms/s/min/h/d, case-sensitive
 * as in the server; range; enum choices, case-insensitive, plus the boolean spellings where the
 * choices include on and off) and returns the canonical spelling (malloc'd): booleans "on" or
 * "off", enums the choice as listed, numbers with units as the server's SHOW prints them (the
 * largest unit that divides the value exactly: "128MB", "16384" for 8kB pages -> "128MB"),
 * strings unchanged. Values with control characters, ' or \ are refused (berth writes
 * name = 'value' lines into postgresql.conf, and they would end the line or the string). Errors:
 * -EINVAL with reason INVALID_VALUE or OUT_OF_RANGE and a message
 * ("max_connections: -1 is out of range (1..262143)"); the caller fills in the field path. */
int pg_parameter_check(const PgParamInfo *p, const char *value, char **ret_canonical,
                       Error *reterr) _warn_unused_result_;

/* Parameters berth sets itself (listen_addresses, port, data_directory, hba_file, archive_*,
 * primary_conninfo, ...): a spec may not override them. */
bool pg_parameter_is_managed(const char *name);

/* The known, unmanaged parameter closest to `name` (at most two edits away), for "did you
 * mean"; NULL when none is close. */
const char *pg_parameter_suggest(const char *name);
