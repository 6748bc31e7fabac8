/* fuzz_diag.c - libFuzzer target: any bytes as a buffer of sock_diag netlink replies. */
#include "config.h"

#include <stdint.h>

#include "diag.h"
#include "diag_priv.h"
#include "sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void notice(void *arg, const struct sock *s, const struct sock_info *info,
		   const struct notice_when *w)
{
	(void)arg, (void)s, (void)info, (void)w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot sn;
	struct sock s;
	struct sock_info info;

	/* The sequence and port the crafted buffers use; other values make them foreign. */
	snapshot_init(&sn);
	diag_parse_buffer(data, size, 1, 0, &sn);
	snapshot_free(&sn);
	diag_parse_notices(data, size, &(struct notice_when){0}, notice, NULL);
	diag_parse_msg(data, size, &s, &info);
	return 0;
}
