package sql

import "github.com/kalamdb/kalamdb-k8s/dataplane/catalog"

// fillMissing sets the positions of vals that a row stored under schema
// version ver predates (ADD COLUMN ... DEFAULT v after the row was
// written) to the value readers show for them, so re-encoding the row
// (UPDATE) keeps what SELECT showed.
func fillMissing(t *catalog.Table, ver uint32, vals []any) {
	p := catalog.NewProjection(t)
	if !p.Active() {
		return
	}
	for i := range vals {
		if vals[i] == nil {
			vals[i] = p.Fill(i, ver)
		}
	}
}
