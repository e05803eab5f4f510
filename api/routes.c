/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "api/api.h"

/* Every route berthd serves, in one table (as HAProxy registers its CLI keywords beside their
 * handlers). The dispatcher matches path segments ({kind} a known kind, {name} a valid name),
 * answers 405 with Allow when only the method differs, and 404 when nothing matches. `role` is
 * what authentication will require; until it lands every route is open. */
const ApiRoute api_routes[] = {
        {"GET", "/", api_handle_index, API_ROLE_PUBLIC, "status page"},
        {"GET", "/healthz", api_handle_healthz, API_ROLE_PUBLIC, "liveness: the process answers"},
        {"GET", "/readyz", api_handle_readyz, API_ROLE_PUBLIC,
         "readiness: state store and Docker reachable"},
        {"GET", "/metrics", api_handle_metrics, API_ROLE_PUBLIC, "Prometheus text format"},

        {"POST", "/api/v1/apply", api_handle_apply, API_ROLE_OPERATOR,
         "apply one or many documents (YAML or JSON); ?dry_run=true plans without storing"},
        {"GET", "/api/v1/resources", api_handle_resource_list, API_ROLE_VIEWER,
         "list resources with phase; ?project=&kind="},
        {"GET", "/api/v1/resources/{kind}/{name}", api_handle_resource_get, API_ROLE_VIEWER,
         "spec (secrets redacted) and status; ?project="},
        {"DELETE", "/api/v1/resources/{kind}/{name}", api_handle_resource_delete, API_ROLE_OPERATOR,
         "request deletion; the controller removes every object"},
        {"GET", "/api/v1/resources/{kind}/{name}/events", api_handle_resource_events,
         API_ROLE_VIEWER, "the resource's events; ?limit=&after="},
        {"GET", "/api/v1/resources/{kind}/{name}/operations", api_handle_resource_operations,
         API_ROLE_VIEWER, "the resource's operations; ?limit="},
        {"GET", "/api/v1/resources/{kind}/{name}/logs", api_handle_resource_logs, API_ROLE_VIEWER,
         "container logs, text; ?tail="},
        {"POST", "/api/v1/resources/{kind}/{name}/actions/{action}", api_handle_resource_action,
         API_ROLE_OPERATOR, "run an action (restart, switchover, backup, ...)"},
        {"GET", "/api/v1/events", api_handle_events, API_ROLE_VIEWER,
         "events of all resources; ?project=&kind=&name=&after=&limit=; ?follow=true streams SSE"},
};

const size_t api_n_routes = ELEMENTSOF(api_routes);
