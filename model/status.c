/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/status.h"

static const char *const phase_table[_PHASE_MAX] = {
        [PHASE_PENDING] = "PENDING",   [PHASE_PROVISIONING] = "PROVISIONING",
        [PHASE_RUNNING] = "RUNNING",   [PHASE_DEGRADED] = "DEGRADED",
        [PHASE_FAILED] = "FAILED",     [PHASE_PAUSED] = "PAUSED",
        [PHASE_DELETING] = "DELETING", [PHASE_DELETED] = "DELETED",
};

/* The Ready condition's reason: the phase in CamelCase, as Kubernetes conditions spell them. */
static const char *const phase_reason_table[_PHASE_MAX] = {
        [PHASE_PENDING] = "Pending",   [PHASE_PROVISIONING] = "Provisioning",
        [PHASE_RUNNING] = "Running",   [PHASE_DEGRADED] = "Degraded",
        [PHASE_FAILED] = "Failed",     [PHASE_PAUSED] = "Paused",
        [PHASE_DELETING] = "Deleting", [PHASE_DELETED] = "Deleted",
};

const char *phase_to_string(Phase p) {
        if (p < 0 || p >= _PHASE_MAX)
                return NULL;
        return phase_table[p];
}

Phase phase_from_string(const char *s) {
        if (!s)
                return _PHASE_INVALID;
        for (int i = 0; i < _PHASE_MAX; i++)
                if (streq(phase_table[i], s))
                        return (Phase) i;
        return _PHASE_INVALID;
}

static void status_node_release(StatusNode *n) {
        n->name = mfree(n->name);
        n->role = mfree(n->role);
        n->state = mfree(n->state);
        n->health = mfree(n->health);
        n->host = mfree(n->host);
}

void status_release(Status *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_nodes; i++)
                status_node_release(&s->nodes[i]);
        s->nodes = mfree(s->nodes);
        s->n_nodes = 0;
        s->message = mfree(s->message);
        cJSON_Delete(s->endpoints);
        s->endpoints = NULL;
        cJSON_Delete(s->extra);
        s->extra = NULL;
}

/* A string member, or null when s is NULL. */
static int add_str_or_null(cJSON *o, const char *key, const char *s) {
        return json_add_item_take(o, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

static int add_number(cJSON *o, const char *key, double v) {
        return json_add_item_take(o, key, cJSON_CreateNumber(v));
}

/* The last_transition of prev's Ready condition when its status equals `status`, else NULL. */
static const char *prev_transition(const cJSON *prev, const char *status) {
        const cJSON *conds, *c;

        if (!prev)
                return NULL;
        conds = cJSON_GetObjectItemCaseSensitive(prev, "conditions");
        cJSON_ArrayForEach(c, conds) {
                const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "status");
                const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c, "last_transition");

                if (!cJSON_IsString(type) || !streq(type->valuestring, "Ready"))
                        continue;
                if (cJSON_IsString(st) && streq(st->valuestring, status) && cJSON_IsString(lt))
                        return lt->valuestring;
                return NULL;
        }
        return NULL;
}

static cJSON *ready_condition(const Status *s, const cJSON *prev, const char *now_rfc3339) {
        _cleanup_json_ cJSON *c = cJSON_CreateObject();
        const char *status = s->phase == PHASE_RUNNING ? "True" : "False";
        const char *reason = phase_reason_table[s->phase];
        const char *lt = prev_transition(prev, status);
        int r;

        if (!c)
                return NULL;
        r = add_str_or_null(c, "type", "Ready");
        if (r >= 0)
                r = add_str_or_null(c, "status", status);
        if (r >= 0)
                r = add_str_or_null(c, "reason", reason);
        if (r >= 0)
                r = add_str_or_null(c, "message", strempty(s->message));
        if (r >= 0)
                r = add_str_or_null(c, "last_transition", lt ? lt : now_rfc3339);
        if (r < 0)
                return NULL;
        return TAKE_PTR(c);
}

static cJSON *node_to_json(const StatusNode *n) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return NULL;
        r = add_str_or_null(o, "name", n->name);
        if (r >= 0)
                r = add_str_or_null(o, "role", n->role);
        if (r >= 0)
                r = add_str_or_null(o, "state", n->state);
        if (r >= 0)
                r = add_str_or_null(o, "health", n->health);
        if (r >= 0)
                r = add_str_or_null(o, "host", n->host);
        if (r >= 0)
                r = add_number(o, "index", n->index);
        if (r >= 0 && n->restarts > 0)
                r = add_number(o, "restarts", n->restarts);
        if (r >= 0 && n->has_exit) {
                cJSON *e = cJSON_AddObjectToObject(o, "last_exit");
                r = e && cJSON_AddNumberToObject(e, "code", n->exit_code) &&
                                    cJSON_AddBoolToObject(e, "oom_killed", n->oom_killed)
                            ? 0
                            : -ENOMEM;
        }
        if (r >= 0 && n->has_lag)
                r = add_number(o, "lag_bytes", (double) n->lag_bytes);
        if (r >= 0 && n->has_lag)
                r = add_number(o, "lag_seconds", n->lag_seconds);
        if (r < 0)
                return NULL;
        return TAKE_PTR(o);
}

cJSON *status_to_json(const Status *s, const cJSON *prev, const char *now_rfc3339) {
        _cleanup_json_ cJSON *o = NULL;
        cJSON *conds, *nodes, *replicas;
        int r;

        if (!s || s->phase < 0 || s->phase >= _PHASE_MAX)
                return NULL;
        o = cJSON_CreateObject();
        if (!o)
                return NULL;
        r = add_str_or_null(o, "phase", phase_table[s->phase]);
        if (r >= 0)
                r = add_number(o, "observed_generation", (double) s->observed_generation);
        if (r >= 0)
                r = add_str_or_null(o, "message", strempty(s->message));
        if (r < 0)
                return NULL;

        conds = cJSON_AddArrayToObject(o, "conditions");
        if (!conds || json_add_item_take(conds, NULL, ready_condition(s, prev, now_rfc3339)) < 0)
                return NULL;

        if (json_add_item_take(o, "endpoints",
                               s->endpoints ? cJSON_Duplicate(s->endpoints, true)
                                            : cJSON_CreateObject()) < 0)
                return NULL;

        nodes = cJSON_AddArrayToObject(o, "nodes");
        if (!nodes)
                return NULL;
        for (size_t i = 0; i < s->n_nodes; i++)
                if (json_add_item_take(nodes, NULL, node_to_json(&s->nodes[i])) < 0)
                        return NULL;

        replicas = cJSON_AddObjectToObject(o, "replicas");
        if (!replicas)
                return NULL;
        r = add_number(replicas, "desired", s->replicas_desired);
        if (r >= 0)
                r = add_number(replicas, "running", s->replicas_running);
        if (r >= 0)
                r = add_number(replicas, "failed", s->replicas_failed);
        if (r < 0)
                return NULL;
        if (s->extra) {
                const cJSON *m;

                cJSON_ArrayForEach(m, s->extra) if (json_add_item_take(o, m->string,
                                                                       cJSON_Duplicate(m, true)) <
                                                    0) return NULL;
        }
        return TAKE_PTR(o);
}
