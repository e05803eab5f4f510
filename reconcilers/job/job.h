/* SPDX-License-Identifier: MIT */
#pragma once

#include "reconcilers/job/plan.h"

/* The side-effect half of the job reconciler (outside berth-core). */
typedef struct DockerClient DockerClient;
typedef struct ReconcileCtx ReconcileCtx;
typedef struct ReconcileResult ReconcileResult;
typedef struct StoredResource StoredResource;
typedef struct Store Store;

/* Lists the job's containers (and inspects those of open runs), checks the project network,
 * reads its runs, the docker_service of from_service, its dependencies and the versions of its
 * secrets from the store (may be NULL: a preview of a new job). ret_spec: the effective spec
 * (job_spec_resolve). */
int job_observe(DockerClient *docker, Store *store, const ResourceRef *ref, const JobSpec *spec,
                JobSpec *ret_spec, JobObserved *ret, Error *reterr) _warn_unused_result_;
int job_reconcile(ReconcileCtx *ctx, const StoredResource *r, ReconcileResult *ret,
                  Error *reterr) _warn_unused_result_;
int job_preview(DockerClient *docker, Store *store, const ResourceRef *ref, const cJSON *spec_json,
                Plan *ret, Error *reterr) _warn_unused_result_;
