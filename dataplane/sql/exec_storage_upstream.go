package sql

import (
	"fmt"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// storageJobMessage words the answer to STORAGE FLUSH/COMPACT exactly as
// the original project does, since its clients parse the job ids out of it:
//
//	Storage flush started for table 'ns.t'. Job ID: FL-...
//	Storage flush skipped: a flush is already queued or running for table 'ns.t'
//	Storage flush started for 2 table(s) in namespace 'ns'. Job IDs: [FL-..., FL-...]
//
// rows are the result rows (job_id first, NULL when a job was already
// running); the same ids are there as structured fields.
func storageJobMessage(s *parse.StorageJob, tables []*catalog.Table, rows [][]any) string {
	noun := "flush"
	if s.Verb == "compact" {
		noun = "compaction"
	}
	if !s.All {
		t := tables[0]
		if id := rows[0][0]; id != nil {
			return fmt.Sprintf("Storage %s started for table '%s'. Job ID: %s", noun, t.QualifiedName(), id)
		}
		return fmt.Sprintf("Storage %s skipped: a %s is already queued or running for table '%s'", noun, noun, t.QualifiedName())
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		if id, ok := r[0].(string); ok {
			ids = append(ids, id)
		}
	}
	where := "in namespace '" + s.Namespace + "'"
	if s.Namespace == "" {
		where = "in all namespaces"
	}
	return fmt.Sprintf("Storage %s started for %d table(s) %s. Job IDs: [%s]", noun, len(ids), where, strings.Join(ids, ", "))
}

// withNode appends, on a replicated node, the replica that ran a job
// ("[replica 2]") to its system.jobs message.
func withNode(msg any, node string) any {
	if node == "" {
		return msg
	}
	if s, ok := msg.(string); ok && s != "" {
		return s + " [" + node + "]"
	}
	return "[" + node + "]"
}

// jobMessage is system.jobs.message, the original project's one field for
// what a job did or why it failed: the job's own message, else its error,
// else a summary of a completed job's counters.
func jobMessage(j *catalog.Job) any {
	switch {
	case j.Message != "":
		return j.Message
	case j.Error != "":
		return j.Error
	case j.Status == catalog.JobCompleted:
		// The original's compaction result starts "Compaction completed"
		// (its smoke test smoke_test_storage_compact.rs checks that).
		what := j.Type
		if what == "compact" {
			what = "Compaction"
		}
		return fmt.Sprintf("%s completed: %d row(s), %d segment(s), %d byte(s)", what, j.Rows, j.Segments, j.Bytes)
	}
	return nil
}

// splitS3URL accepts the original project's spelling of an S3 location,
// BASE_DIRECTORY 's3://bucket/prefix', beside BUCKET + BASE_DIRECTORY
// 'prefix': it moves the bucket into Bucket and keeps the prefix.
func splitS3URL(rec *catalog.Storage) error {
	rest, ok := strings.CutPrefix(rec.BaseDirectory, "s3://")
	if !ok || rec.Type != "s3" {
		return nil
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return badRequest(CodeInvalidInput, "BASE_DIRECTORY '%s' names no bucket", rec.BaseDirectory)
	}
	if rec.Bucket != "" && rec.Bucket != bucket {
		return badRequest(CodeInvalidInput, "BASE_DIRECTORY '%s' names bucket '%s' but BUCKET is '%s'", rec.BaseDirectory, bucket, rec.Bucket)
	}
	rec.Bucket, rec.BaseDirectory = bucket, strings.Trim(prefix, "/")
	return nil
}
