/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the store's .c files only: the Store object, the query helper with error translation
 * and reconnect, and small conversions. Nothing here leaves store/ (PGresult never does). */

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "model/resource.h"
#include "model/status.h"
#include "store/store.h"
#include "util/error.h"
#include "util/macro.h"

/* Caps on text pulled from or pushed into the store. */
#define STORE_MAX_MESSAGE  1024        /* event and status messages, characters */
#define STORE_MAX_LOG      (64 * 1024) /* operation logs: the tail is kept */
#define STORE_MAX_LIST     1000        /* events / operations per list call */
#define STORE_DEFAULT_LIST 100

/* pg_advisory_lock keys: "berthmig" and "berthldr" in ASCII. */
#define STORE_LOCK_MIGRATE "7089074584286930279"
#define STORE_LOCK_LEADER  "7089074584288355442"
#define STORE_LEASE_NAME   "controller"

struct Store {
        PGconn *conn;
        bool in_tx;       /* between store_begin and store_commit/rollback */
        bool listening;   /* LISTEN was issued on this session */
        bool listen_lost; /* the session was replaced since: LISTEN state is gone */
        bool lease_held;  /* this session holds the leader advisory lock */
        int64_t lease_epoch;
};

/* Query flags. */
enum {
        /* The statement may run twice (a read, or idempotent): after a lost connection outside
         * a transaction, reconnect and run it again once. */
        STORE_Q_RETRY = 1 << 0,
};

static inline void pqclearp(PGresult **r) {
        if (*r)
                PQclear(*r);
}
#define _cleanup_pqclear_ _cleanup_(pqclearp)

static inline void store_cjson_deletep(cJSON **j) {
        cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(store_cjson_deletep)

/* Strings from cJSON_Print*: freed with cJSON_free (which is b_free once hooks are set). */
static inline void store_cjson_freep(char **p) {
        if (*p)
                cJSON_free(*p);
}
#define _cleanup_cjson_free_ _cleanup_(store_cjson_freep)

/* Runs one parameterised statement (text parameters and results). NULL parameters are SQL NULL.
 * Reconnects first when the connection is known to be bad and no transaction is open.
 * ret may be NULL. Errors are translated to negative errno with the server's text in reterr. */
int store_query(Store *s, const char *sql, int n_params, const char *const *params, unsigned flags,
                PGresult **ret, Error *reterr) _warn_unused_result_;
/* PQreset; on success the session's advisory locks and LISTENs are gone. */
int store_reconnect(Store *s, Error *reterr) _warn_unused_result_;
/* Maps a failed result (or the connection's state when res is NULL) to -errno and reterr. */
int store_translate_error(Store *s, const PGresult *res, Error *reterr);

/* A transaction owned by the callee unless the caller already opened one. */
typedef struct StoreTx {
        Store *s;
        bool owned;
} StoreTx;

int store_tx_begin(Store *s, StoreTx *tx, Error *reterr) _warn_unused_result_;
int store_tx_commit(StoreTx *tx, Error *reterr) _warn_unused_result_;
/* Rolls back when still owned (cleanup handler). */
void store_tx_release(StoreTx *tx);

/* Column accessors; value NULL → NULL / 0. */
const char *store_get(const PGresult *res, int row, int col);
int store_get_i64(const PGresult *res, int row, int col, int64_t *ret) _warn_unused_result_;
bool store_get_bool(const PGresult *res, int row, int col);
/* Parses a json/jsonb column into *ret (NULL when SQL NULL). */
/* Runs a query answering one json column (row 0) and parses it; an empty reply is -EBADMSG. */
int store_query_json(Store *s, const char *sql, int n, const char *const *params, cJSON **ret,
                     Error *reterr) _warn_unused_result_;
int store_get_json(const PGresult *res, int row, int col, cJSON **ret,
                   Error *reterr) _warn_unused_result_;

/* sha256 hex of the canonical (unformatted) JSON text. */
int store_text_hash(const char *text, char ret[65]) _warn_unused_result_;

/* Checks a caller-supplied uuid's syntax (8-4-4-4-12 hex), so a bad one is -EINVAL early. */
bool store_uuid_is_valid(const char *s);

/* PQclear that takes NULL and returns NULL, for `res = store_result_free(res)`. */
static inline PGresult *store_result_free(PGresult *r) {
        if (r)
                PQclear(r);
        return NULL;
}
