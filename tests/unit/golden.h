/* SPDX-License-Identifier: MIT */
/* The runner of the golden planner tests (test-*-plan.c): each directory under a kind's
 * tests/unit/golden/<kind>/ is one case, spec.yaml + observed.json → plan.txt, run as one cmocka
 * test. BERTH_UPDATE_GOLDEN=1 rewrites plan.txt instead of comparing. Also the small readers of
 * observed.json the cases share. Include after <cmocka.h>. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/time-util.h"

#include "model/plan.h"
#include "model/resource.h"

#define GOLDEN_MAX_FILE (256 * 1024)

/* Builds the plan of the case `name` from its one document and observed.json, and renders it as
 * text into out. Returns false after print_error() saying why (rather than failing with a longjmp,
 * which would skip the caller's cleanups and leak under ASan). */
typedef bool (*GoldenPlanFn)(const char *name, const Document *doc, const cJSON *observed,
                             Buf *out);

typedef struct GoldenSuite {
        const char *title;       /* the cmocka group: "pg_single golden plans" */
        const char *default_dir; /* the cases when argv[1] is absent */
        ResourceKind kind;       /* spec.yaml must hold one document of this kind */
        bool unique_keys;        /* refuse an observed.json with a key twice in one object */
        GoldenPlanFn plan_text;
} GoldenSuite;

/* Runs every case directory of argv[1] (else suite->default_dir), sorted by name, as a cmocka
 * group. Returns cmocka's result, 1 when the directory cannot be read. */
int golden_run(int argc, char **argv, const GoldenSuite *suite);

/* The file dir/name, NUL-terminated, or NULL when it cannot be opened. */
char *golden_read_file(const char *dir, const char *name);

/* observed.json readers: an absent member or one of another type reads as the default. */
const cJSON *member(const cJSON *o, const char *key);
const char *str_of(const cJSON *o, const char *key);
char *dup_or_null(const cJSON *o, const char *key); /* b_strdup()'d */
int64_t int_or(const cJSON *o, const char *key, int64_t dflt);
bool bool_of(const cJSON *o, const char *key);
usec_t time_of(const cJSON *o, const char *key); /* RFC 3339, else the case fails; absent: 0 */
void strv_of(const cJSON *o, const char *key, char ***ret);

/* The case's resource from observed.json's "ref" (j, may be NULL): {uuid (default_uuid when
 * absent), generation (default 1), deleting}, named as the document. */
void golden_ref_init(ResourceRef *ref, ResourceKind kind, const cJSON *j, const Document *doc,
                     const char *default_uuid);

/* ---- plan.txt writers: each appends to out, failing the case when out is full ---------------- */

/* "phase: P\nmessage: M\nreplicas: N desired, R running\n" */
void put_status_head(Buf *out, const Status *st);

/* "requeue_after_ms: N\n", then "operation: O\n" and "delete_done\n" when set. */
void put_plan_tail(Buf *out, const Plan *p);

/* Appends each word as " word", quoted (" 'a b'") when it holds a space or is empty. */
void put_words(Buf *out, char *const *l);
