/* fuzz_scenario.c - libFuzzer target: any bytes as a scenario script, parsed and freed. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "scenario.h"
#include "scenario_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct scenario *sc =
	    scenario_parse_text("fuzz.tcps", (const char *)data, size, err, sizeof(err));

	/* Parsing forks nothing and opens nothing: what it made is only freed. */
	scenario_free(sc);
	return 0;
}
