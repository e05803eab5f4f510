/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/job.h"
#include "model/json-util.h"
#include "model/resource.h"
#include "model/units.h"
#include "model/validate-container.h"
#include "model/validate-util.h"

/* job: validation and normalisation. The container fields are docker_service's
 * (model/validate-container.c); the job adds timeout and from_service. */

static const char *const spec_fields[] = {
        "image",     "from_service", "command", "args",    "env",        "plan",
        "resources", "networks",     "timeout", "secrets", "depends_on", NULL,
};

/* from_service: a docker_service of the same project whose image, command, env, secrets and
 * dependencies a run reuses (the job's own override them). */
static int v_from_service(const cJSON *spec, const char **ret, Error *e) {
        const cJSON *v = spec_member(spec, "from_service");
        const char *s;
        int r;

        *ret = NULL;
        if (!v)
                return 0;
        r = want_string(v, "spec.from_service", NAME_MAX_LEN, &s, e);
        if (r < 0)
                return r;
        if (!name_is_valid(s))
                return verr(e, -EINVAL, R_INVALID_NAME, "spec.from_service",
                            "\"%s\" is not a valid docker_service name", s);
        *ret = s;
        return 0;
}

static int v_timeout(const cJSON *spec, cJSON *out, Error *e) {
        const cJSON *v = spec_member(spec, "timeout");
        usec_t t = JOB_TIMEOUT_DEFAULT;
        char buf[64];
        int r;

        if (v) {
                r = want_duration(v, "spec.timeout", JOB_TIMEOUT_MIN, JOB_TIMEOUT_MAX, &t, e);
                if (r < 0)
                        return r;
        }
        return json_add_item_take(out, "timeout",
                                  cJSON_CreateString(duration_format(t, buf, sizeof(buf))));
}

int job_spec_validate(const cJSON *spec, cJSON **ret, Error *reterr) {
        _cleanup_json_ cJSON *out = NULL;
        const char *from = NULL;
        int r;

        assert_return(ret, -EINVAL);
        if (!spec)
                return verr(reterr, -EINVAL, R_REQUIRED, "spec", "is required (with an image)");
        r = check_map(spec, "spec", spec_fields, NULL, NULL, reterr);
        if (r < 0)
                return r;
        r = v_from_service(spec, &from, reterr);
        if (r < 0)
                return r;
        out = cJSON_CreateObject();
        if (!out)
                return -ENOMEM;

        /* Fixed order: this is the order of the normalised output. */
        r = validate_container_image(spec,
                                     from ? NULL
                                          : "is required (the container image to run, e.g. "
                                            "berth/busybox), unless from_service names a "
                                            "docker_service to take it from",
                                     out, reterr);
        if (r >= 0 && from)
                r = json_add_item_take(out, "from_service", cJSON_CreateString(from));
        if (r >= 0)
                r = validate_container_argv(spec, "command", out, reterr);
        if (r >= 0)
                r = validate_container_argv(spec, "args", out, reterr);
        if (r >= 0)
                r = validate_container_env(spec, out, reterr);
        if (r >= 0)
                r = validate_container_resources(spec, out, reterr);
        if (r >= 0)
                r = validate_container_networks(spec, out, reterr);
        if (r >= 0)
                r = v_timeout(spec, out, reterr);
        if (r >= 0)
                r = validate_container_secrets(spec, out, reterr);
        if (r >= 0)
                r = validate_container_depends_on(spec, out, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}
