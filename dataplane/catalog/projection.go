package catalog

import "github.com/kalamdb/kalamdb-k8s/dataplane/datatype"

// Projection maps stored rows written under any schema version onto a
// table's current definition. Storage is keyed by column id, so renames,
// drops and widening type changes need no per-row work; the one thing a
// reader must add is the value of a column that did not exist when a row
// was stored: the column's Missing value (ADD COLUMN ... DEFAULT v) for
// rows stored before the column's AddedIn version, NULL otherwise.
//
// A row "was stored before" a column when its schema version (hot row
// header, segment SchemaVersion) is older than AddedIn and it carries no
// value for the column id.
type Projection struct {
	missing []any
	addedIn []uint32
	any     bool
}

// NewProjection builds the projection of t's current columns. Missing
// literals that no longer coerce to the column type read as NULL (MODIFY
// only allows widening, so this does not happen for valid catalogs).
func NewProjection(t *Table) *Projection {
	p := &Projection{missing: make([]any, len(t.Columns)), addedIn: make([]uint32, len(t.Columns))}
	for i, c := range t.Columns {
		p.addedIn[i] = c.AddedIn
		if c.Missing == nil || c.Missing.Null || c.Missing.Func != "" {
			continue
		}
		v, err := datatype.Coerce(c.Type, c.Missing.Literal)
		if err == nil && v != nil {
			p.missing[i], p.any = v, true
		}
	}
	return p
}

// Fill returns the value position i reads when a row stored under schema
// version rowVersion has no value for it. It is nil-safe.
func (p *Projection) Fill(i int, rowVersion uint32) any {
	if p == nil || !p.any || i < 0 || i >= len(p.missing) || rowVersion >= p.addedIn[i] {
		return nil
	}
	return p.missing[i]
}

// Active reports whether any column has a missing value (readers may skip
// the per-value check otherwise).
func (p *Projection) Active() bool { return p != nil && p.any }
