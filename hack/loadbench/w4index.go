package main

import (
	"context"
	"fmt"
)

// runW4Index reproduces ../shared/peerbench's KalamDB W4 shape: all rows in
// the caller's one partition (a USER table written by one login), and the
// GROUP BY filtered on the ordinary user_id column (10 values, 10k rows
// each). It measures the query without an index, then after
// CREATE INDEX on user_id, in the same run (peerbench's KalamDB driver
// recreates its table and creates no index).
func runW4Index(ctx context.Context, url, user, password string, nrows int) error {
	root, err := setupBench(ctx, url, user, password)
	if err != nil {
		return err
	}
	for b := 0; b < nrows/1000; b++ {
		if _, err := root.SQL(ctx, insertBatch(b)); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	// The peerbench query text (kalamdb.go W4), literal SQL.
	q := "SELECT conversation_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM bench.messages WHERE user_id = 'u0' GROUP BY conversation_id LIMIT 1000"
	measure := func(name string) error {
		for i := 0; i < 3; i++ {
			if _, err := root.SQL(ctx, q); err != nil {
				return err
			}
		}
		st, err := timed(50, func(int) error {
			rows, err := root.Rows(ctx, q)
			if err == nil && len(rows) != 100 {
				err = fmt.Errorf("%d groups, want 100", len(rows))
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		st.name, st.units, st.unit = name, 50, "queries"
		st.print()
		return nil
	}
	if err := measure("W4 peerbench shape, no index"); err != nil {
		return err
	}
	if _, err := root.SQL(ctx, "CREATE INDEX messages_user_id ON bench.messages (user_id)"); err != nil {
		return err
	}
	return measure("W4 peerbench shape, index on user_id")
}
