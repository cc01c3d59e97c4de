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
