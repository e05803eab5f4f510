/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdarg.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "util/common.h"
#include "model/document.h"
#include "model/json-util.h"

/* YAML → JSON over libyaml's event parser. The walk is iterative: an explicit stack of open
 * collections, capped at YAML_MAX_DEPTH, so no input can exhaust the C stack (libyaml#107
 * was exactly that). Each collection is linked into its parent as soon as it starts, so the
 * tree under `root` owns every node at all times and an early return frees everything. */

/* Maps up to this many keys are checked for duplicates as each key arrives (and the error
 * points at the key); larger ones are checked once, sorted, when they end. */
#define YAML_DUP_LINEAR_MAX 32

typedef struct Frame {
        cJSON *node; /* borrowed: owned by the document tree */
        bool is_map;
        bool have_key; /* map: a key was read, its value is next */
        char *key;     /* map: the latest key, kept while its value is built (for field paths) */
        size_t n_items;
        yaml_mark_t start;
} Frame;

typedef struct Walker {
        Frame frames[YAML_MAX_DEPTH];
        size_t depth;
        cJSON *docs; /* array of the documents finished so far */
        cJSON *root; /* the document being built */
} Walker;

static void walker_release(Walker *w) {
        for (size_t i = 0; i < w->depth; i++)
                w->frames[i].key = mfree(w->frames[i].key);
        w->depth = 0;
        cJSON_Delete(w->root);
        cJSON_Delete(w->docs);
        w->root = w->docs = NULL;
}

static void yaml_parser_deletep(yaml_parser_t *p) {
        yaml_parser_delete(p);
}

static void yaml_event_deletep(yaml_event_t *e) {
        yaml_event_delete(e);
}

static void path_append(char *buf, size_t n, const char *fmt, ...) _printf_(3, 4);
static void path_append(char *buf, size_t n, const char *fmt, ...) {
        size_t len = strlen(buf);
        va_list ap;

        if (len + 1 >= n)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(buf + len, n - len, fmt, ap);
        va_end(ap);
}

/* The field path of the node being read: "spec.ports[1].bind". `pending`: the node is not yet
 * linked into the top collection. `key`: name this key of the top map (duplicate keys). */
static void walker_path(const Walker *w, bool pending, const char *key, char *buf, size_t n) {
        size_t ndocs = (size_t) cJSON_GetArraySize(w->docs);

        buf[0] = 0;
        if (ndocs > 0)
                path_append(buf, n, "documents[%zu]", ndocs);
        for (size_t i = 0; i < w->depth; i++) {
                const Frame *f = &w->frames[i];
                bool top = i + 1 == w->depth;
                const char *sep = buf[0] ? "." : "";

                if (f->is_map) {
                        if (top && key) {
                                path_append(buf, n, "%s%s", sep, key);
                                break;
                        }
                        if (top && !pending)
                                break;
                        path_append(buf, n, "%s%s", sep, strempty(f->key));
                } else {
                        if (top && !pending)
                                break;
                        path_append(buf, n, "[%zu]", top ? f->n_items : f->n_items - 1);
                }
        }
}

static int walker_fail(const Walker *w, Error *e, int code, const char *reason,
                       const yaml_mark_t *m, bool pending, const char *key, const char *fmt, ...)
        _printf_(8, 9);
static int walker_fail(const Walker *w, Error *e, int code, const char *reason,
                       const yaml_mark_t *m, bool pending, const char *key, const char *fmt, ...) {
        char what[200], field[sizeof(e->field)];
        va_list ap;

        if (!e)
                return code;
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        walker_path(w, pending, key, field, sizeof(field));
        return err_setr(e, code, reason, field, "line %zu, column %zu: %s", m->line + 1,
                        m->column + 1, what);
}

#define fail_yaml(w, e, m, pending, key, ...)                                                      \
        walker_fail(w, e, -EBADMSG, "INVALID_YAML", m, pending, key, __VA_ARGS__)

typedef enum ScalarClass {
        SCALAR_NULL,
        SCALAR_BOOL,
        SCALAR_INT,
        SCALAR_FLOAT,
        SCALAR_STRING,
} ScalarClass;

static bool all_of(const char *s, const char *set) {
        return *s && strspn(s, set) == strlen(s);
}

static bool is_float_syntax(const char *s) {
        /* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
        size_t d = 0;

        if (*s == '-' || *s == '+')
                s++;
        if (*s == '.') {
                s++;
                while (*s >= '0' && *s <= '9')
                        s++, d++;
                if (d == 0)
                        return false;
        } else {
                while (*s >= '0' && *s <= '9')
                        s++, d++;
                if (d == 0)
                        return false;
                if (*s == '.') {
                        s++;
                        while (*s >= '0' && *s <= '9')
                                s++;
                }
        }
        if (*s == 'e' || *s == 'E') {
                d = 0;
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                while (*s >= '0' && *s <= '9')
                        s++, d++;
                if (d == 0)
                        return false;
        }
        return *s == 0;
}

/* YAML 1.2 core schema resolution of a plain scalar. .inf and .nan stay strings: JSON has no
 * such numbers. Numbers that do not fit a double also stay strings. */
static ScalarClass scalar_resolve(const char *v, size_t len, bool *ret_bool, double *ret_num) {
        const char *digits = v + (*v == '-' || *v == '+');

        if (len == 0 || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL"))
                return SCALAR_NULL;
        if (streq(v, "true") || streq(v, "True") || streq(v, "TRUE")) {
                *ret_bool = true;
                return SCALAR_BOOL;
        }
        if (streq(v, "false") || streq(v, "False") || streq(v, "FALSE")) {
                *ret_bool = false;
                return SCALAR_BOOL;
        }
        if ((strneq(v, "0x", 2) && all_of(v + 2, "0123456789abcdefABCDEF")) ||
            (strneq(v, "0o", 2) && all_of(v + 2, "01234567"))) {
                unsigned long long u;

                errno = 0;
                u = strtoull(v + 2, NULL, v[1] == 'x' ? 16 : 8);
                if (errno == ERANGE)
                        return SCALAR_STRING;
                *ret_num = (double) u;
                return SCALAR_INT;
        }
        if (all_of(digits, "0123456789") || is_float_syntax(v)) {
                double d;

                errno = 0;
                d = strtod(v, NULL);
                if (errno == ERANGE || !isfinite(d))
                        return SCALAR_STRING;
                *ret_num = d;
                return all_of(digits, "0123456789") ? SCALAR_INT : SCALAR_FLOAT;
        }
        return SCALAR_STRING;
}

#define TAG_PREFIX "tag:yaml.org,2002:"

/* "!!int" for the core schema's long form, as users write it. */
static const char *tag_short(const char *tag, char *buf, size_t n) {
        if (strneq(tag, TAG_PREFIX, STRLEN(TAG_PREFIX))) {
                (void) snprintf(buf, n, "!!%s", tag + STRLEN(TAG_PREFIX));
                return buf;
        }
        return tag;
}

static cJSON *scalar_make(ScalarClass c, const char *v, bool b, double num) {
        switch (c) {
        case SCALAR_NULL:
                return cJSON_CreateNull();
        case SCALAR_BOOL:
                return cJSON_CreateBool(b);
        case SCALAR_INT:
        case SCALAR_FLOAT:
                return cJSON_CreateNumber(num);
        default:
                return cJSON_CreateString(v);
        }
}

/* Links item (taken) into the top collection, or makes it the document root. */
static int walker_insert(Walker *w, cJSON *item) {
        Frame *f;

        if (!item)
                return -ENOMEM;
        if (w->depth == 0) {
                assert(!w->root);
                w->root = item;
                return 0;
        }
        f = &w->frames[w->depth - 1];
        if (f->is_map) {
                assert(f->have_key);
                if (!cJSON_AddItemToObject(f->node, f->key, item)) {
                        cJSON_Delete(item);
                        return -ENOMEM;
                }
                f->have_key = false;
        } else if (!cJSON_AddItemToArray(f->node, item)) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        f->n_items++;
        return 0;
}

static int on_key(Walker *w, const yaml_event_t *ev, Error *e) {
        Frame *f = &w->frames[w->depth - 1];
        const char *v = (const char *) ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        const yaml_mark_t *m = &ev->start_mark;

        if (strlen(v) != len)
                return walker_fail(w, e, -EINVAL, "INVALID_VALUE", m, false, v,
                                   "a key contains a NUL character");
        if (len == 0)
                return fail_yaml(w, e, m, false, NULL, "empty keys are not supported");
        if (f->n_items < YAML_DUP_LINEAR_MAX)
                for (const cJSON *c = f->node->child; c; c = c->next)
                        if (streq(c->string, v))
                                return fail_yaml(w, e, m, false, v, "duplicate key \"%s\"", v);
        b_free(f->key);
        f->key = b_strdup(v);
        if (!f->key)
                return -ENOMEM;
        f->have_key = true;
        return 0;
}

static int on_scalar(Walker *w, const yaml_event_t *ev, Error *e) {
        const char *v = (const char *) ev->data.scalar.value;
        const char *tag = (const char *) ev->data.scalar.tag;
        size_t len = ev->data.scalar.length;
        const yaml_mark_t *m = &ev->start_mark;
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        ScalarClass c = SCALAR_STRING;
        bool b = false;
        double num = 0;

        if (ev->data.scalar.anchor)
                return fail_yaml(w, e, m, true, NULL, "anchors (&%s) are not supported",
                                 (const char *) ev->data.scalar.anchor);
        if (w->depth > 0 && w->frames[w->depth - 1].is_map && !w->frames[w->depth - 1].have_key)
                return on_key(w, ev, e);
        if (strlen(v) != len)
                return walker_fail(w, e, -EINVAL, "INVALID_VALUE", m, true, NULL,
                                   "strings may not contain NUL characters");

        if (!tag) {
                if (plain)
                        c = scalar_resolve(v, len, &b, &num);
        } else if (streq(tag, "!") || streq(tag, TAG_PREFIX "str")) {
                c = SCALAR_STRING;
        } else {
                static const struct {
                        const char *name;
                        ScalarClass c;
                } tags[] = {
                        {TAG_PREFIX "null", SCALAR_NULL},
                        {TAG_PREFIX "bool", SCALAR_BOOL},
                        {TAG_PREFIX "int", SCALAR_INT},
                        {TAG_PREFIX "float", SCALAR_FLOAT},
                };
                ScalarClass want = SCALAR_STRING;
                char tb[64];

                for (size_t i = 0; i < ELEMENTSOF(tags); i++)
                        if (streq(tag, tags[i].name))
                                want = tags[i].c;
                if (want == SCALAR_STRING)
                        return fail_yaml(w, e, m, true, NULL, "tag %s is not supported",
                                         tag_short(tag, tb, sizeof(tb)));
                c = scalar_resolve(v, len, &b, &num);
                if (c == SCALAR_INT && want == SCALAR_FLOAT)
                        c = SCALAR_FLOAT;
                if (c != want)
                        return fail_yaml(w, e, m, true, NULL, "\"%s\" does not match tag %s", v,
                                         tag_short(tag, tb, sizeof(tb)));
        }
        return walker_insert(w, scalar_make(c, v, b, num));
}

static int on_collection_start(Walker *w, const yaml_event_t *ev, bool is_map, Error *e) {
        const char *anchor = (const char *) (is_map ? ev->data.mapping_start.anchor
                                                    : ev->data.sequence_start.anchor);
        const char *tag =
                (const char *) (is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
        const yaml_mark_t *m = &ev->start_mark;
        char tb[64];
        cJSON *node;
        int r;

        if (anchor)
                return fail_yaml(w, e, m, true, NULL, "anchors (&%s) are not supported", anchor);
        if (tag && !streq(tag, "!") && !streq(tag, is_map ? TAG_PREFIX "map" : TAG_PREFIX "seq"))
                return fail_yaml(w, e, m, true, NULL, "tag %s is not supported",
                                 tag_short(tag, tb, sizeof(tb)));
        if (w->depth > 0 && w->frames[w->depth - 1].is_map && !w->frames[w->depth - 1].have_key)
                return fail_yaml(w, e, m, true, NULL, "only scalar keys are supported, not a %s",
                                 is_map ? "mapping" : "sequence");
        if (w->depth >= YAML_MAX_DEPTH)
                return fail_yaml(w, e, m, true, NULL, "nesting deeper than %d levels",
                                 YAML_MAX_DEPTH);

        node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
        r = walker_insert(w, node);
        if (r < 0)
                return r;
        w->frames[w->depth++] = (Frame){.node = node, .is_map = is_map, .start = *m};
        return 0;
}

static int on_collection_end(Walker *w, const yaml_event_t *ev, Error *e) {
        Frame *f;
        int r;

        assert(w->depth > 0);
        f = &w->frames[w->depth - 1];
        if (f->is_map && f->n_items > YAML_DUP_LINEAR_MAX) {
                const char *dup = NULL;

                r = json_find_duplicate_key(f->node, &dup);
                if (r < 0)
                        return r;
                if (dup)
                        return fail_yaml(w, e, &f->start, false, dup,
                                         "duplicate key \"%s\" in the mapping that starts here",
                                         dup);
        }
        (void) ev;
        f->key = mfree(f->key);
        w->depth--;
        return 0;
}

static int on_document_end(Walker *w) {
        cJSON *root = TAKE_PTR(w->root);

        if (!root || cJSON_IsNull(root)) {
                /* An empty document ("---" alone, or only comments) is skipped. */
                cJSON_Delete(root);
                return 0;
        }
        return json_add_item_take(w->docs, NULL, root);
}

static int parser_fail(const yaml_parser_t *p, const char *text, size_t len, Error *e) {
        yaml_mark_t reader_mark = {0};
        const yaml_mark_t *m = &p->problem_mark;

        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                /* The reader reports a byte offset (bad UTF-8, control characters): turn it into
                 * a line and column like every other error. */
                for (size_t i = 0; i < p->problem_offset && i < len; i++) {
                        if (text[i] == '\n') {
                                reader_mark.line++;
                                reader_mark.column = 0;
                        } else if (((unsigned char) text[i] & 0xc0) != 0x80)
                                reader_mark.column++;
                }
                m = &reader_mark;
        }
        if (p->context)
                return err_setr(e, -EBADMSG, "INVALID_YAML", NULL, "line %zu, column %zu: %s %s",
                                m->line + 1, m->column + 1, strna(p->problem), p->context);
        return err_setr(e, -EBADMSG, "INVALID_YAML", NULL, "line %zu, column %zu: %s", m->line + 1,
                        m->column + 1, strna(p->problem));
}

int yaml_to_json(const char *text, size_t len, cJSON **ret, Error *reterr) {
        _cleanup_(yaml_parser_deletep) yaml_parser_t parser = {0};
        _cleanup_(walker_release) Walker w = {0};
        bool done = false;
        int r;

        assert_return(text || len == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) (text ? text : ""), len);
        w.docs = cJSON_CreateArray();
        if (!w.docs)
                return -ENOMEM;

        while (!done) {
                _cleanup_(yaml_event_deletep) yaml_event_t ev = {0};

                if (!yaml_parser_parse(&parser, &ev))
                        return parser_fail(&parser, text, len, reterr);

                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        r = 0;
                        break;
                case YAML_DOCUMENT_END_EVENT:
                        r = on_document_end(&w);
                        break;
                case YAML_ALIAS_EVENT:
                        r = fail_yaml(&w, reterr, &ev.start_mark, true, NULL,
                                      "aliases (*%s) are not supported",
                                      (const char *) ev.data.alias.anchor);
                        break;
                case YAML_SCALAR_EVENT:
                        r = on_scalar(&w, &ev, reterr);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        r = on_collection_start(&w, &ev, false, reterr);
                        break;
                case YAML_MAPPING_START_EVENT:
                        r = on_collection_start(&w, &ev, true, reterr);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        r = on_collection_end(&w, &ev, reterr);
                        break;
                default: /* stream and document start: nothing to build */
                        r = 0;
                        break;
                }
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(w.docs);
        return 0;
}
