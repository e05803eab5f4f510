/* SPDX-License-Identifier: MIT */
#pragma once

#include "reconcilers/mysql_ha/plan.h"

/* The side-effect half of the mysql_ha reconciler (outside berth-core). */
typedef struct DockerClient DockerClient;
typedef struct DockerEngine DockerEngine;
typedef struct ReconcileCtx ReconcileCtx;
typedef struct ReconcileResult ReconcileResult;
typedef struct StoredResource StoredResource;
typedef struct Store Store;

/* Lists the resource's containers and volumes, reads its network, asks each running member the
 * status query (docker exec mariadb) and the proxy for its configuration's digest, reads the
 * secrets' versions and the oldest queued request from the store (may be NULL: preview).
 * prev_status: the stored status, for what earlier passes recorded (may be NULL). engine (may
 * be NULL): the members are asked in parallel, each on a client of its own. */
int mysql_observe(DockerClient *docker, const DockerEngine *engine, Store *store,
                  const ResourceRef *ref, const MysqlHaSpec *spec, const cJSON *prev_status,
                  MysqlObserved *ret, Error *reterr) _warn_unused_result_;
int mysql_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                    Error *reterr) _warn_unused_result_;
int mysql_preview(DockerClient *docker, Store *store, const ResourceRef *ref,
                  const cJSON *spec_json, Plan *ret, Error *reterr) _warn_unused_result_;
