/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/observed.h"
#include "model/pg-action.h"
#include "util/time-util.h"

/* What observe() saw of one pg_single: the plain input of plan(). */

#define PG_SECRET_MISSING ((int64_t) -1)

/* A replica as its primary reports it (pg_stat_replication). */
typedef struct PgReplicationStat {
        char *name; /* application_name: the replica's slot name */
        char *state;
        int64_t lag_bytes;
        double lag_seconds;
} PgReplicationStat;

/* One status query answered by a running node (reconcilers/pg_single/observe.c). */
typedef struct PgNodeObserved {
        bool answered; /* the query ran; below is meaningful */
        char *error;   /* why it did not (starting up, refused...), NULL when answered */
        char *version;
        bool in_recovery;
        int64_t size_bytes;
        int connections;
        int max_connections;
        char **pending_restart; /* parameters changed but waiting for a restart */
        char conf_sha256[65];   /* of /etc/berth/postgresql.conf as the server can read it */
        char hba_sha256[65];
        char backrest_sha256[65];
        bool bootstrapped; /* the initial database and the replication role exist */
        char **slots;      /* replication slots (primary) */
        PgReplicationStat *replication;
        size_t n_replication;
} PgNodeObserved;

typedef struct PgBackupObserved {
        char *label;
        char *type; /* full, diff, incr */
        usec_t started, finished;
        int64_t size_bytes;      /* of the database at backup time */
        int64_t repo_size_bytes; /* what it takes in the repository */
        char *wal_start, *wal_stop;
} PgBackupObserved;

typedef struct PgObserved {
        bool network_exists;
        char *gateway;                 /* the network's gateway: published ports arrive from it */
        ObservedContainer *containers; /* every container labelled with the resource's uuid */
        size_t n_containers;
        PgNodeObserved *nodes;       /* parallel to containers */
        char **volumes;              /* names of the volumes labelled with the resource's uuid */
        int64_t password_version;    /* PG_SECRET_MISSING when absent */
        int64_t replication_version; /* the replication role's secret */
        int64_t s3_access_key_version, s3_secret_key_version; /* S3 repository keys */
        /* pgBackRest's view of the repository (when backups are enabled and the primary runs). */
        bool backup_info;          /* `pgbackrest info` answered */
        bool stanza_exists;        /* the repository is initialised for this database */
        bool backup_running;       /* pgBackRest holds its backup lock (a backup or expire runs) */
        char *backup_error;        /* its complaint, NULL when none */
        PgBackupObserved *backups; /* oldest first */
        size_t n_backups;
        char *archive_min, *archive_max; /* WAL segments in the repository */
        /* Bookkeeping kept in the stored status by earlier passes. */
        int64_t applied_password_version; /* 0: never applied */
        usec_t last_scheduled_backup;     /* when the schedule last fired (0: never) */
        usec_t last_vacuum;
        usec_t deleted_at;                /* when a soft delete began (0: not deleted) */
        bool backup_after_restore;        /* a restore made a new timeline: a full backup is due */
        bool source_restored;             /* restore_from done (status.restored_from) */
        bool source_repo_exists;          /* restore_from's backup volume is there */
        int64_t source_failed_generation; /* restore_from failed at this spec generation */
        char *source_error;
        char *source_primary; /* the source's running primary container, NULL: none */
        char *last_backup_error;
        /* The oldest queued action (store/requests.h), when there is one. */
        bool has_request;
        int64_t request_id;
        bool request_running; /* started by an earlier pass that did not finish */
        usec_t request_created;
        PgAction request;
        char *request_error; /* its parameters did not parse */
} PgObserved;

void pg_observed_release(PgObserved *o);
