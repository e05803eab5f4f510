/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "util/common.h"

#include "model/json-util.h"
#include "model/schedule.h"
#include "reconcilers/pg_single/plan.h"

/* One pass of the pg_single reconciler, decided from what observe() saw: secrets, network and
 * volumes first; then the primary (create, start, configure, bootstrap); its replicas once it
 * answers; queued actions (backup, restore, vacuum) and schedules; then the status. Every
 * action is idempotent and named by its target, so a crash anywhere is resumed by the next
 * pass. Pure: `now` is given, nothing is read here. */

#define REQUEUE_NOW          (20 * USEC_PER_MSEC)  /* an object this pass made is needed next */
#define REQUEUE_STARTING     (200 * USEC_PER_MSEC) /* a server is starting: ask again soon */
#define REQUEUE_RUNNING      (30 * USEC_PER_SEC)   /* refresh lag, size and connections */
#define REQUEUE_AFTER_RELOAD (500 * USEC_PER_MSEC) /* read pending_restart after a reload */
#define REQUEST_POLL         (2 * USEC_PER_SEC)    /* a queued action waits for a running one */
#define FULL_BACKUP_EVERY    ((usec_t) 7 * 24 * 3600 * USEC_PER_SEC) /* auto: a full one a week */

typedef struct PgPass {
        const ResourceRef *ref;
        const PgSingleSpec *spec;
        const PgObserved *obs;
        usec_t now;
        Plan *plan;
        cJSON *extra;        /* status members of this kind */
        cJSON *pending;      /* disruptive changes waiting for the maintenance window */
        const char *message; /* the one line of the status, static or in msgbuf */
        char msgbuf[512];
        Phase phase;
        usec_t requeue;
        bool primary_ready;     /* answered, out of recovery, bootstrapped */
        bool restarting;        /* this pass restarts the primary */
        bool restored_from_now; /* this pass makes the data from restore_from */
        const char *doing;      /* what converge_node() does to a node: creating, replacing... */
        bool restore_planned;   /* this pass restores in place: a full backup follows */
        bool backup_after_restore_done; /* this pass takes that backup */
} PgPass;

static void requeue(PgPass *p, usec_t after) {
        if (p->requeue == 0 || after < p->requeue)
                p->requeue = after;
}

static void say(PgPass *p, Phase phase, const char *fmt, ...) _printf_(3, 4);
static void say(PgPass *p, Phase phase, const char *fmt, ...) {
        va_list ap;

        /* The first complaint wins: it is the one blocking the others. */
        if (p->message)
                return;
        va_start(ap, fmt);
        vsnprintf(p->msgbuf, sizeof(p->msgbuf), fmt, ap);
        va_end(ap);
        p->message = p->msgbuf;
        p->phase = phase;
}

static const ObservedContainer *find_node(const PgObserved *o, const char *role, unsigned index,
                                          const PgNodeObserved **ret_node) {
        for (size_t i = 0; i < o->n_containers; i++) {
                const ObservedContainer *c = &o->containers[i];

                if (c->role && streq(c->role, role) && c->index == (int) index) {
                        if (ret_node)
                                *ret_node = o->nodes ? &o->nodes[i] : NULL;
                        return c;
                }
        }
        if (ret_node)
                *ret_node = NULL;
        return NULL;
}

static bool is_running(const ObservedContainer *c) {
        return c && c->state && streq(c->state, "running");
}

static char *join(char **l) {
        _cleanup_(buf_release) Buf b = BUF_INIT(4096);

        for (char **s = l; s && *s; s++)
                if (buf_printf(&b, "%s%s", s == l ? "" : ", ", *s) < 0)
                        return NULL;
        return buf_take(&b);
}

static int put_str(cJSON *o, const char *key, const char *v) {
        return json_add_item_take(o, key, cJSON_CreateString(v));
}

static int put_int(cJSON *o, const char *key, int64_t v) {
        return json_add_item_take(o, key, cJSON_CreateNumber((double) v));
}

/* A disruptive change (a new container, a restart) runs inside the maintenance window only;
 * outside it waits and says so. Returns true when it may run now. */
static bool window_allows(PgPass *p, const char *what) {
        MaintenanceWindow w;
        char when[40], line[256];
        usec_t open;

        if (!p->spec->maintenance.window ||
            window_parse(p->spec->maintenance.window, &w, NULL) < 0 || window_contains(&w, p->now))
                return true;
        open = window_next_open(&w, p->now);
        snprintf(line, sizeof(line), "%s waits for the maintenance window (opens %s)", what,
                 format_rfc3339_exact(open, when, sizeof(when)));
        DISCARD(json_add_item_take(p->pending, NULL, cJSON_CreateString(line)));
        requeue(p, open > p->now ? open - p->now : REQUEUE_NOW);
        return false;
}

static int container_for(PgPass *p, unsigned index, ContainerConfig **ret, Error *reterr) {
        _cleanup_free_ ContainerConfig *c = b_calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        r = pg_container_config(p->ref, p->spec, p->obs, index, c, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* Makes node `index` exist, run, and match its config; true when it runs as wanted. */
static int converge_node(PgPass *p, unsigned index, bool *ret_ok, Error *reterr) {
        const char *role = index == 0 ? PG_ROLE_PRIMARY : PG_ROLE_REPLICA;
        const PgNodeObserved *n = NULL;
        const ObservedContainer *c = find_node(p->obs, role, index, &n);
        ContainerConfig *want = NULL;
        bool deferred;
        char hash[65], what[96];
        int r;

        *ret_ok = false;
        r = container_for(p, index, &want, reterr);
        if (r < 0)
                return r;
        r = container_config_hash(want, hash);
        if (r < 0) {
                container_config_release(want);
                b_free(want);
                return r;
        }
        /* initdb and the first start run without the CPU limit (dev_single's half core doubles
         * them); the limit follows with docker update once the server answers. */
        if (!c || !c->config_hash || !streq(c->config_hash, hash))
                want->nano_cpus = 0;
        if (!c) {
                requeue(p, REQUEUE_STARTING);
                p->doing = "creating";
                return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL, "missing",
                                want);
        }
        if (!c->config_hash || !streq(c->config_hash, hash)) {
                snprintf(what, sizeof(what), "replacing %s (configuration changed)", c->name);
                if (is_running(c) && !window_allows(p, what)) {
                        container_config_release(want);
                        b_free(want);
                        *ret_ok = true; /* the old one serves until the window */
                        return 0;
                }
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id, "config changed",
                             NULL);
                if (r < 0) {
                        container_config_release(want);
                        b_free(want);
                        return r;
                }
                requeue(p, REQUEUE_STARTING);
                p->doing = "replacing";
                return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL,
                                "config changed", want);
        }
        deferred = c->has_resources && c->nano_cpus == 0 && want->nano_cpus != 0 &&
                   c->memory == want->memory;
        if (is_running(c) && c->has_resources &&
            (c->nano_cpus != want->nano_cpus || c->memory != want->memory) &&
            (!deferred || (n && n->answered))) {
                /* Docker changes limits of a running container: no restart for a resize. */
                snprintf(what, sizeof(what), "%.2g CPU, %" PRIi64 " MiB%s", want->nano_cpus / 1e9,
                         want->memory >> 20, deferred ? ", the CPU limit once started" : "");
                if (!deferred)
                        snprintf(p->plan->operation, sizeof(p->plan->operation), "resize");
                *ret_ok = true;
                return plan_add(p->plan, ACTION_UPDATE_RESOURCES, c->name, c->id, what, want);
        }
        container_config_release(want);
        b_free(want);
        if (!is_running(c)) {
                /* Docker is already restarting it (its restart policy): let it. */
                if (c->state && streq(c->state, "restarting")) {
                        requeue(p, REQUEUE_STARTING);
                        p->doing = "restarting";
                        return 0;
                }
                requeue(p, REQUEUE_STARTING);
                p->doing = "starting";
                return plan_add(p->plan, ACTION_START_CONTAINER, c->name, c->id, "stopped", NULL);
        }
        /* The restart action: a server running since before it is restarted (in the
         * maintenance window, if there is one). */
        if (p->ref->restart_after > 0 && c->started_at > 0 &&
            c->started_at < p->ref->restart_after) {
                snprintf(what, sizeof(what), "restart of %s (requested)", c->name);
                *ret_ok = true;
                if (!window_allows(p, what))
                        return 0;
                snprintf(p->plan->operation, sizeof(p->plan->operation), "restart");
                requeue(p, REQUEUE_STARTING);
                if (index == 0)
                        p->restarting = true;
                return plan_add(p->plan, ACTION_RESTART_CONTAINER, c->name, c->id, "requested",
                                NULL);
        }
        *ret_ok = true;
        return 0;
}

static int psql_exec(PgPass *p, const char *container, const char *reason, const char *sql) {
        char *const argv[] = {(char *) "psql",
                              (char *) "-h",
                              (char *) "/tmp",
                              (char *) "-U",
                              (char *) "postgres",
                              (char *) "-d",
                              (char *) "postgres",
                              (char *) "-XAtq",
                              (char *) "-v",
                              (char *) "ON_ERROR_STOP=1",
                              (char *) "-c",
                              (char *) sql,
                              NULL};
        return plan_add_exec(p->plan, container, reason, argv);
}

static int backrest_exec(PgPass *p, const char *container, const char *reason, const char *cmd,
                         const char *type) {
        char type_opt[32];
        char *argv[12];
        size_t n = 0;

        argv[n++] = (char *) "setpriv";
        argv[n++] = (char *) "--reuid=postgres";
        argv[n++] = (char *) "--regid=postgres";
        argv[n++] = (char *) "--init-groups";
        argv[n++] = (char *) "pgbackrest";
        argv[n++] = (char *) "--config=" PG_BACKREST_CONF_PATH;
        argv[n++] = (char *) "--stanza=" PG_STANZA;
        if (type) {
                snprintf(type_opt, sizeof(type_opt), "--type=%s", type);
                argv[n++] = type_opt;
        }
        argv[n++] = (char *) cmd;
        argv[n] = NULL;
        return plan_add_exec(p->plan, container, reason, argv);
}

static const char *backup_type(const PgObserved *o, PgBackupType t, usec_t now) {
        switch (t) {
        case PG_BACKUP_FULL:
                return "full";
        case PG_BACKUP_DIFF:
                return "diff";
        case PG_BACKUP_INCR:
                return "incr";
        default:
                break;
        }
        /* auto: a differential refers to a full one; a full one a week, so that time-based
         * retention can expire the oldest and the WAL kept since. */
        for (size_t i = 0; i < o->n_backups; i++)
                if (o->backups[i].type && streq(o->backups[i].type, "full") &&
                    o->backups[i].finished + FULL_BACKUP_EVERY > now)
                        return "diff";
        return "full";
}

static usec_t newest_backup_start(const PgObserved *o) {
        usec_t t = 0;

        for (size_t i = 0; i < o->n_backups; i++)
                t = MAX(t, o->backups[i].started);
        return t;
}

static usec_t newest_backup(const PgObserved *o) {
        usec_t t = 0;

        for (size_t i = 0; i < o->n_backups; i++)
                t = MAX(t, o->backups[i].finished);
        return t;
}

static int add_time(cJSON *o, const char *key, usec_t t) {
        char buf[40];

        if (t == 0)
                return json_add_item_take(o, key, cJSON_CreateNull());
        return json_add_item_take(o, key,
                                  cJSON_CreateString(format_rfc3339_exact(t, buf, sizeof(buf))));
}

static int add_request_finish(PgPass *p, const char *what) {
        char id[32];

        snprintf(id, sizeof(id), "%" PRIi64, p->obs->request_id);
        return plan_add(p->plan, ACTION_FINISH_REQUEST, id, NULL, what, NULL);
}

/* pgBackRest's options for a restore target. */
static int restore_args(const PgAction *a, char ***ret) {
        char opt[128], when[40];
        int r;

        if (a->backup) {
                snprintf(opt, sizeof(opt), "--set=%s", a->backup);
                r = strv_push(ret, opt);
                if (r >= 0)
                        r = strv_push(ret, "--type=immediate");
        } else if (a->target_time > 0) {
                /* recovery_target_time takes "YYYY-MM-DD HH:MM:SS.ffffff+00". */
                format_rfc3339_exact(a->target_time, when, sizeof(when));
                when[10] = ' ';
                if (when[strlen(when) - 1] == 'Z')
                        when[strlen(when) - 1] = 0;
                snprintf(opt, sizeof(opt), "--target=%s+00", when);
                r = strv_push(ret, "--type=time");
                if (r >= 0)
                        r = strv_push(ret, opt);
        } else
                r = strv_push(ret, "--type=default");
        if (r >= 0 && (a->backup || a->target_time > 0))
                r = strv_push(ret, "--target-action=promote");
        return r;
}

/* A one-shot container for pgBackRest work on the primary's volumes: the primary's image,
 * volumes and files under a name of its own ("<project>-<name>-<role>-0"), running `script`
 * with `args`, no ports, no restarts. */
static int oneshot_config(PgPass *p, const char *role, const char *script, char **args,
                          ContainerConfig **ret, Error *reterr) {
        ContainerConfig *run = NULL;
        char name[128];
        int r;

        r = container_for(p, 0, &run, reterr);
        if (r < 0)
                return r;
        r = name_container(name, sizeof(name), p->ref->project, p->ref->name, role, 0);
        if (r >= 0) {
                b_free(run->name);
                run->name = b_strdup(name);
                r = run->name ? 0 : -ENOMEM;
        }
        if (r >= 0) {
                run->entrypoint = strv_free(run->entrypoint);
                r = strv_push(&run->entrypoint, "sh");
                if (r >= 0)
                        r = strv_push(&run->entrypoint, script);
                for (char **a = args; r >= 0 && a && *a; a++)
                        r = strv_push(&run->entrypoint, *a);
        }
        if (r >= 0) {
                run->ports = mfree(run->ports);
                run->n_ports = 0;
                b_free(run->restart_policy);
                run->restart_policy = b_strdup("no");
                r = run->restart_policy ? 0 : -ENOMEM;
        }
        if (r < 0) {
                container_config_release(run);
                b_free(run);
                return r;
        }
        *ret = run;
        return 0;
}

/* restore_from: before the primary's first start, its data directory is made from the source's
 * backups, recovered and promoted in a one-shot container with the source's repository mounted
 * read-only. Done once: status.restored_from records it. */
static int plan_restore_from(PgPass *p, bool *ret_wait, Error *reterr) {
        _cleanup_strv_free_ char **args = NULL;
        ContainerConfig *run = NULL;
        char vol[128];
        int r;

        *ret_wait = false;
        if (!p->spec->restore_from || p->obs->source_restored ||
            find_node(p->obs, PG_ROLE_PRIMARY, 0, NULL))
                return 0;
        if (p->obs->source_failed_generation == p->ref->generation) {
                /* Its own output is in the operation's log; running it again would fail alike. */
                say(p, PHASE_FAILED,
                    "starting from the backups of %s failed (apply another restore_from target, "
                    "or delete): %s",
                    p->spec->restore_from, strna(p->obs->source_error));
                *ret_wait = true;
                return 0;
        }
        if (!p->obs->source_repo_exists) {
                say(p, PHASE_FAILED,
                    "pg_single %s has no backup repository to start from (is it there, with "
                    "backups enabled?)",
                    p->spec->restore_from);
                *ret_wait = true;
                return 0;
        }
        r = name_volume(vol, sizeof(vol), p->ref->project, p->spec->restore_from, "backup", 0);
        if (r >= 0)
                r = restore_args(&p->spec->restore_target, &args);
        if (r >= 0)
                r = oneshot_config(p, "clone", "/etc/berth/clone.sh", args, &run, reterr);
        if (r < 0)
                return r;
        if (container_config_add_volume(run, vol, PG_SOURCE_REPO, true) < 0) {
                container_config_release(run);
                b_free(run);
                return -ENOMEM;
        }
        /* The target may lie in the source's current WAL segment: pgBackRest's check switches
         * segments and waits until the repository has it. */
        if (p->obs->source_primary && p->spec->restore_target.target_time > 0)
                r = psql_exec(p, p->obs->source_primary, "commit a marker transaction",
                              "SELECT txid_current()");
        if (r >= 0 && p->obs->source_primary) {
                r = backrest_exec(p, p->obs->source_primary, "archive the source's current WAL",
                                  "check", NULL);
                if (r < 0) {
                        container_config_release(run);
                        b_free(run);
                        return r;
                }
        }
        r = plan_add(p->plan, ACTION_RUN_TO_COMPLETION, run->name, NULL,
                     "restore from the source's backups", run);
        if (r < 0)
                return r;
        p->restored_from_now = true;
        snprintf(p->plan->operation, sizeof(p->plan->operation), "clone");
        return 0;
}

/* Restore in place: replicas go (they follow the old history and are rebuilt), the primary
 * stops, pgBackRest restores its data directory in a one-shot container, the request is marked
 * done, and only then the primary starts and recovers to the target. A crash before the mark
 * repeats the restore (nothing was written since the stop); after it, the primary just starts. */
static int plan_restore(PgPass *p, Error *reterr) {
        const ObservedContainer *prim = find_node(p->obs, PG_ROLE_PRIMARY, 0, NULL);
        _cleanup_strv_free_ char **args = NULL;
        ContainerConfig *run = NULL;
        int r;

        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                char vol[128];

                if (!c->role || !streq(c->role, PG_ROLE_REPLICA))
                        continue;
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id,
                             "rebuilt after the restore", NULL);
                if (r >= 0 && c->index > 0 &&
                    name_volume(vol, sizeof(vol), p->ref->project, p->ref->name, "data",
                                (unsigned) c->index) >= 0)
                        r = plan_add(p->plan, ACTION_REMOVE_VOLUME, vol, NULL,
                                     "rebuilt after the restore", NULL);
                if (r < 0)
                        return r;
        }
        if (prim && is_running(prim) && p->obs->request.target_time > 0) {
                /* Recovery to a time stops at the first commit after it: make sure there is one
                 * (a quiet database's last commit may predate the target). The shutdown below
                 * archives the WAL that holds it. */
                r = psql_exec(p, prim->name, "commit a marker transaction",
                              "SELECT txid_current()");
                if (r < 0)
                        return r;
        }
        if (prim) {
                r = plan_add(p->plan, ACTION_STOP_CONTAINER, prim->name, prim->id,
                             "restore needs the server stopped", NULL);
                if (r < 0)
                        return r;
        }
        p->restore_planned = true;
        r = restore_args(&p->obs->request, &args);
        if (r >= 0)
                r = oneshot_config(p, "restore", "/etc/berth/restore.sh", args, &run, reterr);
        if (r < 0)
                return r;
        r = plan_add(p->plan, ACTION_RUN_TO_COMPLETION, run->name, NULL, "pgbackrest restore", run);
        if (r >= 0)
                r = add_request_finish(p, "restored");
        if (r < 0)
                return r;
        if (prim)
                r = plan_add(p->plan, ACTION_START_CONTAINER, prim->name, prim->id,
                             "recover to the restore target", NULL);
        else {
                ContainerConfig *want = NULL;

                r = container_for(p, 0, &want, reterr);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL,
                                     "recover to the restore target", want);
        }
        snprintf(p->plan->operation, sizeof(p->plan->operation), "restore");
        requeue(p, REQUEUE_STARTING);
        say(p, PHASE_PROVISIONING, "restoring from the backup repository");
        return r;
}

/* Queued actions run one at a time, in order, once the primary answers. */
static int plan_request(PgPass *p, const char *primary, bool *ret_exclusive, Error *reterr) {
        const PgAction *a = &p->obs->request;
        char *const vacuum[] = {
                (char *) "vacuumdb", (char *) "-h",    (char *) "/tmp",      (char *) "-U",
                (char *) "postgres", (char *) "--all", (char *) "--analyze", NULL};
        int r;

        *ret_exclusive = false;
        if (!p->obs->has_request || p->obs->request_error)
                return 0;
        switch (a->type) {
        case PG_ACTION_RESTORE:
                *ret_exclusive = true;
                return plan_restore(p, reterr);
        case PG_ACTION_BACKUP:
                if (!p->primary_ready || !p->obs->stanza_exists) {
                        say(p, PHASE_PROVISIONING,
                            "backup waits for the primary and its repository");
                        return 0;
                }
                snprintf(p->plan->operation, sizeof(p->plan->operation), "backup");
                /* A backup this request started before a controller restart may still run, or
                 * have finished meanwhile: wait for it, or count it, rather than start another
                 * (pgBackRest would refuse: its lock is held). */
                if (p->obs->backup_running) {
                        say(p, PHASE_RUNNING, "a backup is running");
                        requeue(p, REQUEST_POLL);
                        p->plan->operation[0] = 0;
                        return 0;
                }
                if (p->obs->request_running &&
                    newest_backup_start(p->obs) >= p->obs->request_created) {
                        r = 0;
                        break;
                }
                r = backrest_exec(p, primary, "backup", "backup",
                                  backup_type(p->obs, a->backup_type, p->now));
                requeue(p, REQUEUE_NOW); /* show the new backup at once */
                break;
        case PG_ACTION_VACUUM:
                if (!p->primary_ready)
                        return 0;
                r = plan_add_exec(p->plan, primary, "vacuum analyze", vacuum);
                snprintf(p->plan->operation, sizeof(p->plan->operation), "vacuum");
                break;
        default:
                return 0;
        }
        if (r >= 0)
                r = add_request_finish(p, "done");
        return r;
}

static int plan_node_config(PgPass *p, unsigned index, const ObservedContainer *c,
                            const PgNodeObserved *n) {
        _cleanup_free_ ContainerFile *files = NULL;
        char conf[65], hba[65], backrest[65];
        size_t nf = 0;
        int r;

        r = pg_live_files(p->ref, p->spec, index, p->obs->gateway, &files, &nf);
        if (r < 0)
                return r;
        r = sha256_hex(files[0].content, files[0].size, conf);
        if (r >= 0)
                r = sha256_hex(files[1].content, files[1].size, hba);
        if (r >= 0)
                r = sha256_hex(files[2].content, files[2].size, backrest);
        if (r < 0 || (streq(conf, n->conf_sha256) && streq(hba, n->hba_sha256) &&
                      streq(backrest, n->backrest_sha256))) {
                for (size_t i = 0; i < nf; i++) {
                        b_free(files[i].path);
                        b_free(files[i].content);
                }
                return r;
        }
        /* New settings are written in place and reloaded; those the server takes only at start
         * show up as pending_restart on the next pass. */
        r = plan_add_files(p->plan, c->name, "configuration changed", TAKE_PTR(files), nf);
        if (r >= 0)
                r = psql_exec(p, c->name, "reload configuration", "SELECT pg_reload_conf()");
        requeue(p, REQUEUE_AFTER_RELOAD);
        return r;
}

static int plan_restart_pending(PgPass *p, const ObservedContainer *c, const PgNodeObserved *n) {
        _cleanup_free_ char *names = NULL;
        char what[256];

        if (!n->pending_restart || !n->pending_restart[0])
                return 0;
        names = join(n->pending_restart);
        if (!names)
                return -ENOMEM;
        snprintf(what, sizeof(what), "restart of %s for %s", c->name, names);
        DISCARD(json_add_item_take(p->extra, "pending_restart", cJSON_CreateString(names)));
        if (!window_allows(p, what))
                return 0;
        snprintf(p->plan->operation, sizeof(p->plan->operation), "restart");
        requeue(p, REQUEUE_STARTING);
        /* Nothing else talks to a server that is going down this pass. */
        if (c->role && streq(c->role, PG_ROLE_PRIMARY))
                p->restarting = true;
        return plan_add(p->plan, ACTION_RESTART_CONTAINER, c->name, c->id, what, NULL);
}

static int plan_bootstrap(PgPass *p, const ObservedContainer *c, const PgNodeObserved *n) {
        char *const argv[] = {(char *) "sh", (char *) "/etc/berth/bootstrap.sh",
                              p->spec->initial_user, p->spec->initial_db_name, NULL};

        if (n->bootstrapped && p->obs->applied_password_version == p->obs->password_version)
                return 0;
        return plan_add_exec(p->plan, c->name,
                             n->bootstrapped ? "set the password" : "create user and database",
                             argv);
}

static int plan_slots(PgPass *p, const ObservedContainer *c, const PgNodeObserved *n) {
        char slot[32], sql[256];
        int r;

        for (int i = 1; i <= p->spec->read_replicas; i++) {
                snprintf(slot, sizeof(slot), "replica_%d", i);
                if (strv_contains(n->slots, slot))
                        continue;
                snprintf(sql, sizeof(sql),
                         "SELECT pg_create_physical_replication_slot('%s') WHERE NOT EXISTS "
                         "(SELECT FROM pg_replication_slots WHERE slot_name = '%s')",
                         slot, slot);
                r = psql_exec(p, c->name, "create a replication slot", sql);
                if (r < 0)
                        return r;
                requeue(p, REQUEUE_NOW); /* its replica needs it next */
        }
        /* A slot keeps WAL for its replica forever: drop those of replicas that are gone. */
        for (char **s = n->slots; s && *s; s++) {
                unsigned k;
                char tail;

                if (sscanf(*s, "replica_%u%c", &k, &tail) != 1 ||
                    k <= (unsigned) p->spec->read_replicas ||
                    find_node(p->obs, PG_ROLE_REPLICA, k, NULL))
                        continue;
                snprintf(sql, sizeof(sql),
                         "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                         "WHERE slot_name = '%s' AND NOT active",
                         *s);
                r = psql_exec(p, c->name, "drop a replication slot", sql);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Scheduled backups: the first as soon as the repository exists (a base for PITR), then on
 * the schedule, counted from the later of the last scheduled run and the newest backup. */
static int plan_backup_schedule(PgPass *p, const char *primary, bool busy) {
        const PgBackupSpec *b = &p->spec->backup;
        cJSON *st = cJSON_AddObjectToObject(p->extra, "backup");
        usec_t last, next = 0, newest = newest_backup(p->obs);
        const char *last_error;
        Schedule sched;
        int r = 0;

        if (!st)
                return -ENOMEM;
        r = json_add_item_take(st, "enabled", cJSON_CreateBool(b->enabled));
        if (r < 0 || !b->enabled)
                return r;
        last = MAX(p->obs->last_scheduled_backup, newest);
        /* A failed scheduled run's error stays until a backup succeeds after it. */
        last_error = p->obs->backup_error                     ? p->obs->backup_error
                     : newest < p->obs->last_scheduled_backup ? p->obs->last_backup_error
                                                              : NULL;
        if (schedule_parse(b->schedule, &sched, NULL) >= 0 && last > 0)
                next = schedule_next(&sched, last);
        if (p->obs->backup_running)
                busy = true;
        if (p->primary_ready && p->obs->backup_info && !p->obs->stanza_exists && !busy) {
                r = backrest_exec(p, primary, "initialise the backup repository", "stanza-create",
                                  NULL);
                requeue(p, REQUEUE_NOW);
        } else if (p->primary_ready && p->obs->stanza_exists && !busy &&
                   p->obs->backup_after_restore) {
                /* A restore started a new timeline: the repository's newest backups lie on the
                 * old one, and a later restore to a time would pick one of them and fail. */
                r = backrest_exec(p, primary, "full backup after a restore", "backup", "full");
                snprintf(p->plan->operation, sizeof(p->plan->operation), "backup");
                p->backup_after_restore_done = true;
                requeue(p, REQUEUE_NOW);
        } else if (p->primary_ready && p->obs->stanza_exists && !busy &&
                   ((newest == 0 && p->obs->last_scheduled_backup == 0) ||
                    (next > 0 && next <= p->now))) {
                requeue(p, REQUEUE_NOW);
                r = backrest_exec(p, primary, "scheduled backup", "backup",
                                  backup_type(p->obs, PG_BACKUP_AUTO, p->now));
                snprintf(p->plan->operation, sizeof(p->plan->operation), "backup");
                last = p->now;
                next = schedule_next(&sched, p->now);
        }
        if (r >= 0)
                r = add_time(st, "last_successful", newest);
        if (r >= 0)
                r = add_time(st, "next_scheduled", next);
        if (r >= 0)
                r = add_time(st, "schedule_ran_at",
                             last == newest ? p->obs->last_scheduled_backup : last);
        if (r >= 0)
                r = json_add_item_take(st, "last_error",
                                       last_error ? cJSON_CreateString(last_error)
                                                  : cJSON_CreateNull());
        if (r >= 0 && next > p->now)
                requeue(p, next - p->now);
        if (r >= 0) {
                cJSON *list = cJSON_AddArrayToObject(st, "backups");

                for (size_t i = 0; r >= 0 && list && i < p->obs->n_backups; i++) {
                        const PgBackupObserved *o = &p->obs->backups[i];
                        _cleanup_json_ cJSON *e = cJSON_CreateObject();

                        r = e ? 0 : -ENOMEM;
                        if (r >= 0)
                                r = put_str(e, "label", strempty(o->label));
                        if (r >= 0)
                                r = put_str(e, "type", strempty(o->type));
                        if (r >= 0)
                                r = add_time(e, "started_at", o->started);
                        if (r >= 0)
                                r = add_time(e, "finished_at", o->finished);
                        if (r >= 0)
                                r = put_int(e, "size_bytes", o->size_bytes);
                        if (r >= 0)
                                r = put_int(e, "repo_size_bytes", o->repo_size_bytes);
                        if (r >= 0)
                                r = json_add_item_take(list, NULL, TAKE_PTR(e));
                }
                if (!list)
                        r = -ENOMEM;
                if (r >= 0 && b->pitr && p->obs->n_backups > 0)
                        r = add_time(st, "recoverable_from", p->obs->backups[0].started);
        }
        return r;
}

static int plan_vacuum_schedule(PgPass *p, const char *primary, bool busy) {
        char *const vacuum[] = {
                (char *) "vacuumdb", (char *) "-h",    (char *) "/tmp",      (char *) "-U",
                (char *) "postgres", (char *) "--all", (char *) "--analyze", NULL};
        const char *s = p->spec->maintenance.vacuum_analyze;
        cJSON *st;
        Schedule sched;
        usec_t last = p->obs->last_vacuum, next;
        int r = 0;

        if (!s || schedule_parse(s, &sched, NULL) < 0)
                return 0;
        /* The first run is a schedule away from the first pass, not at once. */
        next = schedule_next(&sched, last > 0 ? last : p->now);
        if (p->primary_ready && !busy && last > 0 && next <= p->now) {
                r = plan_add_exec(p->plan, primary, "scheduled vacuum analyze", vacuum);
                if (!p->plan->operation[0])
                        snprintf(p->plan->operation, sizeof(p->plan->operation), "vacuum");
                last = p->now;
                next = schedule_next(&sched, p->now);
        } else if (last == 0)
                last = p->now;
        st = cJSON_AddObjectToObject(p->extra, "vacuum");
        if (!st)
                return -ENOMEM;
        if (r >= 0)
                r = add_time(st, "schedule_ran_at", last);
        if (r >= 0)
                r = add_time(st, "next_scheduled", next);
        if (r >= 0 && next > p->now)
                requeue(p, next - p->now);
        return r;
}

static int plan_replicas(PgPass *p, const PgNodeObserved *prim, Error *reterr) {
        char vol[128], slot[32];
        int r;

        for (int i = 1; i <= p->spec->read_replicas; i++) {
                const PgNodeObserved *n = NULL;
                const ObservedContainer *c = find_node(p->obs, PG_ROLE_REPLICA, (unsigned) i, &n);
                bool ok;

                snprintf(slot, sizeof(slot), "replica_%d", i);
                /* A replica copies the primary through its slot: both must exist first. */
                if (!p->primary_ready || !strv_contains(prim->slots, slot)) {
                        say(p, PHASE_PROVISIONING,
                            p->primary_ready ? "replica %d waits for its replication slot"
                                             : "replica %d waits for the primary",
                            i);
                        continue;
                }
                r = name_volume(vol, sizeof(vol), p->ref->project, p->ref->name, "data",
                                (unsigned) i);
                if (r < 0)
                        return r;
                if (!strv_contains(p->obs->volumes, vol)) {
                        r = plan_add(p->plan, ACTION_ENSURE_VOLUME, vol, NULL, "replica data",
                                     NULL);
                        if (r < 0)
                                return r;
                }
                r = converge_node(p, (unsigned) i, &ok, reterr);
                if (r < 0)
                        return r;
                if (!ok) {
                        say(p, PHASE_DEGRADED, "%s replica %d", strna(p->doing), i);
                        continue;
                }
                if (!n || !n->answered) {
                        say(p, PHASE_PROVISIONING, "replica %d is starting", i);
                        requeue(p, REQUEUE_STARTING);
                        continue;
                }
                r = plan_node_config(p, (unsigned) i, c, n);
                if (r >= 0)
                        r = plan_restart_pending(p, c, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Replicas above read_replicas go, with their data; their slots are dropped on a later pass. */
static int plan_surplus(PgPass *p) {
        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                char vol[128];
                int r;

                if (c->role && streq(c->role, PG_ROLE_PRIMARY) && c->index == 0)
                        continue;
                if (c->role && streq(c->role, PG_ROLE_REPLICA) && c->index >= 1 &&
                    c->index <= p->spec->read_replicas)
                        continue;
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id, "surplus", NULL);
                if (r >= 0 && c->role && streq(c->role, PG_ROLE_REPLICA) && c->index > 0 &&
                    name_volume(vol, sizeof(vol), p->ref->project, p->ref->name, "data",
                                (unsigned) c->index) >= 0 &&
                    strv_contains(p->obs->volumes, vol))
                        r = plan_add(p->plan, ACTION_REMOVE_VOLUME, vol, NULL, "surplus replica",
                                     NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Delete is soft: the containers go at once, the volumes (data and backups) stay for the
 * retention period, in phase DELETED, so a `restore` brings the database back; then, or at a
 * `purge`, they go too and the row with them. */
static int plan_delete(PgPass *p) {
        usec_t deleted = p->obs->deleted_at > 0 ? p->obs->deleted_at : p->now;
        usec_t until = deleted + (usec_t) p->spec->backup.retention_days * 24 * 3600 * USEC_PER_SEC;
        bool keep = !p->ref->purge && p->now < until;
        char when[40];
        int r;

        for (size_t i = 0; i < p->obs->n_containers; i++) {
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, p->obs->containers[i].name,
                             p->obs->containers[i].id, "deleting", NULL);
                if (r < 0)
                        return r;
        }
        if (keep) {
                r = add_time(p->extra, "deleted_at", deleted);
                if (r >= 0)
                        r = add_time(p->extra, "purge_at", until);
                if (r < 0)
                        return r;
                say(p, PHASE_DELETED,
                    "deleted; data and backups kept until %s (restore brings it back, purge "
                    "removes them now)",
                    format_rfc3339_exact(until, when, sizeof(when)));
                requeue(p, p->plan->n_actions > 0 ? REQUEUE_NOW : until - p->now);
                return 0;
        }
        for (char **v = p->obs->volumes; v && *v; v++) {
                r = plan_add(p->plan, ACTION_REMOVE_VOLUME, *v, NULL, "purging", NULL);
                if (r < 0)
                        return r;
        }
        p->phase = PHASE_DELETING;
        p->message = "removing containers, data and backups";
        if (p->plan->n_actions == 0)
                p->plan->delete_done = true;
        else
                requeue(p, REQUEUE_NOW);
        return 0;
}

static int plan_paused(PgPass *p) {
        int r;

        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];

                if (!is_running(c) && !(c->state && streq(c->state, "restarting")))
                        continue;
                r = plan_add(p->plan, ACTION_STOP_CONTAINER, c->name, c->id, "paused", NULL);
                if (r < 0)
                        return r;
        }
        p->phase = PHASE_PAUSED;
        p->message = "paused: the server is stopped, its data kept";
        return 0;
}

/* Generated secrets first (the containers' configs name their versions), then the network (its
 * gateway goes into pg_hba.conf), then the volumes. Returns true when the pass must stop here
 * and come back once they exist. */
static int plan_foundations(PgPass *p, bool *ret_wait) {
        char repl[96], vol[128];
        int r;

        *ret_wait = false;
        if (p->obs->password_version == PG_SECRET_MISSING) {
                if (!p->spec->password_generated) {
                        say(p, PHASE_FAILED,
                            "secret %s does not exist (create it: berth secret set %s)",
                            p->spec->password_secret, p->spec->password_secret);
                        *ret_wait = true;
                        return 0;
                }
                r = plan_add(p->plan, ACTION_ENSURE_SECRET, p->spec->password_secret, NULL,
                             "generated password", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        if (p->spec->backup.s3_bucket && (p->obs->s3_access_key_version == PG_SECRET_MISSING ||
                                          p->obs->s3_secret_key_version == PG_SECRET_MISSING)) {
                const char *k = p->obs->s3_access_key_version == PG_SECRET_MISSING
                                        ? p->spec->backup.s3_access_key_secret
                                        : p->spec->backup.s3_secret_key_secret;

                say(p, PHASE_FAILED,
                    "secret %s (a key of the S3 backup repository) does not exist (create it: "
                    "berth secret set %s)",
                    k, k);
                *ret_wait = true;
                return 0;
        }
        if (p->obs->replication_version == PG_SECRET_MISSING) {
                r = pg_replication_secret_name(repl, sizeof(repl), p->ref->name);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_ENSURE_SECRET, repl, NULL,
                                     "replication password", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        if (!p->obs->network_exists) {
                r = name_resource_network(vol, sizeof(vol), p->ref->project, p->ref->name);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_ENSURE_NETWORK, vol, NULL, "missing", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        for (int i = 0; i < 2; i++) {
                r = name_volume(vol, sizeof(vol), p->ref->project, p->ref->name,
                                i == 0 ? "data" : "backup", 0);
                if (r < 0)
                        return r;
                if (strv_contains(p->obs->volumes, vol))
                        continue;
                r = plan_add(p->plan, ACTION_ENSURE_VOLUME, vol, NULL,
                             i == 0 ? "primary data" : "backup repository", NULL);
                if (r < 0)
                        return r;
        }
        if (*ret_wait) {
                requeue(p, REQUEUE_NOW);
                say(p, PHASE_PROVISIONING, "creating the secrets and the network");
        }
        return 0;
}

static int plan_primary(PgPass *p, const PgNodeObserved **ret_node, Error *reterr) {
        const PgNodeObserved *n = NULL;
        const ObservedContainer *c = find_node(p->obs, PG_ROLE_PRIMARY, 0, &n);
        bool ok;
        int r;

        *ret_node = NULL;
        r = plan_restore_from(p, &ok, reterr);
        if (r < 0 || ok)
                return r;
        r = converge_node(p, 0, &ok, reterr);
        if (r < 0)
                return r;
        if (!ok) {
                if (c && c->exit_code != 0 && c->finished_at > 0)
                        say(p, PHASE_DEGRADED, "primary exited with code %d%s%s; starting it again",
                            c->exit_code, n && n->error ? ": " : "", n && n->error ? n->error : "");
                else
                        say(p, PHASE_PROVISIONING, "%s the primary", strna(p->doing));
                return 0;
        }
        if (p->restarting) {
                say(p, PHASE_DEGRADED, "restarting the primary");
                return 0;
        }
        if (!n || !n->answered) {
                say(p, PHASE_PROVISIONING, "the primary is starting");
                requeue(p, REQUEUE_STARTING);
                return 0;
        }
        *ret_node = n;
        r = plan_node_config(p, 0, c, n);
        if (r >= 0)
                r = plan_restart_pending(p, c, n);
        if (r < 0)
                return r;
        if (p->restarting) {
                say(p, PHASE_DEGRADED, "restarting the primary for new settings");
                return 0;
        }
        if (n->in_recovery) {
                say(p, PHASE_PROVISIONING, "the primary is recovering");
                requeue(p, REQUEUE_STARTING);
                return 0;
        }
        r = plan_bootstrap(p, c, n);
        if (r < 0)
                return r;
        if (!n->bootstrapped) {
                say(p, PHASE_PROVISIONING, "creating the initial user and database");
                requeue(p, REQUEUE_NOW);
                return 0;
        }
        p->primary_ready = true;
        return plan_slots(p, c, n);
}

const char *pg_request_problem(const PgSingleSpec *spec, const PgObserved *obs) {
        const PgAction *a = &obs->request;

        if (!obs->has_request)
                return NULL;
        if (obs->request_error)
                return obs->request_error;
        if ((a->type == PG_ACTION_BACKUP || a->type == PG_ACTION_RESTORE) && !spec->backup.enabled)
                return "backups are not enabled (spec.backup.enabled: true)";
        if (a->type == PG_ACTION_RESTORE && a->target_time > 0 && !spec->backup.pitr)
                return "a restore to a point in time needs spec.backup.pitr: true";
        if (a->type == PG_ACTION_RESTORE && obs->backup_info && obs->n_backups == 0)
                return "there is no backup to restore";
        if (a->type == PG_ACTION_RESTORE && a->target_time > 0 && obs->n_backups > 0 &&
            a->target_time < obs->backups[0].finished)
                return "the target time is before the end of the oldest backup";
        return NULL;
}

static int add_nodes(PgPass *p, const PgNodeObserved *prim) {
        Status *st = &p->plan->status;

        st->nodes = b_calloc(p->obs->n_containers + 1, sizeof(StatusNode));
        if (!st->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                const PgNodeObserved *n = p->obs->nodes ? &p->obs->nodes[i] : NULL;
                StatusNode *sn = &st->nodes[st->n_nodes++];
                char slot[32];

                sn->name = b_strdup(c->name);
                sn->role = b_strdup(strna(c->role));
                sn->state = b_strdup(strna(c->state));
                sn->health = b_strdup(n && n->answered ? "healthy"
                                      : is_running(c)  ? "starting"
                                                       : "none");
                sn->host = c->ip ? b_strdup(c->ip) : NULL;
                sn->index = c->index > 0 ? (unsigned) c->index : 0;
                sn->restarts = c->restart_count;
                if (!sn->name || !sn->role || !sn->state || !sn->health || (c->ip && !sn->host))
                        return -ENOMEM;
                if (n && n->answered)
                        p->plan->status.replicas_running++;
                if (!prim || !c->role || !streq(c->role, PG_ROLE_REPLICA) || c->index <= 0)
                        continue;
                snprintf(slot, sizeof(slot), "replica_%d", c->index);
                for (size_t k = 0; k < prim->n_replication; k++) {
                        const PgReplicationStat *rs = &prim->replication[k];

                        if (!rs->name || !streq(rs->name, slot))
                                continue;
                        sn->has_lag = true;
                        sn->lag_bytes = rs->lag_bytes;
                        sn->lag_seconds = rs->lag_seconds;
                        if ((p->spec->max_lag_bytes > 0 &&
                             rs->lag_bytes > p->spec->max_lag_bytes) ||
                            (p->spec->max_lag_seconds > 0 &&
                             rs->lag_seconds * USEC_PER_SEC > (double) p->spec->max_lag_seconds))
                                say(p, PHASE_DEGRADED,
                                    "%s is behind the primary: %" PRIi64 " bytes, %.1f s", c->name,
                                    rs->lag_bytes, rs->lag_seconds);
                }
                if (n && n->answered && !sn->has_lag)
                        say(p, PHASE_DEGRADED, "%s is not streaming from the primary", c->name);
        }
        return 0;
}

static int add_endpoints(PgPass *p) {
        const PgSingleSpec *s = p->spec;
        _cleanup_json_ cJSON *e = cJSON_CreateObject();
        char internal[128], write[128], url[512];
        int r;

        if (!e)
                return -ENOMEM;
        snprintf(internal, sizeof(internal), "%s:%d", p->ref->name, PG_PORT);
        if (s->expose_port > 0)
                snprintf(write, sizeof(write), "%s:%d",
                         s->expose_bind ? s->expose_bind : "127.0.0.1", s->expose_port);
        else
                snprintf(write, sizeof(write), "%s", internal);
        /* Never a password: it is in the secret named beside. */
        snprintf(url, sizeof(url), "postgresql://%s@%s/%s", s->initial_user, write,
                 s->initial_db_name);
        r = put_str(e, "internal", internal);
        if (r >= 0)
                r = put_str(e, "write", write);
        if (r >= 0 && s->read_replicas > 0) {
                char read[128];

                snprintf(read, sizeof(read), "%s-read:%d", p->ref->name, PG_PORT);
                r = put_str(e, "read", read);
        }
        if (r >= 0)
                r = put_str(e, "connection_string", url);
        if (r >= 0)
                r = put_str(e, "password_secret", s->password_secret);
        if (r < 0)
                return r;
        p->plan->status.endpoints = TAKE_PTR(e);
        return 0;
}

static int add_extra(PgPass *p, const PgNodeObserved *prim, bool bootstrapping) {
        cJSON *o;
        int r = 0;

        if (prim && prim->answered) {
                r = put_str(p->extra, "server_version", strempty(prim->version));
                o = cJSON_AddObjectToObject(p->extra, "connections");
                if (r >= 0 && o)
                        r = put_int(o, "in_use", prim->connections);
                if (r >= 0 && o)
                        r = put_int(o, "max", prim->max_connections);
                if (!o)
                        r = -ENOMEM;
        }
        o = cJSON_AddObjectToObject(p->extra, "storage");
        if (!o)
                return -ENOMEM;
        if (r >= 0)
                r = put_int(o, "requested_bytes", p->spec->storage_size);
        if (r >= 0 && prim && prim->answered)
                r = put_int(o, "used_bytes", prim->size_bytes);
        if (r >= 0)
                r = put_int(p->extra, "password_version",
                            bootstrapping || (prim && prim->bootstrapped &&
                                              p->obs->applied_password_version ==
                                                      p->obs->password_version)
                                    ? p->obs->password_version
                                    : p->obs->applied_password_version);
        if (r >= 0 && p->spec->restore_from && (p->obs->source_restored || p->restored_from_now))
                r = put_str(p->extra, "restored_from", p->spec->restore_from);
        else if (r >= 0 && p->spec->restore_from && p->obs->source_failed_generation > 0) {
                /* Kept until a new generation: it stops the same restore running again. */
                o = cJSON_AddObjectToObject(p->extra, "restore_failed");
                if (!o)
                        return -ENOMEM;
                r = put_int(o, "generation", p->obs->source_failed_generation);
                if (r >= 0)
                        r = put_str(o, "error", strempty(p->obs->source_error));
        }
        if (r >= 0 &&
            (p->restore_planned || (p->obs->backup_after_restore && !p->backup_after_restore_done)))
                r = json_add_item_take(p->extra, "backup_after_restore", cJSON_CreateTrue());
        if (r >= 0 && cJSON_GetArraySize(p->pending) > 0)
                r = json_add_item_take(p->extra, "pending", cJSON_Duplicate(p->pending, true));
        return r;
}

int pg_plan(const ResourceRef *ref, const PgSingleSpec *spec, const PgObserved *obs, usec_t now,
            Plan *ret, Error *reterr) {
        _cleanup_(plan_release) Plan plan;
        _cleanup_json_ cJSON *extra = cJSON_CreateObject(), *pending = cJSON_CreateArray();
        PgPass p = {.ref = ref, .spec = spec, .obs = obs, .now = now, .plan = &plan};
        const PgNodeObserved *prim = NULL;
        const char *primary = NULL;
        bool wait = false, exclusive = false;
        size_t before;
        int r;

        assert_return(ref && spec && obs && ret, -EINVAL);
        plan_init(&plan);
        if (!extra || !pending)
                return -ENOMEM;
        p.extra = extra;
        p.pending = pending;
        plan.status.observed_generation = ref->generation;

        if (ref->deleting)
                r = plan_delete(&p);
        else if (spec->paused)
                r = plan_paused(&p);
        else {
                r = plan_foundations(&p, &wait);
                if (r >= 0 && !wait && obs->has_request && !pg_request_problem(spec, obs) &&
                    obs->request.type == PG_ACTION_RESTORE)
                        r = plan_request(&p, NULL, &exclusive, reterr);
                if (r >= 0 && !wait && !exclusive) {
                        r = plan_primary(&p, &prim, reterr);
                        primary = prim ? find_node(obs, PG_ROLE_PRIMARY, 0, NULL)->name : NULL;
                        before = plan.n_actions;
                        if (r >= 0 && obs->has_request && !pg_request_problem(spec, obs))
                                r = plan_request(&p, primary, &exclusive, reterr);
                        if (r >= 0)
                                r = plan_backup_schedule(&p, primary, plan.n_actions > before);
                        if (r >= 0)
                                r = plan_vacuum_schedule(&p, primary, plan.n_actions > before);
                        if (r >= 0)
                                r = plan_replicas(&p, prim, reterr);
                        if (r >= 0)
                                r = plan_surplus(&p);
                }
        }
        if (r >= 0 && !ref->deleting)
                r = add_nodes(&p, prim);
        if (r >= 0 && !ref->deleting)
                r = add_endpoints(&p);
        if (r >= 0 && !ref->deleting) {
                bool bootstrapping = false;

                for (size_t i = 0; i < plan.n_actions; i++)
                        if (plan.actions[i].type == ACTION_EXEC && plan.actions[i].argv &&
                            plan.actions[i].argv[1] &&
                            streq(plan.actions[i].argv[1], "/etc/berth/bootstrap.sh"))
                                bootstrapping = true;
                r = add_extra(&p, prim, bootstrapping);
        }
        if (r < 0)
                return r == -ENOMEM ? err_set(reterr, r, NULL, "out of memory") : r;

        plan.status.replicas_desired = spec->paused || ref->deleting ? 0 : 1 + spec->read_replicas;
        if (!p.message) {
                p.phase = PHASE_RUNNING;
                snprintf(p.msgbuf, sizeof(p.msgbuf), "primary and %d read replica%s running",
                         spec->read_replicas, spec->read_replicas == 1 ? "" : "s");
                p.message = p.msgbuf;
        }
        /* Lag, size and connections change with no event: look again, whatever the phase. */
        if (!ref->deleting && !spec->paused)
                requeue(&p, REQUEUE_RUNNING);
        plan.status.phase = p.phase;
        plan.status.message = b_strdup(p.message);
        if (!plan.status.message)
                return -ENOMEM;
        plan.status.extra = TAKE_PTR(extra);
        plan.requeue_after = p.requeue;
        *ret = plan;
        plan_init(&plan);
        return 0;
}
