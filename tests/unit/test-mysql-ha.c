/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/document.h"
#include "model/json-util.h"
#include "model/mysql-ha.h"
#include "reconcilers/mysql_ha/plan.h"

/* mysql_ha: validation with exact field and reason, normalisation (defaults, idempotence), the
 * typed spec; the pure parts of the reconciler: GTID positions, a member's answer, the failover
 * record, the proxy's configuration. */

#define MY(spec) "kind: mysql_ha\nmetadata: {name: orders, project: shop}\nspec: " spec "\n"

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
        assert_int_equal(docs[0].kind, KIND_MYSQL_HA);
        s = cJSON_PrintUnformatted(docs[0].spec);
        documents_free(docs, n);
        return s;
}

static void assert_idempotent(const char *once) {
        _cleanup_(buf_release) Buf b = BUF_INIT(1 << 20);
        _cleanup_free_ char *again = NULL;

        assert_int_equal(buf_printf(&b,
                                    "{\"kind\":\"mysql_ha\",\"metadata\":{\"name\":\"orders\"},"
                                    "\"spec\":%s}",
                                    once),
                         0);
        again = normalised(buf_str(&b));
        if (!streq(once, again))
                fail_msg("not idempotent:\n  once  %s\n  again %s", once, again);
}

static void test_defaults(void **state) {
        _cleanup_free_ char *got = normalised(MY("{}"));
        static const char want[] =
                "{\"version\":\"10.11\",\"flavor\":\"mariadb\",\"image\":\"berth/mariadb:10.11\","
                "\"plan\":\"dev_ha\",\"resources\":{\"cpu\":0.5,\"memory\":536870912},"
                "\"storage\":{\"size\":5368709120},\"topology\":{\"replicas\":2,\"semi_sync\":true,"
                "\"max_replication_lag\":\"30s\"},\"proxy\":{\"type\":\"haproxy\",\"image\":"
                "\"berth/haproxy:2.6\",\"write_port\":6033,\"read_port\":6034,\"bind\":"
                "\"127.0.0.1\"},\"failover\":{\"automatic\":true,\"detection_probes\":3,"
                "\"probe_interval\":\"1s\",\"min_interval\":\"10m\"},\"initial_db_name\":"
                "\"orders\",\"initial_user\":\"app\",\"password\":{\"secret\":\"orders-password\","
                "\"generated\":true},\"allow\":[],\"allow_public\":false,\"backup\":{\"enabled\":"
                "false},\"paused\":false}";

        (void) state;
        if (!streq(got, want))
                fail_msg("defaults:\n  got  %s\n  want %s", got, want);
        assert_idempotent(got);
}

static void test_normalises(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        _cleanup_(mysql_ha_spec_release) MysqlHaSpec s = {};
        _cleanup_json_ cJSON *j = NULL;
        Error e = ERROR_INIT;

        (void) state;
        a = normalised(MY("{version: 10.11, topology: {replicas: 0}, proxy: {write_port: 7000, "
                          "read_port: 7001, bind: '::1'}, failover: {probe_interval: 0.5, "
                          "min_interval: 0, detection_probes: 5, automatic: false}, allow: "
                          "[web, 10.0.0.0/8, 192.168.1.7], initial_user: shop, password: "
                          "{secret: shop-pw}, plan: small_ha}"));
        assert_non_null(strstr(a, "\"topology\":{\"replicas\":0,\"semi_sync\":false,"));
        assert_non_null(strstr(a, "\"probe_interval\":\"500ms\",\"min_interval\":\"0s\""));
        assert_non_null(strstr(a, "\"bind\":\"::1\""));
        assert_non_null(strstr(a, "\"allow\":[\"web\",\"10.0.0.0/8\",\"192.168.1.7/32\"]"));
        assert_non_null(strstr(a, "\"password\":{\"secret\":\"shop-pw\"}"));
        assert_idempotent(a);

        b = normalised(MY("{resources: {cpu: 1, memory: 1Gi}, topology: {max_replication_lag: "
                          "2m}}"));
        assert_null(strstr(b, "\"plan\""));
        assert_non_null(strstr(b, "\"max_replication_lag\":\"2m\""));
        assert_idempotent(b);

        c = normalised(MY("{topology: {replicas: 4, semi_sync: true}}"));
        j = cJSON_Parse(c);
        assert_non_null(j);
        assert_int_equal(mysql_ha_spec_from_json(j, &s, &e), 0);
        assert_int_equal(s.replicas, 4);
        assert_true(s.semi_sync);
        assert_int_equal(s.write_port, 6033);
        assert_int_equal(s.read_port, 6034);
        assert_string_equal(s.bind, "127.0.0.1");
        assert_true(s.failover_automatic);
        assert_int_equal(s.detection_probes, 3);
        assert_true(s.probe_interval == USEC_PER_SEC);
        assert_true(s.min_interval == 600 * USEC_PER_SEC);
        assert_true(s.max_lag == 30 * USEC_PER_SEC);
        assert_string_equal(s.password_secret, "orders-password");
        assert_true(s.password_generated);
        assert_string_equal(s.image, "berth/mariadb:10.11");
        assert_string_equal(s.proxy_image, "berth/haproxy:2.6");
}

typedef struct BadCase {
        const char *what;
        const char *body;
        int code;
        const char *reason;
        const char *field;
} BadCase;

static const BadCase bad_cases[] = {
        {"semi_sync without a replica", MY("{topology: {replicas: 0, semi_sync: true}}"), -EINVAL,
         "CONFLICT", "spec.topology.semi_sync"},
        {"ports that collide", MY("{proxy: {write_port: 7000, read_port: 7000}}"), -EINVAL,
         "CONFLICT", "spec.proxy.read_port"},
        {"read port on the default write port", MY("{proxy: {read_port: 6033}}"), -EINVAL,
         "CONFLICT", "spec.proxy.read_port"},
        {"flavor oracle", MY("{flavor: oracle}"), -EINVAL, "INVALID_VALUE", "spec.flavor"},
        {"flavor mysql", MY("{flavor: mysql}"), -EOPNOTSUPP, "NOT_SUPPORTED", "spec.flavor"},
        {"proxysql", MY("{proxy: {type: proxysql}}"), -EOPNOTSUPP, "NOT_SUPPORTED",
         "spec.proxy.type"},
        {"too many replicas", MY("{topology: {replicas: 5}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.topology.replicas"},
        {"version 8.0", MY("{version: '8.0'}"), -EINVAL, "INVALID_VALUE", "spec.version"},
        {"port 0", MY("{proxy: {write_port: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.proxy.write_port"},
        {"bind everywhere", MY("{proxy: {bind: 0.0.0.0}}"), -EINVAL, "INVALID_VALUE",
         "spec.proxy.bind"},
        {"bind a name", MY("{proxy: {bind: localhost}}"), -EINVAL, "INVALID_VALUE",
         "spec.proxy.bind"},
        {"probes 0", MY("{failover: {detection_probes: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.failover.detection_probes"},
        {"probe interval 10ms", MY("{failover: {probe_interval: 10ms}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.failover.probe_interval"},
        {"unknown failover field", MY("{failover: {automatik: true}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.failover.automatik"},
        {"lag in bytes", MY("{topology: {max_replication_lag: 16Mi}}"), -EINVAL, "INVALID_VALUE",
         "spec.topology.max_replication_lag"},
        {"initial_user root", MY("{initial_user: root}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user"},
        {"initial_user berth_x", MY("{initial_user: berth_x}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_user"},
        {"initial_db_name mysql", MY("{initial_db_name: mysql}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name"},
        {"initial_db_name with a dash", MY("{initial_db_name: my-db}"), -EINVAL, "INVALID_VALUE",
         "spec.initial_db_name"},
        {"a pg_single field", MY("{read_replicas: 1}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.read_replicas"},
        {"backups on", MY("{backup: {enabled: true}}"), -EOPNOTSUPP, "NOT_SUPPORTED",
         "spec.backup.enabled"},
        {"plan and resources", MY("{plan: dev_ha, resources: {cpu: 3}}"), -EINVAL, "CONFLICT",
         "spec.resources"},
        {"allow everything", MY("{allow: [0.0.0.0/0]}"), -EINVAL, "INVALID_VALUE", "spec.allow[0]"},
        {"generated by hand", MY("{password: {secret: x, generated: true}}"), -EINVAL,
         "FIELD_READ_ONLY", "spec.password.generated"},
};

static void test_bad(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const BadCase *c = &bad_cases[i];
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                r = documents_parse(c->body, strlen(c->body), &docs, &n, &e);
                documents_free(docs, n);
                if (r != c->code || !streq(e.reason, c->reason) || !streq(e.field, c->field))
                        fail_msg("%s: got %d %s at %s (%s), want %d %s at %s", c->what, r, e.reason,
                                 e.field, e.msg, c->code, c->reason, c->field);
                /* The message starts with the field. */
                if (!strneq(e.msg, c->field, strlen(c->field)))
                        fail_msg("%s: message does not name the field: %s", c->what, e.msg);
        }
}

static void test_gtid(void **state) {
        MysqlGtidPos a, b, c, d;

        (void) state;
        assert_int_equal(mysql_gtid_parse("0-1-100", &a), 0);
        assert_int_equal(a.n, 1);
        assert_true(a.g[0].seq == 100 && a.g[0].server == 1 && a.g[0].domain == 0);
        assert_int_equal(mysql_gtid_parse("0-2-101, 1-3-5\n", &b), 0);
        assert_int_equal(b.n, 2);
        assert_int_equal(mysql_gtid_parse("", &c), 0);
        assert_int_equal(c.n, 0);
        assert_int_equal(mysql_gtid_parse("0-1", &d), -EINVAL);
        assert_int_equal(mysql_gtid_parse("0-1-x", &d), -EINVAL);

        assert_true(mysql_gtid_reached(&b, &a));
        assert_false(mysql_gtid_reached(&a, &b));
        assert_true(mysql_gtid_reached(&a, &c)); /* everything has reached nothing */
        assert_true(mysql_gtid_weight(&b) == 106);

        /* Behind is a prefix; ahead, or the same number from another server, is not. */
        assert_int_equal(mysql_gtid_parse("0-1-99", &c), 0);
        assert_false(mysql_gtid_diverged(&c, &a));
        assert_true(mysql_gtid_diverged(&a, &c));
        assert_int_equal(mysql_gtid_parse("0-3-100", &d), 0);
        assert_true(mysql_gtid_diverged(&a, &d));
        assert_false(mysql_gtid_diverged(&a, &a));
        assert_int_equal(mysql_gtid_parse("", &c), 0);
        assert_false(mysql_gtid_diverged(&c, &a));
}

static void test_node_output(void **state) {
        static const char out[] =
                "berth_status\n"
                "{\"version\": \"10.11.19-MariaDB-log\", \"server_id\": 2, \"read_only\": 1, "
                "\"gtid_current_pos\": \"0-1-10\", \"gtid_binlog_pos\": \"0-1-10\", "
                "\"gtid_slave_pos\": \"0-1-10\", \"semi_master_enabled\": 0, "
                "\"semi_master_active\": false, \"semi_master_clients\": 0, "
                "\"semi_slave_active\": true, \"bootstrapped\": true}\n"
                "*************************** 1. row ***************************\n"
                "                Slave_IO_State: Waiting for master to send event\n"
                "                   Master_Host: shop-orders-db-0\n"
                "              Slave_IO_Running: Yes\n"
                "             Slave_SQL_Running: Yes\n"
                "         Seconds_Behind_Master: 3\n"
                "                 Last_IO_Errno: 0\n"
                "                 Last_IO_Error: \n"
                "                Last_SQL_Errno: 0\n"
                "                Last_SQL_Error: \n"
                "                   Gtid_IO_Pos: 0-1-12\n"
                "                    Using_Gtid: Current_Pos\n"
                "       Slave_SQL_Running_State: Slave has read all relay log; waiting\n";
        _cleanup_(mysql_node_observed_release) MysqlNodeObserved n = {};
        _cleanup_(mysql_node_observed_release) MysqlNodeObserved m = {};

        (void) state;
        assert_int_equal(mysql_node_from_output(out, &n), 0);
        assert_true(n.answered);
        assert_int_equal(n.server_id, 2);
        assert_true(n.read_only);
        assert_true(n.semi_slave_active);
        assert_false(n.semi_master_enabled);
        assert_true(n.bootstrapped);
        assert_string_equal(n.gtid_current_pos, "0-1-10");
        assert_true(n.has_slave);
        assert_string_equal(n.master_host, "shop-orders-db-0");
        assert_string_equal(n.io_running, "Yes");
        assert_int_equal(n.seconds_behind, 3);
        assert_string_equal(n.gtid_io_pos, "0-1-12");
        assert_string_equal(n.last_io_error, "");
        assert_string_equal(n.sql_state, "Slave has read all relay log; waiting");

        /* A primary: no slave row; NULL lag is -1. */
        assert_int_equal(mysql_node_from_output("berth_status\n{\"read_only\": 0}\n", &m), 0);
        assert_false(m.has_slave);
        assert_false(m.read_only);
        mysql_node_observed_release(&m);
        assert_int_equal(mysql_node_from_output("garbage", &m), -EBADMSG);
}

static void test_failover_record(void **state) {
        MysqlFailover f = {.active = true,
                           .automatic = true,
                           .old_index = 0,
                           .new_index = 2,
                           .operation = 7,
                           .request_id = 0};
        MysqlFailover g;
        _cleanup_json_ cJSON *j = NULL, *none = NULL;

        (void) state;
        snprintf(f.kind, sizeof(f.kind), "failover");
        snprintf(f.phase, sizeof(f.phase), "promote");
        snprintf(f.reason, sizeof(f.reason), "died");
        snprintf(f.old_gtid, sizeof(f.old_gtid), "0-1-5");
        assert_int_equal(parse_rfc3339("2026-11-23T10:00:00.25Z", &f.detected_at), 0);
        j = mysql_failover_to_json(&f);
        assert_non_null(j);
        assert_int_equal(mysql_failover_from_json(j, &g), 0);
        assert_true(g.active && g.automatic);
        assert_int_equal(g.old_index, 0);
        assert_int_equal(g.new_index, 2);
        assert_true(g.operation == 7);
        assert_true(g.detected_at == f.detected_at);
        assert_string_equal(g.phase, "promote");
        assert_string_equal(g.old_gtid, "0-1-5");
        none = mysql_failover_to_json(&(MysqlFailover){});
        assert_true(cJSON_IsNull(none));
        assert_int_equal(mysql_failover_from_json(none, &g), 0);
        assert_false(g.active);
}

static void test_proxy_render(void **state) {
        ResourceRef ref = {.kind = KIND_MYSQL_HA};
        MysqlHaSpec spec = {};
        char *const reads[] = {(char *) "10.0.0.3", (char *) "10.0.0.4", NULL};
        _cleanup_free_ char *a = NULL, *b = NULL;

        (void) state;
        snprintf(ref.project, sizeof(ref.project), "shop");
        snprintf(ref.name, sizeof(ref.name), "orders");
        a = mysql_proxy_render(&ref, &spec, "10.0.0.2", reads);
        assert_non_null(a);
        assert_non_null(strstr(a, "listen write\n    bind :6033\n    server primary "
                                  "10.0.0.2:3306 check\n"));
        assert_non_null(strstr(a, "    server replica1 10.0.0.3:3306 check\n"
                                  "    server replica2 10.0.0.4:3306 check\n"
                                  "    server primary 10.0.0.2:3306 check backup\n"));
        /* No primary: the write backend has no server and refuses at once. */
        b = mysql_proxy_render(&ref, &spec, NULL, NULL);
        assert_non_null(b);
        assert_null(strstr(b, "server primary"));
}

static void test_member_config(void **state) {
        ResourceRef ref = {.kind = KIND_MYSQL_HA};
        _cleanup_(mysql_ha_spec_release) MysqlHaSpec s = {};
        _cleanup_(container_config_release) ContainerConfig c0 = {}, c1 = {};
        _cleanup_free_ char *norm = normalised(MY("{}"));
        _cleanup_json_ cJSON *j = cJSON_Parse(norm);
        Error e = ERROR_INIT;

        (void) state;
        snprintf(ref.project, sizeof(ref.project), "shop");
        snprintf(ref.name, sizeof(ref.name), "orders");
        assert_int_equal(mysql_ha_spec_from_json(j, &s, &e), 0);
        assert_int_equal(mysql_member_config(&ref, &s, NULL, 0, &c0, &e), 0);
        assert_int_equal(mysql_member_config(&ref, &s, NULL, 1, &c1, &e), 0);
        assert_string_equal(c0.name, "shop-orders-db-0");
        assert_string_equal(c0.network, "berth-shop-orders");
        assert_true(strv_contains(c0.cmd, "--server-id=1"));
        assert_true(strv_contains(c1.cmd, "--server-id=2"));
        /* Every member starts read-only; AFTER_SYNC is said out loud. */
        assert_true(strv_contains(c0.cmd, "--read-only=ON"));
        assert_true(strv_contains(c0.cmd, "--rpl-semi-sync-master-wait-point=AFTER_SYNC"));
        assert_true(strv_contains(c0.cmd, "--gtid-strict-mode=ON"));
        assert_true(strv_contains(c0.cmd, "--log-slave-updates=ON"));
        assert_true(strv_contains(c0.cmd, "--binlog-format=ROW"));
        /* No port published; the secrets as files. */
        assert_int_equal(c0.n_ports, 0);
        assert_int_equal(c0.n_secrets, 3);
        for (size_t i = 0; i < c0.n_secrets; i++)
                assert_non_null(c0.secrets[i].path);
        assert_string_equal(c0.restart_policy, "no");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),     cmocka_unit_test(test_normalises),
                cmocka_unit_test(test_bad),          cmocka_unit_test(test_gtid),
                cmocka_unit_test(test_node_output),  cmocka_unit_test(test_failover_record),
                cmocka_unit_test(test_proxy_render), cmocka_unit_test(test_member_config),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
