/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/time-util.h"

/* berth, the CLI: talks only to berthd's HTTP API (DESIGN.md part 1, "HTTP API" and "CLI"). */

#define CLI_DEFAULT_SERVER    "http://127.0.0.1:8080"
#define CLI_DEFAULT_PROJECT   "default"
#define CLI_MAX_RESPONSE      (8u * 1024 * 1024)  /* bytes of one API answer */
#define CLI_MAX_SSE_EVENT     (1024u * 1024)      /* bytes of one server-sent event */
#define CLI_MAX_OUTPUT        (64u * 1024 * 1024) /* bytes of one rendered page (YAML, tables) */
#define CLI_MAX_TOKEN         4096u               /* bytes of the token file */
#define CLI_REQUEST_TIMEOUT_S 30L
#define CLI_CONNECT_TIMEOUT_S 10L
#define CLI_WAIT_INTERVAL     (250 * USEC_PER_MSEC)
#define CLI_POLL_INTERVAL     (1 * USEC_PER_SEC)
#define CLI_DEFAULT_TIMEOUT   (120 * USEC_PER_SEC)

#define CLI_COMMON_HELP                                                                            \
        "      --server=URL     berthd's API (env BERTH_SERVER, default " CLI_DEFAULT_SERVER ")\n" \
        "      --token=TOKEN    API token (env BERTH_TOKEN, else ~/.config/berth/token)\n"         \
        "  -h, --help           show this help\n"

/* Exit codes of every command. */
enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_FAILURE = 1, /* API error, unreachable server, timeout */
        CLI_EXIT_USAGE = 2,
};

typedef enum OutputFormat {
        OUTPUT_TABLE,
        OUTPUT_JSON,
        OUTPUT_YAML,
        _OUTPUT_MAX,
        _OUTPUT_INVALID = -EINVAL,
} OutputFormat;

OutputFormat output_format_from_string(const char *s);

/* Per-invocation state, owned by main() and passed to every command (no globals). */
typedef struct Cli {
        const char *server;  /* base URL, borrowed from argv or the environment */
        const char *project; /* NULL: not given (all projects for list commands) */
        const char *token;   /* NULL: none given; see cli_token() */
        char *token_file;    /* owned: token read from ~/.config/berth/token */
        bool token_loaded;
        CURL *curl; /* one handle per process, reused so connections are kept alive */
        char curl_error[CURL_ERROR_SIZE];
} Cli;

void cli_init(Cli *c);
void cli_release(Cli *c);
/* The project for commands that address one resource: --project, else "default". */
const char *cli_project(const Cli *c);
/* --token, else BERTH_TOKEN, else the first line of $XDG_CONFIG_HOME/berth/token
 * (~/.config/berth/token). NULL when none. */
const char *cli_token(Cli *c);

/* Options every command accepts (after the command name too): --server, --project/-p, --token. */
enum {
        ARG_SERVER = 0x100,
        ARG_TOKEN,
        ARG_VERSION,
        ARG_DRY_RUN,
        ARG_FOR,
        ARG_TIMEOUT,
        ARG_TAIL,
        ARG_WAIT,
        ARG_IGNORE_NOT_FOUND,
};

#define CLI_COMMON_SHORTOPTS "hp:"
/* clang-format off */
#define CLI_COMMON_OPTIONS                                              \
        {"help", no_argument, NULL, 'h'},                               \
        {"server", required_argument, NULL, ARG_SERVER},                \
        {"project", required_argument, NULL, 'p'},                      \
        {"token", required_argument, NULL, ARG_TOKEN}
/* clang-format on */

/* Applies a common option to c. Returns true when opt was one. */
bool cli_common_option(Cli *c, int opt, const char *arg);

/* Usage handling. cli_usage_error() prints "berth: <why>" and the synopsis to stderr and
 * returns CLI_EXIT_USAGE; cli_help() prints the usage to stdout and returns CLI_EXIT_OK. */
int cli_usage_error(const char *usage, const char *fmt, ...) _printf_(2, 3);
/* After getopt has printed what is wrong: the synopsis only. */
int cli_usage_short(const char *usage);
int cli_help(const char *usage);

/* Prints "error: <message> (field <field>) [<code>]" to stderr and returns CLI_EXIT_FAILURE. */
int cli_fail(const Error *e);

/* Positional "KIND NAME" or "KIND/NAME" at args[0..n). Splits "KIND/NAME" in place.
 * Returns the number of arguments used (1 or 2), or -EINVAL. */
int cli_kind_name(char **args, int n, const char **ret_kind, const char **ret_name);
/* The same as a command's whole positional arguments. Returns CLI_EXIT_OK, or the exit code of
 * the usage error it printed ("expected KIND NAME", "too many arguments"). */
int cli_kind_name_args(const char *usage, char **args, int n, const char **ret_kind,
                       const char **ret_name) _warn_unused_result_;
/* Positional "[KIND [NAME]]" or "KIND/NAME" of list commands (get, events): kind and name are
 * NULL when not given. Returns as cli_kind_name_args(). */
int cli_scope_args(const char *usage, char **args, int n, const char **ret_kind,
                   const char **ret_name) _warn_unused_result_;

/* Prints an API answer for -o json or -o yaml (output is one of them) to stdout. Returns the exit
 * code. */
int cli_print_answer(const cJSON *answer, OutputFormat output) _warn_unused_result_;

/* "120s", "2m", "500ms", "1h30m", "1.5s", a bare number is seconds. */
int parse_duration(const char *s, usec_t *ret) _warn_unused_result_;
/* RFC 3339 ("2026-11-23T11:07:19.123Z", "+02:00") or PostgreSQL text ("2026-11-23 11:07:19+00"). */
int parse_timestamp(const char *s, usec_t *ret) _warn_unused_result_;
/* "5s", "3m", "2h", "4d" from the time since ts; "-" when ts is missing or unparsable. */
const char *format_age(const char *ts, usec_t now, char *buf, size_t n);
/* Local "YYYY-MM-DD HH:MM:SS" for an API timestamp; the raw text when unparsable. */
const char *format_time_local(const char *ts, char *buf, size_t n);
/* Sleeps for usec (the CLI may sleep; workers never do). */
void cli_sleep(usec_t usec);

/* A scalar at path as text (strings as is, numbers, booleans); NULL when absent or a container. */
const char *json_text(const cJSON *o, const char *path, char *buf, size_t n);
/* The items of a JSON array, oldest first (by "id", else "time"/"created_at", whichever order
 * the server used). *ret is the caller's (b_free), NULL when empty. */
int items_chronological(const cJSON *arr, const cJSON ***ret, size_t *ret_n) _warn_unused_result_;

/* JSON lookups by dotted path ("status.phase"); NULL or false when absent or of another type. */
const cJSON *json_get(const cJSON *o, const char *path);
const char *json_str(const cJSON *o, const char *path);
/* Numbers and numeric strings. */
bool json_int(const cJSON *o, const char *path, int64_t *ret);
/* The first path (NULL-terminated list) that holds a string. */
const char *json_str_any(const cJSON *o, ...);
bool json_int_any(const cJSON *o, int64_t *ret, ...);
DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete);

/* Prints v as pretty JSON (2-space indent) or block YAML to f. */
int print_json(const cJSON *v, FILE *f) _warn_unused_result_;
int print_yaml(const cJSON *v, FILE *f) _warn_unused_result_;

/* Reads a whole file ("-": stdin) of at most max bytes into out. */
int read_file_capped(const char *path, size_t max, Buf *out, Error *reterr) _warn_unused_result_;

/* ---- http.c: the API client ---- */

/* Appends tmpl to out with each "{}" replaced by the next const char * argument, URL-escaped. */
int api_path(Buf *out, const char *tmpl, ...) _warn_unused_result_;
/* Appends "?key=value" or "&key=value" (escaped); does nothing when value is NULL. */
int api_query(Buf *out, const char *key, const char *value) _warn_unused_result_;
/* "/api/v1/resources/KIND/NAME<sub>?project=PROJECT": one resource ("" sub) or one of its lists
 * ("/events"). */
int api_resource_path(Buf *out, const char *kind, const char *name, const char *sub,
                      const char *project) _warn_unused_result_;

/* One request to server + path (accept NULL: application/json; body NULL: none). Any HTTP
 * answer returns 0 with its status and body (capped at CLI_MAX_RESPONSE); transport failures
 * return a negative errno: -ECONNREFUSED (cannot reach), -ETIMEDOUT, -E2BIG (answer too large),
 * -EIO. */
int http_request(Cli *c, const char *method, const char *path, const char *accept,
                 const char *content_type, const char *body, size_t body_len, long *ret_status,
                 Buf *ret_body, Error *reterr) _warn_unused_result_;

/* Fills reterr from an API error answer {"code","message","field"} and returns the errno that
 * matches status: 400/422 -EINVAL, 401 -EACCES, 403 -EPERM, 404 -ENOENT, 409 -EEXIST,
 * 413 -E2BIG, 429 -EBUSY, 5xx -EIO, other -EPROTO. */
int api_error(long status, const Buf *body, Error *reterr);

/* A JSON API call: 2xx returns 0 and the parsed answer in *ret (NULL when the body is empty);
 * other statuses the API error. ret may be NULL. */
int api_call(Cli *c, const char *method, const char *path, const char *content_type,
             const char *body, size_t body_len, cJSON **ret, Error *reterr) _warn_unused_result_;
int api_get(Cli *c, const char *path, cJSON **ret, Error *reterr) _warn_unused_result_;
/* GET what cli_scope_args() names (get, events): with name, api_resource_path() with sub in the
 * project of commands that address one resource; else collection ("/api/v1/events") narrowed to
 * --project (all when not given) and kind. */
int api_get_scope(Cli *c, const char *kind, const char *name, const char *sub,
                  const char *collection, cJSON **ret, Error *reterr) _warn_unused_result_;

/* Called per server-sent event; a negative return stops the stream and is returned. */
typedef int (*SseHandler)(const char *id, const char *event, const char *data, void *userdata);

/* Streams GET path as server-sent events (no overall timeout). Returns 0 when the server ends the
 * stream, 1 when the answer is not an event stream (status and body in *ret_status, ret_body: an
 * older server), or a negative errno. last_event_id (may be NULL) is sent as Last-Event-ID. */
int http_sse(Cli *c, const char *path, const char *last_event_id, SseHandler handler,
             void *userdata, long *ret_status, Buf *ret_body, Error *reterr) _warn_unused_result_;

/* ---- table.c: aligned columns ---- */

typedef struct Table {
        size_t n_columns;
        char **cells; /* row-major strv; the first row is usually the header */
        size_t n_cells;
        size_t indent; /* spaces before each line */
        size_t width;  /* 0: unlimited; else the last column is cut to fit */
} Table;

void table_init(Table *t, size_t n_columns);
void table_release(Table *t);
/* Adds the next cell (NULL → ""). Control characters become spaces. */
int table_add(Table *t, const char *cell) _warn_unused_result_;
int table_addf(Table *t, const char *fmt, ...) _printf_(2, 3) _warn_unused_result_;
/* Adds n cells (a header, or a row computed beforehand). */
int table_add_row(Table *t, const char *const *cells, size_t n) _warn_unused_result_;
/* Adds n cells from scalars at JSON paths of o (see json_text); a path may list alternatives,
 * the first present wins ("time|created_at"). Absent: "". */
int table_add_fields(Table *t, const cJSON *o, const char *const *paths,
                     size_t n) _warn_unused_result_;
size_t table_rows(const Table *t);
int table_print(const Table *t, FILE *f) _warn_unused_result_;
/* Terminal width for tables: stdout's when a tty, else $COLUMNS, else 0 (unlimited). */
size_t terminal_width(void);

/* ---- yaml-out.c: cJSON → block-style YAML ---- */

/* Appends v as YAML, every line indented by indent spaces, ending with a newline. */
int yaml_emit(const cJSON *v, size_t indent, Buf *out) _warn_unused_result_;

/* ---- commands: each returns an exit code ---- */

int cmd_apply(Cli *c, int argc, char **argv);
int cmd_get(Cli *c, int argc, char **argv);
int cmd_describe(Cli *c, int argc, char **argv);
int cmd_delete(Cli *c, int argc, char **argv);
int cmd_events(Cli *c, int argc, char **argv);
int cmd_wait(Cli *c, int argc, char **argv);
int cmd_logs(Cli *c, int argc, char **argv);
int cmd_do(Cli *c, int argc, char **argv);
int cmd_backups(Cli *c, int argc, char **argv);

/* cmd-apply.c, shared with delete -f: expands FILE|DIR|- into the list of input files. */
int inputs_expand(char *const *args, char ***ret, Error *reterr) _warn_unused_result_;

/* cmd-wait.c, shared with delete --wait: polls until the resource is gone (404). */
int wait_deleted(Cli *c, const char *kind, const char *name, usec_t timeout,
                 Error *reterr) _warn_unused_result_;
