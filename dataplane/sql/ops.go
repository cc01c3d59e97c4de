package sql

import (
	"strconv"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
)

// PlanCacheSize returns the number of cached statement rewrites (the plan
// cache: SQL text plus session shape -> SQLite SQL and resolved tables).
// Entries are tagged with the catalog version they were built at and are
// rebuilt on first use after any catalog change (DDL, ALTER, user
// changes), so a stale plan is never used.
func (e *Engine) PlanCacheSize() int {
	e.rwMu.Lock()
	defer e.rwMu.Unlock()
	return len(e.rwCache)
}

// Stat is one row of system.stats.
type Stat struct{ Name, Value string }

// Setting is one row of system.settings.
type Setting struct{ Name, Value, Description, Category string }

// OpsInfo supplies what system.stats and system.settings show beyond the
// catalog: node-level statistics (uptime, connections, memory, ...) and
// the effective configuration, already redacted.
type OpsInfo struct {
	// Stats returns node-level statistics; called on every scan.
	Stats func() []Stat
	// Settings is the effective configuration.
	Settings []Setting
}

// SetOpsInfo installs the node's statistics and settings source. Without
// it system.stats lists only catalog counts and system.settings is empty.
func (e *Engine) SetOpsInfo(o OpsInfo) { e.ops.Store(&o) }

func init() {
	systemViews["stats"] = &systemView{
		columns: []viewColumn{col("metric_name", datatype.Text), col("metric_value", datatype.Text)},
		rows:    func(cs *connState) ([][]any, error) { return cs.eng.statsRows(cs) },
	}
	systemViews["settings"] = &systemView{
		columns: []viewColumn{col("name", datatype.Text), col("value", datatype.Text), col("description", datatype.Text), col("category", datatype.Text)},
		rows: func(cs *connState) ([][]any, error) {
			o := cs.eng.ops.Load()
			if o == nil {
				return nil, nil
			}
			out := make([][]any, 0, len(o.Settings))
			for _, s := range o.Settings {
				out = append(out, []any{s.Name, s.Value, s.Description, s.Category})
			}
			return out, nil
		},
	}
}

// statsRows computes system.stats: catalog and job counts from the
// statement's snapshot, then the node's statistics.
func (e *Engine) statsRows(cs *connState) ([][]any, error) {
	users := 0
	for _, u := range e.cat.Users() {
		if u.DeletedAt == 0 {
			users++
		}
	}
	jobs, err := flush.Jobs(cs.snap)
	if err != nil {
		return nil, err
	}
	byStatus := map[string]int{}
	for _, j := range jobs {
		byStatus[j.Status]++
	}
	itoa := strconv.Itoa
	out := [][]any{
		{"total_users", itoa(users)},
		{"total_namespaces", itoa(len(e.cat.Namespaces()))},
		{"total_tables", itoa(len(e.cat.Tables("")))},
		{"total_jobs", itoa(len(jobs))},
		{"jobs_queued", itoa(byStatus[catalog.JobQueued])},
		{"jobs_running", itoa(byStatus[catalog.JobRunning])},
		{"jobs_completed", itoa(byStatus[catalog.JobCompleted])},
		{"jobs_failed", itoa(byStatus[catalog.JobFailed])},
		{"plan_cache_size", itoa(e.PlanCacheSize())},
		{"schema_cache_version", strconv.FormatUint(e.cat.Version(), 10)},
		// The original's names for the table schemas it holds in memory
		// (its cache and its registry); here the catalog cache holds
		// every live table's schema, so both are the table count.
		{"schema_cache_size", itoa(len(e.cat.Tables("")))},
		{"schema_registry_size", itoa(len(e.cat.Tables("")))},
	}
	if o := e.ops.Load(); o != nil && o.Stats != nil {
		for _, s := range o.Stats() {
			out = append(out, []any{s.Name, s.Value})
		}
	}
	return out, nil
}
