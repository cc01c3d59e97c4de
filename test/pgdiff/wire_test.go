package pgdiff

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestRecordedOverWire runs the corpus through our PostgreSQL listener
// with pgx, in the simple query protocol and in the extended one (Parse,
// Bind, Describe, Execute with text results), and requires every answer to
// be the one the same server gives over HTTP: the same columns (names
// too), the same rows in the same order, an error exactly where HTTP has
// one. TestRecorded holds the HTTP answers to PostgreSQL's under the
// allow-list, so the wire answers are PostgreSQL's with the same
// allow-listed differences.
func TestRecordedOverWire(t *testing.T) {
	corpus := loadCorpus(t)
	srv, err := startOurs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s/kalamdb?sslmode=disable",
		Querier, url.QueryEscape(password(Querier)), srv.n.PostgresAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	pc := conn.PgConn()

	failures := 0
	for _, q := range corpus {
		http := srv.answer(q.SQL)
		for _, mode := range []string{"simple", "extended"} {
			qctx, cancel := context.WithTimeout(ctx, time.Minute)
			run := SimpleQuery
			if mode == "extended" {
				run = ExtendedQuery
			}
			wire, err := run(qctx, pc, q.SQL)
			cancel()
			if err != nil {
				t.Fatalf("%s:%d: %s protocol: %v", q.File, q.Line, mode, err)
			}
			if d := sameAnswer(q, http, wire); d != "" {
				failures++
				if failures <= 40 {
					t.Errorf("%s:%d: %s protocol answers otherwise than HTTP: %s\n\t%s", q.File, q.Line, mode, d, q.SQL)
				}
			}
		}
	}
	if failures > 40 {
		t.Errorf("... %d differences in all", failures)
	}
	t.Logf("%d queries, each over HTTP and over both wire protocols", len(corpus))
}

// sameAnswer describes how the wire answer differs from the HTTP one (""
// when it does not). Errors match errors: HTTP has our codes, the wire
// SQLSTATEs.
func sameAnswer(q Query, http, wire Answer) string {
	switch {
	case http.Err != "" && wire.Err != "":
		return ""
	case http.Err != "":
		return fmt.Sprintf("HTTP raises %s, the wire answers %s", http.Err, summary(wire))
	case wire.Err != "":
		return fmt.Sprintf("HTTP answers %s, the wire raises %s", summary(http), wire.Err)
	}
	if strings.Join(http.Cols, "\x00") != strings.Join(wire.Cols, "\x00") {
		return fmt.Sprintf("columns %q, the wire %q", http.Cols, wire.Cols)
	}
	a, b := rowStrings(http.Rows), rowStrings(wire.Rows)
	if strings.Join(a, "\x00") != strings.Join(b, "\x00") {
		return fmt.Sprintf("HTTP %s, the wire %s", clip(a), clip(b))
	}
	return ""
}
