/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store/secret-box.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/macro.h"

/* The secret store (schema/0003_secrets.sql, README "Secrets"): values sealed with a SecretBox
 * (AES-256-GCM, "project/name" as authenticated data), a version per secret that grows only when
 * the value really changes. Nothing here ever logs, audits or returns a value except
 * store_secret_reveal(), whose caller (the controller, at container create time) puts it into
 * the container and wipes it.
 *
 * Names are DNS labels as resource names (name_is_valid()), in a project that is one too.
 * Errors as store.h, with API reasons: -EINVAL INVALID_PARAMETER (name, project, empty value),
 * -E2BIG PAYLOAD_TOO_LARGE, -ENOENT SECRET_NOT_FOUND, -EBUSY SECRET_IN_USE, -EBADMSG (a stored
 * value that does not decrypt under this master key). */

#define SECRET_VALUE_MAX (64 * 1024) /* bytes of one value */

typedef enum SecretSetOutcome {
        SECRET_CREATED,
        SECRET_UPDATED,   /* the value changed: version + 1, users notified */
        SECRET_UNCHANGED, /* the same value again: same version, nothing notified */
        _SECRET_SET_OUTCOME_MAX,
        _SECRET_SET_OUTCOME_INVALID = -EINVAL,
} SecretSetOutcome;

/* "created", "updated", "unchanged". */
const char *secret_set_outcome_to_string(SecretSetOutcome o);

/* Creates or replaces project/name with value (1..SECRET_VALUE_MAX bytes). The version is bumped
 * only when the value differs from the stored one (compared after decrypting it; a stored value
 * that no longer decrypts counts as different). Writes an audit row "secret_set" {project, name,
 * version, outcome} with actor, never the value. On created/updated, NOTIFYs STORE_CHANNEL_SPEC
 * with the uuid of every resource of the project (not being deleted) whose spec names the
 * secret ({secret: NAME} anywhere: spec.secrets, a database's password, its backup keys), so the
 * controller re-reconciles them and they roll. One transaction (the caller's when one is open).
 * Returns the SecretSetOutcome (>= 0); ret_version may be NULL. */
int store_secret_set(Store *s, const SecretBox *box, const char *project, const char *name,
                     const void *value, size_t n, const char *actor, int64_t *ret_version,
                     Error *reterr) _warn_unused_result_;

/* JSON array of {project, name, version, created_at, updated_at} (RFC 3339 UTC), by name. Never
 * values. */
int store_secret_list(Store *s, const char *project, cJSON **ret,
                      Error *reterr) _warn_unused_result_;

/* Deletes project/name. -EBUSY SECRET_IN_USE, naming one such resource, while a stored resource
 * (not being deleted) names it in its spec ({secret: NAME} anywhere): a spec never points at a
 * missing secret because of a delete. -ENOENT when absent. Audited ("secret_delete"). */
int store_secret_delete(Store *s, const char *project, const char *name, const char *actor,
                        Error *reterr) _warn_unused_result_;

/* The current version; -ENOENT (SECRET_NOT_FOUND) when there is no such secret. */
int store_secret_get_version(Store *s, const char *project, const char *name, int64_t *ret,
                             Error *reterr) _warn_unused_result_;

/* The version of project/name, `missing` when there is no such secret, 0 when s is NULL (a
 * preview without a store). For reconcilers: a missing secret is a state, not an error. */
int store_secret_version_or(Store *s, const char *project, const char *name, int64_t missing,
                            int64_t *ret, Error *reterr) _warn_unused_result_;

/* Decrypts the current value into *ret_plain (an initialised Buf whose max is at least the
 * value's size, e.g. BUF_INIT(SECRET_VALUE_MAX); previous contents wiped) and its version into
 * *ret_version (may be NULL). Release the Buf with buf_release_secure(). -ENOENT when absent,
 * -EBADMSG when the stored value does not decrypt under box. */
int store_secret_reveal(Store *s, const SecretBox *box, const char *project, const char *name,
                        Buf *ret_plain, int64_t *ret_version, Error *reterr) _warn_unused_result_;
