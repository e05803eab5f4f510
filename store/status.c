/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/store-internal.h"
#include "store/store.h"

/* The minimal status document when the caller has none. */
static char *status_minimal_text(const Status *st) {
        _cleanup_cjson_ cJSON *j = cJSON_CreateObject();

        if (!j || !cJSON_AddStringToObject(j, "phase", phase_to_string(st->phase)) ||
            !cJSON_AddNumberToObject(j, "observed_generation", (double) st->observed_generation) ||
            !cJSON_AddStringToObject(j, "message", strempty(st->message)))
                return NULL;
        return cJSON_PrintUnformatted(j);
}

int store_status_write(Store *s, const char *uuid, int64_t epoch, const Status *st,
                       const cJSON *status_json, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        _cleanup_cjson_free_ char *text = NULL;
        const char *phase;
        char ep[32], gen[32];
        int r;

        assert_return(s, -EINVAL);
        assert_return(uuid && st, -EINVAL);
        phase = phase_to_string(st->phase);
        assert_return(phase, -EINVAL);

        if (!store_uuid_is_valid(uuid))
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "resource %s not found", uuid);
        text = status_json ? cJSON_PrintUnformatted(status_json) : status_minimal_text(st);
        if (!text)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        snprintf(ep, sizeof(ep), "%" PRId64, epoch);
        snprintf(gen, sizeof(gen), "%" PRId64, st->observed_generation);

        /* One statement: the lease row is share-locked, so a new leader's epoch bump waits for
         * this write, and any write after the bump sees the new epoch and does nothing. An
         * unchanged status is not rewritten and not announced. */
        r = store_query(
                s,
                "WITH lease AS MATERIALIZED (SELECT epoch FROM leases "
                "  WHERE name = '" STORE_LEASE_NAME "' AND epoch = $2::bigint FOR SHARE), "
                "old AS MATERIALIZED (SELECT uuid, phase FROM resources "
                "  WHERE uuid = $1::uuid AND EXISTS (SELECT 1 FROM lease) FOR UPDATE), "
                "upd AS (UPDATE resources r SET phase = $3, observed_generation = $4::bigint, "
                "    message = left($5, 1024), status = $6::json "
                "  FROM old WHERE r.uuid = old.uuid "
                "    AND (r.phase, r.observed_generation, r.message, r.status::text) "
                "      IS DISTINCT FROM ($3, $4::bigint, left($5, 1024), $6) "
                "  RETURNING r.uuid), "
                "ev AS (INSERT INTO events (resource_uuid, type, reason, message) "
                "  SELECT uuid, $7, 'PhaseChanged', "
                "    left(phase || ' → ' || $3 || coalesce(': ' || nullif($5, ''), ''), 1024) "
                "  FROM old WHERE phase <> $3 RETURNING id), "
                "note AS (SELECT pg_notify('" STORE_CHANNEL_STATUS "', uuid::text) FROM upd) "
                "SELECT (SELECT count(*) FROM lease), (SELECT count(*) FROM old), "
                "  (SELECT count(*) FROM ev), (SELECT count(*) FROM note)",
                7,
                (const char *const[]){
                        uuid,
                        ep,
                        phase,
                        gen,
                        strempty(st->message),
                        text,
                        st->phase == PHASE_FAILED || st->phase == PHASE_DEGRADED ? "Warning"
                                                                                 : "Normal",
                },
                0, &res, reterr);
        if (r < 0)
                return r;
        if (streq(strempty(store_get(res, 0, 0)), "0"))
                return err_set(reterr, -ESTALE, NULL, "lease epoch %" PRId64 " is stale", epoch);
        if (streq(strempty(store_get(res, 0, 1)), "0"))
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "resource %s not found", uuid);
        log_debug("status %s: %s (generation %" PRId64 ")%s", uuid, phase, st->observed_generation,
                  streq(strempty(store_get(res, 0, 3)), "0") ? ", unchanged" : "");
        return 0;
}

int store_phase_counts(Store *s, int64_t counts[], Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s, -EINVAL);
        assert_return(counts, -EINVAL);

        r = store_query(s, "SELECT phase, count(*) FROM resources GROUP BY phase", 0, NULL,
                        STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        for (int p = 0; p < _PHASE_MAX; p++)
                counts[p] = 0;
        for (int i = 0; i < PQntuples(res); i++) {
                Phase p = phase_from_string(store_get(res, i, 0));
                int64_t n;

                if (p < 0)
                        continue;
                r = store_get_i64(res, i, 1, &n);
                if (r < 0)
                        return err_set(reterr, r, NULL, "state store: bad count");
                counts[p] = n;
        }
        return 0;
}
