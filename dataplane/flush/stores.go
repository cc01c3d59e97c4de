package flush

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// storeCache maps storage ids to open object stores, rebuilt when the
// catalog record changes (UpdatedAt).
type storeCache struct {
	mu sync.Mutex
	m  map[string]storeEntry
}

type storeEntry struct {
	rec   catalog.Storage
	store objstore.Store
}

// s3Config is the CONFIG JSON of an s3 storage.
type s3Config struct {
	Endpoint  string `json:"endpoint"`
	PathStyle *bool  `json:"path_style,omitempty"`
	TLS       *bool  `json:"tls,omitempty"`
	CABundle  string `json:"ca_bundle,omitempty"`
	// PartSizeMB is the multipart part size of streamed uploads (backup
	// copies); 0 = objstore.DefaultPartSize, at least 5.
	PartSizeMB int64 `json:"multipart_part_size_mb,omitempty"`
}

// s3Credentials is the CREDENTIALS JSON of an s3 storage.
type s3Credentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token,omitempty"`
}

func strictJSON(what, s string, v any) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid %s JSON: %v", what, err)
	}
	return nil
}

// ValidateStorage checks a storage record and builds its client without
// I/O: types, templates, base directory, S3 settings.
func (m *Manager) ValidateStorage(s *catalog.Storage) error {
	if s.SharedTemplate == "" {
		s.SharedTemplate = cold.DefaultSharedTemplate
	}
	if s.UserTemplate == "" {
		s.UserTemplate = cold.DefaultUserTemplate
	}
	if err := cold.ValidateTemplate(s.SharedTemplate, false); err != nil {
		return err
	}
	if err := cold.ValidateTemplate(s.UserTemplate, true); err != nil {
		return err
	}
	_, err := m.buildStore(s)
	return err
}

// FilesystemBase is the directory a filesystem storage writes under: its
// BASE_DIRECTORY (relative ones under the data directory), or for an empty
// one (the built-in 'local' storage) the configured local base.
func (m *Manager) FilesystemBase(s *catalog.Storage) string {
	base := s.BaseDirectory
	if base == "" {
		base = m.opts.LocalBase
	}
	if !filepath.IsAbs(base) && m.opts.DataDir != "" && s.BaseDirectory != "" {
		base = filepath.Join(m.opts.DataDir, base)
	}
	return base
}

func (m *Manager) buildStore(s *catalog.Storage) (objstore.Store, error) {
	switch s.Type {
	case "filesystem":
		if s.Credentials != "" {
			return nil, fmt.Errorf("filesystem storages take no CREDENTIALS")
		}
		return objstore.NewFS(m.FilesystemBase(s))
	case "s3":
		var cfg s3Config
		if err := strictJSON("CONFIG", s.Config, &cfg); err != nil {
			return nil, err
		}
		var cr s3Credentials
		if err := strictJSON("CREDENTIALS", s.Credentials, &cr); err != nil {
			return nil, err
		}
		o := objstore.S3Options{
			Endpoint: cfg.Endpoint, Bucket: s.Bucket, Prefix: s.BaseDirectory, Region: s.Region,
			PathStyle: true, TLS: true, CABundlePEM: cfg.CABundle,
			AccessKey: cr.AccessKeyID, SecretKey: cr.SecretAccessKey, SessionToken: cr.SessionToken,
			ConnectTimeout: m.opts.ConnectTimeout, Retry: m.opts.Retry,
		}
		if o.Endpoint == "" {
			o.Endpoint = "s3.amazonaws.com"
			o.PathStyle = false
		}
		if cfg.PathStyle != nil {
			o.PathStyle = *cfg.PathStyle
		}
		if cfg.TLS != nil {
			o.TLS = *cfg.TLS
		}
		if o.Region == "" {
			o.Region = "us-east-1"
		}
		if cfg.PartSizeMB != 0 {
			if cfg.PartSizeMB < objstore.MinPartSize>>20 {
				return nil, fmt.Errorf("multipart_part_size_mb must be at least %d", objstore.MinPartSize>>20)
			}
			o.PartSize = cfg.PartSizeMB << 20
		}
		return objstore.NewS3(o)
	}
	return nil, fmt.Errorf("unsupported storage type %q (want 'filesystem' or 's3')", s.Type)
}

// storageRecord reads a storage record from the hot tier.
func storageRecord(r pebble.Reader, id string) (*catalog.Storage, error) {
	v, closer, err := r.Get(keys.Catalog(catalog.RecStorage, id))
	if err == pebble.ErrNotFound {
		return nil, fmt.Errorf("storage '%s' not found", id)
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	var s catalog.Storage
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("corrupt storage record %s: %w", id, err)
	}
	return &s, nil
}

// Store returns the object store and record of a storage id.
func (m *Manager) Store(id string) (objstore.Store, *catalog.Storage, error) {
	rec, err := storageRecord(m.db, id)
	if err != nil {
		return nil, nil, err
	}
	m.stores.mu.Lock()
	defer m.stores.mu.Unlock()
	if e, ok := m.stores.m[id]; ok && e.rec.UpdatedAt == rec.UpdatedAt && e.rec.Config == rec.Config && e.rec.Credentials == rec.Credentials {
		return e.store, rec, nil
	}
	st, err := m.buildStore(rec)
	if err != nil {
		return nil, nil, fmt.Errorf("storage '%s': %w", id, err)
	}
	m.stores.m[id] = storeEntry{rec: *rec, store: st}
	return st, rec, nil
}

// Storages lists every storage record.
func Storages(r pebble.Reader) ([]*catalog.Storage, error) {
	p := keys.CatalogPrefix(catalog.RecStorage)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*catalog.Storage
	for it.First(); it.Valid(); it.Next() {
		var s catalog.Storage
		if err := json.Unmarshal(it.Value(), &s); err != nil {
			return nil, err
		}
		out = append(out, &s)
	}
	return out, it.Error()
}

// CheckStorage probes a storage (STORAGE CHECK).
func (m *Manager) CheckStorage(ctx context.Context, id string) (objstore.CheckResult, error) {
	st, _, err := m.Store(id)
	if err != nil {
		return objstore.CheckResult{}, err
	}
	if fs, ok := st.(*objstore.FS); ok {
		if err := os.MkdirAll(fs.Root, 0o750); err != nil {
			return objstore.CheckResult{Err: err}, nil
		}
	}
	return objstore.Check(ctx, st, ".kalamdb-check/"), nil
}

// scopeDir expands the storage template for one scope.
func scopeDir(rec *catalog.Storage, t *catalog.Table, userID string) (string, error) {
	tmpl := rec.SharedTemplate
	if t.Type.PerUser() {
		tmpl = rec.UserTemplate
	}
	if tmpl == "" {
		tmpl = cold.DefaultSharedTemplate
		if t.Type.PerUser() {
			tmpl = cold.DefaultUserTemplate
		}
	}
	return cold.ExpandTemplate(tmpl, t.Namespace, t.Name, userID)
}
