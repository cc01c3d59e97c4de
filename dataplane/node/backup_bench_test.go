package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

// backupBenchRows is the size of the benchmark table: half flushed to
// Parquet segments on MinIO, half hot.
const backupBenchRows = 200000

// backupBenchNode starts MinIO and a node holding bk.events (the
// cold-bench row shape) on an S3 storage 'minio'.
func backupBenchNode(b *testing.B) (*s3test.Server, *Node) {
	b.Helper()
	srv, err := s3test.Start(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Stop)
	if _, err := srv.Store(context.Background(), "kalam", ""); err != nil {
		b.Fatal(err)
	}
	n := coldBenchNode(b)
	benchExec(b, n, fmt.Sprintf(`CREATE STORAGE minio TYPE 's3' BUCKET 'kalam' REGION 'us-east-1' BASE_DIRECTORY 'data'
		CONFIG '{"endpoint": "%s", "path_style": true, "tls": false}'
		CREDENTIALS '{"access_key_id": "%s", "secret_access_key": "%s"}'`, srv.Endpoint, s3test.AccessKey, s3test.SecretKey))
	benchExec(b, n, `CREATE NAMESPACE bk; CREATE SHARED TABLE bk.events (id BIGINT PRIMARY KEY, user_id TEXT, ts BIGINT, body TEXT, flag BOOLEAN) WITH (STORAGE_ID = 'minio')`)
	for start := 0; start < backupBenchRows; start += 5000 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO bk.events (id, user_id, ts, body, flag) VALUES ")
		for i := start; i < start+5000; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, 'user-%d', %d, '%s', %v)", i, i%1000, 1700000000000000+int64(i), benchBody, i%3 == 0)
		}
		benchExec(b, n, sb.String())
		if start+5000 == backupBenchRows/2 {
			t, _ := n.Engine().Catalog().Table("bk", "events")
			if _, err := n.Cold().FlushNow(context.Background(), t); err != nil {
				b.Fatal(err)
			}
		}
	}
	return srv, n
}

// BenchmarkBackupRestoreS3 measures backup and restore throughput against
// MinIO on loopback: a full backup (every object uploaded), an incremental
// backup of unchanged data (every object reused), and a verified restore
// into a second server (rows proposed through the engine with fsync).
// MB/s is backup size over wall time.
func BenchmarkBackupRestoreS3(b *testing.B) {
	srv, n := backupBenchNode(b)
	ctx := context.Background()
	var last *backup.Manifest
	run := func(b *testing.B, target string) *backup.Manifest {
		b.Helper()
		_, st, err := n.Backup().OpenTarget(target)
		if err != nil {
			b.Fatal(err)
		}
		m, err := n.Backup().Backup(ctx, backup.BackupRequest{ID: backup.NewID(time.Now(), 0), Namespace: "bk", Target: st})
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	b.Run("backup-full", func(b *testing.B) {
		i := 0
		var bytes int64
		start := time.Now()
		for b.Loop() {
			last = run(b, fmt.Sprintf("s3://minio/bench/full-%d", i))
			i++
			bytes += last.SizeBytes
		}
		b.ReportMetric(float64(bytes)/1e6/time.Since(start).Seconds(), "MB/s")
		b.ReportMetric(float64(last.SizeBytes)/1e6, "MB/backup")
	})
	b.Run("backup-incremental", func(b *testing.B) {
		var bytes, uploaded int64
		start := time.Now()
		for b.Loop() {
			m := run(b, "s3://minio/bench/full-0")
			bytes += m.SizeBytes
			uploaded += m.BytesUploaded
		}
		b.ReportMetric(float64(bytes)/1e6/time.Since(start).Seconds(), "MB/s")
		b.ReportMetric(float64(uploaded)/float64(b.N), "uploaded-bytes/op")
	})
	b.Run("restore", func(b *testing.B) {
		n2, err := Start(coldConfig(b.TempDir()), quietLog())
		if err != nil {
			b.Fatal(err)
		}
		defer n2.Close()
		benchExec(b, n2, fmt.Sprintf(`CREATE STORAGE minio TYPE 's3' BUCKET 'kalam' REGION 'us-east-1' BASE_DIRECTORY 'data'
			CONFIG '{"endpoint": "%s", "path_style": true, "tls": false}'
			CREDENTIALS '{"access_key_id": "%s", "secret_access_key": "%s"}'`, srv.Endpoint, s3test.AccessKey, s3test.SecretKey))
		var bytes int64
		start := time.Now()
		for b.Loop() {
			m, err := n2.Backup().Restore(ctx, "bk", "s3://minio/bench/full-0", "", true)
			if err != nil {
				b.Fatal(err)
			}
			bytes += m.SizeBytes
		}
		el := time.Since(start).Seconds()
		b.ReportMetric(float64(bytes)/1e6/el, "MB/s")
		b.ReportMetric(float64(backupBenchRows)*float64(b.N)/el, "rows/s")
	})
}
