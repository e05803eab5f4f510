/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/json-util.h"
#include "model/quota.h"
#include "model/units.h"
#include "model/validate-util.h"

#define R_QUOTA_EXCEEDED   "QUOTA_EXCEEDED"
#define QUOTA_CPU_MAX      4096.0
#define QUOTA_REPLICAS_MAX 1000000

static const char *const quota_fields[] = {"max_cpu", "max_memory", "max_replicas", NULL};

int quota_from_json(const cJSON *body, ProjectQuota *ret, Error *reterr) {
        ProjectQuota q = {0};
        const cJSON *v;
        int r;

        assert_return(ret, -EINVAL);
        r = want_map(body, "quota", reterr);
        if (r < 0)
                return r;
        r = check_map(body, "quota", quota_fields, NULL, NULL, reterr);
        if (r < 0)
                return r;
        if ((v = spec_member(body, "max_cpu"))) {
                r = want_number(v, "max_cpu", 0.01, QUOTA_CPU_MAX, &q.max_cpu, reterr);
                if (r < 0)
                        return r;
                q.has_cpu = true;
        }
        if ((v = spec_member(body, "max_memory"))) {
                const char *s;
                r = want_string(v, "max_memory", 32, &s, reterr);
                if (r < 0)
                        return r;
                if (memory_parse(s, &q.max_memory) < 0 || q.max_memory <= 0)
                        return verr(reterr, -EINVAL, R_INVALID_VALUE, "max_memory",
                                    "\"%s\" is not a size such as 4Gi", s);
                q.has_memory = true;
        }
        if ((v = spec_member(body, "max_replicas"))) {
                r = want_int(v, "max_replicas", 0, QUOTA_REPLICAS_MAX, &q.max_replicas, reterr);
                if (r < 0)
                        return r;
                q.has_replicas = true;
        }
        *ret = q;
        return 0;
}

bool quota_is_empty(const ProjectQuota *q) {
        return !q->has_cpu && !q->has_memory && !q->has_replicas;
}

cJSON *quota_to_json(const ProjectQuota *q) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        if (json_add_item_take(o, "max_cpu",
                               q->has_cpu ? cJSON_CreateNumber(q->max_cpu) : cJSON_CreateNull()) <
                    0 ||
            json_add_item_take(o, "max_memory",
                               q->has_memory ? cJSON_CreateNumber((double) q->max_memory)
                                             : cJSON_CreateNull()) < 0 ||
            json_add_item_take(o, "max_replicas",
                               q->has_replicas ? cJSON_CreateNumber((double) q->max_replicas)
                                               : cJSON_CreateNull()) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int quota_add_service(const ProjectQuota *q, const char *name, const cJSON *spec, QuotaUsage *u,
                      Error *reterr) {
        const cJSON *replicas = cJSON_GetObjectItemCaseSensitive(spec, "replicas");
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(spec, "resources");
        const cJSON *cpu = res ? cJSON_GetObjectItemCaseSensitive(res, "cpu") : NULL;
        const cJSON *mem = res ? cJSON_GetObjectItemCaseSensitive(res, "memory") : NULL;
        int64_t n = cJSON_IsNumber(replicas) ? (int64_t) replicas->valuedouble : 1;

        assert_return(q && spec && u, -EINVAL);
        if ((q->has_cpu || q->has_memory) && n > 0 &&
            (!cJSON_IsNumber(cpu) || !cJSON_IsNumber(mem)))
                return err_setr(reterr, -EDQUOT, R_QUOTA_EXCEEDED, "spec.resources",
                                "spec.resources: docker_service %s has no cpu/memory limits, and "
                                "its project has a cpu or memory quota: set plan or resources",
                                strna(name));
        u->replicas += n;
        if (cJSON_IsNumber(cpu))
                u->cpu += cpu->valuedouble * (double) n;
        if (cJSON_IsNumber(mem))
                u->memory += (int64_t) mem->valuedouble * n;
        return 0;
}

int quota_check(const ProjectQuota *q, const char *project, const QuotaUsage *u, Error *reterr) {
        assert_return(q && u, -EINVAL);
        if (q->has_replicas && u->replicas > q->max_replicas)
                return err_setr(reterr, -EDQUOT, R_QUOTA_EXCEEDED, "spec.replicas",
                                "spec.replicas: project %s would run %" PRId64
                                " replicas, over its quota of %" PRId64,
                                strna(project), u->replicas, q->max_replicas);
        /* A hundredth of a core of slack: cpu values are decimal fractions in binary floats. */
        if (q->has_cpu && u->cpu > q->max_cpu + 0.005)
                return err_setr(reterr, -EDQUOT, R_QUOTA_EXCEEDED, "spec.resources.cpu",
                                "spec.resources.cpu: project %s would use %.2f CPUs, over its "
                                "quota of %.2f",
                                strna(project), u->cpu, q->max_cpu);
        if (q->has_memory && u->memory > q->max_memory)
                return err_setr(reterr, -EDQUOT, R_QUOTA_EXCEEDED, "spec.resources.memory",
                                "spec.resources.memory: project %s would use %" PRId64
                                " MiB, over its quota of %" PRId64 " MiB",
                                strna(project), u->memory >> 20, q->max_memory >> 20);
        return 0;
}
