/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/revision.h"

#define DIFF_VALUE_MAX 80  /* characters of one value in a diff line */
#define DIFF_PATH_MAX  192 /* "env.FOO", "ports[0].host_port" */
#define DIFF_DEPTH_MAX 16  /* specs are shallow: deeper is shown whole */

static const char *const ignored_keys[] = {"replicas", "paused", "deploy", NULL};

bool revision_spec_key_ignored(const char *key) {
        for (size_t i = 0; key && ignored_keys[i]; i++)
                if (streq(key, ignored_keys[i]))
                        return true;
        return false;
}

/* Appends s, newlines and tabs escaped, cut at DIFF_VALUE_MAX with "...". */
static int put_text(Buf *out, const char *s, size_t *room) {
        int r = 0;

        for (; *s && r >= 0; s++) {
                if (*room == 0)
                        return buf_puts(out, "...");
                if (*s == '\n')
                        r = buf_puts(out, "\\n");
                else if (*s == '\t')
                        r = buf_puts(out, "\\t");
                else if ((unsigned char) *s < 0x20)
                        r = buf_putc(out, '?');
                else
                        r = buf_putc(out, *s);
                (*room)--;
        }
        return r;
}

/* A value as a person reads it: strings bare, lists [a, b], maps {k: v}, cut when long. */
static int put_value_room(Buf *out, const cJSON *v, size_t *room, int depth) {
        char num[64];
        int r = 0;

        if (!v || cJSON_IsNull(v))
                return put_text(out, "null", room);
        if (cJSON_IsString(v))
                return put_text(out, v->valuestring, room);
        if (cJSON_IsBool(v))
                return put_text(out, cJSON_IsTrue(v) ? "true" : "false", room);
        if (cJSON_IsNumber(v)) {
                if (json_number_is_integer(v->valuedouble))
                        snprintf(num, sizeof(num), "%.0f", v->valuedouble);
                else
                        snprintf(num, sizeof(num), "%g", v->valuedouble);
                return put_text(out, num, room);
        }
        if (depth > DIFF_DEPTH_MAX)
                return put_text(out, "...", room);
        r = put_text(out, cJSON_IsArray(v) ? "[" : "{", room);
        for (const cJSON *c = v->child; c && r >= 0 && *room > 0; c = c->next) {
                if (c != v->child)
                        r = put_text(out, ", ", room);
                if (r >= 0 && cJSON_IsObject(v) && c->string) {
                        r = put_text(out, c->string, room);
                        if (r >= 0)
                                r = put_text(out, ": ", room);
                }
                if (r >= 0)
                        r = put_value_room(out, c, room, depth + 1);
        }
        if (r >= 0 && *room > 0)
                r = put_text(out, cJSON_IsArray(v) ? "]" : "}", room);
        return r;
}

static int put_value(Buf *out, const cJSON *v) {
        size_t room = DIFF_VALUE_MAX;
        return put_value_room(out, v, &room, 0);
}

static bool is_scalar(const cJSON *v) {
        return !cJSON_IsArray(v) && !cJSON_IsObject(v);
}

static int line_changed(Buf *out, const char *path, const cJSON *a, const cJSON *b) {
        int r = buf_printf(out, "%s: ", path);
        if (r >= 0)
                r = put_value(out, a);
        if (r >= 0)
                r = buf_puts(out, " → ");
        if (r >= 0)
                r = put_value(out, b);
        if (r >= 0)
                r = buf_putc(out, '\n');
        return r;
}

static int line_added(Buf *out, const char *path, const cJSON *v) {
        int r = buf_printf(out, "%s: added", path);

        if (r >= 0 && is_scalar(v)) {
                r = buf_puts(out, " (");
                if (r >= 0)
                        r = put_value(out, v);
                if (r >= 0)
                        r = buf_putc(out, ')');
        }
        if (r >= 0)
                r = buf_putc(out, '\n');
        return r;
}

static void path_join(char *buf, size_t n, const char *parent, const char *key) {
        if (isempty(parent))
                snprintf(buf, n, "%s", key);
        else
                snprintf(buf, n, "%s.%s", parent, key);
}

static int diff_value(const char *path, const cJSON *a, const cJSON *b, bool top, int depth,
                      Buf *out);

static int diff_object(const char *path, const cJSON *a, const cJSON *b, bool top, int depth,
                       Buf *out) {
        char sub[DIFF_PATH_MAX];
        int r = 0;

        for (const cJSON *x = a->child; x && r >= 0; x = x->next) {
                const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);

                if (!x->string || (top && revision_spec_key_ignored(x->string)))
                        continue;
                path_join(sub, sizeof(sub), path, x->string);
                if (!y)
                        r = buf_printf(out, "%s: removed\n", sub);
                else
                        r = diff_value(sub, x, y, false, depth + 1, out);
        }
        for (const cJSON *y = b->child; y && r >= 0; y = y->next) {
                if (!y->string || (top && revision_spec_key_ignored(y->string)) ||
                    cJSON_GetObjectItemCaseSensitive(a, y->string))
                        continue;
                path_join(sub, sizeof(sub), path, y->string);
                r = line_added(out, sub, y);
        }
        return r;
}

static int diff_value(const char *path, const cJSON *a, const cJSON *b, bool top, int depth,
                      Buf *out) {
        char sub[DIFF_PATH_MAX];
        int r = 0;

        if (cJSON_Compare(a, b, true))
                return 0;
        if (depth < DIFF_DEPTH_MAX && cJSON_IsObject(a) && cJSON_IsObject(b))
                return diff_object(path, a, b, top, depth, out);
        /* Lists of maps of one length (ports, volumes, config files): item by item. */
        if (depth < DIFF_DEPTH_MAX && cJSON_IsArray(a) && cJSON_IsArray(b) &&
            cJSON_GetArraySize(a) == cJSON_GetArraySize(b) && cJSON_IsObject(a->child)) {
                size_t i = 0;

                for (const cJSON *x = a->child, *y = b->child; x && y && r >= 0;
                     x = x->next, y = y->next, i++) {
                        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                        r = diff_value(sub, x, y, false, depth + 1, out);
                }
                return r;
        }
        return line_changed(out, path, a, b);
}

static int diff_secrets(const cJSON *a, const cJSON *b, Buf *out) {
        int r = 0;

        for (const cJSON *y = b ? b->child : NULL; y && r >= 0; y = y->next) {
                const cJSON *x = a ? cJSON_GetObjectItemCaseSensitive(a, y->string) : NULL;

                if (!y->string || !cJSON_IsNumber(y) || !cJSON_IsNumber(x) ||
                    x->valuedouble == y->valuedouble)
                        continue;
                r = buf_printf(out, "secret %s: version %.0f → %.0f\n", y->string, x->valuedouble,
                               y->valuedouble);
        }
        return r;
}

int revision_diff(const cJSON *old_spec, const cJSON *old_secrets, const cJSON *new_spec,
                  const cJSON *new_secrets, Buf *out) {
        int r;

        assert_return(new_spec && out, -EINVAL);
        if (!old_spec) {
                _cleanup_json_ cJSON *empty = cJSON_CreateObject();

                if (!empty)
                        return -ENOMEM;
                return diff_object("", empty, new_spec, true, 0, out);
        }
        if (cJSON_IsObject(old_spec) && cJSON_IsObject(new_spec))
                r = diff_object("", old_spec, new_spec, true, 0, out);
        else
                r = line_changed(out, "spec", old_spec, new_spec);
        if (r >= 0)
                r = diff_secrets(old_secrets, new_secrets, out);
        return r;
}

int revision_rollback_spec(const cJSON *current, const cJSON *target, cJSON **ret) {
        _cleanup_json_ cJSON *spec = NULL;
        int r;

        assert_return(cJSON_IsObject(current) && cJSON_IsObject(target) && ret, -EINVAL);
        spec = cJSON_Duplicate(target, true);
        if (!spec)
                return -ENOMEM;
        for (size_t i = 0; ignored_keys[i]; i++) {
                const cJSON *keep = cJSON_GetObjectItemCaseSensitive(current, ignored_keys[i]);

                cJSON_DeleteItemFromObjectCaseSensitive(spec, ignored_keys[i]);
                if (!keep)
                        continue;
                r = json_add_item_take(spec, ignored_keys[i], cJSON_Duplicate(keep, true));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(spec);
        return 0;
}

static const char *const deploy_state_table[_DEPLOY_STATE_MAX] = {
        [DEPLOY_NONE] = "NONE",     [DEPLOY_IN_PROGRESS] = "IN_PROGRESS", [DEPLOY_DONE] = "DONE",
        [DEPLOY_FAILED] = "FAILED", [DEPLOY_SUPERSEDED] = "SUPERSEDED",
};

const char *deploy_state_to_string(DeployState s) {
        if (s < 0 || s >= _DEPLOY_STATE_MAX)
                return NULL;
        return deploy_state_table[s];
}

DeployState deploy_state_from_string(const char *s) {
        for (int i = 0; s && i < _DEPLOY_STATE_MAX; i++)
                if (streq(s, deploy_state_table[i]))
                        return (DeployState) i;
        return _DEPLOY_STATE_INVALID;
}
