/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/resource.h"
#include "store/store.h"
#include "util/error.h"
#include "util/macro.h"

/* Users, project memberships, API tokens, revoked session tokens and login failures
 * (schema/0002_auth.sql). Roles travel as text ("viewer", "operator", "editor", "owner"); the API
 * turns them into its ordered enum. Secrets never reach this module: passwords arrive hashed,
 * tokens as the sha256 of their secret. Same error conventions as store.h: -ENOENT absent,
 * -EEXIST duplicate, -EINVAL refused by a CHECK. */

#define STORE_USER_MAX        64 /* user names: [a-z0-9][a-z0-9._-]{0,63} */
#define STORE_ROLE_MAX        15
#define STORE_TOKEN_ID_LEN    16 /* hex */
#define STORE_TOKEN_NAME      64
#define STORE_SHA256_HEX      64
#define STORE_MAX_MEMBERSHIPS 1000 /* per user, read at each authenticated request */

typedef struct StoreUser {
        char name[STORE_USER_MAX + 1];
        char *password_hash; /* owned */
        bool admin;
} StoreUser;

void store_user_release(StoreUser *u);

typedef struct StoreMembership {
        char project[NAME_MAX_LEN + 1];
        char role[STORE_ROLE_MAX + 1];
} StoreMembership;

typedef struct StoreToken {
        char id[STORE_TOKEN_ID_LEN + 1];
        char name[STORE_TOKEN_NAME + 1];
        char owner[STORE_USER_MAX + 1];
        char project[NAME_MAX_LEN + 1];
        char role[STORE_ROLE_MAX + 1];
        char secret_sha256[STORE_SHA256_HEX + 1];
        int64_t expires_at; /* unix seconds */
        bool expired;       /* by the store's clock */
} StoreToken;

/* ---- users ---- */

int store_user_create(Store *s, const char *name, const char *password_hash, bool admin,
                      Error *reterr) _warn_unused_result_;
/* -ENOENT when there is no such user. */
int store_user_get(Store *s, const char *name, StoreUser *ret, Error *reterr) _warn_unused_result_;
/* JSON array of {username, admin, created_at, memberships: [{project, role}]}, by name. */
int store_user_list(Store *s, cJSON **ret, Error *reterr) _warn_unused_result_;

/* ---- memberships ---- */

/* The user's memberships (at most STORE_MAX_MEMBERSHIPS), by project. *ret is b_free'd. */
int store_memberships_get(Store *s, const char *user, StoreMembership **ret, size_t *ret_n,
                          Error *reterr) _warn_unused_result_;
/* Inserts or changes the role. -ENOENT when the user does not exist. */
int store_membership_set(Store *s, const char *user, const char *project, const char *role,
                         Error *reterr) _warn_unused_result_;
/* -ENOENT when the user is not a member. */
int store_membership_delete(Store *s, const char *user, const char *project,
                            Error *reterr) _warn_unused_result_;
/* JSON array of {username, role, created_at} of one project, by name. */
int store_members_list(Store *s, const char *project, cJSON **ret,
                       Error *reterr) _warn_unused_result_;

/* ---- API tokens ---- */

int store_token_create(Store *s, const StoreToken *t, int64_t expires_in_sec,
                       Error *reterr) _warn_unused_result_;
/* -ENOENT when absent (expired tokens are returned with `expired` set). */
int store_token_get(Store *s, const char *id, StoreToken *ret, Error *reterr) _warn_unused_result_;
/* JSON array of {id, name, owner, project, role, created_at, expires_at, expired}, newest first;
 * never the hash. */
int store_token_list(Store *s, cJSON **ret, Error *reterr) _warn_unused_result_;
int store_token_delete(Store *s, const char *id, Error *reterr) _warn_unused_result_;

/* ---- revoked session tokens ---- */

/* Records jti as revoked until exp (unix seconds) and prunes rows already past their expiry.
 * Revoking twice is fine. */
int store_revocation_add(Store *s, const char *jti, int64_t exp,
                         Error *reterr) _warn_unused_result_;
/* 1 when jti is revoked, 0 otherwise. */
int store_revocation_check(Store *s, const char *jti, Error *reterr) _warn_unused_result_;

/* ---- login failures ---- */

/* Failures within the last window_sec seconds for the username and for the address, and the
 * seconds until the older of the limiting ones leaves the window (>= 1) in ret_retry_after. */
typedef struct StoreLoginFailures {
        int64_t by_user;
        int64_t by_address;
        int64_t user_retry_after;
        int64_t address_retry_after;
} StoreLoginFailures;

int store_login_failures_count(Store *s, const char *user, const char *address, int64_t window_sec,
                               int64_t limit, StoreLoginFailures *ret,
                               Error *reterr) _warn_unused_result_;
/* Records one failure and prunes rows older than window_sec. */
int store_login_failure_add(Store *s, const char *user, const char *address, int64_t window_sec,
                            Error *reterr) _warn_unused_result_;
/* Forgets the username's failures (after a successful login). */
int store_login_failures_clear(Store *s, const char *user, Error *reterr) _warn_unused_result_;
