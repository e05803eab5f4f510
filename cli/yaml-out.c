/* SPDX-License-Identifier: MIT */
#include <float.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"

/* Output formats for -o yaml and -o json: a small block-style YAML emitter and a 2-space JSON
 * pretty printer over cJSON (cJSON_Print indents with tabs). Input is an API answer already
 * parsed by cJSON, whose nesting limit bounds the recursion here. */

static int put_indent(Buf *out, size_t indent) {
        return buf_printf(out, "%*s", (int) indent, "");
}

/* Integers as integers; other numbers in the shortest form that reads back as the same double,
 * with a '.' in the mantissa (YAML 1.1 readers take "1e+300" for a string). */
static void format_number(double d, char *buf, size_t n) {
        char *e;

        if (d != d) {
                snprintf(buf, n, ".nan");
                return;
        }
        if (d > DBL_MAX || d < -DBL_MAX) {
                snprintf(buf, n, d > 0 ? ".inf" : "-.inf");
                return;
        }
        if (d >= -1e18 && d <= 1e18 && d == (double) (long long) d) {
                snprintf(buf, n, "%lld", (long long) d);
                return;
        }
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(buf, n, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        e = strchr(buf, 'e');
        if (e && !memchr(buf, '.', (size_t) (e - buf)) && strlen(buf) + 3 <= n) {
                memmove(e + 2, e, strlen(e) + 1);
                e[0] = '.';
                e[1] = '0';
        }
}

/* YAML's double-quoted scalars and JSON's strings escape alike, but for a few characters. */
typedef enum QuoteStyle {
        QUOTE_YAML,
        QUOTE_JSON,
} QuoteStyle;

/* The short escape of ch; NULL where there is none. \b and \f are JSON's only: YAML output
 * writes them as \x08 and \x0c. */
static const char *short_escape(unsigned char ch, QuoteStyle style) {
        switch (ch) {
        case '"':
                return "\\\"";
        case '\\':
                return "\\\\";
        case '\n':
                return "\\n";
        case '\t':
                return "\\t";
        case '\r':
                return "\\r";
        case '\b':
                return style == QUOTE_JSON ? "\\b" : NULL;
        case '\f':
                return style == QUOTE_JSON ? "\\f" : NULL;
        default:
                return NULL;
        }
}

/* Other control characters become \u00XX in JSON, \xXX in YAML, which escapes DEL too. */
static int double_quoted(const char *s, QuoteStyle style, Buf *out) {
        int r = buf_putc(out, '"');

        for (const unsigned char *p = (const unsigned char *) s; r >= 0 && *p; p++) {
                const char *esc = short_escape(*p, style);

                if (esc)
                        r = buf_puts(out, esc);
                else if (style == QUOTE_JSON && *p < 0x20)
                        r = buf_printf(out, "\\u%04x", *p);
                else if (style == QUOTE_YAML && (*p < 0x20 || *p == 0x7f))
                        r = buf_printf(out, "\\x%02x", *p);
                else
                        r = buf_putc(out, (char) *p);
        }
        return r < 0 ? r : buf_putc(out, '"');
}

/* ---- YAML ---- */

static bool yaml_reserved_word(const char *s) {
        static const char *const words[] = {
                "true", "false", "yes",  "no",    "on",    "off",  "y",  "n",
                "null", "~",     ".inf", "-.inf", "+.inf", ".nan", "<<", "=",
        };

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        return false;
}

/* Would a YAML 1.1 or 1.2 reader take this plain scalar for a number, a date or a time? */
static bool yaml_numberish(const char *s) {
        const char *p = s;
        char *end;

        errno = 0;
        (void) strtod(s, &end);
        if (end != s && *end == 0)
                return true; /* decimal, exponent, hex, inf, nan */
        if (*p == '+' || *p == '-' || *p == '.')
                p++;
        if (*p < '0' || *p > '9')
                return false;
        /* 1_000, 0o17, 0x1F, 1:30 (sexagesimal), 2026-11-23, 2026-11-23T11:07:19Z */
        return strspn(s, "0123456789abcdefABCDEFxXoO_.:+-TtZz ") == strlen(s);
}

static bool yaml_needs_quotes(const char *s) {
        size_t len = strlen(s);

        if (len == 0)
                return true;
        if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
                return true;
        if (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == ':')
                return true;
        if (strstr(s, ": ") || strstr(s, " #") || strstr(s, ":\t") || strneq(s, "...", 3))
                return true;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return true;
        return yaml_reserved_word(s) || yaml_numberish(s);
}

/* A literal block (|) suits multi-line text of printable characters that does not start with
 * a blank (which would need an indentation indicator). */
static bool yaml_block_ok(const char *s) {
        bool has_text = false;

        if (!strchr(s, '\n') || s[0] == ' ' || s[0] == '\n')
                return false;
        for (const char *p = s; *p; p++) {
                if (((unsigned char) *p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                        return false;
                if (*p != '\n')
                        has_text = true;
        }
        return has_text;
}

static int yaml_block(const char *s, size_t indent, Buf *out) {
        size_t len = strlen(s), trailing = 0;
        const char *p = s, *end;
        int r;

        while (trailing < len && s[len - 1 - trailing] == '\n')
                trailing++;
        r = buf_puts(out, trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n");
        end = s + len - (trailing > 0 ? 1 : 0); /* the last newline ends the last line */
        /* One output line per '\n'-separated segment, empty ones included ("|+" keeps them). */
        while (r >= 0) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (n > 0)
                        r = put_indent(out, indent);
                if (r >= 0)
                        r = buf_append(out, p, n);
                if (r >= 0)
                        r = buf_putc(out, '\n');
                if (!nl)
                        break;
                p = nl + 1;
        }
        return r;
}

/* A string as a plain, quoted or (allow_block) literal scalar. Literal blocks end with their
 * newline; the others do not. */
static int yaml_string(const char *s, size_t indent, bool allow_block, Buf *out) {
        if (allow_block && yaml_block_ok(s))
                return yaml_block(s, indent, out);
        if (yaml_needs_quotes(s))
                return double_quoted(s, QUOTE_YAML, out);
        return buf_puts(out, s);
}

/* A scalar (or empty container) followed by its newline; block content goes at indent. */
static int yaml_scalar(const cJSON *v, size_t indent, Buf *out) {
        char num[64];
        int r;

        if (cJSON_IsString(v) || cJSON_IsRaw(v)) {
                r = yaml_string(strempty(v->valuestring), indent, true, out);
                if (r < 0 || yaml_block_ok(strempty(v->valuestring)))
                        return r;
        } else if (cJSON_IsNumber(v)) {
                format_number(v->valuedouble, num, sizeof(num));
                r = buf_puts(out, num);
        } else if (cJSON_IsBool(v))
                r = buf_puts(out, cJSON_IsTrue(v) ? "true" : "false");
        else if (cJSON_IsObject(v))
                r = buf_puts(out, "{}");
        else if (cJSON_IsArray(v))
                r = buf_puts(out, "[]");
        else
                r = buf_puts(out, "null");
        return r < 0 ? r : buf_putc(out, '\n');
}

static bool is_nonempty_container(const cJSON *v) {
        return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child;
}

static int yaml_mapping(const cJSON *obj, size_t indent, bool first_inline, Buf *out);
static int yaml_sequence(const cJSON *arr, size_t indent, Buf *out);

/* The value of "key:" or "-", written right after it; indent is that line's. */
static int yaml_child(const cJSON *v, size_t indent, bool in_sequence, Buf *out) {
        int r;

        if (cJSON_IsObject(v) && v->child) {
                if (in_sequence) {
                        r = buf_putc(out, ' ');
                        return r < 0 ? r : yaml_mapping(v, indent + 2, true, out);
                }
                r = buf_putc(out, '\n');
                return r < 0 ? r : yaml_mapping(v, indent + 2, false, out);
        }
        if (cJSON_IsArray(v) && v->child) {
                r = buf_putc(out, '\n');
                return r < 0 ? r : yaml_sequence(v, indent + 2, out);
        }
        r = buf_putc(out, ' ');
        return r < 0 ? r : yaml_scalar(v, indent + 2, out);
}

static int yaml_mapping(const cJSON *obj, size_t indent, bool first_inline, Buf *out) {
        int r = 0;

        for (const cJSON *c = obj->child; r >= 0 && c; c = c->next) {
                if (!(first_inline && c == obj->child))
                        r = put_indent(out, indent);
                if (r >= 0)
                        r = yaml_string(strempty(c->string), indent, false, out);
                if (r >= 0)
                        r = buf_putc(out, ':');
                if (r >= 0)
                        r = yaml_child(c, indent, false, out);
        }
        return r;
}

static int yaml_sequence(const cJSON *arr, size_t indent, Buf *out) {
        int r = 0;

        for (const cJSON *c = arr->child; r >= 0 && c; c = c->next) {
                r = put_indent(out, indent);
                if (r >= 0)
                        r = buf_putc(out, '-');
                if (r >= 0)
                        r = yaml_child(c, indent, true, out);
        }
        return r;
}

int yaml_emit(const cJSON *v, size_t indent, Buf *out) {
        int r;

        if (!is_nonempty_container(v)) {
                r = put_indent(out, indent);
                return r < 0 ? r : yaml_scalar(v, indent + 2, out);
        }
        if (cJSON_IsObject(v))
                return yaml_mapping(v, indent, false, out);
        return yaml_sequence(v, indent, out);
}

int print_yaml(const cJSON *v, FILE *f) {
        _cleanup_(buf_release) Buf out = BUF_INIT(CLI_MAX_OUTPUT);
        int r;

        r = yaml_emit(v, 0, &out);
        if (r < 0)
                return r;
        fputs(buf_str(&out), f);
        return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

static int json_value(const cJSON *v, size_t indent, Buf *out) {
        bool is_object = cJSON_IsObject(v);
        char num[64];
        int r;

        if (cJSON_IsString(v))
                return double_quoted(strempty(v->valuestring), QUOTE_JSON, out);
        if (cJSON_IsRaw(v))
                return buf_puts(out, strempty(v->valuestring));
        if (cJSON_IsNumber(v)) {
                if (v->valuedouble != v->valuedouble || v->valuedouble > DBL_MAX ||
                    v->valuedouble < -DBL_MAX)
                        return buf_puts(out, "null");
                format_number(v->valuedouble, num, sizeof(num));
                return buf_puts(out, num);
        }
        if (cJSON_IsBool(v))
                return buf_puts(out, cJSON_IsTrue(v) ? "true" : "false");
        if (!is_object && !cJSON_IsArray(v))
                return buf_puts(out, "null");
        if (!v->child)
                return buf_puts(out, is_object ? "{}" : "[]");

        r = buf_puts(out, is_object ? "{\n" : "[\n");
        for (const cJSON *c = v->child; r >= 0 && c; c = c->next) {
                r = put_indent(out, indent + 2);
                if (r >= 0 && is_object) {
                        r = double_quoted(strempty(c->string), QUOTE_JSON, out);
                        if (r >= 0)
                                r = buf_puts(out, ": ");
                }
                if (r >= 0)
                        r = json_value(c, indent + 2, out);
                if (r >= 0)
                        r = buf_puts(out, c->next ? ",\n" : "\n");
        }
        if (r >= 0)
                r = put_indent(out, indent);
        return r < 0 ? r : buf_putc(out, is_object ? '}' : ']');
}

int print_json(const cJSON *v, FILE *f) {
        _cleanup_(buf_release) Buf out = BUF_INIT(CLI_MAX_OUTPUT);
        int r;

        r = json_value(v, 0, &out);
        if (r >= 0)
                r = buf_putc(&out, '\n');
        if (r < 0)
                return r;
        fputs(buf_str(&out), f);
        return ferror(f) ? -EIO : 0;
}
