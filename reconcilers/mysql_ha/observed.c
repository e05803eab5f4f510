/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "util/common.h"

#include "model/json-util.h"
#include "reconcilers/mysql_ha/mysql-t.h"

/* The pure parts of observation, in berth-core with the planner so that tests build
 * observations too: GTID positions, the members' answers, the bookkeeping kept in the status. */

/* ---- GTID positions ------------------------------------------------------------------------ */

static int parse_u64(const char **p, uint64_t *ret) {
        uint64_t v = 0;
        const char *s = *p;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *p = s;
        *ret = v;
        return 0;
}

int mysql_gtid_parse(const char *s, MysqlGtidPos *ret) {
        MysqlGtidPos pos = {};
        const char *p = s ? s : "";

        assert_return(ret, -EINVAL);
        for (;;) {
                uint64_t d, srv, seq;

                while (*p == ' ' || *p == '\n' || *p == '\t' || *p == ',')
                        p++;
                if (!*p)
                        break;
                if (parse_u64(&p, &d) < 0 || *p++ != '-' || parse_u64(&p, &srv) < 0 ||
                    *p++ != '-' || parse_u64(&p, &seq) < 0 || d > UINT32_MAX || srv > UINT32_MAX)
                        return -EINVAL;
                if (pos.n >= MYSQL_GTID_DOMAINS)
                        return -E2BIG;
                pos.g[pos.n++] =
                        (MysqlGtid){.domain = (uint32_t) d, .server = (uint32_t) srv, .seq = seq};
        }
        *ret = pos;
        return 0;
}

static const MysqlGtid *gtid_domain(const MysqlGtidPos *p, uint32_t domain) {
        for (size_t i = 0; i < p->n; i++)
                if (p->g[i].domain == domain)
                        return &p->g[i];
        return NULL;
}

bool mysql_gtid_reached(const MysqlGtidPos *have, const MysqlGtidPos *want) {
        for (size_t i = 0; i < want->n; i++) {
                const MysqlGtid *h = gtid_domain(have, want->g[i].domain);

                if (!h || h->seq < want->g[i].seq)
                        return false;
        }
        return true;
}

bool mysql_gtid_diverged(const MysqlGtidPos *a, const MysqlGtidPos *b) {
        for (size_t i = 0; i < a->n; i++) {
                const MysqlGtid *o = gtid_domain(b, a->g[i].domain);

                if (!o || o->seq < a->g[i].seq)
                        return true;
                if (o->seq == a->g[i].seq && o->server != a->g[i].server)
                        return true;
        }
        return false;
}

uint64_t mysql_gtid_weight(const MysqlGtidPos *p) {
        uint64_t w = 0;

        for (size_t i = 0; i < p->n; i++)
                w += p->g[i].seq;
        return w;
}

/* ---- a member's answer --------------------------------------------------------------------- */

void mysql_node_observed_release(MysqlNodeObserved *n) {
        if (!n)
                return;
        b_free(n->error);
        b_free(n->version);
        b_free(n->gtid_current_pos);
        b_free(n->gtid_binlog_pos);
        b_free(n->gtid_slave_pos);
        b_free(n->master_host);
        b_free(n->io_running);
        b_free(n->sql_running);
        b_free(n->gtid_io_pos);
        b_free(n->using_gtid);
        b_free(n->last_io_error);
        b_free(n->last_sql_error);
        b_free(n->sql_state);
        *n = (MysqlNodeObserved){};
}

static int dup_str(const cJSON *o, const char *key, char **ret) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        *ret = NULL;
        if (!cJSON_IsString(v))
                return 0;
        *ret = b_strdup(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

static double num(const cJSON *o, const char *key, double def) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (cJSON_IsNumber(v))
                return v->valuedouble;
        if (cJSON_IsBool(v))
                return cJSON_IsTrue(v) ? 1 : 0;
        if (cJSON_IsString(v) && v->valuestring[0]) {
                char *end = NULL;
                double d = strtod(v->valuestring, &end);

                return end && *end == 0 ? d : def;
        }
        return def;
}

static int slave_from_json(const cJSON *s, MysqlNodeObserved *n) {
        int r;

        if (!cJSON_IsObject(s))
                return 0;
        n->has_slave = true;
        r = dup_str(s, "Master_Host", &n->master_host);
        if (r >= 0)
                r = dup_str(s, "Slave_IO_Running", &n->io_running);
        if (r >= 0)
                r = dup_str(s, "Slave_SQL_Running", &n->sql_running);
        if (r >= 0)
                r = dup_str(s, "Gtid_IO_Pos", &n->gtid_io_pos);
        if (r >= 0)
                r = dup_str(s, "Using_Gtid", &n->using_gtid);
        if (r >= 0)
                r = dup_str(s, "Last_IO_Error", &n->last_io_error);
        if (r >= 0)
                r = dup_str(s, "Last_SQL_Error", &n->last_sql_error);
        if (r >= 0)
                r = dup_str(s, "Slave_SQL_Running_State", &n->sql_state);
        if (r < 0)
                return r;
        n->seconds_behind = (int64_t) num(s, "Seconds_Behind_Master", -1);
        n->last_io_errno = (int) num(s, "Last_IO_Errno", 0);
        n->last_sql_errno = (int) num(s, "Last_SQL_Errno", 0);
        return 0;
}

int mysql_node_from_json(const cJSON *j, MysqlNodeObserved *n) {
        int r;

        assert_return(n, -EINVAL);
        if (!cJSON_IsObject(j))
                return -EBADMSG;
        r = dup_str(j, "version", &n->version);
        if (r >= 0)
                r = dup_str(j, "gtid_current_pos", &n->gtid_current_pos);
        if (r >= 0)
                r = dup_str(j, "gtid_binlog_pos", &n->gtid_binlog_pos);
        if (r >= 0)
                r = dup_str(j, "gtid_slave_pos", &n->gtid_slave_pos);
        if (r >= 0)
                r = slave_from_json(cJSON_GetObjectItemCaseSensitive(j, "slave"), n);
        if (r < 0)
                return r;
        n->server_id = (int) num(j, "server_id", 0);
        n->read_only = num(j, "read_only", 1) != 0;
        n->semi_master_enabled = num(j, "semi_master_enabled", 0) != 0;
        n->semi_master_active = num(j, "semi_master_active", 0) != 0;
        n->semi_master_clients = (int) num(j, "semi_master_clients", 0);
        n->semi_slave_active = num(j, "semi_slave_active", 0) != 0;
        n->bootstrapped = num(j, "bootstrapped", 0) != 0;
        n->answered = true;
        return 0;
}

/* "   Key: value" lines after the "*** 1. row ***" marker, into a JSON object of strings. */
static int slave_lines_to_json(const char *s, cJSON **ret) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();

        if (!o)
                return -ENOMEM;
        while (*s) {
                const char *eol = strchr(s, '\n'), *colon, *k;
                size_t len = eol ? (size_t) (eol - s) : strlen(s);

                colon = memchr(s, ':', len);
                if (colon && colon > s) {
                        char key[64], *val;
                        size_t klen, vlen;

                        for (k = s; k < colon && *k == ' '; k++)
                                ;
                        klen = (size_t) (colon - k);
                        if (klen > 0 && klen < sizeof(key)) {
                                memcpy(key, k, klen);
                                key[klen] = 0;
                                vlen = len - (size_t) (colon - s) - 1;
                                if (vlen > 0 && colon[1] == ' ') {
                                        colon++;
                                        vlen--;
                                }
                                val = b_strndup(colon + 1, vlen);
                                if (!val)
                                        return -ENOMEM;
                                if (!cJSON_GetObjectItemCaseSensitive(o, key) &&
                                    json_add_item_take(o, key, cJSON_CreateString(val)) < 0) {
                                        b_free(val);
                                        return -ENOMEM;
                                }
                                b_free(val);
                        }
                }
                s += len + (eol ? 1 : 0);
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int mysql_node_from_output(const char *out, MysqlNodeObserved *n) {
        _cleanup_json_ cJSON *j = NULL, *slave = NULL;
        const char *p, *row;
        int r;

        assert_return(out && n, -EINVAL);
        /* The header line "berth_status", then the object on a line of its own. */
        p = strstr(out, "\n{");
        if (!p && out[0] == '{')
                p = out;
        else if (p)
                p++;
        if (!p)
                return -EBADMSG;
        {
                const char *eol = strchr(p, '\n');
                _cleanup_free_ char *line = b_strndup(p, eol ? (size_t) (eol - p) : strlen(p));

                if (!line)
                        return -ENOMEM;
                j = cJSON_Parse(line);
                if (!j)
                        return -EBADMSG;
        }
        row = strstr(p, ". row ***");
        if (row) {
                row = strchr(row, '\n');
                r = slave_lines_to_json(row ? row + 1 : "", &slave);
                if (r < 0)
                        return r;
                if (!cJSON_AddItemToObject(j, "slave", TAKE_PTR(slave)))
                        return -ENOMEM;
        }
        return mysql_node_from_json(j, n);
}

/* ---- the failover record ------------------------------------------------------------------- */

static usec_t time_member(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        usec_t t = 0;

        if (cJSON_IsString(v) && parse_rfc3339(v->valuestring, &t) >= 0)
                return t;
        return 0;
}

static void copy_member(const cJSON *o, const char *key, char *buf, size_t n) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        snprintf(buf, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int mysql_failover_from_json(const cJSON *j, MysqlFailover *ret) {
        MysqlFailover f = {.old_index = -1, .new_index = -1};

        assert_return(ret, -EINVAL);
        *ret = f;
        if (!cJSON_IsObject(j))
                return 0;
        copy_member(j, "kind", f.kind, sizeof(f.kind));
        if (!f.kind[0])
                return 0;
        f.active = true;
        copy_member(j, "reason", f.reason, sizeof(f.reason));
        copy_member(j, "phase", f.phase, sizeof(f.phase));
        copy_member(j, "old_gtid", f.old_gtid, sizeof(f.old_gtid));
        copy_member(j, "new_gtid", f.new_gtid, sizeof(f.new_gtid));
        f.old_index = (int) num(j, "old_index", -1);
        f.new_index = (int) num(j, "new_index", -1);
        f.automatic = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "automatic"));
        f.request_id = (int64_t) num(j, "request", 0);
        f.operation = (int64_t) num(j, "operation", 0);
        f.failed_at = time_member(j, "failed_at");
        f.detected_at = time_member(j, "detected_at");
        f.fenced_at = time_member(j, "fenced_at");
        f.frozen_at = time_member(j, "frozen_at");
        f.promoted_at = time_member(j, "promoted_at");
        f.routed_at = time_member(j, "routed_at");
        *ret = f;
        return 0;
}

static int put_time(cJSON *o, const char *key, usec_t t) {
        char buf[40];

        if (t == 0)
                return 0;
        return json_add_item_take(o, key,
                                  cJSON_CreateString(format_rfc3339_exact(t, buf, sizeof(buf))));
}

cJSON *mysql_failover_to_json(const MysqlFailover *f) {
        _cleanup_json_ cJSON *o = NULL;
        int r;

        if (!f || !f->active)
                return cJSON_CreateNull();
        o = cJSON_CreateObject();
        if (!o)
                return NULL;
        r = json_add_item_take(o, "kind", cJSON_CreateString(f->kind));
        if (r >= 0)
                r = json_add_item_take(o, "phase", cJSON_CreateString(f->phase));
        if (r >= 0)
                r = json_add_item_take(o, "reason", cJSON_CreateString(f->reason));
        if (r >= 0)
                r = json_add_item_take(o, "automatic", cJSON_CreateBool(f->automatic));
        if (r >= 0)
                r = json_add_item_take(o, "old_index", cJSON_CreateNumber(f->old_index));
        if (r >= 0)
                r = json_add_item_take(o, "new_index", cJSON_CreateNumber(f->new_index));
        if (r >= 0 && f->request_id > 0)
                r = json_add_item_take(o, "request", cJSON_CreateNumber((double) f->request_id));
        if (r >= 0 && f->operation > 0)
                r = json_add_item_take(o, "operation", cJSON_CreateNumber((double) f->operation));
        if (r >= 0)
                r = put_time(o, "failed_at", f->failed_at);
        if (r >= 0)
                r = put_time(o, "detected_at", f->detected_at);
        if (r >= 0)
                r = put_time(o, "fenced_at", f->fenced_at);
        if (r >= 0)
                r = put_time(o, "frozen_at", f->frozen_at);
        if (r >= 0)
                r = put_time(o, "promoted_at", f->promoted_at);
        if (r >= 0)
                r = put_time(o, "routed_at", f->routed_at);
        if (r >= 0)
                r = json_add_item_take(o, "old_gtid", cJSON_CreateString(f->old_gtid));
        if (r >= 0)
                r = json_add_item_take(o, "new_gtid", cJSON_CreateString(f->new_gtid));
        if (r < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* ---- observation --------------------------------------------------------------------------- */

void mysql_observed_init(MysqlObserved *o) {
        *o = (MysqlObserved){.primary_index = -1, .request_target = -1};
        o->failover.old_index = o->failover.new_index = -1;
        for (size_t i = 0; i < MYSQL_MEMBERS_MAX; i++)
                o->rejoin[i] = -1;
}

void mysql_observed_release(MysqlObserved *o) {
        if (!o)
                return;
        for (size_t i = 0; o->nodes && i < o->n_containers; i++)
                mysql_node_observed_release(&o->nodes[i]);
        b_free(o->nodes);
        observed_containers_free(o->containers, o->n_containers);
        strv_free(o->volumes);
        b_free(o->request_error);
        mysql_observed_init(o);
}

void mysql_observed_from_status(MysqlObserved *o, const cJSON *status) {
        const cJSON *v, *last, *rejoin;

        if (!cJSON_IsObject(status))
                return;
        v = cJSON_GetObjectItemCaseSensitive(status, "primary_index");
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < MYSQL_MEMBERS_MAX)
                o->primary_index = (int) v->valuedouble;
        o->initialized = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "initialized"));
        o->applied_password_version = (int64_t) num(status, "password_version", 0);
        v = cJSON_GetObjectItemCaseSensitive(status, "probe");
        o->probe_failures = (int) num(v, "failures", 0);
        o->last_probe_at = time_member(v, "last_at");
        o->probe_since = time_member(v, "since");
        /* Anti-flapping counts berth's own failovers: the newest automatic one in the history
         * (a switchover or a requested failover since does not reset it). */
        cJSON_ArrayForEach(last, cJSON_GetObjectItemCaseSensitive(status, "failovers")) {
                if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(last, "automatic")))
                        continue;
                o->last_failover_at = MAX(o->last_failover_at, time_member(last, "completed_at"));
        }
        last = cJSON_GetObjectItemCaseSensitive(status, "last_failover");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(last, "automatic")))
                o->last_failover_at = MAX(o->last_failover_at, time_member(last, "completed_at"));
        (void) mysql_failover_from_json(cJSON_GetObjectItemCaseSensitive(status, "failover"),
                                        &o->failover);
        rejoin = cJSON_GetObjectItemCaseSensitive(status, "rejoin");
        cJSON_ArrayForEach(v, rejoin) {
                int index = (int) num(v, "index", -1);
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(v, "state");

                if (index < 0 || index >= MYSQL_MEMBERS_MAX || !cJSON_IsString(st))
                        continue;
                o->rejoin[index] = streq(st->valuestring, "restarted") ? MYSQL_REJOIN_RESTARTED
                                                                       : MYSQL_REJOIN_FENCED;
        }
}
