/* SPDX-License-Identifier: MIT */
#pragma once

#include "model/container.h"
#include "model/pg-cluster.h"
#include "model/plan.h"
#include "model/resource.h"
#include "reconcilers/pg_cluster/pgc-t.h"
#include "util/error.h"
#include "util/time-util.h"

/* The pure half of the pg_cluster reconciler (in berth-core: no I/O). */

#define PGC_ROLE_MEMBER               "pg" /* container label; Patroni says primary or replica */
#define PGC_ROLE_DCS                  "dcs"
#define PGC_ROLE_PROXY                "proxy"
#define PGC_PG_PORT                   5432
#define PGC_READ_PORT                 5433 /* the proxy's read port inside the network */
#define PGC_REST_PORT                 8008
#define PGC_ETCD_PORT                 2379
#define PGC_PATRONI_CONF              "/etc/berth/patroni.yml"
#define PGC_HAPROXY_CONF              "/etc/haproxy/haproxy.cfg"
#define PGC_OBSERVE                   "/etc/berth/observe.sh"
#define PGC_RELEASE                   "/etc/berth/release.sh"
#define PGC_BOOTSTRAP                 "/etc/berth/bootstrap.sh"
#define PGC_NAMESPACE                 "/berth/"
#define PGC_REPL_USER                 "replicator"
#define PGC_REWIND_USER               "rewinder"
#define PGC_STATS_PORT                8404 /* HAProxy's stats, on the proxy's loopback only */
#define PGC_SECRET_SUFFIX_SUPERUSER   "-superuser"
#define PGC_SECRET_SUFFIX_REPLICATION "-replication"
#define PGC_SECRET_SUFFIX_REWIND      "-rewind"

/* The generated secrets: "<name>-superuser", "-replication", "-rewind". */
int pgc_secret_name(char *buf, size_t n, const char *name, const char *suffix);
/* Patroni's name of member `index`: "pg-0". */
int pgc_member_name(char *buf, size_t n, unsigned index);
/* The member's index from Patroni's name, -1 when it is not one of ours. */
int pgc_member_index(const char *member);
/* Patroni's leader key in etcd: "/berth/<name>/leader". */
int pgc_leader_key(char *buf, size_t n, const char *name);

/* patroni.yml of member `index` (libyaml's emitter: no value can break it). malloc'd. */
int pgc_patroni_yaml(const ResourceRef *ref, const PgClusterSpec *spec, unsigned index,
                     char **ret) _warn_unused_result_;
/* haproxy.cfg: write port to the primary, read port to the standbys (the primary when none
 * qualifies). malloc'd; -EINVAL if a value would not be a plain word in it. */
int pgc_haproxy_cfg(const ResourceRef *ref, const PgClusterSpec *spec,
                    char **ret) _warn_unused_result_;
/* Patroni's dynamic configuration as berth wants it (the keys berth manages), JSON. */
cJSON *pgc_dcs_config(const PgClusterSpec *spec);

/* The containers, config hash label included. */
int pgc_dcs_config_container(const ResourceRef *ref, const PgClusterSpec *spec, unsigned index,
                             ContainerConfig *ret, Error *reterr) _warn_unused_result_;
int pgc_member_container(const ResourceRef *ref, const PgClusterSpec *spec, const PgcObserved *obs,
                         unsigned index, ContainerConfig *ret, Error *reterr) _warn_unused_result_;
int pgc_proxy_container(const ResourceRef *ref, const PgClusterSpec *spec, ContainerConfig *ret,
                        Error *reterr) _warn_unused_result_;

/* What a pass must record beside the plan: the leader changes it saw. reconcile.c makes the
 * operation rows and events of them. A change is recorded when berth sees the new leader (an
 * operation begins) and complete once the proxy routes writes to it (the operation ends). */
typedef struct PgcRecord {
        bool start;        /* begin an operation (kind, actor) */
        bool finish;       /* end it: the one begun here, or `operation` */
        bool in_progress;  /* begun, not finished: its id goes into
                            * status.failover_in_progress.operation */
        int64_t operation; /* finish: begun by an earlier pass (0: none was) */
        char kind[16];     /* failover | switchover */
        char actor[128];
        char *log;     /* finish: old and new primary, timeline, reason, times */
        char *summary; /* one line for the event */
} PgcRecord;

typedef struct PgcNotes {
        PgcRecord records[2]; /* an older change closed, a new one seen */
        size_t n_records;
} PgcNotes;

void pgc_notes_release(PgcNotes *n);

/* Why the queued request cannot run (unknown candidate, ...), NULL when it can: the reconciler
 * fails such a request at once with this message. */
const char *pgc_request_problem(const PgClusterSpec *spec, const PgcObserved *obs);

/* The fast failover alone, from Docker's view and the DCS's (the members need not be asked):
 * when the leader key names a member whose container is not running, the compare-and-delete of
 * the key; else an empty plan. ret_reason: why (empty when nothing to do). */
int pgc_plan_release(const ResourceRef *ref, const PgClusterSpec *spec, const PgcObserved *obs,
                     usec_t now, Plan *ret, char *ret_reason, size_t n) _warn_unused_result_;

/* Decides the actions and the status for one pass. `now` is realtime usec. */
int pgc_plan(const ResourceRef *ref, const PgClusterSpec *spec, const PgcObserved *obs, usec_t now,
             Plan *ret, PgcNotes *ret_notes, Error *reterr) _warn_unused_result_;
