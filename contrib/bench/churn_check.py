#!/usr/bin/python3
"""churn_check - compare tcpdwell's event stream with the kernel's own record
of the same sockets, the tracepoint sock:inet_sock_set_state read from a
tracefs instance with options/fields on.

Used by the churn benchmark (contrib/bench/churn.sh), which prints a table
from its summaries, and by the churn test (tests/churn_lives.sh), which
asserts on them. Run with -h for the options; DEFINITIONS below is printed
with the table.

It must be right about the kernel, not about tcpdwell: everything counted
is measured against the trace, and where the trace cannot tell (the end of
a TIME_WAIT, which no tracepoint reports) nothing is counted either way.
"""

import argparse
import json
import re
import socket
import struct
import sys

DEFINITIONS = """\
Definitions (kernel = sock:inet_sock_set_state in a private tracefs instance):
  socket life   a kernel socket (skaddr) from its birth (CLOSED -> SYN_SENT,
                CLOSED -> LISTEN, or LISTEN -> SYN_RECV for an accepted one)
                to its -> CLOSED; its transitions are the changes in between.
                A life is joined to tcpdwell's events by 4-tuple and time, and
                by cookie once one event of it carries one.
                The kernel's FIN_WAIT_2 (or CLOSING) -> CLOSED at the hand-over
                to the TIME_WAIT mini-socket is that socket's -> TIME_WAIT;
                what follows TIME_WAIT is beyond the kernel's record. A record
                whose old and new states are the same (close() after
                shutdown() sets FIN_WAIT_1 again) is no transition.
  namespace     with two namespaces, a life belongs to the one whose processes
                made its changes; a life no known process moved (all of it
                in softirq on an idle CPU) may take either one's events,
                which then count neither way, and is not counted itself.
  as made       a kernel transition reported with the same from -> to, for
                the same life, in the kernel's order (jump flag aside).
  in a jump     a kernel transition not reported as made but inside a
                reported change that is marked (jump=true), or inside a
                destroy notice (from UNSEEN) of its life.
  missing       a kernel transition reported neither as made nor inside any
                reported change of its life (marked or not); "lives never
                mentioned" are lives with no event at all.
  invented      a reported change that is not a from -> to of the kernel's
                sequence for that life in order (e.g. CLOSE_WAIT ->
                ESTABLISHED), or that no kernel life on its 4-tuple can hold.
  unmarked skip a reported from -> to that skips kernel states of its life
                and is not marked jump (an appearance CLOSED -> X counts when
                the kernel's life began in another state).
  duplicate     a reported change of a part of a life already reported (such
                as a second end); counted, neither invented nor covering.
  identity      a change timed exactly (the tracepoint) is joined by its time;
                one that carries the cookie of another life is counted as
                "merged" (two sockets on one 4-tuple taken for one).
                TIME_WAIT -> CLOSED is beyond the kernel's record: not counted.
  reset notice  a destroy notice of a socket that reset its connection reads
                0.0.0.0:PORT -> PEER:* (the kernel clears both before it
                tells): joined by local port, peer address and time.
  lost          tcpdwell's own notes on stderr: exact samples lost and
                destroy-notice resynchronisations.
  late bound    a change labelled between (made by the time given, seen by
                a dump or a notice) that the kernel made after that time.
  time error    |tcpdwell's time - kernel's time of entering the new state|
                for every change labelled dwell_kind exact (jumps included).
  out of order  events of the whole stream (every socket, not only the
                server's) printed after one with a later time (mono), and by
                how much at most: the stream is meant to be in time order.
"""

KSTATE = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT_1",
          5: "FIN_WAIT_2", 6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT",
          9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV"}

# With options/fields every field prints as "name=0xHEX (DECIMAL)"; the task
# column ("comm-PID") tells in which process's context the change was made.
LINE_RE = re.compile(
    r"-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): inet_sock_set_state: skaddr=(0x[0-9a-f]+)"
    r".*? oldstate=\S+ \((\d+)\) newstate=\S+ \((\d+)\) sport=\S+ \((\d+)\)"
    r" dport=\S+ \((\d+)\) family=\S+ \((\d+)\) protocol=\S+ \((\d+)\)"
    r" saddr=\S+ \((-?\d+)\) daddr=\S+ \((-?\d+)\)")

# Slack for joining events to lives: a dump's time is taken at its start,
# and sockets born while it runs are in it.
EPS_DUMP = 0.050
# A change labelled between was made by the time given; a tick of slack.
BOUND_SLACK = 0.001
# How much earlier than the kernel's change tcpdwell may put it and still be
# joined to it (then counted in the time error, not as invented): a TIME_WAIT
# found by a dump is dated from its timer's time left, against the dump's
# start, and a dump of several busy namespaces takes tens of milliseconds.
EARLY = 1.0


def ip4(n):
    return socket.inet_ntoa(struct.pack("<I", int(n) & 0xFFFFFFFF))


class Life:
    def __init__(self, skaddr, t, ns):
        self.skaddr = skaddr
        self.birth = t
        self.end = float("inf")
        self.states = ["CLOSED"]   # the kernel's sequence of states
        self.times = []            # times[i]: states[i] -> states[i + 1]
        self.tuple = None
        self.pids = []
        self.ns = ns
        self.cookie = None
        self.cursor = 0            # transitions before it are accounted for
        self.cover = []            # per transition: None, made, jump, unmarked
        self.events = []           # tcpdwell's events joined to this life
        self.told = False          # one of them tells of it (not invented)
        self.unjudged = False      # of no known namespace: may take events, never counted

    def add(self, new, t):
        self.states.append(new)
        self.times.append(t)

    def describe(self):
        return " -> ".join(self.states)


def read_trace(path, server, pidns):
    """Kernel lives of the server address, from a trace with options/fields."""
    lives, open_ = [], {}
    for line in open(path, errors="replace"):
        m = LINE_RE.search(line)
        if not m:
            continue
        pid, t, sk, old, new, sport, dport, fam, proto, sa, da = m.groups()
        if fam != "2" or proto != "6":
            continue
        t, old, new = float(t), KSTATE.get(int(old)), KSTATE.get(int(new))
        sport, dport = int(sport), int(dport)
        birth = (old == "CLOSED" and new in ("SYN_SENT", "LISTEN")) or \
            (old == "LISTEN" and new == "SYN_RECV")
        life = open_.get(sk)
        if old == new and life is not None:
            # tcp_set_state() called again with the state the socket is in
            # (close() after shutdown() sets FIN_WAIT_1 twice): no change.
            continue
        if birth or life is None:
            life = Life(sk, t, None)
            life.partial = not birth
            if not birth:
                life.states = [old]
            lives.append(life)
            open_[sk] = life
        life.add(new, t)
        life.pids.append(pid)
        # A connect()'s first record has no local port yet; a listener has no peer.
        if sport and (dport or new == "LISTEN" or old == "LISTEN" and new == "CLOSED"):
            life.tuple = (f"{ip4(sa)}:{sport}", f"{ip4(da)}:{dport}")
        if new == "CLOSED":
            life.end = t
            del open_[sk]
    out = []
    for life in lives:
        if life.tuple is None or server not in life.tuple:
            continue
        # Loopback delivers in the sender's context: the processes that moved a
        # life are of its namespace. Timer-only lives stay unknown.
        if pidns:
            votes = [pidns[p] for p in life.pids if p in pidns]
            life.ns = max(set(votes), key=votes.count) if votes else "?"
        # The kernel's -> CLOSED as FIN_WAIT_2 or CLOSING hands over to the
        # TIME_WAIT mini-socket: tcpdwell rightly calls it -> TIME_WAIT.
        n = len(life.states) - 1
        if life.end != float("inf") and n >= 1 and life.states[n - 1] in ("FIN_WAIT_2", "CLOSING"):
            life.states[n] = "TIME_WAIT"
        life.cover = [None] * (len(life.states) - 1)
        out.append(life)
    return out


def reset_notice(e, server):
    """A destroy notice of a socket that reset its connection (close() with
    SO_LINGER 0, or unread data): the kernel has cleared its peer's port, and
    a client's local address too, before it tells of its end, so the notice,
    and tcpdwell's UNSEEN -> CLOSED, read 0.0.0.0:PORT -> PEER:* (a client
    of the server) or SERVER -> PEER:* (the server's side)."""
    if e["from"] != "UNSEEN" or not e["peer"].endswith(":0"):
        return False
    return (e["local"].startswith("0.0.0.0:") and
            e["peer"] == server.rsplit(":", 1)[0] + ":0") or e["local"] == server


def read_events(path, server, label):
    evs = []
    for line in open(path, errors="replace"):
        if not line.endswith("\n"):
            break  # the last line may be cut where tcpdwell was stopped
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if label is not None and e.get("netns") != label:
            continue
        for side in ("local", "peer"):
            if e[side].endswith(":*"):
                e[side] = e[side][:-1] + "0"
        if server not in (e["local"], e["peer"]) and not reset_notice(e, server):
            continue
        evs.append(e)
    evs.sort(key=lambda e: e["mono"])
    return evs


def out_of_order(path):
    """Events of the whole stream printed after a later one: how many, and the worst gap (s)."""
    back, worst, last = 0, 0.0, None
    for line in open(path, errors="replace"):
        if not line.endswith("\n"):
            break
        try:
            m = json.loads(line)["mono"]
        except (ValueError, KeyError):
            continue
        if last is not None and m < last:
            back += 1
            worst = max(worst, last - m)
        last = m if last is None else max(last, m)
    return back, worst


def span(life, e):
    """(i, j): the event's from and to as indices into the life's states,
    searched from its cursor on; None when the kernel's sequence has no such
    change in order."""
    st = life.states
    n = len(st) - 1
    ends = ("CLOSED", "TIME_WAIT") if st[n] == "TIME_WAIT" else ("CLOSED",)
    if e["from"] == "UNSEEN":
        i = 0
    elif e["from"] == "CLOSED":
        i = 0  # an appearance: the life's beginning
    else:
        cands = [k for k in range(n) if st[k] == e["from"]]
        if not cands:
            return None
        later = [k for k in cands if k >= life.cursor]
        i = later[0] if later else cands[-1]
    if e["to"] in ends and life.end != float("inf"):
        j = n
    else:
        js = [k for k in range(i + 1, n + 1) if st[k] == e["to"]]
        if not js:
            return None
        j = js[0]
    return (i, j) if j > i else None


def pick(cands, e):
    """The kernel life an event without a known cookie belongs to."""
    t = e["mono"]
    ok = [c for c in cands if span(c, e) is not None]
    if not ok:
        return None
    # A life the event tells something new of, before one it would repeat.
    ok = [c for c in ok if span(c, e)[1] > c.cursor] or ok
    if e["dwell_kind"] != "exact" or e["from"] == "UNSEEN":
        # Without the kernel's time: a life of this namespace before one
        # that may be another's.
        ok = [c for c in ok if not c.unjudged] or ok
    if e["dwell_kind"] == "exact" and e["from"] != "UNSEEN":
        # The kernel's time was taken over: the nearest change of that name.
        def dist(c):
            i, j = span(c, e)
            return abs(c.times[j - 1] - t)
        return min(ok, key=dist)
    if e["to"] == "CLOSED" or e["from"] == "UNSEEN":
        # Ends and destroy notices come in order, late: the oldest unreported end.
        pend = [c for c in ok if c.cursor < len(c.states) - 1 and c.end <= t + EPS_DUMP]
        return min(pend or ok, key=lambda c: c.birth)
    alive = [c for c in ok if c.birth <= t + EPS_DUMP and c.end >= t - EPS_DUMP]
    if alive:
        return max(alive, key=lambda c: c.birth)
    # Dated before its birth: a dump dates what it saw at its start, and a
    # socket born while it ran belongs to the first life born after.
    after = [c for c in ok if c.birth > t]
    return min(after, key=lambda c: c.birth) if after else max(ok, key=lambda c: c.birth)


def analyse(lives, evs, examples, server):
    by_tuple, by_port = {}, {}
    for life in lives:
        by_tuple.setdefault(life.tuple, []).append(life)
        # What is left of a reset socket's 4-tuple: its local port, its peer's address.
        by_port.setdefault((life.tuple[0].rsplit(":", 1)[1], life.tuple[1].rsplit(":", 1)[0]),
                           []).append(life)
    r = dict(lives=len([x for x in lives if not x.partial and not x.unjudged]), partial=0,
             unjudged_events=0, transitions=0, late_bound=0, late_bound_max=0.0,
             made=0, in_jump=0, in_unmarked=0, missing=0, never=0, invented=0,
             unmarked=0, duplicate=0, beyond=0, merged=0, reset_notices=0, timing=[],
             examples=[])
    bad = {}  # life or tuple -> reasons, for the examples
    by_cookie = {}
    for e in evs:
        key = (e["local"], e["peer"])
        if e["from"] == "TIME_WAIT" and e["to"] == "CLOSED":
            # A TIME_WAIT's end (its timer, or a new SYN on its 4-tuple) is
            # not in the kernel's record: neither right nor wrong.
            r["beyond"] += 1
            continue
        ck = e.get("cookie", "0")
        if reset_notice(e, server):
            r["reset_notices"] += 1
            # Only a life that ended by a reset: one that handed over to
            # TIME_WAIT, or closed in order (LAST_ACK), keeps its 4-tuple.
            same = [c for c in by_port.get((e["local"].rsplit(":", 1)[1],
                                            e["peer"].rsplit(":", 1)[0]), [])
                    if c.states[-1] == "CLOSED" and c.states[-2] != "LAST_ACK"]
        else:
            same = by_tuple.get(key, [])
        # Even an exact time may come from a dump (a timer's time left).
        cands = [c for c in same if c.birth <= e["mono"] + EARLY]
        if e["dwell_kind"] == "exact" and e["from"] != "UNSEEN":
            # A change timed by the kernel is identified by its time: the
            # cookie it carries may be another life's (a merged entry).
            life = pick(cands, e)
            if life is not None and ck != "0" and by_cookie.get(ck, life) is not life:
                r["merged"] += 1
        elif ck != "0" and ck in by_cookie:
            life = by_cookie[ck]
            if span(life, e) is None:
                life = None
        else:
            life = pick([c for c in cands if ck == "0" or c.cookie in (None, ck)], e)
        if life is None:
            r["invented"] += 1
            near = [c for c in cands if c.end >= e["mono"] - 1] or cands
            tgt = max(near, key=lambda c: c.birth) if near else None
            bad.setdefault(id(tgt) if tgt else key, (tgt, []))[1].append(("invented", e))
            if tgt is not None:
                tgt.events.append(e)  # shown with it, but it tells nothing of it
            continue
        if ck != "0" and ck not in by_cookie:
            by_cookie[ck] = life
            # A SYN_RECV seen by a dump is the request socket, whose cookie is
            # not the full socket's that follows: it does not close the life
            # to the next cookie.
            if life.cookie is None and not (e["to"] == "SYN_RECV" and
                                            e["from"] in ("CLOSED", "UNSEEN")):
                life.cookie = ck
        life.events.append(e)
        life.told = True
        i, j = span(life, e)
        if e["from"] == "UNSEEN":
            i = life.cursor  # a destroy notice tells of all not yet reported
        if j <= life.cursor:
            r["duplicate"] += 1
            bad.setdefault(id(life), (life, []))[1].append(("duplicate", e))
            continue
        i = max(i, life.cursor)
        if j - i == 1 and e["from"] != "UNSEEN" and \
                (e["from"] == life.states[i] or i == 0):
            life.cover[i] = "made"
        else:
            marked = e["jump"] or e["from"] == "UNSEEN"
            for k in range(i, j):
                life.cover[k] = "jump" if marked else "unmarked"
            if not marked:
                r["unmarked"] += 1
                bad.setdefault(id(life), (life, []))[1].append(("unmarked skip", e))
        # A time labelled exact is the kernel's time of entering "to".
        if e["dwell_kind"] == "exact" and e["from"] != "UNSEEN":
            r["timing"].append(abs(e["mono"] - life.times[j - 1]))
        # A time labelled between is a bound: the change was made by then.
        if e["dwell_kind"] == "between" and e["from"] != "UNSEEN" and \
                life.times[j - 1] > e["mono"] + BOUND_SLACK:
            r["late_bound"] += 1
            r["late_bound_max"] = max(r["late_bound_max"], life.times[j - 1] - e["mono"])
        life.cursor = j
    for life in lives:
        if life.partial:
            r["partial"] += 1
            continue
        if life.unjudged:
            r["unjudged_events"] += len(life.events)
            continue
        r["transitions"] += len(life.cover)
        r["made"] += life.cover.count("made")
        r["in_jump"] += life.cover.count("jump")
        r["in_unmarked"] += life.cover.count("unmarked")
        miss = life.cover.count(None)
        r["missing"] += miss
        if not life.told:
            r["never"] += 1
            bad.setdefault(id(life), (life, []))[1].append(("never mentioned", None))
        elif miss:
            bad.setdefault(id(life), (life, []))[1].append(("missing", None))
    # Examples, one kind after another so that each kind is shown.
    kinds = {}
    for life, why in bad.values():
        for w, _ in why:
            kinds.setdefault(w, []).append((life, why))
    for w, items in sorted(kinds.items()):
        for life, why in items[:examples]:
            r["examples"].append(example(w, life, why))
    return r


def example(kind, life, why):
    lines = [f"{kind}:"]
    if life is None:
        ev = [e for w, e in why if e]
        e = ev[0]
        lines.append(f"  {e['local']} {e['peer']}: no kernel socket on this 4-tuple")
    else:
        lines.append(f"  kernel skaddr {life.skaddr} {life.tuple[0]} {life.tuple[1]}"
                     f"{' netns ' + life.ns if life.ns else ''}, "
                     f"born {life.birth:.6f}: {life.describe()}")
        for k, t in enumerate(life.times):
            lines.append(f"    {t:.6f} {life.states[k]} -> {life.states[k + 1]}"
                         f"  [{life.cover[k] or 'missing'}]")
    evs = life.events if life else [e for w, e in why if e]
    if not evs:
        lines.append("  tcpdwell: nothing")
    for e in evs:
        flag = " (jump)" if e["jump"] else ""
        lines.append(f"  tcpdwell {e['mono']:.6f} cookie {e['cookie']} {e['from']} -> "
                     f"{e['to']}{flag} {e['dwell_kind']}"
                     f"{' netns ' + e['netns'] if 'netns' in e else ''}")
    for w, e in why:
        if e is not None and w == "invented" and life is not None:
            lines.append(f"  invented: {e['from']} -> {e['to']} at {e['mono']:.6f}"
                         " (this life's or none's)")
    return "\n".join(lines)


def lost_notes(path):
    """tcpdwell's own account of what it lost, from its stderr."""
    samples, resyncs = 0, 0
    if not path:
        return None, None
    for line in open(path, errors="replace"):
        m = re.search(r"(\d+) (?:events?|changes?) lost", line)
        if m:
            samples += int(m.group(1))
        m = re.search(r"destroy notices lost.*?\((\d+) (?:times )?so far\)", line)
        if m:
            resyncs = max(resyncs, int(m.group(1)))
        elif "destroy notices lost" in line:
            # The first loss is said on stderr; later ones go to the header.
            resyncs = max(resyncs, 1)
    return samples, resyncs


def pct(a, b):
    return f"{100.0 * a / b:.1f}%" if b else "-"


def quant(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def us(x):
    return "-" if x is None else (f"{x * 1e6:.0f}us" if x < 0.01 else f"{x * 1e3:.0f}ms")


def table(rows, out=sys.stdout):
    """One row per run: the summaries churn.sh collected."""
    hdr = ("run", "conn/s", "ref lost", "kernel tr.", "as made", "in jump", "missing",
           "never", "invented", "unmarked", "dup", "lost", "CPU", "time p50/p99/max",
           "out of order")
    cells, notes = [], []
    for s in rows:
        if s.get("skipped"):
            notes.append(f"{s['run']}: skipped: {s['skipped']}")
            continue
        t = s["transitions"]
        lost = f"{s['samples_lost']}+{s['notice_resyncs']}r"
        tim = "/".join(us(s[k]) for k in ("p50", "p99", "max"))
        order = (f"{s['out_of_order']} (max {us(s['order_worst'])})" if s.get("out_of_order")
                 else str(s.get("out_of_order", "-")))
        cells.append((s["run"], f"{s['rate']:.0f}", f"{s['ref_lost']:.0f}", str(t),
                      pct(s["made"], t), pct(s["in_jump"], t),
                      f"{pct(s['missing'], t)} ({s['missing']})", str(s["never"]),
                      str(s["invented"]), str(s["unmarked"]), str(s["duplicate"]), lost,
                      f"{s['cpu']:.0f}%", tim, order))
    w = [max(len(str(c[k])) for c in cells + [hdr]) for k in range(len(hdr))]
    for c in [hdr] + cells:
        print("  ".join(str(x).ljust(w[k]) for k, x in enumerate(c)).rstrip(), file=out)
    for n in notes:
        print(n, file=out)


def main():
    ap = argparse.ArgumentParser(description="compare tcpdwell -e --format json "
                                 "with sock:inet_sock_set_state")
    ap.add_argument("--trace", help="the tracefs instance's trace (options/fields on)")
    ap.add_argument("--events", help="tcpdwell -e --format json output")
    ap.add_argument("--server", help="the server's ADDR:PORT: only its sockets and "
                    "their peers are compared")
    ap.add_argument("--stderr", help="tcpdwell's stderr, for its notes of losses")
    ap.add_argument("--pidns", help="file of 'PID LABEL' lines: the processes of each "
                    "namespace (two namespaces with the same 4-tuples)")
    ap.add_argument("--netns", help="only this namespace label (events and lives)")
    ap.add_argument("--examples", type=int, default=3, help="examples of each failure")
    ap.add_argument("--summary", help="append a JSON summary line to this file")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra fields for the summary (run, rate, cpu, ref_lost)")
    ap.add_argument("--assert", dest="check", action="store_true",
                    help="exit 1 unless every life is reported, none invented, no unmarked skip")
    ap.add_argument("--table", metavar="SUMMARIES", help="print the table of a summary file")
    ap.add_argument("--definitions", action="store_true", help="print the definitions")
    a = ap.parse_args()
    if a.definitions:
        print(DEFINITIONS, end="")
    if a.table:
        table([json.loads(x) for x in open(a.table)])
        return 0
    if not a.trace:
        return 0
    pidns = {}
    if a.pidns:
        for line in open(a.pidns):
            p = line.split()
            if len(p) == 2:
                pidns[p[0]] = p[1]
    lives = read_trace(a.trace, a.server, pidns)
    unknown = sum(1 for x in lives if x.ns == "?")
    if a.netns is not None:
        # A life no process of either namespace moved (all its changes made in
        # softirq on an idle CPU) may be this namespace's: it may take this
        # namespace's events, which then count neither way, and is not counted.
        lives = [x for x in lives if x.ns in (a.netns, "?")]
        for x in lives:
            x.unjudged = x.ns == "?"
    evs = read_events(a.events, a.server, a.netns)
    r = analyse(lives, evs, a.examples, a.server)
    r["samples_lost"], r["notice_resyncs"] = lost_notes(a.stderr)
    r["p50"], r["p99"], r["max"] = (quant(r["timing"], q) for q in (0.5, 0.99, 1.0))
    r["unknown_ns"] = unknown
    r["out_of_order"], r["order_worst"] = out_of_order(a.events)
    for kv in a.set:
        k, v = kv.split("=", 1)
        try:
            v = float(v)
        except ValueError:
            pass
        r[k] = v
    t = r["transitions"]
    nsnote = (f", {unknown} of no known namespace, which took {r['unjudged_events']} events"
              if pidns else "")
    print(f"{r['lives']} kernel socket lives ({r['partial']} begun before the trace, not "
          f"counted{nsnote}), {t} transitions: "
          f"as made {r['made']} ({pct(r['made'], t)}), in a jump {r['in_jump']}, "
          f"in an unmarked skip {r['in_unmarked']}, missing {r['missing']} "
          f"({pct(r['missing'], t)}); lives never mentioned {r['never']}; "
          f"invented {r['invented']}, unmarked skips {r['unmarked']}, "
          f"duplicates {r['duplicate']}, exact changes carrying another life's cookie "
          f"{r['merged']}, TIME_WAIT ends (beyond the record) {r['beyond']}, destroy notices "
          f"with the address a reset cleared {r['reset_notices']}; changes made after "
          f"the time given as their bound {r['late_bound']} (by "
          f"{us(r['late_bound_max'])} at most); events out of time "
          f"order {r['out_of_order']} (by {us(r['order_worst'])} at most)")
    for x in r["examples"]:
        print(x)
    if a.summary:
        s = {k: v for k, v in r.items() if k not in ("timing", "examples")}
        with open(a.summary, "a") as f:
            f.write(json.dumps(s) + "\n")
    if a.check:
        return 1 if (r["never"] or r["invented"] or r["unmarked"] or r["lives"] == 0) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
