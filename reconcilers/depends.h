/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "model/depends.h"
#include "model/service.h"
#include "util/error.h"

/* Observation of what a container's spec refers to in the state store, for every kind that runs
 * a container (docker_service, job); model/depends.h turns it into env. */
typedef struct Store Store;

/* Each dependency as the store has it (parallel to deps, *ret NULL when n is 0): whether it
 * exists and is RUNNING, the port its first container listens on, and for a pg_single its
 * network, user, database and the password secret's version. */
int depends_observe(Store *store, const char *project, const ServiceDependency *deps, size_t n,
                    ObservedDependency **ret, Error *reterr) _warn_unused_result_;
/* The version of each referenced secret in the secret store (parallel to secrets; *ret NULL when
 * n is 0), SECRET_MISSING for one that does not exist. */
int depends_secret_versions(Store *store, const char *project, const ServiceSecret *secrets,
                            size_t n, int64_t **ret, Error *reterr) _warn_unused_result_;
