/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/observed.h"
#include "util/time-util.h"

/* What observe() saw of one pg_cluster: the plain input of pgc_plan(). */

#define PGC_SECRET_MISSING ((int64_t) -1)
#define PGC_HISTORY_MAX    20 /* leader changes kept in status.failovers */

/* One Patroni member as the cluster reports it (Patroni's GET /cluster). */
typedef struct PgcMember {
        char *name;  /* Patroni's name: "pg-0" */
        char *role;  /* leader, sync_standby, replica (standby_leader: not used) */
        char *state; /* running, streaming, starting, stopped, crashed, start failed, ... */
        int64_t timeline;
        bool has_lag;
        int64_t lag_bytes;
        bool pending_restart;
} PgcMember;

/* A timeline switch as Patroni's GET /history lists it. */
typedef struct PgcHistoryLine {
        int64_t timeline; /* the timeline that ended */
        usec_t at;        /* when the next one began (0: unknown) */
        char *leader;     /* who took over (may be NULL) */
} PgcHistoryLine;

/* One running Patroni member's answer to /etc/berth/observe.sh. */
typedef struct PgcNodeObserved {
        bool answered;        /* its Patroni REST API answered GET /patroni */
        char *error;          /* why not, NULL when answered */
        char conf_sha256[65]; /* of /etc/berth/patroni.yml as the member reads it */
        char *state;          /* its own view (GET /patroni): running, starting, ... */
        char *role;           /* master/primary, replica */
        int64_t timeline;     /* its own (pg_control's), ahead of the cluster's view */
        bool bootstrapped;    /* the leader: the initial user and database exist */
} PgcNodeObserved;

/* The one leader change berth knows it caused (a switchover or forced failover it asked
 * Patroni for), kept in the status until the change is seen. */
typedef struct PgcExpected {
        char type[16]; /* switchover | failover */
        char from[16]; /* the leader then */
        char to[16];   /* the candidate, "" for Patroni's choice */
        char actor[128];
        char reason[96];
        usec_t at;
} PgcExpected;

/* The leader change being completed: seen, not yet routed by the proxy. */
typedef struct PgcInProgress {
        bool active;
        cJSON *entry;      /* the history entry as status.failover_in_progress holds it */
        int64_t operation; /* the operation recording it, 0 before one was started */
} PgcInProgress;

typedef struct PgcObserved {
        bool network_exists;
        ObservedContainer *containers; /* every container labelled with the resource's uuid */
        size_t n_containers;
        PgcNodeObserved *nodes; /* parallel to containers (only pg members are asked) */
        char **volumes;
        char **foreign_volumes;   /* of the same project and name, another resource's (a pg_single
                                   * of the same name would share its data volumes) */
        int64_t password_version; /* PGC_SECRET_MISSING when absent */
        int64_t superuser_version, replication_version, rewind_version;

        /* Patroni's view, from one running member (cluster_from: its container name). */
        bool have_cluster;
        char *cluster_from;
        PgcMember *members;
        size_t n_members;
        char *leader; /* Patroni's leader, NULL when none */
        int64_t timeline;
        bool ha_paused;    /* Patroni's maintenance mode */
        cJSON *dcs_config; /* GET /config: the dynamic configuration, NULL when unknown */
        PgcHistoryLine *history;
        size_t n_history;

        /* The DCS: healthy etcd members, and the leader key read from one of them. */
        int dcs_healthy;
        char *dcs_exec; /* a running, healthy dcs container to run etcdctl in */
        bool have_leader_key;
        char *leader_key_holder; /* NULL: no key */
        int64_t leader_key_revision;

        /* The proxy: its haproxy.cfg and which servers its checks find up. */
        bool proxy_answered;
        char proxy_cfg_sha256[65];
        char **proxy_write_up; /* servers UP in the write backend */
        char **proxy_read_up;

        /* When the members and the proxy were asked (realtime; 0: unknown, use the pass's now):
         * the time berth saw a new leader or the proxy routing to it. */
        usec_t inside_at;

        /* Bookkeeping kept in the stored status by earlier passes. */
        int64_t applied_password_version;
        char *last_leader;
        int64_t last_timeline;
        usec_t leaderless_since;
        int prev_dcs_members;  /* dcs_members the DCS was made with (0: not recorded) */
        cJSON *prev_failovers; /* status.failovers (array), may be NULL */
        bool have_pending;     /* status.failover_pending: berth saw the leader die */
        char pending_old[16];
        char pending_reason[160];
        usec_t pending_at;
        bool have_expected;
        PgcExpected expected;
        PgcInProgress in_progress;

        /* The oldest queued action (switchover, failover), when there is one. */
        bool has_request;
        int64_t request_id;
        char request_action[32];
        char request_candidate[16]; /* "" for the best one */
        char request_actor[128];
        char *request_error;
} PgcObserved;

void pgc_observed_release(PgcObserved *o);

/* Parsers of what observe() reads, in berth-core so tests (and fuzzers) feed them directly:
 * Patroni's GET /cluster and GET /history; HAProxy's statistics CSV (which servers are UP in the
 * primary and replicas sections); the stored status's bookkeeping (leader, timeline, pending
 * and in-progress leader changes, failover history). Each fills its part of o. */
int pgc_observed_cluster(const cJSON *cluster, const cJSON *history, PgcObserved *o);
int pgc_observed_proxy_csv(const char *csv, PgcObserved *o);
int pgc_observed_from_status(const cJSON *status, PgcObserved *o);
