#!/usr/bin/env bash
# The e2e scenario on a kind cluster, for machines with Docker (CI here has no
# Docker engine and runs `make test-e2e` instead; this script is not run by CI).
#
# Builds the image, creates a kind cluster, loads the image, installs MinIO and
# the operator (Helm chart), then walks through the scenario of e2e/README.md
# with kubectl and the YAML in config/samples:
#   1 cluster/namespace/tables Ready, 2 users write, 3 immediate scheduled
#   backup Completed, 4 restore into a new cluster, 5 add a column,
#   6 kill the data plane and check the rows, 7 delete the CRs.
#
# Usage: hack/e2e-kind.sh            (KEEP=1 keeps the kind cluster)
# Needs: docker, kind, kubectl, helm (hack/go-tools.sh helm), jq.
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER="${CLUSTER:-kalamdb-e2e}"
IMG="${IMG:-kalamdb/kalamdb:e2e}"
NS=kalam-e2e
HELM="${HELM:-helm}"
command -v "$HELM" >/dev/null || HELM="${KALAMDB_TOOLS:-$HOME/.cache/kalamdb-tools}/bin/helm"

cleanup() { [ "${KEEP:-}" = 1 ] || kind delete cluster --name "$CLUSTER"; }
trap cleanup EXIT

docker build -t "$IMG" .
kind create cluster --name "$CLUSTER" --wait 120s
kind load docker-image "$IMG" --name "$CLUSTER"

# MinIO in-cluster (minio.minio.svc:9000, the endpoint the samples use).
kubectl create namespace minio
kubectl -n minio apply -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: minio}
spec:
  selector: {matchLabels: {app: minio}}
  template:
    metadata: {labels: {app: minio}}
    spec:
      containers:
      - name: minio
        image: quay.io/minio/minio:latest
        args: [server, /data]
        env:
        - {name: MINIO_ROOT_USER, value: kalamtest}
        - {name: MINIO_ROOT_PASSWORD, value: kalamtest-secret-key}
        ports: [{containerPort: 9000}]
        readinessProbe: {httpGet: {path: /minio/health/ready, port: 9000}}
---
apiVersion: v1
kind: Service
metadata: {name: minio}
spec:
  selector: {app: minio}
  ports: [{port: 9000, targetPort: 9000}]
YAML
kubectl -n minio rollout status deploy/minio --timeout=180s
kubectl -n minio run mc --rm -i --restart=Never --image=quay.io/minio/mc:latest --command -- \
  sh -c 'mc alias set m http://minio:9000 kalamtest kalamtest-secret-key && mc mb -p m/kalamdb'

"$HELM" install kalamdb-operator charts/kalamdb-operator -n kalamdb-system --create-namespace \
  --set image.repository="${IMG%:*}" --set image.tag="${IMG##*:}" --set image.pullPolicy=Never --wait

kubectl create namespace "$NS"
sample() { sed "s#ghcr.io/kalamdb/kalamdb:latest#$IMG#" "config/samples/$1" | kubectl -n "$NS" apply -f -; }
ready() { kubectl -n "$NS" wait "$1" --for=condition=Ready --timeout="${2:-300s}"; }

echo "== 1. cluster, namespace, tables"
sample s3-credentials.yaml
sample kalamdb_v1alpha1_kalamcluster.yaml
ready kalamcluster/kalam
sample kalamdb_v1alpha1_kalamnamespace.yaml
sample kalamdb_v1alpha1_kalamtable.yaml
ready kalamnamespace/app; ready kalamtable/app-messages; ready kalamtable/app-rooms

echo "== 2. users write through the Service"
ROOT_PW=$(kubectl -n "$NS" get secret kalam-credentials -o jsonpath='{.data.root-password}' | base64 -d)
sql() { kubectl -n "$NS" exec kalam-0 -- /kalamdb sql --url http://kalam:8080 "$@"; }
sql --user root --password "$ROOT_PW" -c "CREATE USER alice WITH PASSWORD 'alice-pw-e2e' ROLE user"
sql --user alice --password alice-pw-e2e -c "INSERT INTO app.messages (id, body) VALUES (1, 'one'), (2, 'two')"

echo "== 3. immediate scheduled backup"
sample kalamdb_v1alpha1_kalamscheduledbackup.yaml
for i in $(seq 120); do
  phase=$(kubectl -n "$NS" get kalambackups -l kalamdb.io/scheduled-backup=kalam-nightly -o jsonpath='{.items[0].status.phase}' 2>/dev/null || true)
  [ "$phase" = Completed ] && break; [ "$phase" = Failed ] && { echo "backup failed"; exit 1; }; sleep 5
done
[ "$phase" = Completed ]

echo "== 4. restore into a new cluster"
sample kalamdb_v1alpha1_kalamcluster_restore.yaml
ready kalamcluster/kalam-restored 600s
kubectl -n "$NS" exec kalam-restored-0 -- /kalamdb sql --url http://kalam-restored:8080 --user alice --password alice-pw-e2e \
  -c "SELECT count(*) AS n FROM app.messages" --format csv | grep -qx 2

echo "== 5. add a column"
kubectl -n "$NS" patch kalamtable app-messages --type=json -p '[{"op":"add","path":"/spec/columns/-","value":{"name":"topic","type":"TEXT"}}]'
for i in $(seq 60); do sql --user root --password "$ROOT_PW" -c "DESCRIBE TABLE app.messages" | grep -q topic && break; sleep 2; done

echo "== 6. kill the data plane"
kubectl -n "$NS" exec kalam-0 -- /kalamdb version >/dev/null
kubectl -n "$NS" delete pod kalam-0 --grace-period=0 --force
ready kalamcluster/kalam
sql --user alice --password alice-pw-e2e -c "SELECT count(*) AS n FROM app.messages" --format csv | grep -qx 2

echo "== 7. delete"
kubectl -n "$NS" delete kalamtable app-messages app-rooms
kubectl -n "$NS" delete kalamnamespace app
kubectl -n "$NS" delete kalamscheduledbackup kalam-nightly
kubectl -n "$NS" delete kalamcluster kalam kalam-restored
echo "e2e-kind: OK"
