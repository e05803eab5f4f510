/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include <yaml.h>

#include "util/common.h"

#include "model/json-util.h"
#include "model/validate-util.h"
#include "reconcilers/pg_cluster/plan.h"
#include "util/buf.h"

/* What runs in a pg_cluster, rendered from the spec: the etcd members, the Patroni members with
 * their patroni.yml (libyaml's emitter) and scripts, and the HAProxy with its haproxy.cfg. Pure:
 * plan() compares what it renders here with what the containers report. */

#define PGC_SCRIPT_DIR       "/etc/berth"
#define PGC_SECRET_PASSWORD  "/run/berth/password"
#define PGC_SECRET_SUPER     "/run/berth/superuser"
#define PGC_SECRET_REPL      "/run/berth/replication"
#define PGC_SECRET_REWIND    "/run/berth/rewind"
#define PGC_DATA_DIR         "/var/lib/postgresql/data"
#define PGC_CONF_MAX         (64 * 1024)
#define PGC_MAX_LAG_FAILOVER 1048576 /* Patroni's maximum_lag_on_failover (its default) */

/* Runs as root (to read the 0400 secrets), puts the passwords of Patroni's roles into its
 * environment (never on a command line, never in patroni.yml), then becomes Patroni (PID 1, as
 * postgres). Patroni makes the data directory: initdb on the member that wins the DCS's
 * initialize key, a copy of the leader on the others. */
static const char start_script[] =
        "#!/bin/sh\n"
        "# berth pg_cluster member: written by berth, replaced with the container.\n"
        "set -eu\n"
        "umask 077\n"
        "rd() { tr -d '\\n' <\"$1\"; }\n"
        "PATRONI_SUPERUSER_PASSWORD=$(rd " PGC_SECRET_SUPER ")\n"
        "PATRONI_REPLICATION_PASSWORD=$(rd " PGC_SECRET_REPL ")\n"
        "PATRONI_REWIND_PASSWORD=$(rd " PGC_SECRET_REWIND ")\n"
        "export PATRONI_SUPERUSER_PASSWORD PATRONI_REPLICATION_PASSWORD PATRONI_REWIND_PASSWORD\n"
        "exec setpriv --reuid=postgres --regid=postgres --init-groups patroni " PGC_PATRONI_CONF
        "\n";

/* Run by the controller in the leader, again whenever the password changes: creates the initial
 * user and database and (re)sets the user's password, which travels through a pipe, never on a
 * command line. $1 user, $2 database (validated identifiers). Patroni made the replication and
 * rewind roles itself. */
static const char bootstrap_script[] =
        "#!/bin/sh\n"
        "# berth pg_cluster: initial user and database (idempotent).\n"
        "set -eu\n"
        "lit() { printf \"'\"; sed \"s/'/''/g\" \"$1\" | tr -d '\\n'; printf \"'\"; }\n"
        "{\n"
        "  echo \"SELECT 'CREATE ROLE \\\"$1\\\" LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles "
        "WHERE rolname = '$1')\\\\gexec\"\n"
        "  printf 'ALTER ROLE \"%s\" LOGIN PASSWORD ' \"$1\"; lit " PGC_SECRET_PASSWORD
        "; echo ';'\n"
        "  echo \"SELECT 'CREATE DATABASE \\\"$2\\\" OWNER \\\"$1\\\"' WHERE NOT EXISTS (SELECT "
        "FROM pg_database WHERE datname = '$2')\\\\gexec\"\n"
        "} | psql -h /tmp -U postgres -d postgres -X -q -v ON_ERROR_STOP=1\n";

/* Run by observe() in each running member: one JSON object. $1 "full" adds the cluster's view
 * (members, dynamic configuration, timeline history); $2 $3 the database and user whose
 * existence the leader reports. */
static const char member_observe_script[] =
        "#!/bin/sh\n"
        "# berth pg_cluster member: what it knows, as one JSON object.\n"
        "get() {\n"
        "  v=$(curl -sf -m 2 \"http://127.0.0.1:8008/$1\" 2>/dev/null) && [ -n \"$v\" ] &&\n"
        "    printf '%s' \"$v\" || printf null\n"
        "}\n"
        "sha=$(sha256sum " PGC_PATRONI_CONF " 2>/dev/null | cut -c1-64)\n"
        "printf '{\"conf_sha256\":\"%s\",\"patroni\":' \"$sha\"\n"
        "get patroni\n"
        "if [ \"${1:-}\" = full ]; then\n"
        "  printf ',\"cluster\":'; get cluster\n"
        "  printf ',\"config\":'; get config\n"
        "  printf ',\"history\":'; get history\n"
        "fi\n"
        "if [ -n \"${3:-}\" ]; then\n"
        "  b=$(psql -h /tmp -U postgres -d postgres -XAtc \"SELECT EXISTS (SELECT FROM "
        "pg_database WHERE datname = '$2') AND EXISTS (SELECT FROM pg_roles WHERE rolname = "
        "'$3') AND NOT pg_is_in_recovery()\" 2>/dev/null) || b=\n"
        "  case $b in t) printf ',\"bootstrapped\":true' ;; f) printf ',\"bootstrapped\":false' "
        ";; esac\n"
        "fi\n"
        "printf '}\\n'\n";

/* Run by observe() in a DCS member: its health and, given a key, that key as etcdctl prints
 * it. */
static const char dcs_observe_script[] =
        "#!/bin/sh\n"
        "# berth pg_cluster DCS member: health and one key, as one JSON object.\n"
        "e=\"etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=1s\"\n"
        "h=false\n"
        "$e endpoint health >/dev/null 2>&1 && h=true\n"
        "k=null\n"
        "if [ -n \"${1:-}\" ]; then k=$($e get \"$1\" -w json 2>/dev/null) || k=null; fi\n"
        "[ -n \"$k\" ] || k=null\n"
        "printf '{\"healthy\":%s,\"key\":%s}\\n' \"$h\" \"$k\"\n";

/* The fast failover's one write to the DCS: deletes Patroni's leader key only if it still names
 * the dead member and nobody wrote it since berth read it (one etcd transaction). Prints SUCCESS
 * or FAILURE. $1 key, $2 its mod revision as read, $3 the holder as read. */
static const char release_script[] =
        "#!/bin/sh\n"
        "# berth pg_cluster: compare-and-delete of the leader key of a member that is not "
        "running.\n"
        "set -eu\n"
        "printf 'mod(\"%s\") = \"%s\"\\nvalue(\"%s\") = \"%s\"\\n\\ndel %s\\n\\n\\n' \"$1\" "
        "\"$2\" \"$1\" \"$3\" \"$1\" |\n"
        "  etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=2s txn\n";

/* Run by observe() in the proxy: the sha256 of haproxy.cfg on the first line, then HAProxy's
 * statistics as CSV (which servers its checks find up). */
static const char proxy_observe_script[] =
        "#!/bin/sh\n"
        "# berth pg_cluster proxy: haproxy.cfg's sha256, then HAProxy's statistics (CSV).\n"
        "sha256sum " PGC_HAPROXY_CONF " | cut -c1-64\n"
        "curl -sf -m 1 'http://127.0.0.1:8404/;csv' || true\n";

int pgc_secret_name(char *buf, size_t n, const char *name, const char *suffix) {
        int k;

        assert_return(buf && name && suffix, -EINVAL);
        k = snprintf(buf, n, "%s%s", name, suffix);
        if (k < 0 || (size_t) k >= n || (size_t) k > NAME_MAX_LEN)
                return -E2BIG;
        return 0;
}

int pgc_member_name(char *buf, size_t n, unsigned index) {
        int k = snprintf(buf, n, "pg-%u", index);
        return k < 0 || (size_t) k >= n ? -E2BIG : 0;
}

int pgc_member_index(const char *member) {
        unsigned k;
        char tail;

        if (!member || sscanf(member, "pg-%u%c", &k, &tail) != 1 || k > 64)
                return -1;
        return (int) k;
}

int pgc_leader_key(char *buf, size_t n, const char *name) {
        int k = snprintf(buf, n, PGC_NAMESPACE "%s/leader", name);
        return k < 0 || (size_t) k >= n ? -E2BIG : 0;
}

/* ---- patroni.yml: a JSON tree, emitted as YAML by libyaml --------------------------------- */

static int yaml_write(void *data, unsigned char *buffer, size_t size) {
        return buf_append(data, buffer, size) >= 0;
}

/* A key berth may write plain: lower-case words that YAML 1.1 does not read as anything else. */
static bool key_is_plain(const char *s) {
        static const char *const special[] = {"y",   "n",    "yes",   "no",   "on",
                                              "off", "true", "false", "null", NULL};

        if (!s || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(s))
                return false;
        for (const char *const *p = special; *p; p++)
                if (streq(*p, s))
                        return false;
        return true;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, bool plain) {
        yaml_event_t ev;

        if (!yaml_scalar_event_initialize(
                    &ev, NULL, NULL, (yaml_char_t *) s, (int) strlen(s), plain, !plain,
                    plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE))
                return -ENOMEM;
        return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

/* Strings always double-quoted (a value of "on" or "128" stays a string), numbers, booleans and
 * null plain. Our own tree, a few levels deep: recursion is bounded by construction. */
static int emit_json(yaml_emitter_t *em, const cJSON *v, int depth) {
        yaml_event_t ev;
        const cJSON *c;
        char num[64];
        int r;

        if (depth > 16)
                return -ELOOP;
        if (cJSON_IsObject(v)) {
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                         YAML_BLOCK_MAPPING_STYLE) ||
                    !yaml_emitter_emit(em, &ev))
                        return -EIO;
                cJSON_ArrayForEach(c, v) {
                        r = emit_scalar(em, c->string, key_is_plain(c->string));
                        if (r >= 0)
                                r = emit_json(em, c, depth + 1);
                        if (r < 0)
                                return r;
                }
                if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
                        return -EIO;
                return 0;
        }
        if (cJSON_IsArray(v)) {
                if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                          YAML_BLOCK_SEQUENCE_STYLE) ||
                    !yaml_emitter_emit(em, &ev))
                        return -EIO;
                cJSON_ArrayForEach(c, v) {
                        r = emit_json(em, c, depth + 1);
                        if (r < 0)
                                return r;
                }
                if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
                        return -EIO;
                return 0;
        }
        if (cJSON_IsString(v))
                return emit_scalar(em, v->valuestring, false);
        if (cJSON_IsNumber(v))
                return emit_scalar(em, number_format(v->valuedouble, num, sizeof(num)), true);
        if (cJSON_IsBool(v))
                return emit_scalar(em, cJSON_IsTrue(v) ? "true" : "false", true);
        return emit_scalar(em, "null", true);
}

static int yaml_from_json(const cJSON *doc, const char *comment, char **ret) {
        _cleanup_(buf_release) Buf out = BUF_INIT(PGC_CONF_MAX);
        yaml_emitter_t em;
        yaml_event_t ev;
        int r = -EIO;

        r = buf_printf(&out, "# %s\n", comment);
        if (r < 0)
                return r;
        if (!yaml_emitter_initialize(&em))
                return -ENOMEM;
        yaml_emitter_set_output(&em, yaml_write, &out);
        yaml_emitter_set_unicode(&em, 1);
        yaml_emitter_set_width(&em, -1);
        r = -EIO;
        if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
            yaml_emitter_emit(&em, &ev) &&
            yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
            yaml_emitter_emit(&em, &ev)) {
                r = emit_json(&em, doc, 0);
                if (r >= 0)
                        r = yaml_document_end_event_initialize(&ev, 1) &&
                                            yaml_emitter_emit(&em, &ev) &&
                                            yaml_stream_end_event_initialize(&ev) &&
                                            yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em)
                                    ? 0
                                    : -EIO;
        }
        yaml_emitter_delete(&em);
        if (r < 0)
                return r;
        *ret = buf_take(&out);
        return *ret ? 0 : -ENOMEM;
}

static int put_s(cJSON *o, const char *key, const char *v) {
        return json_add_item_take(o, key, cJSON_CreateString(v));
}

static int put_n(cJSON *o, const char *key, double v) {
        return json_add_item_take(o, key, cJSON_CreateNumber(v));
}

static int put_b(cJSON *o, const char *key, bool v) {
        return json_add_item_take(o, key, cJSON_CreateBool(v));
}

static cJSON *obj(cJSON *parent, const char *key) {
        return cJSON_AddObjectToObject(parent, key);
}

/* The server settings Patroni's replication needs, then the user's (which win where they
 * overlap: shared_buffers, wal_keep_size). All strings, as postgresql.conf spells them. */
static int dcs_parameters(const PgClusterSpec *spec, cJSON *params) {
        static const struct {
                const char *name, *value;
        } base[] = {
                {"hot_standby", "on"},     {"max_replication_slots", "10"},
                {"max_wal_senders", "10"}, {"wal_keep_size", "128MB"},
                {"wal_level", "replica"},  {"wal_log_hints", "on"},
        };
        char sb[32];
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(base); i++)
                r = put_s(params, base[i].name, base[i].value);
        if (r >= 0 && spec->pg.memory > 0) {
                snprintf(sb, sizeof(sb), "%" PRIi64 "kB",
                         MAX(spec->pg.memory / 4, (int64_t) 16 << 20) / 1024);
                r = put_s(params, "shared_buffers", sb);
        }
        for (size_t i = 0; r >= 0 && i < spec->pg.n_parameters; i++) {
                const PgParameter *p = &spec->pg.parameters[i];

                cJSON_DeleteItemFromObjectCaseSensitive(params, p->name);
                r = put_s(params, p->name, p->value);
        }
        return r;
}

cJSON *pgc_dcs_config(const PgClusterSpec *spec) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *pg, *params;
        int r;

        if (!o)
                return NULL;
        r = put_n(o, "ttl", spec->ttl);
        if (r >= 0)
                r = put_n(o, "loop_wait", spec->loop_wait);
        if (r >= 0)
                r = put_n(o, "retry_timeout", spec->retry_timeout);
        if (r >= 0)
                r = put_n(o, "maximum_lag_on_failover", PGC_MAX_LAG_FAILOVER);
        if (r >= 0)
                r = put_b(o, "synchronous_mode", spec->sync);
        if (r >= 0)
                r = put_b(o, "synchronous_mode_strict", spec->sync_strict);
        if (r < 0 || !(pg = obj(o, "postgresql")))
                return NULL;
        r = put_b(pg, "use_pg_rewind", true);
        if (r >= 0)
                r = put_b(pg, "use_slots", true);
        if (r < 0 || !(params = obj(pg, "parameters")))
                return NULL;
        if (dcs_parameters(spec, params) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Who may connect: this cluster's network (its members, its proxy, the services joined to it)
 * and the networks spec.allow lists; the controller's own psql runs over the unix socket. */
static int hba_lines(const PgClusterSpec *spec, cJSON *l) {
        static const char *const fixed[] = {
                "local all all trust",
                "host all all 127.0.0.1/32 scram-sha-256",
                "host replication " PGC_REPL_USER " samenet scram-sha-256",
                "host all all samenet scram-sha-256",
        };
        char line[128];
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fixed); i++)
                r = json_add_item_take(l, NULL, cJSON_CreateString(fixed[i]));
        for (char **c = spec->pg.allow_cidrs; r >= 0 && c && *c; c++) {
                snprintf(line, sizeof(line), "host all all %s scram-sha-256", *c);
                r = json_add_item_take(l, NULL, cJSON_CreateString(line));
        }
        return r;
}

int pgc_patroni_yaml(const ResourceRef *ref, const PgClusterSpec *spec, unsigned index,
                     char **ret) {
        _cleanup_json_ cJSON *doc = cJSON_CreateObject(), *initdb = NULL, *hosts = NULL;
        char member[32], addr[128], comment[256];
        cJSON *o, *boot, *pg, *auth, *l;
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        if (!doc)
                return -ENOMEM;
        r = pgc_member_name(member, sizeof(member), index);
        if (r < 0)
                return r;
        r = put_s(doc, "scope", ref->name);
        if (r >= 0)
                r = put_s(doc, "namespace", PGC_NAMESPACE);
        if (r >= 0)
                r = put_s(doc, "name", member);
        if (r >= 0 && (o = obj(doc, "log")))
                r = put_s(o, "level", "INFO");
        if (r >= 0 && (o = obj(doc, "restapi"))) {
                snprintf(addr, sizeof(addr), "%s-pg-%u:%d", ref->name, index, PGC_REST_PORT);
                r = put_s(o, "listen", "0.0.0.0:8008");
                if (r >= 0)
                        r = put_s(o, "connect_address", addr);
        }
        hosts = cJSON_CreateArray();
        if (r < 0 || !hosts)
                return -ENOMEM;
        for (int i = 0; r >= 0 && i < spec->dcs_members; i++) {
                snprintf(addr, sizeof(addr), "%s-dcs-%d:%d", ref->name, i, PGC_ETCD_PORT);
                r = json_add_item_take(hosts, NULL, cJSON_CreateString(addr));
        }
        if (r >= 0 && (o = obj(doc, "etcd3")))
                r = json_add_item_take(o, "hosts", TAKE_PTR(hosts));
        if (r < 0)
                return r;

        boot = obj(doc, "bootstrap");
        if (!boot)
                return -ENOMEM;
        r = json_add_item_take(boot, "dcs", pgc_dcs_config(spec));
        initdb = cJSON_CreateArray();
        if (r < 0 || !initdb)
                return -ENOMEM;
        if (!(o = cJSON_CreateObject()) || put_s(o, "encoding", "UTF8") < 0 ||
            json_add_item_take(initdb, NULL, o) < 0)
                return -ENOMEM;
        if (!(o = cJSON_CreateObject()) || put_s(o, "locale", "C.UTF-8") < 0 ||
            json_add_item_take(initdb, NULL, o) < 0)
                return -ENOMEM;
        r = json_add_item_take(initdb, NULL, cJSON_CreateString("data-checksums"));
        if (r >= 0)
                r = json_add_item_take(boot, "initdb", TAKE_PTR(initdb));
        if (r < 0)
                return r;

        pg = obj(doc, "postgresql");
        if (!pg)
                return -ENOMEM;
        snprintf(addr, sizeof(addr), "%s-pg-%u:%d", ref->name, index, PGC_PG_PORT);
        r = put_s(pg, "listen", "0.0.0.0:5432");
        if (r >= 0)
                r = put_s(pg, "connect_address", addr);
        if (r >= 0)
                r = put_s(pg, "data_dir", PGC_DATA_DIR);
        if (r >= 0) {
                snprintf(addr, sizeof(addr), "/usr/lib/postgresql/%s/bin", spec->pg.version);
                r = put_s(pg, "bin_dir", addr);
        }
        if (r >= 0)
                r = put_s(pg, "pgpass", "/tmp/pgpass");
        if (r >= 0)
                r = put_b(pg, "use_unix_socket", true);
        if (r < 0 || !(auth = obj(pg, "authentication")))
                return -ENOMEM;
        /* Passwords come from the environment (start.sh), never from this file. */
        if (!(o = obj(auth, "superuser")) || put_s(o, "username", "postgres") < 0 ||
            !(o = obj(auth, "replication")) || put_s(o, "username", PGC_REPL_USER) < 0 ||
            !(o = obj(auth, "rewind")) || put_s(o, "username", PGC_REWIND_USER) < 0)
                return -ENOMEM;
        if (!(o = obj(pg, "parameters")) || put_s(o, "unix_socket_directories", "/tmp") < 0)
                return -ENOMEM;
        l = cJSON_AddArrayToObject(pg, "pg_hba");
        if (!l)
                return -ENOMEM;
        r = hba_lines(spec, l);
        if (r >= 0 && (o = obj(doc, "watchdog")))
                r = put_s(o, "mode", "off");
        if (r < 0)
                return r;
        snprintf(comment, sizeof(comment),
                 "Written by berth for %s/%s member %s; changes here are overwritten.",
                 ref->project, ref->name, member);
        return yaml_from_json(doc, comment, ret);
}

/* ---- haproxy.cfg ---------------------------------------------------------------------------- */

/* Every value that goes into haproxy.cfg is a word berth made (names, ports, numbers): anything
 * else is refused rather than quoted. */
static bool cfg_word(const char *s) {
        return s && *s &&
               strspn(s,
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:/?=&") ==
                       strlen(s);
}

static int cfg_server(Buf *b, const char *name, const char *host, const char *opts) {
        if (!cfg_word(name) || !cfg_word(host))
                return -EINVAL;
        return buf_printf(b, "    server %s %s:%d %s\n", name, host, PGC_PG_PORT, opts);
}

int pgc_haproxy_cfg(const ResourceRef *ref, const PgClusterSpec *spec, char **ret) {
        _cleanup_(buf_release) Buf b = BUF_INIT(PGC_CONF_MAX);
        static const char checks[] =
                "    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1 "
                "on-marked-down shutdown-sessions observe layer4 error-limit 1 on-error mark-down "
                "resolvers docker resolve-prefer ipv4 init-addr last,libc,none\n";
        char uri[64], host[96], name[32], opts[96];
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        if (!cfg_word(ref->project) || !cfg_word(ref->name))
                return -EINVAL;
        if (spec->pg.max_lag_bytes > 0)
                snprintf(uri, sizeof(uri), "/replica?lag=%" PRIi64, spec->pg.max_lag_bytes);
        else
                snprintf(uri, sizeof(uri), "/replica");
        r = buf_printf(&b,
                       "# Written by berth for %s/%s; changes here are overwritten.\n"
                       "global\n"
                       "    maxconn 4096\n"
                       "defaults\n"
                       "    mode tcp\n"
                       "    timeout connect 500ms\n"
                       "    retries 2\n"
                       "    option redispatch 1\n"
                       "    timeout client 30m\n"
                       "    timeout server 30m\n"
                       "    timeout check 500ms\n"
                       "resolvers docker\n"
                       "    nameserver dns 127.0.0.11:53\n"
                       "    accepted_payload_size 8192\n"
                       "    resolve_retries 3\n"
                       "    timeout resolve 200ms\n"
                       "    timeout retry 200ms\n"
                       "    hold valid 1s\n"
                       "    hold other 1s\n"
                       "    hold refused 1s\n"
                       "    hold nx 1s\n"
                       "    hold timeout 1s\n"
                       "    hold obsolete 1s\n"
                       "listen stats\n"
                       "    mode http\n"
                       "    bind 127.0.0.1:%d\n"
                       "    stats enable\n"
                       "    stats uri /\n"
                       "# Writes: the member whose Patroni says it is the primary.\n"
                       "listen primary\n"
                       "    bind :%d\n"
                       "    option httpchk\n"
                       "    http-check send meth OPTIONS uri /primary\n"
                       "    http-check expect status 200\n"
                       "%s",
                       ref->project, ref->name, PGC_STATS_PORT, PGC_PG_PORT, checks);
        for (int i = 0; r >= 0 && i <= spec->standbys; i++) {
                snprintf(host, sizeof(host), "%s-pg-%d", ref->name, i);
                snprintf(name, sizeof(name), "pg-%d", i);
                snprintf(opts, sizeof(opts), "check port %d", PGC_REST_PORT);
                r = cfg_server(&b, name, host, opts);
        }
        if (r >= 0)
                r = buf_printf(&b,
                               "# Reads: standbys within the lag, else the primary (backup "
                               "servers that follow the write side's checks).\n"
                               "listen replicas\n"
                               "    bind :%d\n"
                               "    balance roundrobin\n"
                               "    option httpchk\n"
                               "    http-check send meth OPTIONS uri %s\n"
                               "    http-check expect status 200\n"
                               "%s",
                               PGC_READ_PORT, uri, checks);
        for (int i = 0; r >= 0 && i <= spec->standbys; i++) {
                snprintf(host, sizeof(host), "%s-pg-%d", ref->name, i);
                snprintf(name, sizeof(name), "pg-%d", i);
                snprintf(opts, sizeof(opts), "check port %d", PGC_REST_PORT);
                r = cfg_server(&b, name, host, opts);
        }
        for (int i = 0; r >= 0 && i <= spec->standbys; i++) {
                snprintf(host, sizeof(host), "%s-pg-%d", ref->name, i);
                snprintf(name, sizeof(name), "pg-%d-primary", i);
                snprintf(opts, sizeof(opts), "backup track primary/pg-%d", i);
                r = cfg_server(&b, name, host, opts);
        }
        if (r < 0)
                return r;
        *ret = buf_take(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- containers ----------------------------------------------------------------------------- */

/* Name, image, network, restart policy: what every container of the cluster has. */
static int base_config(const ResourceRef *ref, const char *role, unsigned index, const char *image,
                       ContainerConfig *c, Error *reterr) {
        char name[128], net[128];
        int r;

        r = name_container(name, sizeof(name), ref->project, ref->name, role, index);
        if (r >= 0)
                r = name_resource_network(net, sizeof(net), ref->project, ref->name);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "name too long for its Docker objects");
        c->name = b_strdup(name);
        c->image = b_strdup(image);
        c->network = b_strdup(net);
        c->restart_policy = b_strdup("unless-stopped");
        if (!c->name || !c->image || !c->network || !c->restart_policy)
                return -ENOMEM;
        return 0;
}

static int finish_config(const ResourceRef *ref, const char *role, unsigned index,
                         ContainerConfig *c, ContainerConfig *ret) {
        char hash[65];
        int r;

        r = container_config_hash(c, hash);
        if (r >= 0)
                r = container_add_labels(c, ref, KIND_PG_CLUSTER, role, index, hash);
        if (r < 0)
                return r;
        *ret = *c;
        *c = (ContainerConfig){};
        return 0;
}

int pgc_dcs_config_container(const ResourceRef *ref, const PgClusterSpec *spec, unsigned index,
                             ContainerConfig *ret, Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {.stop_timeout = 10};
        _cleanup_(buf_release) Buf cluster = BUF_INIT(4096);
        char vol[128];
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        r = base_config(ref, PGC_ROLE_DCS, index, "berth/etcd:3.4", &c, reterr);
        if (r < 0)
                return r;
        c.user = b_strdup("etcd");
        if (!c.user)
                return -ENOMEM;
        for (int i = 0; r >= 0 && i < spec->dcs_members; i++)
                r = buf_printf(&cluster, "%sdcs-%d=http://%s-dcs-%d:2380", i ? "," : "", i,
                               ref->name, i);
        if (r < 0)
                return r;
        r = strv_push(&c.entrypoint, "etcd");
        if (r >= 0)
                r = strv_pushf(&c.entrypoint, "--name=dcs-%u", index);
        if (r >= 0)
                r = strv_push(&c.entrypoint, "--data-dir=/var/lib/etcd/data");
        if (r >= 0)
                r = strv_push(&c.entrypoint, "--listen-client-urls=http://0.0.0.0:2379");
        if (r >= 0)
                r = strv_pushf(&c.entrypoint, "--advertise-client-urls=http://%s-dcs-%u:2379",
                               ref->name, index);
        if (r >= 0)
                r = strv_push(&c.entrypoint, "--listen-peer-urls=http://0.0.0.0:2380");
        if (r >= 0)
                r = strv_pushf(&c.entrypoint, "--initial-advertise-peer-urls=http://%s-dcs-%u:2380",
                               ref->name, index);
        if (r >= 0)
                r = strv_push(&c.entrypoint, "--initial-cluster-state=new");
        /* The resource's uuid: two clusters can never join each other's members. */
        if (r >= 0)
                r = strv_pushf(&c.entrypoint, "--initial-cluster-token=%s", ref->uuid);
        if (r >= 0)
                r = strv_pushf(&c.entrypoint, "--initial-cluster=%s", buf_str(&cluster));
        if (r >= 0)
                r = strv_push(&c.env, "ETCDCTL_API=3");
        if (r >= 0)
                r = strv_push(&c.env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        if (r >= 0)
                r = strv_pushf(&c.aliases, "%s-dcs-%u", ref->name, index);
        if (r >= 0)
                r = name_volume(vol, sizeof(vol), ref->project, ref->name, PGC_ROLE_DCS, index);
        if (r >= 0)
                r = container_config_add_volume(&c, vol, "/var/lib/etcd", false);
        if (r >= 0)
                r = container_config_add_file(&c, PGC_OBSERVE, dcs_observe_script, 0755, false);
        if (r >= 0)
                r = container_config_add_file(&c, PGC_RELEASE, release_script, 0755, false);
        if (r < 0)
                return r;
        return finish_config(ref, PGC_ROLE_DCS, index, &c, ret);
}

int pgc_member_container(const ResourceRef *ref, const PgClusterSpec *spec, const PgcObserved *obs,
                         unsigned index, ContainerConfig *ret, Error *reterr) {
        static const struct {
                const char *suffix, *path;
        } secrets[] = {
                {PGC_SECRET_SUFFIX_SUPERUSER, PGC_SECRET_SUPER},
                {PGC_SECRET_SUFFIX_REPLICATION, PGC_SECRET_REPL},
                {PGC_SECRET_SUFFIX_REWIND, PGC_SECRET_REWIND},
        };
        const int64_t versions[] = {obs ? obs->superuser_version : 0,
                                    obs ? obs->replication_version : 0,
                                    obs ? obs->rewind_version : 0};
        _cleanup_(container_config_release) ContainerConfig c = {.stop_timeout = 60};
        _cleanup_free_ char *yaml = NULL;
        char vol[128], secret[96];
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        r = base_config(ref, PGC_ROLE_MEMBER, index, spec->pg.image, &c, reterr);
        if (r < 0)
                return r;
        /* Patroni stops PostgreSQL cleanly on SIGTERM and hands the leader key over. */
        c.stop_signal = b_strdup("SIGTERM");
        if (!c.stop_signal)
                return -ENOMEM;
        r = strv_push(&c.entrypoint, "sh");
        if (r >= 0)
                r = strv_push(&c.entrypoint, PGC_SCRIPT_DIR "/start.sh");
        if (r >= 0)
                r = strv_push(&c.env, "LANG=C.UTF-8");
        if (r >= 0)
                r = strv_pushf(&c.env,
                               "PATH=/usr/lib/postgresql/%s/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               spec->pg.version);
        if (r >= 0)
                r = strv_pushf(&c.aliases, "%s-pg-%u", ref->name, index);
        if (r < 0)
                return r;
        c.nano_cpus = (int64_t) (spec->pg.cpu * 1e9);
        c.memory = spec->pg.memory;
        c.resources_live = true;

        r = name_volume(vol, sizeof(vol), ref->project, ref->name, "data", index);
        if (r >= 0)
                r = container_config_add_volume(&c, vol, "/var/lib/postgresql", false);
        if (r >= 0)
                r = container_config_add_secret_file(&c, spec->pg.password_secret,
                                                     obs ? obs->password_version : 0,
                                                     PGC_SECRET_PASSWORD);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(secrets); i++) {
                r = pgc_secret_name(secret, sizeof(secret), ref->name, secrets[i].suffix);
                if (r >= 0)
                        r = container_config_add_secret_file(&c, secret, versions[i],
                                                             secrets[i].path);
        }
        if (r >= 0)
                r = pgc_patroni_yaml(ref, spec, index, &yaml);
        if (r >= 0)
                r = container_config_add_file(&c, PGC_PATRONI_CONF, yaml, 0644, true);
        if (r >= 0)
                r = container_config_add_file(&c, PGC_SCRIPT_DIR "/start.sh", start_script, 0755,
                                              false);
        if (r >= 0)
                r = container_config_add_file(&c, PGC_BOOTSTRAP, bootstrap_script, 0755, false);
        if (r >= 0)
                r = container_config_add_file(&c, PGC_OBSERVE, member_observe_script, 0755, false);
        if (r < 0)
                return r;
        return finish_config(ref, PGC_ROLE_MEMBER, index, &c, ret);
}

int pgc_proxy_container(const ResourceRef *ref, const PgClusterSpec *spec, ContainerConfig *ret,
                        Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {.stop_timeout = 5};
        _cleanup_free_ char *cfg = NULL;
        const int inside[] = {PGC_PG_PORT, PGC_READ_PORT};
        const int outside[] = {spec->write_port, spec->read_port};
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        r = base_config(ref, PGC_ROLE_PROXY, 0, "berth/haproxy:2.6", &c, reterr);
        if (r < 0)
                return r;
        c.user = b_strdup("haproxy");
        if (!c.user)
                return -ENOMEM;
        r = strv_push(&c.entrypoint, "haproxy");
        if (r >= 0)
                r = strv_push(&c.entrypoint, "-W");
        if (r >= 0)
                r = strv_push(&c.entrypoint, "-db");
        if (r >= 0)
                r = strv_push(&c.entrypoint, "-f");
        if (r >= 0)
                r = strv_push(&c.entrypoint, PGC_HAPROXY_CONF);
        if (r >= 0)
                r = strv_push(&c.env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        /* NAME:5432 (writes) and NAME:5433 (reads) on the cluster's network. */
        if (r >= 0)
                r = strv_push(&c.aliases, ref->name);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(inside); i++) {
                PortBinding *p;

                if (outside[i] == 0)
                        continue;
                p = b_realloc(c.ports, (c.n_ports + 1) * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                c.ports = p;
                p = &c.ports[c.n_ports++];
                *p = (PortBinding){.container_port = inside[i], .host_port = outside[i]};
                p->host_ip = b_strdup(spec->bind ? spec->bind : "127.0.0.1");
                if (!p->host_ip)
                        return -ENOMEM;
        }
        r = pgc_haproxy_cfg(ref, spec, &cfg);
        if (r == -EINVAL)
                return err_set(reterr, r, "metadata.name", "cannot be written into haproxy.cfg");
        if (r >= 0)
                r = container_config_add_file(&c, PGC_HAPROXY_CONF, cfg, 0644, true);
        if (r >= 0)
                r = container_config_add_file(&c, PGC_OBSERVE, proxy_observe_script, 0755, false);
        if (r < 0)
                return r;
        return finish_config(ref, PGC_ROLE_PROXY, 0, &c, ret);
}
