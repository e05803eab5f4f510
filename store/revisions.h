/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/revision.h"
#include "store/store.h"
#include "util/error.h"

/* Revisions of docker_service resources and their deploys (schema/0008_revisions.sql). The
 * controller adds one whenever the containers' config hash changes and records how its deploy
 * goes; the API lists them and rolls back to one. Writes of the controller are fenced by the
 * lease epoch (-ESTALE), as status writes are. */

typedef struct StoredRevision {
        RevisionDeploy deploy; /* its number and its deploy */
        char config_hash[65];
        int64_t generation;     /* the spec generation that made it */
        cJSON *spec;            /* the spec as applied then */
        cJSON *secret_versions; /* {secret: version} it read */
        char *image;
        char *actor;
        int64_t operation; /* the operations row of its deploy; 0: none */
} StoredRevision;

void stored_revision_release(StoredRevision *r);

/* The newest revision of a resource; -ENOENT when it has none yet. */
int store_revision_latest(Store *s, const char *uuid, StoredRevision *ret,
                          Error *reterr) _warn_unused_result_;
/* Revision `revision`; -ENOENT REVISION_NOT_FOUND. */
int store_revision_get(Store *s, const char *uuid, int64_t revision, StoredRevision *ret,
                       Error *reterr) _warn_unused_result_;
/* The newest revision before `before` with config hash `hash` (0: none): a rollback's twin. */
int store_revision_find_hash(Store *s, const char *uuid, const char *hash, int64_t before,
                             int64_t *ret, Error *reterr) _warn_unused_result_;

/* What a new revision is made of. */
typedef struct RevisionNew {
        const char *config_hash;
        int64_t generation;
        const cJSON *spec;
        const cJSON *secret_versions;
        const char *image;
        const char *diff; /* revision_diff() against the newest one */
} RevisionNew;

/* Adds the next revision (newest + 1) with its deploy IN_PROGRESS from now, from_revision the
 * newest one whose deploy is DONE, the actor the resource's applied_by (who last changed its
 * spec; "controller" when only derived inputs changed, as a secret's version). A deploy still in
 * progress ends SUPERSEDED. An operation "deploy" lists it: "revision N: image A → B", the diff,
 * and at the end its result. ret: the new deploy. */
int store_revision_add(Store *s, const char *uuid, int64_t epoch, const RevisionNew *n,
                       bool spec_changed, RevisionDeploy *ret, Error *reterr) _warn_unused_result_;

/* A pass's news about a deploy in progress. */
typedef struct RevisionUpdate {
        DeployState state; /* IN_PROGRESS, DONE or FAILED (the last two end its operation) */
        int ready;         /* replicas of it ready: a new high is progress */
        bool pre_deploy_done, post_deploy_done;
        bool progress; /* progress besides ready (a hook finished) */
        const char *message;
        const char *output; /* what a hook printed, appended to the operation's log; may be NULL */
} RevisionUpdate;

int store_revision_update(Store *s, const char *uuid, int64_t epoch, int64_t revision,
                          const RevisionUpdate *u, Error *reterr) _warn_unused_result_;

/* The newest `limit` revisions, oldest first: {revision, created_at, generation, actor, image,
 * config_hash, diff, spec, secret_versions, current, deploy: {state, from_revision, old_image,
 * new_image, started_at, finished_at, message, operation}}. */
int store_revisions_list(Store *s, const char *uuid, int limit, cJSON **ret,
                         Error *reterr) _warn_unused_result_;

/* Applies revision `revision` of resource `row` again (0: the one that served before the newest
 * one, its from_revision): its spec with the current replicas, paused and deploy
 * (revision_rollback_spec), validated, stored as a new generation by `actor` and audited as
 * "rollback", all in one transaction. -ENOENT REVISION_NOT_FOUND, -EALREADY NO_PREVIOUS_REVISION.
 * ret_revision: the revision rolled back to; ret_outcome, ret_generation as store_resource_apply.
 * Any of the three may be NULL. */
int store_revision_rollback(Store *s, const StoredResource *row, int64_t revision,
                            const char *actor, int64_t *ret_revision, ApplyOutcome *ret_outcome,
                            int64_t *ret_generation, Error *reterr) _warn_unused_result_;
