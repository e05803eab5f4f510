/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model/resource.h"
#include "util/strv.h"
#include "util/time-util.h"

/* What berth asks Docker to create: a plain description, built by pure code (plans) and turned
 * into an Engine API body by drivers/docker. */
typedef struct PortBinding {
        int container_port;
        int host_port;  /* 0: not published */
        char *host_ip;  /* NULL: 127.0.0.1 */
        char *protocol; /* NULL: tcp */
} PortBinding;

typedef struct MountSpec {
        char *type;   /* volume | tmpfs */
        char *source; /* volume name */
        char *target;
        bool read_only;
        int64_t tmpfs_size;
} MountSpec;

/* A file written into the container between create and start (Docker archive upload). */
typedef struct ContainerFile {
        char *path; /* absolute */
        char *content;
        size_t size;
        unsigned mode;
        /* Rewritten in place while the container runs (a server's config that it reloads):
         * not part of the config hash, so changing it does not replace the container. */
        bool live;
} ContainerFile;

/* A secret to resolve at create time: only its name and version are in the plan (and in the
 * config hash); the value is read from the secret store by apply, never kept in a plan. */
typedef struct ContainerSecret {
        char *secret;
        int64_t version;
        char *env;  /* deliver as env <env>=value, or */
        char *path; /* as a file at path, mode 0400 */
        /* env only: the value percent-encoded between these two, for a URL that carries it
         * ("postgresql://app:" value "@orders:5432/orders"); NULL: the value alone. */
        char *url_before, *url_after;
} ContainerSecret;

typedef struct ContainerConfig {
        char *name;
        char *image;
        char *user;
        char *hostname;
        char *working_dir;
        Strv entrypoint; /* NULL: image default */
        Strv cmd;
        Strv env;            /* "K=V" */
        Strv labels;         /* "k=v" */
        char *network;       /* attach at create */
        Strv aliases;        /* DNS aliases on that network (and on extra_networks) */
        Strv extra_networks; /* joined after create, before start */
        PortBinding *ports;
        size_t n_ports;
        MountSpec *mounts;
        size_t n_mounts;
        int64_t nano_cpus; /* 0: unlimited */
        int64_t memory;    /* bytes, 0: unlimited */
        /* The two above are changed in place (docker update), so not part of the hash. */
        bool resources_live;
        char *restart_policy; /* no | on-failure | always | unless-stopped */
        int restart_max_retries;
        bool init;
        int stop_timeout;  /* seconds, -1: Docker default */
        char *stop_signal; /* NULL: Docker default (SIGTERM) */
        /* Docker healthcheck; empty test: none (berth probes http/tcp itself). */
        Strv health_test;
        usec_t health_interval, health_timeout, health_start_period;
        int health_retries;
        ContainerFile *files;
        size_t n_files;
        ContainerSecret *secrets;
        size_t n_secrets;
} ContainerConfig;

void container_config_release(ContainerConfig *c);

/* sha256 hex of everything in c that defines what runs (labels excluded), for
 * LABEL_CONFIG_HASH: a container whose label differs from the spec's hash is outdated. */
int container_config_hash(const ContainerConfig *c, char ret[65]);

/* The labels of DESIGN.md "Docker objects" (managed, installation, resource, kind, project, name,
 * role, index, config-hash), appended to c->labels; call after container_config_hash(). */
int container_add_labels(ContainerConfig *c, const ResourceRef *ref, ResourceKind kind,
                         const char *role, unsigned index, const char *hash) _warn_unused_result_;

/* Builders shared by the reconcilers' pure halves. A file's content is copied (n bytes, NUL
 * added); files_free wipes contents (they may hold rendered secrets' neighbours). */
int container_file_set(ContainerFile *f, const char *path, const char *content, size_t n,
                       unsigned mode, bool live) _warn_unused_result_;
void container_files_free(ContainerFile *f, size_t n);
int container_config_add_file(ContainerConfig *c, const char *path, const char *content,
                              unsigned mode, bool live) _warn_unused_result_;
/* A secret delivered as a 0400 file at path (ContainerSecret.path). */
int container_config_add_secret_file(ContainerConfig *c, const char *secret, int64_t version,
                                     const char *path) _warn_unused_result_;
/* A secret delivered as env `env`=value at create time. */
int container_config_add_secret_env(ContainerConfig *c, const char *secret, int64_t version,
                                    const char *env) _warn_unused_result_;
int container_config_add_volume(ContainerConfig *c, const char *volume, const char *target,
                                bool read_only) _warn_unused_result_;
