package sql

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// connectModule adapts a connect function to vtab.Module. Every KalamDB
// module is a temp table over state held in Go, so CREATE and CONNECT do
// the same thing: bind the arguments and declare the columns.
type connectModule func(ctx vtab.Context, args []string) (vtab.Table, error)

// Create implements vtab.Module.
func (f connectModule) Create(ctx vtab.Context, args []string) (vtab.Table, error) {
	return f(ctx, args)
}

// Connect implements vtab.Module.
func (f connectModule) Connect(ctx vtab.Context, args []string) (vtab.Table, error) {
	return f(ctx, args)
}

// vtabTable resolves the <table id> argument of a kalam or kalam_row vtab.
func vtabTable(cat *catalog.Cache, module, arg string) (*catalog.Table, error) {
	id, err := strconv.ParseUint(strings.TrimSpace(arg), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%s vtab: bad table id %q", module, arg)
	}
	t, ok := cat.TableByID(uint32(id))
	if !ok {
		return nil, fmt.Errorf("%s vtab: table %d not found", module, id)
	}
	return t, nil
}

// declareTable declares a table's columns plus the hidden _seq, _updated
// and _deleted (sysColumns). The kalam and kalam_row modules both use it so
// that a live query's WHERE over one row sees exactly the names and
// declared types a SELECT sees. With starSys (Options.
// SelectStarSystemColumns) _seq and _deleted are not hidden, so SELECT *
// ends with them as the original project's does.
func declareTable(ctx vtab.Context, module string, t *catalog.Table, starSys bool) error {
	var b strings.Builder
	b.WriteString("CREATE TABLE x(")
	for _, c := range t.Columns {
		hidden := ""
		if c.Hidden {
			hidden = " HIDDEN"
		}
		fmt.Fprintf(&b, "%s %s%s, ", quoteIdent(c.Name), c.Type.SQLiteDecl(), hidden)
	}
	if starSys {
		b.WriteString("_seq BIGINT, _updated TIMESTAMP_INT HIDDEN, _deleted BOOLEAN")
	} else {
		b.WriteString("_seq BIGINT HIDDEN, _updated TIMESTAMP_INT HIDDEN, _deleted BOOLEAN HIDDEN")
	}
	// The stored text of wide DECIMAL columns, for exact twins
	// (parse/rewrite_exact.go): a double cannot carry their digits.
	for _, k := range exactStoredColumns(t) {
		fmt.Fprintf(&b, ", %s TEXT HIDDEN", quoteIdent(parse.ExactColumnName(t.Columns[k].Name)))
	}
	b.WriteString(")")
	if err := ctx.Declare(b.String()); err != nil {
		return fmt.Errorf("%s vtab: declare %s: %w", module, t.QualifiedName(), err)
	}
	return nil
}

// exactStoredColumns lists the positions of t's DECIMAL columns wider
// than a double's 15 exact digits: each has a hidden text column after
// the system columns (declareTable), in this order.
func exactStoredColumns(t *catalog.Table) []int {
	var out []int
	for k, c := range t.Columns {
		if c.Type.Kind == datatype.Decimal && c.Type.Precision > parse.ExactDoubleDigits {
			out = append(out, k)
		}
	}
	return out
}

// exactStoredColumn maps a column number past the system columns to the
// DECIMAL column whose stored text it is (-1: none).
func exactStoredColumn(t *catalog.Table, i int) int {
	k := i - len(t.Columns) - 3
	if k < 0 {
		return -1
	}
	cols := exactStoredColumns(t)
	if k >= len(cols) {
		return -1
	}
	return cols[k]
}

// iterReader is what scanCatalogRecords needs of a snapshot or the DB.
type iterReader interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// scanCatalogRecords decodes every JSON catalog record under prefix p, in
// key order, from the reader r (a pinned snapshot or the DB) and hands each
// to fn. what names the records in errors.
func scanCatalogRecords[T any](r iterReader, p []byte, what string, fn func(*T)) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var v T
		if err := json.Unmarshal(it.Value(), &v); err != nil {
			return fmt.Errorf("while reading %s: %w", what, err)
		}
		fn(&v)
	}
	return it.Error()
}
