#!/usr/bin/env bash
# Developer tools that `go install` straight from the Go module proxy.
# controller-gen (CRDs, RBAC, deepcopy), helm v3 (chart lint/template), kustomize v5.8.2
# (v5.8.3 needs Go 1.27; GOTOOLCHAIN=local pins 1.26).
#
# Usage: hack/go-tools.sh [tool...]   (default: controller-gen helm kustomize)
#   into ${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin
# Idempotent: skips a tool whose binary already records the pinned module version.
set -euo pipefail
OUT="${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin"
mkdir -p "$OUT"
declare -A SPEC=(
  [controller-gen]="sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0"
  [helm]="helm.sh/helm/v3/cmd/helm@v3.22.0"
  [kustomize]="sigs.k8s.io/kustomize/kustomize/v5@v5.8.2"
)
tools=("$@"); [ ${#tools[@]} -eq 0 ] && tools=(controller-gen helm kustomize)
for t in "${tools[@]}"; do
  spec="${SPEC[$t]}"; ver="${spec#*@}"
  if [ -x "$OUT/$t" ] && go version -m "$OUT/$t" 2>/dev/null | grep -E "^\s+mod\s.*\s${ver}(\s|$)" >/dev/null; then continue; fi
  echo "hack/go-tools.sh: installing $spec" >&2
  GOTOOLCHAIN=local GOBIN="$OUT" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "$spec"
done
