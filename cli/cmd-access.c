/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "util/common.h"

#include "cli/cli.h"
#include "cli/cmd-auth.h"

/* berth token | user | member: thin clients of /api/v1/tokens, /api/v1/users and
 * /api/v1/projects/{project}/members. */

enum {
        ARG_ROLE = 0x300,
        ARG_EXPIRES_IN,
        ARG_ADMIN,
        ARG_PASSWORD_STDIN_,
};

static const char usage_token[] =
        "Usage: berth token create NAME --role ROLE [-p PROJECT] [--expires-in 30d]\n"
        "       berth token list [-o table|json|yaml]\n"
        "       berth token delete ID\n"
        "\n"
        "API tokens for automation (owner of the project). A token acts in one project with at\n"
        "most its role (viewer, operator, editor, owner) and at most its creator's current role.\n"
        "create prints the token itself on standard output, once: keep it (BERTH_TOKEN).\n"
        "\n"
        "      --role=ROLE      viewer, operator, editor or owner\n"
        "      --expires-in=D   lifetime: 1h, 30d, ... (default 30d, at most 366d)\n"
        "  -o, --output=FORMAT  table (default), json or yaml\n"
        "  -p, --project=NAME   project (default \"default\")\n" CLI_COMMON_HELP;

static const char usage_user[] =
        "Usage: berth user create NAME [--admin] [--password-stdin]\n"
        "       berth user list [-o table|json|yaml]\n"
        "\n"
        "Users (admin only). The password is asked on the terminal, or read from the first line\n"
        "of standard input with --password-stdin (8 to 1024 bytes).\n"
        "\n"
        "      --admin          the user administers every project and the users\n"
        "      --password-stdin read the password from standard input\n"
        "  -o, --output=FORMAT  table (default), json or yaml\n" CLI_COMMON_HELP;

static const char usage_member[] =
        "Usage: berth member list [-p PROJECT] [-o table|json|yaml]\n"
        "       berth member set USER ROLE [-p PROJECT]\n"
        "       berth member remove USER [-p PROJECT]\n"
        "\n"
        "A project's members and their roles: viewer (read), operator (actions), editor (apply,\n"
        "delete), owner (members and tokens). set and remove need owner in the project.\n"
        "\n"
        "  -o, --output=FORMAT  table (default), json or yaml\n"
        "  -p, --project=NAME   project (default \"default\")\n" CLI_COMMON_HELP;

typedef struct AccessArgs {
        const char *role;
        const char *expires_in;
        bool admin;
        bool password_stdin;
        OutputFormat output;
        char **pos; /* positional arguments, borrowed from argv */
        int n_pos;
} AccessArgs;

/* Options and positional arguments of every subcommand (getopt permutes them). Returns -1 to go
 * on, else the exit code. */
static int access_parse(Cli *c, const char *usage, int argc, char **argv, AccessArgs *a) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"role", required_argument, NULL, ARG_ROLE},
                {"expires-in", required_argument, NULL, ARG_EXPIRES_IN},
                {"admin", no_argument, NULL, ARG_ADMIN},
                {"password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN_},
                {"output", required_argument, NULL, 'o'},
                {},
        };
        int opt;

        *a = (AccessArgs){.output = OUTPUT_TABLE};
        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage);
                case ARG_ROLE:
                        a->role = optarg;
                        break;
                case ARG_EXPIRES_IN:
                        a->expires_in = optarg;
                        break;
                case ARG_ADMIN:
                        a->admin = true;
                        break;
                case ARG_PASSWORD_STDIN_:
                        a->password_stdin = true;
                        break;
                case 'o':
                        a->output = output_format_from_string(optarg);
                        if (a->output < 0)
                                return cli_usage_error(usage, "unknown output format '%s'", optarg);
                        break;
                default:
                        return cli_usage_short(usage);
                }
        }
        if (optind >= argc)
                return cli_usage_error(usage, "expected a subcommand");
        a->pos = argv + optind;
        a->n_pos = argc - optind;
        return -1;
}

static int send_json(Cli *c, const char *method, const char *path, cJSON *body, cJSON **ret,
                     Error *reterr) {
        _cleanup_free_ char *json = NULL;
        int r;

        if (!body)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        json = cJSON_PrintUnformatted(body);
        if (!json)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = api_call(c, method, path, "application/json", json, strlen(json), ret, reterr);
        OPENSSL_cleanse(json, strlen(json));
        return r;
}

/* {"items": [...]} as a table of the given columns, or the whole answer as json/yaml. */
static int print_items(const cJSON *answer, OutputFormat output, const char *const *headers,
                       const char *const *paths, size_t n) {
        _cleanup_(table_release) Table t = {0};
        const cJSON *items = json_get(answer, "items"), *it;
        char buf[128];
        int r = 0;

        if (output == OUTPUT_JSON)
                r = print_json(answer, stdout);
        else if (output == OUTPUT_YAML)
                r = print_yaml(answer, stdout);
        if (output != OUTPUT_TABLE)
                return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;

        table_init(&t, n);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = table_add(&t, headers[i]);
        cJSON_ArrayForEach(it, items) {
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        const char *v = json_text(it, paths[i], buf, sizeof(buf));
                        r = table_add(&t, v ? v : "-");
                }
        }
        if (r >= 0)
                r = table_print(&t, stdout);
        return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static int simple_call(Cli *c, const char *method, const char *path, cJSON *body,
                       const char *done) {
        _cleanup_(cJSON_Deletep) cJSON *b = body, *answer = NULL;
        Error err = ERROR_INIT;
        int r;

        r = b ? send_json(c, method, path, b, &answer, &err)
              : api_call(c, method, path, NULL, NULL, 0, &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("%s\n", done);
        return CLI_EXIT_OK;
}

/* ---- berth token ---------------------------------------------------------------------------- */

static int token_create(Cli *c, const AccessArgs *a) {
        _cleanup_(cJSON_Deletep) cJSON *body = cJSON_CreateObject(), *answer = NULL;
        Error err = ERROR_INIT;
        usec_t ttl = 0;
        const char *token;
        int r;

        if (a->n_pos != 2)
                return cli_usage_error(usage_token, "expected: token create NAME --role ROLE");
        if (!a->role)
                return cli_usage_error(usage_token, "--role is needed");
        if (a->expires_in && (parse_duration(a->expires_in, &ttl) < 0 || ttl < USEC_PER_SEC))
                return cli_usage_error(usage_token, "bad --expires-in '%s'", a->expires_in);
        if (!body || !cJSON_AddStringToObject(body, "name", a->pos[1]) ||
            !cJSON_AddStringToObject(body, "project", cli_project(c)) ||
            !cJSON_AddStringToObject(body, "role", a->role) ||
            (a->expires_in &&
             !cJSON_AddNumberToObject(body, "expires_in", (double) (ttl / USEC_PER_SEC))))
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});

        r = send_json(c, "POST", "/api/v1/tokens", body, &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        token = json_str(answer, "token");
        if (!token)
                return cli_fail(&(Error){.code = -EBADMSG, .msg = "berthd's answer has no token"});
        fprintf(stderr, "token %s (%s, role %s in project %s, expires %s); shown once:\n",
                strna(json_str(answer, "id")), a->pos[1], a->role, cli_project(c),
                strna(json_str(answer, "expires_at")));
        printf("%s\n", token);
        return CLI_EXIT_OK;
}

int cmd_token(Cli *c, int argc, char **argv) {
        static const char *const headers[] = {"ID", "NAME", "PROJECT", "ROLE", "OWNER", "EXPIRES"};
        static const char *const paths[] = {"id", "name", "project", "role", "owner", "expires_at"};
        _cleanup_(buf_release) Buf path = BUF_INIT(256);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        Error err = ERROR_INIT;
        AccessArgs a;
        int r;

        r = access_parse(c, usage_token, argc, argv, &a);
        if (r >= 0)
                return r;
        if (streq(a.pos[0], "create"))
                return token_create(c, &a);
        if (streq(a.pos[0], "list")) {
                if (a.n_pos != 1)
                        return cli_usage_error(usage_token, "too many arguments");
                r = api_get(c, "/api/v1/tokens", &answer, &err);
                if (r < 0)
                        return cli_fail(&err);
                return print_items(answer, a.output, headers, paths, ELEMENTSOF(headers));
        }
        if (streq(a.pos[0], "delete")) {
                if (a.n_pos != 2)
                        return cli_usage_error(usage_token, "expected: token delete ID");
                if (api_path(&path, "/api/v1/tokens/{}", a.pos[1]) < 0)
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
                return simple_call(c, "DELETE", path.buf, NULL, "token deleted");
        }
        return cli_usage_error(usage_token, "unknown subcommand '%s'", a.pos[0]);
}

/* ---- berth user ----------------------------------------------------------------------------- */

int cmd_user(Cli *c, int argc, char **argv) {
        static const char *const headers[] = {"USER", "ADMIN", "CREATED"};
        static const char *const paths[] = {"username", "admin", "created_at"};
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL, *body = NULL;
        _cleanup_free_ char *password = NULL;
        Error err = ERROR_INIT;
        AccessArgs a;
        bool ok;
        int r;

        r = access_parse(c, usage_user, argc, argv, &a);
        if (r >= 0)
                return r;
        if (streq(a.pos[0], "list")) {
                if (a.n_pos != 1)
                        return cli_usage_error(usage_user, "too many arguments");
                r = api_get(c, "/api/v1/users", &answer, &err);
                if (r < 0)
                        return cli_fail(&err);
                return print_items(answer, a.output, headers, paths, ELEMENTSOF(headers));
        }
        if (!streq(a.pos[0], "create"))
                return cli_usage_error(usage_user, "unknown subcommand '%s'", a.pos[0]);
        if (a.n_pos != 2)
                return cli_usage_error(usage_user, "expected: user create NAME");

        r = cli_read_password(a.password_stdin, "Password for the new user: ", &password, &err);
        if (r < 0)
                return cli_fail(&err);
        body = cJSON_CreateObject();
        ok = body && cJSON_AddStringToObject(body, "username", a.pos[1]) &&
             cJSON_AddStringToObject(body, "password", password) &&
             cJSON_AddBoolToObject(body, "admin", a.admin);
        OPENSSL_cleanse(password, strlen(password));
        if (!ok)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        r = send_json(c, "POST", "/api/v1/users", body, &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("user %s created%s\n", a.pos[1], a.admin ? " (admin)" : "");
        return CLI_EXIT_OK;
}

/* ---- berth member --------------------------------------------------------------------------- */

int cmd_member(Cli *c, int argc, char **argv) {
        static const char *const headers[] = {"USER", "ROLE", "SINCE"};
        static const char *const paths[] = {"username", "role", "created_at"};
        _cleanup_(buf_release) Buf path = BUF_INIT(512);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        Error err = ERROR_INIT;
        AccessArgs a;
        int r;

        r = access_parse(c, usage_member, argc, argv, &a);
        if (r >= 0)
                return r;
        if (streq(a.pos[0], "list")) {
                if (a.n_pos != 1)
                        return cli_usage_error(usage_member, "too many arguments");
                if (api_path(&path, "/api/v1/projects/{}/members", cli_project(c)) < 0)
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
                r = api_get(c, path.buf, &answer, &err);
                if (r < 0)
                        return cli_fail(&err);
                return print_items(answer, a.output, headers, paths, ELEMENTSOF(headers));
        }
        if (streq(a.pos[0], "set")) {
                cJSON *body;

                if (a.n_pos != 3)
                        return cli_usage_error(usage_member, "expected: member set USER ROLE");
                if (api_path(&path, "/api/v1/projects/{}/members/{}", cli_project(c), a.pos[1]) < 0)
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
                body = cJSON_CreateObject();
                if (!body || !cJSON_AddStringToObject(body, "role", a.pos[2])) {
                        cJSON_Delete(body);
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
                }
                return simple_call(c, "PUT", path.buf, body, "member set");
        }
        if (streq(a.pos[0], "remove")) {
                if (a.n_pos != 2)
                        return cli_usage_error(usage_member, "expected: member remove USER");
                if (api_path(&path, "/api/v1/projects/{}/members/{}", cli_project(c), a.pos[1]) < 0)
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
                return simple_call(c, "DELETE", path.buf, NULL, "member removed");
        }
        return cli_usage_error(usage_member, "unknown subcommand '%s'", a.pos[0]);
}
