/* unit.h - a minimal check macro set for the unit tests: count, report, exit status. */
#ifndef TCPDWELL_UNIT_H
#define TCPDWELL_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed, unit_checks;

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		unit_checks++;                                                                    \
		if (!(cond)) {                                                                    \
			unit_failed++;                                                            \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                 \
	} while (0)

#define CHECK_STR(a, b)                                                                           \
	do {                                                                                      \
		const char *a_ = (a), *b_ = (b);                                                  \
		unit_checks++;                                                                    \
		if (strcmp(a_, b_) != 0) {                                                        \
			unit_failed++;                                                            \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_, b_); \
		}                                                                                 \
	} while (0)

/* Run a named test function and say what it proves. */
#define RUN(fn)                                                                                   \
	do {                                                                                      \
		int before_ = unit_failed;                                                        \
		fn();                                                                             \
		printf("%s %s\n", unit_failed == before_ ? "ok" : "FAIL", #fn);                   \
	} while (0)

static inline int unit_done(void)
{
	printf("%d checks, %d failed\n", unit_checks, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
