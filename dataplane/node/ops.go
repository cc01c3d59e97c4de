package node

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// installOpsInfo feeds system.stats (node statistics) and system.settings
// (the effective, redacted configuration) to the SQL engine.
func (n *Node) installOpsInfo(started time.Time) {
	settings := n.cfg.Settings()
	rows := make([]kalamsql.Setting, len(settings))
	for i, s := range settings {
		rows[i] = kalamsql.Setting{Name: s.Name, Value: s.Value, Description: s.Description, Category: s.Category}
	}
	n.eng.SetOpsInfo(kalamsql.OpsInfo{Settings: rows, Stats: func() []kalamsql.Stat { return n.nodeStats(started) }})
}

// nodeStats are the process-level rows of system.stats.
func (n *Node) nodeStats(started time.Time) []kalamsql.Stat {
	up := time.Since(started)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mb := func(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	out := []kalamsql.Stat{
		{Name: "server_version", Value: server.Version},
		{Name: "server_uptime_seconds", Value: i(int64(up.Seconds()))},
		{Name: "server_uptime_human", Value: up.Truncate(time.Second).String()},
		{Name: "node_id", Value: strconv.Itoa(n.store.NodeID)},
		// The original's names: the worker threads its runtime uses
		// (here the Go scheduler's) and the WebSocket connection cap.
		{Name: "server_workers_effective", Value: strconv.Itoa(runtime.GOMAXPROCS(0))},
		{Name: "max_connections", Value: strconv.Itoa(n.cfg.WebSocket.MaxConnections)},
	}
	if n.live != nil {
		ls := n.live.Stats()
		out = append(out,
			kalamsql.Stat{Name: "active_connections", Value: strconv.Itoa(ls.Connections)},
			kalamsql.Stat{Name: "websocket_sessions", Value: strconv.Itoa(ls.Attached)},
			kalamsql.Stat{Name: "active_subscriptions", Value: strconv.Itoa(ls.Subscriptions)},
			kalamsql.Stat{Name: "subscriptions_overflowed", Value: i(ls.Overflowed)},
		)
	}
	if rss, ok := rssBytes(); ok {
		out = append(out, kalamsql.Stat{Name: "memory_rss_mb", Value: mb(rss)})
	}
	pm := n.store.DB.Metrics()
	out = append(out,
		kalamsql.Stat{Name: "memory_heap_alloc_mb", Value: mb(ms.HeapAlloc)},
		kalamsql.Stat{Name: "memory_sys_mb", Value: mb(ms.Sys)},
		kalamsql.Stat{Name: "gc_cycles", Value: i(int64(ms.NumGC))},
		kalamsql.Stat{Name: "goroutines", Value: strconv.Itoa(runtime.NumGoroutine())},
		kalamsql.Stat{Name: "cpu_count", Value: strconv.Itoa(runtime.NumCPU())},
		kalamsql.Stat{Name: "storage_disk_bytes", Value: i(int64(pm.DiskSpaceUsage()))},
		kalamsql.Stat{Name: "storage_memtable_bytes", Value: i(int64(pm.MemTable.Size))},
		kalamsql.Stat{Name: "storage_block_cache_bytes", Value: i(pm.BlockCache.Size)},
	)
	return out
}

// rssBytes reads the resident set size from /proc (Linux only).
func rssBytes() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}
