package backup

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// Target is a parsed backup location.
type Target struct {
	// StorageID is set for s3://<storage-id>/<prefix> targets.
	StorageID string
	// Prefix is the key prefix under the storage's base ("" = its root).
	Prefix string
	// Path is set for local directory targets (absolute).
	Path string
}

// String renders the target as it is written in SQL.
func (t Target) String() string {
	if t.Path != "" {
		return t.Path
	}
	if t.Prefix == "" {
		return "s3://" + t.StorageID
	}
	return "s3://" + t.StorageID + "/" + t.Prefix
}

// ParseTarget parses s3://<storage-id>/<prefix>, an absolute local path or
// file:///abs/path.
func ParseTarget(s string) (Target, error) {
	switch {
	case strings.HasPrefix(s, "s3://"):
		rest := strings.TrimPrefix(s, "s3://")
		id, prefix, _ := strings.Cut(rest, "/")
		if id == "" {
			return Target{}, fmt.Errorf("backup target %q names no storage (want s3://<storage-id>/<prefix>)", s)
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return Target{}, fmt.Errorf("backup target %q: invalid storage id %q", s, id)
			}
		}
		prefix = strings.Trim(prefix, "/")
		if prefix != "" {
			if _, err := objstore.CleanKey(prefix); err != nil {
				return Target{}, fmt.Errorf("backup target %q: %w", s, err)
			}
		}
		return Target{StorageID: id, Prefix: prefix}, nil
	case strings.HasPrefix(s, "file://"):
		p := strings.TrimPrefix(s, "file://")
		if !filepath.IsAbs(p) {
			return Target{}, fmt.Errorf("backup target %q: file:// needs an absolute path (file:///abs/path)", s)
		}
		return Target{Path: filepath.Clean(p)}, nil
	case filepath.IsAbs(s):
		return Target{Path: filepath.Clean(s)}, nil
	}
	return Target{}, fmt.Errorf("backup target %q must be s3://<storage-id>/<prefix>, an absolute path or file:///abs/path", s)
}

// Stores resolves storage ids (system.storages) to object stores rooted
// at the storage's base.
type Stores interface {
	Store(id string) (objstore.Store, error)
}

// Open returns the object store of a target.
func (t Target) Open(stores Stores) (objstore.Store, error) {
	if t.Path != "" {
		return objstore.NewFS(t.Path)
	}
	if stores == nil {
		return nil, fmt.Errorf("backup target %s: no storages are configured", t)
	}
	st, err := stores.Store(t.StorageID)
	if err != nil {
		return nil, fmt.Errorf("backup target %s: %w", t, err)
	}
	if t.Prefix == "" {
		return st, nil
	}
	return &prefixed{s: st, p: t.Prefix + "/"}, nil
}

// prefixed is a Store under a key prefix of another.
type prefixed struct {
	s objstore.Store
	p string
}

func (p *prefixed) key(k string) (string, error) {
	if _, err := objstore.CleanKey(k); err != nil {
		return "", err
	}
	return p.p + k, nil
}

func (p *prefixed) Put(ctx context.Context, key string, data []byte) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return p.s.Put(ctx, k, data)
}

func (p *prefixed) Get(ctx context.Context, key string) ([]byte, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, err
	}
	return p.s.Get(ctx, k)
}

func (p *prefixed) Delete(ctx context.Context, key string) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return p.s.Delete(ctx, k)
}

func (p *prefixed) List(ctx context.Context, prefix string) ([]objstore.Object, error) {
	list, err := p.s.List(ctx, p.p+prefix)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Key = strings.TrimPrefix(list[i].Key, p.p)
	}
	return list, nil
}

func (p *prefixed) String() string { return p.s.String() + p.p }
