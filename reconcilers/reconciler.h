/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "drivers/docker/docker.h"
#include "model/document.h"
#include "model/plan.h"
#include "store/store.h"
#include "util/error.h"
#include "util/time-util.h"

/* What a reconcile needs, owned by the calling worker: its own store connection, its own Docker
 * handle, and the leader epoch used as fencing token on every status write. */
typedef struct ReconcileCtx {
        Store *store;
        DockerClient *docker;
        const DockerEngine *engine; /* for extra clients (parallel creates) on the same engine */
        int64_t epoch;
        const char *installation; /* store_installation_id(): scopes orphans to this store */
        /* Docker does not enforce unique network names (CheckDuplicate is best effort): workers
         * creating a project's network at once made several. Held only around that create. */
        pthread_mutex_t *network_lock;
        struct ProbeMemory *probes; /* streaks of berth's own health probes; may be NULL */
        struct SecretBox *secrets;  /* decrypts secrets at create time; may be NULL */
        usec_t now;                 /* realtime, taken once per reconcile */
        const volatile bool *stop;  /* set when the controller stops: long steps give up */
} ReconcileCtx;

typedef struct ReconcileResult {
        usec_t requeue_after; /* 0: wait for the next event or relist */
        bool terminal;        /* error that retrying cannot fix until the spec changes */
        bool removed;         /* the resource row is gone (finalised delete) */
        int kind;             /* ResourceKind reconciled, -1 when unknown (metrics) */
} ReconcileResult;

/* One pass for one resource: re-read spec, observe, plan, apply, write status. Dispatches on
 * kind. Returns <0 on error (transient: the caller backs off and retries). */
int reconcile_resource(ReconcileCtx *ctx, const char *uuid, ReconcileResult *ret,
                       Error *reterr) _warn_unused_result_;

/* Writes st as the resource's status, stamped now and fenced by the leader epoch. */
int reconcile_write_status(ReconcileCtx *ctx, const StoredResource *r, const Status *st,
                           Error *reterr) _warn_unused_result_;
/* A failed pass: phase and message change; every member the last good pass reported stays
 * (endpoints included) unless `merge` (may be NULL) has a member of that name, which replaces
 * it. So bookkeeping such as applied versions and schedule times survives a failure. Best
 * effort on a path that is failing already: callers may ignore the result. */
int reconcile_fail_status(ReconcileCtx *ctx, const StoredResource *r, Phase phase, const char *msg,
                          const cJSON *merge, Error *reterr);

/* observe + plan, never apply: the plan the controller would execute for document d (for
 * apply?dry_run=true). `ref` carries uuid (may be empty for a new resource) and generation. */
int reconcile_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const Document *d,
                      Plan *ret, Error *reterr) _warn_unused_result_;
