package sql

import (
	"context"
	"errors"
	"testing"
)

// TestRefuseNodeLocalStorage: with Options.RefuseNodeLocalStorage (a
// replicated cluster) a table on the built-in node-local storage is
// refused with NODE_LOCAL_STORAGE and not created; STREAM tables, never
// flushed, are not.
func TestRefuseNodeLocalStorage(t *testing.T) {
	e := newTestEngine(t)
	e.opts.RefuseNodeLocalStorage = true
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE SHARED TABLE default.t (id BIGINT PRIMARY KEY)",
		"CREATE USER TABLE default.t (id BIGINT PRIMARY KEY) WITH (STORAGE_ID = 'local')",
	} {
		_, err := e.Execute(ctx, rootSess, Request{SQL: "CREATE NAMESPACE IF NOT EXISTS default; " + stmt})
		var ke *Error
		if !errors.As(err, &ke) || ke.Code != CodeNodeLocalStorage || ke.Status != 400 {
			t.Fatalf("%s: %v, want %s", stmt, err, CodeNodeLocalStorage)
		}
	}
	if _, ok := e.Catalog().Table("default", "t"); ok {
		t.Fatal("the refused table was created")
	}
	exec(t, e, rootSess, "CREATE STREAM TABLE default.s (id BIGINT, v TEXT) WITH (TTL_SECONDS = 60)")
	e.opts.RefuseNodeLocalStorage = false
	exec(t, e, rootSess, "CREATE SHARED TABLE default.t (id BIGINT PRIMARY KEY)")
}
