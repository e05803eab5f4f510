/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "util/common.h"

#include "reconcilers/pg_single/plan.h"
#include "util/buf.h"

/* What runs in a pg_single container, rendered from the spec: the start script, the
 * configuration files and the container itself. Pure: plan() compares what it renders here with
 * what the nodes report. */

#define PG_SCRIPT_DIR         "/etc/berth"
#define PG_SECRET_PASSWORD    "/run/berth/password"
#define PG_SECRET_REPLICATION "/run/berth/replication"
#define PG_PASSFILE           "/var/lib/postgresql/.pgpass"
#define PG_CONF_MAX           (64 * 1024)

/* Runs as root (to read the 0400 secrets), prepares postgres's password file, makes the data
 * directory once (initdb on the primary, pg_basebackup on a replica) into a side directory
 * renamed into place only when complete, then becomes the postgres server (PID 1, as postgres).
 * A crash half way leaves no half-made cluster: the next start begins again. */
static const char start_script[] =
        "#!/bin/sh\n"
        "# berth pg_single node: written by berth, replaced with the container.\n"
        "set -eu\n"
        "D=" PG_DATA_DIR "\n"
        "as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups \"$@\"; }\n"
        "umask 077\n"
        "{ printf '*:*:*:" PG_REPLICATION_USER ":'; sed 's/[\\\\:]/\\\\&/g' " PG_SECRET_REPLICATION
        "; echo; } >" PG_PASSFILE "\n"
        "chown postgres:postgres " PG_PASSFILE "\n"
        "install -d -o postgres -g postgres -m 0700 /tmp/pgbackrest\n"
        "if [ ! -s \"$D/PG_VERSION\" ]; then\n"
        "  rm -rf \"$D.new\"\n"
        "  if [ \"$BERTH_PG_ROLE\" = primary ]; then\n"
        "    as_pg initdb -D \"$D.new\" -E UTF8 --locale=C.UTF-8 -U postgres --auth-local=trust "
        "\\\n"
        "      --auth-host=scram-sha-256 --data-checksums >/tmp/initdb.log 2>&1 ||\n"
        "      { cat /tmp/initdb.log >&2; exit 1; }\n"
        "  else\n"
        "    as_pg pg_basebackup -D \"$D.new\" -h \"$BERTH_PG_PRIMARY\" -U " PG_REPLICATION_USER
        " \\\n"
        "      -X stream -S \"$BERTH_PG_SLOT\" --checkpoint=fast -w\n"
        "    as_pg touch \"$D.new/standby.signal\"\n"
        "  fi\n"
        "  mv \"$D.new\" \"$D\"\n"
        "fi\n"
        "exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D \"$D\" \\\n"
        "  -c config_file=" PG_CONF_PATH "\n";

/* Run by the controller in the primary, again whenever the password changes: creates the
 * initial user and database and the replication role, and (re)sets their passwords. The
 * passwords travel through a pipe, never on a command line. $1 user, $2 database. */
static const char bootstrap_script[] =
        "#!/bin/sh\n"
        "# berth pg_single: initial user, database and replication role (idempotent).\n"
        "set -eu\n"
        "lit() { printf \"'\"; sed \"s/'/''/g\" \"$1\" | tr -d '\\n'; printf \"'\"; }\n"
        "{\n"
        "  echo \"SELECT 'CREATE ROLE \\\"$1\\\" LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles "
        "WHERE rolname = '$1')\\\\gexec\"\n"
        "  printf 'ALTER ROLE \"%s\" LOGIN PASSWORD ' \"$1\"; lit " PG_SECRET_PASSWORD
        "; echo ';'\n"
        "  echo \"SELECT 'CREATE DATABASE \\\"$2\\\" OWNER \\\"$1\\\"' WHERE NOT EXISTS (SELECT "
        "FROM "
        "pg_database WHERE datname = '$2')\\\\gexec\"\n"
        "  echo \"SELECT 'CREATE ROLE " PG_REPLICATION_USER " REPLICATION LOGIN' WHERE NOT EXISTS "
        "(SELECT FROM pg_roles WHERE rolname = '" PG_REPLICATION_USER "')\\\\gexec\"\n"
        "  printf 'ALTER ROLE " PG_REPLICATION_USER " PASSWORD '; lit " PG_SECRET_REPLICATION
        "; echo ';'\n"
        "} | psql -h /tmp -U postgres -d postgres -X -q -v ON_ERROR_STOP=1\n";

/* Run in a one-shot container with the node's volumes while the server is stopped: pgBackRest
 * restores the data directory (delta: only what differs) and leaves recovery settings that the
 * next start follows to the target, then promotes. $@: pgBackRest's target options. */
static const char restore_script[] =
        "#!/bin/sh\n"
        "# berth pg_single: restore the data directory from the repository.\n"
        "set -eu\n"
        "D=" PG_DATA_DIR "\n"
        "install -d -o postgres -g postgres -m 0700 /tmp/pgbackrest \"$D\"\n"
        "delta=\n"
        "[ -s \"$D/PG_VERSION\" ] && delta=--delta\n"
        "exec setpriv --reuid=postgres --regid=postgres --init-groups pgbackrest \\\n"
        "  --config=" PG_BACKREST_CONF_PATH " --stanza=" PG_STANZA " $delta \"$@\" restore\n";

/* A new database from another's backups (spec.restore_from), in a one-shot container with the
 * source's repository mounted read-only: restore, then recover to the target and promote right
 * here, so the new server owes nothing to the source afterwards (its recovery settings, which
 * point at the source's repository, are removed). $@: pgBackRest's target options. */
static const char clone_script[] =
        "#!/bin/sh\n"
        "# berth pg_single: a new database from another's backups.\n"
        "set -eu\n"
        "D=" PG_DATA_DIR "\n"
        "as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups \"$@\"; }\n"
        "install -d -o postgres -g postgres -m 0700 /tmp/pgbackrest \"$D\"\n"
        "delta=\n"
        "[ -s \"$D/PG_VERSION\" ] && delta=--delta\n"
        "as_pg pgbackrest --config=" PG_BACKREST_CONF_PATH " --stanza=" PG_STANZA
        " --repo1-path=" PG_SOURCE_REPO " $delta \"$@\" restore\n"
        "as_pg pg_ctl -D \"$D\" -l /tmp/recovery.log -w -t 86400 -o \"-c config_file=" PG_CONF_PATH
        " -c archive_command=/bin/true -c listen_addresses=''\" start ||\n"
        "  { cat /tmp/recovery.log >&2; exit 1; }\n"
        "until as_pg psql -h /tmp -U postgres -d postgres -XAtc 'SELECT NOT pg_is_in_recovery()' "
        "2>/dev/null | grep -q t; do\n"
        "  as_pg pg_ctl -D \"$D\" status >/dev/null || { cat /tmp/recovery.log >&2; exit 1; }\n"
        "  sleep 0.2\n"
        "done\n"
        "as_pg pg_ctl -D \"$D\" -m fast -w stop\n"
        "as_pg sed -i -e '/^restore_command/d' -e '/^recovery_target/d' "
        "\"$D/postgresql.auto.conf\"\n";

int pg_replication_secret_name(char *buf, size_t n, const char *name) {
        int k;

        assert_return(buf && name, -EINVAL);
        k = snprintf(buf, n, "%s-replication", name);
        return k < 0 || (size_t) k >= n ? -E2BIG : 0;
}

static int slot_name(char *buf, size_t n, unsigned index) {
        int k = snprintf(buf, n, "replica_%u", index);
        return k < 0 || (size_t) k >= n ? -E2BIG : 0;
}

/* Everything that is not the user's: listening, replication, archiving. The user's parameters
 * come after and win where they overlap (shared_buffers, max_connections...). */
static int render_conf(const ResourceRef *ref, const PgSingleSpec *spec, unsigned index, Buf *b) {
        char slot[32];
        int r;

        r = buf_printf(b,
                       "# Written by berth for %s/%s; changes here are overwritten.\n"
                       "listen_addresses = '*'\n"
                       "port = %d\n"
                       "unix_socket_directories = '/tmp'\n"
                       "hba_file = '%s'\n"
                       "wal_level = replica\n"
                       "max_wal_senders = 10\n"
                       "max_replication_slots = 10\n"
                       "hot_standby = on\n"
                       "wal_log_hints = on\n"
                       "archive_mode = on\n",
                       ref->project, ref->name, PG_PORT, PG_HBA_PATH);
        if (r < 0)
                return r;
        /* archive_mode is on from the start so enabling backups later needs no restart: without
         * backups the command just lets each segment go. */
        if (spec->backup.enabled)
                r = buf_printf(b,
                               "archive_command = 'pgbackrest --config=%s --stanza=%s "
                               "archive-push %%p'\n",
                               PG_BACKREST_CONF_PATH, PG_STANZA);
        else
                r = buf_printf(b, "archive_command = '/bin/true'\n");
        if (r >= 0 && spec->backup.enabled && spec->backup.pitr)
                r = buf_printf(b, "archive_timeout = 60\n");
        if (r >= 0 && spec->memory > 0)
                r = buf_printf(b, "shared_buffers = %" PRIi64 "kB\n",
                               MAX(spec->memory / 4, (int64_t) 16 << 20) / 1024);
        if (r >= 0 && index > 0 && (r = slot_name(slot, sizeof(slot), index)) >= 0)
                r = buf_printf(b,
                               "primary_conninfo = 'host=%s-primary port=%d user=%s "
                               "passfile=%s application_name=%s'\n"
                               "primary_slot_name = '%s'\n",
                               ref->name, PG_PORT, PG_REPLICATION_USER, PG_PASSFILE, slot, slot);
        if (r >= 0 && spec->n_parameters > 0)
                r = buf_printf(b, "# spec.parameters\n");
        for (size_t i = 0; r >= 0 && i < spec->n_parameters; i++) {
                const PgParameter *p = &spec->parameters[i];

                /* Values are validated (no quote or newline gets here); quote for the parser. */
                r = buf_printf(b, "%s = '%s'\n", p->name, p->value);
        }
        return r;
}

/* Who may connect. The network is the first fence: only this database's nodes and the services
 * that allow lists (or that depend on it) are attached, so `samenet` means exactly them.
 * Published ports arrive from the network's gateway, which is refused unless exposed. */
static int render_hba(const PgSingleSpec *spec, const char *gateway, Buf *b) {
        int r;

        r = buf_printf(b, "# Written by berth from spec.allow and spec.expose.\n"
                          "local all all trust\n");
        if (r >= 0 && gateway && spec->expose_port == 0)
                r = buf_printf(b, "host all all %s/32 reject\n", gateway);
        if (r >= 0)
                r = buf_printf(b, "host replication " PG_REPLICATION_USER " samenet scram-sha-256\n"
                                  "host all all samenet scram-sha-256\n");
        for (char **c = spec->allow_cidrs; r >= 0 && c && *c; c++)
                r = buf_printf(b, "host all all %s scram-sha-256\n", *c);
        return r;
}

static int render_backrest(const PgSingleSpec *spec, Buf *b) {
        const PgBackupSpec *k = &spec->backup;
        int r;

        r = buf_printf(b, "# Written by berth from spec.backup.\n[global]\n");
        /* Keys come from berth secrets through the environment (PGBACKREST_REPO1_S3_KEY...):
         * this file holds no secret. */
        if (r >= 0 && k->s3_bucket)
                r = buf_printf(b,
                               "repo1-type=s3\n"
                               "repo1-path=%s\n"
                               "repo1-s3-bucket=%s\n"
                               "repo1-s3-endpoint=%s\n"
                               "repo1-s3-region=%s\n"
                               "repo1-s3-uri-style=%s\n"
                               "repo1-storage-verify-tls=%s\n",
                               k->s3_path, k->s3_bucket, k->s3_endpoint, k->s3_region,
                               k->s3_uri_style, k->s3_verify_tls ? "y" : "n");
        else if (r >= 0)
                r = buf_printf(b, "repo1-path=/var/lib/pgbackrest\n");
        if (r >= 0)
                r = buf_printf(b,
                               "repo1-retention-full-type=time\n"
                               "repo1-retention-full=%d\n"
                               "start-fast=y\n"
                               "compress-type=lz4\n"
                               "process-max=2\n"
                               "log-path=/tmp\n"
                               "log-level-file=off\n"
                               "log-level-console=info\n"
                               "lock-path=/tmp/pgbackrest\n"
                               "\n"
                               "[%s]\n"
                               "pg1-path=%s\n"
                               "pg1-socket-path=/tmp\n"
                               "pg1-user=postgres\n",
                               k->retention_days, PG_STANZA, PG_DATA_DIR);
        return r;
}

int pg_live_files(const ResourceRef *ref, const PgSingleSpec *spec, unsigned index,
                  const char *gateway, ContainerFile **ret, size_t *ret_n) {
        _cleanup_(buf_release) Buf conf = BUF_INIT(PG_CONF_MAX), hba = BUF_INIT(PG_CONF_MAX),
                                   backrest = BUF_INIT(PG_CONF_MAX);
        ContainerFile *f;
        int r;

        assert_return(ref && spec && ret && ret_n, -EINVAL);
        r = render_conf(ref, spec, index, &conf);
        if (r >= 0)
                r = render_hba(spec, gateway, &hba);
        if (r >= 0)
                r = render_backrest(spec, &backrest);
        if (r < 0)
                return r;
        f = b_calloc(3, sizeof(*f));
        if (!f)
                return -ENOMEM;
        r = container_file_set(&f[0], PG_CONF_PATH, buf_str(&conf), conf.len, 0644, true);
        if (r >= 0)
                r = container_file_set(&f[1], PG_HBA_PATH, buf_str(&hba), hba.len, 0644, true);
        if (r >= 0)
                r = container_file_set(&f[2], PG_BACKREST_CONF_PATH, buf_str(&backrest),
                                       backrest.len, 0644, true);
        if (r < 0) {
                container_files_free(f, 3);
                return r;
        }
        *ret = f;
        *ret_n = 3;
        return 0;
}

static int add_files(const ResourceRef *ref, const PgSingleSpec *spec, unsigned index,
                     const char *gateway, ContainerConfig *c) {
        static const struct {
                const char *path;
                const char *content;
        } scripts[] = {
                {PG_SCRIPT_DIR "/start.sh", start_script},
                {PG_SCRIPT_DIR "/bootstrap.sh", bootstrap_script},
                {PG_SCRIPT_DIR "/restore.sh", restore_script},
                {PG_SCRIPT_DIR "/clone.sh", clone_script},
        };
        _cleanup_free_ ContainerFile *live = NULL;
        size_t n_live = 0;
        int r;

        r = pg_live_files(ref, spec, index, gateway, &live, &n_live);
        if (r < 0)
                return r;
        c->files = b_calloc(ELEMENTSOF(scripts) + n_live, sizeof(ContainerFile));
        if (!c->files) {
                container_files_free(TAKE_PTR(live), n_live);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_live; i++)
                c->files[c->n_files++] = live[i];
        for (size_t i = 0; i < ELEMENTSOF(scripts); i++) {
                r = container_file_set(&c->files[c->n_files], scripts[i].path, scripts[i].content,
                                       strlen(scripts[i].content), 0755, false);
                c->n_files++;
                if (r < 0)
                        return r;
        }
        return 0;
}

int pg_container_config(const ResourceRef *ref, const PgSingleSpec *spec, const PgObserved *obs,
                        unsigned index, ContainerConfig *ret, Error *reterr) {
        _cleanup_(container_config_release) ContainerConfig c = {.stop_timeout = 60};
        const char *role = index == 0 ? PG_ROLE_PRIMARY : PG_ROLE_REPLICA;
        char name[128], net[128], vol[128], repl[96], slot[32], hash[65];
        int r;

        assert_return(ref && spec && ret, -EINVAL);
        r = name_container(name, sizeof(name), ref->project, ref->name, role, index);
        if (r >= 0)
                r = name_resource_network(net, sizeof(net), ref->project, ref->name);
        if (r >= 0)
                r = pg_replication_secret_name(repl, sizeof(repl), ref->name);
        if (r >= 0)
                r = slot_name(slot, sizeof(slot), index);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "name too long for its Docker objects");

        c.name = b_strdup(name);
        c.image = b_strdup(spec->image);
        c.network = b_strdup(net);
        c.restart_policy = b_strdup("unless-stopped");
        /* SIGINT is PostgreSQL's fast shutdown: clients are cut, nothing committed is lost. */
        c.stop_signal = b_strdup("SIGINT");
        if (!c.name || !c.image || !c.network || !c.restart_policy || !c.stop_signal)
                return -ENOMEM;
        r = strv_push(&c.entrypoint, "sh");
        if (r >= 0)
                r = strv_push(&c.entrypoint, PG_SCRIPT_DIR "/start.sh");
        if (r >= 0)
                r = strv_push(&c.env, "LANG=C.UTF-8");
        if (r >= 0)
                r = strv_pushf(&c.env,
                               "PATH=/usr/lib/postgresql/%s/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               spec->version);
        if (r >= 0)
                r = strv_push(&c.env, "PGPASSFILE=" PG_PASSFILE);
        if (r >= 0)
                r = strv_pushf(&c.env, "BERTH_PG_ROLE=%s", role);
        if (r >= 0 && index > 0)
                r = strv_pushf(&c.env, "BERTH_PG_PRIMARY=%s-primary", ref->name);
        if (r >= 0 && index > 0)
                r = strv_pushf(&c.env, "BERTH_PG_SLOT=%s", slot);
        /* DNS on the database's network: NAME and NAME-primary reach the primary, NAME-read any
         * replica (Docker answers a shared alias with each of its holders). */
        if (r >= 0 && index == 0)
                r = strv_push(&c.aliases, ref->name);
        if (r >= 0 && index == 0)
                r = strv_pushf(&c.aliases, "%s-primary", ref->name);
        if (r >= 0 && index > 0)
                r = strv_pushf(&c.aliases, "%s-read", ref->name);
        if (r >= 0 && index > 0)
                r = strv_pushf(&c.aliases, "%s-replica-%u", ref->name, index);
        if (r < 0)
                return r;

        c.nano_cpus = (int64_t) (spec->cpu * 1e9);
        c.memory = spec->memory;
        c.resources_live = true;
        if (index == 0 && spec->expose_port > 0) {
                c.ports = b_calloc(1, sizeof(PortBinding));
                if (!c.ports)
                        return -ENOMEM;
                c.n_ports = 1;
                c.ports[0].container_port = PG_PORT;
                c.ports[0].host_port = spec->expose_port;
                c.ports[0].host_ip = b_strdup(spec->expose_bind ? spec->expose_bind : "127.0.0.1");
                if (!c.ports[0].host_ip)
                        return -ENOMEM;
        }

        r = name_volume(vol, sizeof(vol), ref->project, ref->name, "data", index);
        if (r >= 0)
                r = container_config_add_volume(&c, vol, "/var/lib/postgresql", false);
        /* The repository is mounted whether or not backups are on: turning them on later is a
         * reload, not a new container. */
        if (r >= 0 && index == 0 &&
            (r = name_volume(vol, sizeof(vol), ref->project, ref->name, "backup", 0)) >= 0)
                r = container_config_add_volume(&c, vol, "/var/lib/pgbackrest", false);
        if (r >= 0 && index == 0)
                r = container_config_add_secret_file(&c, spec->password_secret,
                                                     obs ? obs->password_version : 0,
                                                     PG_SECRET_PASSWORD);
        if (r >= 0)
                r = container_config_add_secret_file(&c, repl, obs ? obs->replication_version : 0,
                                                     PG_SECRET_REPLICATION);
        /* pgBackRest's S3 keys, for archive-push (the server's children) and berth's execs. */
        if (r >= 0 && spec->backup.s3_bucket)
                r = container_config_add_secret_env(&c, spec->backup.s3_access_key_secret,
                                                    obs ? obs->s3_access_key_version : 0,
                                                    "PGBACKREST_REPO1_S3_KEY");
        if (r >= 0 && spec->backup.s3_bucket)
                r = container_config_add_secret_env(&c, spec->backup.s3_secret_key_secret,
                                                    obs ? obs->s3_secret_key_version : 0,
                                                    "PGBACKREST_REPO1_S3_KEY_SECRET");
        if (r >= 0)
                r = add_files(ref, spec, index, obs ? obs->gateway : NULL, &c);
        if (r < 0)
                return r;

        r = container_config_hash(&c, hash);
        if (r >= 0)
                r = container_add_labels(&c, ref, KIND_PG_SINGLE, role, index, hash);
        if (r < 0)
                return r;
        *ret = c;
        c = (ContainerConfig){};
        return 0;
}

/* One JSON object per node; see PgNodeObserved. On a replica pg_current_wal_lsn() would fail,
 * but pg_stat_replication is empty there, so it is never called. */
char *pg_status_query(const PgSingleSpec *spec) {
        _cleanup_(buf_release) Buf b = BUF_INIT(16 * 1024);

        if (buf_printf(
                    &b,
                    "SELECT json_build_object("
                    "'version', current_setting('server_version'), "
                    "'in_recovery', pg_is_in_recovery(), "
                    "'size_bytes', (SELECT sum(pg_database_size(oid)) FROM pg_database)::bigint, "
                    "'connections', (SELECT count(*) FROM pg_stat_activity "
                    "WHERE backend_type = 'client backend')::int - 1, "
                    "'max_connections', current_setting('max_connections')::int, "
                    "'pending_restart', (SELECT coalesce(json_agg(name ORDER BY name), '[]') "
                    "FROM pg_settings WHERE pending_restart), "
                    "'conf_sha256', encode(sha256(pg_read_binary_file('%s')), 'hex'), "
                    "'hba_sha256', encode(sha256(pg_read_binary_file('%s')), 'hex'), "
                    "'backrest_sha256', encode(sha256(pg_read_binary_file('%s')), 'hex'), "
                    "'bootstrapped', EXISTS (SELECT FROM pg_database WHERE datname = '%s') "
                    "AND EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') "
                    "AND EXISTS (SELECT FROM pg_roles WHERE rolname = '%s'), "
                    "'slots', (SELECT coalesce(json_agg(slot_name ORDER BY slot_name), '[]') "
                    "FROM pg_replication_slots), "
                    "'replication', (SELECT coalesce(json_agg(json_build_object("
                    "'name', application_name, 'state', state, "
                    "'lag_bytes', coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0), "
                    "'lag_seconds', coalesce(extract(epoch FROM replay_lag), 0))), '[]') "
                    "FROM pg_stat_replication))",
                    PG_CONF_PATH, PG_HBA_PATH, PG_BACKREST_CONF_PATH, spec->initial_db_name,
                    spec->initial_user, PG_REPLICATION_USER) < 0)
                return NULL;
        return buf_take(&b);
}
