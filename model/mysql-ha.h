/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/strv.h"
#include "util/time-util.h"

/* mysql_ha, typed (DESIGN.md part 1, README "mysql_ha"): a MariaDB primary and replicas with GTID
 * replication, an HAProxy splitting writes (the primary) from reads (the replicas), and failover
 * done by berth itself. Built from a normalised spec by mysql_ha_spec_from_json();
 * mysql_ha_spec_validate() has refused anything out of range. */

#define MYSQL_DEFAULT_VERSION     "10.11"
#define MYSQL_MAX_REPLICAS        4
#define MYSQL_DEFAULT_REPLICAS    2
#define MYSQL_DEFAULT_WRITE_PORT  6033
#define MYSQL_DEFAULT_READ_PORT   6034
#define MYSQL_DEFAULT_PROXY_IMAGE "berth/haproxy:2.6"

typedef struct MysqlHaSpec {
        char *version; /* "10.11" */
        char *flavor;  /* "mariadb" */
        char *image;   /* berth/mariadb:<version> unless spec.image says otherwise */
        char *plan;    /* dev_ha | small_ha | medium_ha, NULL: resources given */
        double cpu;    /* cores per database server, 0: unlimited */
        int64_t memory;
        int64_t storage_size; /* bytes per server: recorded, not enforced */
        /* topology */
        int replicas; /* 0..MYSQL_MAX_REPLICAS, besides the primary */
        bool semi_sync;
        usec_t max_lag; /* a replica further behind leaves the read set */
        /* proxy */
        char *proxy_type; /* "haproxy" */
        char *proxy_image;
        int write_port, read_port;
        char *bind;
        /* failover */
        bool failover_automatic;
        int detection_probes;
        usec_t probe_interval;
        usec_t min_interval; /* anti-flapping: a second automatic failover within waits */
        char *initial_db_name;
        char *initial_user;
        char *password_secret;
        bool password_generated;
        Strv allow_services;
        Strv allow_cidrs;
        bool paused;
} MysqlHaSpec;

int mysql_ha_spec_from_json(const cJSON *spec, MysqlHaSpec *ret,
                            Error *reterr) _warn_unused_result_;
void mysql_ha_spec_release(MysqlHaSpec *s);

/* Validates a mysql_ha spec as a user wrote it and returns it normalised (defaults filled in,
 * keys in a fixed order, plan expanded into resources with the plan kept, durations spelled
 * canonically). `name` is metadata.name. Normalising a normalised spec returns identical JSON.
 * Errors name the field and a reason. */
int mysql_ha_spec_validate(const cJSON *spec, const char *name, cJSON **ret,
                           Error *reterr) _warn_unused_result_;

/* The secrets berth generates for a cluster "<name>": the initial user's password (when
 * spec.password is absent), the replication user's and the monitor user's. -E2BIG when the
 * name does not fit buf or is longer than a name may be. */
int mysql_password_secret_name(char *buf, size_t n, const char *name);
int mysql_replication_secret_name(char *buf, size_t n, const char *name);
int mysql_monitor_secret_name(char *buf, size_t n, const char *name);
