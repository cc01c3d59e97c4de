package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// Disk full (docs/operations.md, "Disk full"). The hot tier runs on a
// hot.QuotaFS: a filesystem under Pebble whose writes fail with ENOSPC
// past a byte quota, as on a full volume, and whose free space is what
// the quota leaves.

// diskRequestTimeout bounds every request: none may hang on a full disk.
const diskRequestTimeout = 15 * time.Second

// diskClient logs in as root on a child server.
func diskClient(t *testing.T, addr string) *client.Client {
	t.Helper()
	c := client.New("http://" + addr)
	c.HTTP.Timeout = diskRequestTimeout
	if _, err := c.Login(ctx(t), "root", rootPW); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

// insertBatch inserts rows [from, from+n) of 32 KiB of random hex each
// (incompressible, so the sstables take the space the WAL did).
func insertBatch(c *client.Client, from, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), diskRequestTimeout)
	defer cancel()
	sql := multiInsert("INSERT INTO d.t (id, v) VALUES ", from, from+n, func(i int) string {
		b := make([]byte, 16<<10)
		_, _ = rand.Read(b)
		return fmt.Sprintf("(%d, '%s')", i, hex.EncodeToString(b))
	})
	_, err := c.SQL(ctx, sql)
	return err
}

// countRows returns COUNT(*) of d.t.
func countRows(t *testing.T, c *client.Client) int {
	t.Helper()
	rows := mustRows(t, c, "SELECT COUNT(*) AS n FROM d.t")
	switch v := rows[0][0].(type) {
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	t.Fatalf("count: %v", rows)
	return 0
}

// TestDiskFullReserveRefusesWritesAndRecovers: with a free-space reserve,
// a filling volume turns writes into DISK_FULL (507) before Pebble hits
// ENOSPC, /readyz answers 503 while reads go on, no request hangs, no
// acknowledged row is lost, and writes come back by themselves once space
// is freed (and after a hard restart).
func TestDiskFullReserveRefusesWritesAndRecovers(t *testing.T) {
	dir := t.TempDir()
	quotaFile := filepath.Join(t.TempDir(), "quota")
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.Storage.MinFreeMB = 16
	spec := helperSpec{Config: cfg, Quota: 64 << 20, QuotaFile: quotaFile}
	ch := startChild(t, spec)
	c := diskClient(t, ch.addr)
	mustSQL(t, c, "CREATE NAMESPACE d; CREATE SHARED TABLE d.t (id BIGINT PRIMARY KEY, v TEXT)")
	acked := 0
	var full *client.APIError
	for i := 0; i < 400 && full == nil; i++ {
		start := time.Now()
		err := insertBatch(c, acked, 16)
		if took := time.Since(start); took > diskRequestTimeout-time.Second {
			t.Fatalf("insert took %s", took)
		}
		switch {
		case err == nil:
			acked += 16
		case errors.As(err, &full) && full.Code == "DISK_FULL":
		default:
			t.Fatalf("insert after %d rows: %v\n%s", acked, err, ch.stderr.String())
		}
	}
	if full == nil {
		t.Fatalf("the volume never filled (%d rows)", acked)
	}
	if full.HTTPStatus != 507 || !strings.Contains(full.Message, "bytes free") {
		t.Fatalf("DISK_FULL answer: %d %q", full.HTTPStatus, full.Message)
	}
	t.Logf("DISK_FULL after %d acknowledged rows: %s", acked, full.Message)
	if code := readyz(ch.addr); code != 503 {
		t.Fatalf("/readyz answered %d while writes are refused", code)
	}
	// Reads are served; logins too.
	if n := countRows(t, diskClient(t, ch.addr)); n != acked {
		t.Fatalf("%d rows readable, %d acknowledged", n, acked)
	}
	// Deleting rows is still admitted (it is how space is freed).
	if _, err := c.SQL(context.Background(), "DELETE FROM d.t WHERE id = 0"); err != nil {
		t.Fatalf("DELETE on a full volume: %v\n%s", err, ch.stderr.String())
	}
	acked--
	// Free space: writes resume by themselves.
	if err := os.WriteFile(quotaFile, []byte(strconv.Itoa(512<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for readyz(ch.addr) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still not 200 10 s after space was freed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := insertBatch(c, 100000, 16); err != nil {
		t.Fatalf("insert after space was freed: %v", err)
	}
	acked += 16
	// A hard restart keeps every acknowledged row.
	ch.kill()
	spec.Quota, spec.QuotaFile = 512<<20, ""
	ch = startChild(t, spec)
	c = diskClient(t, ch.addr)
	if n := countRows(t, c); n != acked {
		t.Fatalf("%d rows after restart, %d acknowledged", n, acked)
	}
	if err := insertBatch(c, 200000, 4); err != nil {
		t.Fatalf("insert after restart: %v", err)
	}
}

// TestDiskFullWithoutReserveExitsAndRecovers: with the reserve disabled,
// the write that meets ENOSPC is a fatal storage error: the process logs
// it and exits (code 70) instead of panicking inside the request and
// wedging; a restart with space serves writes again and has every
// acknowledged row.
func TestDiskFullWithoutReserveExitsAndRecovers(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.Storage.MinFreeMB = 0
	spec := helperSpec{Config: cfg, Quota: 40 << 20}
	ch := startChild(t, spec)
	c := diskClient(t, ch.addr)
	mustSQL(t, c, "CREATE NAMESPACE d; CREATE SHARED TABLE d.t (id BIGINT PRIMARY KEY, v TEXT)")
	acked := 0
	var lastErr error
	for i := 0; i < 400; i++ {
		start := time.Now()
		err := insertBatch(c, acked, 16)
		if took := time.Since(start); took > diskRequestTimeout-time.Second {
			t.Fatalf("insert took %s (hung)\n%s", took, ch.stderr.String())
		}
		if err != nil {
			lastErr = err
			break
		}
		acked += 16
	}
	if lastErr == nil {
		t.Fatalf("the volume never filled (%d rows)", acked)
	}
	code := ch.exitCode(diskRequestTimeout)
	if code != hot.ExitFatalStorage {
		t.Fatalf("after %v the server exit code is %d (want %d; -1: still running)\n%s", lastErr, code, hot.ExitFatalStorage, ch.stderr.String())
	}
	if !strings.Contains(ch.stderr.String(), "fatal storage error") {
		t.Fatalf("the cause was not logged:\n%s", ch.stderr.String())
	}
	t.Logf("exited with %d after %d acknowledged rows (%v)", code, acked, lastErr)
	spec.Quota = 512 << 20
	ch = startChild(t, spec)
	c = diskClient(t, ch.addr)
	if n := countRows(t, c); n < acked {
		t.Fatalf("%d rows after restart, %d acknowledged", n, acked)
	}
	if err := insertBatch(c, 100000, 4); err != nil {
		t.Fatalf("insert after restart: %v", err)
	}
}
