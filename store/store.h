/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/resource.h"
#include "model/status.h"
#include "util/error.h"
#include "util/time-util.h"

/* The state store: one PostgreSQL connection (libpq) per Store. Not thread-safe: each API
 * connection handler and each controller worker owns its own Store. Driver-level errors:
 * connection lost → -ECONNRESET (transient), unique violation → -EEXIST, no row → -ENOENT,
 * fencing (stale lease epoch) → -ESTALE. The server's text goes into reterr->msg. */
typedef struct Store Store;

/* Channel NOTIFY'd with the resource uuid whenever a spec row changes (insert, spec update,
 * delete request), and by the controller on status change (channel STORE_CHANNEL_STATUS). */
#define STORE_CHANNEL_SPEC   "berth_spec"
#define STORE_CHANNEL_STATUS "berth_status"

int store_open(const char *conninfo, Store **ret, Error *reterr) _warn_unused_result_;
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);
/* Checks the connection (SELECT 1), reconnecting once if it was lost. */
int store_ping(Store *s, Error *reterr) _warn_unused_result_;

/* Applies schema/NNNN_*.sql not yet recorded in schema_migrations, all in one transaction under
 * pg_advisory_xact_lock. Fails with -EPROTO when the store has a migration this binary lacks. */
int store_migrate(Store *s, Error *reterr) _warn_unused_result_;

int store_begin(Store *s, Error *reterr) _warn_unused_result_;
int store_commit(Store *s, Error *reterr) _warn_unused_result_;
/* Never fails in a way the caller can act on; safe to call when no transaction is open. */
void store_rollback(Store *s);

typedef enum ApplyOutcome { APPLY_CREATED, APPLY_CONFIGURED, APPLY_UNCHANGED } ApplyOutcome;
const char *apply_outcome_to_string(ApplyOutcome o);

/* A resource row. Strings and JSON are owned by the struct. */
typedef struct StoredResource {
        ResourceRef ref; /* uuid, kind, project, name, generation, deleting */
        char *environment;
        cJSON *labels;
        cJSON *spec;
        cJSON *status; /* NULL until the controller wrote one */
        Phase phase;   /* PHASE_PENDING until the controller wrote one */
        int64_t observed_generation;
        usec_t created_at, updated_at;
} StoredResource;

void stored_resource_release(StoredResource *r);
void stored_resources_free(StoredResource *r, size_t n);

/* Rows as store_resource_list() returns them, for _cleanup_. */
typedef struct StoredResourceList {
        StoredResource *rows;
        size_t n;
} StoredResourceList;
void stored_resource_list_release(StoredResourceList *l);

/* Upserts d by (kind, project, name). The generation is bumped only when the canonical spec,
 * labels or environment differ. Sends NOTIFY on created/configured. Writes an audit row
 * (actor, action "apply", outcome). Must be called inside store_begin/commit.
 * ret_uuid (37 bytes) and ret_generation may be NULL. */
int store_resource_apply(Store *s, const Document *d, const char *actor, ApplyOutcome *ret,
                         char *ret_uuid, int64_t *ret_generation,
                         Error *reterr) _warn_unused_result_;
/* Read-only twin for dry runs: what store_resource_apply would answer, storing nothing. */
int store_resource_compare(Store *s, const Document *d, ApplyOutcome *ret,
                           Error *reterr) _warn_unused_result_;

int store_resource_get(Store *s, ResourceKind kind, const char *project, const char *name,
                       StoredResource *ret, Error *reterr) _warn_unused_result_;
int store_resource_get_by_uuid(Store *s, const char *uuid, StoredResource *ret,
                               Error *reterr) _warn_unused_result_;
/* kind < 0 and/or project NULL: no filter. Ordered by project, kind, name. */
int store_resource_list(Store *s, const char *project, ResourceKind kind, StoredResource **ret,
                        size_t *ret_n, Error *reterr) _warn_unused_result_;
/* What the controller's relist needs to tell a settled resource from one to look at. */
typedef struct ResourceBrief {
        char uuid[37];
        Phase phase;
        int64_t generation, observed_generation;
        bool deleting;
} ResourceBrief;
int store_resource_list_brief(Store *s, ResourceBrief **ret, size_t *ret_n,
                              Error *reterr) _warn_unused_result_;
/* The restart action: replicas created before now are replaced one at a time. NOTIFYs, adds an
 * event and an audit row. -ENOENT when absent or being deleted. */
int store_resource_request_restart(Store *s, ResourceKind kind, const char *project,
                                   const char *name, const char *actor,
                                   Error *reterr) _warn_unused_result_;
/* Only uuids. */
int store_resource_list_uuids(Store *s, char ***ret, Error *reterr) _warn_unused_result_;
/* Marks a resource for deletion (phase DELETING, NOTIFY); the controller removes the row once
 * every Docker object is gone. Audited. -ENOENT when absent. */
int store_resource_request_delete(Store *s, ResourceKind kind, const char *project,
                                  const char *name, const char *actor,
                                  Error *reterr) _warn_unused_result_;
/* A soft-deleted resource (pg_single in phase DELETED) back: deleting cleared, generation bumped
 * so the controller converges it again on the data it kept. Event, NOTIFY and audit "undelete".
 * -ENOENT RESOURCE_NOT_FOUND; -EALREADY RESOURCE_NOT_DELETED when it is not deleted or already
 * being purged. */
int store_resource_undelete(Store *s, ResourceKind kind, const char *project, const char *name,
                            const char *actor, Error *reterr) _warn_unused_result_;
/* Deletes (when not yet) and asks that the data a soft delete keeps go now. Audited "purge". */
int store_resource_request_purge(Store *s, ResourceKind kind, const char *project, const char *name,
                                 const char *actor, Error *reterr) _warn_unused_result_;

/* Removes the row and its events/operations (controller, after finalisation). */
int store_resource_remove(Store *s, const char *uuid, int64_t epoch,
                          Error *reterr) _warn_unused_result_;

/* Writes status (phase, observed_generation, message, status JSON) if `epoch` is still the
 * current leader epoch (fencing); -ESTALE otherwise. Adds an event "PhaseChanged" when the
 * phase differs from the stored one, and NOTIFYs STORE_CHANNEL_STATUS. */
int store_status_write(Store *s, const char *uuid, int64_t epoch, const Status *st,
                       const cJSON *status_json, Error *reterr) _warn_unused_result_;

/* History. type: Normal | Warning. */
int store_event_add(Store *s, const char *uuid, const char *type, const char *reason,
                    const char *message, Error *reterr) _warn_unused_result_;
/* JSON array of {id, time, type, reason, message, resource:{kind,project,name}}, newest last;
 * uuid NULL: all resources. after_id: only events with a larger id (SSE resume). */
int store_events_list(Store *s, const char *uuid, int64_t after_id, int limit, cJSON **ret,
                      Error *reterr) _warn_unused_result_;

/* Operations: kind "deploy", "scale", "delete", ...; state IN_PROGRESS → DONE | FAILED. */
int store_operation_start(Store *s, const char *uuid, const char *kind, const char *actor,
                          int64_t *ret_id, Error *reterr) _warn_unused_result_;
int store_operation_finish(Store *s, int64_t id, bool ok, const char *log,
                           Error *reterr) _warn_unused_result_;
int store_operations_list(Store *s, const char *uuid, int limit, cJSON **ret,
                          Error *reterr) _warn_unused_result_;
/* A new leader's first act: operations left IN_PROGRESS by a controller that stopped (those a
 * RUNNING queued request will resume excepted) end FAILED, saying so. ret_n may be NULL. */
int store_operations_interrupted(Store *s, int *ret_n, Error *reterr) _warn_unused_result_;

int store_audit_add(Store *s, const char *actor, const char *action, const char *uuid,
                    const char *detail, Error *reterr) _warn_unused_result_;

/* LISTEN on channel. Then store_notify_wait blocks up to timeout for one notification and
 * returns 1 with its payload (caller frees), 0 on timeout. The Store must be dedicated. */
int store_listen(Store *s, const char *channel, Error *reterr) _warn_unused_result_;
int store_notify_wait(Store *s, usec_t timeout, char **ret_channel, char **ret_payload,
                      Error *reterr) _warn_unused_result_;

/* Leader lease on a dedicated session: pg_try_advisory_lock on a fixed key; when taken, the
 * lease row's epoch is incremented and returned (fencing token for status writes). Returns 1
 * when this session leads, 0 when another does. Session loss releases the lock. */
int store_lease_acquire(Store *s, const char *holder, int64_t *ret_epoch,
                        Error *reterr) _warn_unused_result_;
/* Counts resources by phase into counts[_PHASE_MAX] for /metrics. */
int store_phase_counts(Store *s, int64_t counts[], Error *reterr) _warn_unused_result_;

/* This state store's identity (uuid text, 37 bytes with NUL), created by the first migration.
 * Labels every Docker object as berth.installation. */
int store_installation_id(Store *s, char ret[37], Error *reterr) _warn_unused_result_;
