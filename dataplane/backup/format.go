package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
)

// FormatVersion is the backup format this code writes and the newest it
// restores. Bump it on any change older readers would misread.
const FormatVersion = 1

// Object key names inside a target.
const (
	objectsDir   = "objects"
	backupsDir   = "backups"
	manifestName = "manifest.json"
	startedName  = "started.json"
	failedName   = "failed.json"
)

// Scope values of a manifest.
const (
	ScopeDatabase        = "database"
	scopeNamespacePrefix = "namespace:"
)

// NamespaceScope is the scope string of a namespace backup.
func NamespaceScope(ns string) string { return scopeNamespacePrefix + ns }

// Statuses reported by List.
const (
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusIncomplete = "incomplete"
)

// ObjectRef names one object of a backup with its size and SHA-256.
type ObjectRef struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// GroupMark is one group's position in the backup's snapshot: every row
// of the group with _seq <= LastSeq is in the backup, none after it.
type GroupMark struct {
	Group        uint16 `json:"group"`
	AppliedIndex uint64 `json:"applied_index"`
	LastSeq      uint64 `json:"last_seq"`
}

// Manifest is a complete backup. It is the last object a backup writes.
type Manifest struct {
	FormatVersion int    `json:"format_version"`
	BackupID      string `json:"backup_id"`
	Scope         string `json:"scope"`
	ServerVersion string `json:"server_version"`
	StartedAt     int64  `json:"started_at"`
	FinishedAt    int64  `json:"finished_at"`
	// ClusterBarrier: taken on a replica of a replicated cluster after a
	// ReadIndex barrier on every Raft group, so it holds every write
	// acknowledged (by any replica) before StartedAt. Absent on a single
	// node, whose snapshot holds every acknowledged write anyway.
	ClusterBarrier bool `json:"cluster_barrier,omitempty"`
	// Groups is the snapshot's applied index and last _seq per group.
	Groups []GroupMark `json:"groups"`
	// SeqHighWater is the largest _seq of any group in the snapshot.
	SeqHighWater uint64 `json:"seq_high_water"`
	// Catalog is the CatalogImage object.
	Catalog ObjectRef    `json:"catalog"`
	Tables  []TableEntry `json:"tables"`
	// Objects lists every object the backup needs (catalog, row chunks,
	// segments), once each.
	Objects       []ObjectRef `json:"objects"`
	SizeBytes     int64       `json:"size_bytes"`
	BytesUploaded int64       `json:"bytes_uploaded"`
	BytesReused   int64       `json:"bytes_reused"`
	Rows          int64       `json:"hot_rows"`
}

// TableEntry holds where one table's data is.
type TableEntry struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	// SourceID is the table id on the source (informational: restore
	// assigns a new one).
	SourceID uint32 `json:"source_id"`
	// Hot is the table's hot rows as row chunks, in key order.
	Hot []ObjectRef `json:"hot,omitempty"`
	// Cold is the committed cold state of every scope with segments.
	Cold []ColdScope `json:"cold,omitempty"`
	// StreamCutoffSeq: STREAM rows below it had expired at backup time
	// and were left out.
	StreamCutoffSeq uint64 `json:"stream_cutoff_seq,omitempty"`
}

// QualifiedName is "namespace.table".
func (t *TableEntry) QualifiedName() string { return t.Namespace + "." + t.Name }

// ColdScope is one scope's cold segments as of the snapshot.
type ColdScope struct {
	// User is the scope's user ("" for SHARED tables).
	User string `json:"user,omitempty"`
	// ManifestVersion is the cold manifest version the pointer named.
	ManifestVersion uint64 `json:"manifest_version"`
	// Manifest is a copy of that cold manifest object (informational:
	// restore uses Segments).
	Manifest ObjectRef     `json:"manifest"`
	Segments []ColdSegment `json:"segments"`
}

// ColdSegment is one Parquet segment: its object in the backup and the
// cold manifest's description of it (columns by stable id, key range).
type ColdSegment struct {
	Object  ObjectRef    `json:"object"`
	Segment cold.Segment `json:"segment"`
}

// CatalogImage is the catalog as of the snapshot.
type CatalogImage struct {
	Namespaces []*catalog.Namespace `json:"namespaces"`
	Tables     []TableImage         `json:"tables"`
	Users      []*catalog.User      `json:"users"`
	Storages   []*catalog.Storage   `json:"storages"`
}

// TableImage is a table's latest definition plus every schema version.
type TableImage struct {
	Latest   *catalog.Table   `json:"latest"`
	Versions []*catalog.Table `json:"versions"`
}

// ObjectKey is the content-addressed key of data with SHA-256 hex h.
func ObjectKey(h string) string { return path.Join(objectsDir, h[:2], h) }

// ManifestKey is the manifest object of backup id.
func ManifestKey(id string) string { return path.Join(backupsDir, id, manifestName) }

func startedKey(id string) string { return path.Join(backupsDir, id, startedName) }
func failedKey(id string) string  { return path.Join(backupsDir, id, failedName) }

// hashOf returns the SHA-256 hex of data.
func hashOf(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// ValidateID checks a backup id: letters, digits, '-', '_' and '.', not
// starting with '.', at most 128 bytes (it becomes an object key segment).
func ValidateID(id string) error {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return fmt.Errorf("invalid backup id %q", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("invalid backup id %q", id)
		}
	}
	return nil
}

// ErrNewerFormat reports a backup written by a newer server.
var ErrNewerFormat = errors.New("backup format is newer than this server")

// DecodeManifest parses a manifest object; key names it in errors.
func DecodeManifest(key string, data []byte) (*Manifest, error) {
	var probe struct {
		FormatVersion int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("corrupt backup manifest: %w", err)}
	}
	if probe.FormatVersion > FormatVersion {
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("%w: format version %d, this server reads up to %d", ErrNewerFormat, probe.FormatVersion, FormatVersion)}
	}
	if probe.FormatVersion < 1 {
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("corrupt backup manifest: format version %d", probe.FormatVersion)}
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("corrupt backup manifest: %w", err)}
	}
	return &m, nil
}

// ObjectError is a problem with one object of a backup; the message names
// the object so an operator knows what to look at.
type ObjectError struct {
	Key string
	Err error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("backup object %s: %v", e.Key, e.Err) }

// Unwrap returns the cause.
func (e *ObjectError) Unwrap() error { return e.Err }

// Row chunks hold hot rows of one table: the magic, then records of
//
//	uvarint len(user) | user | uvarint len(pk) | pk | uvarint len(row) | row
//
// where pk is the order-preserving key encoding (package keys) and row the
// rowcodec value with its original _seq, deleted flag and schema version.
var chunkMagic = []byte("KBROWS\x01\n")

// chunkWriter accumulates one row chunk.
type chunkWriter struct {
	buf  bytes.Buffer
	rows int64
}

// recordLen is how many bytes add(user, pk, row) appends to a non-empty
// chunk.
func recordLen(user string, pk, row []byte) int {
	n := 0
	for _, l := range []int{len(user), len(pk), len(row)} {
		n += uvarintLen(uint64(l)) + l
	}
	return n
}

func uvarintLen(x uint64) int {
	var tmp [binary.MaxVarintLen64]byte
	return binary.PutUvarint(tmp[:], x)
}

// fits reports whether a record of n bytes can join the chunk without it
// exceeding limit bytes; an empty chunk takes any record (a row larger
// than the limit gets a chunk of its own).
func (w *chunkWriter) fits(n, limit int) bool {
	return w.buf.Len() == 0 || w.buf.Len()+n <= limit
}

func (w *chunkWriter) add(user string, pk, row []byte) {
	if w.buf.Len() == 0 {
		w.buf.Write(chunkMagic)
	}
	var tmp [binary.MaxVarintLen64]byte
	for _, part := range [][]byte{[]byte(user), pk, row} {
		n := binary.PutUvarint(tmp[:], uint64(len(part)))
		w.buf.Write(tmp[:n])
		w.buf.Write(part)
	}
	w.rows++
}

// chunkRecord is one decoded hot row.
type chunkRecord struct {
	User    string
	PK, Row []byte
}

// decodeChunk parses a row chunk.
func decodeChunk(data []byte) ([]chunkRecord, error) {
	if !bytes.HasPrefix(data, chunkMagic) {
		if strings.HasPrefix(string(data), "KBROWS") {
			return nil, fmt.Errorf("%w: row chunk version %d", ErrNewerFormat, data[6])
		}
		return nil, fmt.Errorf("not a row chunk")
	}
	data = data[len(chunkMagic):]
	var out []chunkRecord
	for len(data) > 0 {
		var parts [3][]byte
		for i := range parts {
			n, k := binary.Uvarint(data)
			if k <= 0 || uint64(len(data)-k) < n {
				return nil, fmt.Errorf("truncated row chunk")
			}
			parts[i] = data[k : k+int(n)]
			data = data[k+int(n):]
		}
		out = append(out, chunkRecord{User: string(parts[0]), PK: parts[1], Row: parts[2]})
	}
	return out, nil
}
