/* SPDX-License-Identifier: MIT */
#pragma once

#include "model/container.h"
#include "model/pg-single.h"
#include "model/plan.h"
#include "model/resource.h"
#include "reconcilers/pg_single/pg-t.h"
#include "util/error.h"
#include "util/time-util.h"

/* The pure half of the pg_single reconciler (in berth-core: no I/O). */

#define PG_ROLE_PRIMARY       "primary"
#define PG_ROLE_REPLICA       "replica"
#define PG_PORT               5432
#define PG_DATA_DIR           "/var/lib/postgresql/data"
#define PG_CONF_PATH          "/etc/berth/postgresql.conf"
#define PG_HBA_PATH           "/etc/berth/pg_hba.conf"
#define PG_BACKREST_CONF_PATH "/etc/berth/pgbackrest.conf"
#define PG_STANZA             "main"
#define PG_REPLICATION_USER   "replicator"
#define PG_SOURCE_REPO        "/var/lib/pgbackrest-source" /* restore_from: the source's repository */

/* The secret holding the replication role's password: "<name>-replication". */
int pg_replication_secret_name(char *buf, size_t n, const char *name);

/* The files a node reads while it runs (postgresql.conf, pg_hba.conf, pgbackrest.conf), as
 * ContainerFiles marked live: a change is written in place and reloaded. `gateway`: the
 * network's gateway (NULL: unknown). index 0 is the primary, 1.. the replicas. */
int pg_live_files(const ResourceRef *ref, const PgSingleSpec *spec, unsigned index,
                  const char *gateway, ContainerFile **ret, size_t *ret_n) _warn_unused_result_;

/* The container of node `index` (0: primary, 1..read_replicas: replicas), config hash label
 * included. */
int pg_container_config(const ResourceRef *ref, const PgSingleSpec *spec, const PgObserved *obs,
                        unsigned index, ContainerConfig *ret, Error *reterr) _warn_unused_result_;

/* The status query's SQL for this spec (its initial database and user are plain identifiers,
 * validated, so they are safe to quote into it). malloc'd. */
char *pg_status_query(const PgSingleSpec *spec);

/* Why the queued request cannot run with this spec (backups off, PITR off...), NULL when it
 * can: the reconciler fails such a request at once with this message. */
const char *pg_request_problem(const PgSingleSpec *spec, const PgObserved *obs);

/* Decides the actions and the status for one pass. `now` is realtime usec. */
int pg_plan(const ResourceRef *ref, const PgSingleSpec *spec, const PgObserved *obs, usec_t now,
            Plan *ret, Error *reterr) _warn_unused_result_;
