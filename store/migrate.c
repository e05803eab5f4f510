/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "schema/migrations.h"
#include "store/store-internal.h"
#include "store/store.h"

static bool version_recorded(const PGresult *res, int version) {
        for (int i = 0; i < PQntuples(res); i++) {
                int64_t v;

                if (store_get_i64(res, i, 0, &v) >= 0 && v == version)
                        return true;
        }
        return false;
}

/* Migration files hold several statements: the simple-query protocol runs them as one string.
 * The text is compiled in, never built from values. */
static int migration_apply(Store *s, const SchemaMigration *m, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        char version[16];
        ExecStatusType st;
        int r;

        res = PQexec(s->conn, m->sql);
        st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                r = store_translate_error(s, res, reterr);
                (void) err_prefix(reterr, "migration %s", m->name);
                return r;
        }

        snprintf(version, sizeof(version), "%d", m->version);
        r = store_query(s,
                        "INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES ($1::integer, $2, now())",
                        2, (const char *const[]){version, m->name}, 0, NULL, reterr);
        if (r < 0)
                return r;
        log_debug("applied migration %s", m->name);
        return 0;
}

int store_migrate(Store *s, Error *reterr) {
        _cleanup_(store_tx_release) StoreTx tx = {};
        _cleanup_pqclear_ PGresult *res = NULL;
        int highest, r;

        assert_return(s, -EINVAL);
        assert_return(!s->in_tx, -EBUSY);
        assert(schema_migrations_count > 0);

        highest = schema_migrations[schema_migrations_count - 1].version;

        r = store_tx_begin(s, &tx, reterr);
        if (r < 0)
                return r;
        r = store_query(s, "SET LOCAL statement_timeout = 0", 0, NULL, 0, NULL, reterr);
        if (r < 0)
                return r;
        r = store_query(s, "SELECT pg_advisory_xact_lock($1::bigint)", 1,
                        (const char *const[]){STORE_LOCK_MIGRATE}, 0, NULL, reterr);
        if (r < 0)
                return r;
        r = store_query(s,
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version integer PRIMARY KEY,"
                        " name text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())",
                        0, NULL, 0, NULL, reterr);
        if (r < 0)
                return r;
        r = store_query(s, "SELECT version FROM schema_migrations ORDER BY version", 0, NULL, 0,
                        &res, reterr);
        if (r < 0)
                return r;

        for (int i = 0; i < PQntuples(res); i++) {
                int64_t v;

                r = store_get_i64(res, i, 0, &v);
                if (r < 0)
                        return err_set(reterr, r, NULL, "state store: bad schema_migrations row");
                if (v > highest)
                        return err_set(reterr, -EPROTO, NULL,
                                       "state store schema version %" PRId64
                                       " is newer than this berthd (%d)",
                                       v, highest);
        }

        for (size_t i = 0; i < schema_migrations_count; i++) {
                const SchemaMigration *m = &schema_migrations[i];

                if (version_recorded(res, m->version))
                        continue;
                r = migration_apply(s, m, reterr);
                if (r < 0)
                        return r;
        }

        return store_tx_commit(&tx, reterr);
}
