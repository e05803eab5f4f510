/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli/cli.h"

/* cmd-secret.c: berth secret set NAME (--from-file F | --from-literal V | --from-stdin),
 * berth secret list, berth secret delete NAME (README "Secrets"). */
int cmd_secret(Cli *c, int argc, char **argv);
