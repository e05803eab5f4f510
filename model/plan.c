/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/plan.h"

static const char *const action_table[_ACTION_MAX] = {
        [ACTION_ENSURE_NETWORK] = "ensure_network",
        [ACTION_CREATE_CONTAINER] = "create_container",
        [ACTION_START_CONTAINER] = "start_container",
        [ACTION_REMOVE_CONTAINER] = "remove_container",
        [ACTION_REMOVE_NETWORK] = "remove_network",
        [ACTION_REMOVE_VOLUME] = "remove_volume",
        [ACTION_ENSURE_VOLUME] = "ensure_volume",
        [ACTION_ENSURE_SECRET] = "ensure_secret",
        [ACTION_STOP_CONTAINER] = "stop_container",
        [ACTION_RESTART_CONTAINER] = "restart_container",
        [ACTION_PUT_FILES] = "put_files",
        [ACTION_EXEC] = "exec",
        [ACTION_RUN_TO_COMPLETION] = "run_to_completion",
        [ACTION_FINISH_REQUEST] = "finish_request",
        [ACTION_UPDATE_RESOURCES] = "update_resources",
        [ACTION_RENAME_CONTAINER] = "rename_container",
        [ACTION_KILL_CONTAINER] = "kill_container",
        [ACTION_DISCONNECT_NETWORK] = "disconnect_network",
};

const char *action_type_to_string(ActionType t) {
        if (t < 0 || t >= _ACTION_MAX)
                return NULL;
        return action_table[t];
}

void plan_init(Plan *p) {
        *p = (Plan){0};
        p->status.phase = PHASE_PENDING;
}

static void action_release(Action *a) {
        a->argv = strv_free(a->argv);
        container_files_free(a->files, a->n_files);
        a->files = NULL;
        a->n_files = 0;
        a->target = mfree(a->target);
        a->id = mfree(a->id);
        a->reason = mfree(a->reason);
        if (a->container) {
                container_config_release(a->container);
                a->container = mfree(a->container);
        }
}

void plan_release(Plan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_actions; i++)
                action_release(&p->actions[i]);
        p->actions = mfree(p->actions);
        p->n_actions = 0;
        status_release(&p->status);
}

static void container_config_freep(ContainerConfig **c) {
        if (*c) {
                container_config_release(*c);
                b_free(*c);
        }
}

/* b_strdup that keeps NULL as NULL; false on allocation failure. */
static bool dup_opt(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return true;
        *ret = b_strdup(s);
        return *ret != NULL;
}

int plan_add(Plan *p, ActionType type, const char *target, const char *id, const char *reason,
             ContainerConfig *container) {
        _cleanup_(container_config_freep) ContainerConfig *cfg = container;
        _cleanup_(action_release) Action a = {.type = type};
        Action *n;

        assert_return(p, -EINVAL);
        assert_return(type >= 0 && type < _ACTION_MAX, -EINVAL);
        if (!dup_opt(target, &a.target) || !dup_opt(id, &a.id) || !dup_opt(reason, &a.reason))
                return -ENOMEM;
        n = b_realloc(p->actions, (p->n_actions + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        p->actions = n;
        a.container = TAKE_PTR(cfg);
        p->actions[p->n_actions++] = a;
        a = (Action){0};
        return 0;
}

int plan_add_exec(Plan *p, const char *target, const char *reason, char *const *argv) {
        _cleanup_strv_free_ char **copy = strv_copy(argv);
        int r;

        if (!copy)
                return -ENOMEM;
        r = plan_add(p, ACTION_EXEC, target, NULL, reason, NULL);
        if (r < 0)
                return r;
        p->actions[p->n_actions - 1].argv = TAKE_PTR(copy);
        return 0;
}

int plan_add_files(Plan *p, const char *target, const char *reason, ContainerFile *files,
                   size_t n) {
        int r;

        r = plan_add(p, ACTION_PUT_FILES, target, NULL, reason, NULL);
        if (r < 0) {
                container_files_free(files, n);
                return r;
        }
        p->actions[p->n_actions - 1].files = files;
        p->actions[p->n_actions - 1].n_files = n;
        return 0;
}

int plan_to_text(const Plan *p, Buf *out) {
        int r;

        assert_return(p && out, -EINVAL);
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                r = buf_printf(out, "%s %s", strna(action_type_to_string(a->type)),
                               strna(a->target));
                if (r >= 0 && !isempty(a->reason))
                        r = buf_printf(out, " (%s)", a->reason);
                if (r >= 0)
                        r = buf_putc(out, '\n');
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A string member, or null when s is NULL. */
static int add_str_or_null(cJSON *o, const char *key, const char *s) {
        return json_add_item_take(o, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

cJSON *plan_to_json(const Plan *p) {
        _cleanup_json_ cJSON *arr = NULL;

        if (!p)
                return NULL;
        arr = cJSON_CreateArray();
        if (!arr)
                return NULL;
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];
                _cleanup_json_ cJSON *o = cJSON_CreateObject();
                int r;

                if (!o)
                        return NULL;
                r = add_str_or_null(o, "action", strna(action_type_to_string(a->type)));
                if (r >= 0)
                        r = add_str_or_null(o, "target", a->target);
                if (r >= 0)
                        r = add_str_or_null(o, "reason", a->reason);
                if (r >= 0)
                        r = json_add_item_take(arr, NULL, TAKE_PTR(o));
                if (r < 0)
                        return NULL;
        }
        return TAKE_PTR(arr);
}
