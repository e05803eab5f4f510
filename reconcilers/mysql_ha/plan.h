/* SPDX-License-Identifier: MIT */
#pragma once

#include "model/container.h"
#include "model/mysql-ha.h"
#include "model/plan.h"
#include "model/resource.h"
#include "reconcilers/mysql_ha/mysql-t.h"
#include "util/error.h"
#include "util/time-util.h"

/* The pure half of the mysql_ha reconciler (in berth-core: no I/O). */

#define MYSQL_ROLE_DB        "db"
#define MYSQL_ROLE_PROXY     "proxy"
#define MYSQL_PORT           3306
#define MYSQL_PROXY_WRITE    6033 /* inside the proxy container; published as spec.proxy.* */
#define MYSQL_PROXY_READ     6034
#define MYSQL_SCRIPT_DIR     "/etc/berth"
#define MYSQL_PROXY_CONF     "/etc/berth/haproxy.cfg"
#define MYSQL_REPL_USER      "berth_repl"
#define MYSQL_MONITOR_USER   "berth_monitor"
#define MYSQL_SWITCHOVER_MAX (30 * USEC_PER_SEC) /* the candidate must catch up within */

/* A failover's phases, in order: the reconciler records each before its actions run. */
typedef struct MysqlMark {
        const char *phase; /* static */
        size_t first_action;
} MysqlMark;

typedef struct MysqlPlan {
        Plan plan;
        /* The failover or switchover this pass works on (plan.status.extra carries it too). */
        MysqlFailover failover;
        MysqlMark marks[8];
        size_t n_marks;
        bool failover_completes; /* once these actions succeed, it is done */
        bool failover_aborts;    /* a switchover given up: its request fails */
        char failover_error[256];
} MysqlPlan;

void mysql_plan_init(MysqlPlan *p);
void mysql_plan_release(MysqlPlan *p);

/* Member names: "<project>-<name>-db-<index>", the proxy "<project>-<name>-proxy-0". */
int mysql_member_name(char *buf, size_t n, const ResourceRef *ref, unsigned index);

/* The container of member `index` (server_id index + 1), config hash label included. Its role
 * does not depend on it: every member starts read-only and berth makes the primary writable. */
int mysql_member_config(const ResourceRef *ref, const MysqlHaSpec *spec, const MysqlObserved *obs,
                        unsigned index, ContainerConfig *ret, Error *reterr) _warn_unused_result_;
int mysql_proxy_config(const ResourceRef *ref, const MysqlHaSpec *spec, const char *conf,
                       ContainerConfig *ret, Error *reterr) _warn_unused_result_;

/* HAProxy's configuration: the write backend holds only `primary_ip` (NULL: none, connections
 * are refused), the read backend `read_ips` with the primary as backup. malloc'd. */
char *mysql_proxy_render(const ResourceRef *ref, const MysqlHaSpec *spec, const char *primary_ip,
                         char *const *read_ips);

/* The status query run in each member (mariadb client, as root over the local socket). */
char *mysql_status_query(const MysqlHaSpec *spec);

/* Decides the actions and the status for one pass. `now` is realtime usec. */
int mysql_plan(const ResourceRef *ref, const MysqlHaSpec *spec, const MysqlObserved *obs,
               usec_t now, MysqlPlan *ret, Error *reterr) _warn_unused_result_;
