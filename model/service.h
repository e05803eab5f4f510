/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/strv.h"
#include "util/time-util.h"

/* docker_service, typed. Built from a normalised spec (Document.spec) by service_spec_from_json;
 * validation (model/validate-service.c) has already refused anything out of range. */
typedef enum ServiceType { SERVICE_WEB, SERVICE_WORKER } ServiceType;

typedef enum HealthType { HEALTH_NONE, HEALTH_HTTP, HEALTH_TCP, HEALTH_COMMAND } HealthType;

typedef struct ServicePort {
        int container_port;
        int host_port;  /* 0: not published */
        char *bind;     /* host address, default 127.0.0.1 */
        char *protocol; /* tcp | udp */
} ServicePort;

typedef struct ServiceHealthcheck {
        HealthType type;
        char *path; /* http */
        int port;   /* http, tcp */
        Strv command;
        usec_t interval, timeout;
        int healthy_threshold, unhealthy_threshold;
} ServiceHealthcheck;

typedef enum VolumeType { VOLUME_PERSISTENT, VOLUME_EPHEMERAL } VolumeType;

typedef struct ServiceVolume {
        char *name;
        char *mount_path;
        VolumeType type;
        int64_t size; /* bytes; tmpfs size for ephemeral, recorded for persistent */
        bool retain;  /* persistent: kept after the resource is deleted */
} ServiceVolume;

typedef struct ServiceFile {
        char *path;
        char *content;
        unsigned mode;
} ServiceFile;

/* A reference to a stored secret: delivered as env KEY=value or as a file at path (0400). */
typedef struct ServiceSecret {
        char *key;
        char *secret;
        bool as_file;
        char *path; /* as_file only */
} ServiceSecret;

/* Another resource of the same project this service waits for and is wired to. */
typedef struct ServiceDependency {
        char *kind;
        char *name;
        char *prefix; /* PREFIX_HOST, PREFIX_PORT, PREFIX_URL */
} ServiceDependency;

/* spec.deploy: how a new revision replaces the running one (reconcilers/docker_service/plan.c). */
typedef enum DeployStrategy { DEPLOY_ROLLING, DEPLOY_RECREATE } DeployStrategy;

/* max_surge / max_unavailable: a number of replicas, or a percentage of spec.replicas. */
typedef struct DeployAmount {
        int value;
        bool percent;
} DeployAmount;

typedef struct ServiceDeploy {
        DeployStrategy strategy;
        DeployAmount max_surge;       /* default 1 */
        DeployAmount max_unavailable; /* default 0 */
        usec_t progress_deadline;     /* default 10 min */
        bool auto_rollback;
        Strv pre_deploy;  /* hook command run once before the first new replica; NULL: none */
        Strv post_deploy; /* hook command run once after the last one is ready; NULL: none */
} ServiceDeploy;

#define DEPLOY_PROGRESS_DEADLINE_DEFAULT (10 * 60 * USEC_PER_SEC)

/* The surge and unavailability a rolling deploy of `replicas` may use, as Kubernetes resolves
 * them: percentages of replicas, surge rounded up, unavailable rounded down; both 0 gives
 * unavailable 1 (a deploy must be able to move). */
void service_deploy_resolve(const ServiceDeploy *d, int replicas, int *ret_surge,
                            int *ret_unavailable);

typedef struct ServiceSpec {
        char *image;
        ServiceType type;
        Strv command; /* entrypoint override, NULL: image default */
        Strv args;
        Strv env; /* "K=V", sorted by key */
        ServicePort *ports;
        size_t n_ports;
        double cpu;     /* cores, 0: unlimited */
        int64_t memory; /* bytes, 0: unlimited */
        int replicas;
        char *restart_policy; /* no | on-failure | always | unless-stopped */
        int restart_max_retries;
        usec_t restart_delay;
        ServiceHealthcheck healthcheck;
        Strv networks; /* extra networks, by name, beside the project network */
        bool paused;
        ServiceVolume *volumes;
        size_t n_volumes;
        ServiceFile *files;
        size_t n_files;
        ServiceSecret *secrets;
        size_t n_secrets;
        ServiceDependency *deps;
        size_t n_deps;
        ServiceDeploy deploy;
} ServiceSpec;

int service_spec_from_json(const cJSON *spec, ServiceSpec *ret, Error *reterr) _warn_unused_result_;
void service_spec_release(ServiceSpec *s);
/* Only the container part of a spec (image, command, args, env, resources, networks, secrets,
 * depends_on; image may be absent): what the other kinds that run a container (job) share with
 * docker_service. The other members keep their zero values. */
int service_container_from_json(const cJSON *spec, ServiceSpec *ret,
                                Error *reterr) _warn_unused_result_;

/* Validates a docker_service spec as a user wrote it and returns it normalised: every default
 * filled in, keys in a fixed order, plan expanded into resources (plan kept), durations and sizes
 * in canonical form. Normalising a normalised spec returns identical JSON. Errors name the field
 * ("spec.ports[0].host_port") and carry a reason (UNKNOWN_FIELD, INVALID_TYPE, OUT_OF_RANGE...). */
int service_spec_validate(const cJSON *spec, cJSON **ret, Error *reterr) _warn_unused_result_;
