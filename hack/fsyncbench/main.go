// Command fsyncbench measures the durability floor of the disk under a data
// directory: what one small synced write costs before any database code
// runs. It times, --n times each, serially:
//
//   - overwrite: 200 bytes written in place into a sized (sparse) file,
//     then fdatasync (the first write to each block allocates it);
//   - filled: the same into a file whose blocks were written and synced
//     beforehand (a recycled log segment: no metadata to sync);
//   - dsync: the same filled file opened O_DSYNC, one pwrite per record
//     (the sync is part of the write: one syscall);
//   - direct: a filled file opened O_DIRECT|O_DSYNC, each record padded to
//     one 4 KiB block (no page-cache copy);
//   - append: 200 bytes appended to a growing file, then fdatasync (the
//     file size changes, so the inode is written too);
//   - pebble: one 200-byte Set with pebble.Sync on a fresh Pebble store
//     with default options (the hot tier's synced write, WAL included).
//
// Any latency target for an acknowledged (fsynced) write is bounded below
// by these numbers on the same machine; docs/benchmarks.md quotes them.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"golang.org/x/sys/unix"
)

func main() {
	n := flag.Int("n", 3000, "synced writes per mode")
	dir := flag.String("dir", os.TempDir(), "directory on the disk to measure")
	flag.DurationVar(&pace, "pace", 0, "pause between writes (10ms = W5's 100 writes/s: an idle machine between writes)")
	flag.Parse()
	if err := run(*dir, *n); err != nil {
		fmt.Fprintln(os.Stderr, "fsyncbench:", err)
		os.Exit(1)
	}
}

func run(parent string, n int) error {
	dir, err := os.MkdirTemp(parent, "fsyncbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	buf := make([]byte, 200)

	over, err := os.OpenFile(filepath.Join(dir, "overwrite"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer over.Close()
	if err := over.Truncate(int64(n * len(buf))); err != nil {
		return err
	}
	if err := over.Sync(); err != nil {
		return err
	}
	overwrite, err := timeN(n, func(i int) error {
		if _, err := over.WriteAt(buf, int64(i*len(buf))); err != nil {
			return err
		}
		return unix.Fdatasync(int(over.Fd()))
	})
	if err != nil {
		return fmt.Errorf("while timing overwrite: %w", err)
	}

	filledPath := filepath.Join(dir, "filled")
	if err := zeroFill(filledPath, int64(n*4096)); err != nil {
		return err
	}
	fill, err := os.OpenFile(filledPath, os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer fill.Close()
	filled, err := timeN(n, func(i int) error {
		if _, err := fill.WriteAt(buf, int64(i*len(buf))); err != nil {
			return err
		}
		return unix.Fdatasync(int(fill.Fd()))
	})
	if err != nil {
		return fmt.Errorf("while timing filled: %w", err)
	}

	ds, err := os.OpenFile(filledPath, os.O_RDWR|unix.O_DSYNC, 0o600)
	if err != nil {
		return err
	}
	defer ds.Close()
	dsync, err := timeN(n, func(i int) error {
		_, err := ds.WriteAt(buf, int64(n*len(buf)+i*len(buf)))
		return err
	})
	if err != nil {
		return fmt.Errorf("while timing dsync: %w", err)
	}

	dfd, err := unix.Open(filledPath, unix.O_RDWR|unix.O_DSYNC|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	block, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return err
	}
	direct, err := timeN(n, func(i int) error {
		copy(block, buf)
		_, err := unix.Pwrite(dfd, block, int64(i*4096))
		return err
	})
	if err != nil {
		return fmt.Errorf("while timing direct: %w", err)
	}

	app, err := os.OpenFile(filepath.Join(dir, "append"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer app.Close()
	appended, err := timeN(n, func(int) error {
		if _, err := app.Write(buf); err != nil {
			return err
		}
		return unix.Fdatasync(int(app.Fd()))
	})
	if err != nil {
		return fmt.Errorf("while timing append: %w", err)
	}

	db, err := pebble.Open(filepath.Join(dir, "pebble"), &pebble.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	key := make([]byte, 0, 16)
	pb, err := timeN(n, func(i int) error {
		key = fmt.Appendf(key[:0], "k%08d", i)
		return db.Set(key, buf, pebble.Sync)
	})
	if err != nil {
		return fmt.Errorf("while timing pebble: %w", err)
	}

	fmt.Printf("dir %s, %d synced 200-byte writes per mode, %v apart (ms)\n", parent, n, pace)
	fmt.Println("mode       p50     p90     p99     max")
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{{"overwrite", overwrite}, {"filled", filled}, {"dsync", dsync}, {"direct", direct}, {"append", appended}, {"pebble", pb}} {
		fmt.Printf("%-9s %s\n", r.name, quantiles(r.d))
	}
	return nil
}

// zeroFill writes size zero bytes to path and syncs them, so later writes
// into it are overwrites of allocated, written blocks.
func zeroFill(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		if _, err := f.Write(zeros[:min(int64(len(zeros)), size-off)]); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pace is the pause between two timed writes.
var pace time.Duration

func timeN(n int, f func(i int) error) ([]time.Duration, error) {
	d := make([]time.Duration, 0, n)
	for i := range n {
		if pace > 0 {
			time.Sleep(pace)
		}
		t := time.Now()
		if err := f(i); err != nil {
			return nil, err
		}
		d = append(d, time.Since(t))
	}
	return d, nil
}

func quantiles(d []time.Duration) string {
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))]) / 1e6 }
	return fmt.Sprintf("%7.3f %7.3f %7.3f %7.3f", q(.5), q(.9), q(.99), q(1))
}
