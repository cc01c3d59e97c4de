#!/usr/bin/env bash
# Copy the generated CRDs (config/crd/bases) and the operator's ClusterRole
# (config/rbac/role.yaml) into the Helm chart, so the chart installs exactly
# what controller-gen produced. `make chart` runs this; e2e/packaging tests
# fail when the chart is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=charts/kalamdb-operator
rm -f "$chart"/crds/*.yaml
cp config/crd/bases/*.yaml "$chart/crds/"
cp config/rbac/role.yaml "$chart/files/manager-role.yaml"
# The data plane's monitoring objects: the chart renders their spec and
# dashboard from these copies (templates/dataplane-monitoring.yaml).
cp config/prometheus/dataplane-podmonitor.yaml config/prometheus/dataplane-rules.yaml "$chart/files/"
cp config/grafana/kalamdb-dashboard.json "$chart/files/"
