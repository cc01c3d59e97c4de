// Package cold is the cold tier's file format: immutable Parquet segments
// (one scope's rows, sorted by primary key) and immutable manifest
// versions listing a scope's live segments. A scope is a SHARED table or
// one user of a USER table.
//
// Invariants:
//   - Objects are never modified once a committed manifest references
//     them. A flush or compaction writes new segment objects, then a NEW
//     manifest version object (manifest-<version>.json), and only then is
//     the version made current by an engine command in the scope's data
//     group (package engine, ColdCommit). An object that no committed
//     manifest references is an orphan: invisible to readers, deleted by
//     the janitor after a grace period.
//   - manifest.json next to the versions is a convenience mirror for
//     humans and external tools; the engine's pointer is authoritative.
//   - Rows inside a segment are sorted by encoded primary key with one row
//     per key (the newest version the writer saw). A segment may hold
//     tombstones (_deleted = true) that hide older segments' rows; a
//     compaction of all of a scope's segments drops them.
//   - For one key, a newer segment (higher MaxSeq) always holds the higher
//     _seq, and any hot-tier row is newer than every cold row: readers
//     still compare _seq, so correctness does not depend on file order.
package cold

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// FormatVersion is the manifest format written by this code.
const FormatVersion = 1

// Manifest lists the live segments of one scope.
type Manifest struct {
	FormatVersion int    `json:"format_version"`
	TableID       uint32 `json:"table_id"`
	Namespace     string `json:"namespace"`
	Table         string `json:"table"`
	// UserID is the scope's user for USER tables, "" for SHARED tables.
	UserID string `json:"user_id,omitempty"`
	// Version increases by one with every committed change.
	Version   uint64 `json:"version"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
	// LastSeq is the highest _seq in any segment.
	LastSeq uint64 `json:"last_sequence_number"`
	// NextSegment numbers the next batch-N.parquet of this scope.
	NextSegment uint64    `json:"next_segment"`
	Segments    []Segment `json:"segments"`
}

// Segment describes one Parquet file.
type Segment struct {
	ID uint64 `json:"id"`
	// Path is the object key relative to the storage base.
	Path          string   `json:"path"`
	MinSeq        uint64   `json:"min_seq"`
	MaxSeq        uint64   `json:"max_seq"`
	RowCount      int64    `json:"row_count"`
	Tombstones    int64    `json:"tombstones"`
	SizeBytes     int64    `json:"size_bytes"`
	MinPK         []byte   `json:"min_pk"`
	MaxPK         []byte   `json:"max_pk"`
	SchemaVersion uint32   `json:"schema_version"`
	Columns       []Column `json:"columns"`
	// PKColumn is the column id of the primary key.
	PKColumn    uint32                `json:"pk_column"`
	ColumnStats map[string]ColumnStat `json:"column_stats,omitempty"`
	Compression string                `json:"compression"`
	CreatedAt   int64                 `json:"created_at"`
	Status      string                `json:"status"`
	// SHA256 is the hex SHA-256 of the file, recorded when it is written
	// so backups can skip reading segments the target already holds.
	// Empty in manifests written before it existed (they are hashed).
	SHA256 string `json:"sha256,omitempty"`
}

// ColumnStat is a column's min/max/null count in one segment (min/max
// omitted for booleans and binary values).
type ColumnStat struct {
	Min any `json:"min,omitempty"`
	Max any `json:"max,omitempty"`
	// NullCount counts every NULL, tombstone rows included (a tombstone
	// stores only its key).
	NullCount int64 `json:"null_count"`
	// TombstoneNulls is the part of NullCount in tombstone rows, so
	// NullCount - TombstoneNulls counts the live rows' NULLs. Manifests
	// written before it existed read 0: every NULL may be live, which
	// only costs a read (nullstats.go).
	TombstoneNulls int64 `json:"tombstone_nulls,omitempty"`
}

// Column is one user column as stored in a segment: the stable column id
// maps it to the table's current schema after renames.
type Column struct {
	ID   uint32        `json:"id"`
	Name string        `json:"name"`
	Kind datatype.Kind `json:"kind"`
}

// Schema is what the writer needs of a table.
type Schema struct {
	Columns []Column
	// PK is the position of the primary-key column.
	PK      int
	Version uint32
	// Missing, when set, holds per position the value a hot row stored
	// before AddedIn[position] gets for a column it lacks (ADD COLUMN
	// ... DEFAULT v); the flush writes it so the segment reads as the
	// hot row did.
	Missing []any
	AddedIn []uint32
}

// MayContain reports whether the segment's key range holds pk.
func (s *Segment) MayContain(pk []byte) bool {
	return string(pk) >= string(s.MinPK) && string(pk) <= string(s.MaxPK)
}

// Overlaps reports whether the segment's key range meets [lo, hi) (nil
// bounds are open).
func (s *Segment) Overlaps(lo, hi []byte) bool {
	if lo != nil && string(s.MaxPK) < string(lo) {
		return false
	}
	if hi != nil && string(s.MinPK) >= string(hi) {
		return false
	}
	return true
}

// Encode renders the manifest as JSON.
func (m *Manifest) Encode() ([]byte, error) { return json.MarshalIndent(m, "", "  ") }

// DecodeManifest parses a manifest object.
func DecodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("corrupt manifest: %w", err)
	}
	if m.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("manifest format %d is newer than this server (%d)", m.FormatVersion, FormatVersion)
	}
	sort.Slice(m.Segments, func(i, j int) bool { return m.Segments[i].ID < m.Segments[j].ID })
	return &m, nil
}

// Clone returns a deep-enough copy to append or replace segments.
func (m *Manifest) Clone() *Manifest {
	c := *m
	c.Segments = append([]Segment(nil), m.Segments...)
	return &c
}

// Object names inside a scope directory.

// ManifestKey is the immutable object of one manifest version.
func ManifestKey(scopeDir string, version uint64) string {
	return TaggedManifestKey(scopeDir, version, "")
}

// TaggedManifestKey is ManifestKey with a writer tag in the name (""
// gives ManifestKey). Replicated nodes tag every write with a fresh tag so
// that two nodes flushing the same scope at once (a deposed leader and its
// successor) never overwrite each other's objects: the loser of the
// pointer's compare-and-set leaves only orphans.
func TaggedManifestKey(scopeDir string, version uint64, tag string) string {
	if tag != "" {
		return path.Join(scopeDir, fmt.Sprintf("manifest-%020d-%s.json", version, tag))
	}
	return path.Join(scopeDir, fmt.Sprintf("manifest-%020d.json", version))
}

// MirrorKey is the scope's manifest.json convenience copy.
func MirrorKey(scopeDir string) string { return path.Join(scopeDir, "manifest.json") }

// SegmentKey is the object of segment n.
func SegmentKey(scopeDir string, n uint64) string { return TaggedSegmentKey(scopeDir, n, "") }

// TaggedSegmentKey is SegmentKey with a writer tag (see TaggedManifestKey).
func TaggedSegmentKey(scopeDir string, n uint64, tag string) string {
	if tag != "" {
		return path.Join(scopeDir, "batch-"+strconv.FormatUint(n, 10)+"-"+tag+".parquet")
	}
	return path.Join(scopeDir, "batch-"+strconv.FormatUint(n, 10)+".parquet")
}

// IsColdObject reports whether key is an object this package writes (the
// janitor only ever deletes such objects).
func IsColdObject(key string) bool {
	base := path.Base(key)
	switch {
	case strings.HasPrefix(base, "batch-") && strings.HasSuffix(base, ".parquet"):
		return true
	case strings.HasPrefix(base, "manifest-") && strings.HasSuffix(base, ".json"):
		return true
	case base == "manifest.json":
		return true
	case strings.Contains(base, ".tmp-"):
		return true
	}
	return false
}
