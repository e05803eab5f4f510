/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <getopt.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"
#include "model/document.h"

static const char usage[] =
        "Usage: berth apply -f FILE|DIR|- [-f ...] [--dry-run] [-o table|json|yaml]\n"
        "\n"
        "Creates or updates the resources the files describe, in one request: all of them or,\n"
        "when one is refused, none. A directory means its *.yaml, *.yml and *.json files (sorted,\n"
        "not recursive); - reads standard input.\n"
        "\n"
        "  -f, --filename=PATH  a file, a directory or -; repeatable\n"
        "      --dry-run        show what would change and the plan of actions; change nothing\n"
        "  -o, --output=FORMAT  table (default), or the API's answer as json or yaml\n"
        "  -p, --project=NAME   sent as ?project=, the default for documents that name "
        "none\n" CLI_COMMON_HELP;

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && streq(s + n - m, suffix);
}

static bool is_document_file(const char *name) {
        return name[0] != '.' &&
               (has_suffix(name, ".yaml") || has_suffix(name, ".yml") || has_suffix(name, ".json"));
}

static int strv_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int dir_expand(const char *dir, char ***list, Error *reterr) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        char sbuf[128];
        struct dirent *de;
        size_t n;
        int r;

        d = opendir(dir);
        if (!d) {
                int e = -errno;
                return err_set(reterr, e, NULL, "cannot open directory %s: %s", dir,
                               err_str(e, sbuf, sizeof(sbuf)));
        }
        while ((de = readdir(d))) {
                _cleanup_(buf_release) Buf path = BUF_INIT(PATH_MAX);
                struct stat st;

                if (!is_document_file(de->d_name))
                        continue;
                if (buf_printf(&path, "%s%s%s", dir, has_suffix(dir, "/") ? "" : "/", de->d_name) <
                    0)
                        return err_set(reterr, -ENAMETOOLONG, NULL, "path too long in %s", dir);
                if (stat(path.buf, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                r = strv_push(&names, path.buf);
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }
        n = strv_length(names);
        if (n == 0)
                return err_set(reterr, -ENOENT, NULL, "no *.yaml, *.yml or *.json files in %s",
                               dir);
        qsort(names, n, sizeof(char *), strv_cmp);
        for (size_t i = 0; i < n; i++) {
                r = strv_push(list, names[i]);
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }
        return 0;
}

int inputs_expand(char *const *args, char ***ret, Error *reterr) {
        _cleanup_strv_free_ char **list = NULL;
        bool seen_stdin = false;
        char sbuf[128];
        int r;

        for (char *const *a = args; a && *a; a++) {
                struct stat st;

                if (streq(*a, "-")) {
                        if (seen_stdin)
                                return err_set(reterr, -EINVAL, NULL,
                                               "standard input (-) given twice");
                        seen_stdin = true;
                        r = strv_push(&list, "-");
                } else if (stat(*a, &st) < 0) {
                        int e = -errno;
                        return err_set(reterr, e, NULL, "cannot access %s: %s", *a,
                                       err_str(e, sbuf, sizeof(sbuf)));
                } else if (S_ISDIR(st.st_mode))
                        r = dir_expand(*a, &list, reterr);
                else
                        r = strv_push(&list, *a);
                if (r < 0)
                        return r == -ENOMEM ? err_set(reterr, r, NULL, "out of memory") : r;
        }
        *ret = TAKE_PTR(list);
        return 0;
}

/* Where each document of the body came from, to point at the file when the API names
 * "documents[N]". */
typedef struct Source {
        const char *path;
        size_t first, count;  /* documents */
        size_t first_line;    /* line of the body where the file's text starts */
        size_t skipped_lines; /* lines dropped from the top of the file */
        bool json;
} Source;

static size_t count_lines(const char *s, size_t n) {
        size_t lines = 0;

        for (const char *p = s; (p = memchr(p, '\n', (size_t) (s + n - p))); p++)
                lines++;
        return lines;
}

static bool looks_like_json(const char *path, const char *text) {
        if (has_suffix(path, ".json"))
                return true;
        if (!streq(path, "-"))
                return false;
        text += strspn(text, " \t\r\n");
        return *text == '{' || *text == '[';
}

static int json_line_of(const char *text, const char *at) {
        int line = 1;

        if (!at)
                return 0;
        for (const char *p = text; p < at && *p; p++)
                if (*p == '\n')
                        line++;
        return line;
}

/* The body starts with "---": the API reads a body that starts with '{' or '[' as JSON. */
static int append_doc(Buf *body, const char *text, size_t len) {
        int r;

        r = buf_puts(body, body->len > 0 ? "\n---\n" : "---\n");
        return r < 0 ? r : buf_append(body, text, len);
}

/* JSON files: one object or an array of objects, re-printed as one flow document each (JSON is
 * YAML flow syntax), so a mixed set still goes in one YAML body. */
static int add_json(const char *path, const char *text, size_t len, Buf *body, size_t *ret_count,
                    Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const char *what = streq(path, "-") ? "standard input" : path;
        const cJSON *it;
        size_t count = 0;
        int r;

        doc = cJSON_ParseWithLength(text, len);
        if (!doc)
                return err_set(reterr, -EINVAL, NULL, "%s: invalid JSON near line %d", what,
                               json_line_of(text, cJSON_GetErrorPtr()));
        if (cJSON_IsObject(doc)) {
                _cleanup_free_ char *s = cJSON_PrintUnformatted(doc);
                if (!s)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                r = append_doc(body, s, strlen(s));
                if (r < 0)
                        return r;
                *ret_count = 1;
                return 0;
        }
        if (!cJSON_IsArray(doc))
                return err_set(reterr, -EINVAL, NULL,
                               "%s: expected a JSON object or an array of objects", what);
        cJSON_ArrayForEach(it, doc) {
                _cleanup_free_ char *s = NULL;

                if (!cJSON_IsObject(it))
                        return err_set(reterr, -EINVAL, NULL,
                                       "%s: item %zu of the array is not an object", what, count);
                s = cJSON_PrintUnformatted(it);
                if (!s)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                r = append_doc(body, s, strlen(s));
                if (r < 0)
                        return r;
                count++;
        }
        *ret_count = count;
        return 0;
}

static bool is_separator(const char *line, size_t len) {
        return len >= 3 && strneq(line, "---", 3) &&
               (len == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

static bool is_blank_or_comment(const char *line, size_t len) {
        size_t i = 0;

        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                i++;
        return i == len || line[i] == '#';
}

/* YAML files go in as they are, minus a leading "---" (and what precedes it) and a trailing
 * one, so joining files makes no empty documents. */
static int add_yaml(const char *text, size_t len, Buf *body, size_t *ret_count,
                    size_t *ret_skipped_lines) {
        const char *start = text, *end = text + len, *p;
        size_t count = 1;

        if (len >= 3 && strneq(text, "\xEF\xBB\xBF", 3)) /* UTF-8 byte order mark */
                start += 3;
        for (p = start; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (is_separator(p, n)) {
                        const char *rest = p + 3;
                        /* "--- # comment" ends here; "--- {kind: x}" keeps its content. */
                        start = is_blank_or_comment(rest, (size_t) (p + n - rest))
                                        ? (nl ? nl + 1 : end)
                                        : rest;
                        break;
                }
                if (!is_blank_or_comment(p, n))
                        break;
                p = nl ? nl + 1 : end;
        }

        /* Drop trailing blank lines, comments and a final "---". */
        for (;;) {
                const char *q = end;
                size_t n;

                while (q > start &&
                       (q[-1] == '\n' || q[-1] == '\r' || q[-1] == ' ' || q[-1] == '\t'))
                        q--;
                p = q;
                while (p > start && p[-1] != '\n')
                        p--;
                n = (size_t) (q - p);
                if (q == start || !(is_separator(p, n) || (n > 0 && p[0] == '#'))) {
                        end = q;
                        break;
                }
                end = p;
        }
        if (end <= start) {
                *ret_count = 0;
                return 0;
        }
        *ret_skipped_lines = count_lines(text, (size_t) (start - text));

        for (p = start; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (is_separator(p, n))
                        count++;
                p = nl ? nl + 1 : end;
        }
        *ret_count = count;
        return append_doc(body, start, (size_t) (end - start));
}

static int body_build(char *const *inputs, Buf *body, Source **ret_sources, size_t *ret_n,
                      Error *reterr) {
        _cleanup_free_ Source *sources = NULL;
        size_t n = strv_length(inputs), total = 0;

        sources = b_calloc(MAX(n, (size_t) 1), sizeof(Source));
        if (!sources)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");

        for (size_t i = 0; i < n; i++) {
                _cleanup_(buf_release) Buf text = {0};
                size_t count = 0, skipped = 0, first_line;
                bool json;
                int r;

                r = read_file_capped(inputs[i], API_MAX_BODY, &text, reterr);
                if (r == -E2BIG)
                        return err_set(reterr, r, NULL,
                                       "%s is larger than 1 MiB, the API's limit for one apply",
                                       streq(inputs[i], "-") ? "standard input" : inputs[i]);
                if (r < 0)
                        return r;
                /* The separator and this file's text start on the lines after the body so far. */
                first_line = count_lines(body->buf ? body->buf : "", body->len) + 2;
                json = looks_like_json(inputs[i], text.buf);
                if (json)
                        r = add_json(inputs[i], text.buf, text.len, body, &count, reterr);
                else
                        r = add_yaml(text.buf, text.len, body, &count, &skipped);
                if (r == -E2BIG)
                        return err_set(reterr, r, NULL,
                                       "the documents add up to more than 1 MiB (%d bytes), the "
                                       "API's limit for one apply: apply fewer files at a time",
                                       API_MAX_BODY);
                if (r < 0)
                        return reterr && reterr->code == r
                                       ? r
                                       : err_set(reterr, r, NULL, "out of memory");
                sources[i] = (Source){
                        .path = inputs[i],
                        .first = total,
                        .count = count,
                        .first_line = first_line,
                        .skipped_lines = skipped,
                        .json = json,
                };
                total += count;
        }
        if (total == 0)
                return err_set(reterr, -ENODATA, NULL, "no documents in the input");
        *ret_sources = TAKE_PTR(sources);
        *ret_n = n;
        return 0;
}

static const char *source_name(const Source *s) {
        return streq(s->path, "-") ? "standard input" : s->path;
}

/* "line 12, column 3: ..." counts lines of the joined body: say which file and line that is. */
static void error_note_line(const Error *e, const Source *sources, size_t n) {
        const char *p = strstr(e->msg, "line ");
        const Source *s = NULL;
        unsigned long line;
        char *end;

        if (!p)
                return;
        p += STRLEN("line ");
        errno = 0;
        line = strtoul(p, &end, 10);
        if (errno != 0 || end == p || line == 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (sources[i].count > 0 && sources[i].first_line <= line)
                        s = &sources[i];
        if (!s)
                return;
        if (s->json)
                fprintf(stderr, "note: line %lu of the request is in %s\n", line, source_name(s));
        else
                fprintf(stderr, "note: line %lu of the request is line %zu of %s\n", line,
                        line - s->first_line + 1 + s->skipped_lines, source_name(s));
}

/* "documents[3].spec.replicas" → the file that holds document 3. The API names no document
 * when the first one is at fault. */
static void error_note_source(const Error *e, const Source *sources, size_t n) {
        const char *f = e->field;
        unsigned long idx = 0;
        size_t total = 0;
        char *end;

        if (strneq(e->msg, "line ", STRLEN("line "))) {
                error_note_line(e, sources, n);
                return;
        }
        for (size_t i = 0; i < n; i++)
                total += sources[i].count;
        if (strneq(f, "documents[", STRLEN("documents["))) {
                f += STRLEN("documents[");
                errno = 0;
                idx = strtoul(f, &end, 10);
                if (errno != 0 || end == f || *end != ']')
                        return;
        } else if (isempty(f) || total <= 1) {
                error_note_line(e, sources, n);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (idx >= sources[i].first && idx < sources[i].first + sources[i].count) {
                        if (sources[i].count > 1)
                                fprintf(stderr, "note: documents[%lu] is document %zu of %s\n", idx,
                                        (size_t) idx - sources[i].first + 1,
                                        source_name(&sources[i]));
                        else
                                fprintf(stderr, "note: documents[%lu] is %s\n", idx,
                                        source_name(&sources[i]));
                        return;
                }
}

static int print_results(const cJSON *answer, bool dry_run) {
        static const char *const step_fields[] = {"action", "target", "reason"};
        const cJSON *results = json_get(answer, "results"), *res;
        size_t width = terminal_width();
        int r;

        if (!cJSON_IsArray(results)) {
                fputs("error: unexpected answer from berthd (no \"results\")\n", stderr);
                return CLI_EXIT_FAILURE;
        }
        cJSON_ArrayForEach(res, results) {
                const cJSON *plan = json_get(res, "plan"), *step;
                const char *downtime = json_str_any(res, "downtime", "expected_downtime", NULL);
                _cleanup_(table_release) Table t = {0};

                printf("%s/%s %s%s\n", strna(json_str(res, "kind")), strna(json_str(res, "name")),
                       strna(json_str(res, "outcome")), dry_run ? " (dry run)" : "");
                if (json_str(res, "plan_error"))
                        printf("    no plan: %s\n", json_str(res, "plan_error"));
                if (!cJSON_IsArray(plan))
                        continue;
                if (!plan->child) {
                        printf("    no actions\n");
                        continue;
                }
                table_init(&t, ELEMENTSOF(step_fields));
                t.indent = 4;
                t.width = width;
                cJSON_ArrayForEach(step, plan) {
                        if (table_add_fields(&t, step, step_fields, ELEMENTSOF(step_fields)) < 0)
                                return CLI_EXIT_FAILURE;
                }
                r = table_print(&t, stdout);
                if (r < 0)
                        return CLI_EXIT_FAILURE;
                if (downtime)
                        printf("    expected write downtime: %s\n", downtime);
        }
        return CLI_EXIT_OK;
}

int cmd_apply(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"filename", required_argument, NULL, 'f'},
                {"dry-run", no_argument, NULL, ARG_DRY_RUN},
                {"output", required_argument, NULL, 'o'},
                {},
        };
        _cleanup_strv_free_ char **args = NULL, **inputs = NULL;
        _cleanup_(buf_release) Buf body = BUF_INIT(API_MAX_BODY);
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        _cleanup_free_ Source *sources = NULL;
        OutputFormat output = OUTPUT_TABLE;
        Error err = ERROR_INIT;
        size_t n_sources = 0;
        bool dry_run = false;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "f:o:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage);
                case 'f':
                        if (strv_push(&args, optarg) < 0)
                                return CLI_EXIT_FAILURE;
                        break;
                case ARG_DRY_RUN:
                        dry_run = true;
                        break;
                case 'o':
                        output = output_format_from_string(optarg);
                        if (output < 0)
                                return cli_usage_error(usage, "unknown output format '%s'", optarg);
                        break;
                default:
                        return cli_usage_short(usage);
                }
        }
        if (optind < argc)
                return cli_usage_error(usage, "unexpected argument '%s' (files go after -f)",
                                       argv[optind]);
        if (!args)
                return cli_usage_error(usage, "missing -f FILE|DIR|-");

        r = inputs_expand(args, &inputs, &err);
        if (r < 0)
                return cli_fail(&err);
        r = body_build(inputs, &body, &sources, &n_sources, &err);
        if (r < 0)
                return cli_fail(&err);

        if (buf_puts(&path, "/api/v1/apply") < 0 ||
            api_query(&path, "dry_run", dry_run ? "true" : NULL) < 0 ||
            api_query(&path, "project", c->project) < 0)
                return cli_fail(&(Error){.msg = "out of memory"});

        r = api_call(c, "POST", path.buf, "application/yaml", body.buf, body.len, &answer, &err);
        if (r < 0) {
                cli_fail(&err);
                error_note_source(&err, sources, n_sources);
                return CLI_EXIT_FAILURE;
        }
        if (output != OUTPUT_TABLE)
                return cli_print_answer(answer, output);
        return print_results(answer, dry_run);
}
