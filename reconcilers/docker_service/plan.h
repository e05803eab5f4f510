/* SPDX-License-Identifier: MIT */
#pragma once

#include "model/container.h"
#include "model/plan.h"
#include "model/resource.h"
#include "model/service.h"
#include "reconcilers/docker_service/service-t.h"
#include "util/error.h"
#include "util/time-util.h"

/* The pure half of the docker_service reconciler (in berth-core: no I/O). */

#define SERVICE_ROLE "app"

/* The container berth wants at replica `index`, config-hash label included. obs (may be NULL)
 * gives the versions of its secrets and what its dependencies publish. */
int service_container_config(const ResourceRef *ref, const ServiceSpec *spec,
                             const ServiceObserved *obs, unsigned index, ContainerConfig *ret,
                             Error *reterr) _warn_unused_result_;

/* Decides the actions and the status for one pass. `now` is realtime usec. */
int service_plan(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                 usec_t now, Plan *ret, Error *reterr) _warn_unused_result_;
