package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

// exerciseStream runs the streaming and conditional-put contract.
func exerciseStream(t *testing.T, s interface {
	objstore.StreamStore
	objstore.Conditional
}, size int) {
	t.Helper()
	ctx := context.Background()
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	sum := sha256.Sum256(payload)
	// A non-seekable reader: one attempt, streamed.
	if err := s.PutStream(ctx, "big/obj", io.MultiReader(bytes.NewReader(payload)), int64(len(payload))); err != nil {
		t.Fatal(err)
	}
	rc, err := s.GetStream(ctx, "big/obj")
	if err != nil {
		t.Fatal(err)
	}
	hr := objstore.NewHashReader(rc)
	if _, err := io.Copy(io.Discard, hr); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if hr.N() != int64(len(payload)) || hr.Sum() != hex.EncodeToString(sum[:]) {
		t.Fatalf("streamed back %d bytes, sha %s", hr.N(), hr.Sum())
	}
	if _, err := s.GetStream(ctx, "big/missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
	// Conditional puts: create-if-absent, then compare-and-swap.
	e1, err := s.PutIf(ctx, "lock", []byte("a"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIf(ctx, "lock", []byte("b"), ""); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("second create: %v", err)
	}
	_, cur, err := s.GetETag(ctx, "lock")
	if err != nil || cur != e1 {
		t.Fatalf("etag %q %v, want %q", cur, err, e1)
	}
	if _, err := s.PutIf(ctx, "lock", []byte("c"), e1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIf(ctx, "lock", []byte("d"), e1); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("stale swap: %v", err)
	}
}

func TestFilesystemStream(t *testing.T) {
	fs, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	exerciseStream(t, fs, 1<<20)
}

// TestS3MultipartAgainstMinIO: an object above the part size is uploaded
// in parts (MinIO's ETag of a multipart object ends in -<parts>), one
// below it in a single PUT.
func TestS3MultipartAgainstMinIO(t *testing.T) {
	srv, err := s3test.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	o := srv.Options("stream", "p")
	o.PartSize = objstore.MinPartSize
	if _, err := srv.Store(ctx, "stream", "p"); err != nil { // creates the bucket
		t.Fatal(err)
	}
	s, err := objstore.NewS3(o)
	if err != nil {
		t.Fatal(err)
	}
	exerciseStream(t, s, 11<<20) // 11 MiB in 5 MiB parts: 3 parts
	etag, err := s.StatETag(ctx, "big/obj")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(etag, "-3") {
		t.Fatalf("ETag %q: want a 3-part multipart upload", etag)
	}
	if err := s.PutStream(ctx, "small", bytes.NewReader([]byte("tiny")), 4); err != nil {
		t.Fatal(err)
	}
	if etag, _ := s.StatETag(ctx, "small"); strings.Contains(etag, "-") {
		t.Fatalf("small object ETag %q looks multipart", etag)
	}
}
