/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/macro.h"

/* The kinds of the contract (DESIGN.md part 1). Only docker_service has a reconciler yet;
 * the others are accepted by name and refused at validation with KIND_NOT_SUPPORTED. */
typedef enum ResourceKind {
        KIND_PG_SINGLE,
        KIND_PG_CLUSTER,
        KIND_MYSQL_HA,
        KIND_DOCKER_SERVICE,
        KIND_PG_TENANT,
        KIND_JOB,
        _KIND_MAX,
        _KIND_INVALID = -22,
} ResourceKind;

const char *kind_to_string(ResourceKind k);
ResourceKind kind_from_string(const char *s);

#define NAME_MAX_LEN 40 /* DNS label as the contract states: [a-z0-9]([-a-z0-9]{0,38}[a-z0-9])? */

/* One validated document: the envelope, plus the spec normalised (defaults filled in, keys in a
 * fixed order) so that two applies of the same intent produce byte-identical JSON. */
typedef struct Document {
        ResourceKind kind;
        char name[NAME_MAX_LEN + 1];
        char project[NAME_MAX_LEN + 1];
        char environment[64];
        cJSON *labels; /* object of string → string; never NULL after parsing */
        cJSON *spec;   /* normalised spec; never NULL after parsing */
} Document;

void document_release(Document *d);
void documents_free(Document *docs, size_t n);

/* True when s is a DNS label as the contract defines names. */
bool name_is_valid(const char *s);

/* Deterministic Docker object names (DESIGN.md "Docker objects"). Return -E2BIG if too long. */
int name_container(char *buf, size_t n, const char *project, const char *name, const char *role,
                   unsigned index);
int name_volume(char *buf, size_t n, const char *project, const char *name, const char *vol,
                unsigned index);
int name_project_network(char *buf, size_t n, const char *project);
/* A database's own network, "berth-<project>-<name>": its nodes and the services it allows. */
int name_resource_network(char *buf, size_t n, const char *project, const char *name);

/* Label keys berth puts on every Docker object it creates. */
#define LABEL_MANAGED      "berth.managed"
#define LABEL_INSTALLATION "berth.installation"
#define LABEL_RESOURCE     "berth.resource"
#define LABEL_KIND         "berth.kind"
#define LABEL_PROJECT      "berth.project"
#define LABEL_NAME         "berth.name"
#define LABEL_ROLE         "berth.role"
#define LABEL_INDEX        "berth.index"
#define LABEL_CONFIG_HASH  "berth.config-hash"

/* Identity of a stored resource as reconcilers see it. */
typedef struct ResourceRef {
        char uuid[37];
        ResourceKind kind;
        char project[NAME_MAX_LEN + 1];
        char name[NAME_MAX_LEN + 1];
        int64_t generation;
        bool deleting;
        char installation[37];  /* the state store's id (LABEL_INSTALLATION); may be empty */
        uint64_t restart_after; /* realtime usec of the last restart action; 0: none */
        bool purge;             /* deleting, and its kept data goes now (the purge action) */
} ResourceRef;
