/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "reconcilers/pg_single/pg-t.h"

/* PgObserved's release, in berth-core with the planner, so tests build observations too. */

static void node_release(PgNodeObserved *n) {
        b_free(n->error);
        b_free(n->version);
        strv_free(n->pending_restart);
        strv_free(n->slots);
        for (size_t i = 0; i < n->n_replication; i++) {
                b_free(n->replication[i].name);
                b_free(n->replication[i].state);
        }
        b_free(n->replication);
        *n = (PgNodeObserved){};
}

void pg_observed_release(PgObserved *o) {
        if (!o)
                return;
        for (size_t i = 0; o->nodes && i < o->n_containers; i++)
                node_release(&o->nodes[i]);
        b_free(o->nodes);
        observed_containers_free(o->containers, o->n_containers);
        strv_free(o->volumes);
        b_free(o->gateway);
        b_free(o->backup_error);
        for (size_t i = 0; i < o->n_backups; i++) {
                b_free(o->backups[i].label);
                b_free(o->backups[i].type);
                b_free(o->backups[i].wal_start);
                b_free(o->backups[i].wal_stop);
        }
        b_free(o->backups);
        b_free(o->archive_min);
        b_free(o->archive_max);
        b_free(o->last_backup_error);
        pg_action_release(&o->request);
        b_free(o->request_error);
        b_free(o->source_error);
        b_free(o->source_primary);
        *o = (PgObserved){};
}
