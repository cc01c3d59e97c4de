package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// runW3User is W3 the way an application reads a USER table: KalamDB's
// side logs in as a role-user login (root creates the table and the login;
// the login loads peerbench's rows with W2's statements into its own
// partition and looks them up), PostgreSQL's as its superuser, both with
// pgx's prepared binary protocol. (Root's SELECT of a USER table reads
// every user's rows, so it misses the per-user point lookup.) The W3 rounds
// alternate between the targets so both see the same load; the medians of
// the rounds' p50s and their ratio are printed last.
func runW3User(ctx context.Context, pgDSN string, rows, lookups, rounds int) error {
	addr, stopK, err := startKalamAddr()
	if err != nil {
		return err
	}
	defer stopK()
	const cols = "(id BIGINT PRIMARY KEY, user_id TEXT, conversation_id TEXT, body TEXT, created_at TIMESTAMP)"
	const login, loginPW = "benchuser", "bench-user-password"
	rootDSN := "postgres://root:" + kalamRootPW + "@" + addr + "/kalamdb?sslmode=disable"
	root, err := pgx.Connect(ctx, rootDSN)
	if err != nil {
		return fmt.Errorf("while connecting to kalamdb as root: %w", err)
	}
	defer root.Close(context.Background())
	for _, q := range []string{
		"CREATE NAMESPACE IF NOT EXISTS bench",
		"CREATE USER TABLE bench.messages " + cols,
		"CREATE USER IF NOT EXISTS " + login + " WITH PASSWORD '" + loginPW + "' ROLE user",
	} {
		if _, err := root.Exec(ctx, q); err != nil {
			return fmt.Errorf("while setting up kalamdb (%s): %w", q, err)
		}
	}
	pg := &target{name: "postgres", table: "messages", ddl: "CREATE TABLE %s " + cols}
	kt := &target{name: "kalamdb-pgwire", table: "bench.messages"}
	if pg.conn, err = pgx.Connect(ctx, pgDSN); err != nil {
		return fmt.Errorf("while connecting to postgres: %w", err)
	}
	defer pg.conn.Close(context.Background())
	if kt.conn, err = pgx.Connect(ctx, "postgres://"+login+":"+loginPW+"@"+addr+"/kalamdb?sslmode=disable"); err != nil {
		return fmt.Errorf("while connecting to kalamdb as %s: %w", login, err)
	}
	defer kt.conn.Close(context.Background())
	if _, err := runW2(ctx, pg, rows, 1000); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	// The login cannot DROP/CREATE: load its partition without runW2's reset.
	if _, err := loadRows(ctx, kt, rows, 1000); err != nil {
		return fmt.Errorf("kalamdb: %w", err)
	}
	p50 := map[string][]time.Duration{}
	for r := range rounds {
		for _, t := range []*target{pg, kt} {
			res, err := runW3(ctx, t, rows, lookups)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			p50[t.name] = append(p50[t.name], res.p50)
			fmt.Printf("round %d %-16s W3 p50 %8s p99 %8s %8.0f lookups/s\n", r+1, t.name, res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.rate)
		}
	}
	mp, mk := median(p50[pg.name]), median(p50[kt.name])
	fmt.Printf("W3 median p50: postgres %s, kalamdb-pgwire (role user) %s, ratio %.2fx\n", mp.Round(time.Microsecond), mk.Round(time.Microsecond), float64(mk)/float64(mp))
	return nil
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
