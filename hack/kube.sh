#!/usr/bin/env bash
# Build Kubernetes control-plane binaries from the Go module proxy (no prebuilt downloads
# exist here): kube-apiserver (envtest), and with KUBE_BINS also kube-controller-manager
# and kubectl (the e2e suite).
#
# k8s.io/kubernetes has `replace k8s.io/* => ./staging/...` directives, so `go install`
# fails; we build from a throwaway module that requires k8s.io/kubernetes and replaces each
# staging module with its published v0.X.Y twin (the list is read from kubernetes' go.mod).
# v1.37.2's source zip is refused by the proxy, hence 1.37.1. ~5 min cold for the apiserver.
#
# Usage: hack/kube.sh [OUT_DIR]   (default ${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin)
#   KUBE_BINS="kube-apiserver kube-controller-manager kubectl"   (default: all three)
# Idempotent: skips each binary whose --version already reports K8S_VERSION.
set -euo pipefail
K8S_VERSION="${K8S_VERSION:-1.37.1}"
TOOLS="${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}"
OUT="${1:-$TOOLS/bin}"
WORK="$TOOLS/build/k8s-${K8S_VERSION}"
MINOR="$(echo "$K8S_VERSION" | cut -d. -f2)"
STAGING="v0.${MINOR}.$(echo "$K8S_VERSION" | cut -d. -f3)"
BINS="${KUBE_BINS:-kube-apiserver kube-controller-manager kubectl}"
mkdir -p "$OUT" "$WORK"
need=()
for b in $BINS; do
  case "$b" in
    kubectl) "$OUT/kubectl" version --client 2>/dev/null | grep "Client Version: v${K8S_VERSION}$" >/dev/null || need+=("$b") ;;
    *) "$OUT/$b" --version 2>/dev/null | grep -x "Kubernetes v${K8S_VERSION}" >/dev/null || need+=("$b") ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
cd "$WORK"
if [ ! -f go.mod ] || ! grep -q "k8s.io/kubernetes v${K8S_VERSION}" go.mod || ! grep -q kube-controller-manager tools.go 2>/dev/null; then
  rm -f go.mod go.sum
  go mod init example.invalid/k8sbuild >/dev/null 2>&1
  modfile="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  {
    echo; echo "require k8s.io/kubernetes v${K8S_VERSION}"; echo; echo "replace ("
    sed -n '/^replace (/,/^)/p' "$modfile" | awk '/=>/ {print "\t" $1 " => " $1 " '"$STAGING"'"}'
    echo ")"
  } >> go.mod
  cat > tools.go <<'EOT'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOT
  go mod tidy
fi
LDFLAGS="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS="$LDFLAGS -X $p.gitVersion=v${K8S_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${MINOR}"
  LDFLAGS="$LDFLAGS -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
for b in "${need[@]}"; do
  echo "hack/kube.sh: building $b v${K8S_VERSION} into $OUT (first run only, minutes)" >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b"
  mv -f "$OUT/$b.tmp" "$OUT/$b"
done
