#!/bin/bash
# Proves: a real Prometheus server scrapes `tcpdwell --serve` and evaluates
# contrib/prometheus/tcpdwell-rules.yml on what it scraped. While a
# CLOSE_WAIT is held by holdstate, a PromQL query over the HTTP API returns
# the leak's series labelled with holdstate as its process, and the
# TcpdwellCloseWaitLeak alert fires with that label (the rule as shipped,
# its `for:` shortened from 10m to 2s for the test). The server runs in the
# test's private network namespace on a port of its own, with its own data
# directory and a generated configuration; it talks only over loopback.
# Every query of contrib/grafana's dashboard evaluates on that server, and
# those of states, oldest sockets and leaks return series.
# Skips where prometheus (Debian package prometheus) or curl is missing.
. "$TOP_SRCDIR/tests/lib.sh"
need_cmd prometheus
need_cmd curl
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

tport=9415 pport=9416
rules="$TOP_SRCDIR/contrib/prometheus/tcpdwell-rules.yml"

hold cw close-wait 8431
"$TCPDWELL" --serve --metrics-listen "127.0.0.1:$tport" -d 0.2 --leak 0.5 \
    </dev/null >/dev/null 2>"$TMP/tcpdwell.err" &
tpid=$!
serving() { curl -sf "http://127.0.0.1:$tport/metrics" -o /dev/null; }
wait_until 10 serving || {
    grep -q "built without libmicrohttpd" "$TMP/tcpdwell.err" &&
        skip "this tcpdwell was built without libmicrohttpd"
    fail "tcpdwell --serve does not answer: $(cat "$TMP/tcpdwell.err")"
}

# The shipped rules, with only the leak alert's `for:` made short.
awk '/- alert: / { leak = ($3 == "TcpdwellCloseWaitLeak") }
     leak && $1 == "for:" { sub(/for: .*/, "for: 2s") } { print }' "$rules" >"$TMP/rules.yml"
grep -A3 'alert: TcpdwellCloseWaitLeak' "$TMP/rules.yml" | grep -q 'for: 2s' ||
    fail "could not shorten the leak alert's for: $(grep -A3 CloseWaitLeak "$TMP/rules.yml")"
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $TMP/rules.yml
scrape_configs:
  - job_name: tcpdwell
    static_configs:
      - targets: ['127.0.0.1:$tport']
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
    --web.listen-address="127.0.0.1:$pport" --web.console.templates="$TMP/none" \
    --web.console.libraries="$TMP/none" >"$TMP/prometheus.log" 2>&1 &
ppid_=$!
ready() { curl -sf "http://127.0.0.1:$pport/-/ready" -o /dev/null; }
wait_until 60 ready ||
    fail "prometheus never got ready: $(tail -20 "$TMP/prometheus.log")"

# query PROMQL: the API's JSON answer in $TMP/q.json.
query() {
    curl -sf "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" \
        -o "$TMP/q.json"
}
# The scrape works: the target is up.
up() { query 'up{job="tcpdwell"}' && jq -e '.data.result[0].value[1] == "1"' "$TMP/q.json" >/dev/null; }
wait_until 30 up || fail "target not up: $(cat "$TMP/q.json"); $(tail -5 "$TMP/prometheus.log")"

# The leaking socket's series, named by its process.
leak_seen() {
    query 'tcpdwell_leaking_sockets{state="CLOSE_WAIT"}' &&
        jq -e '.data.result | any(.metric.process == "holdstate" and .value[1] == "1")' \
            "$TMP/q.json" >/dev/null
}
wait_until 30 leak_seen || fail "no leak series for holdstate: $(cat "$TMP/q.json")"

# The alert, in the server's own rule evaluation: its API and ALERTS.
firing() {
    curl -sf "http://127.0.0.1:$pport/api/v1/alerts" -o "$TMP/alerts.json" &&
        jq -e '.data.alerts | any(.labels.alertname == "TcpdwellCloseWaitLeak" and
            .labels.process == "holdstate" and .state == "firing")' "$TMP/alerts.json" >/dev/null
}
wait_until 60 firing || fail "the leak alert did not fire: $(cat "$TMP/alerts.json")"
query 'ALERTS{alertname="TcpdwellCloseWaitLeak",alertstate="firing"}' &&
    jq -e '.data.result | any(.metric.process == "holdstate")' "$TMP/q.json" >/dev/null ||
    fail "ALERTS has no firing leak: $(cat "$TMP/q.json")"
# No alert about the exporter itself: it polls, fails nothing, loses nothing.
jq -e '.data.alerts | all(.labels.alertname | IN("TcpdwellNotPolling", "TcpdwellDumpsFailing",
    "TcpdwellLosingEvents") | not)' "$TMP/alerts.json" >/dev/null ||
    fail "the exporter alerts about itself: $(cat "$TMP/alerts.json")"

# Every query of the Grafana dashboard evaluates on the server, and those of
# states, oldest sockets and leaks (no rate: a few seconds of data do) return
# series: the dashboard asks for what tcpdwell serves.
while read -r e; do
    query "$e" && jq -e '.status == "success"' "$TMP/q.json" >/dev/null ||
        fail "the dashboard's query failed: $e: $(cat "$TMP/q.json" 2>/dev/null)"
    case $e in
    *rate\(* | *increase\(*) ;;
    *tcpdwell_sockets\{* | *tcpdwell_oldest_seconds\{* | *tcpdwell_leaking_*)
        jq -e '.data.result | length > 0' "$TMP/q.json" >/dev/null ||
            fail "the dashboard's query returned nothing: $e" ;;
    esac
done < <(jq -r '.panels[] | select(.type != "row") | .targets[].expr' \
    "$TOP_SRCDIR/contrib/grafana/tcpdwell-dashboard.json" |
    sed -e 's/\$__rate_interval/1m/g' -e 's/\$instance/.*/g' -e 's/\$netns/.*/g' \
        -e 's/\$state/CLOSE_WAIT/g')

kill "$ppid_" "$tpid"
pass "Prometheus scraped tcpdwell --serve, returned the leak's series and fired the leak alert"
