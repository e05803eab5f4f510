/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/observed.h"
#include "util/error.h"
#include "util/time-util.h"

/* What observe() saw of one mysql_ha, and what earlier passes recorded in its status: the plain
 * input of plan(). */

#define MYSQL_SECRET_MISSING ((int64_t) -1)
#define MYSQL_GTID_DOMAINS   16
#define MYSQL_MEMBERS_MAX    8 /* 1 + MYSQL_MAX_REPLICAS, with room for a primary above them */

/* A GTID position: one domain-server-sequence triple per replication domain ("0-1-42,1-2-7"). */
typedef struct MysqlGtid {
        uint32_t domain;
        uint32_t server;
        uint64_t seq;
} MysqlGtid;

typedef struct MysqlGtidPos {
        MysqlGtid g[MYSQL_GTID_DOMAINS];
        size_t n;
} MysqlGtidPos;

/* Parses "D-S-N[,D-S-N...]" (spaces and newlines ignored; "" is the empty position). */
int mysql_gtid_parse(const char *s, MysqlGtidPos *ret) _warn_unused_result_;
/* True when `have` has reached `want`: every domain of want is in have with a sequence number at
 * least as high. */
bool mysql_gtid_reached(const MysqlGtidPos *have, const MysqlGtidPos *want);
/* True when history `a` cannot be a prefix of history `b`: in some domain a is further than b,
 * or at the same sequence number from another server (gtid_strict_mode would refuse it). */
bool mysql_gtid_diverged(const MysqlGtidPos *a, const MysqlGtidPos *b);
/* Sum of the sequence numbers: an order for picking the most advanced replica. */
uint64_t mysql_gtid_weight(const MysqlGtidPos *p);

/* One member's account of itself: a status query and SHOW SLAVE STATUS, run with the mariadb
 * client inside its container. */
typedef struct MysqlNodeObserved {
        bool answered; /* the query ran; below is meaningful */
        char *error;   /* why it did not (starting up, paused, hung...), NULL when answered */
        char *version;
        int server_id;
        bool read_only;
        char *gtid_current_pos, *gtid_binlog_pos, *gtid_slave_pos;
        bool semi_master_enabled; /* rpl_semi_sync_master_enabled */
        bool semi_master_active;  /* Rpl_semi_sync_master_status */
        int semi_master_clients;
        bool semi_slave_active; /* Rpl_semi_sync_slave_status */
        bool bootstrapped;      /* berth's users and the initial database exist */
        /* SHOW SLAVE STATUS; has_slave false when it returned no row. */
        bool has_slave;
        char *master_host;
        char *io_running;       /* Yes, No, Connecting */
        char *sql_running;      /* Yes, No */
        int64_t seconds_behind; /* -1: NULL */
        char *gtid_io_pos;
        char *using_gtid; /* Slave_Pos, Current_Pos, No */
        int last_io_errno;
        char *last_io_error;
        int last_sql_errno;
        char *last_sql_error;
        char *sql_state; /* Slave_SQL_Running_State */
} MysqlNodeObserved;

/* Fills n from the status query's output (mysql_status_query(): a header, a JSON line, then
 * SHOW SLAVE STATUS as "Key: value" lines). */
int mysql_node_from_output(const char *out, MysqlNodeObserved *n) _warn_unused_result_;
/* The same, from JSON: the status object with the slave status under "slave" (golden tests). */
int mysql_node_from_json(const cJSON *j, MysqlNodeObserved *n) _warn_unused_result_;
void mysql_node_observed_release(MysqlNodeObserved *n);

/* A member back after a failover: recreated on the network, then following the primary again,
 * or rebuilt when its history diverged. */
typedef enum MysqlRejoinState {
        MYSQL_REJOIN_FENCED,    /* stopped and off the network: to be recreated */
        MYSQL_REJOIN_RESTARTED, /* recreated, read-only: to follow the primary or be rebuilt */
        _MYSQL_REJOIN_MAX,
        _MYSQL_REJOIN_INVALID = -22,
} MysqlRejoinState;

/* A failover or switchover in progress (status.failover), recorded before each of its steps. */
typedef struct MysqlFailover {
        bool active;
        char kind[16];    /* failover | switchover */
        char reason[256]; /* why (the evidence, or who asked) */
        char phase[16];   /* the last phase begun: decide, fence, freeze, promote, route, repoint */
        int old_index, new_index;
        bool automatic;     /* decided by berth, not asked for (counts for anti-flapping) */
        int64_t request_id; /* the queued request it serves, 0: none */
        int64_t operation;  /* the operations row recording it, 0: not yet */
        usec_t failed_at;   /* when the old primary's container died, when Docker says */
        usec_t detected_at; /* when the evidence was seen (the request taken) */
        usec_t fenced_at;   /* old primary stopped and off the network (failover) */
        usec_t frozen_at;   /* old primary read-only (switchover) */
        usec_t promoted_at; /* new primary writable */
        usec_t routed_at;   /* proxy rewritten */
        char old_gtid[256]; /* the old primary's last position as the replicas received it */
        char new_gtid[256]; /* the new primary's position when promoted */
} MysqlFailover;

int mysql_failover_from_json(const cJSON *j, MysqlFailover *ret);
cJSON *mysql_failover_to_json(const MysqlFailover *f);

typedef struct MysqlObserved {
        bool network_exists;
        ObservedContainer *containers; /* every container labelled with the resource's uuid */
        size_t n_containers;
        MysqlNodeObserved *nodes; /* parallel to containers (database members only) */
        char **volumes;
        int64_t password_version; /* MYSQL_SECRET_MISSING when absent */
        int64_t replication_version;
        int64_t monitor_version;
        bool proxy_answered;        /* the proxy's config file could be read */
        char proxy_conf_sha256[65]; /* of the config HAProxy runs with */
        /* Bookkeeping kept in the stored status by earlier passes. */
        int primary_index; /* -1: none recorded yet (the first primary is member 0) */
        bool initialized;  /* a primary was bootstrapped once: a missing one is a failure */
        int64_t applied_password_version;
        int probe_failures;      /* consecutive failed probes of the primary */
        usec_t last_probe_at;    /* when the last one counted */
        usec_t probe_since;      /* when the first of them failed */
        usec_t last_failover_at; /* completion of the last automatic failover (anti-flapping) */
        MysqlFailover failover;  /* in progress, when .active */
        int rejoin[MYSQL_MEMBERS_MAX]; /* per member index: -1 none, else MysqlRejoinState */
        /* The oldest queued action (store/requests.h), when there is one. */
        bool has_request;
        int64_t request_id;
        char request_action[32];
        int request_target; /* -1: none named */
        char *request_error;
        char request_actor[128];
} MysqlObserved;

void mysql_observed_init(MysqlObserved *o);
void mysql_observed_release(MysqlObserved *o);
/* Reads the bookkeeping of a stored status into o (primary_index ... rejoin). */
void mysql_observed_from_status(MysqlObserved *o, const cJSON *status);
