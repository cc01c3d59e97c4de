#!/usr/bin/env bash
# Tools the original KalamDB's vendored test scripts (test/upstream) call: jq and curl.
# jq: the system's when installed, else gojq (a jq implementation in Go) built from the Go
# module proxy into ${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin and linked as jq there.
# Idempotent; prints nothing when everything is in place.
set -euo pipefail
OUT="${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin"
mkdir -p "$OUT"
GOJQ="github.com/itchyny/gojq/cmd/gojq@v0.12.17"
if ! command -v jq >/dev/null 2>&1 && ! [ -x "$OUT/jq" ]; then
  echo "hack/upstream-tools.sh: installing $GOJQ as jq" >&2
  GOTOOLCHAIN=local GOBIN="$OUT" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "$GOJQ"
  ln -sf gojq "$OUT/jq"
fi
command -v curl >/dev/null 2>&1 || { echo "hack/upstream-tools.sh: curl is required (apt-get install -y curl)" >&2; exit 1; }
