/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/pg-action.h"
#include "model/validate-util.h"

/* pgBackRest's backup labels: a full backup "20261123-101500F", a differential or incremental
 * one "20261123-101500F_20261124-020000D" (its full backup's label, then its own). */
#define PG_BACKUP_LABEL_MAX 33

static const char *const action_names[_PG_ACTION_MAX] = {
        [PG_ACTION_BACKUP] = "backup",
        [PG_ACTION_RESTORE] = "restore",
        [PG_ACTION_VACUUM] = "vacuum",
};

static const char *const backup_types[] = {"auto", "full", "diff", "incr", NULL};

static const char *const backup_fields[] = {"type", NULL};
static const char *const restore_fields[] = {"backup", "time", NULL};
static const char *const no_fields[] = {NULL};

const char *pg_action_type_to_string(PgActionType t) {
        if (t < 0 || t >= _PG_ACTION_MAX)
                return NULL;
        return action_names[t];
}

PgActionType pg_action_type_from_string(const char *s) {
        if (!s)
                return _PG_ACTION_INVALID;
        for (int i = 0; i < _PG_ACTION_MAX; i++)
                if (streq(action_names[i], s))
                        return (PgActionType) i;
        return _PG_ACTION_INVALID;
}

void pg_action_release(PgAction *a) {
        if (!a)
                return;
        b_free(a->backup);
        *a = (PgAction){};
}

/* "YYYYMMDD-HHMMSS" at p. */
static bool label_stamp(const char *p) {
        for (int i = 0; i < 15; i++) {
                if (i == 8) {
                        if (p[i] != '-')
                                return false;
                } else if (p[i] < '0' || p[i] > '9')
                        return false;
        }
        return true;
}

/* Exactly pgBackRest's label syntax: the label reaches pgBackRest's command line (--set), so
 * nothing else gets through. */
static bool backup_label_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n != 16 && n != 33)
                return false;
        if (!label_stamp(s) || s[15] != 'F')
                return false;
        if (n == 16)
                return true;
        return s[16] == '_' && label_stamp(s + 17) && (s[32] == 'D' || s[32] == 'I');
}

static int parse_backup(const cJSON *params, PgAction *a, Error *reterr) {
        const cJSON *v = spec_member(params, "type");
        const char *t = "auto";
        int r;

        if (v) {
                r = want_enum(v, "params.type", backup_types, &t, reterr);
                if (r < 0)
                        return r;
        }
        a->backup_type = streq(t, "full")   ? PG_BACKUP_FULL
                         : streq(t, "diff") ? PG_BACKUP_DIFF
                         : streq(t, "incr") ? PG_BACKUP_INCR
                                            : PG_BACKUP_AUTO;
        return 0;
}

static int parse_restore(const cJSON *params, PgAction *a, Error *reterr) {
        const cJSON *b = spec_member(params, "backup"), *t = spec_member(params, "time");
        const char *s;
        char d[64];
        int r;

        if (b && t)
                return verr(reterr, -EINVAL, R_CONFLICT, "params.time",
                            "give a backup or a time to recover to, not both");
        if (b) {
                r = want_string(b, "params.backup", PG_BACKUP_LABEL_MAX, &s, reterr);
                if (r < 0)
                        return r;
                if (!backup_label_is_valid(s))
                        return verr(reterr, -EINVAL, R_INVALID_VALUE, "params.backup",
                                    "%s is not a backup label such as 20261123-101500F or "
                                    "20261123-101500F_20261124-020000D (see berth backups)",
                                    json_describe(b, d, sizeof(d)));
                a->backup = b_strdup(s);
                if (!a->backup)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        if (t) {
                usec_t when = 0;

                r = want_string(t, "params.time", 64, &s, reterr);
                if (r < 0)
                        return r;
                r = parse_rfc3339(s, &when);
                if (r < 0 || when == 0)
                        return verr(reterr, -EINVAL, R_INVALID_VALUE, "params.time",
                                    "%s is not an RFC 3339 time with a zone, such as "
                                    "2026-11-23T10:15:00Z or 2026-11-23T11:15:00+01:00",
                                    json_describe(t, d, sizeof(d)));
                a->target_time = when;
        }
        return 0;
}

static int parse(const char *action, const cJSON *params, PgAction *ret, Error *reterr) {
        _cleanup_(pg_action_release) PgAction a = {};
        const char *const *known;
        int r;

        a.type = pg_action_type_from_string(action);
        if (a.type < 0)
                return verr(reterr, -EOPNOTSUPP, R_NOT_SUPPORTED, "action",
                            "\"%.64s\" is not a pg_single action with parameters (backup, restore, "
                            "vacuum)",
                            strempty(action));
        known = a.type == PG_ACTION_BACKUP    ? backup_fields
                : a.type == PG_ACTION_RESTORE ? restore_fields
                                              : no_fields;
        if (params && !cJSON_IsNull(params)) {
                r = check_map(params, "params", known, NULL, NULL, reterr);
                if (r < 0)
                        return r;
        } else
                params = NULL;

        switch (a.type) {
        case PG_ACTION_BACKUP:
                r = parse_backup(params, &a, reterr);
                break;
        case PG_ACTION_RESTORE:
                r = parse_restore(params, &a, reterr);
                break;
        default:
                r = 0;
                break;
        }
        if (r < 0)
                return r;
        *ret = a;
        a = (PgAction){};
        return 0;
}

static const char *backup_type_to_string(PgBackupType t) {
        switch (t) {
        case PG_BACKUP_FULL:
                return "full";
        case PG_BACKUP_DIFF:
                return "diff";
        case PG_BACKUP_INCR:
                return "incr";
        case PG_BACKUP_AUTO:
        default:
                return "auto";
        }
}

int pg_action_normalise(const char *action, const cJSON *params, cJSON **ret, Error *reterr) {
        _cleanup_(pg_action_release) PgAction a = {};
        _cleanup_json_ cJSON *o = NULL;
        char when[40];
        int r;

        assert_return(ret, -EINVAL);

        r = parse(action, params, &a, reterr);
        if (r < 0)
                return r;
        o = cJSON_CreateObject();
        if (!o)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = 0;
        if (a.type == PG_ACTION_BACKUP)
                r = json_add_item_take(o, "type",
                                       cJSON_CreateString(backup_type_to_string(a.backup_type)));
        else if (a.type == PG_ACTION_RESTORE && a.backup)
                r = json_add_item_take(o, "backup", cJSON_CreateString(a.backup));
        else if (a.type == PG_ACTION_RESTORE && a.target_time > 0)
                r = json_add_item_take(o, "time",
                                       cJSON_CreateString(format_rfc3339_exact(a.target_time, when,
                                                                               sizeof(when))));
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        *ret = TAKE_PTR(o);
        return 0;
}

int pg_action_from_json(const char *action, const cJSON *params, PgAction *ret, Error *reterr) {
        assert_return(ret, -EINVAL);
        return parse(action, params, ret, reterr);
}
