/* SPDX-License-Identifier: MIT */
#pragma once

#include "drivers/docker/docker.h"
#include "util/error.h"
#include "util/time-util.h"

typedef struct ControllerConfig {
        const char *conninfo;        /* state store */
        const DockerEngine *engine;  /* the Docker engine this controller drives */
        int workers;                 /* reconcile worker threads, default 4 */
        usec_t relist_interval;      /* periodic full pass, default 30 s, jittered ±10% */
        const char *holder;          /* lease holder name: hostname:pid */
        const char *master_key_file; /* decrypts secrets delivered to containers */
} ControllerConfig;

typedef struct Controller Controller;

/* Starts the lease loop; workers act only while this controller holds the lease. */
int controller_start(const ControllerConfig *cfg, Controller **ret,
                     Error *reterr) _warn_unused_result_;
Controller *controller_stop(Controller *c);
