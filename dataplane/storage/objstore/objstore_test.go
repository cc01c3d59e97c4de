package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

func TestCleanKey(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"ns/t/user/batch-1.parquet", true},
		{".kalamdb-check/probe", true},
		{"", false},
		{"/abs", false},
		{"a/../b", false},
		{"..", false},
		{"a/./b", false},
		{"a//b", false},
		{"a/", false},
		{"a\\b", false},
		{"a\x00b", false},
	} {
		if _, err := objstore.CleanKey(tc.key); (err == nil) != tc.ok {
			t.Errorf("CleanKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
	}
}

// exercise runs the Store contract against any implementation.
func exercise(t *testing.T, s objstore.Store) {
	ctx := context.Background()
	payload := bytes.Repeat([]byte("parquet!"), 100000)
	if err := s.Put(ctx, "ns/t/u1/batch-1.parquet", payload); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "ns/t/u1/manifest.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "ns/t2/batch-1.parquet", []byte("x")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "ns/t/u1/batch-1.parquet")
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	// Overwrite is atomic and complete.
	if err := s.Put(ctx, "ns/t/u1/manifest.json", []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "ns/t/u1/manifest.json"); string(got) != `{"v":2}` {
		t.Fatalf("overwrite: %q", got)
	}
	objs, err := s.List(ctx, "ns/t/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Key != "ns/t/u1/batch-1.parquet" || objs[0].Size != int64(len(payload)) || objs[1].Key != "ns/t/u1/manifest.json" {
		t.Fatalf("list: %+v", objs)
	}
	if _, err := s.Get(ctx, "ns/t/u1/nope"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	for _, bad := range []string{"../escape", "ns/../../etc/passwd", "/etc/passwd"} {
		if err := s.Put(ctx, bad, []byte("x")); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Fatalf("Put(%q) = %v, want ErrInvalidKey", bad, err)
		}
		if _, err := s.Get(ctx, bad); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Fatalf("Get(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
	if err := s.Delete(ctx, "ns/t/u1/batch-1.parquet"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "ns/t/u1/batch-1.parquet"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Get(ctx, "ns/t/u1/batch-1.parquet"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("deleted object: %v", err)
	}
	r := objstore.Check(ctx, s, ".kalamdb-check/")
	if r.Err != nil || !r.Readable || !r.Writable || !r.Listable || !r.Deletable {
		t.Fatalf("check: %+v", r)
	}
}

func TestFilesystemStore(t *testing.T) {
	dir := t.TempDir()
	s, err := objstore.NewFS(filepath.Join(dir, "base"))
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s)
	// Nothing escaped the base directory.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "base" {
		t.Fatalf("files outside base: %v", entries)
	}
}

func TestS3StoreAgainstMinIO(t *testing.T) {
	srv, err := s3test.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	s, err := srv.Store(context.Background(), "objstore-test", "some/prefix")
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s)
	// Keys live under the prefix in the bucket.
	raw, err := srv.Store(context.Background(), "objstore-test", "")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := raw.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if len(o.Key) < 12 || o.Key[:12] != "some/prefix/" {
			t.Fatalf("object outside prefix: %s", o.Key)
		}
	}
	// Server down: calls fail after the bounded retries, quickly.
	srv.Stop()
	start := time.Now()
	err = s.Put(context.Background(), "ns/x", []byte("x"))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("put with server down: %v after %v", err, time.Since(start))
	}
	if !bytes.Contains([]byte(err.Error()), []byte("after 3 attempt(s)")) {
		t.Fatalf("want retries in error, got %v", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(context.Background(), "ns/t/u1/manifest.json"); err != nil || string(got) != `{"v":2}` {
		t.Fatalf("after restart: %q %v", got, err)
	}
	// Bad credentials are permanent: no retry loop.
	o := srv.Options("objstore-test", "")
	o.SecretKey = "wrong-secret-key"
	bad, err := objstore.NewS3(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Get(context.Background(), "ns/t/u1/manifest.json"); err == nil {
		t.Fatal("wrong credentials accepted")
	}
}

func TestRetryStopsOnPermanentAndContext(t *testing.T) {
	p := objstore.RetryPolicy{Attempts: 5, Timeout: time.Second, Backoff: time.Millisecond}
	calls := 0
	err := objstore.Retry(context.Background(), p, "op", func(context.Context) error {
		calls++
		return objstore.Permanent(errors.New("denied"))
	})
	if calls != 1 || err == nil || err.Error() != "denied" {
		t.Fatalf("permanent: %d calls, %v", calls, err)
	}
	calls = 0
	err = objstore.Retry(context.Background(), p, "op", func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("transient")
		}
		return nil
	})
	if calls != 3 || err != nil {
		t.Fatalf("transient: %d calls, %v", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := objstore.Retry(ctx, p, "op", func(context.Context) error { return errors.New("x") }); err == nil {
		t.Fatal("cancelled context retried forever")
	}
}
