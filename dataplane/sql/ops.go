package sql

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
