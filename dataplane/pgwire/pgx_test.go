package pgwire_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

func wantSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("want SQLSTATE %s, got %v", code, err)
	}
	if pe.Code != code {
		t.Fatalf("want SQLSTATE %s, got %s: %s", code, pe.Code, pe.Message)
	}
}

func TestPgxSmoke(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	var one int
	if err := c.QueryRow(tctx(t), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %v %d", err, one)
	}
	mustExec(t, c, "CREATE NAMESPACE app")
	mustExec(t, c, "CREATE TABLE app.items (id BIGINT PRIMARY KEY, name TEXT, price DOUBLE, ok BOOLEAN)")
	mustExec(t, c, "INSERT INTO app.items (id, name, price, ok) VALUES ($1, $2, $3, $4)", int64(1), "a", 1.5, true)
	var name string
	var price float64
	var ok bool
	if err := c.QueryRow(tctx(t), "SELECT name, price, ok FROM app.items WHERE id = $1", int64(1)).Scan(&name, &price, &ok); err != nil {
		t.Fatal(err)
	}
	if name != "a" || price != 1.5 || !ok {
		t.Fatalf("got %q %v %v", name, price, ok)
	}
}

// TestPgxEveryType round-trips a value of every column type through binary
// parameters and binary results (pgx's extended protocol), and through the
// text format (QueryExecModeSimpleProtocol).
func TestPgxEveryType(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	mustExec(t, c, `CREATE TABLE default.types (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, f FLOAT, d DOUBLE,
		n DECIMAL(10,2), t TEXT, bs BYTEA, j JSON, ts TIMESTAMP, tz TIMESTAMPTZ, dt DATE, tm TIME, u UUID)`)
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	num := pgtype.Numeric{Int: big.NewInt(12345), Exp: -2, Valid: true}
	uid := pgtype.UUID{Bytes: [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, Valid: true}
	tm := pgtype.Time{Microseconds: (13*3600 + 14*60 + 15) * 1e6, Valid: true}
	mustExec(t, c, `INSERT INTO types (id, b, s, i, f, d, n, t, bs, j, ts, tz, dt, tm, u) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
		int64(9007199254740993), true, int16(-7), int32(123456), float32(1.5), 2.25, num, "héllo", []byte{0, 1, 255}, `{"a":1}`, ts, ts, day, tm, uid)
	mustExec(t, c, `INSERT INTO types (id) VALUES ($1)`, int64(2))
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeSimpleProtocol} {
		var (
			b             bool
			s             int16
			i             int32
			f             float32
			d             float64
			nv            pgtype.Numeric
			tx, j         string
			by            []byte
			gts, gtz, gdt time.Time
			gtm           pgtype.Time
			gu            pgtype.UUID
			id            int64
		)
		err := c.QueryRow(tctx(t), `SELECT id, b, s, i, f, d, n, t, bs, j, ts, tz, dt, tm, u FROM types WHERE id = $1`, mode, int64(9007199254740993)).
			Scan(&id, &b, &s, &i, &f, &d, &nv, &tx, &by, &j, &gts, &gtz, &gdt, &gtm, &gu)
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		if id != 9007199254740993 || !b || s != -7 || i != 123456 || f != 1.5 || d != 2.25 || tx != "héllo" || string(by) != "\x00\x01\xff" || j != `{"a":1}` {
			t.Fatalf("mode %v: got %v %v %v %v %v %v %q %x %q", mode, id, b, s, i, f, d, tx, by, j)
		}
		if fv, _ := nv.Float64Value(); fv.Float64 != 123.45 {
			t.Fatalf("mode %v: numeric %v", mode, fv)
		}
		if !gts.Equal(ts) || !gtz.Equal(ts) || !gdt.Equal(day) || gtm.Microseconds != tm.Microseconds || gu.Bytes != uid.Bytes {
			t.Fatalf("mode %v: temporal/uuid %v %v %v %v %v", mode, gts, gtz, gdt, gtm, gu)
		}
		// NULLs of every type.
		var nb *bool
		var ns *int16
		var nn pgtype.Numeric
		var nts pgtype.Timestamp
		var nby []byte
		if err := c.QueryRow(tctx(t), `SELECT b, s, n, ts, bs FROM types WHERE id = $1`, mode, int64(2)).Scan(&nb, &ns, &nn, &nts, &nby); err != nil {
			t.Fatalf("mode %v nulls: %v", mode, err)
		}
		if nb != nil || ns != nil || nn.Valid || nts.Valid || nby != nil {
			t.Fatalf("mode %v: want NULLs", mode)
		}
	}
}

// TestPgxRowDescription checks the column OIDs drivers see.
func TestPgxRowDescription(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	mustExec(t, c, `CREATE TABLE default.o (id BIGINT PRIMARY KEY, i INT, t TEXT, ts TIMESTAMP, n DECIMAL(8,3))`)
	rows, err := c.Query(tctx(t), `SELECT id, i, t, ts, n FROM o`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	want := []uint32{pgtype.Int8OID, pgtype.Int4OID, pgtype.TextOID, pgtype.TimestampOID, pgtype.NumericOID}
	for i, fd := range rows.FieldDescriptions() {
		if fd.DataTypeOID != want[i] {
			t.Errorf("column %s: OID %d, want %d", fd.Name, fd.DataTypeOID, want[i])
		}
	}
}

func TestPgxPreparedAndPortals(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	mustExec(t, c, `CREATE TABLE default.p (id BIGINT PRIMARY KEY, v TEXT)`)
	if _, err := c.Prepare(tctx(t), "ins", `INSERT INTO p (id, v) VALUES ($1, $2)`); err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 25; i++ {
		tag, err := c.Exec(tctx(t), "ins", i, "v")
		if err != nil || tag.String() != "INSERT 0 1" {
			t.Fatalf("exec ins: %v %q", err, tag)
		}
	}
	// Row limits: pgconn's ExecPrepared with a portal fetched in pages.
	sd, err := c.Prepare(tctx(t), "sel", `SELECT id FROM p WHERE id <= $1 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != pgtype.Int8OID {
		t.Fatalf("param OIDs %v, want [int8]", sd.ParamOIDs)
	}
	pc := c.PgConn()
	var got []string
	res := pc.ExecPrepared(tctx(t), "sel", [][]byte{[]byte("20")}, nil, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, r := range res.Rows {
		got = append(got, string(r[0]))
	}
	if len(got) != 20 || res.CommandTag.String() != "SELECT 20" {
		t.Fatalf("got %d rows, tag %q", len(got), res.CommandTag)
	}
	// Explicit portal with MaxRows through the raw protocol.
	fe := pc.Frontend()
	_ = fe
	if _, err := c.Exec(tctx(t), "DEALLOCATE sel"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(tctx(t), "DEALLOCATE sel")
	wantSQLState(t, err, "26000")
}

func TestPgxErrorsHaveSQLState(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	mustExec(t, c, `CREATE TABLE default.e (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`)
	mustExec(t, c, `INSERT INTO e (id, v) VALUES (1, 'x')`)
	cases := []struct{ sql, code string }{
		{`INSERT INTO e (id, v) VALUES (1, 'y')`, "23505"},
		{`SELECT * FROM nope`, "42P01"},
		{`SELECT nope FROM e`, "42703"},
		{`SELEC 1`, "42601"},
		{`CREATE TABLE default.e (id BIGINT PRIMARY KEY)`, "42P07"},
		{`INSERT INTO e (id, v) VALUES (2, NULL)`, "23502"},
		{`SELECT * FROM missing_ns.t`, "42P01"},
	}
	for _, tc := range cases {
		_, err := c.Exec(tctx(t), tc.sql)
		wantSQLState(t, err, tc.code)
	}
	// The connection stays usable after errors.
	var one int
	if err := c.QueryRow(tctx(t), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

func TestPgxCopyFromRefused(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	mustExec(t, c, `CREATE TABLE default.cp (id BIGINT PRIMARY KEY)`)
	_, err := c.CopyFrom(tctx(t), pgx.Identifier{"cp"}, []string{"id"}, pgx.CopyFromRows([][]any{{int64(1)}}))
	wantSQLState(t, err, "0A000")
	var one int
	if err := c.QueryRow(tctx(t), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("connection unusable after refused COPY: %v", err)
	}
}

func TestPgxCancel(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, `WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 1000000000) SELECT count(*) FROM r`)
	if err == nil {
		t.Fatal("long query was not cancelled")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code != "57014" {
		t.Fatalf("cancelled query: SQLSTATE %s %s", pe.Code, pe.Message)
	}
	// pgx closes a connection whose context ended mid-query; a new one works.
	c2 := connect(t, n, "root", rootPW)
	var one int
	if err := c2.QueryRow(tctx(t), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// TestPgxCancelRequest sends a CancelRequest on a second connection, as
// psql's Ctrl-C does, and checks the statement ends with 57014.
func TestPgxCancelRequest(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	done := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), `WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 1000000000) SELECT count(*) FROM r`)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := c.PgConn().CancelRequest(tctx(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		wantSQLState(t, err, "57014")
	case <-time.After(20 * time.Second):
		t.Fatal("CancelRequest did not stop the statement")
	}
	var one int
	if err := c.QueryRow(tctx(t), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("connection unusable after cancel: %v", err)
	}
}

func TestPgxTransactions(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	mustExec(t, c, `CREATE TABLE default.tx (id BIGINT PRIMARY KEY)`)
	tx, err := c.Begin(tctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(tctx(t), `INSERT INTO tx (id) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(tctx(t)); err != nil {
		t.Fatal(err)
	}
	// A second write in one block is refused and aborts the block.
	tx, _ = c.Begin(tctx(t))
	if _, err := tx.Exec(tctx(t), `INSERT INTO tx (id) VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(tctx(t), `INSERT INTO tx (id) VALUES (3)`)
	wantSQLState(t, err, "0A000")
	_, err = tx.Exec(tctx(t), `SELECT 1`)
	wantSQLState(t, err, "25P02")
	_ = tx.Rollback(tctx(t))
	// ROLLBACK of an applied write is an error, never silent.
	tx, _ = c.Begin(tctx(t))
	if _, err := tx.Exec(tctx(t), `INSERT INTO tx (id) VALUES (4)`); err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(tctx(t), "ROLLBACK")
	wantSQLState(t, err, "0A000")
	// Reads-only blocks roll back fine.
	tx, _ = c.Begin(tctx(t))
	if _, err := tx.Exec(tctx(t), `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(tctx(t)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(tctx(t), "SAVEPOINT a")
	wantSQLState(t, err, "0A000")
}

func TestPgxUserIsolationAndAuth(t *testing.T) {
	n := startNode(t)
	root := connect(t, n, "root", rootPW)
	mustExec(t, root, `CREATE USER alice WITH PASSWORD 'alice-password-1' ROLE user`)
	mustExec(t, root, `CREATE USER bob WITH PASSWORD 'bob-password-12' ROLE user`)
	mustExec(t, root, `CREATE USER TABLE default.notes (id BIGINT PRIMARY KEY, body TEXT)`)
	a := connect(t, n, "alice", "alice-password-1")
	b := connect(t, n, "bob", "bob-password-12")
	mustExec(t, a, `INSERT INTO notes (id, body) VALUES (1, 'alice note')`)
	mustExec(t, b, `INSERT INTO notes (id, body) VALUES (1, 'bob note')`)
	var body string
	if err := a.QueryRow(tctx(t), `SELECT body FROM notes WHERE id = 1`).Scan(&body); err != nil || body != "alice note" {
		t.Fatalf("alice sees %q %v", body, err)
	}
	if err := b.QueryRow(tctx(t), `SELECT body FROM notes WHERE id = $1`, int64(1)).Scan(&body); err != nil || body != "bob note" {
		t.Fatalf("bob sees %q %v", body, err)
	}
	var cu string
	if err := a.QueryRow(tctx(t), `SELECT current_user`).Scan(&cu); err != nil || cu != "alice" {
		t.Fatalf("current_user %q %v", cu, err)
	}
	_, err := pgx.Connect(tctx(t), dsn(n, "alice", "wrong-password"))
	wantSQLState(t, err, "28P01")
	_, err = pgx.Connect(tctx(t), dsn(n, "nobody", "wrong-password"))
	wantSQLState(t, err, "28P01")
	// Permission errors map to 42501.
	_, err = a.Exec(tctx(t), `CREATE NAMESPACE nope`)
	wantSQLState(t, err, "42501")
}

func TestPgxConnectTimeQueries(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	var v, schema, db string
	if err := c.QueryRow(tctx(t), `SELECT version(), current_schema(), current_database()`).Scan(&v, &schema, &db); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v, "PostgreSQL 15") || !strings.Contains(v, "KalamDB") || schema != "default" || db != "kalamdb" {
		t.Fatalf("got %q %q %q", v, schema, db)
	}
	var s string
	if err := c.QueryRow(tctx(t), `SHOW standard_conforming_strings`).Scan(&s); err != nil || s != "on" {
		t.Fatalf("SHOW: %q %v", s, err)
	}
	mustExec(t, c, `SET application_name = 'tests'`)
	if err := c.QueryRow(tctx(t), `SHOW application_name`).Scan(&s); err != nil || s != "tests" {
		t.Fatalf("SHOW application_name: %q %v", s, err)
	}
	if c.PgConn().ParameterStatus("application_name") != "tests" {
		t.Fatalf("no ParameterStatus for application_name")
	}
	mustExec(t, c, `CREATE NAMESPACE shop`)
	mustExec(t, c, `SET search_path TO shop`)
	if err := c.QueryRow(tctx(t), `SELECT current_schema()`).Scan(&s); err != nil || s != "shop" {
		t.Fatalf("search_path: %q %v", s, err)
	}
	_, err := c.Exec(tctx(t), `SET client_encoding = 'LATIN1'`)
	wantSQLState(t, err, "0A000")
}
