/* SPDX-License-Identifier: MIT */
#pragma once

#include "util/error.h"

/* berthd's private PostgreSQL (BERTH_DATABASE_URL unset): the system's postgres binaries,
 * data in <data_dir>/state, listening only on a unix socket in <data_dir>/run. initdb runs on
 * first start. As root, the server runs as the unprivileged `postgres` user (PostgreSQL
 * refuses root); otherwise as the current user. */
typedef struct EmbeddedPg EmbeddedPg;

/* Starts (or adopts an already-running server on the same data dir) and waits until it accepts
 * connections. ret_conninfo: a libpq connection string for it (caller frees). */
int embedded_pg_start(const char *data_dir, EmbeddedPg **ret, char **ret_conninfo,
                      Error *reterr) _warn_unused_result_;
/* Fast shutdown (pg_ctl stop -m fast) and free. NULL is fine. */
EmbeddedPg *embedded_pg_stop(EmbeddedPg *e);
