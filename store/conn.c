/* SPDX-License-Identifier: MIT */
#include <ctype.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/store-internal.h"
#include "store/store.h"

static void store_notice_processor(void *arg, const char *message) {
        (void) arg;
        log_debug("server notice: %s", message);
}

/* Defaults come first so that the caller's conninfo (expanded from "dbname") overrides them. */
int store_open(const char *conninfo, Store **ret, Error *reterr) {
        static const char *const keys[] = {
                "connect_timeout",
                "application_name",
                "client_encoding",
                "keepalives_idle",
                "keepalives_interval",
                "keepalives_count",
                "options",
                "dbname",
                NULL,
        };
        const char *const values[] = {
                "10",     "berthd", "UTF8", "30", "10", "3", "-c statement_timeout=30000",
                conninfo, NULL,
        };
        _cleanup_free_ Store *s = NULL;
        PGconn *conn;

        assert_return(conninfo, -EINVAL);
        assert_return(ret, -EINVAL);

        s = b_calloc(1, sizeof(Store));
        if (!s)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        conn = PQconnectdbParams(keys, values, 1);
        if (!conn)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (PQstatus(conn) != CONNECTION_OK) {
                /* A missing password is not worth retrying; anything else may be. */
                int r = PQconnectionNeedsPassword(conn) ? -EACCES : -ECONNREFUSED;
                char msg[256];

                snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
                msg[strcspn(msg, "\n")] = 0;
                PQfinish(conn);
                return err_set(reterr, r, NULL, "state store: %s", msg);
        }
        PQsetNoticeProcessor(conn, store_notice_processor, NULL);
        s->conn = conn;
        log_debug("connected (server %d)", PQserverVersion(conn));
        *ret = TAKE_PTR(s);
        return 0;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        if (s->conn) {
                /* Hand the lease over now rather than when the backend notices the close. */
                if (s->lease_held && PQstatus(s->conn) == CONNECTION_OK) {
                        PGresult *res = PQexec(s->conn, "SELECT pg_advisory_unlock_all()");
                        PQclear(res);
                }
                PQfinish(s->conn);
        }
        b_free(s);
        return NULL;
}

int store_reconnect(Store *s, Error *reterr) {
        assert(s);

        log_debug("reconnecting");
        s->in_tx = false;
        s->lease_held = false;
        if (s->listening) {
                s->listening = false;
                s->listen_lost = true;
        }
        PQreset(s->conn);
        if (PQstatus(s->conn) != CONNECTION_OK)
                return store_translate_error(s, NULL, reterr);
        PQsetNoticeProcessor(s->conn, store_notice_processor, NULL);
        return 0;
}

static int sqlstate_to_errno(const char *st) {
        if (!st || strlen(st) != 5)
                return -EIO;
        if (streq(st, "23505"))
                return -EEXIST; /* unique_violation */
        if (streq(st, "23503"))
                return -ENOENT; /* foreign_key_violation: the referenced resource is gone */
        if (strneq(st, "23", 2) || strneq(st, "22", 2))
                return -EINVAL; /* integrity / data exception (bad uuid, bad json) */
        if (streq(st, "40001") || streq(st, "40P01") || streq(st, "55P03") || streq(st, "53300"))
                return -EAGAIN; /* serialization, deadlock, lock timeout, too many clients */
        if (streq(st, "57014"))
                return -ETIMEDOUT; /* statement_timeout */
        if (strneq(st, "08", 2) || strneq(st, "57P", 3))
                return -ECONNRESET; /* connection exception, admin shutdown */
        if (strneq(st, "42", 2))
                return -EPROTO; /* schema mismatch: undefined table or column */
        return -EIO;
}

int store_translate_error(Store *s, const PGresult *res, Error *reterr) {
        const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        char msg[256];
        int r;

        if (!text)
                text = PQerrorMessage(s->conn);
        snprintf(msg, sizeof(msg), "%s", strempty(text));
        msg[strcspn(msg, "\n")] = 0;

        if (PQstatus(s->conn) == CONNECTION_BAD)
                r = -ECONNRESET;
        else if (!res)
                r = -EIO;
        else
                r = sqlstate_to_errno(st);
        log_debug("query failed: %s (%s)", msg, strna(st));
        return err_set(reterr, r, NULL, "state store: %s", msg[0] ? msg : "query failed");
}

int store_query(Store *s, const char *sql, int n_params, const char *const *params, unsigned flags,
                PGresult **ret, Error *reterr) {
        for (int attempt = 0;; attempt++) {
                _cleanup_pqclear_ PGresult *res = NULL;
                ExecStatusType st;
                int r;

                if (PQstatus(s->conn) == CONNECTION_BAD) {
                        if (s->in_tx)
                                return err_set(reterr, -ECONNRESET, NULL,
                                               "state store: connection lost in a transaction");
                        r = store_reconnect(s, reterr);
                        if (r < 0)
                                return r;
                }

                res = PQexecParams(s->conn, sql, n_params, NULL, params, NULL, NULL, 0);
                st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
                if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
                        if (ret)
                                *ret = TAKE_PTR(res);
                        return 0;
                }
                if (!res && PQstatus(s->conn) == CONNECTION_OK)
                        return err_set(reterr, -ENOMEM, NULL, "state store: out of memory");

                r = store_translate_error(s, res, reterr);
                if (r != -ECONNRESET || s->in_tx || !(flags & STORE_Q_RETRY) || attempt > 0)
                        return r;
                r = store_reconnect(s, reterr);
                if (r < 0)
                        return r;
        }
}

int store_ping(Store *s, Error *reterr) {
        assert_return(s, -EINVAL);
        return store_query(s, "SELECT 1", 0, NULL, STORE_Q_RETRY, NULL, reterr);
}

int store_begin(Store *s, Error *reterr) {
        int r;

        assert_return(s, -EINVAL);
        assert_return(!s->in_tx, -EBUSY);

        /* READ COMMITTED whatever the server default: apply relies on each statement seeing
         * rows committed by concurrent transactions (insert-or-lock). */
        r = store_query(s, "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL, 0, NULL, reterr);
        if (r < 0)
                return r;
        s->in_tx = true;
        return 0;
}

int store_commit(Store *s, Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s, -EINVAL);
        assert_return(s->in_tx, -EINVAL);

        /* COMMIT of a failed transaction "succeeds" as ROLLBACK: refuse it explicitly. */
        if (PQtransactionStatus(s->conn) == PQTRANS_INERROR) {
                store_rollback(s);
                return err_set(reterr, -EIO, NULL, "state store: transaction aborted by an error");
        }
        r = store_query(s, "COMMIT", 0, NULL, 0, &res, reterr);
        s->in_tx = false;
        if (r < 0)
                return r;
        if (!streq(PQcmdStatus(res), "COMMIT"))
                return err_set(reterr, -EIO, NULL, "state store: transaction rolled back");
        return 0;
}

void store_rollback(Store *s) {
        if (!s)
                return;
        s->in_tx = false;
        if (PQstatus(s->conn) != CONNECTION_OK)
                return;
        if (PQtransactionStatus(s->conn) == PQTRANS_IDLE)
                return;
        PQclear(PQexec(s->conn, "ROLLBACK"));
}

int store_tx_begin(Store *s, StoreTx *tx, Error *reterr) {
        int r;

        *tx = (StoreTx){.s = s, .owned = false};
        if (s->in_tx)
                return 0;
        r = store_begin(s, reterr);
        if (r < 0)
                return r;
        tx->owned = true;
        return 0;
}

int store_tx_commit(StoreTx *tx, Error *reterr) {
        if (!tx->owned)
                return 0;
        tx->owned = false;
        return store_commit(tx->s, reterr);
}

void store_tx_release(StoreTx *tx) {
        if (tx->s && tx->owned)
                store_rollback(tx->s);
        tx->owned = false;
}

const char *store_get(const PGresult *res, int row, int col) {
        if (row >= PQntuples(res) || col >= PQnfields(res) || PQgetisnull(res, row, col))
                return NULL;
        return PQgetvalue(res, row, col);
}

int store_get_i64(const PGresult *res, int row, int col, int64_t *ret) {
        const char *v = store_get(res, row, col);
        char *end;
        long long x;

        if (!v) {
                *ret = 0;
                return 0;
        }
        errno = 0;
        x = strtoll(v, &end, 10);
        if (errno != 0 || end == v || *end != 0)
                return -EBADMSG;
        *ret = (int64_t) x;
        return 0;
}

bool store_get_bool(const PGresult *res, int row, int col) {
        const char *v = store_get(res, row, col);
        return v && v[0] == 't';
}

int store_get_json(const PGresult *res, int row, int col, cJSON **ret, Error *reterr) {
        const char *v = store_get(res, row, col);
        cJSON *j;

        if (!v) {
                *ret = NULL;
                return 0;
        }
        j = cJSON_ParseWithLength(v, (size_t) PQgetlength(res, row, col));
        if (!j)
                return err_set(reterr, -EBADMSG, NULL, "state store: unparsable JSON column");
        *ret = j;
        return 0;
}

int store_text_hash(const char *text, char ret[65]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        if (EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
                return -EIO;
        for (unsigned i = 0; i < len; i++)
                snprintf(ret + 2 * i, 3, "%02x", md[i]);
        return 0;
}

bool store_uuid_is_valid(const char *s) {
        if (!s || strlen(s) != 36)
                return false;
        for (int i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!isxdigit((unsigned char) s[i]))
                        return false;
        }
        return true;
}

/* Runs a query answering one json column and parses it. */
int store_query_json(Store *s, const char *sql, int n, const char *const *params, cJSON **ret,
                     Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        cJSON *j;
        int r;

        r = store_query(s, sql, n, params, STORE_Q_RETRY, &res, reterr);
        if (r < 0)
                return r;
        r = store_get_json(res, 0, 0, &j, reterr);
        if (r < 0)
                return r;
        if (!j)
                return err_set(reterr, -EBADMSG, NULL, "state store: empty reply");
        *ret = j;
        return 0;
}
