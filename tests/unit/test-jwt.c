/* SPDX-License-Identifier: MIT */
/* The pure parts of authentication (api/jwt.c, api/authz.c, api/exposure.c): base64url, HS256
 * JWT encode/verify and its refusals, scrypt hash format and verification, API token strings,
 * role checks and the exposure policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/hmac.h>

#include "util/common.h"

#include "api/api.h"
#include "api/jwt.h"
#include "api/server.h"

static const uint8_t key[JWT_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const uint8_t other_key[JWT_KEY_LEN] = "fedcba9876543210fedcba987654321";

#define NOW INT64_C(1800000000)

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

static char *b64(const void *p, size_t n) {
        _cleanup_(buf_release) Buf b = BUF_INIT(JWT_MAX_LEN * 2);

        assert_int_equal(b64url_encode(p, n, &b), 0);
        return buf_take(&b);
}

static char *b64s(const char *s) {
        return b64(s, strlen(s));
}

/* ---- base64url ------------------------------------------------------------------------------ */

static void test_b64url_vectors(void **state) {
        static const struct {
                const char *in, *out;
        } v[] = {
                {"", ""},
                {"f", "Zg"},
                {"fo", "Zm8"},
                {"foo", "Zm9v"},
                {"foob", "Zm9vYg"},
                {"fooba", "Zm9vYmE"},
                {"foobar", "Zm9vYmFy"},
                {"\xfb\xff", "-_8"},
                {"\xff\xff\xfe", "___-"},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_free_ char *e = b64s(v[i].in);
                uint8_t out[16];
                size_t n = 99;

                assert_string_equal(e, v[i].out);
                assert_int_equal(b64url_decode(e, strlen(e), out, sizeof(out), &n), 0);
                assert_int_equal(n, strlen(v[i].in));
                assert_memory_equal(out, v[i].in, n);
        }
}

static void test_b64url_round_trip(void **state) {
        uint8_t in[70], out[70];
        (void) state;

        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t) (i * 37 + 11);
        for (size_t n = 0; n <= sizeof(in); n++) {
                _cleanup_free_ char *e = b64(in, n);
                size_t m = 0;

                assert_int_equal(strlen(e) % 4 == 1, false);
                assert_int_equal(b64url_decode(e, strlen(e), out, sizeof(out), &m), 0);
                assert_int_equal(m, n);
                assert_memory_equal(in, out, n);
        }
}

static void test_b64url_refusals(void **state) {
        static const char *const bad[] = {
                "Zg==",      /* padding */
                "Zg=",  "Z", /* 1 mod 4 */
                "Zh",        /* non-zero unused bits: not canonical */
                "Zm9=", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9v\n", "Zm9v.", "\xc3\xa9",
        };
        uint8_t out[16];
        size_t n;
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(b64url_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n),
                                 -EBADMSG);
        /* Too long for the buffer. */
        assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5, &n), -E2BIG);
        assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 6, &n), 0);
        assert_int_equal(n, 6);
        assert_int_equal(b64url_decode("", 0, out, 0, &n), 0);
        assert_int_equal(n, 0);
}

/* ---- JWT ------------------------------------------------------------------------------------ */

static JwtClaims claims(int64_t iat, int64_t exp) {
        JwtClaims c = {.iat = iat, .exp = exp};

        snprintf(c.sub, sizeof(c.sub), "alice");
        snprintf(c.jti, sizeof(c.jti), "0123456789abcdef0123456789abcdef");
        return c;
}

static int verify(const char *token, int64_t now, JwtClaims *ret, Error *e) {
        JwtClaims ignored;

        err_clear(e);
        return jwt_verify(key, token, now, ret ? ret : &ignored, e);
}

static void test_jwt_round_trip(void **state) {
        JwtClaims c = claims(NOW, NOW + 900), got;
        _cleanup_free_ char *t = NULL;
        Error e = ERROR_INIT;
        char jti[33];
        (void) state;

        assert_int_equal(jwt_encode(key, &c, &t), 0);
        /* The header is exactly the fixed one. */
        assert_true(strneq(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37));
        assert_int_equal(verify(t, NOW, &got, &e), 0);
        assert_string_equal(got.sub, "alice");
        assert_string_equal(got.jti, c.jti);
        assert_int_equal(got.iat, NOW);
        assert_int_equal(got.exp, NOW + 900);

        assert_int_equal(jwt_jti_new(jti), 0);
        assert_int_equal(strlen(jti), 32);
}

static void test_jwt_expiry_and_iat(void **state) {
        JwtClaims c = claims(NOW, NOW + 900);
        _cleanup_free_ char *t = NULL, *future = NULL;
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(jwt_encode(key, &c, &t), 0);
        /* 60 s of leeway on exp. */
        assert_int_equal(verify(t, NOW + 900 + JWT_LEEWAY_SEC, NULL, &e), 0);
        assert_int_equal(verify(t, NOW + 900 + JWT_LEEWAY_SEC + 1, NULL, &e), -EKEYEXPIRED);
        assert_string_equal(e.reason, "UNAUTHENTICATED");
        assert_string_equal(e.msg, "token expired");

        /* iat in the future: 60 s of leeway, then refused. */
        c = claims(NOW + 120, NOW + 1000);
        assert_int_equal(jwt_encode(key, &c, &future), 0);
        assert_int_equal(verify(future, NOW + 60, NULL, &e), 0);
        assert_int_equal(verify(future, NOW + 59, NULL, &e), -ERANGE);
        assert_int_equal(verify(future, NOW, NULL, &e), -ERANGE);
}

/* header.payload.signature with a chosen header and payload, signed with key (alg as given). */
static char *forge(const char *header, const char *payload, bool sign, bool sha512) {
        _cleanup_(buf_release) Buf b = BUF_INIT(JWT_MAX_LEN * 2);
        _cleanup_free_ char *h = b64s(header), *p = b64s(payload), *s = NULL;
        uint8_t mac[64];
        unsigned len = 0;

        assert_int_equal(buf_printf(&b, "%s.%s", h, p), 0);
        if (sign) {
                assert_non_null(HMAC(sha512 ? EVP_sha512() : EVP_sha256(), key, JWT_KEY_LEN,
                                     (const unsigned char *) b.buf, b.len, mac, &len));
                s = b64(mac, len);
                assert_int_equal(buf_printf(&b, ".%s", s), 0);
        } else
                assert_int_equal(buf_puts(&b, "."), 0);
        return buf_take(&b);
}

#define PAYLOAD "{\"sub\":\"alice\",\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"abc\"}"

static void test_jwt_algorithms_refused(void **state) {
        static const struct {
                const char *header;
                bool sign, sha512;
                int code;
        } v[] = {
                {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", true, false, 0}, /* control: accepted */
                {"{\"typ\":\"JWT\",\"alg\":\"HS256\"}", true, false, 0}, /* member order is free */
                {"{\"alg\":\"none\",\"typ\":\"JWT\"}", false, false, -EBADMSG}, /* no signature */
                {"{\"alg\":\"none\",\"typ\":\"JWT\"}", true, false, -EPROTONOSUPPORT},
                {"{\"alg\":\"None\",\"typ\":\"JWT\"}", true, false, -EPROTONOSUPPORT},
                {"{\"alg\":\"HS512\",\"typ\":\"JWT\"}", true, true, -EPROTONOSUPPORT},
                {"{\"alg\":\"HS512\",\"typ\":\"JWT\"}", true, false, -EPROTONOSUPPORT},
                {"{\"alg\":\"RS256\",\"typ\":\"JWT\"}", true, false, -EPROTONOSUPPORT},
                {"{\"alg\":\"hs256\",\"typ\":\"JWT\"}", true, false, -EPROTONOSUPPORT},
                {"{\"alg\":\"HS256\"}", true, false, -EPROTONOSUPPORT},
                {"{\"alg\":\"HS256\",\"typ\":\"jwt\"}", true, false, -EPROTONOSUPPORT},
                {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"x\"}", true, false,
                 -EPROTONOSUPPORT},
                {"{\"alg\":\"HS256\",\"alg\":\"HS256\",\"typ\":\"JWT\"}", true, false,
                 -EPROTONOSUPPORT},
                {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"alg\":\"none\"}", true, false,
                 -EPROTONOSUPPORT},
                {"{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}", true, false, -EPROTONOSUPPORT},
                {"[\"HS256\"]", true, false, -EBADMSG},
                {"not json", true, false, -EBADMSG},
        };
        Error e = ERROR_INIT;
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_free_ char *t = forge(v[i].header, PAYLOAD, v[i].sign, v[i].sha512);
                int r = verify(t, NOW, NULL, &e);

                if (r != v[i].code)
                        fail_msg("header %s: got %d (%s), want %d", v[i].header, r, e.msg,
                                 v[i].code);
                if (r < 0)
                        assert_string_equal(e.reason, "UNAUTHENTICATED");
        }
}

static void test_jwt_bad_signature(void **state) {
        JwtClaims c = claims(NOW, NOW + 900), c2 = claims(NOW, NOW + 900);
        _cleanup_free_ char *t = NULL, *t2 = NULL, *spliced = NULL;
        Error e = ERROR_INIT;
        JwtClaims ignored;
        char *last;
        size_t n;
        (void) state;

        assert_int_equal(jwt_encode(key, &c, &t), 0);

        /* Another key. */
        assert_int_equal(jwt_verify(other_key, t, NOW, &ignored, &e), -EKEYREJECTED);
        assert_string_equal(e.msg, "bad token signature");

        /* One signature character changed (the first, so the encoding stays canonical). */
        last = strrchr(t, '.') + 1;
        {
                char was = last[0];
                last[0] = was == 'A' ? 'B' : 'A';
                assert_int_equal(verify(t, NOW, NULL, &e), -EKEYREJECTED);
                last[0] = was;
                assert_int_equal(verify(t, NOW, NULL, &e), 0);
        }

        /* A truncated or extended signature. */
        n = strlen(t);
        t[n - 1] = 0;
        assert_int_equal(verify(t, NOW, NULL, &e), -EKEYREJECTED);

        /* Payload of another token (admin) with this token's signature. */
        snprintf(c2.sub, sizeof(c2.sub), "admin");
        assert_int_equal(jwt_encode(key, &c2, &t2), 0);
        assert_int_equal(jwt_encode(key, &c, &spliced), 0);
        {
                char *d1 = strchr(spliced, '.'), *d2 = strrchr(spliced, '.');
                char *p1 = strchr(t2, '.'), *p2 = strrchr(t2, '.');
                _cleanup_(buf_release) Buf b = BUF_INIT(JWT_MAX_LEN);

                assert_int_equal(buf_append(&b, spliced, (size_t) (d1 - spliced)), 0);
                assert_int_equal(buf_append(&b, p1, (size_t) (p2 - p1)), 0);
                assert_int_equal(buf_puts(&b, d2), 0);
                assert_int_equal(verify(b.buf, NOW, NULL, &e), -EKEYREJECTED);
        }
}

static void test_jwt_malformed(void **state) {
        static const char *const bad[] = {
                "",
                "abc",
                "a.b",
                "a.b.c.d",
                "..",
                ".eyJ9.abc",
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..abc",
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.",
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9=.e30.abc",
                "@@@.e30.abc",
        };
        static const char *const bad_payloads[] = {
                "{}",
                "[]",
                "{\"sub\":\"alice\",\"iat\":1800000000,\"exp\":1800000900}",          /* no jti */
                "{\"sub\":\"\",\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"a\"}", /* empty */
                "{\"sub\":\"al ice\",\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"a\"}",
                "{\"sub\":1,\"iat\":1800000000,\"exp\":1800000900,\"jti\":\"a\"}",
                "{\"sub\":\"alice\",\"iat\":\"1800000000\",\"exp\":1800000900,\"jti\":\"a\"}",
                "{\"sub\":\"alice\",\"iat\":1800000000.5,\"exp\":1800000900,\"jti\":\"a\"}",
                "{\"sub\":\"alice\",\"iat\":-1,\"exp\":1800000900,\"jti\":\"a\"}",
                "{\"sub\":\"alice\",\"iat\":1e300,\"exp\":1800000900,\"jti\":\"a\"}",
                "{\"sub\":\"alice\",\"iat\":1800000900,\"exp\":1800000000,\"jti\":\"a\"}",
                "not json",
        };
        _cleanup_free_ char *huge = NULL;
        Error e = ERROR_INIT;
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = verify(bad[i], NOW, NULL, &e);
                if (r >= 0)
                        fail_msg("accepted \"%s\"", bad[i]);
                assert_string_equal(e.reason, "UNAUTHENTICATED");
        }
        assert_int_equal(jwt_verify(key, NULL, NOW, &(JwtClaims){}, &e), -EBADMSG);

        for (size_t i = 0; i < ELEMENTSOF(bad_payloads); i++) {
                _cleanup_free_ char *t =
                        forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", bad_payloads[i], true, false);
                int r = verify(t, NOW, NULL, &e);
                if (r != -EBADMSG)
                        fail_msg("payload %s: got %d, want -EBADMSG", bad_payloads[i], r);
        }

        huge = b_malloc(JWT_MAX_LEN + 2);
        assert_non_null(huge);
        memset(huge, 'a', JWT_MAX_LEN + 1);
        huge[10] = '.';
        huge[20] = '.';
        huge[JWT_MAX_LEN + 1] = 0;
        assert_int_equal(verify(huge, NOW, NULL, &e), -EBADMSG);
        assert_string_equal(e.msg, "token too long");
}

/* ---- scrypt --------------------------------------------------------------------------------- */

static void test_scrypt_known_answer(void **state) {
        /* RFC 7914 section 12, third vector (the first 32 of its 64 bytes). */
        static const uint8_t want[32] = {
                0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48, 0x46, 0x1c, 0x06,
                0xcd, 0x81, 0xfd, 0x38, 0xeb, 0xfd, 0xa8, 0xfb, 0xba, 0x90, 0x4f,
                0x8e, 0x3e, 0xa9, 0xb5, 0x43, 0xf6, 0x54, 0x5d, 0xa1, 0xf2,
        };
        _cleanup_free_ char *enc = NULL;
        ScryptHash h;
        (void) state;

        assert_int_equal(password_hash_with("pleaseletmein", (const uint8_t *) "SodiumChloride", 14,
                                            16384, 8, 1, &enc),
                         0);
        assert_true(strneq(enc, "scrypt$16384$8$1$", 17));
        assert_int_equal(password_parse(enc, &h), 0);
        assert_int_equal(h.N, 16384);
        assert_int_equal(h.r, 8);
        assert_int_equal(h.p, 1);
        assert_int_equal(h.salt_len, 14);
        assert_memory_equal(h.salt, "SodiumChloride", 14);
        assert_int_equal(h.hash_len, 32);
        assert_memory_equal(h.hash, want, 32);
        assert_int_equal(password_verify("pleaseletmein", enc), 1);
        assert_int_equal(password_verify("pleaseletmeout", enc), 0);
        assert_int_equal(password_verify("", enc), 0);
}

static void test_scrypt_default_parameters(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        ScryptHash h;
        (void) state;

        assert_int_equal(password_hash("correct horse", &a), 0);
        assert_int_equal(password_hash("correct horse", &b), 0);
        assert_string_not_equal(a, b); /* random salts */
        assert_true(strneq(a, "scrypt$32768$8$1$", 17));
        assert_int_equal(password_parse(a, &h), 0);
        assert_int_equal(h.salt_len, PASSWORD_SALT_LEN);
        assert_int_equal(h.hash_len, PASSWORD_HASH_LEN);
        assert_int_equal(password_verify("correct horse", a), 1);
        assert_int_equal(password_verify("correct horsE", a), 0);
}

static void test_scrypt_format_refusals(void **state) {
        static const char *const bad[] = {
                "",
                "scrypt",
                "scrypt$1024$8$1$AAAAAAAAAAA",                          /* 5 fields */
                "scrypt$1024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA$x", /* 7 fields */
                "bcrypt$1024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                "SCRYPT$1024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                "scrypt$1000$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",    /* not a power of 2 */
                "scrypt$512$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",     /* N too small */
                "scrypt$2097152$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", /* N too large */
                "scrypt$01024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",   /* leading zero */
                "scrypt$+1024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                "scrypt$1024$0$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",    /* r = 0 */
                "scrypt$1024$8$0$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",    /* p = 0 */
                "scrypt$1024$8$16$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",   /* r * p > 32 */
                "scrypt$1048576$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", /* 1 GiB of memory */
                "scrypt$1024$8$1$AAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",     /* salt < 8 bytes */
                "scrypt$1024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAA",     /* hash < 16 bytes */
                "scrypt$1024$8$1$AAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA",    /* padding */
                "scrypt$1024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAA+",
                "scrypt$$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                "scrypt$99999999999999999999999$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
        };
        ScryptHash h;
        (void) state;

        assert_int_equal(password_parse("scrypt$1024$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", &h),
                         0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (password_parse(bad[i], &h) != -EINVAL)
                        fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(password_parse(NULL, &h), -EINVAL);
        assert_int_equal(password_verify("x", "scrypt$nope"), -EINVAL);
}

static void test_scrypt_format_round_trip(void **state) {
        _cleanup_free_ char *enc = NULL, *again = NULL;
        ScryptHash h;
        (void) state;

        assert_int_equal(
                password_hash_with("pw", (const uint8_t *) "saltsalt", 8, 1024, 1, 1, &enc), 0);
        assert_int_equal(password_parse(enc, &h), 0);
        assert_int_equal(password_format(&h, &again), 0);
        assert_string_equal(enc, again);
        assert_int_equal(password_verify("pw", enc), 1);
}

/* ---- API tokens ----------------------------------------------------------------------------- */

static void test_api_tokens(void **state) {
        _cleanup_free_ char *t = NULL;
        char id[API_TOKEN_ID_LEN + 1], sha[SHA256_HEX_LEN + 1];
        char id2[API_TOKEN_ID_LEN + 1], sha2[SHA256_HEX_LEN + 1];
        char copy[API_TOKEN_LEN + 8];
        (void) state;

        assert_int_equal(api_token_new(&t, id, sha), 0);
        assert_int_equal(strlen(t), API_TOKEN_LEN);
        assert_true(strneq(t, "bt_", 3));
        assert_int_equal(strlen(sha), SHA256_HEX_LEN);
        assert_int_equal(api_token_parse(t, id2, sha2), 0);
        assert_string_equal(id, id2);
        assert_string_equal(sha, sha2);
        assert_true(secret_equal(sha, sha2));

        /* A changed secret hashes differently. */
        snprintf(copy, sizeof(copy), "%s", t);
        copy[API_TOKEN_LEN - 5] = copy[API_TOKEN_LEN - 5] == 'A' ? 'B' : 'A';
        assert_int_equal(api_token_parse(copy, id2, sha2), 0);
        assert_false(secret_equal(sha, sha2));

        /* Refusals: prefix, id alphabet, lengths, padding, non-canonical last character. */
        snprintf(copy, sizeof(copy), "bx%s", t + 2);
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        snprintf(copy, sizeof(copy), "%s", t);
        copy[3] = 'G';
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        snprintf(copy, sizeof(copy), "%s", t);
        copy[3] = 'A';
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        snprintf(copy, sizeof(copy), "%s", t);
        copy[3 + API_TOKEN_ID_LEN] = '-';
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        snprintf(copy, sizeof(copy), "%sA", t);
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        snprintf(copy, sizeof(copy), "%.*s", (int) API_TOKEN_LEN - 1, t);
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        snprintf(copy, sizeof(copy), "%.*s=", (int) API_TOKEN_LEN - 1, t);
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        snprintf(copy, sizeof(copy), "%.*s_", (int) API_TOKEN_LEN - 1, t); /* 63 in the last */
        assert_int_equal(api_token_parse(copy, id2, sha2), -EBADMSG);
        assert_int_equal(api_token_parse(NULL, id2, sha2), -EBADMSG);

        assert_false(secret_equal("abc", "abcd"));
        assert_false(secret_equal("abc", NULL));
        assert_true(secret_equal("", ""));
}

/* ---- roles ---------------------------------------------------------------------------------- */

static void test_roles(void **state) {
        ApiMembership m[] = {{"shop", API_ROLE_EDITOR}, {"blog", API_ROLE_VIEWER}};
        ApiCaller c = {.kind = API_CALLER_USER, .memberships = m, .n_memberships = 2};
        ApiCaller nobody = {};
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(api_role_from_string("viewer"), API_ROLE_VIEWER);
        assert_int_equal(api_role_from_string("owner"), API_ROLE_OWNER);
        assert_int_equal(api_role_from_string("admin"), _API_ROLE_INVALID);
        assert_int_equal(api_role_from_string("Owner"), _API_ROLE_INVALID);
        assert_string_equal(api_role_to_string(API_ROLE_OPERATOR), "operator");

        assert_int_equal(api_caller_role(&c, "shop"), API_ROLE_EDITOR);
        assert_int_equal(api_caller_role(&c, "other"), API_ROLE_USER);
        assert_int_equal(api_caller_role(&nobody, "shop"), API_ROLE_PUBLIC);

        assert_int_equal(api_caller_check(&c, "shop", API_ROLE_EDITOR, NULL, &e), 0);
        assert_int_equal(api_caller_check(&c, "shop", API_ROLE_VIEWER, NULL, &e), 0);
        /* Visible, too low: 403. */
        assert_int_equal(api_caller_check(&c, "shop", API_ROLE_OWNER, NULL, &e), -EPERM);
        assert_string_equal(e.reason, "FORBIDDEN");
        assert_int_equal(api_caller_check(&c, "blog", API_ROLE_OPERATOR, NULL, &e), -EPERM);
        /* Invisible: 404 with the words of a missing resource. */
        err_clear(&e);
        assert_int_equal(
                api_caller_check(&c, "other", API_ROLE_VIEWER, "docker_service \"web\"", &e),
                -ENOENT);
        assert_string_equal(e.reason, "RESOURCE_NOT_FOUND");
        assert_string_equal(e.msg, "docker_service \"web\" not found in project \"other\"");
        assert_int_equal(api_caller_check(&c, "other", API_ROLE_OWNER, NULL, &e), -ENOENT);
        assert_string_equal(e.msg, "project \"other\" not found");
        assert_int_equal(api_caller_check(&nobody, "shop", API_ROLE_VIEWER, NULL, &e), -ENOENT);

        /* Admins and the local caller hold everything. */
        api_caller_set_local(&nobody);
        assert_int_equal(api_caller_role(&nobody, "anything"), API_ROLE_ADMIN);
        assert_string_equal(nobody.actor, "local");
        assert_int_equal(api_caller_check(&nobody, "x", API_ROLE_ADMIN, NULL, &e), 0);
        api_caller_release(&nobody);

        assert_true(api_user_name_is_valid("alice"));
        assert_true(api_user_name_is_valid("a.b-c_d9"));
        assert_false(api_user_name_is_valid(""));
        assert_false(api_user_name_is_valid("Alice"));
        assert_false(api_user_name_is_valid("-x"));
        assert_false(api_user_name_is_valid("a b"));
        assert_false(api_user_name_is_valid(
                "a2345678901234567890123456789012345678901234567890123456789012345")); /* 65 */
        assert_true(api_user_name_is_valid(
                "a234567890123456789012345678901234567890123456789012345678901234")); /* 64 */
        assert_true(api_user_name_is_reserved("local"));
}

/* ---- exposure ------------------------------------------------------------------------------- */

static void test_exposure(void **state) {
        static const struct {
                const char *listen, *auth, *cert, *key;
                int code;
                bool auth_on, tls;
                const char *field;
        } v[] = {
                {"127.0.0.1:8080", NULL, NULL, NULL, 0, false, false, NULL},
                {"127.0.0.2:8080", NULL, NULL, NULL, 0, false, false, NULL},
                {"localhost:8080", NULL, NULL, NULL, 0, false, false, NULL},
                {"[::1]:8080", NULL, NULL, NULL, 0, false, false, NULL},
                {"127.0.0.1:8080", "on", NULL, NULL, 0, true, false, NULL},
                {"127.0.0.1:8080", "on", "c.pem", "k.pem", 0, true, true, NULL},
                {"127.0.0.1:8080", "off", "c.pem", "k.pem", 0, false, true, NULL},
                {"127.0.0.1:8080", "maybe", NULL, NULL, -EINVAL, false, false, "BERTH_AUTH"},
                {"127.0.0.1:8080", NULL, "c.pem", NULL, -EINVAL, false, false, "BERTH_TLS_KEY"},
                {"127.0.0.1:8080", NULL, NULL, "k.pem", -EINVAL, false, false, "BERTH_TLS_CERT"},
                {"0.0.0.0:8080", NULL, NULL, NULL, -EPERM, false, false, "BERTH_TLS_CERT"},
                {"0.0.0.0:8080", "on", NULL, NULL, -EPERM, false, false, "BERTH_TLS_CERT"},
                {"0.0.0.0:8080", NULL, "c.pem", "k.pem", 0, true, true, NULL},
                {"0.0.0.0:8080", "off", "c.pem", "k.pem", -EPERM, false, false, "BERTH_AUTH"},
                {"10.1.2.3:8080", NULL, NULL, NULL, -EPERM, false, false, "BERTH_TLS_CERT"},
                {"[::]:8080", NULL, NULL, NULL, -EPERM, false, false, "BERTH_TLS_CERT"},
                {"127.example.com:8080", NULL, NULL, NULL, -EPERM, false, false, "BERTH_TLS_CERT"},
                {"[::ffff:127.0.0.1]:8080", NULL, NULL, NULL, -EPERM, false, false, NULL},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                ApiExposure x = {};
                Error e = ERROR_INIT;
                int r = api_exposure_decide(v[i].listen, v[i].auth, v[i].cert, v[i].key, &x, &e);

                if (r != v[i].code)
                        fail_msg("%s auth=%s: got %d (%s), want %d", v[i].listen, strna(v[i].auth),
                                 r, e.msg, v[i].code);
                if (r < 0) {
                        if (v[i].field) {
                                assert_string_equal(e.field, v[i].field);
                                assert_non_null(strstr(e.msg, v[i].field));
                        }
                        continue;
                }
                assert_int_equal(x.auth, v[i].auth_on);
                assert_int_equal(x.tls, v[i].tls);
        }
        assert_false(api_listen_is_loopback("128.0.0.1:80"));
        assert_false(api_listen_is_loopback("127.0.0.1"));
        assert_false(api_listen_is_loopback(""));
        assert_true(api_listen_is_loopback("127.255.255.254:1"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_b64url_vectors),
                cmocka_unit_test(test_b64url_round_trip),
                cmocka_unit_test(test_b64url_refusals),
                cmocka_unit_test(test_jwt_round_trip),
                cmocka_unit_test(test_jwt_expiry_and_iat),
                cmocka_unit_test(test_jwt_algorithms_refused),
                cmocka_unit_test(test_jwt_bad_signature),
                cmocka_unit_test(test_jwt_malformed),
                cmocka_unit_test(test_scrypt_known_answer),
                cmocka_unit_test(test_scrypt_default_parameters),
                cmocka_unit_test(test_scrypt_format_refusals),
                cmocka_unit_test(test_scrypt_format_round_trip),
                cmocka_unit_test(test_api_tokens),
                cmocka_unit_test(test_roles),
                cmocka_unit_test(test_exposure),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
