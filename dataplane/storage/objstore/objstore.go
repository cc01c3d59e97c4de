// Package objstore is the cold tier's object store: a flat namespace of
// immutable objects addressed by slash-separated keys, on a local
// filesystem or on S3-compatible storage.
//
// Invariants:
//   - Keys are validated by CleanKey before any I/O: relative, slash
//     separated, no empty, "." or ".." segment, no backslash or NUL. No key
//     can therefore escape the store's base directory or bucket prefix.
//   - Put is atomic: a reader sees either no object or the whole object
//     (filesystem: write a unique *.tmp, fsync, rename, fsync the
//     directory; S3: a single PUT is atomic by protocol).
//   - Every remote call runs under a per-attempt timeout and is retried
//     with exponential backoff (Retry) unless the error is permanent
//     (ErrNotFound, ErrInvalidKey, access denied).
//   - The store knows nothing about tables or SQL: callers build keys.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound reports a missing object.
var ErrNotFound = errors.New("object not found")

// ErrInvalidKey reports a key that could escape the store's base.
var ErrInvalidKey = errors.New("invalid object key")

// Object describes one stored object.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is an object store. Implementations are safe for concurrent use.
type Store interface {
	// Put stores data under key atomically, replacing any object there.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the object's bytes, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// String describes the store for messages (never credentials).
	String() string
}

// CleanKey validates key and returns it unchanged. Keys are relative,
// slash-separated paths with no empty, "." or ".." segment.
func CleanKey(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") {
		return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
	}
	return key, nil
}

// cleanPrefix validates a List prefix: "" or a key prefix that ends at a
// segment boundary or inside a valid segment.
func cleanPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	_, err := CleanKey(strings.TrimSuffix(prefix, "/"))
	return err
}
