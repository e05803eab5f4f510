/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "api/api.h"

/* Every route berthd serves, in one table (as HAProxy registers its CLI keywords beside their
 * handlers). The dispatcher matches path segments ({kind} a known kind, {name} a valid name),
 * answers 405 with Allow when only the method differs, and 404 when nothing matches.
 *
 * `role` is what the route requires. The dispatcher authenticates every non-public route (401
 * without a valid token) and refuses admin routes to non-admins (403); the handler checks the
 * role in the project of what it touches with api_authorize(): a project the caller holds no role
 * in answers 404 like a missing resource, a lower role 403. Lists keep only visible projects.
 * With authentication off every caller is the admin "local". */
const ApiRoute api_routes[] = {
        {"GET", "/", api_handle_index, API_ROLE_PUBLIC, "status page"},
        {"GET", "/healthz", api_handle_healthz, API_ROLE_PUBLIC, "liveness: the process answers"},
        {"GET", "/readyz", api_handle_readyz, API_ROLE_PUBLIC,
         "readiness: state store and Docker reachable"},
        {"GET", "/metrics", api_handle_metrics, API_ROLE_PUBLIC, "Prometheus text format"},

        {"POST", "/api/v1/auth/login", api_handle_login, API_ROLE_PUBLIC,
         "{username, password} -> a session token (15 minutes); rate-limited"},
        {"POST", "/api/v1/auth/refresh", api_handle_refresh, API_ROLE_USER,
         "a valid session token -> a new one; the old one is revoked"},
        {"POST", "/api/v1/auth/logout", api_handle_logout, API_ROLE_USER,
         "revoke the session token"},
        {"GET", "/api/v1/auth/whoami", api_handle_whoami, API_ROLE_USER,
         "the caller: name, admin, roles per project"},

        {"POST", "/api/v1/apply", api_handle_apply, API_ROLE_EDITOR,
         "apply one or many documents (YAML or JSON); ?dry_run=true plans without storing; "
         "editor in every document's project"},
        {"GET", "/api/v1/resources", api_handle_resource_list, API_ROLE_VIEWER,
         "list resources with phase; ?project=&kind= (visible projects only)"},
        {"GET", "/api/v1/resources/{kind}/{name}", api_handle_resource_get, API_ROLE_VIEWER,
         "spec (secrets redacted) and status; ?project="},
        {"DELETE", "/api/v1/resources/{kind}/{name}", api_handle_resource_delete, API_ROLE_EDITOR,
         "request deletion; the controller removes every object"},
        {"GET", "/api/v1/resources/{kind}/{name}/events", api_handle_resource_events,
         API_ROLE_VIEWER, "the resource's events; ?limit=&after="},
        {"GET", "/api/v1/resources/{kind}/{name}/operations", api_handle_resource_operations,
         API_ROLE_VIEWER, "the resource's operations; ?limit="},
        {"GET", "/api/v1/resources/{kind}/{name}/logs", api_handle_resource_logs, API_ROLE_VIEWER,
         "container logs, text; ?tail=; a job: one run's logs, ?run=N (default: the last)"},
        {"POST", "/api/v1/resources/{kind}/{name}/actions/{action}", api_handle_resource_action,
         API_ROLE_OPERATOR,
         "run an action (restart, pause, resume, rollback; pg_single: backup, restore, vacuum, "
         "queued; job: run); "
         "the body is a JSON object of its parameters"},
        {"GET", "/api/v1/resources/{kind}/{name}/revisions", api_handle_resource_revisions,
         API_ROLE_VIEWER,
         "a docker_service's revisions, oldest first: spec, diff, and deploy (old and new image, "
         "start, end, result, who); ?limit="},
        {"GET", "/api/v1/resources/{kind}/{name}/requests", api_handle_resource_requests,
         API_ROLE_VIEWER, "queued actions (backup, restore, vacuum) with their state; ?limit="},
        {"GET", "/api/v1/resources/{kind}/{name}/runs", api_handle_resource_runs, API_ROLE_VIEWER,
         "a job's runs, newest first: id, state, exit_code, generation, trigger, actor, times, "
         "message, log_bytes; ?limit= (logs: GET .../logs?run=N)"},
        {"GET", "/api/v1/resources/{kind}/{name}/backups", api_handle_resource_backups,
         API_ROLE_VIEWER,
         "a pg_single's backups (label, type, times, size) and last_successful, next_scheduled, "
         "last_error"},
        {"GET", "/api/v1/events", api_handle_events, API_ROLE_VIEWER,
         "events of all resources; ?project=&kind=&name=&after=&limit=; ?follow=true streams SSE "
         "(visible projects only)"},

        {"POST", "/api/v1/tokens", api_handle_token_create, API_ROLE_OWNER,
         "{name, project, role, expires_in} -> an API token, shown once; owner of the project"},
        {"GET", "/api/v1/tokens", api_handle_token_list, API_ROLE_USER,
         "API tokens of the projects the caller owns, and the caller's own (never secrets)"},
        {"DELETE", "/api/v1/tokens/{id}", api_handle_token_delete, API_ROLE_OWNER,
         "revoke an API token; owner of its project, or its creator"},

        {"POST", "/api/v1/users", api_handle_user_create, API_ROLE_ADMIN,
         "{username, password, admin} -> a user"},
        {"GET", "/api/v1/users", api_handle_user_list, API_ROLE_ADMIN,
         "users with their memberships"},
        {"GET", "/api/v1/projects/{project}/quota", api_handle_quota_get, API_ROLE_VIEWER,
         "the project's quota: max_cpu, max_memory (bytes), max_replicas; null: no limit"},
        {"PUT", "/api/v1/projects/{project}/quota", api_handle_quota_put, API_ROLE_ADMIN,
         "{max_cpu, max_memory: \"4Gi\", max_replicas} -> the quota later applies must fit"},
        {"GET", "/api/v1/audit", api_handle_audit_list, API_ROLE_ADMIN,
         "?after=&limit= -> the audit trail, oldest first: who did what, when, with what result"},
        {"GET", "/api/v1/projects/{project}/members", api_handle_member_list, API_ROLE_VIEWER,
         "the project's members and roles"},
        {"PUT", "/api/v1/projects/{project}/members/{user}", api_handle_member_put, API_ROLE_OWNER,
         "{role} -> set a user's role in the project"},
        {"DELETE", "/api/v1/projects/{project}/members/{user}", api_handle_member_delete,
         API_ROLE_OWNER, "remove a user from the project"},

        {"PUT", "/api/v1/secrets/{project}/{name}", api_handle_secret_put, API_ROLE_OWNER,
         "set a secret: the raw body (or JSON {value}) is the value, at most 64 KiB -> {project, "
         "name, version, outcome}; the version grows only when the value changes"},
        {"GET", "/api/v1/secrets", api_handle_secret_list, API_ROLE_OWNER,
         "a project's secrets: name, version, created_at, updated_at (never values); ?project="},
        {"GET", "/api/v1/secrets/{project}/{name}", api_handle_secret_get, API_ROLE_OWNER,
         "reveal a secret's value -> {project, name, version, encoding: utf-8|base64, value}; "
         "audited as secret_reveal"},
        {"DELETE", "/api/v1/secrets/{project}/{name}", api_handle_secret_delete, API_ROLE_OWNER,
         "delete a secret; 409 while a resource references it"},
};

const size_t api_n_routes = ELEMENTSOF(api_routes);
