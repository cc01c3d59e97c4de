package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
)

// registerOpsMetrics adds the operational series that need the cold tier
// and live queries running: cold-tier job durations and volumes, job
// counts by state, subscription overflows, the SQL rewrite cache and
// more Pebble internals. Call it after startLive.
func (n *Node) registerOpsMetrics() {
	reg := n.srv.Registry()
	jobDur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "kalamdb", Name: "cold_job_duration_seconds", Help: "Flush and compaction job run time by type and final status.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"type", "status"})
	jobBytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kalamdb", Name: "cold_job_bytes_total", Help: "Bytes written to the cold tier by finished jobs, by type.",
	}, []string{"type"})
	jobRows := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kalamdb", Name: "cold_job_rows_total", Help: "Rows moved or rewritten by finished jobs, by type.",
	}, []string{"type"})
	reg.MustRegister(jobDur, jobBytes, jobRows)
	n.cold.SetJobObserver(func(j *catalog.Job) {
		if j.StartedAt != 0 && j.FinishedAt >= j.StartedAt {
			jobDur.WithLabelValues(j.Type, j.Status).Observe(float64(j.FinishedAt-j.StartedAt) / 1000)
		}
		jobBytes.WithLabelValues(j.Type).Add(float64(j.Bytes))
		jobRows.WithLabelValues(j.Type).Add(float64(j.Rows))
	})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kalamdb", Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kalamdb", Name: name, Help: help}, f)
	}
	db := n.store.DB
	reg.MustRegister(
		&jobsCollector{n: n},
		counter("live_subscriptions_overflowed_total", "Subscriptions ended with OVERFLOW (a client or the dispatcher fell behind).",
			func() float64 { return float64(n.live.Stats().Overflowed) }),
		gauge("live_authenticated_connections", "Authenticated WebSocket connections.",
			func() float64 { return float64(n.live.Stats().Connections) }),
		gauge("sql_plan_cache_entries", "Entries in the SQL rewrite (plan) cache.", func() float64 { return float64(n.eng.PlanCacheSize()) }),
		gauge("pebble_read_amplification", "Pebble read amplification (sublevels in L0 plus non-empty levels).",
			func() float64 { return float64(db.Metrics().ReadAmp()) }),
		gauge("pebble_compaction_debt_bytes", "Estimated bytes Pebble still has to compact.",
			func() float64 { return float64(db.Metrics().Compact.EstimatedDebt) }),
		gauge("pebble_wal_bytes", "Bytes in live Pebble WAL files.", func() float64 { return float64(db.Metrics().WAL.Size) }),
		counter("pebble_wal_bytes_written_total", "Bytes written to the Pebble WAL.", func() float64 { return float64(db.Metrics().WAL.BytesWritten) }),
		gauge("pebble_block_cache_bytes", "Bytes in the Pebble block cache.", func() float64 { return float64(db.Metrics().BlockCache.Size) }),
		counter("pebble_block_cache_hits_total", "Pebble block cache hits.", func() float64 { return float64(db.Metrics().BlockCache.Hits) }),
		counter("pebble_block_cache_misses_total", "Pebble block cache misses.", func() float64 { return float64(db.Metrics().BlockCache.Misses) }),
		gauge("pebble_sstables", "Live Pebble sstables across all levels.", func() float64 {
			m := db.Metrics()
			var total int64
			for _, l := range m.Levels {
				total += l.TablesCount
			}
			return float64(total)
		}),
	)
}

// jobsCollector reports job records (system.jobs) by type and status. It
// reads them on each scrape: they are few (trimmed to cold.job_retention).
type jobsCollector struct{ n *Node }

var jobsDesc = prometheus.NewDesc("kalamdb_jobs", "Job records in system.jobs by type and status.", []string{"type", "status"}, nil)

// Describe implements prometheus.Collector.
func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

// Collect implements prometheus.Collector.
func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	jobs, err := flush.Jobs(c.n.store.DB)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	type key struct{ typ, status string }
	counts := map[key]int{}
	for _, j := range jobs {
		counts[key{j.Type, j.Status}]++
	}
	// Always report the states of flush jobs so dashboards see zeros.
	for _, st := range []string{catalog.JobQueued, catalog.JobRunning, catalog.JobCompleted, catalog.JobFailed} {
		if _, ok := counts[key{flush.JobFlush, st}]; !ok {
			counts[key{flush.JobFlush, st}] = 0
		}
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(v), k.typ, k.status)
	}
}
