/* fuzz_filter.c - libFuzzer target: any bytes as a filter expression, parsed, matched, freed. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "filter.h"
#include "sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *expr = malloc(size + 1), err[512];
	struct filter *f;

	if (!expr)
		return 0;
	/* The command line gives text: it ends at the first NUL. */
	memcpy(expr, data, size);
	expr[size] = '\0';
	f = filter_parse(expr, err, sizeof(err));
	if (f) {
		struct sock s;

		memset(&s, 0, sizeof(s));
		s.family = AF_INET;
		s.state = ST_ESTABLISHED;
		s.sport = 443;
		filter_match(f, &s);
		s.family = AF_INET6;
		s.state = ST_TIME_WAIT;
		filter_match(f, &s);
		filter_states(f);
		filter_free(f);
	}
	free(expr);
	return 0;
}
