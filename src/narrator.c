#include "config.h"
#include "narrator.h"

#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void narrator_flags_text(char *buf, size_t len, uint8_t f)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {{TH_SYN, "SYN"},  {TH_FIN, "FIN"}, {TH_RST, "RST"},
		     {TH_PUSH, "PSH"}, {TH_ACK, "ACK"}, {TH_URG, "URG"}};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names) && used < len; i++)
		if (f & names[i].bit)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
						 names[i].name);
	if (!used)
		snprintf(buf, len, "none");
}

bool narrator_scripted(const struct narrator *n)
{
	return n && n->ops->owns;
}

bool narrator_shows(const struct narrator *n, const struct sock *s)
{
	return !narrator_scripted(n) || n->ops->owns(n->ctx, s);
}

bool narrator_shows_key(const struct narrator *n, const struct sock_key *k)
{
	struct sock s = {.family = k->family, .sport = k->sport, .dport = k->dport};

	memcpy(s.src, k->src, sizeof(s.src));
	memcpy(s.dst, k->dst, sizeof(s.dst));
	return narrator_shows(n, &s);
}
