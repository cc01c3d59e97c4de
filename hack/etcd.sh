#!/usr/bin/env bash
# Build the etcd server (envtest and the e2e control plane) from the Go module proxy.
#
# `go install go.etcd.io/etcd/server/v3@vX` fails because server/go.mod has replace
# directives, so we build from a throwaway module that requires the etcd modules at one
# release; go.etcd.io/etcd/server/v3 itself is `package main`. ~40 s cold.
#
# Usage: hack/etcd.sh [OUT_DIR]   (default ${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin)
# Idempotent: exits at once when OUT_DIR/etcd already reports ETCD_VERSION.
set -euo pipefail
ETCD_VERSION="${ETCD_VERSION:-3.7.3}"
TOOLS="${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}"
OUT="${1:-$TOOLS/bin}"
WORK="$TOOLS/build/etcd-${ETCD_VERSION}"
mkdir -p "$OUT" "$WORK"
if "$OUT/etcd" --version 2>/dev/null | grep "etcd Version: ${ETCD_VERSION}$" >/dev/null; then exit 0; fi
echo "hack/etcd.sh: building etcd ${ETCD_VERSION} into $OUT (first run only, ~1 min)" >&2
cd "$WORK"
if [ ! -f go.mod ] || ! grep -q "go.etcd.io/etcd/server/v3 v${ETCD_VERSION}" go.mod; then
  rm -f go.mod go.sum
  GOTOOLCHAIN=local go mod init example.invalid/etcdbuild >/dev/null 2>&1
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  GOTOOLCHAIN=local go mod edit -require "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" \
    -require "go.etcd.io/etcd/api/v3@v${ETCD_VERSION}" \
    -require "go.etcd.io/etcd/client/pkg/v3@v${ETCD_VERSION}" \
    -require "go.etcd.io/etcd/client/v3@v${ETCD_VERSION}" \
    -require "go.etcd.io/etcd/pkg/v3@v${ETCD_VERSION}"
  GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod tidy
fi
GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3
mv -f "$OUT/etcd.tmp" "$OUT/etcd"
