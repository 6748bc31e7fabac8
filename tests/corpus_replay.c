/* corpus_replay.c - feeds each saved fuzzer input to a fuzz target's entry point, as a test. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Proves that the code under a fuzz target (the recording reader, the
 * scenario parser, the filter parser, the netlink parser: the target
 * linked in says which) survives every input its fuzzer kept without a
 * crash or, in the sanitizer build, a report. Arguments name files; none
 * means the corpus.
 */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return 1;
	}
	do {
		if (len == cap)
			buf = realloc(buf, cap = cap ? cap * 2 : 65536);
		if (!buf)
			abort();
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct dirent *d;
	DIR *dir;
	int files = 0, bad = 0;
	char path[4096];

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bad += run_file(argv[i]);
		return bad != 0;
	}
	if (!(dir = opendir(CORPUS_DIR))) {
		perror(CORPUS_DIR);
		return 1;
	}
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, d->d_name);
		bad += run_file(path);
		files++;
	}
	closedir(dir);
	printf("%d corpus files read, %d unreadable\n", files, bad);
	return files == 0 || bad != 0;
}
