/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/spec-read.h"
#include "model/job.h"
#include "model/units.h"

static const char *const run_state_table[_JOB_RUN_STATE_MAX] = {
        [JOB_RUN_PENDING] = "PENDING",     [JOB_RUN_RUNNING] = "RUNNING",
        [JOB_RUN_SUCCEEDED] = "SUCCEEDED", [JOB_RUN_FAILED] = "FAILED",
        [JOB_RUN_TIMEOUT] = "TIMEOUT",
};

const char *job_run_state_to_string(JobRunState s) {
        if (s < 0 || s >= _JOB_RUN_STATE_MAX)
                return NULL;
        return run_state_table[s];
}

JobRunState job_run_state_from_string(const char *s) {
        if (!s)
                return _JOB_RUN_STATE_INVALID;
        for (int i = 0; i < _JOB_RUN_STATE_MAX; i++)
                if (streq(run_state_table[i], s))
                        return (JobRunState) i;
        return _JOB_RUN_STATE_INVALID;
}

void job_spec_release(JobSpec *s) {
        if (!s)
                return;
        service_spec_release(&s->container);
        s->from_service = mfree(s->from_service);
}

int job_spec_from_json(const cJSON *spec, JobSpec *ret, Error *reterr) {
        _cleanup_(job_spec_release) JobSpec s = {0};
        const cJSON *v;
        int r;

        assert_return(ret, -EINVAL);
        r = service_container_from_json(spec, &s.container, reterr);
        if (r < 0)
                return r;
        v = cJSON_GetObjectItemCaseSensitive(spec, "from_service");
        if (v && !cJSON_IsNull(v)) {
                if (!cJSON_IsString(v) || isempty(v->valuestring))
                        return spec_damaged(reterr, "spec.from_service", "not a name");
                s.from_service = b_strdup(v->valuestring);
                if (!s.from_service)
                        return -ENOMEM;
        }
        if (!s.container.image && !s.from_service)
                return spec_damaged(reterr, "spec.image", "missing");
        s.timeout = JOB_TIMEOUT_DEFAULT;
        v = cJSON_GetObjectItemCaseSensitive(spec, "timeout");
        if (v && (!cJSON_IsString(v) || duration_parse(v->valuestring, &s.timeout) < 0 ||
                  s.timeout == 0))
                return spec_damaged(reterr, "spec.timeout", "not a duration");
        *ret = s;
        s = (JobSpec){0};
        return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when there is none. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
        size_t len;
        unsigned cp;

        if (s[0] < 0x80)
                return s[0] != 0;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

void job_log_sanitize(char *s, size_t n) {
        unsigned char *u = (unsigned char *) s;

        for (size_t i = 0; i < n;) {
                size_t k = utf8_sequence(u + i, n - i);

                if (k == 0) {
                        u[i++] = '?';
                        continue;
                }
                i += k;
        }
}
