/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/observed.h"

/* What observe() saw for one docker_service: the plain input of plan(). */
#define SECRET_MISSING ((int64_t) -1)

/* What a dependency (spec.depends_on) is now, read from the state store. */
typedef struct ObservedDependency {
        bool exists;
        bool running; /* phase RUNNING */
        char phase[16];
        int port;  /* its first container_port, 0: none */
        bool http; /* type web: PREFIX_URL is http:// */
        /* A database (pg_single): the service joins its network and gets its credentials. */
        bool database;
        char network[128];
        char user[64];
        char dbname[64];
        char secret[64];        /* the password's secret */
        int64_t secret_version; /* SECRET_MISSING when absent */
} ObservedDependency;

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
} ServiceObserved;

void service_observed_release(ServiceObserved *o);
