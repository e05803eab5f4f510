/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util/common.h"

#define LOG_MODULE "init-admin"
#include "util/log.h"

#include "api/api.h"
#include "api/jwt.h"
#include "api/server.h"
#include "store/auth-store.h"
#include "store/embedded.h"
#include "store/store.h"

/* berthd init-admin: the first admin, created straight in the state store (no API involved, so it
 * works before any user exists). The store is found as berthd finds it; an embedded store that a
 * running berthd already serves is used as is, otherwise it is started for the duration. */

#define INIT_ADMIN_PASSWORD_BYTES 18 /* 24 base64url characters */

static const char init_admin_usage[] =
        "usage: berthd init-admin [--username NAME] [--password-file FILE|-]\n"
        "                         [--data-dir DIR] [--database-url URL]\n"
        "Creates an admin user in berthd's state store (BERTH_DATABASE_URL, else the embedded\n"
        "store in BERTH_DATA_DIR). Without --password-file, prints a random one-time password.\n";

static void fclosep_(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

/* The file's first line (without its newline), 8 to PASSWORD_MAX_LEN bytes. */
static int password_from_file(const char *path, char **ret, Error *reterr) {
        _cleanup_(fclosep_) FILE *f = NULL;
        _cleanup_(buf_release) Buf b = BUF_INIT(PASSWORD_MAX_LEN + 2);
        char chunk[256];
        size_t n;
        int r;

        f = streq(path, "-") ? NULL : fopen(path, "re");
        if (!f && !streq(path, "-"))
                return err_set(reterr, -errno, NULL, "cannot open %s: %m", path);
        while ((n = fread(chunk, 1, sizeof(chunk), f ? f : stdin)) > 0) {
                r = buf_append(&b, chunk, n);
                OPENSSL_cleanse(chunk, sizeof(chunk));
                if (r < 0)
                        return err_set(reterr, -E2BIG, NULL, "%s: password longer than %d bytes",
                                       path, PASSWORD_MAX_LEN);
        }
        n = strcspn(buf_str(&b), "\r\n");
        if (n < 8) {
                if (b.buf)
                        OPENSSL_cleanse(b.buf, b.len);
                return err_set(reterr, -EINVAL, NULL, "%s: the password needs at least 8 bytes",
                               path);
        }
        *ret = b_strndup(b.buf, n);
        OPENSSL_cleanse(b.buf, b.len);
        return *ret ? 0 : err_set(reterr, -ENOMEM, NULL, "out of memory");
}

static int password_random(char **ret) {
        _cleanup_(buf_release) Buf b = BUF_INIT(64);
        uint8_t raw[INIT_ADMIN_PASSWORD_BYTES];
        int r;

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return -EIO;
        r = b64url_encode(raw, sizeof(raw), &b);
        OPENSSL_cleanse(raw, sizeof(raw));
        if (r < 0)
                return r;
        *ret = buf_take(&b);
        return *ret ? 0 : -ENOMEM;
}

/* An embedded store that is already running answers on its socket: use it and leave it be. */
static int store_connect(const char *data_dir, const char *database_url, EmbeddedPg **ret_pg,
                         Store **ret, Error *reterr) {
        _cleanup_(buf_release) Buf conninfo = BUF_INIT(PATH_MAX + 64);
        _cleanup_free_ char *started = NULL;
        char abs[PATH_MAX];
        int r;

        if (database_url)
                return store_open(database_url, ret, reterr);

        if (realpath(data_dir, abs)) {
                Error e = ERROR_INIT;
                struct stat st;

                r = buf_printf(&conninfo, "host=%s/run dbname=berth user=berth", abs);
                if (r < 0)
                        return err_set(reterr, r, NULL, "data directory path too long");
                if (stat(abs, &st) == 0 && store_open(buf_str(&conninfo), ret, &e) >= 0) {
                        log_debug("using the running embedded store in %s", abs);
                        return 0;
                }
        }
        if (mkdir(data_dir, 0700) < 0 && errno != EEXIST)
                return err_set(reterr, -errno, NULL, "cannot create data dir %s: %m", data_dir);
        r = embedded_pg_start(data_dir, ret_pg, &started, reterr);
        if (r < 0)
                return err_prefix(reterr, "embedded state store");
        return store_open(started, ret, reterr);
}

static int init_admin(const char *username, const char *password_file, const char *data_dir,
                      const char *database_url) {
        _cleanup_free_ char *password = NULL, *hash = NULL;
        Error err = ERROR_INIT;
        EmbeddedPg *pg = NULL;
        Store *s = NULL;
        int r;

        if (!api_user_name_is_valid(username) || api_user_name_is_reserved(username)) {
                fprintf(stderr,
                        "berthd init-admin: user names are 1 to %d characters of [a-z0-9._-], "
                        "starting with a letter or digit (not \"local\" or \"anonymous\")\n",
                        API_USER_NAME_MAX);
                return 2;
        }
        r = password_file ? password_from_file(password_file, &password, &err)
                          : password_random(&password);
        if (r < 0) {
                fprintf(stderr, "berthd init-admin: %s\n",
                        err.msg[0] ? err.msg : "cannot make a password");
                return 1;
        }
        r = password_hash(password, &hash);
        if (r < 0) {
                OPENSSL_cleanse(password, strlen(password));
                fprintf(stderr, "berthd init-admin: cannot hash the password\n");
                return 1;
        }

        r = store_connect(data_dir, database_url, &pg, &s, &err);
        if (r >= 0)
                r = store_migrate(s, &err);
        if (r >= 0)
                r = store_user_create(s, username, hash, true, &err);
        if (r >= 0 && store_audit_add(s, "init-admin", "user_create", NULL, "admin", &err) < 0)
                log_warn("audit: %s", err.msg);
        store_free(s);
        embedded_pg_stop(pg);

        if (r < 0) {
                OPENSSL_cleanse(password, strlen(password));
                fprintf(stderr, "berthd init-admin: %s\n", err.msg);
                return 1;
        }
        printf("created admin user \"%s\"\n", username);
        if (!password_file)
                printf("one-time password (shown once): %s\n", password);
        OPENSSL_cleanse(password, strlen(password));
        return fflush(stdout) == 0 ? 0 : 1;
}

int api_init_admin_main(int argc, char **argv) {
        static const struct option opts[] = {
                {"username", required_argument, NULL, 'u'},
                {"password-file", required_argument, NULL, 'p'},
                {"data-dir", required_argument, NULL, 'd'},
                {"database-url", required_argument, NULL, 'D'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *username = "admin", *password_file = NULL, *data_dir, *database_url;
        int c;

        data_dir = getenv("BERTH_DATA_DIR");
        if (isempty(data_dir))
                data_dir = "/var/lib/berth";
        database_url = getenv("BERTH_DATABASE_URL");
        if (isempty(database_url))
                database_url = NULL;
        log_set_level(log_parse_level(getenv("BERTH_LOG_LEVEL")));

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'u':
                        username = optarg;
                        break;
                case 'p':
                        password_file = optarg;
                        break;
                case 'd':
                        data_dir = optarg;
                        break;
                case 'D':
                        database_url = optarg;
                        break;
                case 'h':
                        fputs(init_admin_usage, stdout);
                        return 0;
                default:
                        fputs(init_admin_usage, stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fputs(init_admin_usage, stderr);
                return 2;
        }
        return init_admin(username, password_file, data_dir, database_url);
}
