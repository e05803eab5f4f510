/* SPDX-License-Identifier: MIT */
#pragma once

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/macro.h"

/* docker_service spec.deploy: {strategy: rolling|recreate, max_surge, max_unavailable (numbers
 * or "N%"), progress_deadline, auto_rollback, pre_deploy: {command}, post_deploy: {command}}.
 * Refuses what is wrong with a field path and a reason (model/validate-util.h) and adds the
 * normalised value to `out`, every default filled in. Emitted only when present: a spec written
 * without it keeps the stored form it always had. */
int validate_service_deploy(const cJSON *spec, cJSON *out, Error *e) _warn_unused_result_;
