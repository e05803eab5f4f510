/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli/cli.h"

/* Authentication and access commands (README "Authentication and roles"). */

/* cmd-login.c: berth login [--username U] [--password-stdin] [--refresh]; berth logout. */
int cmd_login(Cli *c, int argc, char **argv);
int cmd_logout(Cli *c, int argc, char **argv);

/* cmd-access.c: berth token create|list|delete, berth user create|list,
 * berth member list|set|remove. */
int cmd_token(Cli *c, int argc, char **argv);
int cmd_user(Cli *c, int argc, char **argv);
int cmd_member(Cli *c, int argc, char **argv);

/* The password: the first line of standard input (from_stdin), else a prompt without echo on the
 * terminal. *ret is b_free'd (cleanse it first). */
int cli_read_password(bool from_stdin, const char *prompt, char **ret,
                      Error *reterr) _warn_unused_result_;
