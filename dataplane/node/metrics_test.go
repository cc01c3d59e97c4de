package node

import (
	"regexp"
	"strconv"
	"testing"
)

func scrape(t *testing.T, n *Node) string {
	t.Helper()
	c := login(t, n, "root", rootPW)
	status, body, err := c.Do(ctx(t), "GET", "/metrics", nil, false)
	if err != nil || status != 200 {
		t.Fatalf("GET /metrics: %d %v", status, err)
	}
	return string(body)
}

func metricValue(t *testing.T, text, pattern string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + pattern + ` ([0-9.e+-]+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetricsMoveWithWorkload(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	before := scrape(t, n)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE m; CREATE SHARED TABLE m.t (id INT PRIMARY KEY, v TEXT)`)
	mustSQL(t, root, `INSERT INTO m.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
	mustRows(t, root, `SELECT * FROM m.t WHERE id = 2`)
	mustRows(t, root, `SELECT * FROM m.t WHERE id > 1 LIMIT 10`)
	wantCode(t, root, "NOT_FOUND", 400, `SELECT * FROM m.nope`)
	after := scrape(t, n)
	checks := []struct {
		series string
		min    float64
	}{
		{`kalamdb_rows_written_total\{op="insert"\}`, 3},
		{`kalamdb_scan_point_gets_total`, 1},
		{`kalamdb_scan_range_scans_total`, 1},
		{`kalamdb_statement_duration_seconds_count\{kind="insert",outcome="ok"\}`, 1},
		{`kalamdb_statement_duration_seconds_count\{kind="select",outcome="error"\}`, 1},
		{`kalamdb_http_requests_total\{code="200",route="POST /v1/api/sql"\}`, 3},
		{`kalamdb_http_requests_total\{code="400",route="POST /v1/api/sql"\}`, 1},
	}
	for _, c := range checks {
		if d := metricValue(t, after, c.series) - metricValue(t, before, c.series); d < c.min {
			t.Errorf("%s moved by %v, want >= %v", c.series, d, c.min)
		}
	}
	if metricValue(t, after, `kalamdb_pebble_disk_bytes`) <= 0 {
		t.Error("pebble disk bytes not reported")
	}
}
