package node

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAlterMillionFlushedRows measures ALTER TABLE latency on a
// SHARED table whose 1,000,000 rows are all in Parquet segments (the load
// and flush are not timed). No ALTER form rewrites segments, so the cost
// must not depend on the row count; SET NOT NULL validates from the
// segments' NULL statistics and reads only the hot rows here.
func BenchmarkAlterMillionFlushedRows(b *testing.B) {
	n := coldBenchNode(b)
	t, _ := n.Engine().Catalog().Table("cb", "events")
	const rows = 1000000
	benchInsert(b, n, 0, rows)
	for i := 0; i < 20; i++ {
		st, err := n.Cold().FlushNow(context.Background(), t)
		if err != nil {
			b.Fatal(err)
		}
		if st.Rows == 0 {
			break
		}
	}
	stats := benchExec(b, n, "SHOW STATS FOR TABLE cb.events")[0].Rows[0]
	if fmt.Sprint(stats[5]) != "0" || fmt.Sprint(stats[8]) != fmt.Sprint(rows) {
		b.Fatalf("not fully flushed: %v", stats)
	}
	forms := []struct {
		name string
		sql  func(i int) string
	}{
		{"add_column_default", func(i int) string { return fmt.Sprintf("ALTER TABLE cb.events ADD COLUMN a%d INT DEFAULT %d", i, i) }},
		{"rename_column", func(i int) string {
			if i%2 == 0 {
				return "ALTER TABLE cb.events RENAME COLUMN body TO body2"
			}
			return "ALTER TABLE cb.events RENAME COLUMN body2 TO body"
		}},
		{"set_drop_default", func(i int) string {
			if i%2 == 0 {
				return "ALTER TABLE cb.events ALTER COLUMN user_id SET DEFAULT 'u'"
			}
			return "ALTER TABLE cb.events ALTER COLUMN user_id DROP DEFAULT"
		}},
		{"drop_column", func(i int) string { return fmt.Sprintf("ALTER TABLE cb.events DROP COLUMN x%d", i) }},
		{"modify_column_widen", func(i int) string { return fmt.Sprintf("ALTER TABLE cb.events MODIFY COLUMN m%d BIGINT", i) }},
		{"set_tblproperties", func(i int) string {
			if i%2 == 0 {
				return "ALTER TABLE cb.events SET TBLPROPERTIES (COMPRESSION = 'zstd', FLUSH_POLICY = 'rows:500000')"
			}
			return "ALTER TABLE cb.events SET TBLPROPERTIES (COMPRESSION = 'snappy', FLUSH_POLICY = 'rows:400000')"
		}},
		{"set_not_null", func(int) string { return "ALTER TABLE cb.events ALTER COLUMN ts SET NOT NULL" }},
	}
	// Untimed setup run before each timed statement of a form.
	setups := map[string]func(i int) string{
		"drop_column":         func(i int) string { return fmt.Sprintf("ALTER TABLE cb.events ADD COLUMN x%d TEXT", i) },
		"modify_column_widen": func(i int) string { return fmt.Sprintf("ALTER TABLE cb.events ADD COLUMN m%d INT DEFAULT %d", i, i) },
		"set_not_null":        func(int) string { return "ALTER TABLE cb.events ALTER COLUMN ts DROP NOT NULL" },
	}
	for _, f := range forms {
		b.Run(f.name, func(b *testing.B) {
			i := 0
			var worst time.Duration
			for b.Loop() {
				if setup := setups[f.name]; setup != nil {
					b.StopTimer()
					benchExec(b, n, setup(i))
					b.StartTimer()
				}
				start := time.Now()
				benchExec(b, n, f.sql(i))
				worst = max(worst, time.Since(start))
				i++
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
		})
	}
	// The projected default reads correctly over the million cold rows.
	res := benchExec(b, n, "SELECT count(*) FROM cb.events WHERE a0 = 0")
	if got := fmt.Sprint(res[0].Rows[0][0]); got != fmt.Sprint(rows) {
		b.Fatalf("projected default: %s rows", got)
	}
}
