/* SPDX-License-Identifier: MIT */
#include "util/common.h"
#include "model/observed.h"

void observed_container_release(ObservedContainer *c) {
        if (!c)
                return;
        c->id = mfree(c->id);
        c->name = mfree(c->name);
        c->image = mfree(c->image);
        c->state = mfree(c->state);
        c->health = mfree(c->health);
        c->resource = mfree(c->resource);
        c->role = mfree(c->role);
        c->config_hash = mfree(c->config_hash);
        c->ip = mfree(c->ip);
}

void observed_containers_free(ObservedContainer *c, size_t n) {
        if (!c)
                return;
        for (size_t i = 0; i < n; i++)
                observed_container_release(&c[i]);
        b_free(c);
}
