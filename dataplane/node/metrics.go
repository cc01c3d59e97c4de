package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

// registerMetrics exposes the engine, SQL and storage counters on the
// server's /metrics registry.
func (n *Node) registerMetrics() {
	reg := n.srv.Registry()
	stmts := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "kalamdb", Name: "statement_duration_seconds", Help: "SQL statement latency by kind and outcome.",
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
	}, []string{"kind", "outcome"})
	rowsWritten := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kalamdb", Name: "rows_written_total", Help: "Row writes applied, by operation.",
	}, []string{"op"})
	commands := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kalamdb", Name: "commands_applied_total", Help: "Commands applied by the write path, by kind.",
	}, []string{"kind"})
	reg.MustRegister(stmts, rowsWritten, commands)
	n.eng.SetStatementObserver(func(kind string, took time.Duration, err error) {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		stmts.WithLabelValues(kind, outcome).Observe(took.Seconds())
	})
	opNames := map[engine.RowOp]string{engine.OpInsert: "insert", engine.OpUpdate: "update", engine.OpDelete: "delete", engine.OpDropTableData: "drop_table"}
	n.exec.AddObserver(func(cmd *engine.Command, _ *engine.Result) {
		if cmd.Catalog != nil {
			commands.WithLabelValues("catalog").Inc()
			return
		}
		commands.WithLabelValues("rows").Inc()
		for _, w := range cmd.Rows {
			if name, ok := opNames[w.Op]; ok {
				rowsWritten.WithLabelValues(name).Inc()
			}
		}
	})
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kalamdb", Name: name, Help: help}, f)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kalamdb", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		counter("scan_point_gets_total", "Primary-key point gets issued by queries.", func() float64 { return float64(n.eng.ScanStats().PointGets) }),
		counter("scan_range_scans_total", "Bounded range scans issued by queries.", func() float64 { return float64(n.eng.ScanStats().RangeScans) }),
		counter("scan_rows_read_total", "Rows read from the hot tier by queries.", func() float64 { return float64(n.eng.ScanStats().RowsRead) }),
		gauge("pebble_memtable_bytes", "Bytes in Pebble memtables.", func() float64 { return float64(n.store.DB.Metrics().MemTable.Size) }),
		gauge("pebble_l0_files", "Files in Pebble level 0.", func() float64 { return float64(n.store.DB.Metrics().Levels[0].TablesCount) }),
		gauge("pebble_disk_bytes", "Bytes used by Pebble on disk.", func() float64 { return float64(n.store.DB.Metrics().DiskSpaceUsage()) }),
		counter("pebble_compactions_total", "Pebble compactions.", func() float64 { return float64(n.store.DB.Metrics().Compact.Count) }),
		counter("pebble_flushes_total", "Pebble memtable flushes.", func() float64 { return float64(n.store.DB.Metrics().Flush.Count) }),
	)
}
