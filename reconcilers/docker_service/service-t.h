/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model/observed.h"

/* What observe() saw for one docker_service: the plain input of plan(). */
typedef struct ServiceObserved {
        bool network_exists;
        ObservedContainer *containers; /* every container labelled with the resource's uuid */
        size_t n_containers;
        ProbeStatus *probes; /* berth's own http/tcp probe per container, parallel array */
        char **volumes;      /* names of the volumes labelled with the resource's uuid */
} ServiceObserved;

void service_observed_release(ServiceObserved *o);
