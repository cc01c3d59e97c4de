package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Typed helpers for administrative SQL, used by the operator. Every helper
// runs exactly one statement, so a failure names the statement that failed.

// Quote returns s as an SQL string literal.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Record is one result row keyed by column name.
type Record map[string]any

// Records runs one query and returns its rows keyed by column name.
func (c *Client) Records(ctx context.Context, sql string, params ...any) ([]Record, error) {
	res, err := c.SQL(ctx, sql, params...)
	if err != nil {
		return nil, err
	}
	if len(res.Results) == 0 {
		return nil, nil
	}
	r := res.Results[len(res.Results)-1]
	out := make([]Record, 0, len(r.Rows))
	for _, row := range r.Rows {
		rec := make(Record, len(r.Schema))
		for i, f := range r.Schema {
			if i < len(row) {
				rec[f.Name] = row[i]
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// String returns a column as text ("" for NULL).
func (r Record) String(col string) string {
	switch v := r[col].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// Int returns a numeric column (BIGINT arrives as a string).
func (r Record) Int(col string) int64 {
	n, _ := strconv.ParseInt(r.String(col), 10, 64)
	return n
}

// Bool returns a boolean column.
func (r Record) Bool(col string) bool {
	switch v := r[col].(type) {
	case bool:
		return v
	case string:
		return v == "true" || v == "1"
	case json.Number:
		return v.String() == "1"
	}
	return false
}

// IsCode reports whether err is an APIError with the given code.
func IsCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// NamespaceExists reports whether namespace ns exists.
func (c *Client) NamespaceExists(ctx context.Context, ns string) (bool, error) {
	recs, err := c.Records(ctx, "SELECT namespace_id FROM system.namespaces WHERE namespace_id = $1", ns)
	if err != nil {
		return false, fmt.Errorf("while reading system.namespaces: %w", err)
	}
	return len(recs) > 0, nil
}

// TableInfo is a table's catalog entry and current columns.
type TableInfo struct {
	ID            int64
	Type          string
	SchemaVersion int64
	StorageID     string
	AccessLevel   string
	Columns       []ColumnInfo
	// Options are the table's stored WITH options; nil when the server
	// predates their columns in system.tables.
	Options *TableOptions
}

// TableOptions are the options system.tables reports for a table.
type TableOptions struct {
	// FlushPolicy is "rows:N", "interval:S" or "rows:N,interval:S" ("" when none).
	FlushPolicy string
	// TTLSeconds of a STREAM table (0 otherwise).
	TTLSeconds int64
	// Compression is the Parquet codec (snappy, zstd or none).
	Compression string
}

// ColumnInfo is one row of DESCRIBE TABLE.
type ColumnInfo struct {
	Name       string
	DataType   string
	Nullable   bool
	PrimaryKey bool
	// Default is the SQL rendering of the default ("" when none).
	Default string
}

// DescribeTable returns ns.name, or nil when the table does not exist.
func (c *Client) DescribeTable(ctx context.Context, ns, name string) (*TableInfo, error) {
	// SELECT *: the option columns are read when the server has them.
	recs, err := c.Records(ctx, "SELECT * FROM system.tables WHERE namespace_id = $1 AND table_name = $2", ns, name)
	if err != nil {
		return nil, fmt.Errorf("while reading system.tables: %w", err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	r := recs[0]
	t := &TableInfo{ID: r.Int("table_id"), Type: r.String("table_type"),
		SchemaVersion: r.Int("version"), StorageID: r.String("storage_id")}
	if _, ok := r["flush_policy"]; ok {
		t.AccessLevel = r.String("access_level")
		t.Options = &TableOptions{FlushPolicy: r.String("flush_policy"), TTLSeconds: r.Int("ttl_seconds"), Compression: r.String("compression")}
	} else {
		shows, err := c.Records(ctx, "SHOW TABLES IN "+ns)
		if err != nil {
			return nil, fmt.Errorf("while listing tables of %s: %w", ns, err)
		}
		for _, s := range shows {
			if s.String("table_name") == name {
				t.AccessLevel = s.String("access_level")
			}
		}
	}
	cols, err := c.Records(ctx, "DESCRIBE TABLE "+ns+"."+name)
	if err != nil {
		return nil, fmt.Errorf("while describing %s.%s: %w", ns, name, err)
	}
	for _, r := range cols {
		t.Columns = append(t.Columns, ColumnInfo{Name: r.String("column_name"), DataType: r.String("data_type"),
			Nullable: r.Bool("is_nullable"), PrimaryKey: r.Bool("is_primary_key"), Default: r.String("column_default")})
	}
	return t, nil
}

// BackupStarted is the answer to BACKUP ... TO (C2).
type BackupStarted struct {
	BackupID, JobID, Target, Status string
}

// Backup starts BACKUP DATABASE (namespace "") or BACKUP NAMESPACE ns to target.
func (c *Client) Backup(ctx context.Context, namespace, target string) (*BackupStarted, error) {
	stmt := "BACKUP DATABASE TO " + Quote(target)
	if namespace != "" {
		stmt = "BACKUP NAMESPACE " + namespace + " TO " + Quote(target)
	}
	recs, err := c.Records(ctx, stmt)
	if err != nil {
		return nil, err
	}
	if len(recs) != 1 {
		return nil, fmt.Errorf("%s: want one row, got %d", stmt, len(recs))
	}
	r := recs[0]
	return &BackupStarted{BackupID: r.String("backup_id"), JobID: r.String("job_id"), Target: r.String("target"), Status: r.String("status")}, nil
}

// Job is a row of system.jobs.
type Job struct {
	Status       string
	Error        string
	BytesWritten int64
}

// Job returns the job with the given id, or nil when it is unknown.
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	recs, err := c.Records(ctx, "SELECT status, error_message, bytes_written FROM system.jobs WHERE job_id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("while reading job %s: %w", id, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return &Job{Status: recs[0].String("status"), Error: recs[0].String("error_message"), BytesWritten: recs[0].Int("bytes_written")}, nil
}

// BackupInfo is a row of SHOW BACKUPS.
type BackupInfo struct {
	BackupID, Scope, Status string
	SizeBytes               int64
}

// ShowBackups lists the backups at target.
func (c *Client) ShowBackups(ctx context.Context, target string) ([]BackupInfo, error) {
	recs, err := c.Records(ctx, "SHOW BACKUPS IN "+Quote(target))
	if err != nil {
		return nil, err
	}
	out := make([]BackupInfo, 0, len(recs))
	for _, r := range recs {
		out = append(out, BackupInfo{BackupID: r.String("backup_id"), Scope: r.String("scope"), Status: r.String("status"), SizeBytes: r.Int("size_bytes")})
	}
	return out, nil
}

// DeleteBackupsKeepLast applies a retention policy at target and returns the
// deleted backup ids. maxAge is a Go duration ("" for none).
func (c *Client) DeleteBackupsKeepLast(ctx context.Context, target string, keep int, maxAge string) ([]string, error) {
	stmt := fmt.Sprintf("DELETE BACKUPS IN %s KEEP LAST %d", Quote(target), keep)
	if maxAge != "" {
		stmt += " MAX AGE " + Quote(maxAge)
	}
	recs, err := c.Records(ctx, stmt)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.String("backup_id"))
	}
	return ids, nil
}

// DeleteBackup deletes one backup (DELETE BACKUP 'id' IN 'target'). A
// backup the data plane does not know (NOT_FOUND) is already gone: that is
// success, so a retried deletion converges.
func (c *Client) DeleteBackup(ctx context.Context, target, id string) error {
	_, err := c.Records(ctx, "DELETE BACKUP "+Quote(id)+" IN "+Quote(target))
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "NOT_FOUND" {
		return nil
	}
	return err
}

// StorageCheck runs STORAGE CHECK id and reports whether the storage is
// healthy, with the server's detail when it is not.
func (c *Client) StorageCheck(ctx context.Context, id string) (bool, string, error) {
	recs, err := c.Records(ctx, "STORAGE CHECK "+id)
	if err != nil {
		return false, "", err
	}
	if len(recs) == 0 {
		return false, "no result", nil
	}
	r := recs[0]
	if r.String("status") == "healthy" {
		return true, "", nil
	}
	return false, r.String("error"), nil
}

// ServerVersion returns the version /healthz reports.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	status, body, err := c.Do(ctx, "GET", "/healthz", nil, false)
	if err != nil {
		return "", err
	}
	if status != 200 {
		return "", &APIError{HTTPStatus: status, Code: "HTTP_ERROR", Message: strings.TrimSpace(string(body))}
	}
	var h struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return "", fmt.Errorf("while decoding /healthz: %w", err)
	}
	return h.Version, nil
}
