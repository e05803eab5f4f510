/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/pg-single.h"
#include "util/error.h"
#include "util/time-util.h"

/* pg_cluster, typed (DESIGN.md part 1, README "pg_cluster"): PostgreSQL members run by Patroni,
 * an etcd DCS, and an HAProxy in front. Built from a normalised spec by
 * pg_cluster_spec_from_json(); pg_cluster_spec_validate() has refused anything out of range. */

#define PGC_STANDBYS_MIN      1
#define PGC_STANDBYS_MAX      4
#define PGC_DEFAULT_STANDBYS  2
#define PGC_DEFAULT_DCS       3
#define PGC_DEFAULT_TTL       10 /* seconds: Patroni's leader key */
#define PGC_DEFAULT_LOOP_WAIT 2
#define PGC_DEFAULT_RETRY     3
/* The generated secrets are "<name>-replication" and the like: names must leave room. */
#define PGC_NAME_MAX 28

typedef struct PgClusterSpec {
        /* What pg_single shares (version, image, resources, storage, initial_db_name,
         * initial_user, password, parameters, allow, allow_public, backup, paused), read by
         * pg_single_spec_from_json() from the same normalised keys; max_lag_* come from
         * topology.max_replication_lag. read_replicas, expose, maintenance and restore_from are
         * not pg_cluster fields and keep their defaults. */
        PgSingleSpec pg;
        int standbys;     /* members besides the leader: 1..4 */
        bool sync;        /* replication_mode sync: Patroni's synchronous_mode */
        bool sync_strict; /* synchronous_mode_strict: no write without a synchronous standby */
        int dcs_members;  /* etcd members: 1 or 3 */
        int ttl, loop_wait, retry_timeout; /* seconds, Patroni's timers */
        int write_port, read_port;         /* published by the proxy; 0: not published */
        char *bind;                        /* host address the ports are published on */
} PgClusterSpec;

int pg_cluster_spec_from_json(const cJSON *spec, PgClusterSpec *ret,
                              Error *reterr) _warn_unused_result_;
void pg_cluster_spec_release(PgClusterSpec *s);

/* Validates a pg_cluster spec as a user wrote it and returns it normalised (defaults filled in,
 * keys in a fixed order, sizes in bytes, timers as "10s"). `name` is metadata.name. Normalising
 * a normalised spec returns identical JSON. Errors name the field and a reason. */
int pg_cluster_spec_validate(const cJSON *spec, const char *name, cJSON **ret,
                             Error *reterr) _warn_unused_result_;
