package catalog

// Index states. An index is maintained by every write from the moment it
// exists, but queries use it only once it is ready: its backfill of the
// rows that predate it is complete.
const (
	IndexBuilding = "building"
	IndexReady    = "ready"
)

// Index is a single-column secondary index of a table. Its entries live
// in the hot tier next to the rows (storage/keys/index.go). Names are
// unique within a namespace (PostgreSQL: within a schema).
type Index struct {
	// ID is unique within the table and never reused.
	ID   uint32 `json:"id"`
	Name string `json:"name"`
	// ColumnID is the indexed column's stable id: RENAME COLUMN keeps the
	// index, DROP COLUMN is refused while it exists.
	ColumnID  uint32 `json:"column_id"`
	State     string `json:"state"`
	CreatedAt int64  `json:"created_at"`
}

// IndexNamed returns the table's index with the given name, or nil.
func (t *Table) IndexNamed(name string) *Index {
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return &t.Indexes[i]
		}
	}
	return nil
}

// ColumnByID returns the column with the given id, or nil.
func (t *Table) ColumnByID(id uint32) *Column {
	for i := range t.Columns {
		if t.Columns[i].ID == id {
			return &t.Columns[i]
		}
	}
	return nil
}

// SetTableIndexes installs the index list of t (a definition committed by
// an index operation) into the cached table with t's id, keeping the rest
// of the cached definition: an ALTER installed meanwhile stays. Index
// operations keep the schema version, so the cache version is bumped for
// readers that plan from it.
func (c *Cache) SetTableIndexes(t *Table) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.byID[t.ID]
	if !ok {
		return
	}
	cp := *cur
	cp.Indexes, cp.NextIndexID = append([]Index(nil), t.Indexes...), t.NextIndexID
	c.version.Add(1)
	c.tables[cp.QualifiedName()] = &cp
	c.byID[cp.ID] = &cp
}
