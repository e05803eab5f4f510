/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/store-internal.h"
#include "store/store.h"

static void lease_drop(Store *s) {
        if (s->lease_held && PQstatus(s->conn) == CONNECTION_OK &&
            store_query(s, "SELECT pg_advisory_unlock($1::bigint)", 1,
                        (const char *const[]){STORE_LOCK_LEADER}, 0, NULL, NULL) < 0)
                log_debug("cannot release the leader lock; it goes with the session");
        s->lease_held = false;
        s->lease_epoch = 0;
}

/* Held already: renew the row, checking the epoch is still ours. 1: still leading, 0: lost. */
static int lease_renew(Store *s, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char ep[32];
        int r;

        snprintf(ep, sizeof(ep), "%" PRId64, s->lease_epoch);
        r = store_query(s,
                        "UPDATE leases SET renewed_at = now() "
                        "WHERE name = '" STORE_LEASE_NAME
                        "' AND epoch = $1::bigint RETURNING epoch",
                        1, (const char *const[]){ep}, 0, &res, reterr);
        if (r < 0) {
                if (PQstatus(s->conn) != CONNECTION_OK)
                        s->lease_held = false; /* the lock went with the session */
                return r;
        }
        /* A reconnect inside store_query released the lock: the row says nothing then. */
        if (!s->lease_held)
                return 0;
        if (PQntuples(res) == 0) {
                log_debug("lease epoch %" PRId64 " superseded", s->lease_epoch);
                lease_drop(s);
                return 0;
        }
        return 1;
}

int store_lease_acquire(Store *s, const char *holder, int64_t *ret_epoch, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int64_t epoch;
        int r;

        assert_return(s, -EINVAL);
        assert_return(!s->in_tx, -EBUSY);

        if (s->lease_held) {
                r = lease_renew(s, reterr);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (ret_epoch)
                                *ret_epoch = s->lease_epoch;
                        return 1;
                }
        }

        r = store_query(s, "SELECT pg_try_advisory_lock($1::bigint)", 1,
                        (const char *const[]){STORE_LOCK_LEADER}, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        if (!store_get_bool(res, 0, 0))
                return 0;
        s->lease_held = true; /* from here a reconnect clears it */

        res = store_result_free(res);
        r = store_query(s,
                        "INSERT INTO leases (name, holder, epoch, renewed_at) "
                        "VALUES ('" STORE_LEASE_NAME "', $1, 1, now()) "
                        "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
                        "  epoch = leases.epoch + 1, renewed_at = now() "
                        "RETURNING epoch",
                        1, (const char *const[]){strempty(holder)}, 0, &res, reterr);
        if (r >= 0 && store_get_i64(res, 0, 0, &epoch) < 0)
                r = err_set(reterr, -EBADMSG, NULL, "state store: bad lease epoch");
        if (r < 0) {
                lease_drop(s);
                return r;
        }
        if (!s->lease_held)
                return 0;
        s->lease_epoch = epoch;
        log_debug("lease acquired by %s, epoch %" PRId64, strempty(holder), epoch);
        if (ret_epoch)
                *ret_epoch = epoch;
        return 1;
}
