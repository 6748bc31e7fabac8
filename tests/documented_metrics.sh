# documented_metrics.sh - sourced by the tests of contrib/ and the metrics:
# the metric families tcpdwell(1) documents, and a check that text names
# only those.

# documented_metrics: the family names of tcpdwell(1)'s METRICS section, one a line.
documented_metrics() {
    sed -n '/^\.SH METRICS/,/^\.SH /p' "$TOP_SRCDIR/man/tcpdwell.1" |
        sed -n 's/^\.B \(tcpdwell_[a-z_]*\).*/\1/p' | sort -u
}

# undocumented_metrics FILE...: the tcpdwell_* names used in FILEs that
# tcpdwell(1) does not document (a histogram's _bucket, _sum and _count
# belong to their family); nothing when all are.
undocumented_metrics() {
    grep -oh 'tcpdwell_[a-z_]*[a-z]' "$@" | sed -E 's/_(bucket|sum|count)$//' | sort -u |
        comm -23 - <(documented_metrics)
}
