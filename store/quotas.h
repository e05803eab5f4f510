/* SPDX-License-Identifier: MIT */
#pragma once

#include "model/quota.h"
#include "store/store.h"

/* Sets the project's quota (an empty one removes it); audited with the actor. */
int store_quota_set(Store *s, const char *project, const ProjectQuota *q, const char *actor,
                    Error *reterr) _warn_unused_result_;
/* The project's quota, or an empty one. for_update: lock it until the transaction ends (the
 * apply path, so concurrent applies to one project are checked one after the other). */
int store_quota_get(Store *s, const char *project, bool for_update, ProjectQuota *ret,
                    Error *reterr) _warn_unused_result_;
