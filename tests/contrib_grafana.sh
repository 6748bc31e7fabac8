#!/bin/bash
# Proves: contrib/grafana/tcpdwell-dashboard.json is a dashboard Grafana can
# provision and import: valid JSON with a fixed uid, every panel on the
# $datasource variable; it has the panels the issue asks for (sockets by
# state, oldest by state, transitions a second, the dwell heatmap, per
# namespace); every query and variable names only metrics tcpdwell(1)
# documents, each query names at least one; and, where promtool is
# installed, every query parses as PromQL. (integ_prometheus.sh runs the
# queries against a real server.)
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/documented_metrics.sh"
need_cmd jq
dash="$TOP_SRCDIR/contrib/grafana/tcpdwell-dashboard.json"

jq -e '.uid == "tcpdwell" and (.title | length > 0) and (.panels | length > 0)' "$dash" \
    >/dev/null || fail "not a dashboard with a uid, a title and panels"
jq -r '.panels[] | select(.type != "row") | .targets[]?.expr' "$dash" >"$TMP/exprs"
[ -s "$TMP/exprs" ] || fail "no queries"
# Every panel queries, and through the data source variable.
jq -e '[.panels[] | select(.type != "row")] | all((.targets | length > 0) and
    .datasource.uid == "${datasource}" and all(.targets[]; .datasource.uid == "${datasource}"))' \
    "$dash" >/dev/null || fail "a panel without a query or not on \${datasource}"
jq -e '.templating.list | any(.name == "datasource" and .type == "datasource" and
    .query == "prometheus")' "$dash" >/dev/null || fail "no Prometheus data source variable"
while read -r e; do
    grep -q 'tcpdwell_[a-z]' <<<"$e" || fail "a query names no tcpdwell metric: $e"
done <"$TMP/exprs"
jq -r '.templating.list[] | select(.type == "query") | .definition' "$dash" >>"$TMP/exprs"
bad=$(undocumented_metrics "$TMP/exprs")
[ -z "$bad" ] || fail "queries name metrics tcpdwell does not document: $bad"

# panel TYPE REGEX: a panel of TYPE has a query matching REGEX.
panel() {
    jq -e --arg t "$1" --arg r "$2" '[.panels[] | select(.type == $t) | .targets[].expr] |
        any(test($r))' "$dash" >/dev/null || fail "no $1 panel with a query like $2"
}
panel timeseries '^sum by \(state\) \(tcpdwell_sockets\{'
panel timeseries 'max by \(state\) \(tcpdwell_oldest_seconds\{'
panel timeseries 'rate\(tcpdwell_transitions_total\{'
panel heatmap 'tcpdwell_dwell_seconds_bucket\{'
panel timeseries 'by \(netns, state\) \(tcpdwell_sockets\{'
panel timeseries 'tcpdwell_leaking_sockets\{'

# dashboard_promql: the queries with Grafana's variables given values.
if command -v promtool >/dev/null; then
    {
        echo "groups:"
        echo "  - name: dashboard"
        echo "    rules:"
        n=0
        jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$dash" |
            sed -e 's/\$__rate_interval/1m/g' -e 's/\$instance/.*/g' -e 's/\$netns/.*/g' \
                -e 's/\$state/FIN_WAIT_2/g' | while read -r e; do
                n=$((n + 1))
                echo "      - record: dashboard:query$n"
                printf '        expr: %s\n' "$(jq -Rn --arg e "$e" '$e')"
            done
    } >"$TMP/queries.yml"
    promtool check rules "$TMP/queries.yml" >"$TMP/check.out" 2>&1 ||
        fail "a query does not parse: $(cat "$TMP/check.out")"
fi
# The provisioning file names a provider of type file.
grep -q '^ *type: file$' "$TOP_SRCDIR/contrib/grafana/tcpdwell-provider.yml" ||
    fail "the provider file is not a file provider"
pass "Grafana dashboard: provisionable, the asked-for panels, documented metrics, PromQL that parses"
