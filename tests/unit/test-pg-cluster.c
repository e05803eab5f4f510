/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/document.h"
#include "model/json-util.h"
#include "model/pg-cluster.h"

/* pg_cluster: validation with exact field and reason (the bad input among them),
 * normalisation (defaults, canonical spellings, idempotence) and the typed spec. */

#define PGC(spec) "kind: pg_cluster\nmetadata: {name: orders, project: shop}\nspec: " spec "\n"

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

static char *normalised(const char *body) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        char *s;
        int r;

        r = documents_parse(body, strlen(body), &docs, &n, &e);
        if (r < 0)
                fail_msg("rejected: %s (%s at %s)\n%s", e.msg, e.reason, e.field, body);
        assert_int_equal(n, 1);
        assert_int_equal(docs[0].kind, KIND_PG_CLUSTER);
        s = cJSON_PrintUnformatted(docs[0].spec);
        documents_free(docs, n);
        return s;
}

static void assert_idempotent(const char *once) {
        _cleanup_(buf_release) Buf b = BUF_INIT(1 << 20);
        _cleanup_free_ char *again = NULL;

        assert_int_equal(buf_printf(&b,
                                    "{\"kind\":\"pg_cluster\",\"metadata\":{\"name\":\"orders\"},"
                                    "\"spec\":%s}",
                                    once),
                         0);
        again = normalised(buf_str(&b));
        if (!streq(once, again))
                fail_msg("not idempotent:\n  once  %s\n  again %s", once, again);
}

static void assert_normalises(const char *body, const char *want) {
        _cleanup_free_ char *got = normalised(body);

        if (!streq(got, want))
                fail_msg("normalised differently:\n  got  %s\n  want %s", got, want);
        assert_idempotent(got);
}

static void test_defaults(void **state) {
        (void) state;
        assert_normalises(
                PGC("{}"),
                "{\"version\":\"15\",\"image\":\"berth/postgres:15\",\"plan\":\"dev_cluster\","
                "\"resources\":{\"cpu\":0.5,\"memory\":536870912},\"storage\":{\"size\":"
                "5368709120},\"initial_db_name\":\"orders\",\"initial_user\":\"app\","
                "\"password\":{\"secret\":\"orders-password\",\"generated\":true},\"parameters\":"
                "{},\"allow\":[],\"allow_public\":false,\"topology\":{\"standbys\":2,"
                "\"replication_mode\":\"sync\",\"synchronous_mode_strict\":false,"
                "\"max_replication_lag\":{\"seconds\":30}},\"ha\":{\"engine\":\"patroni\","
                "\"dcs_members\":3,\"ttl\":\"10s\",\"loop_wait\":\"2s\",\"retry_timeout\":\"3s\"},"
                "\"endpoints\":{\"bind\":\"127.0.0.1\"},\"backup\":{\"enabled\":false,"
                "\"schedule\":\"daily\",\"retention_days\":7,\"pitr\":false,\"repository\":{"
                "\"type\":\"volume\"}},\"paused\":false}");
}

static void test_normalisation(void **state) {
        (void) state;
        assert_normalises(
                PGC("{paused: true, endpoints: {read_port: 6433, write_port: 6432, bind: "
                    "'0.0.0.0'}, allow_public: true, ha: {retry_timeout: 5, loop_wait: 1s, ttl: "
                    "1m, dcs_members: 1, engine: patroni}, topology: {max_replication_lag: 16Mi, "
                    "synchronous_mode_strict: true, replication_mode: sync, standbys: 4}, "
                    "parameters: {Max_Connections: 300}, plan: small_cluster, initial_user: shop, "
                    "allow: [web, 10.1.0.0/16]}"),
                "{\"version\":\"15\",\"image\":\"berth/postgres:15\",\"plan\":\"small_cluster\","
                "\"resources\":{\"cpu\":1,\"memory\":2147483648},\"storage\":{\"size\":"
                "21474836480},\"initial_db_name\":\"orders\",\"initial_user\":\"shop\","
                "\"password\":{\"secret\":\"orders-password\",\"generated\":true},\"parameters\":"
                "{\"max_connections\":\"300\"},\"allow\":[\"web\",\"10.1.0.0/16\"],"
                "\"allow_public\":true,\"topology\":{\"standbys\":4,\"replication_mode\":\"sync\","
                "\"synchronous_mode_strict\":true,\"max_replication_lag\":{\"bytes\":16777216}},"
                "\"ha\":{\"engine\":\"patroni\",\"dcs_members\":1,\"ttl\":\"1m\",\"loop_wait\":"
                "\"1s\",\"retry_timeout\":\"5s\"},\"endpoints\":{\"write_port\":6432,"
                "\"read_port\":6433,\"bind\":\"0.0.0.0\"},\"backup\":{\"enabled\":false,"
                "\"schedule\":\"daily\",\"retention_days\":7,\"pitr\":false,\"repository\":{"
                "\"type\":\"volume\"}},\"paused\":true}");
        /* async with one standby, and the timers at the edge of Patroni's rule. */
        assert_normalises(
                PGC("{topology: {standbys: 1, replication_mode: async}, ha: {ttl: 8, loop_wait: "
                    "2, retry_timeout: 3}, endpoints: {write_port: 5432}}"),
                "{\"version\":\"15\",\"image\":\"berth/postgres:15\",\"plan\":\"dev_cluster\","
                "\"resources\":{\"cpu\":0.5,\"memory\":536870912},\"storage\":{\"size\":"
                "5368709120},\"initial_db_name\":\"orders\",\"initial_user\":\"app\","
                "\"password\":{\"secret\":\"orders-password\",\"generated\":true},\"parameters\":"
                "{},\"allow\":[],\"allow_public\":false,\"topology\":{\"standbys\":1,"
                "\"replication_mode\":\"async\",\"synchronous_mode_strict\":false,"
                "\"max_replication_lag\":{\"seconds\":30}},\"ha\":{\"engine\":\"patroni\","
                "\"dcs_members\":3,\"ttl\":\"8s\",\"loop_wait\":\"2s\",\"retry_timeout\":\"3s\"},"
                "\"endpoints\":{\"write_port\":5432,\"bind\":\"127.0.0.1\"},\"backup\":{"
                "\"enabled\":false,\"schedule\":\"daily\",\"retention_days\":7,\"pitr\":false,"
                "\"repository\":{\"type\":\"volume\"}},\"paused\":false}");
}

typedef struct BadCase {
        const char *what;
        const char *body;
        int code;
        const char *reason;
        const char *field;
        const char *msg; /* substring of the message, or NULL */
} BadCase;

static const BadCase bad_cases[] = {
        /* the issue's */
        {"standbys 0 sync", PGC("{topology: {standbys: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.topology.standbys", "leaves no standby to confirm a commit"},
        {"standbys 0 sync explicit", PGC("{topology: {standbys: 0, replication_mode: sync}}"),
         -EINVAL, "OUT_OF_RANGE", "spec.topology.standbys", "or replication_mode: async"},
        {"standbys 0 async", PGC("{topology: {standbys: 0, replication_mode: async}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.topology.standbys", "use kind pg_single"},
        {"dcs_members 2", PGC("{ha: {dcs_members: 2}}"), -EINVAL, "INVALID_VALUE",
         "spec.ha.dcs_members", "tolerate no failure"},

        {"standbys 5", PGC("{topology: {standbys: 5}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.topology.standbys", "1..4"},
        {"standbys text", PGC("{topology: {standbys: two}}"), -EINVAL, "INVALID_TYPE",
         "spec.topology.standbys", NULL},
        {"mode unknown", PGC("{topology: {replication_mode: quorum}}"), -EINVAL, "INVALID_VALUE",
         "spec.topology.replication_mode", NULL},
        {"strict with async",
         PGC("{topology: {replication_mode: async, synchronous_mode_strict: "
             "true}}"),
         -EINVAL, "CONFLICT", "spec.topology.synchronous_mode_strict", "needs replication_mode"},
        {"topology unknown", PGC("{topology: {replicas: 2}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.topology.replicas", NULL},
        {"lag nonsense", PGC("{topology: {max_replication_lag: soon}}"), -EINVAL, "INVALID_VALUE",
         "spec.topology.max_replication_lag", NULL},
        {"dcs_members 5", PGC("{ha: {dcs_members: 5}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.ha.dcs_members", NULL},
        {"engine stolon", PGC("{ha: {engine: stolon}}"), -EINVAL, "INVALID_VALUE", "spec.ha.engine",
         NULL},
        {"ttl too short", PGC("{ha: {ttl: 7, loop_wait: 2, retry_timeout: 3}}"), -EINVAL,
         "CONFLICT", "spec.ha.ttl", "less than loop_wait + 2 × retry_timeout"},
        {"ttl default vs retry", PGC("{ha: {retry_timeout: 5}}"), -EINVAL, "CONFLICT",
         "spec.ha.ttl", "(2s + 2 × 5s = 12s)"},
        {"ttl fraction", PGC("{ha: {ttl: 10500ms}}"), -EINVAL, "INVALID_VALUE", "spec.ha.ttl",
         "whole number of seconds"},
        {"loop_wait 0", PGC("{ha: {loop_wait: 0}}"), -EINVAL, "OUT_OF_RANGE", "spec.ha.loop_wait",
         NULL},
        {"equal ports", PGC("{endpoints: {write_port: 5432, read_port: 5432}}"), -EINVAL,
         "CONFLICT", "spec.endpoints.read_port", "two ports"},
        {"port 0", PGC("{endpoints: {write_port: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.endpoints.write_port", NULL},
        {"bind everywhere", PGC("{endpoints: {write_port: 6432, bind: 0.0.0.0}}"), -EINVAL,
         "INVALID_VALUE", "spec.endpoints.bind", "allow_public"},
        {"bind not an address", PGC("{endpoints: {bind: localhost}}"), -EINVAL, "INVALID_VALUE",
         "spec.endpoints.bind", "not an IP address"},
        {"read_replicas", PGC("{read_replicas: 1}"), -EOPNOTSUPP, "NOT_SUPPORTED",
         "spec.read_replicas", "topology.standbys"},
        {"expose", PGC("{expose: {host_port: 5432}}"), -EOPNOTSUPP, "NOT_SUPPORTED", "spec.expose",
         "endpoints.write_port"},
        {"lag at the top", PGC("{max_replication_lag: 16Mi}"), -EOPNOTSUPP, "NOT_SUPPORTED",
         "spec.max_replication_lag", "topology.max_replication_lag"},
        {"backup enabled", PGC("{backup: {enabled: true}}"), -EOPNOTSUPP, "NOT_SUPPORTED",
         "spec.backup.enabled", NULL},
        {"plan of pg_single", PGC("{plan: small_single}"), -EINVAL, "INVALID_VALUE", "spec.plan",
         "dev_cluster, small_cluster, medium_cluster"},
        {"patroni parameter", PGC("{parameters: {synchronous_standby_names: '*'}}"), -EINVAL,
         "FIELD_READ_ONLY", "spec.parameters.synchronous_standby_names", "Patroni"},
        {"berth parameter", PGC("{parameters: {port: 5433}}"), -EINVAL, "FIELD_READ_ONLY",
         "spec.parameters.port", "managed by berth"},
        {"unknown field", PGC("{standbys: 2}"), -EINVAL, "UNKNOWN_FIELD", "spec.standbys", NULL},
        {"name too long",
         "kind: pg_cluster\nmetadata: {name: abcdefghij-abcdefghij-abcdefghij}\n"
         "spec: {}\n",
         -EINVAL, "INVALID_NAME", "metadata.name", "at most 28"},
        {"initial_user replicator", PGC("{initial_user: replicator}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user", "reserved"},
};

static void test_bad_specs(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const BadCase *c = &bad_cases[i];
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                r = documents_parse(c->body, strlen(c->body), &docs, &n, &e);
                if (r >= 0) {
                        documents_free(docs, n);
                        fail_msg("%s: accepted, expected %s at %s", c->what, c->reason, c->field);
                }
                if (r != c->code || !streq(e.reason, c->reason) || !streq(e.field, c->field) ||
                    (c->msg && !strstr(e.msg, c->msg)))
                        fail_msg("%s:\n  got      %d %s [%s] %s\n  expected %d %s [%s] ...%s...",
                                 c->what, r, e.reason, e.field, e.msg, c->code, c->reason, c->field,
                                 strna(c->msg));
                assert_true(strneq(e.msg, e.field, strlen(e.field)));
                assert_null(docs);
        }
}

static void test_from_json(void **state) {
        static const char body[] =
                PGC("{endpoints: {read_port: 6433, write_port: 6432}, ha: {dcs_members: 1, ttl: "
                    "20s, loop_wait: 3, retry_timeout: 4}, topology: {standbys: 3, "
                    "replication_mode: async, max_replication_lag: 1Mi}, parameters: {work_mem: "
                    "8MB, max_connections: 50}, password: {secret: pw}, initial_user: shop}");
        _cleanup_(pg_cluster_spec_release) PgClusterSpec s = {};
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        assert_int_equal(pg_cluster_spec_from_json(docs[0].spec, &s, &e), 0);
        documents_free(docs, n);
        assert_int_equal(s.standbys, 3);
        assert_false(s.sync);
        assert_false(s.sync_strict);
        assert_int_equal(s.dcs_members, 1);
        assert_int_equal(s.ttl, 20);
        assert_int_equal(s.loop_wait, 3);
        assert_int_equal(s.retry_timeout, 4);
        assert_int_equal(s.write_port, 6432);
        assert_int_equal(s.read_port, 6433);
        assert_string_equal(s.bind, "127.0.0.1");
        assert_int_equal(s.pg.max_lag_bytes, 1 << 20);
        assert_int_equal(s.pg.max_lag_seconds, 0);
        assert_string_equal(s.pg.password_secret, "pw");
        assert_false(s.pg.password_generated);
        assert_string_equal(s.pg.initial_user, "shop");
        assert_string_equal(s.pg.initial_db_name, "orders");
        assert_string_equal(s.pg.image, "berth/postgres:15");
        assert_int_equal(s.pg.n_parameters, 2);
        assert_string_equal(s.pg.parameters[0].name, "max_connections");
        assert_true(s.pg.parameters[0].restart);
        assert_string_equal(s.pg.parameters[1].name, "work_mem");
        assert_false(s.pg.parameters[1].restart);
}

static void test_from_json_defaults(void **state) {
        static const char body[] = PGC("{}");
        _cleanup_(pg_cluster_spec_release) PgClusterSpec s = {};
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        assert_int_equal(pg_cluster_spec_from_json(docs[0].spec, &s, &e), 0);
        documents_free(docs, n);
        assert_int_equal(s.standbys, 2);
        assert_true(s.sync);
        assert_int_equal(s.dcs_members, 3);
        assert_int_equal(s.ttl, 10);
        assert_int_equal(s.loop_wait, 2);
        assert_int_equal(s.retry_timeout, 3);
        assert_int_equal(s.write_port, 0);
        assert_int_equal(s.pg.max_lag_seconds, 30 * USEC_PER_SEC);
        assert_true(s.pg.password_generated);
        assert_string_equal(s.pg.password_secret, "orders-password");
}

/* Every allocation of validating and reading a spec may fail: -ENOMEM, no leak, no crash. */
static void test_torture(void **state) {
        static const char good[] =
                PGC("{endpoints: {write_port: 6432, read_port: 6433}, parameters: {work_mem: 8MB}, "
                    "allow: [web, 10.0.0.0/8], topology: {standbys: 3}}");
        (void) state;

        for (long k = 0;; k++) {
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(k);
                r = documents_parse(good, strlen(good), &docs, &n, &e);
                alloc_fail_after(-1);
                if (r >= 0) {
                        for (long j = 0;; j++) {
                                _cleanup_(pg_cluster_spec_release) PgClusterSpec s = {};

                                alloc_fail_after(j);
                                r = pg_cluster_spec_from_json(docs[0].spec, &s, &e);
                                alloc_fail_after(-1);
                                if (r >= 0)
                                        break;
                                assert_int_equal(r, -ENOMEM);
                                assert_true(j < 10000);
                        }
                        documents_free(docs, n);
                        break;
                }
                if (r != -ENOMEM)
                        fail_msg("allocation %ld failed: got %d (%s) instead of -ENOMEM", k, r,
                                 e.msg);
                assert_null(docs);
                assert_true(k < 100000);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),           cmocka_unit_test(test_normalisation),
                cmocka_unit_test(test_bad_specs),          cmocka_unit_test(test_from_json),
                cmocka_unit_test(test_from_json_defaults), cmocka_unit_test(test_torture),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
