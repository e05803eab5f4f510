/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/macro.h"
#include "util/time-util.h"

/* docker_service revisions (pure): every change of what runs is a revision, kept with its spec,
 * the versions of the secrets it read, and a human diff against the revision before it. */

/* Members of a docker_service spec that are not part of a revision: how many replicas run,
 * whether they run, and how a new revision replaces the old one. */
bool revision_spec_key_ignored(const char *key);

/* Appends one line per difference between two revisions, in spec order:
 *   image: berth/app:1 → berth/app:2
 *   env.FOO: added (bar)        env.OLD: removed        env.X: 1 → 2
 *   command: [sleep, 10] → [sleep, 20]
 *   secret db-pass: version 1 → 2
 * Long values are shortened, newlines shown as \n. The secrets objects map secret names to the
 * version each revision read ({"db-pass": 2}); either may be NULL. Nothing is appended when the
 * two are the same. old_spec NULL: the first revision, every member is "added". */
int revision_diff(const cJSON *old_spec, const cJSON *old_secrets, const cJSON *new_spec,
                  const cJSON *new_secrets, Buf *out) _warn_unused_result_;

/* The spec a rollback to `target` applies: target's spec (what ran then) with the current spec's
 * replicas, paused and deploy, since scale and the way to deploy are not part of a revision (as a
 * Kubernetes rollback restores the pod template only). A new object, to be validated again. */
int revision_rollback_spec(const cJSON *current, const cJSON *target,
                           cJSON **ret) _warn_unused_result_;

/* Where the deploy of a revision is. IN_PROGRESS until every replica runs it and is ready (and
 * post_deploy succeeded): DONE; FAILED when its progress deadline passed or a hook failed;
 * SUPERSEDED when a newer revision came before it finished. */
typedef enum DeployState {
        DEPLOY_NONE, /* nothing recorded: a preview before the first apply, unit tests */
        DEPLOY_IN_PROGRESS,
        DEPLOY_DONE,
        DEPLOY_FAILED,
        DEPLOY_SUPERSEDED,
        _DEPLOY_STATE_MAX,
        _DEPLOY_STATE_INVALID = -EINVAL,
} DeployState;

const char *deploy_state_to_string(DeployState s);
DeployState deploy_state_from_string(const char *s);

#define REVISION_MESSAGE_MAX 256

/* The deploy of one revision as the state store keeps it (store/revisions.h): what the planner
 * needs to resume it after a restart, decided from this and what Docker shows. */
typedef struct RevisionDeploy {
        int64_t revision;      /* 0: unknown (no store) */
        int64_t from_revision; /* the revision that served when it began; 0: none (the first) */
        DeployState state;
        usec_t started_at;  /* realtime */
        usec_t progress_at; /* the last progress: start, a hook done, one more replica ready */
        int ready;          /* replicas of it ready at progress_at */
        bool pre_deploy_done, post_deploy_done;
        char message[REVISION_MESSAGE_MAX]; /* FAILED: why */
} RevisionDeploy;
