package live

import (
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// CodeSchemaChanged ends every subscription on a table whose definition
// changed (ALTER TABLE): its column list and types were fixed at subscribe
// time, so rows of the new shape would be misdescribed. Clients
// re-subscribe (optionally resuming from their last _seq) to get the new
// schema.
const CodeSchemaChanged = "SCHEMA_CHANGED"

// endForSchemaChange ends the subscriptions on t (its new definition) with
// CodeSchemaChanged. Like drops, the work runs on a worker, not on the
// meta group's apply goroutine.
func (m *Manager) endForSchemaChange(t *catalog.Table) {
	msg := fmt.Sprintf("table %s changed to schema version %d; subscribe again", t.QualifiedName(), t.SchemaVersion)
	m.workers[0].control(func() {
		for _, s := range m.idx.subsOfTables(map[uint32]bool{t.ID: true}) {
			s.end(CodeSchemaChanged, msg)
		}
	})
}
