package pgdiff

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestRecordedOverWire runs the corpus through our PostgreSQL listener
// with pgx, in the simple query protocol and in the extended one (Parse,
// Bind, Describe, Execute with text results, then with binary ones, which
// must decode to the same values), and requires every answer to be the one
// the same server gives over HTTP: the same columns (names
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
		qctx, cancel := context.WithTimeout(ctx, time.Minute)
		d, err := binaryAgrees(qctx, pc, q.SQL)
		cancel()
		if err != nil {
			t.Fatalf("%s:%d: binary results: %v", q.File, q.Line, err)
		}
		if d != "" {
			failures++
			if failures <= 40 {
				t.Errorf("%s:%d: binary results differ from text ones: %s\n\t%s", q.File, q.Line, d, q.SQL)
			}
		}
	}
	if failures > 40 {
		t.Errorf("... %d differences in all", failures)
	}
	t.Logf("%d queries, each over HTTP, over both wire protocols and in binary", len(corpus))
}

// binaryAgrees runs sql in the extended protocol twice, with text and
// with binary results, decodes both with pgx's codecs under the OIDs the
// RowDescription gave, and describes the first value that differs ("" when
// none does): the binary encoding pgx's default mode reads carries the
// values the text one does.
func binaryAgrees(ctx context.Context, pc *pgconn.PgConn, sql string) (string, error) {
	read := func(format int16) ([]pgconn.FieldDescription, [][][]byte, error) {
		rr := pc.ExecParams(ctx, sql, nil, nil, nil, []int16{format})
		var rows [][][]byte
		for rr.NextRow() {
			row := make([][]byte, len(rr.Values()))
			for i, v := range rr.Values() {
				if v != nil {
					row[i] = append([]byte{}, v...)
				}
			}
			rows = append(rows, row)
		}
		fields := append([]pgconn.FieldDescription(nil), rr.FieldDescriptions()...)
		_, err := rr.Close()
		return fields, rows, err
	}
	tf, trows, terr := read(pgtype.TextFormatCode)
	bf, brows, berr := read(pgtype.BinaryFormatCode)
	var pe *pgconn.PgError
	if errors.As(terr, &pe) || errors.As(berr, &pe) {
		if (terr == nil) != (berr == nil) {
			return fmt.Sprintf("text error %v, binary error %v", terr, berr), nil
		}
		return "", nil
	}
	if terr != nil {
		return "", terr
	}
	if berr != nil {
		return "", berr
	}
	if len(tf) != len(bf) || len(trows) != len(brows) {
		return fmt.Sprintf("%d columns and %d rows in text, %d and %d in binary", len(tf), len(trows), len(bf), len(brows)), nil
	}
	m := pgtype.NewMap()
	for i := range trows {
		for j, f := range tf {
			if bf[j].DataTypeOID != f.DataTypeOID {
				return fmt.Sprintf("column %s: OID %d in text, %d in binary", f.Name, f.DataTypeOID, bf[j].DataTypeOID), nil
			}
			typ, ok := m.TypeForOID(f.DataTypeOID)
			if !ok {
				return fmt.Sprintf("column %s: OID %d has no codec", f.Name, f.DataTypeOID), nil
			}
			tv, err := typ.Codec.DecodeValue(m, f.DataTypeOID, pgtype.TextFormatCode, trows[i][j])
			if err != nil {
				return fmt.Sprintf("column %s: text %q does not decode: %v", f.Name, trows[i][j], err), nil
			}
			bv, err := typ.Codec.DecodeValue(m, f.DataTypeOID, pgtype.BinaryFormatCode, brows[i][j])
			if err != nil {
				return fmt.Sprintf("column %s: binary %x does not decode: %v", f.Name, brows[i][j], err), nil
			}
			if fmt.Sprintf("%#v", tv) != fmt.Sprintf("%#v", bv) && fmt.Sprint(tv) != fmt.Sprint(bv) {
				return fmt.Sprintf("row %d column %s (OID %d): text %v, binary %v", i, f.Name, f.DataTypeOID, tv, bv), nil
			}
		}
	}
	return "", nil
}

// sameAnswer describes how the wire answer differs from the HTTP one (""
// when it does not). Errors match errors: HTTP has our codes, the wire
// SQLSTATEs, which must be the HTTP error's SQLSTATE (the one TestRecorded
// holds against PostgreSQL's).
func sameAnswer(q Query, http, wire Answer) string {
	switch {
	case http.Err != "" && wire.Err != "":
		if http.State != wire.Err {
			return fmt.Sprintf("HTTP raises %s (SQLSTATE %s), the wire SQLSTATE %s", http.Err, http.State, wire.Err)
		}
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
