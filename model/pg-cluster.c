/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/spec-read.h"
#include "model/json-util.h"
#include "model/pg-cluster.h"
#include "model/units.h"

/* Reads a normalised pg_cluster spec (validate-pg-cluster.c wrote it, the store kept it). The
 * fields pg_single shares are read by pg_single_spec_from_json(), which finds them under the
 * same keys; this adds topology, ha and endpoints. Only types are checked, so a damaged row is an
 * error and not a crash; absent members take the validator's defaults. */

void pg_cluster_spec_release(PgClusterSpec *s) {
        if (!s)
                return;
        pg_single_spec_release(&s->pg);
        s->bind = mfree(s->bind);
}

static int get_seconds(const cJSON *o, const char *key, const char *field, int def, int *ret,
                       Error *e) {
        const cJSON *v = spec_member(o, key);
        usec_t t;

        *ret = def;
        if (!v)
                return 0;
        if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 86400) {
                *ret = (int) v->valuedouble;
                return 0;
        }
        if (!cJSON_IsString(v) || duration_parse(v->valuestring, &t) < 0 || t < USEC_PER_SEC ||
            t > 86400 * USEC_PER_SEC)
                return spec_damaged(e, field, "not a duration");
        *ret = (int) (t / USEC_PER_SEC);
        return 0;
}

static int get_lag(const cJSON *topo, PgClusterSpec *s, Error *e) {
        const cJSON *lag = spec_member(topo, "max_replication_lag"), *b, *sec;

        s->pg.max_lag_bytes = 0;
        s->pg.max_lag_seconds = 30 * USEC_PER_SEC;
        if (!lag)
                return 0;
        if (!cJSON_IsObject(lag))
                return spec_damaged(e, "spec.topology.max_replication_lag", "not a map");
        b = spec_member(lag, "bytes");
        sec = spec_member(lag, "seconds");
        if (b && (!cJSON_IsNumber(b) || b->valuedouble < 0 || b->valuedouble > 9e15))
                return spec_damaged(e, "spec.topology.max_replication_lag.bytes", "not a size");
        if (sec && (!cJSON_IsNumber(sec) || sec->valuedouble < 0 || sec->valuedouble > 86400))
                return spec_damaged(e, "spec.topology.max_replication_lag.seconds", "out of range");
        s->pg.max_lag_bytes = b ? (int64_t) b->valuedouble : 0;
        s->pg.max_lag_seconds = sec ? (usec_t) sec->valuedouble * USEC_PER_SEC : 0;
        return 0;
}

int pg_cluster_spec_from_json(const cJSON *spec, PgClusterSpec *ret, Error *reterr) {
        _cleanup_(pg_cluster_spec_release) PgClusterSpec s = {};
        const cJSON *topo, *ha, *ep, *v;
        int r;

        assert_return(ret, -EINVAL);
        if (!cJSON_IsObject(spec))
                return spec_damaged(reterr, "spec", "not a map");
        r = pg_single_spec_from_json(spec, &s.pg, reterr);
        if (r < 0)
                return r;
        topo = spec_member(spec, "topology");
        ha = spec_member(spec, "ha");
        ep = spec_member(spec, "endpoints");
        if ((topo && !cJSON_IsObject(topo)) || (ha && !cJSON_IsObject(ha)) ||
            (ep && !cJSON_IsObject(ep)))
                return spec_damaged(reterr, "spec", "topology, ha or endpoints not a map");

        r = spec_get_int_range(topo, "standbys", "spec.topology.standbys", PGC_DEFAULT_STANDBYS,
                               PGC_STANDBYS_MIN, PGC_STANDBYS_MAX, &s.standbys, reterr);
        if (r < 0)
                return r;
        v = spec_member(topo, "replication_mode");
        if (v && !cJSON_IsString(v))
                return spec_damaged(reterr, "spec.topology.replication_mode", "not a string");
        s.sync = !v || streq(v->valuestring, "sync");
        v = spec_member(topo, "synchronous_mode_strict");
        s.sync_strict = s.sync && cJSON_IsTrue(v);
        r = get_lag(topo, &s, reterr);
        if (r >= 0)
                r = spec_get_int_range(ha, "dcs_members", "spec.ha.dcs_members", PGC_DEFAULT_DCS, 1,
                                       3, &s.dcs_members, reterr);
        if (r >= 0)
                r = get_seconds(ha, "ttl", "spec.ha.ttl", PGC_DEFAULT_TTL, &s.ttl, reterr);
        if (r >= 0)
                r = get_seconds(ha, "loop_wait", "spec.ha.loop_wait", PGC_DEFAULT_LOOP_WAIT,
                                &s.loop_wait, reterr);
        if (r >= 0)
                r = get_seconds(ha, "retry_timeout", "spec.ha.retry_timeout", PGC_DEFAULT_RETRY,
                                &s.retry_timeout, reterr);
        if (r >= 0)
                r = spec_get_int_range(ep, "write_port", "spec.endpoints.write_port", 0, 0, 65535,
                                       &s.write_port, reterr);
        if (r >= 0)
                r = spec_get_int_range(ep, "read_port", "spec.endpoints.read_port", 0, 0, 65535,
                                       &s.read_port, reterr);
        if (r < 0)
                return r;
        v = spec_member(ep, "bind");
        s.bind = b_strdup(cJSON_IsString(v) ? v->valuestring : "127.0.0.1");
        if (!s.bind)
                return -ENOMEM;
        *ret = s;
        s = (PgClusterSpec){};
        return 0;
}
