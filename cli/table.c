/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/common.h"

#include "cli/cli.h"

#define TABLE_GAP      3  /* spaces between columns */
#define TABLE_MIN_LAST 12 /* the last column keeps at least this many characters */

void table_init(Table *t, size_t n_columns) {
        assert(n_columns > 0);
        *t = (Table){.n_columns = n_columns};
}

void table_release(Table *t) {
        t->cells = strv_free(t->cells);
        t->n_cells = 0;
}

int table_add(Table *t, const char *cell) {
        char *s = b_strdup(strempty(cell));
        int r;

        if (!s)
                return -ENOMEM;
        for (char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = ' ';
        r = strv_push_take(&t->cells, s);
        if (r < 0)
                return r;
        t->n_cells++;
        return 0;
}

int table_addf(Table *t, const char *fmt, ...) {
        _cleanup_(buf_release) Buf b = BUF_INIT(CLI_MAX_OUTPUT);
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = buf_vprintf(&b, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return table_add(t, buf_str(&b));
}

int table_add_row(Table *t, const char *const *cells, size_t n) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = table_add(t, cells[i]);
        return r;
}

int table_add_fields(Table *t, const cJSON *o, const char *const *paths, size_t n) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                char buf[64];
                /* Alternatives separated by '|': "time|created_at". */
                const char *v = NULL, *p = paths[i];

                while (!v && *p) {
                        char one[64];
                        size_t len = strcspn(p, "|");

                        assert(len < sizeof(one));
                        memcpy(one, p, len);
                        one[len] = 0;
                        v = json_text(o, one, buf, sizeof(buf));
                        p += len + (p[len] == '|');
                }
                r = table_add(t, v ? v : "");
        }
        return r;
}

size_t table_rows(const Table *t) {
        return (t->n_cells + t->n_columns - 1) / t->n_columns;
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t text_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        w++;
        return w;
}

/* Bytes of s that hold its first `width` characters. */
static size_t text_prefix(const char *s, size_t width) {
        size_t i = 0, w = 0;

        for (; s[i]; i++) {
                if (((unsigned char) s[i] & 0xC0) != 0x80) {
                        if (w == width)
                                break;
                        w++;
                }
        }
        return i;
}

int table_print(const Table *t, FILE *f) {
        _cleanup_free_ size_t *widths = NULL;
        size_t n_rows = table_rows(t), last = t->n_columns - 1, used;

        widths = b_calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_cells; i++)
                widths[i % t->n_columns] = MAX(widths[i % t->n_columns], text_width(t->cells[i]));

        used = t->indent;
        for (size_t col = 0; col < last; col++)
                used += widths[col] + TABLE_GAP;

        for (size_t row = 0; row < n_rows; row++) {
                size_t filled = 0; /* columns up to the last non-empty one */

                for (size_t col = 0; col < t->n_columns; col++) {
                        size_t i = row * t->n_columns + col;
                        if (i < t->n_cells && t->cells[i][0])
                                filled = col + 1;
                }
                fprintf(f, "%*s", (int) t->indent, "");
                for (size_t col = 0; col < filled; col++) {
                        size_t i = row * t->n_columns + col;
                        const char *cell = i < t->n_cells ? t->cells[i] : "";
                        size_t w = text_width(cell);

                        if (col < last) {
                                fputs(cell, f);
                                /* No trailing blanks after the last non-empty cell of a row. */
                                if (col + 1 < filled)
                                        fprintf(f, "%*s", (int) (widths[col] - w + TABLE_GAP), "");
                                continue;
                        }
                        if (t->width > 0 && used + w > t->width) {
                                size_t room = t->width > used ? t->width - used : 0;

                                room = MAX(room, (size_t) TABLE_MIN_LAST);
                                if (w > room) {
                                        fwrite(cell, 1, text_prefix(cell, room - 3), f);
                                        fputs("...", f);
                                        continue;
                                }
                        }
                        fputs(cell, f);
                }
                fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
}

size_t terminal_width(void) {
        struct winsize ws;
        const char *e;
        char *end;
        long n;

        if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        e = getenv("COLUMNS");
        if (isempty(e))
                return 0;
        errno = 0;
        n = strtol(e, &end, 10);
        if (errno != 0 || *end || n <= 0 || n > 10000)
                return 0;
        return (size_t) n;
}
