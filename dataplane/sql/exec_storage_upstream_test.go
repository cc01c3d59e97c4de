package sql

import (
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

func TestStorageJobMessageMatchesOriginal(t *testing.T) {
	ta := &catalog.Table{Namespace: "ns", Name: "a"}
	tb := &catalog.Table{Namespace: "ns", Name: "b"}
	cases := []struct {
		s    *parse.StorageJob
		ts   []*catalog.Table
		rows [][]any
		want string
	}{
		{&parse.StorageJob{Verb: "flush"}, []*catalog.Table{ta}, [][]any{{"FL-1"}}, "Storage flush started for table 'ns.a'. Job ID: FL-1"},
		{&parse.StorageJob{Verb: "compact"}, []*catalog.Table{ta}, [][]any{{"CO-1"}}, "Storage compaction started for table 'ns.a'. Job ID: CO-1"},
		{&parse.StorageJob{Verb: "flush"}, []*catalog.Table{ta}, [][]any{{nil}}, "Storage flush skipped: a flush is already queued or running for table 'ns.a'"},
		{&parse.StorageJob{Verb: "flush", All: true, Namespace: "ns"}, []*catalog.Table{ta, tb}, [][]any{{"FL-1"}, {"FL-2"}},
			"Storage flush started for 2 table(s) in namespace 'ns'. Job IDs: [FL-1, FL-2]"},
		{&parse.StorageJob{Verb: "flush", All: true}, nil, nil, "Storage flush started for 0 table(s) in all namespaces. Job IDs: []"},
	}
	for _, c := range cases {
		if got := storageJobMessage(c.s, c.ts, c.rows); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

func TestSplitS3URL(t *testing.T) {
	rec := &catalog.Storage{Type: "s3", BaseDirectory: "s3://bkt/some/prefix/"}
	if err := splitS3URL(rec); err != nil || rec.Bucket != "bkt" || rec.BaseDirectory != "some/prefix" {
		t.Fatalf("got %+v, %v", rec, err)
	}
	rec = &catalog.Storage{Type: "s3", BaseDirectory: "s3://bkt", Bucket: "bkt"}
	if err := splitS3URL(rec); err != nil || rec.Bucket != "bkt" || rec.BaseDirectory != "" {
		t.Fatalf("got %+v, %v", rec, err)
	}
	for _, bad := range []*catalog.Storage{
		{Type: "s3", BaseDirectory: "s3:///x"},
		{Type: "s3", BaseDirectory: "s3://a/x", Bucket: "b"},
	} {
		if err := splitS3URL(bad); err == nil || !strings.Contains(err.Error(), "BASE_DIRECTORY") {
			t.Errorf("%+v: got %v", bad, err)
		}
	}
	// A filesystem storage keeps its directory as given.
	rec = &catalog.Storage{Type: "filesystem", BaseDirectory: "s3://x"}
	if err := splitS3URL(rec); err != nil || rec.BaseDirectory != "s3://x" {
		t.Fatalf("got %+v, %v", rec, err)
	}
}

func TestJobMessageOfCompletedJobs(t *testing.T) {
	for _, c := range []struct {
		j    catalog.Job
		want any
	}{
		{catalog.Job{Type: "compact", Status: catalog.JobCompleted, Rows: 15, Segments: 1, Bytes: 9}, "Compaction completed: 15 row(s), 1 segment(s), 9 byte(s)"},
		{catalog.Job{Type: "flush", Status: catalog.JobCompleted, Rows: 3}, "flush completed: 3 row(s), 0 segment(s), 0 byte(s)"},
		{catalog.Job{Type: "compact", Status: catalog.JobCompleted, Message: "own"}, "own"},
		{catalog.Job{Type: "compact", Status: catalog.JobFailed, Error: "boom"}, "boom"},
		{catalog.Job{Type: "compact", Status: catalog.JobRunning}, nil},
	} {
		if got := jobMessage(&c.j); got != c.want {
			t.Errorf("jobMessage(%+v) = %v, want %v", c.j, got, c.want)
		}
	}
}
