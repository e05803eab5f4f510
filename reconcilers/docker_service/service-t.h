/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/depends.h"
#include "model/observed.h"
#include "model/revision.h"

/* What observe() saw for one docker_service: the plain input of plan(). */
typedef struct ServiceObserved {
        bool network_exists;
        ObservedContainer *containers; /* every container labelled with the resource's uuid */
        size_t n_containers;
        ProbeStatus *probes; /* berth's own http/tcp probe per container, parallel array */
        char **volumes;      /* names of the volumes labelled with the resource's uuid */
        /* Version of each spec secret in the secret store (parallel to ServiceSpec.secrets),
         * SECRET_MISSING when it does not exist. NULL: the service uses no secret. */
        int64_t *secret_versions;
        /* Parallel to ServiceSpec.deps; NULL when the service depends on nothing. */
        ObservedDependency *deps;
        /* Networks of the project's databases whose spec.allow names this service. */
        char **allowed_networks;
        /* The revision the spec makes now and its deploy, from the state store (revisions
         * table); revision 0 and DEPLOY_NONE when unknown. */
        RevisionDeploy deploy;
} ServiceObserved;

void service_observed_release(ServiceObserved *o);
