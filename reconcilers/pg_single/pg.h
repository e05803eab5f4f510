/* SPDX-License-Identifier: MIT */
#pragma once

#include "reconcilers/pg_single/plan.h"

/* The side-effect half of the pg_single reconciler (outside berth-core). */
typedef struct DockerClient DockerClient;
typedef struct ReconcileCtx ReconcileCtx;
typedef struct ReconcileResult ReconcileResult;
typedef struct StoredResource StoredResource;
typedef struct Store Store;

/* Lists the resource's containers and volumes, reads its network, asks each running node the
 * status query (docker exec psql), asks pgBackRest for the repository when backups are on,
 * reads secret versions and the oldest queued request from the store (may be NULL: preview).
 * prev_status: the stored status, for what earlier passes recorded (may be NULL). */
int pg_observe(DockerClient *docker, Store *store, const ResourceRef *ref, const PgSingleSpec *spec,
               const cJSON *prev_status, PgObserved *ret, Error *reterr) _warn_unused_result_;
int pg_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                 Error *reterr) _warn_unused_result_;
int pg_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const cJSON *spec_json,
               Plan *ret, Error *reterr) _warn_unused_result_;
