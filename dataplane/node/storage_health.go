package node

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerStorageHealth exposes the data volume's free space and the
// storage error counters, and holds /readyz at 503 while the volume is
// below its free-space reserve (writes answer DISK_FULL meanwhile; reads
// are served). See docs/operations.md, "Disk full".
func (n *Node) registerStorageHealth() {
	st := n.store
	n.srv.SetReadyCheck(st.CheckFreeQuiet)
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kalamdb", Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kalamdb", Name: name, Help: help}, f)
	}
	n.srv.Registry().MustRegister(
		gauge("storage_free_bytes", "Free bytes on the data volume (as available to the process).",
			func() float64 { return float64(st.SpaceStats().FreeBytes) }),
		gauge("storage_total_bytes", "Size of the data volume in bytes.",
			func() float64 { return float64(st.SpaceStats().TotalBytes) }),
		gauge("storage_reserve_bytes", "Free-space reserve (storage.min_free_mb): below it writes answer DISK_FULL.",
			func() float64 { return float64(st.SpaceStats().ReserveBytes) }),
		counter("storage_errors_total", "Storage errors: failed Pebble flushes or compactions, failed commits, fatal errors.",
			func() float64 { return float64(st.SpaceStats().Errors) }),
		counter("storage_writes_refused_total", "Writes refused with DISK_FULL (the data volume was below its reserve).",
			func() float64 { return float64(st.SpaceStats().Refused) }),
	)
}
