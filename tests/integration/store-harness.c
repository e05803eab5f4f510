/* SPDX-License-Identifier: MIT */
/* The embedded store and TAP helpers of the C store tests: see store-harness.h. */
#include <ftw.h>
#include <stdarg.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "util/common.h"

#include "store-harness.h"

static int test_n;
static int test_failed;

bool check(bool ok, const char *fmt, ...) {
        va_list ap;

        printf("%s %d - ", ok ? "ok" : "not ok", ++test_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (!ok)
                test_failed++;
        return ok;
}

bool check_r(int r, int want, const Error *e, const char *what) {
        char b[64];

        if (r == want)
                return check(true, "%s", what);
        return check(false, "%s: got %d (%s) \"%s\", want %d", what, r, err_str(r, b, sizeof(b)),
                     e->msg, want);
}

static void print_log(const char *dir) {
        char path[512], line[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/state.log", dir);
        f = fopen(path, "re");
        if (!f)
                return;
        printf("# --- %s\n", path);
        while (fgets(line, sizeof(line), f))
                printf("# %s", line);
        fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 ? -1 : 0;
}

static void rm_rf(const char *dir) {
        if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                printf("# cannot remove %s\n", dir);
}

bool store_harness_start(StoreHarness *h, const char *prefix) {
        Error e = ERROR_INIT;
        int r;

        *h = (StoreHarness){};
        alloc_install_cjson();
        printf("TAP version 13\n");
        snprintf(h->dir, sizeof(h->dir), "/tmp/%s-XXXXXX", prefix);
        if (!mkdtemp(h->dir)) {
                printf("Bail out! mkdtemp: %m\n");
                return false;
        }
        r = embedded_pg_start(h->dir, &h->pg, &h->conninfo, &e);
        if (!check_r(r, 0, &e, "embedded PostgreSQL starts")) {
                print_log(h->dir);
                rm_rf(h->dir);
                return false;
        }
        printf("# conninfo: %s\n", h->conninfo);
        h->raw = PQconnectdb(h->conninfo);
        check(PQstatus(h->raw) == CONNECTION_OK, "raw connection for checks");
        return true;
}

int store_harness_finish(StoreHarness *h) {
        if (h->raw)
                PQfinish(h->raw);
        h->raw = NULL;
        if (test_failed)
                print_log(h->dir);
        h->pg = embedded_pg_stop(h->pg);
        rm_rf(h->dir);
        h->conninfo = mfree(h->conninfo);

        printf("1..%d\n", test_n);
        if (test_failed)
                printf("# %d of %d failed\n", test_failed, test_n);
        return test_failed ? 1 : 0;
}

int64_t raw_count(PGconn *raw, const char *sql, const char *param) {
        PGresult *res = PQexecParams(raw, sql, param ? 1 : 0, NULL, (const char *const[]){param},
                                     NULL, NULL, 0);
        int64_t n = -1;

        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
                n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        else
                printf("# raw query failed: %s", PQerrorMessage(raw));
        PQclear(res);
        return n;
}

bool raw_exec(PGconn *raw, const char *sql, const char *param) {
        PGresult *res = PQexecParams(raw, sql, param ? 1 : 0, NULL, (const char *const[]){param},
                                     NULL, NULL, 0);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

        if (!ok) {
                char msg[512];

                /* One "#" line: the message may span several. */
                snprintf(msg, sizeof(msg), "%s", PQerrorMessage(raw));
                for (char *p = msg; *p; p++)
                        if (*p == '\n')
                                *p = ' ';
                printf("# raw query failed: %s\n", msg);
        }
        PQclear(res);
        return ok;
}

bool wait_for(Store *l, const char *channel, const char *payload) {
        for (int i = 0; i < 20; i++) {
                Error e = ERROR_INIT;
                char *c = NULL, *p = NULL;
                bool match;
                int r;

                r = store_notify_wait(l, 5 * USEC_PER_SEC, &c, &p, &e);
                if (r <= 0) {
                        printf("# notify_wait: %d %s\n", r, e.msg);
                        return false;
                }
                match = streq(c, channel) && streq(p, payload);
                b_free(c);
                b_free(p);
                if (match)
                        return true;
        }
        return false;
}

const char *jstr(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsString(v) ? v->valuestring : NULL;
}
