/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/macro.h"

/* The pure parts of authentication: base64url, HS256 JSON Web Tokens, scrypt password hashes
 * and API token strings. No I/O and no clock: `now` is an argument; randomness comes from
 * RAND_bytes only in the *_new()/password_hash() wrappers. Unit-tested by tests/unit/test-jwt.c.
 *
 * Secrets are compared in constant time (CRYPTO_memcmp), and none of these functions logs. */

/* ---- base64url (RFC 4648 section 5), no padding ---- */

/* Appends the encoding of data to out. */
int b64url_encode(const void *data, size_t n, Buf *out) _warn_unused_result_;
/* Strict decoding of s[0..n): the url alphabet only, no padding, no whitespace, a length that is
 * not 1 mod 4, and zero unused bits in the last character (one encoding per byte string).
 * -EBADMSG when malformed, -E2BIG when the result exceeds cap. */
int b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                  size_t *ret_n) _warn_unused_result_;

/* ---- JSON Web Tokens, HS256 only ---- */

#define JWT_KEY_LEN    32   /* HMAC-SHA256 key bytes ($BERTH_DATA_DIR/jwt.key) */
#define JWT_MAX_LEN    4096 /* a longer token is refused before any parsing */
#define JWT_LEEWAY_SEC 60   /* clock skew accepted on exp and iat */
#define JWT_SUB_MAX    64
#define JWT_JTI_MAX    64

typedef struct JwtClaims {
        char sub[JWT_SUB_MAX + 1]; /* the user name */
        int64_t iat;               /* issued at, unix seconds */
        int64_t exp;               /* expires at, unix seconds */
        char jti[JWT_JTI_MAX + 1]; /* token id, for revocation */
} JwtClaims;

/* header {"alg":"HS256","typ":"JWT"} . payload {"sub","iat","exp","jti"} . HMAC-SHA256.
 * *ret is b_free'd. */
int jwt_encode(const uint8_t key[JWT_KEY_LEN], const JwtClaims *c, char **ret) _warn_unused_result_;

/* Verifies token at time now (unix seconds). Refusals:
 *   -EBADMSG       not three base64url segments of JSON objects, claims missing or mistyped
 *   -EPROTONOSUPPORT  a header other than exactly {"alg":"HS256","typ":"JWT"} (alg none too)
 *   -EKEYREJECTED  bad signature (compared in constant time)
 *   -EKEYEXPIRED   exp + leeway is past
 *   -ERANGE        iat - leeway is in the future
 * The header is checked before the signature, the claims only after it. */
int jwt_verify(const uint8_t key[JWT_KEY_LEN], const char *token, int64_t now, JwtClaims *ret,
               Error *reterr) _warn_unused_result_;

/* 16 random bytes as 32 hex characters. */
int jwt_jti_new(char ret[33]) _warn_unused_result_;

/* ---- scrypt password hashes: "scrypt$N$r$p$salt$hash" (salt and hash in base64url) ---- */

#define PASSWORD_SCRYPT_N    (UINT64_C(1) << 15)
#define PASSWORD_SCRYPT_R    8
#define PASSWORD_SCRYPT_P    1
#define PASSWORD_SALT_LEN    16
#define PASSWORD_HASH_LEN    32
#define PASSWORD_MAX_LEN     1024 /* bytes of a password */
#define PASSWORD_MAX_ENCODED 256

typedef struct ScryptHash {
        uint64_t N;
        uint32_t r, p;
        uint8_t salt[64];
        size_t salt_len;
        uint8_t hash[64];
        size_t hash_len;
} ScryptHash;

/* Strict parse: N a power of two in [2^10, 2^20], r in [1, 32], p in [1, 16], r*p <= 32,
 * salt 8..64 bytes, hash 16..64 bytes, decimal numbers without sign or leading zeros. -EINVAL. */
int password_parse(const char *encoded, ScryptHash *ret) _warn_unused_result_;
int password_format(const ScryptHash *h, char **ret) _warn_unused_result_;
/* Deterministic: the given salt and parameters. */
int password_hash_with(const char *password, const uint8_t *salt, size_t salt_len, uint64_t N,
                       uint32_t r, uint32_t p, char **ret) _warn_unused_result_;
/* A random 16-byte salt, N=2^15 r=8 p=1. */
int password_hash(const char *password, char **ret) _warn_unused_result_;
/* 1 when password matches encoded, 0 when not, -EINVAL when encoded is unparsable. */
int password_verify(const char *password, const char *encoded) _warn_unused_result_;

/* ---- API tokens: "bt_<id>_<secret>" ---- */

#define API_TOKEN_PREFIX     "bt_"
#define API_TOKEN_ID_LEN     16 /* hex of 8 random bytes */
#define API_TOKEN_SECRET_LEN 43 /* base64url of 32 random bytes */
#define API_TOKEN_LEN        (STRLEN(API_TOKEN_PREFIX) + API_TOKEN_ID_LEN + 1 + API_TOKEN_SECRET_LEN)
#define SHA256_HEX_LEN       64

/* Splits a token into its id and the sha256 (hex) of its secret's 32 bytes. -EBADMSG when the
 * string is not exactly a token. */
int api_token_parse(const char *token, char ret_id[API_TOKEN_ID_LEN + 1],
                    char ret_sha256[SHA256_HEX_LEN + 1]) _warn_unused_result_;
/* A fresh random token (*ret_token b_free'd) with its id and secret hash. */
int api_token_new(char **ret_token, char ret_id[API_TOKEN_ID_LEN + 1],
                  char ret_sha256[SHA256_HEX_LEN + 1]) _warn_unused_result_;

/* Constant-time equality of two NUL-terminated strings of public length (hex digests). */
bool secret_equal(const char *a, const char *b);
