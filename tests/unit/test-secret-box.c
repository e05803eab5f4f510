/* SPDX-License-Identifier: MIT */
/* store/secret-box.c: AES-256-GCM sealing of secret values and the master key file. Linked with
 * berth-core and libcrypto (no store, no network); the key file tests use a private temporary
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/common.h"

#include "store/secret-box.h"

static char dir[64];

static int dir_setup(void **state) {
        (void) state;
        snprintf(dir, sizeof(dir), "/tmp/berth-secret-box.XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static void path_in_dir(char *buf, size_t n, const char *name) {
        snprintf(buf, n, "%s/%s", dir, name);
}

static int dir_teardown(void **state) {
        static const char *const names[] = {"master.key", "k-0644",   "k-0640", "k-31",
                                            "k-33",       "link.key", "k-dir",  "k-umask"};
        char p[128];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                path_in_dir(p, sizeof(p), names[i]);
                (void) unlink(p);
                (void) rmdir(p);
        }
        return rmdir(dir);
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t) n);
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(close(fd), 0);
}

static SecretBox *box_with(uint8_t fill) {
        uint8_t key[SECRET_BOX_KEY_LEN];
        SecretBox *box = NULL;

        memset(key, fill, sizeof(key));
        assert_int_equal(secret_box_new(key, &box, NULL), 0);
        return box;
}

static void seal(const SecretBox *box, const char *plain, const char *aad, Buf *blob) {
        Error e = ERROR_INIT;

        *blob = BUF_INIT(1024 * 1024);
        assert_int_equal(secret_box_seal(box, plain, strlen(plain), aad, blob, &e), 0);
}

/* ---- sealing ---- */

static void test_round_trip(void **state) {
        _cleanup_(secret_box_freep) SecretBox *box = box_with(7);
        _cleanup_(buf_release) Buf blob = {}, blob2 = {};
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(SECRET_BOX_MAX_PLAIN);
        static const char value[] = "hunter2-correct-horse";
        Error e = ERROR_INIT;

        (void) state;
        seal(box, value, "shop/db-pass", &blob);
        assert_int_equal(blob.len, strlen(value) + SECRET_BOX_OVERHEAD);
        assert_int_equal((uint8_t) blob.buf[0], SECRET_BOX_VERSION);
        assert_null(memmem(blob.buf, blob.len, value, strlen(value)));
        assert_null(memmem(blob.buf, blob.len, "hunter2", 7));

        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "shop/db-pass", &plain, &e),
                         0);
        assert_int_equal(plain.len, strlen(value));
        assert_memory_equal(plain.buf, value, plain.len);
        assert_int_equal(plain.buf[plain.len], 0);

        /* A fresh nonce each time: the same value never seals to the same blob. */
        seal(box, value, "shop/db-pass", &blob2);
        assert_int_equal(blob.len, blob2.len);
        assert_true(memcmp(blob.buf, blob2.buf, blob.len) != 0);
}

static void test_binary_and_empty(void **state) {
        _cleanup_(secret_box_freep) SecretBox *box = box_with(1);
        _cleanup_(buf_release) Buf blob = BUF_INIT(4096);
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(4096);
        static const uint8_t bin[] = {0, 1, 2, 0xff, 0, 'x', '\n'};

        (void) state;
        assert_int_equal(secret_box_seal(box, bin, sizeof(bin), "p/n", &blob, NULL), 0);
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "p/n", &plain, NULL), 0);
        assert_int_equal(plain.len, sizeof(bin));
        assert_memory_equal(plain.buf, bin, sizeof(bin));

        assert_int_equal(secret_box_seal(box, NULL, 0, "p/n", &blob, NULL), 0);
        assert_int_equal(blob.len, SECRET_BOX_OVERHEAD);
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "p/n", &plain, NULL), 0);
        assert_int_equal(plain.len, 0);
        assert_non_null(plain.buf);
        assert_string_equal(plain.buf, "");
}

static void test_largest_value(void **state) {
        _cleanup_(secret_box_freep) SecretBox *box = box_with(3);
        _cleanup_(buf_release) Buf blob = BUF_INIT(64 * 1024 + SECRET_BOX_OVERHEAD);
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(64 * 1024);
        _cleanup_free_ char *big = b_malloc(64 * 1024);

        (void) state;
        assert_non_null(big);
        for (size_t i = 0; i < 64 * 1024; i++)
                big[i] = (char) ('a' + i % 26);
        assert_int_equal(secret_box_seal(box, big, 64 * 1024, "p/big", &blob, NULL), 0);
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "p/big", &plain, NULL), 0);
        assert_int_equal(plain.len, 64 * 1024);
        assert_memory_equal(plain.buf, big, plain.len);
}

static void test_caps(void **state) {
        _cleanup_(secret_box_freep) SecretBox *box = box_with(4);
        _cleanup_(buf_release) Buf small = BUF_INIT(SECRET_BOX_OVERHEAD + 3);
        _cleanup_(buf_release) Buf blob = {};
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(3);
        Error e = ERROR_INIT;

        (void) state;
        /* The sealed blob must fit the caller's cap. */
        assert_int_equal(secret_box_seal(box, "abcd", 4, "p/n", &small, &e), -E2BIG);
        assert_null(small.buf);
        assert_int_equal(secret_box_seal(box, "abc", 3, "p/n", &small, NULL), 0);
        /* So must the plaintext; *ret_plain is left untouched on failure. */
        seal(box, "abcd", "p/n", &blob);
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "p/n", &plain, &e), -E2BIG);
        assert_null(plain.buf);
}

static void test_wrong_aad(void **state) {
        _cleanup_(secret_box_freep) SecretBox *box = box_with(9);
        _cleanup_(buf_release) Buf blob = {};
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(4096);
        Error e = ERROR_INIT;

        (void) state;
        seal(box, "s3cret", "shop/db-pass", &blob);
        /* Moved to another secret, or to another project: refused. */
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "shop/api-key", &plain, &e),
                         -EBADMSG);
        assert_null(strstr(e.msg, "s3cret"));
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "shop2/db-pass", &plain, &e),
                         -EBADMSG);
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "", &plain, &e), -EBADMSG);
        assert_null(plain.buf);
}

static void test_wrong_key(void **state) {
        _cleanup_(secret_box_freep) SecretBox *a = box_with(1), *b = box_with(2);
        _cleanup_(buf_release) Buf blob = {};
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(4096);

        (void) state;
        seal(a, "s3cret", "p/n", &blob);
        assert_int_equal(secret_box_open_blob(b, blob.buf, blob.len, "p/n", &plain, NULL),
                         -EBADMSG);
        assert_null(plain.buf);
}

static void test_flipped_byte(void **state) {
        _cleanup_(secret_box_freep) SecretBox *box = box_with(5);
        _cleanup_(buf_release) Buf blob = {};
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(4096);

        (void) state;
        seal(box, "a value of some length", "p/n", &blob);
        /* Every byte: version, nonce, ciphertext and tag. */
        for (size_t i = 0; i < blob.len; i++) {
                Error e = ERROR_INIT;

                blob.buf[i] ^= 0x01;
                assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "p/n", &plain, &e),
                                 -EBADMSG);
                assert_int_equal(e.code, -EBADMSG);
                blob.buf[i] ^= 0x01;
        }
        assert_null(plain.buf);
        /* Truncated (also below the fixed overhead) and extended blobs. */
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len - 1, "p/n", &plain, NULL),
                         -EBADMSG);
        assert_int_equal(
                secret_box_open_blob(box, blob.buf, SECRET_BOX_OVERHEAD - 1, "p/n", &plain, NULL),
                -EBADMSG);
        assert_int_equal(secret_box_open_blob(box, blob.buf, 0, "p/n", &plain, NULL), -EBADMSG);
        assert_int_equal(secret_box_open_blob(box, blob.buf, blob.len, "p/n", &plain, NULL), 0);
        assert_string_equal(plain.buf, "a value of some length");
}

/* ---- the key file ---- */

static void test_key_created_0600(void **state) {
        _cleanup_(secret_box_freep) SecretBox *a = NULL, *b = NULL;
        _cleanup_(buf_release) Buf blob = {};
        _cleanup_(buf_release_secure) Buf plain = BUF_INIT(4096);
        Error e = ERROR_INIT;
        struct stat st;
        char p[128];

        (void) state;
        path_in_dir(p, sizeof(p), "master.key");
        assert_int_equal(secret_box_open(p, &a, &e), 0);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, SECRET_BOX_KEY_LEN);
        assert_int_equal(st.st_uid, geteuid());

        /* Opened again: the same key, not a new one. */
        assert_int_equal(secret_box_open(p, &b, &e), 0);
        seal(a, "persisted", "p/n", &blob);
        assert_int_equal(secret_box_open_blob(b, blob.buf, blob.len, "p/n", &plain, &e), 0);
        assert_string_equal(plain.buf, "persisted");
}

static void test_key_created_0600_whatever_umask(void **state) {
        _cleanup_(secret_box_freep) SecretBox *box = NULL;
        struct stat st;
        mode_t old;
        char p[128];
        int r;

        (void) state;
        path_in_dir(p, sizeof(p), "k-umask");
        old = umask(0);
        r = secret_box_open(p, &box, NULL);
        umask(old);
        assert_int_equal(r, 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_key_readable_by_others_refused(void **state) {
        SecretBox *box = NULL;
        uint8_t key[SECRET_BOX_KEY_LEN] = {1};
        Error e = ERROR_INIT;
        char p[128];

        (void) state;
        path_in_dir(p, sizeof(p), "k-0644");
        write_file(p, key, sizeof(key), 0644);
        assert_int_equal(secret_box_open(p, &box, &e), -EPERM);
        assert_null(box);
        assert_non_null(strstr(e.msg, p));
        assert_non_null(strstr(e.msg, "0600"));

        path_in_dir(p, sizeof(p), "k-0640");
        write_file(p, key, sizeof(key), 0640);
        assert_int_equal(secret_box_open(p, &box, &e), -EPERM);
        assert_null(box);
}

static void test_key_wrong_size_refused(void **state) {
        SecretBox *box = NULL;
        uint8_t key[SECRET_BOX_KEY_LEN + 1] = {1};
        Error e = ERROR_INIT;
        char p[128];

        (void) state;
        path_in_dir(p, sizeof(p), "k-31");
        write_file(p, key, SECRET_BOX_KEY_LEN - 1, 0600);
        assert_int_equal(secret_box_open(p, &box, &e), -EINVAL);
        assert_null(box);
        assert_non_null(strstr(e.msg, "32"));

        path_in_dir(p, sizeof(p), "k-33");
        write_file(p, key, SECRET_BOX_KEY_LEN + 1, 0600);
        assert_int_equal(secret_box_open(p, &box, &e), -EINVAL);
        assert_null(box);
}

static void test_key_symlink_and_dir_refused(void **state) {
        SecretBox *box = NULL;
        Error e = ERROR_INIT;
        char target[128], p[128];

        (void) state;
        path_in_dir(target, sizeof(target), "master.key");
        path_in_dir(p, sizeof(p), "link.key");
        assert_int_equal(secret_box_open(target, &box, NULL), 0); /* exists, good */
        box = secret_box_free(box);
        assert_int_equal(symlink(target, p), 0);
        assert_int_equal(secret_box_open(p, &box, &e), -ELOOP);
        assert_null(box);

        path_in_dir(p, sizeof(p), "k-dir");
        assert_int_equal(mkdir(p, 0700), 0);
        assert_true(secret_box_open(p, &box, &e) < 0);
        assert_null(box);
}

static void test_key_dir_missing(void **state) {
        SecretBox *box = NULL;
        Error e = ERROR_INIT;
        char p[160];

        (void) state;
        snprintf(p, sizeof(p), "%s/no-such-dir/master.key", dir);
        assert_int_equal(secret_box_open(p, &box, &e), -ENOENT);
        assert_null(box);
        assert_non_null(strstr(e.msg, p));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_binary_and_empty),
                cmocka_unit_test(test_largest_value),
                cmocka_unit_test(test_caps),
                cmocka_unit_test(test_wrong_aad),
                cmocka_unit_test(test_wrong_key),
                cmocka_unit_test(test_flipped_byte),
                cmocka_unit_test(test_key_created_0600),
                cmocka_unit_test(test_key_created_0600_whatever_umask),
                cmocka_unit_test(test_key_readable_by_others_refused),
                cmocka_unit_test(test_key_wrong_size_refused),
                cmocka_unit_test(test_key_symlink_and_dir_refused),
                cmocka_unit_test(test_key_dir_missing),
        };

        return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
