/* SPDX-License-Identifier: MIT */
/* The golden-case runner shared by the planner tests: see golden.h. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/document.h"
#include "model/json-util.h"
#include "golden.h"

static const GoldenSuite *golden_suite;
static const char *golden_dir;

char *golden_read_file(const char *dir, const char *name) {
        _cleanup_(buf_release) Buf b = BUF_INIT(GOLDEN_MAX_FILE);
        char path[512], chunk[4096];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                assert_int_equal(buf_append(&b, chunk, n), 0);
        fclose(f);
        return buf_take(&b);
}

/* ---- observed.json readers ------------------------------------------------------------------- */

const cJSON *member(const cJSON *o, const char *key) {
        return cJSON_GetObjectItemCaseSensitive(o, key);
}

const char *str_of(const cJSON *o, const char *key) {
        return cJSON_GetStringValue(member(o, key));
}

char *dup_or_null(const cJSON *o, const char *key) {
        const char *s = str_of(o, key);
        char *d;

        if (!s)
                return NULL;
        d = b_strdup(s);
        assert_non_null(d);
        return d;
}

int64_t int_or(const cJSON *o, const char *key, int64_t dflt) {
        const cJSON *v = member(o, key);
        return cJSON_IsNumber(v) ? (int64_t) v->valuedouble : dflt;
}

bool bool_of(const cJSON *o, const char *key) {
        return cJSON_IsTrue(member(o, key));
}

usec_t time_of(const cJSON *o, const char *key) {
        const char *s = str_of(o, key);
        usec_t t = 0;

        if (!s)
                return 0;
        if (parse_rfc3339(s, &t) < 0)
                fail_msg("%s: \"%s\" is not an RFC 3339 time", key, s);
        return t;
}

void strv_of(const cJSON *o, const char *key, char ***ret) {
        const cJSON *v;

        cJSON_ArrayForEach(v, member(o, key)) {
                assert_true(cJSON_IsString(v));
                assert_int_equal(strv_push(ret, v->valuestring), 0);
        }
}

void golden_ref_init(ResourceRef *ref, ResourceKind kind, const cJSON *j, const Document *doc,
                     const char *default_uuid) {
        const char *uuid = str_of(j, "uuid");

        *ref = (ResourceRef){.kind = kind, .generation = int_or(j, "generation", 1)};
        snprintf(ref->uuid, sizeof(ref->uuid), "%s", uuid ? uuid : default_uuid);
        snprintf(ref->project, sizeof(ref->project), "%s", doc->project);
        snprintf(ref->name, sizeof(ref->name), "%s", doc->name);
        ref->deleting = bool_of(j, "deleting");
}

/* ---- plan.txt writers ------------------------------------------------------------------------ */

void put_status_head(Buf *out, const Status *st) {
        assert_int_equal(buf_printf(out,
                                    "phase: %s\nmessage: %s\nreplicas: %d desired, %d running\n",
                                    phase_to_string(st->phase), strna(st->message),
                                    st->replicas_desired, st->replicas_running),
                         0);
}

void put_plan_tail(Buf *out, const Plan *p) {
        assert_int_equal(buf_printf(out, "requeue_after_ms: %llu\n",
                                    (unsigned long long) (p->requeue_after / USEC_PER_MSEC)),
                         0);
        if (p->operation[0])
                assert_int_equal(buf_printf(out, "operation: %s\n", p->operation), 0);
        if (p->delete_done)
                assert_int_equal(buf_puts(out, "delete_done\n"), 0);
}

void put_words(Buf *out, char *const *l) {
        for (char *const *s = l; s && *s; s++)
                assert_int_equal(buf_printf(out, strchr(*s, ' ') || !**s ? " '%s'" : " %s", *s), 0);
}

/* ---- the runner ------------------------------------------------------------------------------ */

/* A key given twice would be read once (cJSON takes the first): refuse it. */
static void assert_no_duplicate_keys(const cJSON *j, const char *name) {
        const cJSON *c;
        const char *key = NULL;

        if (cJSON_IsObject(j)) {
                assert_int_equal(json_find_duplicate_key(j, &key), 0);
                if (key)
                        fail_msg("%s: observed.json has \"%s\" twice in one object", name, key);
        }
        cJSON_ArrayForEach(c, j) {
                assert_no_duplicate_keys(c, name);
        }
}

static bool write_plan(const char *dir, const Buf *got) {
        char path[600];
        FILE *f;

        snprintf(path, sizeof(path), "%s/plan.txt", dir);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(buf_str(got), f);
        fclose(f);
        return true;
}

/* Reports what differs with print_error() and returns false, rather than failing here: a
 * failure's longjmp would skip the cleanups below and leak under ASan. */
static bool plan_matches(const GoldenSuite *suite, const char *name) {
        _cleanup_free_ char *dir = NULL, *spec_text = NULL, *obs_text = NULL, *want = NULL;
        _cleanup_json_ cJSON *obs_json = NULL;
        _cleanup_(buf_release) Buf got = BUF_INIT(GOLDEN_MAX_FILE);
        Document *docs = NULL;
        size_t n_docs = 0;
        Error err = ERROR_INIT;
        bool ok;

        assert_true(asprintf(&dir, "%s/%s", golden_dir, name) > 0);
        spec_text = golden_read_file(dir, "spec.yaml");
        obs_text = golden_read_file(dir, "observed.json");
        if (!spec_text || !obs_text) {
                print_error("%s: spec.yaml or observed.json missing\n", name);
                return false;
        }

        /* documents_parse() validates, as an apply would. */
        if (documents_parse(spec_text, strlen(spec_text), &docs, &n_docs, &err) < 0) {
                print_error("%s: spec.yaml: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        if (n_docs != 1 || docs[0].kind != suite->kind) {
                documents_free(docs, n_docs);
                print_error("%s: spec.yaml is not one %s\n", name, kind_to_string(suite->kind));
                return false;
        }
        obs_json = cJSON_Parse(obs_text);
        if (!obs_json) {
                documents_free(docs, n_docs);
                print_error("%s: observed.json does not parse\n", name);
                return false;
        }
        if (suite->unique_keys)
                assert_no_duplicate_keys(obs_json, name);
        ok = suite->plan_text(name, &docs[0], obs_json, &got);
        documents_free(docs, n_docs);
        if (!ok)
                return false;

        if (getenv("BERTH_UPDATE_GOLDEN"))
                return write_plan(dir, &got);
        want = golden_read_file(dir, "plan.txt");
        if (!want) {
                print_error("%s: plan.txt missing; got:\n%s", name, buf_str(&got));
                return false;
        }
        if (!streq(want, buf_str(&got))) {
                print_error("%s: plan differs\n--- want\n%s--- got\n%s", name, want, buf_str(&got));
                return false;
        }
        return true;
}

static void run_case(void **state) {
        if (!plan_matches(golden_suite, *state))
                fail();
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int golden_run(int argc, char **argv, const GoldenSuite *suite) {
        _cleanup_strv_free_ char **names = NULL;
        struct CMUnitTest *tests;
        struct dirent *de;
        size_t n;
        DIR *d;
        int r;

        alloc_install_cjson();
        golden_suite = suite;
        golden_dir = argc > 1 ? argv[1] : suite->default_dir;
        d = opendir(golden_dir);
        if (!d) {
                fprintf(stderr, "cannot open %s\n", golden_dir);
                return 1;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strv_push(&names, de->d_name) < 0) {
                        closedir(d);
                        return 1;
                }
        closedir(d);
        n = strv_length(names);
        qsort(names, n, sizeof(char *), cmp_names);
        tests = b_calloc(n ? n : 1, sizeof(struct CMUnitTest));
        if (!tests)
                return 1;
        for (size_t i = 0; i < n; i++)
                tests[i] = (struct CMUnitTest){
                        .name = names[i], .test_func = run_case, .initial_state = names[i]};
        r = _cmocka_run_group_tests(suite->title, tests, n, NULL, NULL);
        b_free(tests);
        return r;
}
