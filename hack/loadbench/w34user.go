package main

import (
	"context"
	"fmt"
	randv2 "math/rand/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// runW34User runs ../shared/peerbench's W3 and W4 query texts as a login of
// role user, the way applications read: root creates bench.messages (a USER
// table) with peerbench's index on user_id and the login; the login loads
// the 100k rows into its own partition and then reads them. (peerbench's
// KalamDB driver logs in as root, whose reads of a USER table take the
// all-users path.) W3: 50 untimed then 2,000 timed PK lookups with
// peerbench's ids (PCG(1, 2)) (lookups: --w3); W4: 3 untimed then 50 timed GROUP BY runs
// over user_id = 'u0', checked for 100 groups.
func runW34User(ctx context.Context, url, user, password string, nrows, lookups int) error {
	root, err := setupBench(ctx, url, user, password)
	if err != nil {
		return err
	}
	const login, loginPW = "benchuser", "bench-user-password"
	setup := `CREATE INDEX IF NOT EXISTS messages_user_id ON bench.messages (user_id);
		CREATE USER IF NOT EXISTS ` + login + ` WITH PASSWORD '` + loginPW + `' ROLE user`
	if _, err := root.SQL(ctx, setup); err != nil {
		return err
	}
	c := client.New(url)
	if _, err := c.Login(ctx, login, loginPW); err != nil {
		return err
	}
	for b := 0; b < nrows/1000; b++ {
		if _, err := c.SQL(ctx, insertBatch(b)); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	rng := randv2.New(randv2.NewPCG(1, 2))
	get := func(int) error {
		id := 1 + rng.Int64N(int64(nrows))
		rows, err := c.Rows(ctx, fmt.Sprintf("SELECT id, user_id, conversation_id, body, created_at FROM bench.messages WHERE id = %d", id))
		if err == nil && len(rows) != 1 {
			err = fmt.Errorf("id %d: %d rows", id, len(rows))
		}
		return err
	}
	for i := 0; i < 50; i++ {
		if err := get(i); err != nil {
			return err
		}
	}
	st, err := timed(lookups, get)
	if err != nil {
		return fmt.Errorf("W3: %w", err)
	}
	st.name, st.units, st.unit = "W3 PK lookup (role user)", lookups, "lookups"
	st.print()
	q := "SELECT conversation_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM bench.messages WHERE user_id = 'u0' GROUP BY conversation_id LIMIT 1000"
	agg := func(int) error {
		rows, err := c.Rows(ctx, q)
		if err == nil && len(rows) != 100 {
			err = fmt.Errorf("%d groups, want 100", len(rows))
		}
		return err
	}
	for i := 0; i < 3; i++ {
		if err := agg(i); err != nil {
			return err
		}
	}
	if st, err = timed(50, agg); err != nil {
		return fmt.Errorf("W4: %w", err)
	}
	st.name, st.units, st.unit = "W4 GROUP BY via index (role user)", 50, "queries"
	st.print()
	return nil
}
