#!/usr/bin/env bash
# Lints and renders the tenant-onboarding chart with every values file of
# its ci/ directory, as `make helm-lint` does with ci/test-values.yaml. A
# values file says what its render must hold in header comments:
#   # kinds: Tenant User ...      kinds the render must have
#   # not: ApiClient ...          kinds it must not have
# Usage: hack/helm-lint-onboarding.sh [path/to/helm]
set -euo pipefail

HELM="${1:-bin/helm}"
CHART=charts/tenant-onboarding

shopt -s nullglob
files=("$CHART"/ci/*-values.yaml)
[ ${#files[@]} -gt 0 ] || { echo "helm-lint: no values files in $CHART/ci" >&2; exit 1; }

for f in "${files[@]}"; do
  "$HELM" lint --strict "$CHART" -f "$f" >/dev/null || { echo "helm-lint: $CHART fails lint with $f" >&2; "$HELM" lint --strict "$CHART" -f "$f" >&2; exit 1; }
  out="$("$HELM" template acme "$CHART" --namespace customers -f "$f")"
  want="$(sed -n 's/^# kinds: *//p' "$f")"
  unwanted="$(sed -n 's/^# not: *//p' "$f")"
  [ -n "$want" ] || { echo "helm-lint: $f has no '# kinds:' line" >&2; exit 1; }
  for k in $want; do
    grep -q "^kind: $k$" <<<"$out" || { echo "helm-lint: $CHART rendered with $f has no $k" >&2; exit 1; }
  done
  for k in $unwanted; do
    if grep -q "^kind: $k$" <<<"$out"; then echo "helm-lint: $CHART rendered with $f has a $k it must not have" >&2; exit 1; fi
  done
  # The notes never hold a token: only where it is.
  notes="$("$HELM" install acme "$CHART" --namespace customers -f "$f" --dry-run=client 2>/dev/null | sed -n '/^NOTES:/,$p')"
  [ -n "$notes" ] || { echo "helm-lint: $CHART rendered with $f has no NOTES" >&2; exit 1; }
  if grep -qw RegistrationToken <<<"$want"; then
    secret="$(awk '/^kind: RegistrationToken$/{r=1} r && /^  secretName:/{print $2; exit}' <<<"$out")"
    grep -q "get secret $secret -o jsonpath='{.data.token}'" <<<"$notes" || { echo "helm-lint: the NOTES with $f do not say how to read the Secret $secret" >&2; exit 1; }
  fi
  echo "helm-lint: tenant-onboarding renders with $(basename "$f")"
done
