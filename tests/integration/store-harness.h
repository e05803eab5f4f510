/* SPDX-License-Identifier: MIT */
/* What the C store tests (test-store.c, test-requests.c, test-jobs-store.c) share: the embedded
 * PostgreSQL in a temporary directory, removed afterwards, and TAP output (one "ok N - what" line
 * per check, the plan "1..N" at the end, the server's log printed when a check failed). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "util/error.h"
#include "util/macro.h"

#include "store/embedded.h"
#include "store/store.h"

typedef struct StoreHarness {
        char dir[64]; /* the server's data directory */
        EmbeddedPg *pg;
        char *conninfo;
        PGconn *raw; /* a plain session for what the store's API does not show */
} StoreHarness;

/* Prints the TAP header, starts the server in a new /tmp/<prefix>-XXXXXX and connects raw
 * (checks "embedded PostgreSQL starts" and "raw connection for checks"). False when the server
 * did not start: its log is printed and the directory removed; exit with 1. */
bool store_harness_start(StoreHarness *h, const char *prefix);

/* Closes raw (when still open), prints the log when a check failed, stops the server, removes
 * its directory and prints the plan. Returns the exit status: 1 when a check failed. */
int store_harness_finish(StoreHarness *h);

/* One TAP line; counts a failure. Returns ok. */
bool check(bool ok, const char *fmt, ...) _printf_(2, 3);

/* r must equal want; on mismatch the error text is shown. */
bool check_r(int r, int want, const Error *e, const char *what);

/* The single number a query with at most one parameter returns; -1 when it fails. */
int64_t raw_count(PGconn *raw, const char *sql, const char *param);

/* Runs a statement with at most one parameter; false (and a "#" line) when it fails. */
bool raw_exec(PGconn *raw, const char *sql, const char *param);

/* Waits for a notification on channel with payload (others are skipped). */
bool wait_for(Store *l, const char *channel, const char *payload);

/* The string member key of o, or NULL. */
const char *jstr(const cJSON *o, const char *key);
