/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util/common.h"

#include "api/jwt.h"

/* See jwt.h. Everything here is a pure function of its arguments (and RAND_bytes in the
 * explicitly random constructors), so tests/unit/test-jwt.c covers it without a server. */

#define JWT_HEADER_JSON "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define JWT_MAX_HEADER  512
#define JWT_SIG_LEN     32
/* Largest integer a JSON number carries exactly. */
#define JSON_MAX_SAFE_INT 9007199254740991.0
/* scrypt: refuse stored parameters that would need more than 256 MiB (128 * N * r bytes). */
#define SCRYPT_MAX_NR  (UINT64_C(1) << 21)
#define SCRYPT_MAX_MEM (UINT64_C(512) * 1024 * 1024)

static inline void cjson_deletep_(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}

static inline void cjson_freep_(char **p) {
        if (*p)
                cJSON_free(*p);
}

/* ---- base64url ------------------------------------------------------------------------------ */

static const char b64url_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64url_encode(const void *data, size_t n, Buf *out) {
        const uint8_t *p = data;
        char quad[4];
        size_t i;
        int r;

        for (i = 0; i + 3 <= n; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
                quad[0] = b64url_alphabet[(v >> 18) & 63];
                quad[1] = b64url_alphabet[(v >> 12) & 63];
                quad[2] = b64url_alphabet[(v >> 6) & 63];
                quad[3] = b64url_alphabet[v & 63];
                r = buf_append(out, quad, 4);
                if (r < 0)
                        return r;
        }
        if (n - i == 1) {
                uint32_t v = (uint32_t) p[i] << 16;
                quad[0] = b64url_alphabet[(v >> 18) & 63];
                quad[1] = b64url_alphabet[(v >> 12) & 63];
                return buf_append(out, quad, 2);
        }
        if (n - i == 2) {
                uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8;
                quad[0] = b64url_alphabet[(v >> 18) & 63];
                quad[1] = b64url_alphabet[(v >> 12) & 63];
                quad[2] = b64url_alphabet[(v >> 6) & 63];
                return buf_append(out, quad, 3);
        }
        /* An empty input still leaves a valid (empty) string behind. */
        return n == 0 ? buf_append(out, "", 0) : 0;
}

static int b64url_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return -1;
}

int b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *ret_n) {
        size_t need, o = 0;
        uint32_t acc = 0;
        int bits = 0;

        assert_return(s || n == 0, -EINVAL);
        assert_return(ret_n, -EINVAL);

        if (n % 4 == 1)
                return -EBADMSG;
        need = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
        if (need > cap)
                return -E2BIG;

        for (size_t i = 0; i < n; i++) {
                int v = b64url_value(s[i]);
                if (v < 0)
                        return -EBADMSG;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (uint8_t) (acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        /* Leftover bits must be zero: "QQ" is "A", "QR" is not canonical. */
        if (acc != 0)
                return -EBADMSG;
        *ret_n = o;
        return 0;
}

/* ---- HMAC and digests ----------------------------------------------------------------------- */

static int hmac_sha256(const uint8_t key[JWT_KEY_LEN], const char *data, size_t n,
                       uint8_t out[JWT_SIG_LEN]) {
        unsigned len = 0;

        if (!HMAC(EVP_sha256(), key, JWT_KEY_LEN, (const unsigned char *) data, n, out, &len) ||
            len != JWT_SIG_LEN)
                return -EIO;
        return 0;
}

static int sha256_hex(const void *data, size_t n, char ret[SHA256_HEX_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32)
                return -EIO;
        for (unsigned i = 0; i < len; i++) {
                ret[2 * i] = hex[md[i] >> 4];
                ret[2 * i + 1] = hex[md[i] & 15];
        }
        ret[2 * len] = 0;
        OPENSSL_cleanse(md, sizeof(md));
        return 0;
}

static void hex_encode(const uint8_t *p, size_t n, char *ret) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = hex[p[i] >> 4];
                ret[2 * i + 1] = hex[p[i] & 15];
        }
        ret[2 * n] = 0;
}

bool secret_equal(const char *a, const char *b) {
        size_t n;

        if (!a || !b)
                return false;
        n = strlen(a);
        if (n != strlen(b)) /* the lengths of digests are public */
                return false;
        return CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- JWT ------------------------------------------------------------------------------------ */

int jwt_jti_new(char ret[33]) {
        uint8_t b[16];

        if (RAND_bytes(b, sizeof(b)) != 1)
                return -EIO;
        hex_encode(b, sizeof(b), ret);
        return 0;
}

int jwt_encode(const uint8_t key[JWT_KEY_LEN], const JwtClaims *c, char **ret) {
        _cleanup_(cjson_deletep_) cJSON *payload = NULL;
        _cleanup_(cjson_freep_) char *json = NULL;
        _cleanup_(buf_release) Buf out = BUF_INIT(JWT_MAX_LEN);
        uint8_t sig[JWT_SIG_LEN];
        int r;

        assert_return(key && c && ret, -EINVAL);
        assert_return(!isempty(c->sub) && !isempty(c->jti), -EINVAL);

        payload = cJSON_CreateObject();
        if (!payload || !cJSON_AddStringToObject(payload, "sub", c->sub) ||
            !cJSON_AddNumberToObject(payload, "iat", (double) c->iat) ||
            !cJSON_AddNumberToObject(payload, "exp", (double) c->exp) ||
            !cJSON_AddStringToObject(payload, "jti", c->jti))
                return -ENOMEM;
        json = cJSON_PrintUnformatted(payload);
        if (!json)
                return -ENOMEM;

        r = b64url_encode(JWT_HEADER_JSON, STRLEN(JWT_HEADER_JSON), &out);
        if (r >= 0)
                r = buf_putc(&out, '.');
        if (r >= 0)
                r = b64url_encode(json, strlen(json), &out);
        if (r < 0)
                return r;
        r = hmac_sha256(key, out.buf, out.len, sig);
        if (r < 0)
                return r;
        r = buf_putc(&out, '.');
        if (r >= 0)
                r = b64url_encode(sig, sizeof(sig), &out);
        OPENSSL_cleanse(sig, sizeof(sig));
        if (r < 0)
                return r;
        *ret = buf_take(&out);
        return *ret ? 0 : -ENOMEM;
}

/* Decodes one segment into a parsed JSON object. */
static int segment_json(const char *s, size_t n, size_t cap, cJSON **ret) {
        _cleanup_free_ uint8_t *raw = NULL;
        size_t len = 0;
        cJSON *j;
        int r;

        raw = b_malloc(cap + 1);
        if (!raw)
                return -ENOMEM;
        r = b64url_decode(s, n, raw, cap, &len);
        if (r < 0)
                return -EBADMSG;
        j = cJSON_ParseWithLength((const char *) raw, len);
        if (!j)
                return -EBADMSG;
        if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

/* Exactly {"alg":"HS256","typ":"JWT"}: no other member, no duplicate, no other value. */
static bool header_is_hs256(const cJSON *h) {
        bool alg = false, typ = false;
        int n = 0;

        for (const cJSON *m = h->child; m; m = m->next) {
                n++;
                if (!m->string || !cJSON_IsString(m))
                        return false;
                if (streq(m->string, "alg") && streq(m->valuestring, "HS256"))
                        alg = true;
                else if (streq(m->string, "typ") && streq(m->valuestring, "JWT"))
                        typ = true;
                else
                        return false;
        }
        return n == 2 && alg && typ;
}

static int claim_string(const cJSON *p, const char *key, char *ret, size_t n) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);

        if (!cJSON_IsString(v) || isempty(v->valuestring) || strlen(v->valuestring) >= n)
                return -EBADMSG;
        for (const char *c = v->valuestring; *c; c++)
                if ((unsigned char) *c < 0x21 || (unsigned char) *c > 0x7e)
                        return -EBADMSG;
        snprintf(ret, n, "%s", v->valuestring);
        return 0;
}

static int claim_time(const cJSON *p, const char *key, int64_t *ret) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
        double d;

        if (!cJSON_IsNumber(v))
                return -EBADMSG;
        d = v->valuedouble;
        /* NaN fails both comparisons; the range check makes the cast defined. */
        if (!(d >= 0 && d <= JSON_MAX_SAFE_INT) || d != (double) (int64_t) d)
                return -EBADMSG;
        *ret = (int64_t) d;
        return 0;
}

static int verify_fail(Error *e, int code, const char *what) {
        return err_setr(e, code, "UNAUTHENTICATED", NULL, "%s", what);
}

int jwt_verify(const uint8_t key[JWT_KEY_LEN], const char *token, int64_t now, JwtClaims *ret,
               Error *reterr) {
        _cleanup_(cjson_deletep_) cJSON *header = NULL, *payload = NULL;
        uint8_t sig[JWT_SIG_LEN + 3], want[JWT_SIG_LEN];
        const char *dot1, *dot2;
        size_t n, sig_len = 0;
        JwtClaims c = {};
        int r;

        assert_return(key && ret, -EINVAL);

        if (!token)
                return verify_fail(reterr, -EBADMSG, "malformed token");
        n = strnlen(token, JWT_MAX_LEN + 1);
        if (n > JWT_MAX_LEN)
                return verify_fail(reterr, -EBADMSG, "token too long");
        dot1 = memchr(token, '.', n);
        dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t) (dot1 + 1 - token)) : NULL;
        if (!dot1 || !dot2 || memchr(dot2 + 1, '.', n - (size_t) (dot2 + 1 - token)) ||
            dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == token + n)
                return verify_fail(reterr, -EBADMSG, "malformed token");

        /* 1. The header: HS256 and nothing else, before any use of the key. */
        r = segment_json(token, (size_t) (dot1 - token), JWT_MAX_HEADER, &header);
        if (r == -ENOMEM)
                return err_set(reterr, r, NULL, "out of memory");
        if (r < 0)
                return verify_fail(reterr, -EBADMSG, "malformed token header");
        if (!header_is_hs256(header))
                return verify_fail(reterr, -EPROTONOSUPPORT,
                                   "token algorithm refused (only HS256 is accepted)");

        /* 2. The signature over "header.payload", compared in constant time. */
        r = b64url_decode(dot2 + 1, n - (size_t) (dot2 + 1 - token), sig, sizeof(sig), &sig_len);
        if (r < 0 || sig_len != JWT_SIG_LEN)
                return verify_fail(reterr, -EKEYREJECTED, "bad token signature");
        r = hmac_sha256(key, token, (size_t) (dot2 - token), want);
        if (r < 0)
                return err_set(reterr, r, NULL, "HMAC failed");
        r = CRYPTO_memcmp(sig, want, JWT_SIG_LEN);
        OPENSSL_cleanse(want, sizeof(want));
        if (r != 0)
                return verify_fail(reterr, -EKEYREJECTED, "bad token signature");

        /* 3. The claims. */
        r = segment_json(dot1 + 1, (size_t) (dot2 - dot1 - 1), JWT_MAX_LEN, &payload);
        if (r == -ENOMEM)
                return err_set(reterr, r, NULL, "out of memory");
        if (r < 0 || claim_string(payload, "sub", c.sub, sizeof(c.sub)) < 0 ||
            claim_string(payload, "jti", c.jti, sizeof(c.jti)) < 0 ||
            claim_time(payload, "iat", &c.iat) < 0 || claim_time(payload, "exp", &c.exp) < 0 ||
            c.exp < c.iat)
                return verify_fail(reterr, -EBADMSG, "malformed token claims");
        if (now > c.exp + JWT_LEEWAY_SEC)
                return verify_fail(reterr, -EKEYEXPIRED, "token expired");
        if (c.iat > now + JWT_LEEWAY_SEC)
                return verify_fail(reterr, -ERANGE, "token issued in the future");

        *ret = c;
        return 0;
}

/* ---- scrypt password hashes ----------------------------------------------------------------- */

/* A decimal without sign or leading zero, at most max. */
static int parse_dec(const char *s, size_t n, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (max - (uint64_t) (s[i] - '0')) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int password_parse(const char *encoded, ScryptHash *ret) {
        const char *f[6];
        size_t len[6], n;
        uint64_t N, rr, pp;
        ScryptHash h = {};
        const char *p;

        assert_return(ret, -EINVAL);
        if (!encoded)
                return -EINVAL;
        n = strnlen(encoded, PASSWORD_MAX_ENCODED + 1);
        if (n > PASSWORD_MAX_ENCODED)
                return -EINVAL;

        p = encoded;
        for (size_t i = 0; i < 6; i++) {
                const char *end = memchr(p, '$', n - (size_t) (p - encoded));

                if (i < 5 && !end)
                        return -EINVAL;
                if (i == 5 && end)
                        return -EINVAL;
                f[i] = p;
                len[i] = end ? (size_t) (end - p) : n - (size_t) (p - encoded);
                p = end ? end + 1 : encoded + n;
        }
        if (len[0] != STRLEN("scrypt") || !strneq(f[0], "scrypt", len[0]))
                return -EINVAL;
        if (parse_dec(f[1], len[1], UINT64_C(1) << 20, &N) < 0 ||
            parse_dec(f[2], len[2], 32, &rr) < 0 || parse_dec(f[3], len[3], 16, &pp) < 0)
                return -EINVAL;
        if (N < (UINT64_C(1) << 10) || (N & (N - 1)) != 0 || rr < 1 || pp < 1 || rr * pp > 32 ||
            N * rr > SCRYPT_MAX_NR)
                return -EINVAL;
        if (b64url_decode(f[4], len[4], h.salt, sizeof(h.salt), &h.salt_len) < 0 || h.salt_len < 8)
                return -EINVAL;
        if (b64url_decode(f[5], len[5], h.hash, sizeof(h.hash), &h.hash_len) < 0 || h.hash_len < 16)
                return -EINVAL;
        h.N = N;
        h.r = (uint32_t) rr;
        h.p = (uint32_t) pp;
        *ret = h;
        return 0;
}

int password_format(const ScryptHash *h, char **ret) {
        _cleanup_(buf_release) Buf out = BUF_INIT(PASSWORD_MAX_ENCODED);
        int r;

        assert_return(h && ret, -EINVAL);

        r = buf_printf(&out, "scrypt$%" PRIu64 "$%" PRIu32 "$%" PRIu32 "$", h->N, h->r, h->p);
        if (r >= 0)
                r = b64url_encode(h->salt, h->salt_len, &out);
        if (r >= 0)
                r = buf_putc(&out, '$');
        if (r >= 0)
                r = b64url_encode(h->hash, h->hash_len, &out);
        if (r < 0)
                return r;
        *ret = buf_take(&out);
        return *ret ? 0 : -ENOMEM;
}

static int scrypt_derive(const char *password, const uint8_t *salt, size_t salt_len, uint64_t N,
                         uint32_t r, uint32_t p, uint8_t *out, size_t out_len) {
        size_t n = strnlen(password, PASSWORD_MAX_LEN + 1);

        if (n > PASSWORD_MAX_LEN)
                return -E2BIG;
        if (EVP_PBE_scrypt(password, n, salt, salt_len, N, r, p, SCRYPT_MAX_MEM, out, out_len) != 1)
                return -ENOMEM; /* OpenSSL fails on allocation or on refused parameters */
        return 0;
}

int password_hash_with(const char *password, const uint8_t *salt, size_t salt_len, uint64_t N,
                       uint32_t r, uint32_t p, char **ret) {
        ScryptHash h = {
                .N = N, .r = r, .p = p, .salt_len = salt_len, .hash_len = PASSWORD_HASH_LEN};
        int k;

        assert_return(password && salt && ret, -EINVAL);
        assert_return(salt_len >= 8 && salt_len <= sizeof(h.salt), -EINVAL);

        memcpy(h.salt, salt, salt_len);
        k = scrypt_derive(password, salt, salt_len, N, r, p, h.hash, h.hash_len);
        if (k >= 0)
                k = password_format(&h, ret);
        OPENSSL_cleanse(&h, sizeof(h));
        return k;
}

int password_hash(const char *password, char **ret) {
        uint8_t salt[PASSWORD_SALT_LEN];

        if (RAND_bytes(salt, sizeof(salt)) != 1)
                return -EIO;
        return password_hash_with(password, salt, sizeof(salt), PASSWORD_SCRYPT_N,
                                  PASSWORD_SCRYPT_R, PASSWORD_SCRYPT_P, ret);
}

int password_verify(const char *password, const char *encoded) {
        ScryptHash h;
        uint8_t got[64];
        int r;

        assert_return(password, -EINVAL);

        r = password_parse(encoded, &h);
        if (r < 0)
                return r;
        r = scrypt_derive(password, h.salt, h.salt_len, h.N, h.r, h.p, got, h.hash_len);
        if (r < 0)
                return r == -E2BIG ? 0 : r; /* an over-long password matches nothing */
        r = CRYPTO_memcmp(got, h.hash, h.hash_len) == 0 ? 1 : 0;
        OPENSSL_cleanse(got, sizeof(got));
        OPENSSL_cleanse(&h, sizeof(h));
        return r;
}

/* ---- API tokens ----------------------------------------------------------------------------- */

static bool is_lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

int api_token_parse(const char *token, char ret_id[API_TOKEN_ID_LEN + 1],
                    char ret_sha256[SHA256_HEX_LEN + 1]) {
        const char *id, *secret;
        uint8_t raw[33];
        size_t n = 0;
        int r;

        assert_return(ret_id && ret_sha256, -EINVAL);

        if (!token || strnlen(token, API_TOKEN_LEN + 1) != API_TOKEN_LEN ||
            !strneq(token, API_TOKEN_PREFIX, STRLEN(API_TOKEN_PREFIX)))
                return -EBADMSG;
        id = token + STRLEN(API_TOKEN_PREFIX);
        if (!is_lower_hex(id, API_TOKEN_ID_LEN) || id[API_TOKEN_ID_LEN] != '_')
                return -EBADMSG;
        secret = id + API_TOKEN_ID_LEN + 1;
        r = b64url_decode(secret, API_TOKEN_SECRET_LEN, raw, sizeof(raw), &n);
        if (r < 0 || n != 32)
                return -EBADMSG;
        r = sha256_hex(raw, n, ret_sha256);
        OPENSSL_cleanse(raw, sizeof(raw));
        if (r < 0)
                return r;
        memcpy(ret_id, id, API_TOKEN_ID_LEN);
        ret_id[API_TOKEN_ID_LEN] = 0;
        return 0;
}

int api_token_new(char **ret_token, char ret_id[API_TOKEN_ID_LEN + 1],
                  char ret_sha256[SHA256_HEX_LEN + 1]) {
        _cleanup_(buf_release) Buf out = BUF_INIT(API_TOKEN_LEN + 1);
        uint8_t id[API_TOKEN_ID_LEN / 2], secret[32];
        char idhex[API_TOKEN_ID_LEN + 1];
        int r;

        assert_return(ret_token && ret_id && ret_sha256, -EINVAL);

        if (RAND_bytes(id, sizeof(id)) != 1 || RAND_bytes(secret, sizeof(secret)) != 1)
                return -EIO;
        hex_encode(id, sizeof(id), idhex);
        r = buf_printf(&out, API_TOKEN_PREFIX "%s_", idhex);
        if (r >= 0)
                r = b64url_encode(secret, sizeof(secret), &out);
        if (r >= 0)
                r = sha256_hex(secret, sizeof(secret), ret_sha256);
        OPENSSL_cleanse(secret, sizeof(secret));
        if (r < 0)
                return r;
        memcpy(ret_id, idhex, sizeof(idhex));
        *ret_token = buf_take(&out);
        return *ret_token ? 0 : -ENOMEM;
}
