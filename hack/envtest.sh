#!/usr/bin/env bash
# Build (first run only) the envtest control plane, a real etcd and kube-apiserver,
# from the Go module proxy, and print the KUBEBUILDER_ASSETS directory holding them.
# No download of prebuilt binaries exists here (setup-envtest needs the internet).
#
# Usage: KUBEBUILDER_ASSETS="$(hack/envtest.sh)" go test ./controllers/...
#   An already-set KUBEBUILDER_ASSETS that holds both binaries wins and is printed as is.
# Idempotent: hack/etcd.sh and hack/kube.sh skip binaries whose version already matches.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi
TOOLS="${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}"
OUT="$TOOLS/bin"
# Progress goes to stderr so that stdout is only the directory.
bash "$here/etcd.sh" "$OUT" >&2
KUBE_BINS=kube-apiserver bash "$here/kube.sh" "$OUT" >&2
echo "$OUT"
