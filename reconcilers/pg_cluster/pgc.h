/* SPDX-License-Identifier: MIT */
#pragma once

#include "reconcilers/pg_cluster/plan.h"

/* The side-effect half of the pg_cluster reconciler (outside berth-core). */
typedef struct DockerClient DockerClient;
typedef struct ReconcileCtx ReconcileCtx;
typedef struct ReconcileResult ReconcileResult;
typedef struct StoredResource StoredResource;
typedef struct Store Store;

/* Lists the resource's containers and volumes, reads its network and secret versions, asks the
 * etcd members for their health and Patroni's leader key, each running member for its Patroni
 * state (one of them for the cluster's view), the proxy for its configuration and statistics,
 * and the store for the oldest queued request (store may be NULL: preview). prev_status: the
 * stored status, for what earlier passes recorded (may be NULL). */
int pgc_observe(DockerClient *docker, Store *store, const ResourceRef *ref,
                const PgClusterSpec *spec, const cJSON *prev_status, PgcObserved *ret,
                Error *reterr) _warn_unused_result_;
/* The same in three steps, so a pass can act on the DCS before it asks every member (the fast
 * failover): Docker's objects, secrets and the stored bookkeeping; the DCS (again after the
 * leader key changed); the members, the proxy and the queued request. */
int pgc_observe_docker(DockerClient *docker, Store *store, const ResourceRef *ref,
                       const PgClusterSpec *spec, const cJSON *prev_status, PgcObserved *ret,
                       Error *reterr) _warn_unused_result_;
int pgc_observe_dcs(DockerClient *docker, const ResourceRef *ref, PgcObserved *o,
                    Error *reterr) _warn_unused_result_;
/* Docker's word on the leader key's holder, asked again (a list may lag behind a kill). */
int pgc_observe_refresh_leader(DockerClient *docker, PgcObserved *o,
                               Error *reterr) _warn_unused_result_;
int pgc_observe_inside(DockerClient *docker, Store *store, const ResourceRef *ref,
                       const PgClusterSpec *spec, PgcObserved *o,
                       Error *reterr) _warn_unused_result_;
int pgc_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                  Error *reterr) _warn_unused_result_;
int pgc_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const cJSON *spec_json,
                Plan *ret, Error *reterr) _warn_unused_result_;
