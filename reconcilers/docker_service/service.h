/* SPDX-License-Identifier: MIT */
#pragma once

#include "reconcilers/docker_service/plan.h"

/* Side effects, outside berth-core. */
typedef struct DockerClient DockerClient;
typedef struct ReconcileCtx ReconcileCtx;
typedef struct ReconcileResult ReconcileResult;
typedef struct StoredResource StoredResource;

/* Lists the resource's containers (one Docker call), checks its network, probes http/tcp. */
typedef struct ProbeMemory ProbeMemory;
typedef struct Store Store;
/* probes: the controller's memory of earlier probes (NULL: probe everything now). store: read
 * for the versions of referenced secrets. */
int service_observe(DockerClient *docker, Store *store, ProbeMemory *probes, const ResourceRef *ref,
                    const ServiceSpec *spec, ServiceObserved *ret,
                    Error *reterr) _warn_unused_result_;
int service_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                      Error *reterr) _warn_unused_result_;
int service_preview(DockerClient *docker, Store *store, const ResourceRef *ref,
                    const cJSON *spec_json, Plan *ret, Error *reterr) _warn_unused_result_;
