/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "util/common.h"

#include "cli/cli.h"
#include "cli/cmd-secret.h"
#include "model/resource.h"

/* berth secret: a thin client of /api/v1/secrets. The value goes to berthd as the raw body of a
 * PUT (application/octet-stream); only `get` prints one, on standard output alone. The buffers
 * that held a value are wiped. */

#define SECRET_CLI_VALUE_MAX (64 * 1024) /* berthd's own cap (store/secrets.h SECRET_VALUE_MAX) */

enum {
        ARG_FROM_FILE = 0x400,
        ARG_FROM_LITERAL,
        ARG_FROM_STDIN,
};

static const char usage_secret[] =
        "Usage: berth secret set NAME (--from-file FILE | --from-literal VALUE | --from-stdin) "
        "[-p PROJECT]\n"
        "       berth secret get NAME [-p PROJECT] [-o json|yaml]\n"
        "       berth secret list [-p PROJECT] [-o table|json|yaml]\n"
        "       berth secret delete NAME [-p PROJECT]\n"
        "\n"
        "Secrets of a project (owner role), stored encrypted (AES-256-GCM under berthd's master\n"
        "key). A spec names them in spec.secrets ({KEY: {secret: NAME, as: env|file}}); setting a\n"
        "different value makes a new version and rolls the services that use it. Values are the\n"
        "exact bytes given (a trailing newline of a file or of standard input is kept), 1 byte to\n"
        "64 KiB. Only get shows a value: the exact bytes on standard output, nothing else (a\n"
        "newline is added on a terminal), so PASSWORD=$(berth secret get NAME) works; every get\n"
        "is audited (secret_reveal). A pg_single without spec.password has its password in the\n"
        "secret NAME-password. --from-literal puts the value on the command line, where other\n"
        "users of the host may see it: prefer --from-file or --from-stdin. delete is refused\n"
        "while a resource references the secret.\n"
        "\n"
        "      --from-file=FILE     the value is the content of FILE\n"
        "      --from-literal=VALUE the value is VALUE\n"
        "      --from-stdin         the value is all of standard input\n"
        "  -o, --output=FORMAT      list: table (default), json or yaml; get: json or yaml (the\n"
        "                           API's answer, value included)\n"
        "  -p, --project=NAME       project (default \"default\")\n" CLI_COMMON_HELP;

typedef struct SecretArgs {
        const char *from_file;
        char *from_literal; /* points into argv: wiped once copied */
        bool from_stdin;
        int n_sources;
        OutputFormat output;
        char **pos;
        int n_pos;
} SecretArgs;

static int secret_parse(Cli *c, int argc, char **argv, SecretArgs *a) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"from-file", required_argument, NULL, ARG_FROM_FILE},
                {"from-literal", required_argument, NULL, ARG_FROM_LITERAL},
                {"from-stdin", no_argument, NULL, ARG_FROM_STDIN},
                {"output", required_argument, NULL, 'o'},
                {},
        };
        int opt;

        *a = (SecretArgs){.output = OUTPUT_TABLE};
        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage_secret);
                case ARG_FROM_FILE:
                        a->from_file = optarg;
                        a->n_sources++;
                        break;
                case ARG_FROM_LITERAL:
                        a->from_literal = optarg;
                        a->n_sources++;
                        break;
                case ARG_FROM_STDIN:
                        a->from_stdin = true;
                        a->n_sources++;
                        break;
                case 'o':
                        a->output = output_format_from_string(optarg);
                        if (a->output < 0)
                                return cli_usage_error(usage_secret, "unknown output format '%s'",
                                                       optarg);
                        break;
                default:
                        return cli_usage_short(usage_secret);
                }
        }
        if (optind >= argc)
                return cli_usage_error(usage_secret,
                                       "expected a subcommand: set, get, list or delete");
        a->pos = argv + optind;
        a->n_pos = argc - optind;
        return -1;
}

static void closep(int *fd) {
        if (*fd > STDERR_FILENO)
                (void) close(*fd);
}

/* Reads all of fd into out, allocated once at its cap so no growth leaves copies behind. */
static int read_value_fd(int fd, const char *what, Buf *out, Error *reterr) {
        char sbuf[128];

        out->buf = b_malloc(SECRET_CLI_VALUE_MAX + 2);
        if (!out->buf)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        out->alloc = SECRET_CLI_VALUE_MAX + 2;
        out->max = SECRET_CLI_VALUE_MAX + 1;
        out->len = 0;
        for (;;) {
                ssize_t k = read(fd, out->buf + out->len, out->max - out->len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = -errno;
                        return err_set(reterr, e, NULL, "cannot read %s: %s", what,
                                       err_str(e, sbuf, sizeof(sbuf)));
                }
                if (k == 0)
                        break;
                out->len += (size_t) k;
                if (out->len > SECRET_CLI_VALUE_MAX)
                        return err_set(reterr, -E2BIG, NULL, "%s is larger than %d bytes", what,
                                       SECRET_CLI_VALUE_MAX);
        }
        out->buf[out->len] = 0;
        return 0;
}

static int read_value(SecretArgs *a, Buf *out, Error *reterr) {
        _cleanup_(closep) int fd = -1;
        char sbuf[128];
        size_t n;

        if (a->from_literal) {
                n = strlen(a->from_literal);
                if (n > SECRET_CLI_VALUE_MAX)
                        return err_set(reterr, -E2BIG, NULL, "the value is larger than %d bytes",
                                       SECRET_CLI_VALUE_MAX);
                out->buf = b_malloc(n + 1);
                if (!out->buf)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                memcpy(out->buf, a->from_literal, n + 1);
                out->len = n;
                out->alloc = n + 1;
                out->max = n;
                /* Shortens the time the value shows in /proc/PID/cmdline. */
                explicit_bzero(a->from_literal, n);
                return 0;
        }
        if (a->from_stdin)
                return read_value_fd(STDIN_FILENO, "standard input", out, reterr);

        fd = open(a->from_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int e = -errno;
                return err_set(reterr, e, NULL, "cannot open %s: %s", a->from_file,
                               err_str(e, sbuf, sizeof(sbuf)));
        }
        return read_value_fd(fd, a->from_file, out, reterr);
}

static int secret_set(Cli *c, SecretArgs *a) {
        _cleanup_(buf_release_secure) Buf value = {};
        _cleanup_(buf_release) Buf path = BUF_INIT(512);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        Error err = ERROR_INIT;
        int64_t version = 0;
        const char *outcome;
        int r;

        if (a->n_pos != 2)
                return cli_usage_error(usage_secret, "expected: secret set NAME --from-...");
        if (a->n_sources != 1)
                return cli_usage_error(usage_secret, "give exactly one of --from-file, "
                                                     "--from-literal and --from-stdin");
        if (!name_is_valid(a->pos[1]))
                return cli_usage_error(usage_secret,
                                       "secret names are DNS labels ([a-z0-9-], at most %d "
                                       "characters): '%s'",
                                       NAME_MAX_LEN, a->pos[1]);

        r = read_value(a, &value, &err);
        if (r < 0)
                return cli_fail(&err);
        if (value.len == 0)
                return cli_fail(&(Error){.code = -EINVAL, .msg = "the value is empty"});

        if (api_path(&path, "/api/v1/secrets/{}/{}", cli_project(c), a->pos[1]) < 0)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        r = api_call(c, "PUT", path.buf, "application/octet-stream", value.buf, value.len, &answer,
                     &err);
        if (r < 0)
                return cli_fail(&err);
        outcome = json_str(answer, "outcome");
        if (!json_int(answer, "version", &version))
                return cli_fail(&(Error){.code = -EBADMSG, .msg = "unexpected answer from berthd"});
        printf("secret/%s %s (version %" PRId64 ", project %s)\n", a->pos[1],
               outcome ? outcome : "set", version, cli_project(c));
        return CLI_EXIT_OK;
}

static int secret_list(Cli *c, const SecretArgs *a) {
        static const char *const header[] = {"NAME", "VERSION", "AGE", "UPDATED"};
        _cleanup_(buf_release) Buf path = BUF_INIT(512);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        _cleanup_(table_release) Table t = {0};
        Error err = ERROR_INIT;
        usec_t now = now_realtime();
        const cJSON *it;
        int r;

        if (a->n_pos != 1)
                return cli_usage_error(usage_secret, "too many arguments");
        if (a->n_sources > 0)
                return cli_usage_error(usage_secret, "--from-* options go with set");
        if (buf_puts(&path, "/api/v1/secrets") < 0 ||
            api_query(&path, "project", cli_project(c)) < 0)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        r = api_get(c, path.buf, &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        if (a->output != OUTPUT_TABLE)
                return cli_print_answer(answer, a->output);

        table_init(&t, ELEMENTSOF(header));
        r = table_add_row(&t, header, ELEMENTSOF(header));
        cJSON_ArrayForEach(it, json_get(answer, "items")) {
                char version[32], age[32], updated[32];

                if (r < 0)
                        break;
                if (!json_text(it, "version", version, sizeof(version)))
                        snprintf(version, sizeof(version), "-");
                format_age(json_str(it, "created_at"), now, age, sizeof(age));
                format_age(json_str(it, "updated_at"), now, updated, sizeof(updated));
                r = table_add_row(
                        &t, (const char *const[]){json_str(it, "name"), version, age, updated}, 4);
        }
        if (r >= 0 && table_rows(&t) <= 1) {
                fprintf(stderr, "no secrets in project %s\n", cli_project(c));
                return CLI_EXIT_OK;
        }
        if (r >= 0)
                r = table_print(&t, stdout);
        return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

/* The API answers {value, encoding: utf-8|base64}: the bytes as they were set, into out. */
static int answer_value(const cJSON *answer, Buf *out, Error *reterr) {
        const char *v = json_str(answer, "value"), *enc = json_str(answer, "encoding");
        size_t n;
        int k;

        if (!v)
                return err_set(reterr, -EBADMSG, NULL, "unexpected answer from berthd");
        n = strlen(v);
        if (!enc || streq(enc, "utf-8")) {
                out->buf = b_malloc(n + 1);
                if (!out->buf)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                memcpy(out->buf, v, n + 1);
                out->len = n;
                out->alloc = out->max = n + 1;
                return 0;
        }
        if (!streq(enc, "base64") || n % 4 != 0)
                return err_set(reterr, -EBADMSG, NULL, "unexpected value encoding from berthd");
        out->buf = b_malloc(n / 4 * 3 + 1);
        if (!out->buf)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        out->alloc = out->max = n / 4 * 3 + 1;
        k = EVP_DecodeBlock((unsigned char *) out->buf, (const unsigned char *) v, (int) n);
        if (k < 0)
                return err_set(reterr, -EBADMSG, NULL, "unexpected value encoding from berthd");
        /* EVP_DecodeBlock counts the padding's bytes too. */
        if (n > 0 && v[n - 1] == '=')
                k--;
        if (n > 1 && v[n - 2] == '=')
                k--;
        out->len = (size_t) k;
        out->buf[out->len] = 0;
        return 0;
}

/* Wipes every string of an answer that held a value before freeing it. */
static void answer_wipe(cJSON *j) {
        for (cJSON *it = j; it; it = it->next) {
                if (it->valuestring)
                        explicit_bzero(it->valuestring, strlen(it->valuestring));
                answer_wipe(it->child);
        }
}

static void answer_wipe_deletep(cJSON **j) {
        if (!*j)
                return;
        answer_wipe(*j);
        cJSON_Delete(*j);
}

static int secret_get(Cli *c, const SecretArgs *a) {
        _cleanup_(buf_release) Buf path = BUF_INIT(512);
        _cleanup_(answer_wipe_deletep) cJSON *answer = NULL;
        _cleanup_(buf_release_secure) Buf value = {};
        Error err = ERROR_INIT;
        int r;

        if (a->n_pos != 2)
                return cli_usage_error(usage_secret, "expected: secret get NAME");
        if (a->n_sources > 0)
                return cli_usage_error(usage_secret, "--from-* options go with set");
        if (!name_is_valid(a->pos[1]))
                return cli_usage_error(usage_secret,
                                       "secret names are DNS labels ([a-z0-9-], at most %d "
                                       "characters): '%s'",
                                       NAME_MAX_LEN, a->pos[1]);
        if (api_path(&path, "/api/v1/secrets/{}/{}", cli_project(c), a->pos[1]) < 0)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        r = api_get(c, path.buf, &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        if (a->output != OUTPUT_TABLE)
                return cli_print_answer(answer, a->output);
        r = answer_value(answer, &value, &err);
        if (r < 0)
                return cli_fail(&err);
        if (fwrite(value.buf, 1, value.len, stdout) != value.len)
                return CLI_EXIT_FAILURE;
        if (isatty(STDOUT_FILENO) && (value.len == 0 || value.buf[value.len - 1] != '\n'))
                putchar('\n');
        return CLI_EXIT_OK;
}

static int secret_delete(Cli *c, const SecretArgs *a) {
        _cleanup_(buf_release) Buf path = BUF_INIT(512);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        Error err = ERROR_INIT;
        int r;

        if (a->n_pos != 2)
                return cli_usage_error(usage_secret, "expected: secret delete NAME");
        if (a->n_sources > 0)
                return cli_usage_error(usage_secret, "--from-* options go with set");
        if (api_path(&path, "/api/v1/secrets/{}/{}", cli_project(c), a->pos[1]) < 0)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        r = api_call(c, "DELETE", path.buf, NULL, NULL, 0, &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("secret/%s deleted (project %s)\n", a->pos[1], cli_project(c));
        return CLI_EXIT_OK;
}

int cmd_secret(Cli *c, int argc, char **argv) {
        SecretArgs a;
        int r;

        r = secret_parse(c, argc, argv, &a);
        if (r >= 0)
                return r;
        if (streq(a.pos[0], "set"))
                return secret_set(c, &a);
        if (streq(a.pos[0], "get"))
                return secret_get(c, &a);
        if (streq(a.pos[0], "list"))
                return secret_list(c, &a);
        if (streq(a.pos[0], "delete"))
                return secret_delete(c, &a);
        return cli_usage_error(usage_secret, "unknown subcommand '%s'", a.pos[0]);
}
