package pgwire_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestDescribeExecutesNothing: Describe of a statement (pgx's Prepare) or
// of a bound portal runs nothing — an INSERT or DELETE described and never
// executed changes no row, and a SELECT's columns come from the plan with
// no row read.
func TestDescribeExecutesNothing(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	ctx := tctx(t)
	mustExec(t, c, "CREATE SHARED TABLE default.dt (id BIGINT PRIMARY KEY, v TEXT, ts TIMESTAMP)")
	mustExec(t, c, "INSERT INTO default.dt (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	count := func() int64 {
		t.Helper()
		var got int64
		if err := c.QueryRow(ctx, "SELECT count(*) FROM default.dt").Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	pc := c.PgConn()
	eng := n.Engine()
	before := eng.ScanStats()

	// Parse + Describe statement.
	for _, q := range []string{"DELETE FROM default.dt WHERE id > $1", "INSERT INTO default.dt (id, v) VALUES ($1, $2)", "UPDATE default.dt SET v = $1 WHERE id > $2"} {
		sd, err := pc.Prepare(ctx, "", q, nil)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(sd.Fields) != 0 {
			t.Errorf("%s: described columns %v", q, sd.Fields)
		}
	}
	sd, err := c.Prepare(ctx, "sel", "SELECT id, v, ts FROM default.dt WHERE id >= $1 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{pgtype.Int8OID, pgtype.TextOID, pgtype.TimestampOID}
	if len(sd.Fields) != len(want) {
		t.Fatalf("described %v", sd.Fields)
	}
	for i, f := range sd.Fields {
		if f.DataTypeOID != want[i] {
			t.Errorf("column %s: OID %d, want %d", f.Name, f.DataTypeOID, want[i])
		}
	}

	// Parse, Bind, Describe portal, Close, Sync: never Execute.
	fe := pc.Frontend()
	for _, q := range []string{"DELETE FROM default.dt WHERE id >= $1", "SELECT id, v FROM default.dt WHERE id >= $1"} {
		fe.Send(&pgproto3.Parse{Query: q})
		fe.Send(&pgproto3.Bind{Parameters: [][]byte{[]byte("0")}})
		fe.Send(&pgproto3.Describe{ObjectType: 'P'})
		fe.Send(&pgproto3.Close{ObjectType: 'P'})
		fe.Send(&pgproto3.Sync{})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			msg, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, pgMsgName(msg))
			if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
				break
			}
		}
		wantDesc := "NoData"
		if q[0] == 'S' {
			wantDesc = "RowDescription"
		}
		if len(got) != 5 || got[2] != wantDesc {
			t.Errorf("%s: messages %v", q, got)
		}
	}
	if after := eng.ScanStats(); after != before {
		t.Errorf("Describe read storage: %+v, then %+v", before, after)
	}
	if got := count(); got != 3 {
		t.Fatalf("rows after Describe: %d, want 3", got)
	}
	// The described statement still runs.
	rows, err := c.Query(ctx, "sel", int64(2))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var v string
		var ts pgtype.Timestamp
		if err := rows.Scan(&id, &v, &ts); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) != 2 || ids[0] != 2 {
		t.Fatalf("ids %v, %v", ids, rows.Err())
	}
}

func pgMsgName(m pgproto3.BackendMessage) string {
	switch m.(type) {
	case *pgproto3.ParseComplete:
		return "ParseComplete"
	case *pgproto3.BindComplete:
		return "BindComplete"
	case *pgproto3.RowDescription:
		return "RowDescription"
	case *pgproto3.NoData:
		return "NoData"
	case *pgproto3.CloseComplete:
		return "CloseComplete"
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery"
	case *pgproto3.ErrorResponse:
		return "ErrorResponse"
	}
	return "other"
}
