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
//     with default options (the hot tier's synced write, WAL included);
//   - pebble-rec: the same on a store whose active WAL is a recycled file.
//
// The modes run round robin (one write of each in turn), so a noisy
// machine disturbs them alike.
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
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()

	over, err := os.OpenFile(filepath.Join(dir, "overwrite"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	closers = append(closers, over.Close)
	if err := over.Truncate(int64(n * len(buf))); err != nil {
		return err
	}
	if err := over.Sync(); err != nil {
		return err
	}

	filledPath := filepath.Join(dir, "filled")
	if err := zeroFill(filledPath, int64(n*4096)); err != nil {
		return err
	}
	fill, err := os.OpenFile(filledPath, os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	closers = append(closers, fill.Close)
	ds, err := os.OpenFile(filledPath, os.O_RDWR|unix.O_DSYNC, 0o600)
	if err != nil {
		return err
	}
	closers = append(closers, ds.Close)
	dfd, err := unix.Open(filledPath, unix.O_RDWR|unix.O_DSYNC|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	closers = append(closers, func() error { return unix.Close(dfd) })
	block, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return err
	}

	app, err := os.OpenFile(filepath.Join(dir, "append"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	closers = append(closers, app.Close)

	db, err := pebble.Open(filepath.Join(dir, "pebble"), &pebble.Options{})
	if err != nil {
		return err
	}
	closers = append(closers, db.Close)
	// recycled: a Pebble store whose active WAL is a recycled file (its
	// blocks written before), as on a server that has rotated memtables.
	rdb, err := primedPebble(filepath.Join(dir, "pebble-recycled"))
	if err != nil {
		return err
	}
	closers = append(closers, rdb.Close)
	key := make([]byte, 0, 16)

	modes := []struct {
		name string
		f    func(i int) error
	}{
		{"overwrite", func(i int) error {
			if _, err := over.WriteAt(buf, int64(i*len(buf))); err != nil {
				return err
			}
			return unix.Fdatasync(int(over.Fd()))
		}},
		{"filled", func(i int) error {
			if _, err := fill.WriteAt(buf, int64(i*len(buf))); err != nil {
				return err
			}
			return unix.Fdatasync(int(fill.Fd()))
		}},
		{"dsync", func(i int) error {
			_, err := ds.WriteAt(buf, int64(n*len(buf)+i*len(buf)))
			return err
		}},
		{"direct", func(i int) error {
			copy(block, buf)
			_, err := unix.Pwrite(dfd, block, int64(i*4096))
			return err
		}},
		{"append", func(int) error {
			if _, err := app.Write(buf); err != nil {
				return err
			}
			return unix.Fdatasync(int(app.Fd()))
		}},
		{"pebble", func(i int) error {
			key = fmt.Appendf(key[:0], "k%08d", i)
			return db.Set(key, buf, pebble.Sync)
		}},
		{"pebble-rec", func(i int) error {
			key = fmt.Appendf(key[:0], "k%08d", i)
			return rdb.Set(key, buf, pebble.Sync)
		}},
	}
	// Round robin, so every mode sees the same machine.
	d := make([][]time.Duration, len(modes))
	for i := range n {
		for m := range modes {
			if pace > 0 {
				time.Sleep(pace)
			}
			t := time.Now()
			if err := modes[m].f(i); err != nil {
				return fmt.Errorf("while timing %s: %w", modes[m].name, err)
			}
			d[m] = append(d[m], time.Since(t))
		}
	}

	fmt.Printf("dir %s, %d synced 200-byte writes per mode, round robin, %v apart (ms)\n", parent, n, pace)
	fmt.Println("mode          p50     p90     p99     max")
	for m := range modes {
		fmt.Printf("%-11s %s\n", modes[m].name, quantiles(d[m]))
	}
	return nil
}

// primedPebble opens a Pebble store with small memtables and writes
// (unsynced) until several WALs were rotated out, so the active WAL is a
// recycled file.
func primedPebble(path string) (*pebble.DB, error) {
	db, err := pebble.Open(path, &pebble.Options{MemTableSize: 4 << 20})
	if err != nil {
		return nil, err
	}
	val := make([]byte, 4096)
	for i := range 8 * 1024 {
		if err := db.Set(fmt.Appendf(nil, "p%08d", i), val, pebble.NoSync); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := db.Flush(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
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

func quantiles(d []time.Duration) string {
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))]) / 1e6 }
	return fmt.Sprintf("%7.3f %7.3f %7.3f %7.3f", q(.5), q(.9), q(.99), q(1))
}
