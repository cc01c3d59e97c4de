#!/usr/bin/env bash
# Build the MinIO server (tests only) from the Go module proxy and cache the binary.
#
# MinIO has no semver tags, so a pseudo-version is pinned; its go.mod has no replace
# directives, so a plain `go install` works. Debian has no MinIO package and no
# prebuilt binary can be downloaded here, hence the build (~3 min cold, 2 cores).
#
# Usage: hack/minio.sh [OUT_DIR]   (default ${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin)
# Idempotent: exits at once when OUT_DIR/minio already records the pinned version.
set -euo pipefail
MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
OUT="${1:-${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin}"
mkdir -p "$OUT"
if [ -x "$OUT/minio" ] && go version -m "$OUT/minio" 2>/dev/null | grep -E "^\s+mod\s+github.com/minio/minio\s+${MINIO_VERSION}" >/dev/null; then
  exit 0
fi
echo "hack/minio.sh: building minio ${MINIO_VERSION} into $OUT (first run only, ~3 min)" >&2
# Build in a temp GOBIN then move, so an interrupted build never leaves a half binary.
tmp="$(mktemp -d "$OUT/.minio-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
GOTOOLCHAIN=local GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "github.com/minio/minio@${MINIO_VERSION}"
mv -f "$tmp/minio" "$OUT/minio"
echo "hack/minio.sh: installed $OUT/minio" >&2
