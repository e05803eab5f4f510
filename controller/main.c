/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "berthd"
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/common.h"
#include "util/log.h"

#include "api/server.h"
#include "controller/controller.h"
#include "drivers/docker/docker.h"
#include "store/embedded.h"
#include "store/store.h"

#define BERTH_VERSION "0.1.0"

typedef enum Role { ROLE_ALL, ROLE_API, ROLE_CONTROLLER } Role;

/* Configuration: flags, then environment, then defaults. Frozen before threads start. */
static Role arg_role = ROLE_ALL;
static const char *arg_listen = "127.0.0.1:8080";
static const char *arg_data_dir = "/var/lib/berth";
static const char *arg_database_url;
static int arg_workers = 4;
static long arg_relist_sec = 30;
static const char *arg_auth;     /* BERTH_AUTH: on | off; unset: off on loopback only */
static const char *arg_tls_cert; /* BERTH_TLS_CERT, BERTH_TLS_KEY: PEM files */
static const char *arg_tls_key;
static const char *arg_jwt_key_file; /* BERTH_JWT_KEY_FILE; default $BERTH_DATA_DIR/jwt.key */
/* BERTH_MASTER_KEY_FILE: AES-256 key for secrets at rest; default $BERTH_DATA_DIR/master.key */
static const char *arg_master_key_file;

static void usage(FILE *f) {
        fprintf(f,
                "usage: berthd [--role=all|api|controller] [--listen=ADDR:PORT] [--data-dir=DIR]\n"
                "              [--database-url=URL] [--workers=N] [--relist-interval=SECONDS]\n"
                "              [--log-level=debug|info|warn|error]\n"
                "       berthd init-admin [--username NAME] [--password-file FILE]\n"
                "environment: BERTH_LISTEN, BERTH_DATA_DIR, BERTH_DATABASE_URL (unset: embedded\n"
                "             state store in $BERTH_DATA_DIR/state), BERTH_WORKERS, "
                "BERTH_LOG_LEVEL,\n"
                "             BERTH_AUTH (on|off), BERTH_TLS_CERT, BERTH_TLS_KEY, "
                "BERTH_JWT_KEY_FILE,\n"
                "             DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH\n");
}

static int parse_long(const char *s, long min, long max, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_role(const char *s, Role *ret) {
        if (streq(s, "all"))
                *ret = ROLE_ALL;
        else if (streq(s, "api"))
                *ret = ROLE_API;
        else if (streq(s, "controller"))
                *ret = ROLE_CONTROLLER;
        else
                return -EINVAL;
        return 0;
}

static const char *env_or(const char *name, const char *dflt) {
        const char *v = getenv(name);
        return isempty(v) ? dflt : v;
}

static int parse_args(int argc, char **argv) {
        static const struct option opts[] = {
                {"role", required_argument, NULL, 'r'},
                {"listen", required_argument, NULL, 'l'},
                {"data-dir", required_argument, NULL, 'd'},
                {"database-url", required_argument, NULL, 'u'},
                {"workers", required_argument, NULL, 'w'},
                {"relist-interval", required_argument, NULL, 'i'},
                {"log-level", required_argument, NULL, 'L'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        long v;
        int c;

        arg_listen = env_or("BERTH_LISTEN", arg_listen);
        arg_data_dir = env_or("BERTH_DATA_DIR", arg_data_dir);
        arg_database_url = env_or("BERTH_DATABASE_URL", NULL);
        arg_auth = env_or("BERTH_AUTH", NULL);
        arg_tls_cert = env_or("BERTH_TLS_CERT", NULL);
        arg_tls_key = env_or("BERTH_TLS_KEY", NULL);
        arg_jwt_key_file = env_or("BERTH_JWT_KEY_FILE", NULL);
        arg_master_key_file = env_or("BERTH_MASTER_KEY_FILE", NULL);
        if (getenv("BERTH_WORKERS") && parse_long(getenv("BERTH_WORKERS"), 1, 32, &v) == 0)
                arg_workers = (int) v;
        log_set_level(log_parse_level(getenv("BERTH_LOG_LEVEL")));

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        if (parse_role(optarg, &arg_role) < 0) {
                                fprintf(stderr, "berthd: --role must be all, api or controller\n");
                                return -EINVAL;
                        }
                        break;
                case 'l':
                        arg_listen = optarg;
                        break;
                case 'd':
                        arg_data_dir = optarg;
                        break;
                case 'u':
                        arg_database_url = optarg;
                        break;
                case 'w':
                        if (parse_long(optarg, 1, 32, &v) < 0) {
                                fprintf(stderr, "berthd: --workers must be 1..32\n");
                                return -EINVAL;
                        }
                        arg_workers = (int) v;
                        break;
                case 'i':
                        if (parse_long(optarg, 1, 3600, &arg_relist_sec) < 0) {
                                fprintf(stderr, "berthd: --relist-interval must be 1..3600 s\n");
                                return -EINVAL;
                        }
                        break;
                case 'L':
                        log_set_level(log_parse_level(optarg));
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("berthd %s\n", BERTH_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return -EINVAL;
        }
        return 1;
}

static int open_state_store(EmbeddedPg **ret_pg, char **ret_conninfo, Error *err) {
        int r;

        if (arg_database_url) {
                *ret_conninfo = b_strdup(arg_database_url);
                return *ret_conninfo ? 0 : -ENOMEM;
        }
        if (mkdir(arg_data_dir, 0700) < 0 && errno != EEXIST)
                return err_set(err, -errno, NULL, "cannot create data dir %s", arg_data_dir);
        r = embedded_pg_start(arg_data_dir, ret_pg, ret_conninfo, err);
        if (r < 0)
                return err_prefix(err, "embedded state store");
        return 0;
}

static int migrate(const char *conninfo, Error *err) {
        _cleanup_(store_freep) Store *s = NULL;
        int r;

        r = store_open(conninfo, &s, err);
        if (r < 0)
                return r;
        return store_migrate(s, err);
}

static int run(void) {
        _cleanup_free_ char *conninfo = NULL;
        EmbeddedPg *pg = NULL;
        ApiServer *api = NULL;
        Controller *ctl = NULL;
        DockerEngine engine;
        Error err = ERROR_INIT;
        char holder[128], host[64] = "localhost";
        _cleanup_free_ char *jwt_key_file = NULL, *master_key_file = NULL;
        ApiExposure exposure = {};
        sigset_t mask;
        int sig, r;

        /* The API drives Docker, which is root on the host: beyond loopback it needs TLS and
         * authentication (api_exposure_decide() names what is missing). */
        if (arg_role != ROLE_CONTROLLER) {
                r = api_exposure_decide(arg_listen, arg_auth, arg_tls_cert, arg_tls_key, &exposure,
                                        &err);
                if (r < 0) {
                        log_error("%s", err.msg);
                        return r;
                }
                jwt_key_file = arg_jwt_key_file ? b_strdup(arg_jwt_key_file) : NULL;
                if (!arg_jwt_key_file) {
                        _cleanup_(buf_release) Buf p = BUF_INIT(4096);
                        if (buf_printf(&p, "%s/jwt.key", arg_data_dir) < 0)
                                return -ENAMETOOLONG;
                        jwt_key_file = buf_take(&p);
                }
                if (!jwt_key_file)
                        return -ENOMEM;
                /* The key lives in the data dir, which an external store does not create. */
                if (!arg_jwt_key_file && mkdir(arg_data_dir, 0700) < 0 && errno != EEXIST)
                        log_warn("cannot create data dir %s: %m", arg_data_dir);
        }
        /* The API (secret routes) and the controller (delivery) both need the master key. */
        {
                _cleanup_(buf_release) Buf p = BUF_INIT(4096);
                if (arg_master_key_file ? buf_puts(&p, arg_master_key_file) < 0
                                        : buf_printf(&p, "%s/master.key", arg_data_dir) < 0)
                        return -ENAMETOOLONG;
                master_key_file = buf_take(&p);
                if (!master_key_file)
                        return -ENOMEM;
                if (!arg_master_key_file && mkdir(arg_data_dir, 0700) < 0 && errno != EEXIST)
                        log_warn("cannot create data dir %s: %m", arg_data_dir);
        }
        r = docker_engine_from_env(&engine);
        if (r < 0) {
                log_error("DOCKER_HOST: cannot parse it");
                return r;
        }

        /* Signals are taken synchronously by this thread; every thread inherits the mask. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);

        r = open_state_store(&pg, &conninfo, &err);
        if (r >= 0)
                r = migrate(conninfo, &err);
        if (r < 0) {
                log_error("%s", err.msg);
                embedded_pg_stop(pg);
                return r;
        }

        if (arg_role != ROLE_CONTROLLER) {
                ApiConfig acfg = {.listen = arg_listen,
                                  .conninfo = conninfo,
                                  .engine = &engine,
                                  .store_pool_size = 4,
                                  .master_key_file = master_key_file,
                                  .auth = exposure.auth,
                                  .jwt_key_file = jwt_key_file,
                                  .tls_cert_file = exposure.tls ? arg_tls_cert : NULL,
                                  .tls_key_file = exposure.tls ? arg_tls_key : NULL};
                r = api_server_start(&acfg, &api, &err);
                if (r < 0) {
                        log_error("API: %s", err.msg);
                        embedded_pg_stop(pg);
                        return r;
                }
                log_info("API listening on %s://%s (authentication %s)",
                         exposure.tls ? "https" : "http", arg_listen, exposure.auth ? "on" : "off");
        }
        if (arg_role != ROLE_API) {
                (void) gethostname(host, sizeof(host) - 1);
                snprintf(holder, sizeof(holder), "%s:%d", host, (int) getpid());
                ControllerConfig ccfg = {.conninfo = conninfo,
                                         .engine = &engine,
                                         .workers = arg_workers,
                                         .relist_interval = (usec_t) arg_relist_sec * USEC_PER_SEC,
                                         .holder = holder,
                                         .master_key_file = master_key_file};
                r = controller_start(&ccfg, &ctl, &err);
                if (r < 0) {
                        log_error("controller: %s", err.msg);
                        api_server_stop(api);
                        embedded_pg_stop(pg);
                        return r;
                }
                log_info("controller started (%d workers, engine %s)", arg_workers,
                         strna(engine.host));
        }

        log_info("berthd %s ready", BERTH_VERSION);
        (void) sigwait(&mask, &sig);
        log_info("signal %d: stopping", sig);

        controller_stop(ctl);
        api_server_stop(api);
        embedded_pg_stop(pg);
        return 0;
}

int main(int argc, char **argv) {
        int r;

        signal(SIGPIPE, SIG_IGN);
        alloc_install_cjson();
        if (argc > 1 && streq(argv[1], "init-admin"))
                return api_init_admin_main(argc - 1, argv + 1);
        r = parse_args(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("libcurl failed to initialise");
                return 1;
        }
        r = run();
        curl_global_cleanup();
        return r < 0 ? 1 : 0;
}
