#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) and the
# kube-controller-manager that `make demo` and test/e2e run beside it (for
# namespace deletion, garbage collection and service account tokens) from the
# Go module proxy, because the usual prebuilt-binary download is unreachable
# from our machines. Installs them, beside the machine's kubectl, where setup-envtest
# would keep them, skips the build when working binaries are already there,
# and prints that directory (and nothing else) on stdout.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.0}"
STAGING_VERSION="${STAGING_VERSION:-v0.${K8S_VERSION#1.}}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.6}"
ASSETS_ROOT="${ENVTEST_ASSETS_ROOT:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest}"
DIR="${ASSETS_ROOT}/k8s/${K8S_VERSION}-$(go env GOOS)-$(go env GOARCH)"

log() { echo "setup-envtest: $*" >&2; }

# The version is read whole before it is matched: with pipefail, grep -q
# closing the pipe early can kill the writer and fail the check at random.
version_of() { [ -x "$1" ] && "$1" --version 2>/dev/null; }
apiserver_ok() { local v; v="$(version_of "$DIR/kube-apiserver")" && grep -q "v${K8S_VERSION}\$" <<<"$v"; }
etcd_ok() { local v; v="$(version_of "$DIR/etcd")" && grep -q "etcd Version: ${ETCD_VERSION#v}" <<<"$v"; }
kcm_ok() { local v; v="$(version_of "$DIR/kube-controller-manager")" && grep -q "v${K8S_VERSION}\$" <<<"$v"; }
kubectl_ok() { [ -x "$DIR/kubectl" ] && "$DIR/kubectl" version --client >/dev/null 2>&1; }

mkdir -p "$DIR"
if apiserver_ok && etcd_ok && kcm_ok && kubectl_ok; then
  echo "$DIR"
  exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/envtest-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# The throw-away modules must not see this repository's go.work or flags.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

# build_kube NAME MAIN_GO: builds one component of k8s.io/kubernetes into $DIR.
build_kube() {
  local name="$1" m="$WORK/$1"
  mkdir -p "$m"
  cat >"$m/main.go"
  (
    cd "$m"
    go mod init "envtest/$name" >/dev/null 2>&1
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
    # with local paths that do not exist in the module archive: point every one
    # of them at its published version instead.
    gomod="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    go mod edit -require="k8s.io/kubernetes@v${K8S_VERSION}"
    for mod in $(awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&$1~/^k8s.io\//{print $1}' "$gomod"); do
      go mod edit -replace="${mod}=${mod}@${STAGING_VERSION}"
    done
    go mod tidy >&2
    local pkg=k8s.io/component-base/version
    go build -trimpath -o "$DIR/$name" -ldflags "-s -w \
      -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=${K8S_VERSION%%.*} \
      -X ${pkg}.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X ${pkg}.gitTreeState=clean \
      -X k8s.io/client-go/pkg/version.gitVersion=v${K8S_VERSION}" . >&2
  )
}

build_apiserver() {
  log "building kube-apiserver v${K8S_VERSION} from the module proxy (about 10 minutes the first time)"
  build_kube kube-apiserver <<'GO'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
GO
}

build_kcm() {
  log "building kube-controller-manager v${K8S_VERSION} from the module proxy (a few minutes more)"
  build_kube kube-controller-manager <<'GO'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
GO
}

build_etcd() {
  log "building etcd ${ETCD_VERSION} from the module proxy"
  local m="$WORK/etcd"
  mkdir -p "$m"
  cat >"$m/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
GO
  (
    cd "$m"
    go mod init envtest/etcd >/dev/null 2>&1
    go mod edit -require="go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
    go mod tidy >&2
    go build -trimpath -o "$DIR/etcd" -ldflags "-s -w" . >&2
  )
}

install_kubectl() {
  local k
  k="$(command -v kubectl || true)"
  if [ -z "$k" ]; then
    log "no kubectl on this machine: envtest does not need it, but 'make demo' users will"
    return 0
  fi
  # A link, not a copy: some kubectl builds dispatch to version-specific
  # binaries that live beside them.
  ln -sf "$(readlink -f "$k")" "$DIR/kubectl"
}

apiserver_ok || build_apiserver
apiserver_ok || { log "kube-apiserver does not report v${K8S_VERSION}"; exit 1; }
etcd_ok || build_etcd
etcd_ok || { log "etcd does not report ${ETCD_VERSION}"; exit 1; }
kcm_ok || build_kcm
kcm_ok || { log "kube-controller-manager does not report v${K8S_VERSION}"; exit 1; }
kubectl_ok || install_kubectl

echo "$DIR"
