/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "util/common.h"

#include "cli/cli.h"

OutputFormat output_format_from_string(const char *s) {
        if (!s)
                return _OUTPUT_INVALID;
        if (streq(s, "table") || streq(s, "wide"))
                return OUTPUT_TABLE;
        if (streq(s, "json"))
                return OUTPUT_JSON;
        if (streq(s, "yaml") || streq(s, "yml"))
                return OUTPUT_YAML;
        return _OUTPUT_INVALID;
}

void cli_init(Cli *c) {
        *c = (Cli){0};
        c->server = CLI_DEFAULT_SERVER;
}

void cli_release(Cli *c) {
        if (c->curl)
                curl_easy_cleanup(c->curl);
        c->curl = NULL;
        c->token_file = mfree(c->token_file);
}

const char *cli_project(const Cli *c) {
        return isempty(c->project) ? CLI_DEFAULT_PROJECT : c->project;
}

static char *token_path(void) {
        _cleanup_(buf_release) Buf p = BUF_INIT(4096);
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        int r;

        if (!isempty(xdg))
                r = buf_printf(&p, "%s/berth/token", xdg);
        else if (!isempty(home))
                r = buf_printf(&p, "%s/.config/berth/token", home);
        else
                return NULL;
        if (r < 0)
                return NULL;
        return buf_take(&p);
}

const char *cli_token(Cli *c) {
        _cleanup_(buf_release) Buf b = BUF_INIT(CLI_MAX_TOKEN);
        _cleanup_free_ char *path = NULL;
        size_t len;

        if (!isempty(c->token))
                return c->token;
        if (c->token_loaded)
                return c->token_file;
        c->token_loaded = true;

        path = token_path();
        if (!path)
                return NULL;
        if (read_file_capped(path, CLI_MAX_TOKEN, &b, NULL) < 0)
                return NULL; /* no token file: anonymous, as before `berth login` */

        /* First line, trimmed. */
        len = strcspn(b.buf ? b.buf : "", "\r\n");
        while (len > 0 && isspace((unsigned char) b.buf[len - 1]))
                len--;
        if (len == 0)
                return NULL;
        c->token_file = b_strndup(b.buf + strspn(b.buf, " \t"), len - strspn(b.buf, " \t"));
        return c->token_file;
}

bool cli_common_option(Cli *c, int opt, const char *arg) {
        switch (opt) {
        case ARG_SERVER:
                c->server = arg;
                return true;
        case 'p':
                c->project = arg;
                return true;
        case ARG_TOKEN:
                c->token = arg;
                return true;
        default:
                return false;
        }
}

/* The synopsis: the usage text up to its first blank line. */
static void usage_short(const char *usage) {
        const char *end = strstr(usage, "\n\n");
        const char *cmd = strneq(usage, "Usage: berth ", STRLEN("Usage: berth "))
                                  ? usage + STRLEN("Usage: berth ")
                                  : "";
        size_t cmd_len = strcspn(cmd, " \n");

        fwrite(usage, 1, end ? (size_t) (end - usage) + 1 : strlen(usage), stderr);
        if (cmd_len > 0 && !strneq(cmd, "[", 1))
                fprintf(stderr, "Run 'berth %.*s --help' for more.\n", (int) cmd_len, cmd);
        else
                fputs("Run 'berth --help' for more.\n", stderr);
}

int cli_usage_error(const char *usage, const char *fmt, ...) {
        va_list ap;

        fputs("berth: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        usage_short(usage);
        return CLI_EXIT_USAGE;
}

int cli_usage_short(const char *usage) {
        usage_short(usage);
        return CLI_EXIT_USAGE;
}

int cli_help(const char *usage) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
}

int cli_fail(const Error *e) {
        char sbuf[128];

        fputs("error: ", stderr);
        if (!isempty(e->msg))
                fputs(e->msg, stderr);
        else
                fputs(err_str(e->code, sbuf, sizeof(sbuf)), stderr);
        /* The API often starts its message with the field already. */
        if (!isempty(e->field) && !strstr(e->msg, e->field))
                fprintf(stderr, " (field %s)", e->field);
        if (!isempty(e->reason))
                fprintf(stderr, " [%s]", e->reason);
        fputc('\n', stderr);
        return CLI_EXIT_FAILURE;
}

int cli_kind_name(char **args, int n, const char **ret_kind, const char **ret_name) {
        char *slash;

        if (n < 1 || isempty(args[0]))
                return -EINVAL;
        slash = strchr(args[0], '/');
        if (slash) {
                *slash = 0;
                if (isempty(args[0]) || isempty(slash + 1) || strchr(slash + 1, '/'))
                        return -EINVAL;
                *ret_kind = args[0];
                *ret_name = slash + 1;
                return 1;
        }
        if (n < 2 || isempty(args[1]))
                return -EINVAL;
        *ret_kind = args[0];
        *ret_name = args[1];
        return 2;
}

int cli_kind_name_args(const char *usage, char **args, int n, const char **ret_kind,
                       const char **ret_name) {
        int r;

        r = cli_kind_name(args, n, ret_kind, ret_name);
        if (r < 0)
                return cli_usage_error(usage, "expected KIND NAME");
        if (r != n)
                return cli_usage_error(usage, "too many arguments");
        return CLI_EXIT_OK;
}

int cli_scope_args(const char *usage, char **args, int n, const char **ret_kind,
                   const char **ret_name) {
        const char *kind = NULL, *name = NULL;
        int r;

        if (n > 2)
                return cli_usage_error(usage, "too many arguments");
        if (n >= 1 && (strchr(args[0], '/') || n == 2)) {
                r = cli_kind_name(args, n, &kind, &name);
                if (r < 0 || r != n)
                        return cli_usage_error(usage, "expected KIND NAME or KIND/NAME");
        } else if (n == 1)
                kind = args[0];
        *ret_kind = kind;
        *ret_name = name;
        return CLI_EXIT_OK;
}

int cli_print_answer(const cJSON *answer, OutputFormat output) {
        int r;

        r = output == OUTPUT_YAML ? print_yaml(answer, stdout) : print_json(answer, stdout);
        return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

int parse_duration(const char *s, usec_t *ret) {
        static const struct {
                const char *suffix;
                usec_t mult;
        } units[] = {
                /* Longest first, so "ms" is not read as "m". */
                {"ms", USEC_PER_MSEC},      {"us", 1},
                {"s", USEC_PER_SEC},        {"m", 60 * USEC_PER_SEC},
                {"h", 3600 * USEC_PER_SEC}, {"d", 86400 * USEC_PER_SEC},
        };
        const char *p = s;
        usec_t total = 0;

        if (isempty(s))
                return -EINVAL;
        while (*p) {
                uint64_t whole = 0, frac = 0, frac_div = 1;
                usec_t mult = USEC_PER_SEC, part;
                bool digits = false;
                size_t i;

                while (isdigit((unsigned char) *p)) {
                        if (whole > UINT32_MAX)
                                return -ERANGE;
                        whole = whole * 10 + (uint64_t) (*p++ - '0');
                        digits = true;
                }
                if (*p == '.') {
                        p++;
                        while (isdigit((unsigned char) *p)) {
                                if (frac_div < 1000000000) {
                                        frac = frac * 10 + (uint64_t) (*p - '0');
                                        frac_div *= 10;
                                }
                                p++;
                                digits = true;
                        }
                }
                if (!digits)
                        return -EINVAL;
                if (*p) {
                        for (i = 0; i < ELEMENTSOF(units); i++)
                                if (strneq(p, units[i].suffix, strlen(units[i].suffix)))
                                        break;
                        if (i >= ELEMENTSOF(units))
                                return -EINVAL;
                        mult = units[i].mult;
                        p += strlen(units[i].suffix);
                } else if (total > 0)
                        return -EINVAL; /* "1m30" */
                part = whole * mult + frac * mult / frac_div;
                if (total > USEC_INFINITY - part - 1)
                        return -ERANGE;
                total += part;
        }
        *ret = total;
        return 0;
}

static bool read_digits(const char **p, int n, int *ret) {
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

int parse_timestamp(const char *s, usec_t *ret) {
        struct tm tm = {0};
        int year, mon, day, hour, min, sec, off_h = 0, off_m = 0, sign = 0;
        uint64_t frac = 0, frac_div = 1;
        const char *p = s;
        time_t t;
        int64_t secs;

        if (isempty(s))
                return -EINVAL;
        if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &mon) || *p++ != '-' ||
            !read_digits(&p, 2, &day))
                return -EINVAL;
        if (*p != 'T' && *p != 't' && *p != ' ')
                return -EINVAL;
        p++;
        if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &min) || *p++ != ':' ||
            !read_digits(&p, 2, &sec))
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++)
                        if (frac_div < USEC_PER_SEC) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                frac_div *= 10;
                        }
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                sign = *p++ == '-' ? -1 : 1;
                if (!read_digits(&p, 2, &off_h))
                        return -EINVAL;
                if (*p == ':')
                        p++;
                if (isdigit((unsigned char) *p) && !read_digits(&p, 2, &off_m))
                        return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
                return -EINVAL;

        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        t = timegm(&tm);
        secs = (int64_t) t - (int64_t) sign * (off_h * 3600 + off_m * 60);
        if (secs < 0)
                return -ERANGE;
        *ret = (usec_t) secs * USEC_PER_SEC + frac * (USEC_PER_SEC / frac_div);
        return 0;
}

const char *format_age(const char *ts, usec_t now, char *buf, size_t n) {
        usec_t t;
        uint64_t s;

        if (parse_timestamp(ts, &t) < 0) {
                snprintf(buf, n, "-");
                return buf;
        }
        s = now > t ? (now - t) / USEC_PER_SEC : 0;
        if (s < 60)
                snprintf(buf, n, "%" PRIu64 "s", s);
        else if (s < 3600)
                snprintf(buf, n, "%" PRIu64 "m", s / 60);
        else if (s < 86400)
                snprintf(buf, n, "%" PRIu64 "h", s / 3600);
        else
                snprintf(buf, n, "%" PRIu64 "d", s / 86400);
        return buf;
}

const char *format_time_local(const char *ts, char *buf, size_t n) {
        struct tm tm;
        time_t sec;
        usec_t t;

        if (parse_timestamp(ts, &t) < 0) {
                snprintf(buf, n, "%s", strempty(ts));
                return buf;
        }
        sec = (time_t) (t / USEC_PER_SEC);
        if (!localtime_r(&sec, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, n, "%s", ts);
        return buf;
}

void cli_sleep(usec_t usec) {
        struct timespec ts = {
                .tv_sec = (time_t) (usec / USEC_PER_SEC),
                .tv_nsec = (long) (usec % USEC_PER_SEC) * 1000,
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

const cJSON *json_get(const cJSON *o, const char *path) {
        const char *p = path;

        while (o && *p) {
                char key[64];
                size_t len = strcspn(p, ".");

                /* Paths are literals in our code; keys never come from outside. */
                assert(len < sizeof(key));
                memcpy(key, p, len);
                key[len] = 0;
                if (!cJSON_IsObject(o))
                        return NULL;
                o = cJSON_GetObjectItemCaseSensitive(o, key);
                p += len;
                if (*p == '.')
                        p++;
        }
        return o;
}

const char *json_str(const cJSON *o, const char *path) {
        const cJSON *v = json_get(o, path);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool json_int(const cJSON *o, const char *path, int64_t *ret) {
        const cJSON *v = json_get(o, path);
        char *end;
        long long n;

        if (cJSON_IsNumber(v)) {
                if (v->valuedouble < -9.2e18 || v->valuedouble > 9.2e18)
                        return false;
                *ret = (int64_t) v->valuedouble;
                return true;
        }
        if (!cJSON_IsString(v) || isempty(v->valuestring))
                return false;
        errno = 0;
        n = strtoll(v->valuestring, &end, 10);
        if (errno != 0 || *end)
                return false;
        *ret = n;
        return true;
}

const char *json_str_any(const cJSON *o, ...) {
        const char *path, *s = NULL;
        va_list ap;

        va_start(ap, o);
        while (!s && (path = va_arg(ap, const char *)))
                s = json_str(o, path);
        va_end(ap);
        return s;
}

bool json_int_any(const cJSON *o, int64_t *ret, ...) {
        const char *path;
        bool found = false;
        va_list ap;

        va_start(ap, ret);
        while (!found && (path = va_arg(ap, const char *)))
                found = json_int(o, path, ret);
        va_end(ap);
        return found;
}

int read_file_capped(const char *path, size_t max, Buf *out, Error *reterr) {
        bool is_stdin = streq(path, "-");
        const char *what = is_stdin ? "standard input" : path;
        FILE *f;
        char chunk[65536], sbuf[128];
        int r = 0;

        buf_init(out, max);
        f = is_stdin ? stdin : fopen(path, "re");
        if (!f) {
                int e = -errno;
                return err_set(reterr, e, NULL, "cannot open %s: %s", path,
                               err_str(e, sbuf, sizeof(sbuf)));
        }
        for (;;) {
                size_t n = fread(chunk, 1, sizeof(chunk), f);

                if (n > 0) {
                        r = buf_append(out, chunk, n);
                        if (r == -E2BIG) {
                                r = err_set(reterr, r, NULL, "%s is larger than %zu bytes", what,
                                            max);
                                break;
                        }
                        if (r < 0) {
                                r = err_set(reterr, r, NULL, "out of memory reading %s", what);
                                break;
                        }
                }
                if (n < sizeof(chunk)) {
                        if (ferror(f)) {
                                int e = errno ? -errno : -EIO;
                                r = err_set(reterr, e, NULL, "cannot read %s: %s", what,
                                            err_str(e, sbuf, sizeof(sbuf)));
                        }
                        break;
                }
        }
        if (!is_stdin)
                fclose(f);
        if (r < 0) {
                buf_release(out);
                return r;
        }
        /* An empty file still yields a valid, NUL-terminated string. */
        if (!out->buf)
                r = buf_append(out, "", 0);
        return r < 0 ? err_set(reterr, r, NULL, "out of memory") : 0;
}

const char *json_text(const cJSON *o, const char *path, char *buf, size_t n) {
        const cJSON *v = json_get(o, path);

        if (cJSON_IsString(v))
                return v->valuestring;
        if (cJSON_IsNumber(v)) {
                if (v->valuedouble >= -9e15 && v->valuedouble <= 9e15 &&
                    v->valuedouble == (double) (long long) v->valuedouble)
                        snprintf(buf, n, "%lld", (long long) v->valuedouble);
                else
                        snprintf(buf, n, "%g", v->valuedouble);
                return buf;
        }
        if (cJSON_IsBool(v))
                return cJSON_IsTrue(v) ? "true" : "false";
        return NULL;
}

/* > 0 when a is newer than b. */
static int item_compare(const cJSON *a, const cJSON *b) {
        int64_t ia, ib;
        const char *ta, *tb;

        if (json_int(a, "id", &ia) && json_int(b, "id", &ib))
                return ia < ib ? -1 : ia > ib;
        ta = json_str_any(a, "time", "created_at", "timestamp", "started_at", NULL);
        tb = json_str_any(b, "time", "created_at", "timestamp", "started_at", NULL);
        if (ta && tb)
                return strcmp(ta, tb);
        return 0;
}

int items_chronological(const cJSON *arr, const cJSON ***ret, size_t *ret_n) {
        _cleanup_free_ const cJSON **items = NULL;
        size_t n = 0, i = 0;
        const cJSON *it;

        cJSON_ArrayForEach(it, arr) n++;
        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        items = b_calloc(n, sizeof(*items));
        if (!items)
                return -ENOMEM;
        cJSON_ArrayForEach(it, arr) items[i++] = it;
        if (item_compare(items[0], items[n - 1]) > 0)
                for (i = 0; i < n / 2; i++) {
                        const cJSON *t = items[i];
                        items[i] = items[n - 1 - i];
                        items[n - 1 - i] = t;
                }
        *ret = TAKE_PTR(items);
        *ret_n = n;
        return 0;
}
