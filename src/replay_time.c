/* replay_time.c - the times --begin and --end accept. */
#include "config.h"
#include "replay.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* "90", "1.5", "1m30s", "2h", "250ms": a sum of numbers with units, a bare number is seconds. */
static int parse_span(const char *s, int64_t *ns)
{
	double total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v, unit;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		if (!strncmp(s, "ms", 2))
			unit = 1e-3, s += 2;
		else if (*s == 'h')
			unit = 3600, s++;
		else if (*s == 'm')
			unit = 60, s++;
		else if (*s == 's')
			unit = 1, s++;
		else if (!*s)
			unit = 1;
		else
			return -1;
		total += v * unit;
	}
	if (total > 1e9)
		return -1;
	*ns = (int64_t)(total * NS_PER_SEC + 0.5);
	return 0;
}

/* Read "HH:MM[:SS[.frac]]" at s into tm and frac; returns the rest of s, or NULL. */
static const char *parse_clock(const char *s, struct tm *tm, double *frac)
{
	int h, m, n = 0;
	double sec = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || h > 23 || m > 59)
		return NULL;
	s += n;
	if (*s == ':') {
		char *end;
		sec = strtod(s + 1, &end);
		if (end == s + 1 || sec < 0 || sec >= 61)
			return NULL;
		s = end;
	}
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = (int)sec;
	*frac = sec - (int)sec;
	return s;
}

int replay_parse_time(const char *s, int64_t start_wall, int64_t *off)
{
	struct tm tm;
	time_t start = (time_t)(start_wall / NS_PER_SEC), t;
	double frac;
	const char *rest;
	int y, mo, d, n = 0;

	if (!parse_span(s, off))
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && (s[n] == 'T' || s[n] == ' ')) {
		if (!(rest = parse_clock(s + n + 1, &tm, &frac)))
			return -1;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_isdst = -1;
		if (!strcmp(rest, "Z"))
			t = timegm(&tm);
		else if (!*rest)
			t = mktime(&tm);
		else
			return -1;
	} else {
		struct tm day;
		if (!(rest = parse_clock(s, &tm, &frac)) || *rest)
			return -1;
		localtime_r(&start, &day);
		day.tm_hour = tm.tm_hour;
		day.tm_min = tm.tm_min;
		day.tm_sec = tm.tm_sec;
		day.tm_isdst = -1;
		t = mktime(&day);
		/* A recording that runs past midnight: the next day's HH:MM. */
		if (t < start) {
			day.tm_mday++;
			day.tm_isdst = -1;
			t = mktime(&day);
		}
	}
	if (t == (time_t)-1)
		return -1;
	/* The year 9999 is 2.5e20 ns away: far dates are held at the ends, not wrapped. */
	*off = sat_add(sat_secs((int64_t)t - start),
		       (int64_t)(frac * NS_PER_SEC + 0.5) - start_wall % NS_PER_SEC);
	return 0;
}
