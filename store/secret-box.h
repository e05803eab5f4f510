/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/macro.h"

/* Encryption at rest of secret values (README "Secrets"): AES-256-GCM under the master key
 * (BERTH_MASTER_KEY_FILE, default $BERTH_DATA_DIR/master.key).
 *
 * A sealed blob is   version (1 byte, SECRET_BOX_VERSION) || nonce (12 random bytes)
 *                    || ciphertext (as long as the plaintext) || tag (16 bytes).
 * The authenticated data is the version byte followed by the caller's `aad` string, which the
 * secret store sets to "project/name": a blob copied onto another secret's row does not open.
 *
 * A SecretBox holds only the key, read-only after secret_box_open(): seal and open may run on
 * several threads at once (each call has its own cipher context). The key is wiped at free. */
typedef struct SecretBox SecretBox;

#define SECRET_BOX_KEY_LEN   32
#define SECRET_BOX_VERSION   1
#define SECRET_BOX_NONCE_LEN 12
#define SECRET_BOX_TAG_LEN   16
#define SECRET_BOX_OVERHEAD  (1 + SECRET_BOX_NONCE_LEN + SECRET_BOX_TAG_LEN)
#define SECRET_BOX_MAX_PLAIN (16 * 1024 * 1024) /* whatever the caller's own, smaller cap */

/* Reads the key file: exactly 32 bytes, a regular file (symlinks refused) owned by berthd's user,
 * no permission bits for group or others. When it does not exist, creates it with 32 bytes from
 * RAND_bytes, mode 0600: written to a temporary file (O_CREAT|O_EXCL|O_NOFOLLOW), fsync'd, then
 * linked into place, so a concurrent reader never sees a short key and two creators agree on one.
 * -EPERM (mode or owner), -EINVAL (size, type), -errno of the system call, with a message naming
 * the file. */
int secret_box_open(const char *key_file, SecretBox **ret, Error *reterr) _warn_unused_result_;
/* A box over a key given in memory (tests, tools). */
int secret_box_new(const uint8_t key[SECRET_BOX_KEY_LEN], SecretBox **ret,
                   Error *reterr) _warn_unused_result_;
/* Wipes the key (OPENSSL_cleanse) and frees. NULL is fine; returns NULL. */
SecretBox *secret_box_free(SecretBox *box);
DEFINE_TRIVIAL_CLEANUP_FUNC(SecretBox *, secret_box_free);

/* Encrypts n bytes (n may be 0) under a fresh random nonce. On success *ret_blob holds exactly
 * the sealed blob (n + SECRET_BOX_OVERHEAD bytes; its previous contents are dropped); -E2BIG when
 * that exceeds ret_blob->max or n exceeds SECRET_BOX_MAX_PLAIN. */
int secret_box_seal(const SecretBox *box, const void *plain, size_t n, const char *aad,
                    Buf *ret_blob, Error *reterr) _warn_unused_result_;
/* Decrypts and authenticates a blob sealed with the same key and aad. On success *ret_plain
 * holds exactly the plaintext (NUL-terminated after its length; its previous contents are wiped)
 * in a buffer allocated at its final size, so no stray copy is left behind by growth: release it
 * with buf_release_secure(). -EBADMSG when the blob is malformed, of an unknown version, or does
 * not authenticate (another key, another aad, a changed byte); -E2BIG when the plaintext exceeds
 * ret_plain->max. */
int secret_box_open_blob(const SecretBox *box, const void *blob, size_t n, const char *aad,
                         Buf *ret_plain, Error *reterr) _warn_unused_result_;
