package sql

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// systemView is a read-only table computed from the catalog on each scan.
type systemView struct {
	columns []viewColumn
	rows    func(cs *connState) ([][]any, error)
}

type viewColumn struct {
	name string
	typ  datatype.Type
}

func col(name string, k datatype.Kind) viewColumn { return viewColumn{name, datatype.Type{Kind: k}} }

// systemViews are the admin-only system.* tables. Users' password hashes are
// deliberately not exposed (upstream shows them to admins).
var systemViews = map[string]*systemView{
	"live":      liveView,
	"audit_log": auditLogView,
	"namespaces": {
		columns: []viewColumn{col("namespace_id", datatype.Text), col("name", datatype.Text), col("created_at", datatype.Timestamp), col("options", datatype.JSON), col("table_count", datatype.Int)},
		rows: func(cs *connState) ([][]any, error) {
			var out [][]any
			for _, n := range cs.eng.cat.Namespaces() {
				out = append(out, []any{n.Name, n.Name, n.CreatedAt * 1000, jsonText(n.Options), int64(len(cs.eng.cat.Tables(n.Name)))})
			}
			return out, nil
		},
	},
	"tables": {
		columns: []viewColumn{col("namespace_id", datatype.Text), col("table_name", datatype.Text), col("table_type", datatype.Text), col("storage_id", datatype.Text), col("version", datatype.Int), col("options", datatype.JSON), col("comment", datatype.Text), col("updated_at", datatype.Timestamp), col("created_at", datatype.Timestamp), col("table_id", datatype.BigInt),
			col("access_level", datatype.Text), col("flush_policy", datatype.Text), col("ttl_seconds", datatype.BigInt), col("compression", datatype.Text)},
		rows: func(cs *connState) ([][]any, error) {
			var out [][]any
			for _, t := range cs.eng.cat.Tables("") {
				var ttl any
				if t.TTLSeconds > 0 {
					ttl = t.TTLSeconds
				}
				out = append(out, []any{t.Namespace, t.Name, string(t.Type), t.StorageID, int64(t.SchemaVersion), jsonText(t.Options), t.Comment, t.UpdatedAt * 1000, t.CreatedAt * 1000, int64(t.ID),
					nullIfEmpty(t.AccessLevel), nullIfEmpty(t.FlushPolicy), ttl, nullIfEmpty(t.Compression)})
			}
			return out, nil
		},
	},
	"schemas": {
		columns: []viewColumn{col("table_id", datatype.BigInt), col("table_name", datatype.Text), col("namespace_id", datatype.Text), col("table_type", datatype.Text), col("created_at", datatype.Timestamp), col("schema_version", datatype.Int), col("columns", datatype.JSON), col("table_comment", datatype.Text), col("updated_at", datatype.Timestamp), col("options", datatype.JSON), col("access_level", datatype.Text), col("is_latest", datatype.Boolean), col("storage_id", datatype.Text)},
		rows: func(cs *connState) ([][]any, error) {
			var out [][]any
			err := scanCatalogRecords(cs.snap, keys.CatalogPrefix(catalog.RecSchema), "schema history", func(t *catalog.Table) {
				live, ok := cs.eng.cat.TableByID(t.ID)
				if !ok {
					return // dropped table
				}
				out = append(out, []any{int64(t.ID), t.Name, t.Namespace, string(t.Type), t.CreatedAt * 1000, int64(t.SchemaVersion), upstreamColumnsJSON(t.Columns), t.Comment, t.UpdatedAt * 1000, upstreamTableOptions(t), t.AccessLevel, live.SchemaVersion == t.SchemaVersion, t.StorageID})
			})
			return out, err
		},
	},
	"users": {
		columns: []viewColumn{col("user_id", datatype.Text), col("role", datatype.Text), col("email", datatype.Text), col("auth_type", datatype.Text), col("created_at", datatype.Timestamp), col("updated_at", datatype.Timestamp), col("deleted_at", datatype.Timestamp), col("failed_login_attempts", datatype.Int), col("locked_until", datatype.Timestamp)},
		rows: func(cs *connState) ([][]any, error) {
			var out [][]any
			now := cs.eng.now()
			for _, u := range cs.eng.cat.Users() {
				var del, locked any
				if u.DeletedAt != 0 {
					del = u.DeletedAt * 1000
				}
				if until, ok := cs.eng.lockout.LockedUntil(u.UserID, now); ok {
					locked = until.UnixMicro()
				}
				out = append(out, []any{u.UserID, u.Role, nullIfEmpty(u.Email), u.AuthType, u.CreatedAt * 1000, u.UpdatedAt * 1000, del, int64(cs.eng.lockout.FailedAttempts(u.UserID)), locked})
			}
			return out, nil
		},
	},
}

func jsonText(m map[string]string) any {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// systemModule serves system views: USING kalam_system(<conn id>, <view>).
var systemModule = connectModule(connectSystem)

type systemTable struct {
	cs   *connState
	view *systemView
}

func connectSystem(ctx vtab.Context, args []string) (vtab.Table, error) {
	if len(args) < 5 {
		return nil, fmt.Errorf("kalam_system vtab: want (conn, view), got %v", args)
	}
	cs, err := lookupConn(strings.TrimSpace(args[3]))
	if err != nil {
		return nil, err
	}
	v, ok := lookupView(strings.TrimSpace(args[4]))
	if !ok {
		return nil, fmt.Errorf("kalam_system vtab: unknown view %q", args[4])
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE x(")
	for i, c := range v.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", quoteIdent(c.name), c.typ.SQLiteDecl())
	}
	b.WriteString(")")
	if err := ctx.Declare(b.String()); err != nil {
		return nil, err
	}
	return &systemTable{cs: cs, view: v}, nil
}

func (t *systemTable) BestIndex(info *vtab.IndexInfo) error {
	info.EstimatedCost, info.EstimatedRows = 1000, 1000
	return nil
}

func (t *systemTable) Open() (vtab.Cursor, error) { return &systemCursor{t: t}, nil }
func (t *systemTable) Disconnect() error          { return nil }
func (t *systemTable) Destroy() error             { return nil }

type systemCursor struct {
	t    *systemTable
	rows [][]any
	i    int
}

func (c *systemCursor) Filter(int, string, []vtab.Value) error {
	rows, err := c.t.view.rows(c.t.cs)
	c.rows, c.i = rows, 0
	return err
}

func (c *systemCursor) Next() error { c.i++; return nil }
func (c *systemCursor) Eof() bool   { return c.i >= len(c.rows) }

func (c *systemCursor) Column(i int) (vtab.Value, error) {
	if i < 0 || i >= len(c.t.view.columns) {
		return nil, fmt.Errorf("kalam_system vtab: column %d out of range", i)
	}
	return toSQLite(c.t.view.columns[i].typ, c.rows[c.i][i]), nil
}

func (c *systemCursor) Rowid() (int64, error) { return int64(c.i), nil }
func (c *systemCursor) Close() error          { return nil }

var _ = strconv.Itoa
