/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/document.h"
#include "model/json-util.h"
#include "model/pg-parameters.h"
#include "model/pg-single.h"

/* pg_single: validation with exact field and reason, normalisation (defaults, canonical
 * spellings, idempotence), the typed spec, and the server parameter table and value checks. */

#define PG(spec)        "kind: pg_single\nmetadata: {name: orders, project: shop}\nspec: " spec "\n"
#define PGN(name, spec) "kind: pg_single\nmetadata: {name: " name "}\nspec: " spec "\n"
#define GiB             "1073741824"
#define DEFAULT_TAIL                                                                               \
        "\"read_replicas\":0,\"max_replication_lag\":{\"seconds\":30},\"backup\":{\"enabled\":"    \
        "false,\"schedule\":\"daily\",\"retention_days\":7,\"pitr\":false,\"repository\":{"        \
        "\"type\":\"volume\"}},\"paused\":false}"

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

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
        assert_int_equal(docs[0].kind, KIND_PG_SINGLE);
        s = cJSON_PrintUnformatted(docs[0].spec);
        documents_free(docs, n);
        return s;
}

static void assert_normalises(const char *body, const char *want) {
        _cleanup_free_ char *got = normalised(body);

        if (!streq(got, want))
                fail_msg("normalised differently:\n  got  %s\n  want %s", got, want);
}

/* The normalised spec as a JSON document of the same name normalises to itself, byte for byte. */
static void assert_idempotent(const char *name, const char *once) {
        _cleanup_(buf_release) Buf b = BUF_INIT(1 << 20);
        _cleanup_free_ char *again = NULL, *yaml_again = NULL;

        assert_int_equal(buf_printf(&b,
                                    "{\"kind\":\"pg_single\",\"metadata\":{\"name\":\"%s\"},"
                                    "\"spec\":%s}",
                                    name, once),
                         0);
        again = normalised(buf_str(&b));
        if (!streq(once, again))
                fail_msg("not idempotent:\n  once  %s\n  again %s", once, again);
        buf_reset(&b);
        assert_int_equal(
                buf_printf(&b, "kind: pg_single\nmetadata: {name: %s}\nspec: %s\n", name, once), 0);
        yaml_again = normalised(buf_str(&b));
        assert_string_equal(once, yaml_again);
}

typedef struct BadCase {
        const char *what;
        const char *body;
        int code;
        const char *reason;
        const char *field;
        const char *msg; /* substring of the message, or NULL */
} BadCase;

static void check_bad(const BadCase *c) {
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
                fail_msg("%s:\n  got      %d %s [%s] %s\n  expected %d %s [%s] ...%s...", c->what,
                         r, e.reason, e.field, e.msg, c->code, c->reason, c->field, strna(c->msg));
        /* Messages start with the field, as every validation message does. */
        assert_true(strneq(e.msg, e.field, strlen(e.field)));
        assert_null(docs);
}

/* ---- defaults and plans -------------------------------------------------------------------- */

static void test_defaults(void **state) {
        (void) state;
        assert_normalises(
                PG("{}"),
                "{\"version\":\"15\",\"image\":\"berth/postgres:15\",\"plan\":\"dev_"
                "single\",\"resources\":{\"cpu\":0.5,\"memory\":536870912},\"storage\":{"
                "\"size\":5368709120},\"initial_db_name\":\"orders\",\"initial_user\":"
                "\"app\",\"password\":{\"secret\":\"orders-password\",\"generated\":true},"
                "\"parameters\":{},\"allow\":[],\"allow_public\":false," DEFAULT_TAIL);
        /* "key:" with no value means not set; version 15 as a number is "15". */
        assert_normalises(
                PGN("my-db-2", "{version: 15, plan: , allow: }"),
                "{\"version\":\"15\",\"image\":\"berth/postgres:15\",\"plan\":\"dev_"
                "single\",\"resources\":{\"cpu\":0.5,\"memory\":536870912},\"storage\":{"
                "\"size\":5368709120},\"initial_db_name\":\"my_db_2\",\"initial_user\":"
                "\"app\",\"password\":{\"secret\":\"my-db-2-password\",\"generated\":"
                "true},\"parameters\":{},\"allow\":[],\"allow_public\":false," DEFAULT_TAIL);
        /* A name starting with a digit cannot be an identifier as it is. */
        assert_normalises(PGN("'42'", "{initial_user: u}"),
                          "{\"version\":\"15\",\"image\":\"berth/postgres:15\",\"plan\":\"dev_"
                          "single\",\"resources\":{\"cpu\":0.5,\"memory\":536870912},\"storage\":{"
                          "\"size\":5368709120},\"initial_db_name\":\"db_42\",\"initial_user\":"
                          "\"u\",\"password\":{\"secret\":\"42-password\",\"generated\":true},"
                          "\"parameters\":{},\"allow\":[],\"allow_public\":false," DEFAULT_TAIL);
}

static void test_plans(void **state) {
        static const struct {
                const char *spec, *want;
        } cases[] = {
                {PG("{plan: dev_single}"),
                 "\"plan\":\"dev_single\",\"resources\":{\"cpu\":0.5,"
                 "\"memory\":536870912},\"storage\":{\"size\":5368709120}"},
                {PG("{plan: small_single}"),
                 "\"plan\":\"small_single\",\"resources\":{\"cpu\":1,\"memory\":2147483648},"
                 "\"storage\":{\"size\":21474836480}"},
                {PG("{plan: medium_single}"),
                 "\"plan\":\"medium_single\",\"resources\":{\"cpu\":2,\"memory\":4294967296},"
                 "\"storage\":{\"size\":53687091200}"},
                /* Plan and resources both, equal: a normalised spec. */
                {PG("{plan: small_single, resources: {cpu: 1, memory: 2Gi}}"),
                 "\"plan\":\"small_single\",\"resources\":{\"cpu\":1,\"memory\":2147483648},"
                 "\"storage\":{\"size\":21474836480}"},
                /* Storage overrides the plan's. */
                {PG("{plan: medium_single, storage: {size: 200Gi}}"),
                 "\"plan\":\"medium_single\",\"resources\":{\"cpu\":2,\"memory\":4294967296},"
                 "\"storage\":{\"size\":214748364800}"},
                /* Resources alone: no plan, storage 5Gi. */
                {PG("{resources: {cpu: 1.5, memory: 3Gi}}"),
                 "\"resources\":{\"cpu\":1.5,\"memory\":3221225472},\"storage\":{\"size\":"
                 "5368709120}"},
                {PG("{resources: {cpu: 3}, storage: {size: " GiB "}}"),
                 "\"resources\":{\"cpu\":3},\"storage\":{\"size\":1073741824}"},
                {PG("{resources: {memory: 512Mi}, storage: {}}"),
                 "\"resources\":{\"memory\":536870912},\"storage\":{\"size\":5368709120}"},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = normalised(cases[i].spec);

                if (!strstr(got, cases[i].want))
                        fail_msg("%s\n  normalised to %s\n  lacks %s", cases[i].spec, got,
                                 cases[i].want);
                assert_idempotent("orders", got);
        }
}

static void test_normalisation(void **state) {
        (void) state;
        assert_normalises(
                PG("{paused: true, maintenance: {vacuum_analyze: '0  3 * * SUN', window: 'Sunday "
                   "2:00-04:00'}, backup: {pitr: true, enabled: true, schedule: HOURLY, "
                   "retention_days: 30, repository: {type: volume}}, max_replication_lag: 16Mi, "
                   "read_replicas: 2, expose: {host_port: 15432}, allow_public: false, allow: "
                   "[web, 10.0.0.0/8, 192.168.1.7, 'fd00::/8', '2001:DB8::1'], parameters: "
                   "{work_mem: 16MB, Max_Connections: 200, shared_buffers: 16384, "
                   "log_statement: DDL, jit: true, synchronous_commit: false, random_page_cost: "
                   "1.10, statement_timeout: 30000, search_path: '\"$user\", public'}, password: "
                   "{secret: orders-pw}, initial_user: shop, initial_db_name: orders_db, "
                   "storage: {size: 10Gi}, plan: small_single, image: 'registry.local/pg:15.6', "
                   "version: '15'}"),
                "{\"version\":\"15\",\"image\":\"registry.local/pg:15.6\",\"plan\":\"small_"
                "single\",\"resources\":{\"cpu\":1,\"memory\":2147483648},\"storage\":{\"size\":"
                "10737418240},\"initial_db_name\":\"orders_db\",\"initial_user\":\"shop\","
                "\"password\":{\"secret\":\"orders-pw\"},\"parameters\":{\"jit\":\"on\","
                "\"log_statement\":\"ddl\",\"max_connections\":\"200\",\"random_page_cost\":"
                "\"1.1\",\"search_path\":\"\\\"$user\\\", public\",\"shared_buffers\":\"128MB\","
                "\"statement_timeout\":\"30s\",\"synchronous_commit\":\"off\",\"work_mem\":"
                "\"16MB\"},\"allow\":[\"web\",\"10.0.0.0/8\",\"192.168.1.7/32\",\"fd00::/8\","
                "\"2001:db8::1/128\"],\"allow_public\":false,\"expose\":{\"host_port\":15432,"
                "\"bind\":\"127.0.0.1\"},\"read_replicas\":2,\"max_replication_lag\":{\"bytes\":"
                "16777216},\"backup\":{\"enabled\":true,\"schedule\":\"hourly\",\"retention_"
                "days\":30,\"pitr\":true,\"repository\":{\"type\":\"volume\"}},\"maintenance\":{"
                "\"window\":\"sun 02:00-04:00\",\"vacuum_analyze\":\"0 3 * * sun\"},\"paused\":"
                "true}");

        /* Lag as a duration, as bytes, and in the normalised shapes. */
        assert_normalises(
                PG("{max_replication_lag: 2m}"),
                "{\"version\":\"15\",\"image\":\"berth/postgres:15\",\"plan\":\"dev_"
                "single\",\"resources\":{\"cpu\":0.5,\"memory\":536870912},\"storage\":{"
                "\"size\":5368709120},\"initial_db_name\":\"orders\",\"initial_user\":"
                "\"app\",\"password\":{\"secret\":\"orders-password\",\"generated\":true},"
                "\"parameters\":{},\"allow\":[],\"allow_public\":false,\"read_replicas\":"
                "0,\"max_replication_lag\":{\"seconds\":120},\"backup\":{\"enabled\":"
                "false,\"schedule\":\"daily\",\"retention_days\":7,\"pitr\":false,"
                "\"repository\":{\"type\":\"volume\"}},\"paused\":false}");

        /* Public access, when asked for. */
        {
                _cleanup_free_ char *s = normalised(
                        PG("{allow_public: true, allow: ['0.0.0.0/0', '::/0'], expose: {host_port: "
                           "5432, bind: '0.0.0.0'}}"));

                assert_non_null(strstr(s, "\"allow\":[\"0.0.0.0/0\",\"::/0\"],\"allow_public\":"
                                          "true,\"expose\":{\"host_port\":5432,\"bind\":"
                                          "\"0.0.0.0\"}"));
        }
        /* maintenance: {} is nothing to say. */
        {
                _cleanup_free_ char *s = normalised(PG("{maintenance: {}}"));

                assert_null(strstr(s, "maintenance"));
        }
}

static void test_idempotent(void **state) {
        static const char *const specs[] = {
                "{}",
                "{plan: medium_single, read_replicas: 1, backup: {enabled: true, pitr: true}}",
                "{resources: {cpu: 0.25, memory: 300Mi}, storage: {size: 7Gi}}",
                "{password: {secret: mine}, initial_user: alice, initial_db_name: shop}",
                "{parameters: {shared_buffers: 262144kB, work_mem: '4096', DateStyle: 'ISO, DMY', "
                "timezone: UTC, vacuum_cost_delay: 0.5, huge_pages: 'yes', "
                "effective_io_concurrency: "
                "2.4, idle_session_timeout: 1h}}",
                "{allow: [api, '10.1.0.0/16', '::1', 'fe80::/10'], expose: {host_port: 1, bind: "
                "'::1'}}",
                "{max_replication_lag: 1073741824}",
                "{max_replication_lag: {seconds: 5}}",
                "{backup: {enabled: true, schedule: ' 15  */6 1-7 JAN,jul MON-fri '}, "
                "maintenance: {window: 'daily 23:00-01:00', vacuum_analyze: daily}}",
                "{image: 'berth/postgres:15', version: '15', paused: true, storage: {size: 64Ti}}",
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                _cleanup_(buf_release) Buf b = BUF_INIT(1 << 16);
                _cleanup_free_ char *once = NULL;

                assert_int_equal(buf_printf(&b, "kind: pg_single\nmetadata: {name: db}\nspec: %s\n",
                                            specs[i]),
                                 0);
                once = normalised(buf_str(&b));
                assert_idempotent("db", once);
        }
}

/* Every pg_single in examples/ normalises, and its normalised form to itself. */
static int examples_idempotent(const char *dir, int depth) {
        struct dirent *de;
        DIR *d = opendir(dir);
        int seen = 0;

        assert_non_null(d);
        assert_true(depth < 8);
        while ((de = readdir(d))) {
                char path[2048];
                struct stat st;
                size_t nl = strlen(de->d_name);

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                assert_int_equal(stat(path, &st), 0);
                if (S_ISDIR(st.st_mode)) {
                        seen += examples_idempotent(path, depth + 1);
                        continue;
                }
                if (nl < 5 || !streq(de->d_name + nl - 5, ".yaml"))
                        continue;
                {
                        _cleanup_(buf_release) Buf body = BUF_INIT(API_MAX_BODY);
                        char chunk[4096];
                        FILE *f = fopen(path, "re");
                        Document *docs = NULL;
                        size_t k, n = 0;
                        Error e = ERROR_INIT;

                        assert_non_null(f);
                        while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
                                assert_int_equal(buf_append(&body, chunk, k), 0);
                        fclose(f);
                        if (documents_parse(body.buf, body.len, &docs, &n, &e) < 0)
                                fail_msg("%s: %s", path, e.msg);
                        for (size_t i = 0; i < n; i++) {
                                _cleanup_free_ char *once = NULL;

                                if (docs[i].kind != KIND_PG_SINGLE)
                                        continue;
                                once = cJSON_PrintUnformatted(docs[i].spec);
                                assert_idempotent(docs[i].name, once);
                                seen++;
                        }
                        documents_free(docs, n);
                }
        }
        closedir(d);
        return seen;
}

static void test_examples_idempotent(void **state) {
        const char *dir = getenv("BERTH_EXAMPLES_DIR");
        (void) state;

        if (!dir)
                skip();
        assert_true(examples_idempotent(dir, 0) >= 2);
}

/* ---- bad specs ----------------------------------------------------------------------------- */

static const BadCase bad_cases[] = {
        /* the four */
        {"unknown parameter", PG("{parameters: {max_conections: 10}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.parameters.max_conections", "did you mean \"max_connections\""},
        {"unknown parameter far off", PG("{parameters: {colour: red}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.parameters.colour", "unknown PostgreSQL parameter"},
        {"max_connections -1", PG("{parameters: {max_connections: -1}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.parameters.max_connections",
         "spec.parameters.max_connections: -1 is out of range (1..262143)"},
        {"world without allow_public", PG("{allow: [web, 0.0.0.0/0]}"), -EINVAL, "INVALID_VALUE",
         "spec.allow[1]",
         "\"0.0.0.0/0\" opens the database to every address; set spec.allow_public: true if you "
         "mean it"},
        {"IPv6 world without allow_public", PG("{allow: ['::/0']}"), -EINVAL, "INVALID_VALUE",
         "spec.allow[0]", "opens the database to every address"},
        {"initial_user postgres", PG("{initial_user: postgres}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user", "\"postgres\" is reserved"},

        /* envelope and fields */
        {"spec missing", "kind: pg_single\nmetadata: {name: db}\n", -EINVAL, "REQUIRED", "spec",
         NULL},
        {"spec a list", PG("[1]"), -EINVAL, "INVALID_TYPE", "spec", NULL},
        {"unknown field", PG("{read_replica: 1}"), -EINVAL, "UNKNOWN_FIELD", "spec.read_replica",
         "did you mean \"read_replicas\""},
        {"unknown field far off", PG("{replicas: 1}"), -EINVAL, "UNKNOWN_FIELD", "spec.replicas",
         "unknown field"},
        {"topology", PG("{topology: {standbys: 2}}"), -EOPNOTSUPP, "NOT_SUPPORTED", "spec.topology",
         "use kind pg_cluster"},
        {"ha", PG("{ha: {engine: patroni}}"), -EOPNOTSUPP, "NOT_SUPPORTED", "spec.ha",
         "pg_cluster"},
        {"endpoints", PG("{endpoints: {write: 5432}}"), -EOPNOTSUPP, "NOT_SUPPORTED",
         "spec.endpoints", "pg_cluster"},
        {"version 16", PG("{version: '16'}"), -EINVAL, "INVALID_VALUE", "spec.version",
         "\"16\" is not a supported version"},
        {"version 14 number", PG("{version: 14}"), -EINVAL, "INVALID_VALUE", "spec.version", NULL},
        {"version a list", PG("{version: [15]}"), -EINVAL, "INVALID_TYPE", "spec.version", NULL},
        {"image with space", PG("{image: 'a b'}"), -EINVAL, "INVALID_VALUE", "spec.image", NULL},
        {"image a number", PG("{image: 5}"), -EINVAL, "INVALID_TYPE", "spec.image", NULL},

        /* plan, resources, storage */
        {"plan and resources", PG("{plan: small_single, resources: {cpu: 2, memory: 4Gi}}"),
         -EINVAL, "CONFLICT", "spec.resources", "set either plan or resources, not both"},
        {"plan and partial resources", PG("{plan: dev_single, resources: {cpu: 0.5}}"), -EINVAL,
         "CONFLICT", "spec.resources", NULL},
        {"plan of docker_service", PG("{plan: small}"), -EINVAL, "INVALID_VALUE", "spec.plan",
         "not one of dev_single, small_single, medium_single"},
        {"cpu too small", PG("{resources: {cpu: 0.01}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.resources.cpu", "out of range (0.1..64)"},
        {"memory too small", PG("{resources: {memory: 64Mi}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.resources.memory", "256Mi..256Gi"},
        {"memory not a size", PG("{resources: {memory: lots}}"), -EINVAL, "INVALID_VALUE",
         "spec.resources.memory", "not a size"},
        {"memory fraction of a byte", PG("{resources: {memory: 300000000.5}}"), -EINVAL,
         "INVALID_TYPE", "spec.resources.memory", NULL},
        {"resources unknown", PG("{resources: {gpu: 1}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.resources.gpu", NULL},
        {"storage too small", PG("{storage: {size: 100Mi}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.storage.size", "1Gi..64Ti"},
        {"storage a string", PG("{storage: 10Gi}"), -EINVAL, "INVALID_TYPE", "spec.storage", NULL},
        {"storage unknown", PG("{storage: {class: ssd}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.storage.class", NULL},

        /* database, user, password */
        {"db name upper case", PG("{initial_db_name: Orders}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name", "not a valid identifier"},
        {"db name with dash", PG("{initial_db_name: my-db}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name", NULL},
        {"db name digit first", PG("{initial_db_name: 1db}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name", NULL},
        {"db name 64 chars",
         PG("{initial_db_name: "
            "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd}"),
         -EINVAL, "INVALID_VALUE", "spec.initial_db_name", NULL},
        {"db name postgres", PG("{initial_db_name: postgres}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name", "reserved"},
        {"db name template1", PG("{initial_db_name: template1}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name", "reserved"},
        {"default db name reserved", PGN("postgres", "{}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name", "the default \"postgres\" (from metadata.name) is reserved"},
        {"initial_user replicator", PG("{initial_user: replicator}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user", "reserved"},
        {"initial_user pg_monitor", PG("{initial_user: pg_monitor}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user", "reserved"},
        {"initial_user berth_admin", PG("{initial_user: berth_admin}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user", "reserved"},
        {"initial_user public", PG("{initial_user: public}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user", "reserved"},
        {"initial_user with space", PG("{initial_user: 'a b'}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user", NULL},
        {"password without secret", PG("{password: {}}"), -EINVAL, "REQUIRED",
         "spec.password.secret", NULL},
        {"password a string", PG("{password: hunter2}"), -EINVAL, "INVALID_TYPE", "spec.password",
         NULL},
        {"password value", PG("{password: {value: hunter2}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.password.value", NULL},
        {"password bad secret name", PG("{password: {secret: My_Secret}}"), -EINVAL, "INVALID_NAME",
         "spec.password.secret", NULL},
        {"password generated by hand", PG("{password: {secret: mine, generated: true}}"), -EINVAL,
         "FIELD_READ_ONLY", "spec.password.generated", "is set by berth"},
        {"password generated false", PG("{password: {secret: orders-password, generated: false}}"),
         -EINVAL, "FIELD_READ_ONLY", "spec.password.generated", NULL},
        {"generated secret name too long", PGN("abcdefghij-abcdefghij-abcdefghij", "{}"), -EINVAL,
         "REQUIRED", "spec.password", "longer than 31 characters"},

        /* parameters */
        {"parameter managed", PG("{parameters: {port: 5433}}"), -EINVAL, "FIELD_READ_ONLY",
         "spec.parameters.port", "is managed by berth"},
        {"parameter managed upper case", PG("{parameters: {Listen_Addresses: '*'}}"), -EINVAL,
         "FIELD_READ_ONLY", "spec.parameters.Listen_Addresses", NULL},
        {"parameter ssl_*", PG("{parameters: {ssl_cert_file: /x}}"), -EINVAL, "FIELD_READ_ONLY",
         "spec.parameters.ssl_cert_file", NULL},
        {"parameter recovery_target_*", PG("{parameters: {recovery_target_time: x}}"), -EINVAL,
         "FIELD_READ_ONLY", "spec.parameters.recovery_target_time", NULL},
        {"parameter wal_level", PG("{parameters: {wal_level: minimal}}"), -EINVAL,
         "FIELD_READ_ONLY", "spec.parameters.wal_level", NULL},
        {"parameter archive_command", PG("{parameters: {archive_command: 'cp %p /x'}}"), -EINVAL,
         "FIELD_READ_ONLY", "spec.parameters.archive_command", NULL},
        {"parameter internal", PG("{parameters: {server_version: '99'}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.parameters.server_version", NULL},
        {"bool maybe", PG("{parameters: {fsync: maybe}}"), -EINVAL, "INVALID_VALUE",
         "spec.parameters.fsync", "\"maybe\" is not a boolean"},
        {"integer not a number", PG("{parameters: {max_connections: many}}"), -EINVAL,
         "INVALID_VALUE", "spec.parameters.max_connections", "is not an integer"},
        {"integer with a unit it lacks", PG("{parameters: {max_connections: 10kB}}"), -EINVAL,
         "INVALID_VALUE", "spec.parameters.max_connections", "takes no unit"},
        {"memory unit in lower case", PG("{parameters: {shared_buffers: 128mb}}"), -EINVAL,
         "INVALID_VALUE", "spec.parameters.shared_buffers", "B, kB, MB, GB and TB"},
        {"memory too small", PG("{parameters: {shared_buffers: 64kB}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.parameters.shared_buffers", "64kB is out of range (128kB.."},
        {"time unit unknown", PG("{parameters: {statement_timeout: 5 years}}"), -EINVAL,
         "INVALID_VALUE", "spec.parameters.statement_timeout", "us, ms, s, min, h and d"},
        {"integer above int32", PG("{parameters: {work_mem: 9999999999999}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.parameters.work_mem", NULL},
        {"enum choice", PG("{parameters: {log_statement: everything}}"), -EINVAL, "INVALID_VALUE",
         "spec.parameters.log_statement", "not one of none, ddl, mod, all"},
        {"real out of range", PG("{parameters: {checkpoint_completion_target: 1.5}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.parameters.checkpoint_completion_target", "(0..1)"},
        {"value a map", PG("{parameters: {work_mem: {a: 1}}}"), -EINVAL, "INVALID_TYPE",
         "spec.parameters.work_mem", NULL},
        {"value null", PG("{parameters: {work_mem: ~}}"), -EINVAL, "INVALID_TYPE",
         "spec.parameters.work_mem", NULL},
        {"value with a newline", PG("{parameters: {search_path: \"a\\nport = 1\"}}"), -EINVAL,
         "INVALID_VALUE", "spec.parameters.search_path", "control characters"},
        {"value with a quote", PG("{parameters: {search_path: \"'$user', public\"}}"), -EINVAL,
         "INVALID_VALUE", "spec.parameters.search_path", "may not contain '"},
        {"parameter twice", PG("{parameters: {work_mem: 4MB, WORK_MEM: 8MB}}"), -EINVAL,
         "DUPLICATE", "spec.parameters.WORK_MEM", "case-insensitive"},
        {"parameters a list", PG("{parameters: [work_mem]}"), -EINVAL, "INVALID_TYPE",
         "spec.parameters", NULL},

        /* allow, expose */
        {"allow host bits", PG("{allow: [10.1.2.3/8]}"), -EINVAL, "INVALID_VALUE", "spec.allow[0]",
         "has host bits set (the network is 10.0.0.0/8)"},
        {"allow IPv6 host bits", PG("{allow: ['fd00::1/64']}"), -EINVAL, "INVALID_VALUE",
         "spec.allow[0]", "the network is fd00::/64"},
        {"allow prefix 33", PG("{allow: [10.0.0.0/33]}"), -EINVAL, "INVALID_VALUE", "spec.allow[0]",
         "prefix length above 32"},
        {"allow prefix junk", PG("{allow: [10.0.0.0/x]}"), -EINVAL, "INVALID_VALUE",
         "spec.allow[0]", "invalid prefix length"},
        {"allow bad address", PG("{allow: [10.0.0.256/32]}"), -EINVAL, "INVALID_VALUE",
         "spec.allow[0]", NULL},
        {"allow hostname", PG("{allow: [db.example.com]}"), -EINVAL, "INVALID_VALUE",
         "spec.allow[0]", NULL},
        {"allow bad name", PG("{allow: [Web_App]}"), -EINVAL, "INVALID_VALUE", "spec.allow[0]",
         "neither a docker_service name nor an IP network"},
        {"allow twice", PG("{allow: [web, api, web]}"), -EINVAL, "DUPLICATE", "spec.allow[2]",
         NULL},
        {"allow same network twice", PG("{allow: [10.0.0.1, 10.0.0.1/32]}"), -EINVAL, "DUPLICATE",
         "spec.allow[1]", NULL},
        {"allow a string", PG("{allow: web}"), -EINVAL, "INVALID_TYPE", "spec.allow", NULL},
        {"allow_public a string", PG("{allow_public: yes}"), -EINVAL, "INVALID_TYPE",
         "spec.allow_public", NULL},
        {"expose without port", PG("{expose: {bind: 127.0.0.1}}"), -EINVAL, "REQUIRED",
         "spec.expose.host_port", NULL},
        {"expose port 0", PG("{expose: {host_port: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.expose.host_port", NULL},
        {"expose bind hostname", PG("{expose: {host_port: 5432, bind: localhost}}"), -EINVAL,
         "INVALID_VALUE", "spec.expose.bind", "not an IP address"},
        {"expose everywhere", PG("{expose: {host_port: 5432, bind: 0.0.0.0}}"), -EINVAL,
         "INVALID_VALUE", "spec.expose.bind", "set spec.allow_public: true"},
        {"expose everywhere v6", PG("{expose: {host_port: 5432, bind: '::'}}"), -EINVAL,
         "INVALID_VALUE", "spec.expose.bind", NULL},
        {"expose unknown", PG("{expose: {host_port: 5432, protocol: tcp}}"), -EINVAL,
         "UNKNOWN_FIELD", "spec.expose.protocol", NULL},

        /* replicas, lag */
        {"read_replicas 3", PG("{read_replicas: 3}"), -EINVAL, "OUT_OF_RANGE", "spec.read_replicas",
         "3 is out of range (0..2)"},
        {"read_replicas -1", PG("{read_replicas: -1}"), -EINVAL, "OUT_OF_RANGE",
         "spec.read_replicas", NULL},
        {"lag neither", PG("{max_replication_lag: soon}"), -EINVAL, "INVALID_VALUE",
         "spec.max_replication_lag", "neither a size"},
        {"lag too small", PG("{max_replication_lag: 1024}"), -EINVAL, "OUT_OF_RANGE",
         "spec.max_replication_lag", "1Mi..1Ti"},
        {"lag sub-second", PG("{max_replication_lag: 1500ms}"), -EINVAL, "OUT_OF_RANGE",
         "spec.max_replication_lag", "whole number of seconds"},
        {"lag both", PG("{max_replication_lag: {bytes: 1048576, seconds: 3}}"), -EINVAL,
         "INVALID_VALUE", "spec.max_replication_lag", "exactly one"},
        {"lag seconds 0", PG("{max_replication_lag: {seconds: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.max_replication_lag.seconds", NULL},
        {"lag unknown key", PG("{max_replication_lag: {minutes: 1}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.max_replication_lag.minutes", NULL},

        /* backup, maintenance, paused */
        {"bad schedule", PG("{backup: {enabled: true, schedule: '0 25 * * *'}}"), -EINVAL,
         "INVALID_VALUE", "spec.backup.schedule", "field 2 (hour): 25 is out of range 0-23"},
        {"schedule weekly", PG("{backup: {schedule: weekly}}"), -EINVAL, "INVALID_VALUE",
         "spec.backup.schedule", NULL},
        {"schedule never", PG("{backup: {schedule: '0 0 31 2 *'}}"), -EINVAL, "INVALID_VALUE",
         "spec.backup.schedule", "never runs"},
        {"retention 0", PG("{backup: {retention_days: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.backup.retention_days", "(1..3650)"},
        {"retention 3651", PG("{backup: {retention_days: 3651}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.backup.retention_days", NULL},
        {"pitr without backups", PG("{backup: {pitr: true}}"), -EINVAL, "CONFLICT",
         "spec.backup.pitr", "spec.backup.enabled: true"},
        {"s3 repository without endpoint",
         PG("{backup: {enabled: true, repository: {type: s3, bucket: bkt}}}"), -EINVAL, "REQUIRED",
         "spec.backup.repository", "needs bucket and endpoint"},
        {"s3 repository without keys",
         PG("{backup: {enabled: true, repository: {type: s3, bucket: bkt, endpoint: s3.local}}}"),
         -EINVAL, "REQUIRED", "spec.backup.repository.access_key", NULL},
        {"s3 bucket with a quote",
         PG("{backup: {enabled: true, repository: {type: s3, bucket: \"b'k\", endpoint: e, "
            "access_key: {secret: ak}, secret_key: {secret: sk}}}}"),
         -EINVAL, "INVALID_VALUE", "spec.backup.repository", NULL},
        {"bucket on a volume repository", PG("{backup: {repository: {bucket: bkt}}}"), -EINVAL,
         "INVALID_VALUE", "spec.backup.repository", "are for type: s3"},
        {"repository type nfs", PG("{backup: {repository: {type: nfs}}}"), -EINVAL, "INVALID_VALUE",
         "spec.backup.repository.type", NULL},
        {"repository unknown", PG("{backup: {repository: {folder: /x}}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.backup.repository.folder", NULL},
        {"backup unknown", PG("{backup: {enable: true}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.backup.enable", "did you mean \"enabled\""},
        {"backup enabled a string", PG("{backup: {enabled: 'yes'}}"), -EINVAL, "INVALID_TYPE",
         "spec.backup.enabled", NULL},
        {"window bad", PG("{maintenance: {window: 'sunday morning'}}"), -EINVAL, "INVALID_VALUE",
         "spec.maintenance.window", "HH:MM"},
        {"window empty", PG("{maintenance: {window: 'sun 02:00-02:00'}}"), -EINVAL, "INVALID_VALUE",
         "spec.maintenance.window", "empty"},
        {"vacuum schedule bad", PG("{maintenance: {vacuum_analyze: 'every night'}}"), -EINVAL,
         "INVALID_VALUE", "spec.maintenance.vacuum_analyze", NULL},
        {"maintenance unknown", PG("{maintenance: {windows: x}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.maintenance.windows", NULL},
        {"paused yes", PG("{paused: yes}"), -EINVAL, "INVALID_TYPE", "spec.paused", NULL},
};

static void test_bad_specs(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++)
                check_bad(&bad_cases[i]);
}

/* ---- the typed spec ------------------------------------------------------------------------ */

static void spec_of(const char *body, PgSingleSpec *ret) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;

        if (documents_parse(body, strlen(body), &docs, &n, &e) < 0)
                fail_msg("rejected: %s", e.msg);
        if (pg_single_spec_from_json(docs[0].spec, ret, &e) < 0)
                fail_msg("from_json: %s", e.msg);
        documents_free(docs, n);
}

static void test_from_json(void **state) {
        _cleanup_(pg_single_spec_release) PgSingleSpec s = {0};
        (void) state;

        spec_of(PG("{plan: small_single, storage: {size: 30Gi}, initial_user: shop, parameters: "
                   "{work_mem: 16MB, shared_buffers: 512MB, max_connections: 200, "
                   "log_connections: on}, allow: [web, 10.0.0.0/8, '::1'], allow_public: false, "
                   "expose: {host_port: 15432}, read_replicas: 1, max_replication_lag: 64Mi, "
                   "backup: {enabled: true, schedule: '30 1 * * *', retention_days: 14, pitr: "
                   "true}, maintenance: {window: 'sat 23:00-01:00', vacuum_analyze: daily}}"),
                &s);
        assert_string_equal(s.version, "15");
        assert_string_equal(s.image, "berth/postgres:15");
        assert_string_equal(s.plan, "small_single");
        assert_true(s.cpu == 1.0);
        assert_int_equal(s.memory, (int64_t) 2 << 30);
        assert_int_equal(s.storage_size, (int64_t) 30 << 30);
        assert_string_equal(s.initial_db_name, "orders");
        assert_string_equal(s.initial_user, "shop");
        assert_string_equal(s.password_secret, "orders-password");
        assert_true(s.password_generated);

        assert_int_equal(s.n_parameters, 4);
        assert_string_equal(s.parameters[0].name, "log_connections");
        assert_string_equal(s.parameters[0].value, "on");
        assert_false(s.parameters[0].restart); /* superuser-backend: new sessions */
        assert_string_equal(s.parameters[1].name, "max_connections");
        assert_string_equal(s.parameters[1].value, "200");
        assert_true(s.parameters[1].restart);
        assert_string_equal(s.parameters[2].name, "shared_buffers");
        assert_string_equal(s.parameters[2].value, "512MB");
        assert_true(s.parameters[2].restart);
        assert_string_equal(s.parameters[3].name, "work_mem");
        assert_string_equal(s.parameters[3].value, "16MB");
        assert_false(s.parameters[3].restart);

        assert_int_equal(strv_length(s.allow_services), 1);
        assert_string_equal(s.allow_services[0], "web");
        assert_int_equal(strv_length(s.allow_cidrs), 2);
        assert_string_equal(s.allow_cidrs[0], "10.0.0.0/8");
        assert_string_equal(s.allow_cidrs[1], "::1/128");
        assert_false(s.allow_public);
        assert_int_equal(s.expose_port, 15432);
        assert_string_equal(s.expose_bind, "127.0.0.1");
        assert_int_equal(s.read_replicas, 1);
        assert_int_equal(s.max_lag_bytes, (int64_t) 64 << 20);
        assert_int_equal(s.max_lag_seconds, 0);
        assert_true(s.backup.enabled);
        assert_string_equal(s.backup.schedule, "30 1 * * *");
        assert_int_equal(s.backup.retention_days, 14);
        assert_true(s.backup.pitr);
        assert_string_equal(s.maintenance.window, "sat 23:00-01:00");
        assert_string_equal(s.maintenance.vacuum_analyze, "daily");
        assert_false(s.paused);
}

static void test_from_json_defaults(void **state) {
        _cleanup_(pg_single_spec_release) PgSingleSpec s = {0};
        _cleanup_json_ cJSON *damaged = NULL;
        Error e = ERROR_INIT;
        (void) state;

        spec_of(PG("{resources: {cpu: 2}, password: {secret: pw}, paused: true}"), &s);
        assert_null(s.plan);
        assert_true(s.cpu == 2.0);
        assert_int_equal(s.memory, 0);
        assert_int_equal(s.storage_size, (int64_t) 5 << 30);
        assert_string_equal(s.initial_user, "app");
        assert_string_equal(s.password_secret, "pw");
        assert_false(s.password_generated);
        assert_int_equal(s.n_parameters, 0);
        assert_null(s.parameters);
        assert_null(s.allow_services);
        assert_null(s.allow_cidrs);
        assert_int_equal(s.expose_port, 0);
        assert_null(s.expose_bind);
        assert_int_equal(s.read_replicas, 0);
        assert_int_equal(s.max_lag_bytes, 0);
        assert_int_equal(s.max_lag_seconds, 30 * USEC_PER_SEC);
        assert_false(s.backup.enabled);
        assert_string_equal(s.backup.schedule, "daily");
        assert_int_equal(s.backup.retention_days, PG_DEFAULT_RETENTION_DAYS);
        assert_false(s.backup.pitr);
        assert_null(s.maintenance.window);
        assert_null(s.maintenance.vacuum_analyze);
        assert_true(s.paused);

        /* A damaged row is an error naming the field, not a crash. */
        damaged = cJSON_Parse("{\"initial_db_name\":\"x\",\"password\":{\"secret\":\"p\"},"
                              "\"read_replicas\":\"two\"}");
        assert_non_null(damaged);
        pg_single_spec_release(&s);
        assert_int_equal(pg_single_spec_from_json(damaged, &s, &e), -EINVAL);
        assert_string_equal(e.field, "spec.read_replicas");
        cJSON_Delete(damaged);
        damaged = cJSON_Parse("{\"initial_db_name\":\"x\"}");
        assert_int_equal(pg_single_spec_from_json(damaged, &s, &e), -EINVAL);
        assert_string_equal(e.field, "spec.password");
}

static void test_password_secret_name(void **state) {
        char buf[64];
        (void) state;

        assert_int_equal(pg_password_secret_name(buf, sizeof(buf), "orders"), 0);
        assert_string_equal(buf, "orders-password");
        assert_int_equal(
                pg_password_secret_name(buf, sizeof(buf), "abcdefghijabcdefghijabcdefghija"),
                0); /* 31 + 9 = 40 */
        assert_int_equal(
                pg_password_secret_name(buf, sizeof(buf), "abcdefghijabcdefghijabcdefghijab"),
                -E2BIG);
        assert_int_equal(pg_password_secret_name(buf, 8, "orders"), -E2BIG);
}

/* ---- server parameters --------------------------------------------------------------------- */

static void check_value(const char *name, const char *value, const char *want) {
        const PgParamInfo *p = pg_parameter_find(name);
        _cleanup_free_ char *got = NULL;
        Error e = ERROR_INIT;

        assert_non_null(p);
        if (pg_parameter_check(p, value, &got, &e) < 0)
                fail_msg("%s = \"%s\" refused: %s", name, value, e.msg);
        if (!streq(got, want))
                fail_msg("%s = \"%s\": got \"%s\", want \"%s\"", name, value, got, want);
}

static void check_bad_value(const char *name, const char *value, const char *reason,
                            const char *msg) {
        const PgParamInfo *p = pg_parameter_find(name);
        char *got = NULL;
        Error e = ERROR_INIT;

        assert_non_null(p);
        if (pg_parameter_check(p, value, &got, &e) >= 0)
                fail_msg("%s = \"%s\" accepted as \"%s\"", name, value, got);
        assert_null(got);
        assert_int_equal(e.code, -EINVAL);
        assert_string_equal(e.reason, reason);
        if (msg && !streq(e.msg, msg) && !strstr(e.msg, msg))
                fail_msg("%s = \"%s\": message \"%s\" lacks \"%s\"", name, value, e.msg, msg);
}

static void test_parameter_table(void **state) {
        (void) state;
        assert_true(pg_parameters_count >= 300);
        for (size_t i = 0; i < pg_parameters_count; i++) {
                const PgParamInfo *p = &pg_parameters[i];

                if (i > 0 && strcmp(pg_parameters[i - 1].name, p->name) >= 0)
                        fail_msg("table not sorted at %s", p->name);
                for (const char *c = p->name; *c; c++)
                        assert_false(*c >= 'A' && *c <= 'Z');
                assert_string_not_equal(p->context, "internal");
                assert_true((p->type == PG_PARAM_ENUM) == (p->choices != NULL));
                assert_true(p->min <= p->max);
                assert_ptr_equal(pg_parameter_find(p->name), p);
        }
        assert_non_null(pg_parameter_find("DateStyle"));
        assert_non_null(pg_parameter_find("TIMEZONE"));
        assert_null(pg_parameter_find("no_such_thing"));
        assert_null(pg_parameter_find(""));
        assert_null(pg_parameter_find(NULL));
        assert_string_equal(pg_parameter_find("shared_buffers")->context, "postmaster");
        assert_string_equal(pg_parameter_find("shared_buffers")->unit, "8kB");
        assert_string_equal(pg_parameter_find("work_mem")->context, "user");

        assert_true(pg_parameter_is_managed("port"));
        assert_true(pg_parameter_is_managed("Listen_Addresses"));
        assert_true(pg_parameter_is_managed("ssl"));
        assert_true(pg_parameter_is_managed("ssl_ciphers"));
        assert_true(pg_parameter_is_managed("recovery_target"));
        assert_true(pg_parameter_is_managed("recovery_target_lsn"));
        assert_true(pg_parameter_is_managed("primary_conninfo"));
        assert_true(pg_parameter_is_managed("archive_library"));
        assert_false(pg_parameter_is_managed("shared_preload_libraries"));
        assert_false(pg_parameter_is_managed("work_mem"));
        assert_false(pg_parameter_is_managed("recovery_prefetch"));
        assert_false(pg_parameter_is_managed(NULL));

        assert_string_equal(pg_parameter_suggest("max_conections"), "max_connections");
        assert_string_equal(pg_parameter_suggest("Work_Mem2"), "work_mem");
        assert_null(pg_parameter_suggest("colour"));
        /* A managed parameter is never suggested. */
        assert_true(!pg_parameter_suggest("prot") || !streq(pg_parameter_suggest("prot"), "port"));
}

static void test_parameter_values(void **state) {
        (void) state;
        /* booleans */
        check_value("fsync", "yes", "on");
        check_value("fsync", "OFF", "off");
        check_value("fsync", "t", "on");
        check_value("fsync", " 0 ", "off");
        check_value("fsync", "true", "on");
        check_bad_value("fsync", "maybe", "INVALID_VALUE", "fsync: \"maybe\" is not a boolean");
        check_bad_value("fsync", "o", "INVALID_VALUE", NULL);
        check_bad_value("fsync", "", "INVALID_VALUE", NULL);

        /* integers, memory: canonical as SHOW prints them */
        check_value("shared_buffers", "128MB", "128MB");
        check_value("shared_buffers", "16384", "128MB");
        check_value("shared_buffers", "131072kB", "128MB");
        check_value("shared_buffers", "128 MB", "128MB");
        check_value("shared_buffers", "1GB", "1GB");
        check_value("shared_buffers", "0.5GB", "512MB");
        check_value("shared_buffers", "100", "800kB");
        check_value("work_mem", "16MB", "16MB");
        check_value("work_mem", "4096", "4MB");
        check_value("work_mem", "1500kB", "1500kB");
        check_value("max_wal_size", "2GB", "2GB");
        check_value("max_wal_size", "1024", "1GB");
        check_value("log_parameter_max_length", "-1", "-1");
        check_value("log_parameter_max_length", "1kB", "1kB");
        check_value("temp_file_limit", "-1", "-1");
        check_bad_value("shared_buffers", "128mb", "INVALID_VALUE", "invalid unit");
        check_bad_value("shared_buffers", "128XB", "INVALID_VALUE", NULL);
        check_bad_value("shared_buffers", "64kB", "OUT_OF_RANGE",
                        "shared_buffers: 64kB is out of range (128kB..8589934584kB)");
        check_bad_value("shared_buffers", "MB", "INVALID_VALUE", NULL);
        check_bad_value("shared_buffers", "0x100", "INVALID_VALUE", NULL);

        /* integers, time */
        check_value("statement_timeout", "30s", "30s");
        check_value("statement_timeout", "30000", "30s");
        check_value("statement_timeout", "90s", "90s");
        check_value("statement_timeout", "1min", "1min");
        check_value("statement_timeout", "2h", "2h");
        check_value("statement_timeout", "1d", "1d");
        check_value("statement_timeout", "0", "0");
        check_value("statement_timeout", "1500us", "2ms"); /* rounded to the base unit */
        check_value("checkpoint_timeout", "300", "5min");
        check_value("log_rotation_age", "1440", "1d");
        check_bad_value("statement_timeout", "30 sec", "INVALID_VALUE", "us, ms, s, min, h and d");
        check_bad_value("checkpoint_timeout", "10s", "OUT_OF_RANGE",
                        "checkpoint_timeout: 10s is out of range (30s..1d)");

        /* integers without unit */
        check_value("max_connections", "200", "200");
        check_value("max_connections", "+7", "7");
        check_value("max_connections", "1.6", "2");
        check_bad_value("max_connections", "-1", "OUT_OF_RANGE",
                        "max_connections: -1 is out of range (1..262143)");
        check_bad_value("max_connections", "262144", "OUT_OF_RANGE", NULL);
        check_bad_value("max_connections", "10 conns", "INVALID_VALUE", "takes no unit");
        check_bad_value("max_connections", "1e10", "OUT_OF_RANGE", NULL);

        /* reals */
        check_value("random_page_cost", "1.1", "1.1");
        check_value("random_page_cost", "4", "4");
        check_value("random_page_cost", "1e2", "100");
        check_value("checkpoint_completion_target", "0.9", "0.9");
        check_value("vacuum_cost_delay", "2ms", "2ms");
        check_value("vacuum_cost_delay", "0.5", "500us");
        check_value("vacuum_cost_delay", "0", "0");
        check_bad_value("random_page_cost", "-1", "OUT_OF_RANGE", NULL);
        check_bad_value("random_page_cost", "nan", "INVALID_VALUE", NULL);
        check_bad_value("random_page_cost", "inf", "INVALID_VALUE", NULL);

        /* enums: any case, the boolean spellings where on/off are choices */
        check_value("log_statement", "DDL", "ddl");
        check_value("default_transaction_isolation", "Read Committed", "read committed");
        check_value("synchronous_commit", "true", "on");
        check_value("synchronous_commit", "remote_apply", "remote_apply");
        check_value("huge_pages", "yes", "on");
        check_bad_value("log_statement", "true", "INVALID_VALUE", "not one of none, ddl, mod, all");
        check_bad_value("bytea_output", "base64", "INVALID_VALUE", NULL);

        /* strings */
        check_value("timezone", "Europe/Paris", "Europe/Paris");
        check_value("search_path", " \"$user\", public ", " \"$user\", public ");
}

static void test_parameter_values_strings(void **state) {
        (void) state;
        check_value("timezone", "UTC", "UTC");
        check_value("shared_preload_libraries", "pg_stat_statements", "pg_stat_statements");
        check_bad_value("search_path", "a\nb", "INVALID_VALUE", "control characters");
        check_bad_value("search_path", "a\tb", "INVALID_VALUE", NULL);
        check_bad_value("search_path", "'a', b", "INVALID_VALUE", "may not contain '");
        check_bad_value("log_line_prefix", "%m \\", "INVALID_VALUE", NULL);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static void test_torture(void **state) {
        static const char good[] = PG(
                "{plan: small_single, parameters: {work_mem: 16MB, max_connections: 100, "
                "log_statement: ddl}, allow: [web, 10.0.0.0/8], expose: {host_port: 5432}, "
                "backup: {enabled: true, pitr: true}, maintenance: {window: 'sun 02:00-04:00'}}");
        static const char bad[] = PG("{parameters: {work_mem: 16MB, log_statement: everything}}");
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
                        _cleanup_(pg_single_spec_release) PgSingleSpec s = {0};

                        for (long j = 0;; j++) {
                                alloc_fail_after(j);
                                r = pg_single_spec_from_json(docs[0].spec, &s, &e);
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
        for (long k = 0; k < 300; k++) {
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(k);
                r = documents_parse(bad, strlen(bad), &docs, &n, &e);
                alloc_fail_after(-1);
                assert_true(r == -ENOMEM || r == -EINVAL);
                assert_null(docs);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_plans),
                cmocka_unit_test(test_normalisation),
                cmocka_unit_test(test_idempotent),
                cmocka_unit_test(test_examples_idempotent),
                cmocka_unit_test(test_bad_specs),
                cmocka_unit_test(test_from_json),
                cmocka_unit_test(test_from_json_defaults),
                cmocka_unit_test(test_password_secret_name),
                cmocka_unit_test(test_parameter_table),
                cmocka_unit_test(test_parameter_values),
                cmocka_unit_test(test_parameter_values_strings),
                cmocka_unit_test(test_torture),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
