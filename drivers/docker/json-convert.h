/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/container.h"
#include "model/observed.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* Pure conversions between berth's types and Engine API JSON (no I/O, no curl), so unit tests
 * and fuzzers can link them alone. */

DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete);
static inline void cjson_strfreep(char **p) {
        if (*p)
                cJSON_free(*p);
}
#define _cleanup_cjson_str_ _cleanup_(cjson_strfreep)

/* POST /containers/create body for cfg (name goes in the query, not here). -EINVAL when cfg
 * has no image or a "k=v" list holds an entry without '='; -ENOMEM. */
int docker_json_create_body(const ContainerConfig *cfg, cJSON **ret,
                            Error *reterr) _warn_unused_result_;

/* {"label": [...], "type": [type]} with the non-NULL parts, for ?filters=. */
int docker_json_filters(char *const *labels, const char *type, cJSON **ret) _warn_unused_result_;

/* {"k": "v", ...} from "k=v" strings ("k" alone: empty value). */
int docker_json_labels_object(char *const *labels, cJSON **ret) _warn_unused_result_;
/* "k=v" strings from a JSON object of strings (NULL or null: empty list, never NULL). */
int docker_json_labels_to_strv(const cJSON *obj, char ***ret) _warn_unused_result_;

/* One element of GET /containers/json. */
int docker_json_observed_from_list(const cJSON *item, ObservedContainer *ret,
                                   Error *reterr) _warn_unused_result_;
/* GET /containers/{id}/json. */
int docker_json_observed_from_inspect(const cJSON *doc, ObservedContainer *ret,
                                      Error *reterr) _warn_unused_result_;

/* "2024-01-02T03:04:05.123456789Z" or with "+hh:mm" offset → realtime usec. Docker's zero time
 * ("0001-01-01T00:00:00Z") and anything before 1970 give 0. -EINVAL when unparsable. */
int docker_parse_rfc3339(const char *s, usec_t *ret) _warn_unused_result_;

/* "1.41" → 1041; -EINVAL when not "major.minor". */
int docker_api_version_parse(const char *s) _warn_unused_result_;

/* The health word of a list entry's Status text: "Up 3 minutes (healthy)" → "healthy";
 * "(health: starting)" → "starting"; NULL when there is none. */
const char *docker_health_from_status(const char *status);

/* One line of GET /events. Pointers borrow from *ret_doc, which the caller deletes. time_nano is
 * read from the text (exact; a double would lose nanoseconds). resource may be NULL. */
typedef struct DockerEventInfo {
        const char *type;   /* "container" */
        const char *action; /* "die" */
        const char *id;
        const char *resource;
        int64_t time_nano;
} DockerEventInfo;
int docker_json_event_parse(const char *line, size_t len, cJSON **ret_doc,
                            DockerEventInfo *ret) _warn_unused_result_;

/* A progress line of pull or import: ret_error is the "error" (or errorDetail.message) when the
 * line reports one, else NULL. -EBADMSG when the line is not a JSON object. */
int docker_json_progress_error(const char *line, size_t len, cJSON **ret_doc,
                               const char **ret_error) _warn_unused_result_;
