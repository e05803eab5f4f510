/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/service.h"
#include "model/units.h"
#include "model/validate-container.h"
#include "model/validate-deploy.h"
#include "model/validate-util.h"

#define DEPLOY_AMOUNT_MAX   100 /* replicas: spec.replicas' own maximum */
#define DEPLOY_DEADLINE_MIN USEC_PER_SEC
#define DEPLOY_DEADLINE_MAX (24 * 3600 * USEC_PER_SEC)

/* max_surge / max_unavailable: a whole number of replicas, or "N%" of spec.replicas. */
static int v_amount(const cJSON *v, const char *field, cJSON **ret, bool *ret_zero, Error *e) {
        char d[64];
        int64_t n;
        int r;

        if (cJSON_IsString(v)) {
                const char *s = v->valuestring;
                size_t digits = strspn(s, "0123456789");

                if (digits == 0 || digits > 3 || !streq(s + digits, "%"))
                        return verr(e, -EINVAL, R_INVALID_VALUE, field,
                                    "%s must be a number of replicas or a percentage (\"25%%\")",
                                    json_describe(v, d, sizeof(d)));
                n = strtoll(s, NULL, 10);
                if (n > 100)
                        return verr(e, -EINVAL, R_OUT_OF_RANGE, field,
                                    "%s is out of range (0%%..100%%)",
                                    json_describe(v, d, sizeof(d)));
                snprintf(d, sizeof(d), "%" PRId64 "%%", n);
                *ret_zero = n == 0;
                *ret = cJSON_CreateString(d);
                return *ret ? 0 : -ENOMEM;
        }
        r = want_int(v, field, 0, DEPLOY_AMOUNT_MAX, &n, e);
        if (r < 0)
                return r;
        *ret_zero = n == 0;
        *ret = cJSON_CreateNumber((double) n);
        return *ret ? 0 : -ENOMEM;
}

/* pre_deploy / post_deploy: {command: [...]}, a one-off container of the new revision. */
static int v_hook(const cJSON *deploy, const char *key, cJSON *out, Error *e) {
        static const char *const known[] = {"command", NULL};
        const cJSON *v = spec_member(deploy, key);
        Path f = path_key("spec.deploy", key), fc;
        _cleanup_json_ cJSON *command = NULL;
        cJSON *o;
        int r;

        if (!v)
                return 0;
        r = check_map(v, f.s, known, NULL, NULL, e);
        if (r < 0)
                return r;
        fc = path_key(f.s, "command");
        if (!spec_member(v, "command"))
                return verr(e, -EINVAL, R_REQUIRED, fc.s,
                            "is required (the hook's command, such as [./migrate, up])");
        r = want_string_list(spec_member(v, "command"), fc.s, true, CONTAINER_ARGV_MAX, &command,
                             e);
        if (r < 0)
                return r;
        if (cJSON_GetArraySize(command) == 0)
                return verr(e, -EINVAL, R_REQUIRED, fc.s, "must not be empty");
        o = cJSON_CreateObject();
        r = json_add_item_take(o, "command", TAKE_PTR(command));
        if (r < 0) {
                cJSON_Delete(o);
                return r;
        }
        return json_add_item_take(out, key, o);
}

int validate_service_deploy(const cJSON *spec, cJSON *out, Error *e) {
        static const char *const known[] = {
                "strategy",      "max_surge",  "max_unavailable", "progress_deadline",
                "auto_rollback", "pre_deploy", "post_deploy",     NULL,
        };
        static const char *const strategies[] = {"rolling", "recreate", NULL};
        const cJSON *v = spec_member(spec, "deploy"), *f;
        _cleanup_json_ cJSON *o = NULL, *surge = NULL, *unavailable = NULL;
        const char *strategy = "rolling";
        usec_t deadline = DEPLOY_PROGRESS_DEADLINE_DEFAULT;
        bool rollback = false, surge_zero = false, unavailable_zero = true;
        char buf[64];
        int r;

        if (!v)
                return 0;
        r = check_map(v, "spec.deploy", known, NULL, NULL, e);
        if (r < 0)
                return r;
        f = spec_member(v, "strategy");
        if (f) {
                r = want_enum(f, "spec.deploy.strategy", strategies, &strategy, e);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < 2; i++) {
                const char *key = i == 0 ? "max_surge" : "max_unavailable";
                Path fk = path_key("spec.deploy", key);

                f = spec_member(v, key);
                if (!f)
                        continue;
                if (streq(strategy, "recreate"))
                        return verr(e, -EINVAL, R_INVALID_VALUE, fk.s,
                                    "only applies to strategy rolling (recreate stops every "
                                    "replica, then starts the new ones)");
                r = v_amount(f, fk.s, i == 0 ? &surge : &unavailable,
                             i == 0 ? &surge_zero : &unavailable_zero, e);
                if (r < 0)
                        return r;
        }
        if (streq(strategy, "rolling")) {
                if (!surge && !(surge = cJSON_CreateNumber(1)))
                        return -ENOMEM;
                if (!unavailable && !(unavailable = cJSON_CreateNumber(0)))
                        return -ENOMEM;
                if (surge_zero && unavailable_zero)
                        return verr(e, -EINVAL, R_CONFLICT, "spec.deploy.max_unavailable",
                                    "max_surge and max_unavailable cannot both be 0: a rolling "
                                    "deploy could never replace a replica");
        }
        f = spec_member(v, "progress_deadline");
        if (f) {
                r = want_duration(f, "spec.deploy.progress_deadline", DEPLOY_DEADLINE_MIN,
                                  DEPLOY_DEADLINE_MAX, &deadline, e);
                if (r < 0)
                        return r;
        }
        f = spec_member(v, "auto_rollback");
        if (f) {
                r = want_bool(f, "spec.deploy.auto_rollback", &rollback, e);
                if (r < 0)
                        return r;
        }

        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        r = json_add_item_take(o, "strategy", cJSON_CreateString(strategy));
        if (r >= 0 && surge)
                r = json_add_item_take(o, "max_surge", TAKE_PTR(surge));
        if (r >= 0 && unavailable)
                r = json_add_item_take(o, "max_unavailable", TAKE_PTR(unavailable));
        if (r >= 0)
                r = json_add_item_take(
                        o, "progress_deadline",
                        cJSON_CreateString(duration_format(deadline, buf, sizeof(buf))));
        if (r >= 0)
                r = json_add_item_take(o, "auto_rollback", cJSON_CreateBool(rollback));
        if (r >= 0)
                r = v_hook(v, "pre_deploy", o, e);
        if (r >= 0)
                r = v_hook(v, "post_deploy", o, e);
        if (r < 0)
                return r;
        return json_add_item_take(out, "deploy", TAKE_PTR(o));
}
