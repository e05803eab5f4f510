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
/* Label of the revision a replica runs (informative: the config hash decides). */
#define LABEL_REVISION "berth.revision"

/* The container berth wants at replica `index`, config-hash label included. obs (may be NULL)
 * gives the versions of its secrets and what its dependencies publish. */
int service_container_config(const ResourceRef *ref, const ServiceSpec *spec,
                             const ServiceObserved *obs, unsigned index, ContainerConfig *ret,
                             Error *reterr) _warn_unused_result_;

/* The revision the spec and obs make: the config hash of replica 0 (index-bound members, its
 * name and volumes, follow from the index alone, so any change of what runs changes it). */
int service_revision_hash(const ResourceRef *ref, const ServiceSpec *spec,
                          const ServiceObserved *obs, char ret[65],
                          Error *reterr) _warn_unused_result_;

/* A deploy hook's one-off container ("pre-deploy" or "post-deploy"): the new revision's image,
 * env, secrets and config files, `command` as its entrypoint, no ports, volumes, network alias
 * or restart policy, named <project>-<name>-<hook>-<revision>. */
int service_hook_config(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                        const char *hook, char *const *command, ContainerConfig *ret,
                        Error *reterr) _warn_unused_result_;

/* Where a replica of slot `index` starts while the slot's old container still runs: the slot's
 * stable name with the revision ("shop-web-app-0-r3"; "-next" when the revision is unknown). */
int service_surge_name(char *buf, size_t n, const ResourceRef *ref, unsigned index,
                       int64_t revision) _warn_unused_result_;

/* What one pass decided about the deploy of obs->deploy.revision, for reconcile() to record. */
typedef struct DeployOutcome {
        DeployState state;     /* IN_PROGRESS while under way, DONE, FAILED */
        int ready;             /* replicas of the revision ready: progress when it grows */
        bool runs_pre_deploy;  /* the plan runs the pre_deploy hook (alone): done once it exits 0 */
        bool runs_post_deploy; /* the plan ends with the post_deploy hook: DONE once it exits 0 */
        bool rollback; /* FAILED with auto_rollback: restore obs->deploy.from_revision's spec */
        char message[REVISION_MESSAGE_MAX]; /* FAILED: why */
} DeployOutcome;

/* Decides the actions and the status for one pass. `now` is realtime usec. ret_deploy (may be
 * NULL): the deploy's outcome. */
int service_plan(const ResourceRef *ref, const ServiceSpec *spec, const ServiceObserved *obs,
                 usec_t now, Plan *ret, DeployOutcome *ret_deploy,
                 Error *reterr) _warn_unused_result_;
