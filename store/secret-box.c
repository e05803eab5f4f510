/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/common.h"

#include "store/secret-box.h"

/* AES-256-GCM with OpenSSL's EVP interface; the format is described in secret-box.h. No logging
 * here: callers decide what is worth a line, and nothing about a value ever is. */

struct SecretBox {
        uint8_t key[SECRET_BOX_KEY_LEN];
};

#define KEY_FILE_PATH_MAX 4096

static void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}

static void cipher_ctx_freep(EVP_CIPHER_CTX **c) {
        EVP_CIPHER_CTX_free(*c); /* takes NULL */
}

static int read_exact(int fd, void *p, size_t n) {
        uint8_t *q = p;

        while (n > 0) {
                ssize_t k = read(fd, q, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO; /* shorter than fstat said: changed under us */
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

static int write_exact(int fd, const void *p, size_t n) {
        const uint8_t *q = p;

        while (n > 0) {
                ssize_t k = write(fd, q, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Best effort: makes the new directory entry durable. */
static void parent_fsync(const char *path) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closep) int fd = -1;
        char *slash;

        dir = b_strdup(path);
        if (!dir)
                return;
        slash = strrchr(dir, '/');
        if (slash == dir)
                slash[1] = 0; /* "/master.key" */
        else if (slash)
                *slash = 0;
        fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                (void) fsync(fd);
}

/* Writes 32 random bytes to a private temporary file beside path, then links it into place: a
 * reader never sees a partial key, and of two concurrent creators the second reads the first's.
 * Returns 1 when this call created the key, 0 when another process did meanwhile. */
static int key_create(const char *path, Error *reterr) {
        _cleanup_(buf_release) Buf tmp = BUF_INIT(KEY_FILE_PATH_MAX);
        _cleanup_(closep) int fd = -1;
        uint8_t key[SECRET_BOX_KEY_LEN], rnd[8];
        int r;

        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                return err_set(reterr, -EIO, NULL, "no randomness to create %s", path);
        r = buf_puts(&tmp, path);
        for (size_t i = 0; r >= 0 && i < sizeof(rnd); i++)
                r = buf_printf(&tmp, "%s%02x", i == 0 ? ".tmp-" : "", rnd[i]);
        if (r < 0)
                return err_set(reterr, r == -E2BIG ? -ENAMETOOLONG : r, NULL,
                               "master key path too long: %s", path);

        fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_set(reterr, -errno, NULL, "cannot create master key %s: %m", path);
        /* 0600 whatever the umask: exactly what secret_box_open() demands. */
        if (fchmod(fd, 0600) < 0)
                r = -errno;
        if (r >= 0 && RAND_bytes(key, sizeof(key)) != 1)
                r = -EIO;
        if (r >= 0)
                r = write_exact(fd, key, sizeof(key));
        OPENSSL_cleanse(key, sizeof(key));
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp.buf);
                return err_set(reterr, r, NULL, "cannot write master key %s", path);
        }

        if (link(tmp.buf, path) < 0) {
                char sbuf[128];

                r = -errno;
                (void) unlink(tmp.buf);
                if (r == -EEXIST)
                        return 0;
                return err_set(reterr, r, NULL, "cannot create master key %s: %s", path,
                               err_str(r, sbuf, sizeof(sbuf)));
        }
        (void) unlink(tmp.buf);
        parent_fsync(path);
        return 1;
}

int secret_box_new(const uint8_t key[SECRET_BOX_KEY_LEN], SecretBox **ret, Error *reterr) {
        SecretBox *box;

        assert_return(key && ret, -EINVAL);

        box = b_calloc(1, sizeof(*box));
        if (!box)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        memcpy(box->key, key, SECRET_BOX_KEY_LEN);
        *ret = box;
        return 0;
}

SecretBox *secret_box_free(SecretBox *box) {
        if (!box)
                return NULL;
        OPENSSL_cleanse(box->key, sizeof(box->key));
        b_free(box);
        return NULL;
}

int secret_box_open(const char *key_file, SecretBox **ret, Error *reterr) {
        _cleanup_(secret_box_freep) SecretBox *box = NULL;
        _cleanup_(closep) int fd = -1;
        struct stat st;
        int r;

        assert_return(!isempty(key_file) && ret, -EINVAL);

        fd = open(key_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0 && errno == ENOENT) {
                r = key_create(key_file, reterr);
                if (r < 0)
                        return r;
                fd = open(key_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        }
        if (fd < 0 && errno == ELOOP)
                return err_set(reterr, -ELOOP, NULL,
                               "master key %s is a symbolic link: give the file's own path",
                               key_file);
        if (fd < 0)
                return err_set(reterr, -errno, NULL, "cannot open master key %s: %m", key_file);
        if (fstat(fd, &st) < 0)
                return err_set(reterr, -errno, NULL, "cannot stat master key %s: %m", key_file);
        if (!S_ISREG(st.st_mode))
                return err_set(reterr, -EINVAL, NULL, "master key %s is not a regular file",
                               key_file);
        if (st.st_uid != geteuid())
                return err_set(reterr, -EPERM, NULL,
                               "master key %s belongs to uid %u, not to berthd's user (uid %u)",
                               key_file, (unsigned) st.st_uid, (unsigned) geteuid());
        if ((st.st_mode & 077) != 0)
                return err_set(reterr, -EPERM, NULL,
                               "master key %s is accessible by group or others (mode %04o): it "
                               "must be 0600 (chmod 600 %s)",
                               key_file, (unsigned) (st.st_mode & 07777), key_file);
        if (st.st_size != SECRET_BOX_KEY_LEN)
                return err_set(reterr, -EINVAL, NULL,
                               "master key %s has %lld bytes; it must hold exactly %d random bytes",
                               key_file, (long long) st.st_size, SECRET_BOX_KEY_LEN);

        box = b_calloc(1, sizeof(*box));
        if (!box)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = read_exact(fd, box->key, sizeof(box->key));
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot read master key %s", key_file);
        *ret = TAKE_PTR(box);
        return 0;
}

/* The authenticated data: the version byte, then the caller's string. */
static int cipher_aad(EVP_CIPHER_CTX *ctx, bool encrypt, uint8_t version, const char *aad) {
        size_t n = strlen(aad);
        int len;

        if (n > INT_MAX)
                return -E2BIG;
        if ((encrypt ? EVP_EncryptUpdate(ctx, NULL, &len, &version, 1)
                     : EVP_DecryptUpdate(ctx, NULL, &len, &version, 1)) != 1)
                return -EIO;
        if (n > 0 &&
            (encrypt ? EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *) aad, (int) n)
                     : EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *) aad, (int) n)) != 1)
                return -EIO;
        return 0;
}

int secret_box_seal(const SecretBox *box, const void *plain, size_t n, const char *aad,
                    Buf *ret_blob, Error *reterr) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        uint8_t *nonce, *ct, *tag;
        size_t total;
        int len = 0, r;

        assert_return(box && aad && ret_blob, -EINVAL);
        assert_return(plain || n == 0, -EINVAL);

        if (n > SECRET_BOX_MAX_PLAIN)
                return err_set(reterr, -E2BIG, NULL, "secret value larger than %d bytes",
                               SECRET_BOX_MAX_PLAIN);
        total = n + SECRET_BOX_OVERHEAD;
        if (total > ret_blob->max)
                return err_set(reterr, -E2BIG, NULL, "sealed secret larger than %zu bytes",
                               ret_blob->max);
        out = b_malloc(total + 1);
        if (!out)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        out[0] = SECRET_BOX_VERSION;
        nonce = out + 1;
        ct = nonce + SECRET_BOX_NONCE_LEN;
        tag = ct + n;
        if (RAND_bytes(nonce, SECRET_BOX_NONCE_LEN) != 1)
                return err_set(reterr, -EIO, NULL, "no randomness for a nonce");

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_BOX_NONCE_LEN, NULL) != 1 ||
            EVP_EncryptInit_ex(ctx, NULL, NULL, box->key, nonce) != 1)
                return err_set(reterr, -EIO, NULL, "cannot set up AES-256-GCM");
        r = cipher_aad(ctx, true, SECRET_BOX_VERSION, aad);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot encrypt the secret");
        if (n > 0 && (EVP_EncryptUpdate(ctx, ct, &len, plain, (int) n) != 1 || (size_t) len != n))
                return err_set(reterr, -EIO, NULL, "cannot encrypt the secret");
        if (EVP_EncryptFinal_ex(ctx, ct + n, &len) != 1 || len != 0 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_BOX_TAG_LEN, tag) != 1)
                return err_set(reterr, -EIO, NULL, "cannot encrypt the secret");
        out[total] = 0;

        buf_release(ret_blob);
        ret_blob->buf = (char *) TAKE_PTR(out);
        ret_blob->len = total;
        ret_blob->alloc = total + 1;
        return 0;
}

int secret_box_open_blob(const SecretBox *box, const void *blob, size_t n, const char *aad,
                         Buf *ret_plain, Error *reterr) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        _cleanup_(buf_release_secure) Buf plain = {};
        const uint8_t *b = blob, *nonce, *ct, *tag;
        uint8_t tag_copy[SECRET_BOX_TAG_LEN];
        size_t pn;
        int len = 0, r;

        assert_return(box && aad && ret_plain, -EINVAL);
        assert_return(blob || n == 0, -EINVAL);

        if (n < SECRET_BOX_OVERHEAD)
                return err_set(reterr, -EBADMSG, NULL, "sealed secret too short (%zu bytes)", n);
        if (b[0] != SECRET_BOX_VERSION)
                return err_set(reterr, -EBADMSG, NULL, "sealed secret of unknown format %u",
                               (unsigned) b[0]);
        pn = n - SECRET_BOX_OVERHEAD;
        if (pn > SECRET_BOX_MAX_PLAIN || pn > ret_plain->max)
                return err_set(reterr, -E2BIG, NULL, "secret value larger than %zu bytes",
                               MIN(ret_plain->max, (size_t) SECRET_BOX_MAX_PLAIN));
        nonce = b + 1;
        ct = nonce + SECRET_BOX_NONCE_LEN;
        tag = ct + pn;
        memcpy(tag_copy, tag, sizeof(tag_copy)); /* OpenSSL takes a non-const pointer */

        /* Allocated at its final size: no realloc leaves plaintext behind. */
        plain.buf = b_malloc(pn + 1);
        if (!plain.buf)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        plain.alloc = pn + 1;
        plain.max = ret_plain->max;

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_BOX_NONCE_LEN, NULL) != 1 ||
            EVP_DecryptInit_ex(ctx, NULL, NULL, box->key, nonce) != 1)
                return err_set(reterr, -EIO, NULL, "cannot set up AES-256-GCM");
        r = cipher_aad(ctx, false, b[0], aad);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot decrypt the secret");
        if (pn > 0 && (EVP_DecryptUpdate(ctx, (uint8_t *) plain.buf, &len, ct, (int) pn) != 1 ||
                       (size_t) len != pn))
                return err_set(reterr, -EBADMSG, NULL, "cannot decrypt the secret");
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_BOX_TAG_LEN, tag_copy) != 1)
                return err_set(reterr, -EIO, NULL, "cannot decrypt the secret");
        if (EVP_DecryptFinal_ex(ctx, (uint8_t *) plain.buf + pn, &len) != 1)
                return err_set(reterr, -EBADMSG, NULL,
                               "secret does not authenticate: another master key, or the stored "
                               "value was altered or moved");
        plain.len = pn;
        plain.buf[pn] = 0;

        buf_release_secure(ret_plain);
        *ret_plain = plain;
        plain = (Buf){};
        return 0;
}
