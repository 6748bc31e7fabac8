#include "config.h"
#include "scenario.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_int.h"
#include "sock.h"
#include "util.h"

/* The errors a scenario can expect or meet, by name. */
static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ EPIPE, "EPIPE" },	      { ECONNRESET, "ECONNRESET" },
	{ ECONNREFUSED, "ECONNREFUSED" }, { EADDRINUSE, "EADDRINUSE" },
	{ EINPROGRESS, "EINPROGRESS" }, { EAGAIN, "EAGAIN" },
	{ ETIMEDOUT, "ETIMEDOUT" },   { ENOTCONN, "ENOTCONN" },
	{ EINVAL, "EINVAL" },	      { EBADF, "EBADF" },
	{ EACCES, "EACCES" },	      { EPERM, "EPERM" },
	{ EISCONN, "EISCONN" },	      { EALREADY, "EALREADY" },
	{ EINTR, "EINTR" },	      { ENOBUFS, "ENOBUFS" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { ECONNABORTED, "ECONNABORTED" },
	{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENETUNREACH, "ENETUNREACH" },
};

const char *sc_errno_name(int err)
{
	static char buf[24];

	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

int sc_errno_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (!strcasecmp(errnames[i].name, s))
			return errnames[i].err;
	return 0;
}

unsigned sc_norm_state(unsigned st)
{
	return st == ST_NEW_SYN_RECV ? ST_SYN_RECV : st;
}

int sc_perr(struct sc_parser *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->file, msg);
	return -1;
}

int sc_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int sc_parse_secs(const char *s, double max_s, int64_t *out)
{
	int64_t ns;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	ns = parse_duration(s);
	if (ns < 0 || ns > (int64_t)(max_s * NS_PER_SEC))
		return -1;
	*out = ns;
	return 0;
}

int sc_find_actor(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->nactors; i++)
		if (!strcmp(sc->actors[i].name, name))
			return (int)i;
	return -1;
}

int sc_need_actor(struct sc_parser *p, const char *name, const char *verb)
{
	int a;

	if (!name)
		return sc_perr(p, "%s: expected an actor's name", verb);
	a = sc_find_actor(p->sc, name);
	if (a < 0)
		return sc_perr(p, "unknown actor '%s' (declare it first: actor %s)", name, name);
	return a;
}

int sc_parse_state(struct sc_parser *p, const char *s, const char *verb, uint8_t *out)
{
	int st;

	if (!s)
		return sc_perr(p, "%s: expected a TCP state after the actor", verb);
	st = st_parse(s);
	if (!strcasecmp(s, "gone"))
		st = ST_CLOSE;
	if (st <= 0 || st >= ST_MAX)
		return sc_perr(p, "unknown state '%s' (expected a TCP state like FIN_WAIT_2, or gone)",
			    s);
	*out = (uint8_t)sc_norm_state((unsigned)st);
	return 0;
}

struct sc_step *sc_new_step(struct sc_parser *p, const struct sc_verb *v)
{
	struct scenario *sc = p->sc;
	struct sc_step *st;

	if (sc->nsteps == SC_MAX_STEPS) {
		sc_perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
		return NULL;
	}
	if (sc->nsteps == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 32;
		sc->steps = xreallocarray(sc->steps, sc->cap, sizeof(*sc->steps));
	}
	st = &sc->steps[sc->nsteps++];
	memset(st, 0, sizeof(*st));
	st->verb = v;
	st->kind = v->kind;
	st->act = v->act;
	st->actor = -1;
	st->target = -1;
	st->line = p->line;
	st->backlog = 16;
	return st;
}

/* The text after the first word, as written (spacing inside kept). */
static const char *rest_of_line(const char *line)
{
	line += strspn(line, " \t");
	line += strcspn(line, " \t");
	return line + strspn(line, " \t");
}

/* One line: its words, then the verb's own parser, or an actor's action. */
static int parse_line(struct sc_parser *p, char *line)
{
	char copy[SC_MAX_LINE + 1], *save = NULL, *t, list[400];
	const struct sc_verb *v = NULL;
	const char *word;
	int a;

	snprintf(copy, sizeof(copy), "%s", line);
	p->ntok = 0;
	p->rest = rest_of_line(line);
	for (t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (*t == '#')
			break;
		if (p->ntok == SC_MAX_TOKENS)
			return sc_perr(p, "too many words (at most %d)", SC_MAX_TOKENS);
		p->tok[p->ntok++] = t;
		/* Narration is free text: the rest of the line, '#' and all. */
		if (p->ntok == 1 && (v = sc_verb_find(t, false)) && v->free_text)
			break;
	}
	if (!p->ntok)
		return 0;
	word = p->tok[0];
	if ((v = sc_verb_find(word, false)))
		return v->parse(p, v);
	if ((a = sc_find_actor(p->sc, word)) >= 0) {
		if (p->ntok > 1 && (v = sc_verb_find(p->tok[1], true))) {
			p->actor = a;
			return v->parse(p, v);
		}
		sc_verb_names(list, sizeof(list), true, " or ");
		if (p->ntok < 2)
			return sc_perr(p, "%s: expected an action (%s)", word, list);
		return sc_perr(p, "unknown action '%s' for %s (expected %s)", p->tok[1], word,
			       list);
	}
	if (p->ntok > 1 && sc_verb_find(p->tok[1], true))
		return sc_perr(p, "unknown actor '%s' (declare it first: actor %s)", word, word);
	sc_verb_names(list, sizeof(list), false, ", ");
	return sc_perr(p, "unknown verb '%s' (expected %s, or an actor's name)", word, list);
}

/* Checks that need the whole script: a name, steps, every connect has a listener. */
static int check_script(struct sc_parser *p)
{
	struct scenario *sc = p->sc;
	int first_listener = -1;

	p->line = 0;
	if (!sc->name)
		return sc_perr(p, "no 'scenario NAME' line");
	if (!sc->nactors)
		return sc_perr(p, "no actors (declare them: actor server client)");
	if (!sc->nsteps)
		return sc_perr(p, "no steps");
	for (size_t i = 0; i < sc->nactors; i++)
		if (sc->actors[i].listens && first_listener < 0)
			first_listener = (int)i;
	for (size_t i = 0; i < sc->nsteps; i++) {
		struct sc_step *st = &sc->steps[i];
		if (st->kind != SK_ACTION || st->act != SA_CONNECT)
			continue;
		p->line = st->line;
		if (st->target < 0 && first_listener < 0)
			return sc_perr(p, "connect: no actor ever listens");
		if (st->target < 0)
			st->target = (int8_t)first_listener;
		if (!sc->actors[st->target].listens)
			return sc_perr(p, "connect: %s never listens", sc->actors[st->target].name);
	}
	return 0;
}

/* Parse a script held in memory; file names it in messages. */
static struct scenario *parse_text(const char *file, char *text, size_t len, char *err,
				   size_t errlen)
{
	struct scenario *sc = xcalloc(1, sizeof(*sc));
	struct sc_parser p = { .sc = sc, .file = file, .err = err, .errlen = errlen };
	char *line = text, *end = text + len;

	sc->path = xstrdup(file);
	sc->reply_fd = -1;
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);

		p.line++;
		if (memchr(line, '\0', n)) {
			sc_perr(&p, "NUL byte in the script");
			goto fail;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (n > SC_MAX_LINE) {
			sc_perr(&p, "line too long (more than %d characters)", SC_MAX_LINE);
			goto fail;
		}
		line[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
				sc_perr(&p, "control character 0x%02x in the script", line[i]);
				goto fail;
			}
		size_t before = sc->nsteps;
		if (parse_line(&p, line) < 0)
			goto fail;
		/* Steps keep their line as written, to show while they run. */
		if (sc->nsteps > before && !sc->steps[sc->nsteps - 1].text)
			sc->steps[sc->nsteps - 1].text = xstrdup(line + strspn(line, " \t"));
		if (!nl)
			break;
		line = nl + 1;
	}
	if (check_script(&p) < 0)
		goto fail;
	for (size_t i = 0; i < SC_MAX_ACTORS; i++)
		sc->actors[i].cmd_fd = -1;
	return sc;
fail:
	scenario_free(sc);
	return NULL;
}

/* Read a whole file, refusing more than SC_MAX_BYTES. */
static char *read_script(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf;
	size_t n = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open scenario '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "cannot read scenario '%s': %s", path,
			 S_ISDIR(sb.st_mode) ? "a directory" : strerror(errno));
		close(fd);
		return NULL;
	}
	buf = xmalloc(SC_MAX_BYTES + 1);
	for (;;) {
		ssize_t r = read(fd, buf + n, SC_MAX_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read scenario '%s': %s", path,
				 strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > SC_MAX_BYTES) {
			snprintf(err, errlen, "%s: script too large (more than %d bytes)", path,
				 SC_MAX_BYTES);
			goto fail;
		}
	}
	close(fd);
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Whether this binary runs from the tree it was built in (not installed). */
static bool uninstalled(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t blen = strlen(BUILD_DIR);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	return !strncmp(exe, BUILD_DIR, blen) && exe[blen] == '/';
}

/*
 * The directories holding bundled scenarios, in the order searched: the
 * environment's, the source tree's for a binary run where it was built
 * (`./src/tcpdwell --scenario tour` before any install), the installed.
 */
static size_t scenario_dirs(const char *dirs[3])
{
	const char *env = getenv("TCPDWELL_SCENARIO_DIR");
	size_t n = 0;

	if (env && *env)
		dirs[n++] = env;
	if (uninstalled())
		dirs[n++] = SOURCE_SCENARIO_DIR;
	dirs[n++] = SCENARIO_DIR;
	return n;
}

static bool is_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".tcps"));
}

struct scenario *scenario_load(const char *name_or_path, char *err, size_t errlen)
{
	char path[4096], *text;
	const char *dirs[3];
	struct scenario *sc;
	size_t len, nd = scenario_dirs(dirs);

	if (is_path(name_or_path)) {
		snprintf(path, sizeof(path), "%s", name_or_path);
	} else {
		bool found = false;
		if (strspn(name_or_path, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
			    strlen(name_or_path) ||
		    !*name_or_path) {
			snprintf(err, errlen, "bad scenario name '%s' (try --list-scenarios)",
				 name_or_path);
			return NULL;
		}
		for (size_t i = 0; i < nd && !found; i++) {
			snprintf(path, sizeof(path), "%s/%s.tcps", dirs[i], name_or_path);
			found = access(path, R_OK) == 0;
		}
		if (!found) {
			snprintf(err, errlen, "unknown scenario '%s' (try --list-scenarios)",
				 name_or_path);
			return NULL;
		}
	}
	if (!(text = read_script(path, &len, err, errlen)))
		return NULL;
	sc = parse_text(path, text, len, err, errlen);
	free(text);
	return sc;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	scenario_stop(sc);
	for (size_t i = 0; i < sc->nsteps; i++)
		free(sc->steps[i].text);
	free(sc->steps);
	free(sc->ladder);
	free(sc->path);
	free(sc->name);
	free(sc->about);
	free(sc->desc);
	free(sc);
}

const char *scenario_name(const struct scenario *sc)
{
	return sc->name;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int scenario_list(FILE *out)
{
	const char *dirs[3];
	size_t nd = scenario_dirs(dirs), n = 0, cap = 0;
	char **names = NULL;
	int printed = 0;

	for (size_t i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			bool dup = false;
			if (len <= 5 || strcmp(de->d_name + len - 5, ".tcps"))
				continue;
			/* The first directory wins: the same name later is shadowed. */
			for (size_t k = 0; k < n; k++)
				dup |= !strncmp(names[k], de->d_name, len - 5) &&
				       !names[k][len - 5];
			if (dup)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				names = xreallocarray(names, cap, sizeof(*names));
			}
			names[n] = xstrdup(de->d_name);
			names[n++][len - 5] = '\0';
		}
		closedir(d);
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char err[256], about[200];
		struct scenario *sc = scenario_load(names[i], err, sizeof(err));
		if (sc) {
			sanitize(about, sizeof(about), sc->about ? sc->about : "", (size_t)-1);
			fprintf(out, "%-24s %s\n", names[i], about);
			printed++;
			scenario_free(sc);
		} else {
			fprintf(stderr, "tcpdwell: %s\n", err);
		}
		free(names[i]);
	}
	free(names);
	if (!printed)
		fprintf(stderr, "tcpdwell: no scenarios found in %s%s%s\n", dirs[0],
			nd > 1 ? " or " : "", nd > 1 ? dirs[1] : "");
	return printed ? 0 : -1;
}

struct scenario *scenario_parse_text(const char *file, const char *text, size_t len, char *err,
				     size_t errlen)
{
	char *copy = xmalloc(len + 1);
	struct scenario *sc;

	memcpy(copy, text, len);
	copy[len] = '\0';
	sc = parse_text(file, copy, len, err, errlen);
	free(copy);
	return sc;
}
