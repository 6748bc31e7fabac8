/* fuzz_record.c - libFuzzer target: any bytes as a recording, read through, index and seeks. */
#include "config.h"
#include "record_fmt.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_record", MFD_CLOEXEC);
	struct record_reader *r;
	struct record_item it;
	const struct record_epoch *ev;
	char err[512];
	size_t n;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	r = record_reader_fdopen(fd, "fuzz", err, sizeof(err));
	if (!r)
		return 0;
	while (record_reader_next(r, &it) == 1)
		;
	/* Seeking trusts nothing the index says: each epoch is read as if it were the start. */
	n = record_reader_epochs(r, &ev, NULL, NULL);
	for (size_t i = 0; i < n && i < 16; i++) {
		struct record_epoch e = ev[i];
		if (record_reader_goto(r, &e) == 0)
			for (int k = 0; k < 8 && record_reader_next(r, &it) == 1; k++)
				;
	}
	record_reader_close(r);
	return 0;
}
