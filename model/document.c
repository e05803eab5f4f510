/* SPDX-License-Identifier: MIT */
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/document.h"
#include "model/job.h"
#include "model/json-util.h"
#include "model/mysql-ha.h"
#include "model/pg-cluster.h"
#include "model/pg-single.h"
#include "model/service.h"
#include "model/validate-util.h"

#define LABELS_MAX       64
#define LABEL_NAME_MAX   63
#define LABEL_PREFIX_MAX 253
#define LABEL_VALUE_MAX  63
#define DEFAULT_PROJECT  "default"

static const char *const read_only_fields[] = {"status", "generation", "uid", NULL};

/* ---- envelope ---------------------------------------------------------------------------- */

static bool label_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
}

static bool label_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Kubernetes label name: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most max; may be empty
 * when allow_empty (values). */
static bool label_word_valid(const char *s, size_t n, size_t max, bool allow_empty) {
        if (n == 0)
                return allow_empty;
        if (n > max || !label_alnum(s[0]) || !label_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!label_char(s[i]))
                        return false;
        return true;
}

/* DNS subdomain: lower-case labels separated by dots, at most 253 characters. */
static bool dns_subdomain_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || n > LABEL_PREFIX_MAX)
                return false;
        while (i < n) {
                size_t start = i;

                while (i < n && s[i] != '.')
                        i++;
                if (i == start || i - start > 63)
                        return false;
                for (size_t k = start; k < i; k++) {
                        bool ok = (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9') ||
                                  (s[k] == '-' && k != start && k != i - 1);
                        if (!ok)
                                return false;
                }
                if (i < n && ++i == n)
                        return false;
        }
        return true;
}

static bool label_key_valid(const char *k) {
        const char *slash = strchr(k, '/');

        if (!slash)
                return label_word_valid(k, strlen(k), LABEL_NAME_MAX, false);
        return dns_subdomain_valid(k, (size_t) (slash - k)) &&
               label_word_valid(slash + 1, strlen(slash + 1), LABEL_NAME_MAX, false);
}

static int cmp_item_key(const void *a, const void *b) {
        return strcmp((*(const cJSON *const *) a)->string, (*(const cJSON *const *) b)->string);
}

static int v_labels(const cJSON *v, cJSON **ret, Error *e) {
        _cleanup_json_ cJSON *out = cJSON_CreateObject();
        _cleanup_free_ const cJSON **items = NULL;
        const char *dup = NULL;
        const cJSON *c;
        size_t n, i = 0;
        int r;

        if (!out)
                return -ENOMEM;
        if (!v) {
                *ret = TAKE_PTR(out);
                return 0;
        }
        r = want_map(v, "metadata.labels", e);
        if (r < 0)
                return r;
        n = (size_t) cJSON_GetArraySize(v);
        if (n > LABELS_MAX)
                return verr(e, -EINVAL, R_OUT_OF_RANGE, "metadata.labels",
                            "has more than %d labels", LABELS_MAX);
        r = json_find_duplicate_key(v, &dup);
        if (r < 0)
                return r;
        if (dup)
                return verr(e, -EINVAL, R_DUPLICATE, path_key("metadata.labels", dup).s,
                            "is set more than once");
        if (n == 0) {
                *ret = TAKE_PTR(out);
                return 0;
        }
        items = b_malloc(n * sizeof(*items));
        if (!items)
                return -ENOMEM;
        cJSON_ArrayForEach(c, v) {
                items[i++] = c;
        }
        qsort(items, n, sizeof(*items), cmp_item_key);
        for (i = 0; i < n; i++) {
                Path f = path_key("metadata.labels", items[i]->string);
                _cleanup_free_ char *value = NULL;

                if (!label_key_valid(items[i]->string))
                        return verr(e, -EINVAL, R_INVALID_NAME, f.s,
                                    "\"%s\" is not a valid label key ([prefix/]name, name: up to "
                                    "63 letters, digits, '-', '_' or '.')",
                                    items[i]->string);
                r = want_scalar_string(items[i], f.s, LABEL_VALUE_MAX, &value, e);
                if (r < 0)
                        return r;
                if (!label_word_valid(value, strlen(value), LABEL_VALUE_MAX, true))
                        return verr(e, -EINVAL, R_INVALID_VALUE, f.s,
                                    "\"%s\" is not a valid label value (letters, digits, '-', "
                                    "'_' and '.', starting and ending with a letter or digit)",
                                    value);
                r = json_add_item_take(out, items[i]->string, cJSON_CreateString(value));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static int v_name(const cJSON *v, const char *field, char *ret, size_t n, Error *e) {
        const char *s;
        int r;

        r = want_string(v, field, 1024, &s, e);
        if (r < 0)
                return r;
        if (strlen(s) > NAME_MAX_LEN)
                return verr(e, -EINVAL, R_INVALID_NAME, field,
                            "\"%.40s...\" is %zu characters long; names are at most %d", s,
                            strlen(s), NAME_MAX_LEN);
        if (!name_is_valid(s))
                return verr(e, -EINVAL, R_INVALID_NAME, field,
                            "\"%s\" is not a valid name: use lower-case letters, digits and '-', "
                            "starting and ending with a letter or digit",
                            s);
        (void) snprintf(ret, n, "%s", s);
        return 0;
}

static int v_metadata(const cJSON *md, Document *d, Error *e) {
        static const char *const known[] = {"name", "project", "environment", "labels", NULL};
        const cJSON *v;
        const char *env;
        int r;

        if (!md)
                return verr(e, -EINVAL, R_REQUIRED, "metadata", "is required (with a name)");
        r = check_map(md, "metadata", known, NULL, read_only_fields, e);
        if (r < 0)
                return r;

        v = spec_member(md, "name");
        if (!v)
                return verr(e, -EINVAL, R_REQUIRED, "metadata.name", "is required");
        r = v_name(v, "metadata.name", d->name, sizeof(d->name), e);
        if (r < 0)
                return r;

        v = spec_member(md, "project");
        if (v) {
                r = v_name(v, "metadata.project", d->project, sizeof(d->project), e);
                if (r < 0)
                        return r;
        } else
                (void) snprintf(d->project, sizeof(d->project), "%s", DEFAULT_PROJECT);

        v = spec_member(md, "environment");
        d->environment[0] = 0;
        if (v) {
                r = want_string(v, "metadata.environment", sizeof(d->environment) - 1, &env, e);
                if (r < 0)
                        return r;
                for (const char *p = env; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                return verr(e, -EINVAL, R_INVALID_VALUE, "metadata.environment",
                                            "contains control characters");
                (void) snprintf(d->environment, sizeof(d->environment), "%s", env);
        }

        return v_labels(spec_member(md, "labels"), &d->labels, e);
}

int document_from_json(const cJSON *doc, Document *ret, Error *reterr) {
        static const char *const known[] = {"kind", "metadata", "spec", NULL};
        _cleanup_(document_release) Document d = {0};
        const cJSON *kind;
        char desc[64];
        int r;

        assert_return(ret, -EINVAL);
        if (!cJSON_IsObject(doc))
                return verr(reterr, -EINVAL, R_INVALID_TYPE, NULL,
                            "a document must be a map with kind, metadata and spec, not %s",
                            json_describe(doc, desc, sizeof(desc)));
        r = check_map(doc, NULL, known, NULL, read_only_fields, reterr);
        if (r < 0)
                return r;

        kind = spec_member(doc, "kind");
        if (!kind)
                return verr(reterr, -EINVAL, R_REQUIRED, "kind",
                            "is required (pg_single, pg_cluster, mysql_ha, docker_service, "
                            "pg_tenant or job)");
        if (!cJSON_IsString(kind))
                return verr(reterr, -EINVAL, R_INVALID_TYPE, "kind", "must be a string, not %s",
                            json_describe(kind, desc, sizeof(desc)));
        d.kind = kind_from_string(kind->valuestring);
        if (d.kind < 0)
                return verr(reterr, -EINVAL, "INVALID_KIND", "kind",
                            "%s is not a kind (pg_single, pg_cluster, mysql_ha, docker_service, "
                            "pg_tenant or job)",
                            json_describe(kind, desc, sizeof(desc)));

        r = v_metadata(spec_member(doc, "metadata"), &d, reterr);
        if (r < 0)
                return r;

        switch (d.kind) {
        case KIND_DOCKER_SERVICE:
                r = service_spec_validate(spec_member(doc, "spec"), &d.spec, reterr);
                break;
        case KIND_PG_SINGLE:
                r = pg_single_spec_validate(spec_member(doc, "spec"), d.name, &d.spec, reterr);
                break;
        case KIND_JOB:
                r = job_spec_validate(spec_member(doc, "spec"), &d.spec, reterr);
                break;
        case KIND_PG_CLUSTER:
                r = pg_cluster_spec_validate(spec_member(doc, "spec"), d.name, &d.spec, reterr);
                break;
        case KIND_MYSQL_HA:
                r = mysql_ha_spec_validate(spec_member(doc, "spec"), d.name, &d.spec, reterr);
                break;
        default:
                return err_setr(reterr, -EOPNOTSUPP, "KIND_NOT_SUPPORTED", "kind",
                                "kind %s is not supported yet by this berthd",
                                kind_to_string(d.kind));
        }
        if (r < 0)
                return r;

        *ret = d;
        d = (Document){0};
        return 0;
}

cJSON *document_to_json(const Document *d) {
        _cleanup_json_ cJSON *o = NULL;
        cJSON *md;

        if (!d || !kind_to_string(d->kind))
                return NULL;
        o = cJSON_CreateObject();
        if (!o)
                return NULL;
        if (json_add_item_take(o, "kind", cJSON_CreateString(kind_to_string(d->kind))) < 0)
                return NULL;
        md = cJSON_AddObjectToObject(o, "metadata");
        if (!md || json_add_item_take(md, "name", cJSON_CreateString(d->name)) < 0 ||
            json_add_item_take(md, "project", cJSON_CreateString(d->project)) < 0 ||
            json_add_item_take(md, "environment", cJSON_CreateString(d->environment)) < 0 ||
            json_add_item_take(md, "labels",
                               d->labels ? cJSON_Duplicate(d->labels, true)
                                         : cJSON_CreateObject()) < 0)
                return NULL;
        if (json_add_item_take(o, "spec",
                               d->spec ? cJSON_Duplicate(d->spec, true) : cJSON_CreateObject()) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int document_spec_hash(const Document *d, char ret[65]) {
        _cleanup_free_ char *s = NULL;

        assert_return(d && d->spec && ret, -EINVAL);
        s = cJSON_PrintUnformatted(d->spec);
        if (!s)
                return -ENOMEM;
        return sha256_hex(s, strlen(s), ret);
}

/* ---- bodies ------------------------------------------------------------------------------ */

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* cJSON decodes "\u0000" into a string it then truncates: refuse it instead. Offset or -1. */
static ssize_t json_find_nul_escape(const char *s, size_t len) {
        for (size_t i = 0; i + 6 <= len; i++) {
                size_t bs = 0;

                if (s[i] != '\\' || s[i + 1] != 'u' || !strneq(s + i + 2, "0000", 4))
                        continue;
                /* Escaped only if preceded by an even number of backslashes. */
                while (bs < i && s[i - 1 - bs] == '\\')
                        bs++;
                if (bs % 2 == 0)
                        return (ssize_t) i;
        }
        return -1;
}

/* Parses a JSON body into an array of documents (an object is one document). */
static int json_body(const char *body, size_t len, cJSON **ret, Error *e) {
        _cleanup_json_ cJSON *root = NULL, *arr = NULL;
        const char *end = NULL;
        ssize_t nul;

        nul = json_find_nul_escape(body, len);
        if (nul >= 0)
                return err_setr(e, -EBADMSG, "INVALID_JSON", NULL,
                                "invalid JSON near offset %zd: strings may not contain NUL "
                                "(\\u0000)",
                                nul);
        root = cJSON_ParseWithLengthOpts(body, len, &end, false);
        if (!root) {
                size_t off = end && end >= body ? (size_t) (end - body) : 0;
                return err_setr(e, -EBADMSG, "INVALID_JSON", NULL, "invalid JSON near offset %zu",
                                off);
        }
        for (const char *p = end; p && (size_t) (p - body) < len; p++)
                if (!is_space(*p))
                        return err_setr(e, -EBADMSG, "INVALID_JSON", NULL,
                                        "invalid JSON near offset %zu: unexpected data after "
                                        "the document",
                                        (size_t) (p - body));
        if (cJSON_IsArray(root)) {
                *ret = TAKE_PTR(root);
                return 0;
        }
        arr = cJSON_CreateArray();
        if (!arr)
                return -ENOMEM;
        if (json_add_item_take(arr, NULL, TAKE_PTR(root)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(arr);
        return 0;
}

/* Rewrites a document's error so its field (and the message's leading field) say which
 * document: "documents[2].spec.replicas". */
static void err_in_document(Error *e, size_t i) {
        char field[sizeof(e->field)], msg[sizeof(e->msg)];
        size_t fl;
        int k;

        if (!e)
                return;
        fl = strlen(e->field);
        if (fl > 0)
                k = snprintf(field, sizeof(field), "documents[%zu].%s", i, e->field);
        else
                k = snprintf(field, sizeof(field), "documents[%zu]", i);
        if (k < 0)
                return;
        /* Truncation is fine: both are one human line. */
        if (fl > 0 && strneq(e->msg, e->field, fl) && e->msg[fl] == ':')
                k = snprintf(msg, sizeof(msg), "%s%s", field, e->msg + fl);
        else
                k = snprintf(msg, sizeof(msg), "%s: %s", field, e->msg);
        if (k < 0)
                return;
        memcpy(e->field, field, sizeof(field));
        memcpy(e->msg, msg, sizeof(msg));
}

typedef struct DocList {
        Document *docs;
        size_t n;
} DocList;

static void doc_list_release(DocList *l) {
        documents_free(l->docs, l->n);
        *l = (DocList){0};
}

int documents_parse(const char *body, size_t len, Document **ret, size_t *ret_n, Error *reterr) {
        _cleanup_(doc_list_release) DocList out = {0};
        _cleanup_json_ cJSON *docs = NULL;
        size_t n = 0, skip = 0;
        const cJSON *it;
        int r;

        assert_return(body || len == 0, -EINVAL);
        assert_return(ret && ret_n, -EINVAL);

        if (len > API_MAX_BODY)
                return err_setr(reterr, -E2BIG, "BODY_TOO_LARGE", NULL,
                                "the body is %zu bytes, at most %d are accepted", len,
                                API_MAX_BODY);
        /* A UTF-8 byte order mark is not content. */
        if (len >= 3 && strneq(body, "\xef\xbb\xbf", 3))
                skip = 3;
        while (skip < len && is_space(body[skip]))
                skip++;
        if (skip == len)
                return err_setr(reterr, -EINVAL, "NO_DOCUMENTS", NULL, "no documents");

        /* JSON when it starts like JSON (flow-style YAML documents must not start with { or [). */
        if (body[skip] == '{' || body[skip] == '[')
                r = json_body(body, len, &docs, reterr);
        else
                r = yaml_to_json(body, len, &docs, reterr);
        if (r < 0)
                return r;

        n = (size_t) cJSON_GetArraySize(docs);
        if (n == 0)
                return err_setr(reterr, -EINVAL, "NO_DOCUMENTS", NULL, "no documents");
        if (n > APPLY_MAX_DOCS)
                return err_setr(reterr, -EINVAL, "TOO_MANY_DOCUMENTS", NULL,
                                "%zu documents, at most %d per request", n, APPLY_MAX_DOCS);

        out.docs = b_calloc(n, sizeof(*out.docs));
        if (!out.docs)
                return -ENOMEM;
        cJSON_ArrayForEach(it, docs) {
                size_t i = out.n;
                Document *d = &out.docs[i];

                r = document_from_json(it, d, reterr);
                if (r < 0) {
                        if (i > 0)
                                err_in_document(reterr, i);
                        return r;
                }
                out.n++;
                for (size_t j = 0; j < i; j++)
                        if (out.docs[j].kind == d->kind && streq(out.docs[j].name, d->name) &&
                            streq(out.docs[j].project, d->project)) {
                                r = verr(reterr, -EINVAL, R_DUPLICATE, "metadata.name",
                                         "%s %s/%s is also documents[%zu]", kind_to_string(d->kind),
                                         d->project, d->name, j);
                                err_in_document(reterr, i);
                                return r;
                        }
        }
        *ret = TAKE_PTR(out.docs);
        *ret_n = out.n;
        out.n = 0;
        return 0;
}
