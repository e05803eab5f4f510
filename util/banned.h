/* SPDX-License-Identifier: MIT */
#pragma once

/* Functions berth never calls (after git's banned.h). Included last by util/common.h, so a
 * use anywhere fails to compile. Use buf_*, snprintf, strtoll, gmtime_r, strerror_r,
 * posix_spawn and RAND_bytes instead. */
#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef ctime
#define ctime(x) BANNED(ctime)
#undef mktemp
#define mktemp(x) BANNED(mktemp)
#undef strerror
#define strerror(x) BANNED(strerror)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)
#undef rand
#define rand() BANNED(rand)
