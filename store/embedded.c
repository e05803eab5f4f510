/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/embedded.h"
#include "store/store-internal.h"

/* The socket is <run>/.s.PGSQL.5432 and sun_path holds 108 bytes. */
#define EMBEDDED_MAX_RUN_DIR   100
#define EMBEDDED_PG_GLOB       "/usr/lib/postgresql/*/bin/postgres"
#define EMBEDDED_PG_USER       "postgres"
#define EMBEDDED_DB_USER       "berth"
#define EMBEDDED_DB_NAME       "berth"
#define EMBEDDED_CONNECT_TRIES 300 /* x 100 ms, for a server adopted while still starting */
#define EMBEDDED_PW_BUF        (16 * 1024)

struct EmbeddedPg {
        char *bindir;
        char *pgdata;  /* <data_dir>/state */
        char *rundir;  /* <data_dir>/run */
        char *logfile; /* <data_dir>/state.log */
        bool drop;     /* running as root: run the tools as `postgres` */
        uid_t uid;
        gid_t gid;
};

static void embedded_release(EmbeddedPg *e) {
        b_free(e->bindir);
        b_free(e->pgdata);
        b_free(e->rundir);
        b_free(e->logfile);
        b_free(e);
}

static inline void embedded_releasep(EmbeddedPg **e) {
        if (*e)
                embedded_release(*e);
}

static char *path_join(const char *a, const char *b) {
        _cleanup_(buf_release) Buf p = BUF_INIT(PATH_MAX);

        if (buf_printf(&p, "%s/%s", a, b) < 0)
                return NULL;
        return buf_take(&p);
}

/* The paths end up in pg_ctl's shell command line and in the -o options: keep them plain. */
static bool path_is_plain(const char *p) {
        for (; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("/._+-", *p)))
                        return false;
        return true;
}

static int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = b_strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                bool end = *s == 0;

                if (*s != '/' && !end)
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (end)
                        return 0;
                *s = '/';
        }
}

static int version_of(const char *path, long *major, long *minor) {
        const char *v = path + STRLEN("/usr/lib/postgresql/");
        char *end;

        errno = 0;
        *major = strtol(v, &end, 10);
        if (errno != 0 || end == v)
                return -EINVAL;
        *minor = 0;
        if (*end == '.') {
                v = end + 1;
                *minor = strtol(v, &end, 10);
                if (errno != 0 || end == v)
                        return -EINVAL;
        }
        return *end == '/' ? 0 : -EINVAL;
}

/* pg_config --bindir names the client's directory, which may lack the server: take the
 * highest /usr/lib/postgresql/<version>/bin that has postgres, pg_ctl and initdb. */
static int find_bindir(char **ret, Error *reterr) {
        const char *best = NULL;
        long best_major = -1, best_minor = -1;
        glob_t g = {};
        char *dir;

        if (glob(EMBEDDED_PG_GLOB, 0, NULL, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc; i++) {
                        long major, minor;

                        if (version_of(g.gl_pathv[i], &major, &minor) < 0 ||
                            access(g.gl_pathv[i], X_OK) < 0)
                                continue;
                        if (major > best_major || (major == best_major && minor > best_minor)) {
                                best = g.gl_pathv[i];
                                best_major = major;
                                best_minor = minor;
                        }
                }
        }
        if (!best) {
                globfree(&g);
                return err_set(reterr, -ENOENT, NULL,
                               "no PostgreSQL server found (" EMBEDDED_PG_GLOB
                               "): install the postgresql package or set BERTH_DATABASE_URL");
        }
        dir = b_strndup(best, strlen(best) - STRLEN("/postgres"));
        globfree(&g);
        if (!dir)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        *ret = dir;
        return 0;
}

/* fork + exec (posix_spawn cannot change user); stdin from /dev/null, output to the log. */
static int run_tool(const EmbeddedPg *e, const char *const argv[], int *ret_status, Error *reterr) {
        static const char *const envp[] = {"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C", NULL};
        int status;
        pid_t pid;

        log_debug("running %s %s", argv[0], strempty(argv[1]));
        pid = fork();
        if (pid < 0)
                return err_set(reterr, -errno, NULL, "fork: %m");
        if (pid == 0) {
                /* Child of a possibly threaded parent: async-signal-safe calls only. */
                sigset_t none;
                int in, out;

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                in = open("/dev/null", O_RDONLY);
                out = open(e->logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
                if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                        _exit(126);
                if (close_range(3, ~0U, 0) < 0)
                        for (int fd = 3; fd < 1024; fd++)
                                (void) close(fd);
                if (e->drop &&
                    (setgroups(1, &e->gid) < 0 || setgid(e->gid) < 0 || setuid(e->uid) < 0))
                        _exit(126);
                if (chdir("/") < 0)
                        _exit(126);
                umask(077);
                execve(argv[0], (char *const *) argv, (char *const *) envp);
                _exit(127);
        }

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return err_set(reterr, -errno, NULL, "waitpid: %m");
        if (WIFEXITED(status))
                *ret_status = WEXITSTATUS(status);
        else
                *ret_status = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return 0;
}

static int run_tool_ok(const EmbeddedPg *e, const char *what, const char *const argv[],
                       Error *reterr) {
        int r, status;

        r = run_tool(e, argv, &status, reterr);
        if (r < 0)
                return r;
        if (status != 0)
                return err_set(reterr, -EIO, NULL, "%s failed (exit %d), see %s", what, status,
                               e->logfile);
        return 0;
}

static int tool_path(const EmbeddedPg *e, const char *tool, char **ret, Error *reterr) {
        char *p = path_join(e->bindir, tool);

        if (!p)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (access(p, X_OK) < 0) {
                int r = -errno;
                b_free(p);
                return err_set(reterr, r, NULL, "%s/%s: %m", e->bindir, tool);
        }
        *ret = p;
        return 0;
}

/* As root: the server runs as `postgres`, which must own state/, run/ and the log and be able
 * to traverse data_dir. */
static int prepare_owner(EmbeddedPg *e, const char *data_dir, Error *reterr) {
        _cleanup_free_ char *pwbuf = NULL;
        struct passwd pw, *found = NULL;
        struct stat st;
        int fd, r;

        if (geteuid() != 0)
                return 0;

        pwbuf = b_malloc(EMBEDDED_PW_BUF);
        if (!pwbuf)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = getpwnam_r(EMBEDDED_PG_USER, &pw, pwbuf, EMBEDDED_PW_BUF, &found);
        if (r != 0 || !found)
                return err_set(reterr, r > 0 ? -r : -ENOENT, NULL,
                               "running as root needs a '" EMBEDDED_PG_USER
                               "' user for the embedded PostgreSQL (PostgreSQL refuses root)");
        e->drop = true;
        e->uid = pw.pw_uid;
        e->gid = pw.pw_gid;

        if (stat(data_dir, &st) < 0)
                return err_set(reterr, -errno, NULL, "%s: %m", data_dir);
        if (!(st.st_mode & S_IXOTH) && chmod(data_dir, (st.st_mode & 07777) | S_IXOTH) < 0)
                return err_set(reterr, -errno, NULL, "chmod %s: %m", data_dir);
        if (chown(e->pgdata, e->uid, e->gid) < 0)
                return err_set(reterr, -errno, NULL, "chown %s: %m", e->pgdata);
        if (chown(e->rundir, e->uid, e->gid) < 0)
                return err_set(reterr, -errno, NULL, "chown %s: %m", e->rundir);
        fd = open(e->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_set(reterr, -errno, NULL, "%s: %m", e->logfile);
        r = fchown(fd, e->uid, e->gid) < 0 ? -errno : 0;
        (void) close(fd);
        if (r < 0)
                return err_set(reterr, r, NULL, "chown %s: %m", e->logfile);
        return 0;
}

static int embedded_initdb(const EmbeddedPg *e, Error *reterr) {
        _cleanup_free_ char *initdb = NULL, *version = NULL;
        int r;

        version = path_join(e->pgdata, "PG_VERSION");
        if (!version)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (access(version, F_OK) == 0)
                return 0;

        r = tool_path(e, "initdb", &initdb, reterr);
        if (r < 0)
                return r;
        log_debug("initdb %s", e->pgdata);
        return run_tool_ok(e, "initdb",
                           (const char *const[]){initdb, "-D", e->pgdata, "-A", "trust",
                                                 "--auth-local=trust", "-U", EMBEDDED_DB_USER, "-E",
                                                 "UTF8", "--locale=C", NULL},
                           reterr);
}

static int embedded_pg_ctl_start(const EmbeddedPg *e, Error *reterr) {
        _cleanup_(buf_release) Buf opts = BUF_INIT(PATH_MAX + 128);
        _cleanup_free_ char *pg_ctl = NULL;
        int r, status;

        r = tool_path(e, "pg_ctl", &pg_ctl, reterr);
        if (r < 0)
                return r;

        r = run_tool(e, (const char *const[]){pg_ctl, "status", "-D", e->pgdata, NULL}, &status,
                     reterr);
        if (r < 0)
                return r;
        if (status == 0) {
                log_debug("adopting the running server on %s", e->pgdata);
                return 0;
        }

        r = buf_printf(&opts, "-c listen_addresses='' -k %s -c fsync=on", e->rundir);
        if (r < 0)
                return err_set(reterr, r, NULL, "run directory path too long");
        return run_tool_ok(e, "pg_ctl start",
                           (const char *const[]){pg_ctl, "start", "-w", "-t", "60", "-D", e->pgdata,
                                                 "-l", e->logfile, "-o", buf_str(&opts), NULL},
                           reterr);
}

static void pqfinishp(PGconn **c) {
        if (*c)
                PQfinish(*c);
}

/* Connects to the maintenance database and creates ours on first start. */
static int embedded_create_db(const EmbeddedPg *e, Error *reterr) {
        const char *const keys[] = {"host", "dbname", "user", "connect_timeout", NULL};
        const char *const values[] = {e->rundir, "postgres", EMBEDDED_DB_USER, "10", NULL};
        _cleanup_(pqfinishp) PGconn *conn = NULL;
        _cleanup_pqclear_ PGresult *res = NULL;
        const char *st;

        for (int i = 0;; i++) {
                conn = PQconnectdbParams(keys, values, 0);
                if (!conn)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                if (PQstatus(conn) == CONNECTION_OK)
                        break;
                if (i >= EMBEDDED_CONNECT_TRIES) {
                        char msg[200];

                        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
                        msg[strcspn(msg, "\n")] = 0;
                        return err_set(reterr, -ECONNREFUSED, NULL,
                                       "embedded PostgreSQL does not accept connections: %s", msg);
                }
                PQfinish(TAKE_PTR(conn));
                nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        }

        res = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL,
                           (const char *const[]){EMBEDDED_DB_NAME}, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
                return err_set(reterr, -EIO, NULL, "embedded PostgreSQL: %s",
                               PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: "query failed");
        if (PQntuples(res) > 0)
                return 0;
        res = store_result_free(res);

        /* A utility statement: no parameters; the name is our constant. */
        res = PQexec(conn, "CREATE DATABASE " EMBEDDED_DB_NAME);
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
                return 0;
        st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (st && streq(st, "42P04")) /* duplicate_database: a concurrent start made it */
                return 0;
        return err_set(reterr, -EIO, NULL, "embedded PostgreSQL: CREATE DATABASE: %s",
                       PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: "failed");
}

int embedded_pg_start(const char *data_dir, EmbeddedPg **ret, char **ret_conninfo, Error *reterr) {
        _cleanup_(embedded_releasep) EmbeddedPg *e = NULL;
        _cleanup_(buf_release) Buf conninfo = BUF_INIT(PATH_MAX + 64);
        char abs[PATH_MAX];
        int r;

        assert_return(!isempty(data_dir), -EINVAL);
        assert_return(ret && ret_conninfo, -EINVAL);

        r = mkdir_p(data_dir, 0700);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot create %s: %m", data_dir);
        if (!realpath(data_dir, abs))
                return err_set(reterr, -errno, NULL, "%s: %m", data_dir);
        if (!path_is_plain(abs))
                return err_set(reterr, -EINVAL, NULL,
                               "data directory %s: use only letters, digits and /._+-", abs);

        e = b_calloc(1, sizeof(EmbeddedPg));
        if (!e)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        e->pgdata = path_join(abs, "state");
        e->rundir = path_join(abs, "run");
        e->logfile = path_join(abs, "state.log");
        if (!e->pgdata || !e->rundir || !e->logfile)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (strlen(e->rundir) >= EMBEDDED_MAX_RUN_DIR)
                return err_set(reterr, -ENAMETOOLONG, NULL,
                               "%s: too long for a unix socket directory (max %d)", e->rundir,
                               EMBEDDED_MAX_RUN_DIR - 1);

        r = find_bindir(&e->bindir, reterr);
        if (r < 0)
                return r;
        if (mkdir(e->pgdata, 0700) < 0 && errno != EEXIST)
                return err_set(reterr, -errno, NULL, "%s: %m", e->pgdata);
        if (mkdir(e->rundir, 0700) < 0 && errno != EEXIST)
                return err_set(reterr, -errno, NULL, "%s: %m", e->rundir);
        r = prepare_owner(e, abs, reterr);
        if (r < 0)
                return r;

        r = embedded_initdb(e, reterr);
        if (r < 0)
                return r;
        r = embedded_pg_ctl_start(e, reterr);
        if (r < 0)
                return r;
        r = embedded_create_db(e, reterr);
        if (r < 0)
                return r;

        r = buf_printf(&conninfo, "host=%s dbname=" EMBEDDED_DB_NAME " user=" EMBEDDED_DB_USER,
                       e->rundir);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        log_debug("embedded PostgreSQL ready on %s", e->rundir);
        *ret_conninfo = buf_take(&conninfo);
        *ret = TAKE_PTR(e);
        return 0;
}

EmbeddedPg *embedded_pg_stop(EmbeddedPg *e) {
        _cleanup_free_ char *pg_ctl = NULL;
        int status;

        if (!e)
                return NULL;
        if (tool_path(e, "pg_ctl", &pg_ctl, NULL) >= 0 &&
            run_tool(e,
                     (const char *const[]){pg_ctl, "stop", "-D", e->pgdata, "-m", "fast", "-w",
                                           "-t", "60", NULL},
                     &status, NULL) >= 0)
                log_debug("pg_ctl stop: exit %d", status);
        embedded_release(e);
        return NULL;
}
