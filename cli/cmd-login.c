/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "util/common.h"

#include "cli/cli.h"
#include "cli/cmd-auth.h"

/* berth login / berth logout: a session token kept in $XDG_CONFIG_HOME/berth/token
 * (~/.config/berth/token), directory 0700, file 0600, which cli_token() then sends. */

#define CLI_MAX_PASSWORD 1024
#define CLI_MAX_USERNAME 64

enum {
        ARG_PASSWORD_STDIN = 0x200,
        ARG_REFRESH,
};

static const char usage_login[] =
        "Usage: berth login [--username NAME] [--password-stdin] [--refresh]\n"
        "\n"
        "Logs in to berthd and keeps the session token (valid 15 minutes) in\n"
        "~/.config/berth/token ($XDG_CONFIG_HOME/berth/token), which every command then sends.\n"
        "For automation, use an API token instead (berth token create).\n"
        "\n"
        "  -u, --username=NAME  user name (asked on a terminal when not given)\n"
        "      --password-stdin read the password from the first line of standard input\n"
        "                       (else it is asked on the terminal, without echo)\n"
        "      --refresh        trade the current session token for a new one\n" CLI_COMMON_HELP;

static const char usage_logout[] =
        "Usage: berth logout\n"
        "\n"
        "Revokes the session token on berthd and removes ~/.config/berth/token.\n"
        "\n" CLI_COMMON_HELP;

static char *token_file_path(void) {
        _cleanup_(buf_release) Buf p = BUF_INIT(PATH_MAX);
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        int r;

        if (!isempty(xdg))
                r = buf_printf(&p, "%s/berth/token", xdg);
        else if (!isempty(home))
                r = buf_printf(&p, "%s/.config/berth/token", home);
        else
                return NULL;
        return r < 0 ? NULL : buf_take(&p);
}

static void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}

/* mkdir -p, each missing directory 0700. */
static int mkdir_parents(const char *dir) {
        _cleanup_free_ char *p = b_strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                bool end = *s == 0;

                if (*s != '/' && !end)
                        continue;
                *s = 0;
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return -errno;
                if (end)
                        return 0;
                *s = '/';
        }
}

/* Written to a temporary file in the same directory, then renamed over the old one. */
static int token_save(const char *token, Error *reterr) {
        _cleanup_free_ char *path = token_file_path();
        _cleanup_(buf_release) Buf tmp = BUF_INIT(PATH_MAX);
        _cleanup_(closep) int fd = -1;
        char *slash;
        size_t n = strlen(token);
        int r;

        if (!path)
                return err_set(reterr, -ENOENT, NULL, "neither XDG_CONFIG_HOME nor HOME is set");
        slash = strrchr(path, '/');
        *slash = 0;
        r = mkdir_parents(path);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot create %s: %m", path);
        if (chmod(path, 0700) < 0)
                return err_set(reterr, -errno, NULL, "cannot chmod %s: %m", path);
        r = buf_printf(&tmp, "%s/.token.XXXXXX", path);
        *slash = '/';
        if (r < 0)
                return err_set(reterr, r, NULL, "path too long");

        fd = mkstemp(tmp.buf);
        if (fd < 0)
                return err_set(reterr, -errno, NULL, "cannot create %s: %m", tmp.buf);
        if (fchmod(fd, 0600) < 0 || write(fd, token, n) != (ssize_t) n || write(fd, "\n", 1) != 1 ||
            fsync(fd) < 0) {
                r = -errno;
                (void) unlink(tmp.buf);
                return err_set(reterr, r ? r : -EIO, NULL, "cannot write %s", tmp.buf);
        }
        if (rename(tmp.buf, path) < 0) {
                r = -errno;
                (void) unlink(tmp.buf);
                return err_set(reterr, r, NULL, "cannot write %s: %m", path);
        }
        return 0;
}

static int read_line_fd(int fd, Buf *out) {
        for (;;) {
                char ch;
                ssize_t n = read(fd, &ch, 1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0 || ch == '\n')
                        return 0;
                if (ch == '\r')
                        continue;
                if (buf_putc(out, ch) < 0)
                        return -E2BIG;
        }
}

int cli_read_password(bool from_stdin, const char *prompt, char **ret, Error *reterr) {
        _cleanup_(buf_release) Buf b = BUF_INIT(CLI_MAX_PASSWORD);
        _cleanup_(closep) int tty = -1;
        struct termios old, quiet;
        int r;

        if (from_stdin)
                r = read_line_fd(STDIN_FILENO, &b);
        else {
                tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (tty < 0 || tcgetattr(tty, &old) < 0)
                        return err_set(reterr, -ENOTTY, NULL,
                                       "no terminal to ask for the password: use "
                                       "--password-stdin");
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
                quiet.c_lflag |= ICANON;
                if (write(tty, prompt, strlen(prompt)) < 0 || tcsetattr(tty, TCSAFLUSH, &quiet) < 0)
                        return err_set(reterr, -EIO, NULL, "cannot use the terminal");
                r = read_line_fd(tty, &b);
                (void) tcsetattr(tty, TCSAFLUSH, &old);
                DISCARD(write(tty, "\n", 1));
        }
        if (r < 0) {
                if (b.buf)
                        OPENSSL_cleanse(b.buf, b.len);
                return err_set(reterr, r, NULL,
                               r == -E2BIG ? "password longer than 1024 bytes"
                                           : "cannot read the password");
        }
        if (b.len == 0)
                return err_set(reterr, -EINVAL, NULL, "empty password");
        *ret = buf_take(&b);
        return *ret ? 0 : err_set(reterr, -ENOMEM, NULL, "out of memory");
}

static int read_username(char *buf, size_t n, Error *reterr) {
        _cleanup_(buf_release) Buf b = BUF_INIT(CLI_MAX_USERNAME + 1);
        _cleanup_(closep) int tty = -1;
        int r;

        tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty < 0 || !isatty(STDIN_FILENO))
                return err_set(reterr, -ENOTTY, NULL, "no terminal: give --username");
        if (write(tty, "Username: ", 10) < 0)
                return err_set(reterr, -EIO, NULL, "cannot use the terminal");
        r = read_line_fd(tty, &b);
        if (r < 0 || b.len == 0)
                return err_set(reterr, -EINVAL, NULL, "no user name given");
        snprintf(buf, n, "%s", b.buf);
        return 0;
}

/* Saves the session token of a login or refresh answer. */
static int session_save(const cJSON *answer, Error *reterr) {
        const char *token = json_str(answer, "token");

        if (isempty(token))
                return err_set(reterr, -EBADMSG, NULL, "berthd's answer has no token");
        return token_save(token, reterr);
}

static int login_refresh(Cli *c) {
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        Error err = ERROR_INIT;
        char when[64];
        int r;

        r = api_call(c, "POST", "/api/v1/auth/refresh", NULL, NULL, 0, &answer, &err);
        if (r >= 0)
                r = session_save(answer, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("session renewed for %s until %s\n", strna(json_str(answer, "username")),
               format_time_local(json_str(answer, "expires_at"), when, sizeof(when)));
        return CLI_EXIT_OK;
}

int cmd_login(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"username", required_argument, NULL, 'u'},
                {"password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN},
                {"refresh", no_argument, NULL, ARG_REFRESH},
                {},
        };
        _cleanup_(cJSON_Deletep) cJSON *body = NULL, *answer = NULL;
        _cleanup_free_ char *password = NULL, *json = NULL;
        char username[CLI_MAX_USERNAME + 1] = "", when[64];
        bool from_stdin = false, refresh = false;
        Error err = ERROR_INIT;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "u:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage_login);
                case 'u':
                        if (isempty(optarg) || strlen(optarg) > CLI_MAX_USERNAME)
                                return cli_usage_error(usage_login, "bad user name");
                        snprintf(username, sizeof(username), "%s", optarg);
                        break;
                case ARG_PASSWORD_STDIN:
                        from_stdin = true;
                        break;
                case ARG_REFRESH:
                        refresh = true;
                        break;
                default:
                        return cli_usage_short(usage_login);
                }
        }
        if (optind != argc)
                return cli_usage_error(usage_login, "too many arguments");
        if (refresh)
                return login_refresh(c);

        if (!username[0] && read_username(username, sizeof(username), &err) < 0)
                return cli_usage_error(usage_login, "%s", err.msg);
        r = cli_read_password(from_stdin, "Password: ", &password, &err);
        if (r < 0)
                return cli_fail(&err);

        body = cJSON_CreateObject();
        if (!body || !cJSON_AddStringToObject(body, "username", username) ||
            !cJSON_AddStringToObject(body, "password", password))
                r = -ENOMEM;
        OPENSSL_cleanse(password, strlen(password));
        if (r >= 0) {
                json = cJSON_PrintUnformatted(body);
                r = json ? 0 : -ENOMEM;
        }
        if (r < 0)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});

        r = api_call(c, "POST", "/api/v1/auth/login", "application/json", json, strlen(json),
                     &answer, &err);
        OPENSSL_cleanse(json, strlen(json));
        if (r >= 0)
                r = session_save(answer, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("logged in to %s as %s (session until %s)\n", c->server, username,
               format_time_local(json_str(answer, "expires_at"), when, sizeof(when)));
        return CLI_EXIT_OK;
}

int cmd_logout(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {},
        };
        _cleanup_free_ char *path = NULL;
        Error err = ERROR_INIT;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage_logout);
                default:
                        return cli_usage_short(usage_logout);
                }
        }
        if (optind != argc)
                return cli_usage_error(usage_logout, "too many arguments");

        if (cli_token(c)) {
                r = api_call(c, "POST", "/api/v1/auth/logout", NULL, NULL, 0, NULL, &err);
                /* An ended session (401) is as good as revoked; anything else is worth saying. */
                if (r < 0 && r != -EACCES) {
                        (void) cli_fail(&err);
                        if (r != -EINVAL)
                                return CLI_EXIT_FAILURE;
                }
        }
        path = token_file_path();
        if (path && unlink(path) < 0 && errno != ENOENT) {
                fprintf(stderr, "error: cannot remove %s: %s\n", path,
                        err_str(-errno, (char[128]){}, 128));
                return CLI_EXIT_FAILURE;
        }
        printf("logged out\n");
        return CLI_EXIT_OK;
}
