package backup

// Streaming reads of backup objects. Every object is hashed while it is
// read and checked against its manifest entry (size and SHA-256) at its
// end, in the verify pass AND again in the write pass, so an object that
// changes between the two passes is detected (restore then rolls back).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// openVerified opens ref for streaming; check() compares what was read
// with the manifest once the caller has read to EOF.
func openVerified(ctx context.Context, st objstore.Store, ref ObjectRef) (io.ReadCloser, *objstore.HashReader, error) {
	rc, err := objstore.GetStream(ctx, st, ref.Key)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil, &ObjectError{Key: ref.Key, Err: errors.New("missing")}
	}
	if err != nil {
		return nil, nil, &ObjectError{Key: ref.Key, Err: err}
	}
	return rc, objstore.NewHashReader(rc), nil
}

// checkRead compares the bytes hashed by hr with ref.
func checkRead(ref ObjectRef, hr *objstore.HashReader) error {
	if hr.N() != ref.Size {
		return &ObjectError{Key: ref.Key, Err: fmt.Errorf("size %d, manifest says %d (truncated or replaced)", hr.N(), ref.Size)}
	}
	if h := hr.Sum(); h != ref.SHA256 {
		return &ObjectError{Key: ref.Key, Err: fmt.Errorf("SHA-256 %s, manifest says %s (corrupt)", h, ref.SHA256)}
	}
	return nil
}

// getVerified reads one object whole (catalog, Parquet segments: the
// decoders need the bytes) and checks its size and SHA-256.
func getVerified(ctx context.Context, st objstore.Store, ref ObjectRef) ([]byte, error) {
	rc, hr, err := openVerified(ctx, st, ref)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// Read at most one byte more than expected: a replaced, larger object
	// cannot make us buffer it all.
	var buf bytes.Buffer
	buf.Grow(int(min(ref.Size+1, 64<<20)))
	if _, err := io.Copy(&buf, io.LimitReader(hr, ref.Size+1)); err != nil {
		return nil, &ObjectError{Key: ref.Key, Err: err}
	}
	if err := checkRead(ref, hr); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// chunkStream reads the records of a sequence of row chunks one at a
// time, verifying each chunk object at its end.
type chunkStream struct {
	ctx  context.Context
	st   objstore.Store
	refs []ObjectRef
	next int
	// current object
	ref ObjectRef
	rc  io.ReadCloser
	hr  *objstore.HashReader
	br  *bufio.Reader
	// rec is the current record (valid while ok).
	rec chunkRecord
	ok  bool
	// rows counts records read.
	rows int64
}

func newChunkStream(ctx context.Context, st objstore.Store, refs []ObjectRef) *chunkStream {
	return &chunkStream{ctx: ctx, st: st, refs: refs}
}

// Next moves to the next record; it returns false at the end (err nil) or
// on an error.
func (c *chunkStream) Next() (bool, error) {
	for {
		if c.br == nil {
			if c.next >= len(c.refs) {
				c.ok = false
				return false, nil
			}
			if err := c.open(c.refs[c.next]); err != nil {
				c.ok = false
				return false, err
			}
			c.next++
		}
		rec, err := readRecord(c.br)
		if err == io.EOF {
			if err := c.finish(); err != nil {
				c.ok = false
				return false, err
			}
			continue
		}
		if err != nil {
			c.Close()
			c.ok = false
			return false, &ObjectError{Key: c.ref.Key, Err: err}
		}
		c.rec, c.ok = rec, true
		c.rows++
		return true, nil
	}
}

func (c *chunkStream) open(ref ObjectRef) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	rc, hr, err := openVerified(c.ctx, c.st, ref)
	if err != nil {
		return err
	}
	c.ref, c.rc, c.hr = ref, rc, hr
	c.br = bufio.NewReaderSize(io.LimitReader(hr, ref.Size+1), 64<<10)
	magic := make([]byte, len(chunkMagic))
	if _, err := io.ReadFull(c.br, magic); err != nil {
		c.Close()
		return &ObjectError{Key: ref.Key, Err: fmt.Errorf("not a row chunk: %w", err)}
	}
	if !bytes.Equal(magic, chunkMagic) {
		c.Close()
		if bytes.HasPrefix(magic, []byte("KBROWS")) {
			return &ObjectError{Key: ref.Key, Err: fmt.Errorf("%w: row chunk version %d", ErrNewerFormat, magic[6])}
		}
		return &ObjectError{Key: ref.Key, Err: errors.New("not a row chunk")}
	}
	return nil
}

// finish checks the object just read to its end.
func (c *chunkStream) finish() error {
	err := checkRead(c.ref, c.hr)
	c.Close()
	return err
}

// Close releases the current object.
func (c *chunkStream) Close() {
	if c.rc != nil {
		c.rc.Close()
	}
	c.rc, c.hr, c.br = nil, nil, nil
}

// readRecord reads one (user, pk, row) record; io.EOF at a clean end.
func readRecord(br *bufio.Reader) (chunkRecord, error) {
	var parts [3][]byte
	for i := range parts {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			if i == 0 && err == io.EOF {
				return chunkRecord{}, io.EOF
			}
			return chunkRecord{}, errors.New("truncated row chunk")
		}
		if n > maxRecordPart {
			return chunkRecord{}, fmt.Errorf("corrupt row chunk: record part of %d bytes", n)
		}
		parts[i] = make([]byte, n)
		if _, err := io.ReadFull(br, parts[i]); err != nil {
			return chunkRecord{}, errors.New("truncated row chunk")
		}
	}
	return chunkRecord{User: string(parts[0]), PK: parts[1], Row: parts[2]}, nil
}
