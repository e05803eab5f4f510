/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "reconcilers/pg_cluster/pgc-t.h"

/* PgcObserved's release, in berth-core with the planner, so tests build observations too. */

void pgc_observed_release(PgcObserved *o) {
        if (!o)
                return;
        for (size_t i = 0; o->nodes && i < o->n_containers; i++) {
                b_free(o->nodes[i].error);
                b_free(o->nodes[i].state);
                b_free(o->nodes[i].role);
        }
        b_free(o->nodes);
        observed_containers_free(o->containers, o->n_containers);
        strv_free(o->volumes);
        strv_free(o->foreign_volumes);
        b_free(o->cluster_from);
        for (size_t i = 0; i < o->n_members; i++) {
                b_free(o->members[i].name);
                b_free(o->members[i].role);
                b_free(o->members[i].state);
        }
        b_free(o->members);
        b_free(o->leader);
        cJSON_Delete(o->dcs_config);
        for (size_t i = 0; i < o->n_history; i++)
                b_free(o->history[i].leader);
        b_free(o->history);
        b_free(o->dcs_exec);
        b_free(o->leader_key_holder);
        strv_free(o->proxy_write_up);
        strv_free(o->proxy_read_up);
        b_free(o->last_leader);
        cJSON_Delete(o->prev_failovers);
        cJSON_Delete(o->in_progress.entry);
        b_free(o->request_error);
        *o = (PgcObserved){};
}

static const char *jstr(const cJSON *o, const char *key) {
        return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int copy_str(char *dst, size_t n, const char *src) {
        snprintf(dst, n, "%s", strempty(src));
        return 0;
}

/* ---- Patroni's answers ----------------------------------------------------------------------- */

static int members_from_json(const cJSON *cluster, PgcObserved *o) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(cluster, "members"), *m;
        size_t n = (size_t) cJSON_GetArraySize(list);

        o->have_cluster = true;
        o->ha_paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cluster, "pause"));
        if (n == 0)
                return 0;
        o->members = b_calloc(n, sizeof(PgcMember));
        if (!o->members)
                return -ENOMEM;
        cJSON_ArrayForEach(m, list) {
                PgcMember *x = &o->members[o->n_members++];
                const cJSON *lag = cJSON_GetObjectItemCaseSensitive(m, "lag");
                const cJSON *tl = cJSON_GetObjectItemCaseSensitive(m, "timeline");

                x->name = jstr(m, "name") ? b_strdup(jstr(m, "name")) : NULL;
                x->role = jstr(m, "role") ? b_strdup(jstr(m, "role")) : NULL;
                x->state = jstr(m, "state") ? b_strdup(jstr(m, "state")) : NULL;
                if ((jstr(m, "name") && !x->name) || (jstr(m, "role") && !x->role) ||
                    (jstr(m, "state") && !x->state))
                        return -ENOMEM;
                x->timeline = cJSON_IsNumber(tl) ? (int64_t) tl->valuedouble : 0;
                x->has_lag = cJSON_IsNumber(lag);
                x->lag_bytes = x->has_lag ? (int64_t) lag->valuedouble : 0;
                x->pending_restart =
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "pending_restart"));
                if (x->role && streq(x->role, "leader")) {
                        b_free(o->leader);
                        o->leader = x->name ? b_strdup(x->name) : NULL;
                        if (x->name && !o->leader)
                                return -ENOMEM;
                        o->timeline = x->timeline;
                }
        }
        return 0;
}

/* [[timeline, lsn, reason, timestamp, new_leader], ...] */
static int history_from_json(const cJSON *h, PgcObserved *o) {
        size_t n = (size_t) cJSON_GetArraySize(h);
        const cJSON *line;

        if (!cJSON_IsArray(h) || n == 0)
                return 0;
        o->history = b_calloc(n, sizeof(PgcHistoryLine));
        if (!o->history)
                return -ENOMEM;
        cJSON_ArrayForEach(line, h) {
                PgcHistoryLine *x = &o->history[o->n_history++];
                const cJSON *tl = cJSON_GetArrayItem(line, 0), *ts = cJSON_GetArrayItem(line, 3),
                            *who = cJSON_GetArrayItem(line, 4);

                x->timeline = cJSON_IsNumber(tl) ? (int64_t) tl->valuedouble : 0;
                if (cJSON_IsString(ts))
                        DISCARD(parse_rfc3339(ts->valuestring, &x->at));
                if (cJSON_IsString(who) && !(x->leader = b_strdup(who->valuestring)))
                        return -ENOMEM;
        }
        return 0;
}

int pgc_observed_cluster(const cJSON *cluster, const cJSON *history, PgcObserved *o) {
        int r;

        if (!cJSON_IsObject(cluster))
                return 0;
        r = members_from_json(cluster, o);
        if (r >= 0)
                r = history_from_json(history, o);
        return r;
}

/* HAProxy's CSV: "# pxname,svname,...,status,...": the servers UP in each listen section. */
int pgc_observed_proxy_csv(const char *s, PgcObserved *o) {
        int status_col = -1;
        const char *line = s;

        while (line && *line) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);
                char buf[1024], *save = NULL, *f, *px = NULL, *sv = NULL, *st = NULL;
                int col = 0, r = 0;

                if (len >= sizeof(buf))
                        len = sizeof(buf) - 1;
                memcpy(buf, line, len);
                buf[len] = 0;
                line = end ? end + 1 : NULL;
                if (buf[0] == '#') {
                        for (f = strtok_r(buf + 1, ",", &save); f;
                             f = strtok_r(NULL, ",", &save), col++)
                                if (streq(f, "status") || streq(f, " status"))
                                        status_col = col;
                        continue;
                }
                if (status_col < 0)
                        continue;
                /* Fields may be empty: split by hand. */
                for (char *q = buf, *start = buf;; q++) {
                        if (*q != ',' && *q)
                                continue;
                        bool last = !*q;
                        *q = 0;
                        if (col == 0)
                                px = start;
                        else if (col == 1)
                                sv = start;
                        else if (col == status_col)
                                st = start;
                        col++;
                        start = q + 1;
                        if (last)
                                break;
                }
                if (!px || !sv || !st || streq(sv, "FRONTEND") || streq(sv, "BACKEND") ||
                    !strneq(st, "UP", 2))
                        continue;
                if (streq(px, "primary"))
                        r = strv_push(&o->proxy_write_up, sv);
                else if (streq(px, "replicas"))
                        r = strv_push(&o->proxy_read_up, sv);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- what earlier passes recorded ----------------------------------------------------------- */

static usec_t jtime(const cJSON *o, const char *key) {
        const char *s = jstr(o, key);
        usec_t t = 0;

        return s && parse_rfc3339(s, &t) >= 0 ? t : 0;
}

static double jnum(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int pgc_observed_from_status(const cJSON *st, PgcObserved *o) {
        const cJSON *pend = cJSON_GetObjectItemCaseSensitive(st, "failover_pending");
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(st, "expected_change");
        const cJSON *prog = cJSON_GetObjectItemCaseSensitive(st, "failover_in_progress");
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(st, "failovers");

        o->applied_password_version = (int64_t) jnum(st, "password_version");
        o->last_timeline = (int64_t) jnum(st, "timeline");
        o->prev_dcs_members = (int) jnum(st, "dcs_members");
        o->leaderless_since = jtime(st, "leaderless_since");
        if (jstr(st, "leader") && !(o->last_leader = b_strdup(jstr(st, "leader"))))
                return -ENOMEM;
        if (cJSON_IsArray(f) && !(o->prev_failovers = cJSON_Duplicate(f, true)))
                return -ENOMEM;
        if (cJSON_IsObject(pend) && jstr(pend, "old_primary")) {
                o->have_pending = true;
                copy_str(o->pending_old, sizeof(o->pending_old), jstr(pend, "old_primary"));
                copy_str(o->pending_reason, sizeof(o->pending_reason), jstr(pend, "reason"));
                o->pending_at = jtime(pend, "detected_at");
        }
        if (cJSON_IsObject(x) && jstr(x, "from")) {
                o->have_expected = true;
                copy_str(o->expected.type, sizeof(o->expected.type), jstr(x, "type"));
                copy_str(o->expected.from, sizeof(o->expected.from), jstr(x, "from"));
                copy_str(o->expected.to, sizeof(o->expected.to), jstr(x, "to"));
                copy_str(o->expected.actor, sizeof(o->expected.actor), jstr(x, "actor"));
                copy_str(o->expected.reason, sizeof(o->expected.reason), jstr(x, "reason"));
                o->expected.at = jtime(x, "at");
        }
        if (cJSON_IsObject(prog)) {
                o->in_progress.active = true;
                o->in_progress.operation = (int64_t) jnum(prog, "operation");
                if (!(o->in_progress.entry = cJSON_Duplicate(prog, true)))
                        return -ENOMEM;
        }
        return 0;
}
