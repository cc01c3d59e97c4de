package pgdiff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PG is the oracle's session with PostgreSQL: pgx's pgconn speaking the
// simple query protocol (each statement in its own implicit transaction,
// text results, as psql sends them).
type PG struct {
	conn *pgconn.PgConn
}

// DialPG connects to addr (host:port) as user to database db; the
// cluster must trust local connections (hack/pgdiff.sh starts it so).
func DialPG(ctx context.Context, addr, user, db string) (*PG, error) {
	conn, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&client_encoding=UTF8", user, addr, db))
	if err != nil {
		return nil, fmt.Errorf("while connecting to PostgreSQL at %s: %w", addr, err)
	}
	return &PG{conn: conn}, nil
}

// Close ends the session.
func (p *PG) Close() error { return p.conn.Close(context.Background()) }

// Query runs sql (one or more statements) and returns the answer of its
// last statement; a PostgreSQL error is an Answer with Err set to the
// SQLSTATE, and err is for broken connections only.
func (p *PG) Query(sql string, timeout time.Duration) (Answer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return SimpleQuery(ctx, p.conn, sql)
}

// SimpleQuery runs sql in the simple query protocol and returns the answer
// of its last statement, like Query.
func SimpleQuery(ctx context.Context, pc *pgconn.PgConn, sql string) (Answer, error) {
	var a Answer
	var err error
	mrr := pc.Exec(ctx, sql)
	for mrr.NextResult() {
		if a, err = readResult(mrr.ResultReader()); err != nil {
			break
		}
	}
	if cerr := mrr.Close(); err == nil {
		err = cerr
	}
	return answerOrError(a, err)
}

// ExtendedQuery runs one statement in the extended query protocol (unnamed
// statement and portal, no parameters, text results) and returns its answer.
func ExtendedQuery(ctx context.Context, pc *pgconn.PgConn, sql string) (Answer, error) {
	return answerOrError(readResult(pc.ExecParams(ctx, sql, nil, nil, nil, nil)))
}

// answerOrError turns a statement error into an Answer carrying its SQLSTATE.
func answerOrError(a Answer, err error) (Answer, error) {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		if pe.Code == "" {
			return Answer{}, fmt.Errorf("error without SQLSTATE: %w", err)
		}
		return Answer{Err: pe.Code}, nil
	case err != nil:
		return Answer{}, err
	case a.Cols == nil:
		return Answer{Err: "NO_RESULT"}, nil
	}
	return a, nil
}

// readResult reads one statement's result. Its columns come from the
// RowDescription even when no row follows (pgconn's ResultReader.Read
// keeps them only with rows); a statement without rows has no columns.
func readResult(rr *pgconn.ResultReader) (Answer, error) {
	a := Answer{Cols: []string{}, Rows: [][]*string{}}
	for rr.NextRow() {
		row := rr.Values()
		vals := make([]*string, len(row))
		for i, v := range row {
			if v != nil {
				s := string(v)
				vals[i] = &s
			}
		}
		a.Rows = append(a.Rows, vals)
	}
	for _, f := range rr.FieldDescriptions() {
		a.Cols = append(a.Cols, f.Name)
	}
	_, err := rr.Close()
	return a, err
}
