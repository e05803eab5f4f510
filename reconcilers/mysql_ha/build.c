/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "util/common.h"

#include "reconcilers/mysql_ha/plan.h"
#include "util/buf.h"

/* What runs in a mysql_ha cluster, rendered from the spec: the members' start script and helper
 * scripts, their containers, the proxy's configuration and container. Pure: plan() compares what
 * it renders here with what the members and the proxy report. */

#define SECRET_PASSWORD    "/run/berth/password"
#define SECRET_REPLICATION "/run/berth/replication"
#define SECRET_MONITOR     "/run/berth/monitor"
#define PROXY_CONF_MAX     (64 * 1024)
/* Semi-synchronous commits wait this long for a replica's acknowledgement, then go on
 * asynchronously (and say so: Rpl_semi_sync_master_status OFF). */
#define SEMI_SYNC_TIMEOUT_MS 5000
/* A replica's IO thread gives up on a silent primary after this (heartbeats every half). */
#define SLAVE_NET_TIMEOUT_S 4

/* Runs as root (to read the 0400 secrets), writes the monitor user's client file, then becomes
 * the server; mariadbd drops to the mysql user itself. Every member starts read-only: only berth
 * makes the primary writable, so a member that restarts on its own cannot take writes. */
static const char start_script[] =
        "#!/bin/sh\n"
        "# berth mysql_ha member: written by berth, replaced with the container.\n"
        "set -eu\n"
        "umask 077\n"
        "install -d -o mysql -g mysql -m 0755 /run/mysqld\n"
        "{ printf '[client]\\nuser=" MYSQL_MONITOR_USER "\\npassword='; cat " SECRET_MONITOR
        "; echo; } >" MYSQL_SCRIPT_DIR "/monitor.cnf\n"
        "exec mariadbd --user=mysql \"$@\"\n";

/* Run by the controller in the primary, again whenever the password changes: the initial user
 * and database, the replication and monitor users, with least privileges. Binary-logged, so the
 * replicas get them too. Passwords travel through a pipe, never on a command line.
 * $1 user, $2 database. */
static const char bootstrap_script[] =
        "#!/bin/sh\n"
        "# berth mysql_ha: users and the initial database (idempotent).\n"
        "set -eu\n"
        "lit() { printf \"'\"; sed -e 's/\\\\/\\\\\\\\/g' -e \"s/'/\\\\\\\\'/g\" \"$1\" | tr -d "
        "'\\n'; printf \"'\"; }\n"
        "user() {\n"
        "  printf \"CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY \" \"$1\"; lit \"$2\"; "
        "echo ';'\n"
        "  printf \"ALTER USER '%s'@'%%' IDENTIFIED BY \" \"$1\"; lit \"$2\"; echo ';'\n"
        "}\n"
        "{\n"
        "  user \"$1\" " SECRET_PASSWORD "\n"
        "  echo \"CREATE DATABASE IF NOT EXISTS \\`$2\\`;\"\n"
        "  echo \"GRANT ALL PRIVILEGES ON \\`$2\\`.* TO '$1'@'%';\"\n"
        "  user " MYSQL_REPL_USER " " SECRET_REPLICATION "\n"
        "  echo \"GRANT REPLICATION SLAVE ON *.* TO '" MYSQL_REPL_USER "'@'%';\"\n"
        "  user " MYSQL_MONITOR_USER " " SECRET_MONITOR "\n"
        "  echo \"GRANT SLAVE MONITOR, BINLOG MONITOR, PROCESS ON *.* TO '" MYSQL_MONITOR_USER
        "'@'%';\"\n"
        "} | mariadb\n";

/* Points this member at a primary by GTID, read-only first. $1 the primary's host, $2 fresh
 * (a new member: everything from the primary's first transaction) or current (a member with a
 * history of its own: from its gtid_current_pos; gtid_strict_mode refuses a diverged one). */
static const char follow_script[] =
        "#!/bin/sh\n"
        "# berth mysql_ha: follow a primary by GTID.\n"
        "set -eu\n"
        "lit() { printf \"'\"; sed -e 's/\\\\/\\\\\\\\/g' -e \"s/'/\\\\\\\\'/g\" \"$1\" | tr -d "
        "'\\n'; printf \"'\"; }\n"
        "{\n"
        "  echo 'SET GLOBAL read_only=ON;'\n"
        "  echo 'SET GLOBAL rpl_semi_sync_master_enabled=OFF;'\n"
        "  echo 'STOP SLAVE;'\n"
        "  if [ \"$2\" = fresh ]; then echo \"SET GLOBAL gtid_slave_pos='';\"; mode=slave_pos; "
        "else mode=current_pos; fi\n"
        "  printf \"CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='%s', "
        "MASTER_PASSWORD=\" \"$1\" 3306 " MYSQL_REPL_USER "\n"
        "  lit " SECRET_REPLICATION "\n"
        "  echo \", MASTER_USE_GTID=$mode, MASTER_CONNECT_RETRY=1;\"\n"
        "  echo 'START SLAVE;'\n"
        "} | mariadb\n";

int mysql_member_name(char *buf, size_t n, const ResourceRef *ref, unsigned index) {
        return name_container(buf, n, ref->project, ref->name, MYSQL_ROLE_DB, index);
}

static int member_args(const MysqlHaSpec *spec, unsigned index, char ***l) {
        int r;

        r = strv_pushf(l, "--server-id=%u", index + 1);
        if (r >= 0)
                r = strv_push(l, "--gtid-domain-id=0");
        if (r >= 0)
                r = strv_push(l, "--log-bin=mysql-bin");
        if (r >= 0)
                r = strv_push(l, "--relay-log=relay-bin");
        if (r >= 0)
                r = strv_push(l, "--log-slave-updates=ON");
        if (r >= 0)
                r = strv_push(l, "--binlog-format=ROW");
        if (r >= 0)
                r = strv_push(l, "--gtid-strict-mode=ON");
        if (r >= 0)
                r = strv_push(l, "--bind-address=0.0.0.0");
        if (r >= 0)
                r = strv_push(l, "--skip-name-resolve");
        if (r >= 0)
                r = strv_push(l, "--read-only=ON");
        /* Semi-sync: every member can acknowledge; the primary's master side is switched on at
         * run time (rpl_semi_sync_master_enabled) once a replica streams. AFTER_SYNC: a commit
         * is visible to others only once a replica has it (MariaDB's default, AFTER_COMMIT,
         * can show and then lose a write). */
        if (r >= 0)
                r = strv_push(l, "--rpl-semi-sync-slave-enabled=ON");
        if (r >= 0)
                r = strv_push(l, "--rpl-semi-sync-master-wait-point=AFTER_SYNC");
        if (r >= 0)
                r = strv_pushf(l, "--rpl-semi-sync-master-timeout=%d", SEMI_SYNC_TIMEOUT_MS);
        if (r >= 0)
                r = strv_pushf(l, "--slave-net-timeout=%d", SLAVE_NET_TIMEOUT_S);
        /* The proxy's health checks connect and close: never block its address for that. */
        if (r >= 0)
                r = strv_push(l, "--max-connect-errors=4294967295");
        if (r >= 0 && spec->memory > 0)
                r = strv_pushf(l, "--innodb-buffer-pool-size=%" PRIi64,
                               MAX(spec->memory / 2, (int64_t) 64 << 20));
        return r;
}

int mysql_member_config(const ResourceRef *ref, const MysqlHaSpec *spec, const MysqlObserved *obs,
                        unsigned index, ContainerConfig *ret, Error *reterr) {
        static const struct {
                const char *path;
                const char *content;
        } scripts[] = {
                {MYSQL_SCRIPT_DIR "/start.sh", start_script},
                {MYSQL_SCRIPT_DIR "/bootstrap.sh", bootstrap_script},
                {MYSQL_SCRIPT_DIR "/follow.sh", follow_script},
        };
        _cleanup_(container_config_release) ContainerConfig c = {.stop_timeout = 30};
        char name[128], net[128], vol[128], repl[96], mon[96], hash[65];
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        r = mysql_member_name(name, sizeof(name), ref, index);
        if (r >= 0)
                r = name_resource_network(net, sizeof(net), ref->project, ref->name);
        if (r >= 0)
                r = name_volume(vol, sizeof(vol), ref->project, ref->name, "data", index);
        if (r >= 0)
                r = mysql_replication_secret_name(repl, sizeof(repl), ref->name);
        if (r >= 0)
                r = mysql_monitor_secret_name(mon, sizeof(mon), ref->name);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "name too long for its Docker objects");

        c.name = b_strdup(name);
        c.image = b_strdup(spec->image);
        c.hostname = b_strdup(name);
        c.network = b_strdup(net);
        /* berth restarts members itself: a primary that dies stays down, so that its death is
         * seen and the failover decided by berth, not raced by Docker. */
        c.restart_policy = b_strdup("no");
        if (!c.name || !c.image || !c.hostname || !c.network || !c.restart_policy)
                return -ENOMEM;
        r = strv_push(&c.entrypoint, "sh");
        if (r >= 0)
                r = strv_push(&c.entrypoint, MYSQL_SCRIPT_DIR "/start.sh");
        if (r >= 0)
                r = member_args(spec, index, &c.cmd);
        if (r >= 0)
                r = strv_push(&c.env, "LANG=C.UTF-8");
        if (r >= 0)
                r = strv_push(&c.env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        if (r < 0)
                return r;
        c.nano_cpus = (int64_t) (spec->cpu * 1e9);
        c.memory = spec->memory;
        c.resources_live = true;

        r = container_config_add_volume(&c, vol, "/var/lib/mysql", false);
        if (r >= 0)
                r = container_config_add_secret_file(&c, spec->password_secret,
                                                     obs ? obs->password_version : 0,
                                                     SECRET_PASSWORD);
        if (r >= 0)
                r = container_config_add_secret_file(&c, repl, obs ? obs->replication_version : 0,
                                                     SECRET_REPLICATION);
        if (r >= 0)
                r = container_config_add_secret_file(&c, mon, obs ? obs->monitor_version : 0,
                                                     SECRET_MONITOR);
        if (r < 0)
                return r;
        c.files = b_calloc(ELEMENTSOF(scripts), sizeof(ContainerFile));
        if (!c.files)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(scripts); i++) {
                r = container_file_set(&c.files[c.n_files++], scripts[i].path, scripts[i].content,
                                       strlen(scripts[i].content), 0755, false);
                if (r < 0)
                        return r;
        }
        r = container_config_hash(&c, hash);
        if (r >= 0)
                r = container_add_labels(&c, ref, KIND_MYSQL_HA, MYSQL_ROLE_DB, index, hash);
        if (r < 0)
                return r;
        *ret = c;
        c = (ContainerConfig){};
        return 0;
}

int mysql_proxy_config(const ResourceRef *ref, const MysqlHaSpec *spec, const char *conf,
                       ContainerConfig *ret, Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {.stop_timeout = 5};
        char name[128], net[128], hash[65];
        int r;

        assert_return(ref && spec && conf && ret, -EINVAL);
        r = name_container(name, sizeof(name), ref->project, ref->name, MYSQL_ROLE_PROXY, 0);
        if (r >= 0)
                r = name_resource_network(net, sizeof(net), ref->project, ref->name);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "name too long for its Docker objects");
        c.name = b_strdup(name);
        c.image = b_strdup(spec->proxy_image);
        c.user = b_strdup("haproxy");
        c.network = b_strdup(net);
        c.restart_policy = b_strdup("unless-stopped");
        if (!c.name || !c.image || !c.user || !c.network || !c.restart_policy)
                return -ENOMEM;
        /* Master-worker: SIGUSR2 to PID 1 reloads the configuration with no listener closed. */
        r = strv_push(&c.entrypoint, "haproxy");
        if (r >= 0)
                r = strv_push(&c.entrypoint, "-W");
        if (r >= 0)
                r = strv_push(&c.entrypoint, "-db");
        if (r >= 0)
                r = strv_push(&c.entrypoint, "-f");
        if (r >= 0)
                r = strv_push(&c.entrypoint, MYSQL_PROXY_CONF);
        if (r >= 0)
                r = strv_push(&c.env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        if (r < 0)
                return r;
        c.ports = b_calloc(2, sizeof(PortBinding));
        if (!c.ports)
                return -ENOMEM;
        c.n_ports = 2;
        c.ports[0] =
                (PortBinding){.container_port = MYSQL_PROXY_WRITE, .host_port = spec->write_port};
        c.ports[1] =
                (PortBinding){.container_port = MYSQL_PROXY_READ, .host_port = spec->read_port};
        c.ports[0].host_ip = b_strdup(spec->bind);
        c.ports[1].host_ip = b_strdup(spec->bind);
        if (!c.ports[0].host_ip || !c.ports[1].host_ip)
                return -ENOMEM;
        c.files = b_calloc(1, sizeof(ContainerFile));
        if (!c.files)
                return -ENOMEM;
        c.n_files = 1;
        r = container_file_set(&c.files[0], MYSQL_PROXY_CONF, conf, strlen(conf), 0644, true);
        if (r < 0)
                return r;
        r = container_config_hash(&c, hash);
        if (r >= 0)
                r = container_add_labels(&c, ref, KIND_MYSQL_HA, MYSQL_ROLE_PROXY, 0, hash);
        if (r < 0)
                return r;
        *ret = c;
        c = (ContainerConfig){};
        return 0;
}

char *mysql_proxy_render(const ResourceRef *ref, const MysqlHaSpec *spec, const char *primary_ip,
                         char *const *read_ips) {
        _cleanup_(buf_release) Buf b = BUF_INIT(PROXY_CONF_MAX);
        int r;

        (void) spec;
        r = buf_printf(&b,
                       "# Written by berth for %s/%s; rewritten at every change of primary or "
                       "read set.\n"
                       "global\n"
                       "    maxconn 4096\n"
                       "defaults\n"
                       "    mode tcp\n"
                       "    timeout connect 1s\n"
                       "    retries 1\n"
                       "    timeout client 8h\n"
                       "    timeout server 8h\n"
                       "    timeout check 1s\n"
                       "    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 1 "
                       "on-marked-down shutdown-sessions\n"
                       "listen write\n"
                       "    bind :%d\n",
                       ref->project, ref->name, MYSQL_PROXY_WRITE);
        /* Only the primary: with none, connections are refused at once. */
        if (r >= 0 && primary_ip)
                r = buf_printf(&b, "    server primary %s:%d check\n", primary_ip, MYSQL_PORT);
        if (r >= 0)
                r = buf_printf(&b,
                               "listen read\n"
                               "    bind :%d\n"
                               "    balance roundrobin\n",
                               MYSQL_PROXY_READ);
        for (size_t i = 0; r >= 0 && read_ips && read_ips[i]; i++)
                r = buf_printf(&b, "    server replica%zu %s:%d check\n", i + 1, read_ips[i],
                               MYSQL_PORT);
        if (r >= 0 && primary_ip)
                r = buf_printf(&b, "    server primary %s:%d check backup\n", primary_ip,
                               MYSQL_PORT);
        if (r < 0)
                return NULL;
        return buf_take(&b);
}

/* One JSON object, then SHOW SLAVE STATUS in vertical form (see mysql_node_from_output()). The
 * initial user and database are validated identifiers, safe to quote. */
char *mysql_status_query(const MysqlHaSpec *spec) {
        _cleanup_(buf_release) Buf b = BUF_INIT(8 * 1024);

#define GLOBAL_STATUS(n)                                                                           \
        "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '" n   \
        "')"
        if (buf_printf(
                    &b,
                    "SELECT JSON_OBJECT("
                    "'version', @@version, "
                    "'server_id', @@server_id, "
                    "'read_only', @@read_only + 0, "
                    "'gtid_current_pos', @@gtid_current_pos, "
                    "'gtid_binlog_pos', @@gtid_binlog_pos, "
                    "'gtid_slave_pos', @@gtid_slave_pos, "
                    "'semi_master_enabled', @@rpl_semi_sync_master_enabled + 0, "
                    "'semi_master_active', " GLOBAL_STATUS(
                            "RPL_SEMI_SYNC_MASTER_STATUS") " = 'ON', "
                                                           "'semi_master_clients',"
                                                           " " GLOBAL_STATUS(
                                                                   "RPL_SEMI_SYNC_MASTER_"
                                                                   "CLIENTS") " + 0, "
                                                                              "'semi_slave_"
                                                                              "active',"
                                                                              " " GLOBAL_STATUS(
                                                                                      "RPL_SEMI_"
                                                                                      "SYNC_"
                                                                                      "SLAVE_"
                                                                                      "STATUS") " ="
                                                                                                " '"
                                                                                                "ON"
                                                                                                "',"
                                                                                                " "
                                                                                                "'b"
                                                                                                "oo"
                                                                                                "ts"
                                                                                                "tr"
                                                                                                "ap"
                                                                                                "pe"
                                                                                                "d'"
                                                                                                ", "
                                                                                                "(S"
                                                                                                "EL"
                                                                                                "EC"
                                                                                                "T "
                                                                                                "CO"
                                                                                                "UN"
                                                                                                "T("
                                                                                                "*)"
                                                                                                " F"
                                                                                                "RO"
                                                                                                "M "
                                                                                                "my"
                                                                                                "sq"
                                                                                                "l."
                                                                                                "gl"
                                                                                                "ob"
                                                                                                "al"
                                                                                                "_p"
                                                                                                "ri"
                                                                                                "v "
                                                                                                "WH"
                                                                                                "ER"
                                                                                                "E "
                                                                                                "Ho"
                                                                                                "st"
                                                                                                " ="
                                                                                                " '"
                                                                                                "%%"
                                                                                                "' "
                                                                                                "AN"
                                                                                                "D "
                                                                                                "Us"
                                                                                                "er"
                                                                                                " I"
                                                                                                "N "
                                                                                                "('"
                                                                                                "%s"
                                                                                                "',"
                                                                                                " "
                                                                                                "'" MYSQL_REPL_USER
                                                                                                "',"
                                                                                                " "
                                                                                                "'" MYSQL_MONITOR_USER
                                                                                                "')"
                                                                                                ") "
                                                                                                "= "
                                                                                                "3 "
                                                                                                "AN"
                                                                                                "D "
                                                                                                "EX"
                                                                                                "IS"
                                                                                                "TS"
                                                                                                " ("
                                                                                                "SE"
                                                                                                "LE"
                                                                                                "CT"
                                                                                                " 1"
                                                                                                " F"
                                                                                                "RO"
                                                                                                "M "
                                                                                                "in"
                                                                                                "fo"
                                                                                                "rm"
                                                                                                "at"
                                                                                                "io"
                                                                                                "n_"
                                                                                                "sc"
                                                                                                "he"
                                                                                                "ma"
                                                                                                ".S"
                                                                                                "CH"
                                                                                                "EM"
                                                                                                "AT"
                                                                                                "A "
                                                                                                "WH"
                                                                                                "ER"
                                                                                                "E "
                                                                                                "SC"
                                                                                                "HE"
                                                                                                "MA"
                                                                                                "_N"
                                                                                                "AM"
                                                                                                "E "
                                                                                                "= "
                                                                                                "'%"
                                                                                                "s'"
                                                                                                "))"
                                                                                                " A"
                                                                                                "S "
                                                                                                "be"
                                                                                                "rt"
                                                                                                "h_"
                                                                                                "st"
                                                                                                "at"
                                                                                                "us"
                                                                                                "; "
                                                                                                "SH"
                                                                                                "OW"
                                                                                                " S"
                                                                                                "LA"
                                                                                                "VE"
                                                                                                " S"
                                                                                                "TA"
                                                                                                "TU"
                                                                                                "S"
                                                                                                "\\"
                                                                                                "G",
                    spec->initial_user, spec->initial_db_name) < 0)
                return NULL;
#undef GLOBAL_STATUS
        return buf_take(&b);
}
