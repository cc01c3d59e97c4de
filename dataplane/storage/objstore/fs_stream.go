package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// PutStream copies r into key.tmp-<random>, fsyncs it, renames it over key
// and fsyncs the directory (same crash safety as Put, constant memory).
func (f *FS) PutStream(ctx context.Context, key string, r io.Reader, size int64) error {
	return f.writeAtomic(ctx, key, func(fh *os.File) error {
		n, err := io.Copy(fh, ctxReader{ctx, r})
		if err == nil && size >= 0 && n != size {
			err = fmt.Errorf("copied %d bytes, expected %d", n, size)
		}
		return err
	})
}

// GetStream opens the object's file.
func (f *FS) GetStream(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("while opening %s: %w", p, err)
	}
	return fh, nil
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// fsCondMu serialises conditional puts of FS stores in this process; the
// filesystem has no compare-and-swap, so two PROCESSES sharing a directory
// still race between the check and the rename (documented best effort).
var fsCondMu sync.Mutex

// fsETag is the SHA-256 of the content: it changes whenever it does.
func fsETag(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// GetETag reads key and returns a content hash as its ETag.
func (f *FS) GetETag(ctx context.Context, key string) ([]byte, string, error) {
	data, err := f.Get(ctx, key)
	if err != nil {
		return nil, "", err
	}
	return data, fsETag(data), nil
}

// PutIf implements Conditional with an in-process lock (best effort
// across processes, see fsCondMu).
func (f *FS) PutIf(ctx context.Context, key string, data []byte, ifMatch string) (string, error) {
	fsCondMu.Lock()
	defer fsCondMu.Unlock()
	cur, err := f.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		if ifMatch != "" {
			return "", fmt.Errorf("%w: %s does not exist", ErrPreconditionFailed, key)
		}
	case err != nil:
		return "", err
	case ifMatch == "" || fsETag(cur) != ifMatch:
		return "", fmt.Errorf("%w: %s changed", ErrPreconditionFailed, key)
	}
	if err := f.Put(ctx, key, data); err != nil {
		return "", err
	}
	return fsETag(data), nil
}
