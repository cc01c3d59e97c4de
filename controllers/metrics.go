package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Operator metrics, registered on controller-runtime's registry (served on
// the manager's /metrics). Their names and labels are API: alerts use them.
var (
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kalamdb_operator_reconcile_errors_total",
		Help: "Reconciles that ended in an error or a Stalled condition, by kind and reason.",
	}, []string{"kind", "reason"})
	driftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kalamdb_operator_drift_corrections_total",
		Help: "Out-of-band changes to database objects that the operator reverted, by kind.",
	}, []string{"kind"})
	backupLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kalamdb_backup_last_success_timestamp_seconds",
		Help: "Unix time of the last Completed KalamBackup, by Kubernetes namespace and cluster.",
	}, []string{"namespace", "cluster"})
)

func init() {
	metrics.Registry.MustRegister(reconcileErrors, driftCorrections, backupLastSuccess)
}
