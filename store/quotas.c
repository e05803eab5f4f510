/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#include "store/quotas.h"
#include "store/store-internal.h"

int store_quota_set(Store *s, const char *project, const ProjectQuota *q, const char *actor,
                    Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char cpu[32], mem[32], rep[32], detail[160];
        int r;

        assert_return(s && project && q, -EINVAL);
        snprintf(cpu, sizeof(cpu), "%.6f", q->max_cpu);
        snprintf(mem, sizeof(mem), "%" PRId64, q->max_memory);
        snprintf(rep, sizeof(rep), "%" PRId64, q->max_replicas);
        if (quota_is_empty(q))
                r = store_query(s, "DELETE FROM project_quotas WHERE project = $1", 1,
                                (const char *const[]){project}, 0, &res, reterr);
        else
                r = store_query(s,
                                "INSERT INTO project_quotas (project, max_cpu, max_memory, "
                                "max_replicas, updated_at) VALUES ($1, $2::float8, $3::bigint, "
                                "$4::bigint, now()) ON CONFLICT (project) DO UPDATE SET "
                                "max_cpu = EXCLUDED.max_cpu, max_memory = EXCLUDED.max_memory, "
                                "max_replicas = EXCLUDED.max_replicas, updated_at = now()",
                                4,
                                (const char *const[]){project, q->has_cpu ? cpu : NULL,
                                                      q->has_memory ? mem : NULL,
                                                      q->has_replicas ? rep : NULL},
                                0, &res, reterr);
        if (r < 0)
                return r;
        snprintf(detail, sizeof(detail), "project %s: max_cpu %s, max_memory %s, max_replicas %s",
                 project, q->has_cpu ? cpu : "-", q->has_memory ? mem : "-",
                 q->has_replicas ? rep : "-");
        return store_audit_add(s, actor, "quota_set", NULL, detail, reterr);
}

int store_quota_get(Store *s, const char *project, bool for_update, ProjectQuota *ret,
                    Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s && project && ret, -EINVAL);
        r = store_query(s,
                        for_update ? "SELECT max_cpu, max_memory, max_replicas FROM project_quotas "
                                     "WHERE project = $1 FOR UPDATE"
                                   : "SELECT max_cpu, max_memory, max_replicas FROM project_quotas "
                                     "WHERE project = $1",
                        1, (const char *const[]){project}, for_update ? 0 : STORE_Q_RETRY, &res,
                        reterr);
        if (r < 0)
                return r;
        *ret = (ProjectQuota){0};
        if (PQntuples(res) == 0)
                return 0;
        if (!PQgetisnull(res, 0, 0)) {
                ret->has_cpu = true;
                ret->max_cpu = strtod(PQgetvalue(res, 0, 0), NULL);
        }
        if (!PQgetisnull(res, 0, 1)) {
                ret->has_memory = true;
                if (store_get_i64(res, 0, 1, &ret->max_memory) < 0)
                        return err_set(reterr, -EIO, NULL, "state store: bad quota");
        }
        if (!PQgetisnull(res, 0, 2)) {
                ret->has_replicas = true;
                if (store_get_i64(res, 0, 2, &ret->max_replicas) < 0)
                        return err_set(reterr, -EIO, NULL, "state store: bad quota");
        }
        return 0;
}
