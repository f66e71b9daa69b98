#!/usr/bin/env bash
# Summarises a coverage profile written with -coverpkg (make test): for each package of the
# module, the share of its statements that any suite ran, then the total. With -coverpkg every
# test binary reports every package, so a block appears once per binary; it counts as covered
# when any of them ran it (as `go tool cover -func` merges it). Generated code (zz_generated*)
# is left out. Every block counts, also those outside functions, so the total can differ a
# little from the last line of `go tool cover -func`. Usage: hack/coverage-summary.sh [cover.out]
set -euo pipefail
profile="${1:-cover.out}"
module="$(go list -m)/"
awk -v module="$module" '
NR == 1 { next }                       # mode: set
{
  file = substr($1, 1, index($1, ":") - 1)
  if (file ~ /\/zz_generated[^\/]*$/) next
  pkg = file
  sub(/\/[^\/]*$/, "", pkg)
  if (index(pkg, module) == 1) pkg = substr(pkg, length(module) + 1)
  stmts[$1] = $2
  owner[$1] = pkg
  if ($3 > 0) hit[$1] = 1
}
END {
  for (b in stmts) {
    p = owner[b]
    total[p] += stmts[b]; all += stmts[b]
    if (b in hit) { covered[p] += stmts[b]; allCovered += stmts[b] }
  }
  printf "coverage by all suites together (counted across packages; generated code left out):\n"
  for (p in total)
    printf "  %-44s %5.1f%%  %6d of %6d statements\n", p, 100 * covered[p] / total[p], covered[p], total[p] | "sort"
  close("sort")
  if (all == 0) { print "  no statements in " FILENAME; exit 1 }
  printf "  %-44s %5.1f%%  %6d of %6d statements\n", "total", 100 * allCovered / all, allCovered, all
}' "$profile"
