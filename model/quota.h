/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

/* Per-project limits an admin sets; an apply that would exceed one is refused, storing nothing. */
typedef struct ProjectQuota {
        bool has_cpu, has_memory, has_replicas;
        double max_cpu;       /* cores, summed over every replica */
        int64_t max_memory;   /* bytes, summed over every replica */
        int64_t max_replicas; /* containers */
} ProjectQuota;

typedef struct QuotaUsage {
        double cpu;
        int64_t memory;
        int64_t replicas;
} QuotaUsage;

/* {max_cpu: 2, max_memory: "4Gi", max_replicas: 20}; a member left out or null means no limit.
 * Unknown members are refused, naming them. */
int quota_from_json(const cJSON *body, ProjectQuota *ret, Error *reterr) _warn_unused_result_;
cJSON *quota_to_json(const ProjectQuota *q);
bool quota_is_empty(const ProjectQuota *q);

/* Adds what one normalised docker_service spec holds (replicas × resources). Under a cpu or
 * memory limit, a service without resources is refused: it could take the whole host. */
int quota_add_service(const ProjectQuota *q, const char *name, const cJSON *spec, QuotaUsage *u,
                      Error *reterr) _warn_unused_result_;
/* -EDQUOT, reason QUOTA_EXCEEDED, naming the field and both numbers, when usage is over. */
int quota_check(const ProjectQuota *q, const char *project, const QuotaUsage *u,
                Error *reterr) _warn_unused_result_;
