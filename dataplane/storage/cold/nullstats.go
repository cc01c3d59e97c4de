package cold

// This file answers "may this segment hold a live row whose column reads
// NULL?" from the manifest entry alone, so that ALTER COLUMN ... SET NOT
// NULL does not read Parquet files whose statistics already prove there is
// no NULL.
//
// Invariants relied on:
//   - ColumnStat.NullCount and TombstoneNulls are exact counts over the file's
//     rows, written with the file and never changed (segments are
//     immutable).
//   - A segment without column id was written under a schema version that
//     predates the column: every row of it reads the column's missing value
//     (catalog.Projection.Fill with the segment's SchemaVersion).
//   - "No" is conclusive for the segment whatever newer segments or hot
//     rows hold: a row superseded by a newer version does not count, and
//     the newest version of a key is in some segment (or hot). "Maybe" is
//     not: the NULL rows may be superseded or hidden, so the caller reads
//     the key range of such segments merged with every overlapping one.

// MayHoldLiveNull reports whether a non-tombstone row of the segment may
// read NULL in column id. fill is the value the column reads in a segment
// written before the column existed (nil: NULL).
func (s *Segment) MayHoldLiveNull(id uint32, fill any) bool {
	has := false
	for _, c := range s.Columns {
		if c.ID == id {
			has = true
			break
		}
	}
	if !has {
		return fill == nil && s.RowCount > s.Tombstones
	}
	st, ok := s.Stat(id)
	if !ok {
		// Manifest without statistics: unknown.
		return true
	}
	// Before TombstoneNulls existed it reads 0: tombstones' NULLs then
	// count as maybe-live, and the caller reads the file.
	return st.NullCount-st.TombstoneNulls > 0
}
