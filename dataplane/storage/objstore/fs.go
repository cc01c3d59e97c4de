package objstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FS is a Store on a local (or mounted) filesystem under Root.
type FS struct {
	Root string
}

// NewFS returns a filesystem store rooted at root (created on first Put).
func NewFS(root string) (*FS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("while resolving storage path %s: %w", root, err)
	}
	return &FS{Root: abs}, nil
}

func (f *FS) String() string { return "filesystem:" + f.Root }

func (f *FS) path(key string) (string, error) {
	if _, err := CleanKey(key); err != nil {
		return "", err
	}
	p := filepath.Join(f.Root, filepath.FromSlash(key))
	// CleanKey already forbids "..": this is defence in depth.
	if !strings.HasPrefix(p, f.Root+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %q escapes %s", ErrInvalidKey, key, f.Root)
	}
	return p, nil
}

// Put writes key.tmp-<random>, fsyncs it, renames it over key and fsyncs
// the directory, so a crash leaves either the old object or the new one
// (plus at worst a stray tmp file that List reports and a janitor removes).
func (f *FS) Put(ctx context.Context, key string, data []byte) error {
	return f.writeAtomic(ctx, key, func(fh *os.File) error {
		_, err := fh.Write(data)
		return err
	})
}

// writeAtomic is the crash-safe write shared by Put and PutStream: write
// fills key.tmp-<random>, which is fsynced, renamed over key, and the
// directory fsynced. On any failure the tmp file is removed.
func (f *FS) writeAtomic(ctx context.Context, key string, write func(fh *os.File) error) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("while creating %s: %w", dir, err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := p + ".tmp-" + hex.EncodeToString(rnd[:])
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("while creating %s: %w", tmp, err)
	}
	werr := write(fh)
	if werr == nil {
		werr = fh.Sync()
	}
	if cerr := fh.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("while writing %s: %w", tmp, werr)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("while renaming %s: %w", tmp, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("while syncing %s: %w", dir, err)
	}
	return nil
}

// Get reads the whole object.
func (f *FS) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("while reading %s: %w", p, err)
	}
	return data, nil
}

// Delete removes the object and, best effort, directories left empty.
func (f *FS) Delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("while deleting %s: %w", p, err)
	}
	for dir := filepath.Dir(p); dir != f.Root && strings.HasPrefix(dir, f.Root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List walks the directory holding prefix and returns matching objects.
func (f *FS) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := cleanPrefix(prefix); err != nil {
		return nil, err
	}
	start := f.Root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(f.Root, filepath.FromSlash(prefix[:i]))
	}
	var out []Object
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(f.Root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, Object{Key: key, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while listing %s: %w", start, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
