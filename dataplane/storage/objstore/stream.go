package objstore

// Streaming access: objects larger than what a caller wants to hold in
// memory (backup copies of Parquet segments, restore reads) go through
// PutStream/GetStream instead of Put/Get.
//
// Invariants:
//   - PutStream is atomic like Put: a reader sees no object or the whole
//     object (filesystem: tmp + fsync + rename; S3: a single PUT, or a
//     multipart upload that S3 only makes visible on completion).
//   - PutStream retries an attempt only when the reader can be rewound
//     (io.Seeker); a plain stream gets one attempt, since its bytes are
//     gone once sent.
//   - GetStream retries opening the object; an error in the middle of the
//     body is returned to the reader (the caller decides to start over).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// StreamStore is a Store that can move objects without holding them in
// memory. Both built-in stores (FS, S3) implement it; wrappers that do not
// are served by the package functions PutStream/GetStream through Put/Get.
type StreamStore interface {
	Store
	// PutStream stores size bytes read from r under key atomically. size
	// must be exact (-1 only if unknown: S3 then always uses multipart).
	PutStream(ctx context.Context, key string, r io.Reader, size int64) error
	// GetStream opens the object for reading; the caller closes it.
	GetStream(ctx context.Context, key string) (io.ReadCloser, error)
}

// PutStream stores r under key through st's streaming path when it has
// one, else reads r whole and calls Put.
func PutStream(ctx context.Context, st Store, key string, r io.Reader, size int64) error {
	if ss, ok := st.(StreamStore); ok {
		return ss.PutStream(ctx, key, r, size)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("while reading data for %s: %w", key, err)
	}
	if size >= 0 && int64(len(data)) != size {
		return fmt.Errorf("while storing %s: read %d bytes, expected %d", key, len(data), size)
	}
	return st.Put(ctx, key, data)
}

// GetStream opens key through st's streaming path when it has one, else
// reads it whole with Get.
func GetStream(ctx context.Context, st Store, key string) (io.ReadCloser, error) {
	if ss, ok := st.(StreamStore); ok {
		return ss.GetStream(ctx, key)
	}
	data, err := st.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// HashReader computes the SHA-256 and length of everything read through
// it, so an object is checked while it streams (no second read).
type HashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

// NewHashReader wraps r.
func NewHashReader(r io.Reader) *HashReader { return &HashReader{r: r, h: sha256.New()} }

func (h *HashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.h.Write(p[:n])
		h.n += int64(n)
	}
	return n, err
}

// Sum is the SHA-256 hex of the bytes read so far.
func (h *HashReader) Sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// N is the number of bytes read so far.
func (h *HashReader) N() int64 { return h.n }

// ErrPreconditionFailed reports a conditional put that found the object
// in another state than required (it exists, or its ETag changed).
var ErrPreconditionFailed = errors.New("object precondition failed")

// ErrConditionalUnsupported reports a store without conditional puts.
var ErrConditionalUnsupported = errors.New("conditional put not supported")

// Conditional is a store that can create an object only if it is absent
// or replace it only if it is unchanged (leases, compare-and-swap).
type Conditional interface {
	// PutIf stores data under key when the object's current ETag is
	// ifMatch ("" = only if the key does not exist) and returns the new
	// ETag; otherwise it fails with ErrPreconditionFailed.
	PutIf(ctx context.Context, key string, data []byte, ifMatch string) (etag string, err error)
	// GetETag returns the object with its ETag.
	GetETag(ctx context.Context, key string) ([]byte, string, error)
}
