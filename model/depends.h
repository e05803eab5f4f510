/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/container.h"
#include "model/service.h"
#include "util/error.h"

/* What a container gets from what its spec refers to in the store: the resources it depends on
 * (spec.depends_on) and the stored secrets (spec.secrets). Shared by every kind that runs a
 * container (docker_service, job): observe fills ObservedDependency (reconcilers/depends.h), the
 * pure builders below turn it into env, networks and secret references. */

/* A secret's version when the secret does not exist. */
#define SECRET_MISSING ((int64_t) -1)

/* What a dependency (spec.depends_on) is now, read from the state store. */
typedef struct ObservedDependency {
        bool exists;
        bool running; /* phase RUNNING */
        char phase[16];
        int port;  /* its first container_port, 0: none */
        bool http; /* type web: PREFIX_URL is http:// */
        /* A database (pg_single): the container joins its network and gets its credentials. */
        bool database;
        char network[128];
        char user[64];
        char dbname[64];
        char secret[64];        /* the password's secret */
        int64_t secret_version; /* SECRET_MISSING when absent */
} ObservedDependency;

/* Appends to c, per dependency that exists (obs parallel to deps; NULL: none observed):
 * PREFIX_HOST, PREFIX_PORT and PREFIX_URL of a docker_service; for a database its network,
 * PREFIX_HOST/_PORT/_USER/_DATABASE, and PREFIX_PASSWORD and PREFIX_URL as secret references
 * resolved at create time (the password is never in a plan or a spec). */
int depends_env_add(const ServiceDependency *deps, size_t n, const ObservedDependency *obs,
                    ContainerConfig *c) _warn_unused_result_;
/* Appends c->secrets for the spec's secret references at their observed versions (parallel to
 * secrets; NULL: version 0): delivered as env or as files by apply, never valued here. */
int depends_secrets_add(const ServiceSecret *secrets, size_t n, const int64_t *versions,
                        ContainerConfig *c) _warn_unused_result_;
