// Package sql executes KalamDB SQL: the front end (package parse) classifies
// and parses statements; DDL and DML become engine commands; SELECT runs on
// SQLite over virtual tables that read the hot tier within the caller's
// scope (see vtab.go).
package sql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// Options tune the SQL engine.
type Options struct {
	// ReadBarrier, when set (a replicated node), makes the following local
	// reads of groups include every write acknowledged before it was
	// called (ReadIndex; dataplane/replication). A SELECT runs it on the
	// groups it reads before reading them (readfence.go), so it reads at
	// least every write acknowledged before the request started.
	// Request.Stale skips it.
	ReadBarrier func(ctx context.Context, groups []uint16) error
	// RefuseNodeLocalStorage (a cluster of several members) refuses tables
	// and storages on node-local filesystem storage with
	// CodeNodeLocalStorage: Parquet flushed there would exist on one
	// replica only (config cluster.allow_node_local_storage).
	RefuseNodeLocalStorage bool
	// RefuseNodeCounters (a cluster of several members) refuses INT and
	// SMALLINT AUTO_INCREMENT with CodeAutoIncrementInCluster: their
	// counter lives in each node's memory (autoinc.go), so two replicas
	// taking inserts into one table could hand out the same value.
	RefuseNodeCounters bool

	DefaultQueryLimit int
	MaxQueryLimit     int
	MaxSQLBytes       int
	MaxParams         int
	MaxParamBytes     int
	// MaxResultBytes bounds the rows one statement's answer holds
	// (resultBytes; 0: no bound); a larger one fails with
	// RESULT_TOO_LARGE.
	MaxResultBytes int
	BcryptCost     int
	PasswordPolicy auth.PasswordPolicy
	// PoolSize is the number of SQLite connections (concurrent SELECTs).
	PoolSize     int
	QueryTimeout time.Duration
	// AuditEnabled records administrative statements, logins and EXECUTE
	// AS in system.audit_log, keeping AuditRetention of history (audit.go).
	AuditEnabled   bool
	AuditRetention time.Duration
	// Lockout locks accounts after repeated failed logins (Authenticate).
	Lockout auth.LockoutPolicy
	// SelectStarSystemColumns: SELECT * of a table ends with _seq and
	// _deleted, as the original project's does (config compat).
	SelectStarSystemColumns bool
	// KalamTypeNames: result schemas name types as the original project
	// does ("BigInt"; WireSchema, config compat).
	KalamTypeNames bool
}

// DefaultOptions mirrors the upstream defaults (LIMIT 50 implicit, 1000 max).
func DefaultOptions() Options {
	return Options{
		DefaultQueryLimit: 50, MaxQueryLimit: 1000, MaxSQLBytes: 1 << 20,
		MaxParams: 50, MaxParamBytes: 512 << 10, MaxResultBytes: 64 << 20, BcryptCost: 12,
		PasswordPolicy: auth.PasswordPolicy{MinLength: 8, MaxLength: 1024},
		PoolSize:       8, QueryTimeout: 30 * time.Second,
		AuditEnabled: true, AuditRetention: defaultAuditRetention,
		Lockout: auth.LockoutPolicy{MaxAttempts: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute},
	}
}

// Session is who runs a statement and in which namespace.
type Session struct {
	UserID    string
	Role      auth.Role
	Namespace string
}

// Request is one HTTP SQL request: one or more statements.
type Request struct {
	SQL       string
	Params    []any
	Namespace string
	// Stale opts out of the replicated read barrier (Options.ReadBarrier):
	// reads may then miss recently acknowledged writes made through other
	// replicas, in exchange for no quorum round trip.
	Stale bool
}

// Field describes one result column.
type Field struct {
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Index    int    `json:"index"`
}

// Result is the outcome of one statement.
type Result struct {
	Schema   []Field
	Rows     [][]any
	RowCount int
	Message  string
	AsUser   string
	// Truncated is set when a query had more rows than the server returns
	// (limits.default_query_limit without LIMIT, limits.max_query_limit
	// with one); Message then says how to page. Rows are never dropped
	// silently.
	Truncated bool
}

// rowCapKey carries a per-statement row cap in a context (WithRowCap).
type rowCapKey struct{}

// WithRowCap returns a context under which SELECTs return every row up to
// n, ignoring limits.default_query_limit and limits.max_query_limit, and
// set Result.Truncated when there were more. The PostgreSQL wire listener
// uses it: its protocol cannot say an answer was cut, so it refuses one
// that would be instead.
func WithRowCap(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, rowCapKey{}, n)
}

// rowCaps returns the row caps for a statement under ctx: the default
// applied to a query without LIMIT, the hard maximum, and the maximum's name.
func (e *Engine) rowCaps(ctx context.Context) (def, max int, maxName string) {
	if n, ok := ctx.Value(rowCapKey{}).(int); ok && n > 0 {
		return n, n, "the connection's row cap"
	}
	return e.opts.DefaultQueryLimit, e.opts.MaxQueryLimit, "limits.max_query_limit"
}

// Engine executes SQL against one data plane.
type Engine struct {
	db   *pebble.DB
	cat  *catalog.Cache
	exec engine.Proposer
	pool *pool
	opts Options
	now  func() time.Time
	// stats counts how scans reached storage (tests and metrics).
	stats scanCounters
	// onStatement, when set, is told about every executed statement.
	onStatement func(kind string, took time.Duration, err error)
	rwMu        sync.Mutex
	rwCache     map[rewriteKey]*rewriteEntry
	// alterMu serialises ALTERs that fence writes (exec_alter_fence.go).
	alterMu sync.Mutex
	// indexMu serialises CREATE/DROP INDEX and index builds (exec_index.go).
	indexMu sync.Mutex
	// cold is the cold tier (nil: hot only); see exec_storage.go.
	cold *flush.Manager
	// liveReg is the live-query registry (system.live, KILL LIVE QUERY).
	liveReg atomic.Pointer[liveBox]
	// autoInc hands out INT/SMALLINT AUTO_INCREMENT values (autoinc.go).
	autoInc autoIncrements
	// backup runs BACKUP/RESTORE statements (exec_backup.go; nil: disabled).
	backup BackupService
	// configStorages are storage ids declared in server.toml (C1).
	configStorages map[string]bool
	// lockout tracks failed logins (exec_users.go Authenticate).
	lockout *auth.Lockout
	// ops feeds system.stats and system.settings (ops.go).
	ops atomic.Pointer[OpsInfo]
}

type scanCounters struct {
	pointGets, rangeScans, rowsRead atomic.Int64
	indexScans                      atomic.Int64
}

// ScanStats reports how virtual-table scans have reached storage so far.
type ScanStats struct {
	PointGets  int64 // primary-key equality lookups (Pebble point gets)
	RangeScans int64 // bounded iterator scans within one scope
	RowsRead   int64 // live and tombstone rows read from storage
	IndexScans int64 // secondary-index lookups (vtab_index.go)
}

// ScanStats returns cumulative scan counters.
func (e *Engine) ScanStats() ScanStats {
	return ScanStats{e.stats.pointGets.Load(), e.stats.rangeScans.Load(), e.stats.rowsRead.Load(), e.stats.indexScans.Load()}
}

// New builds an engine over an open hot tier, catalog and executor.
func New(db *pebble.DB, cat *catalog.Cache, ex engine.Proposer, opts Options) (*Engine, error) {
	e := &Engine{db: db, cat: cat, exec: ex, opts: opts, now: time.Now, rwCache: map[rewriteKey]*rewriteEntry{}}
	if e.opts.PoolSize <= 0 {
		e.opts.PoolSize = 8
	}
	p, err := newPool(e, e.opts.PoolSize)
	if err != nil {
		return nil, err
	}
	e.pool = p
	e.lockout = auth.NewLockout(e.opts.Lockout)
	e.restoreLocks()
	return e, nil
}

// Catalog exposes the catalog cache (read-only use).
func (e *Engine) Catalog() *catalog.Cache { return e.cat }

// Close releases SQLite connections.
func (e *Engine) Close() error { return e.pool.close() }

// Execute runs every statement of req in order and returns one result per
// statement. It stops at the first failing statement; earlier statements of
// the batch stay applied (there are no multi-statement transactions yet).
func (e *Engine) Execute(ctx context.Context, sess Session, req Request) ([]Result, error) {
	if strings.TrimSpace(req.SQL) == "" {
		return nil, badRequest(CodeEmptySQL, "SQL statement is empty")
	}
	if e.opts.MaxSQLBytes > 0 && len(req.SQL) > e.opts.MaxSQLBytes {
		return nil, badRequest(CodeInvalidInput, "SQL is %d bytes; the limit is %d", len(req.SQL), e.opts.MaxSQLBytes)
	}
	if err := e.checkParams(req.Params); err != nil {
		return nil, err
	}
	stmts, err := parse.SplitStatements(req.SQL)
	if err != nil {
		return nil, AsError(err)
	}
	if len(stmts) == 0 {
		return nil, badRequest(CodeEmptySQL, "SQL statement is empty")
	}
	if len(stmts) > 1 && len(req.Params) > 0 {
		return nil, badRequest(CodeParamsWithBatch, "parameters are only allowed with a single statement (got %d statements)", len(stmts))
	}
	if sess.Namespace == "" {
		sess.Namespace = req.Namespace
	}
	ctx, cancel := e.requestContext(ctx, &sess)
	defer cancel()
	ctx = e.withReadFence(ctx, req.Stale)
	out := make([]Result, 0, len(stmts))
	for _, text := range stmts {
		st, err := parse.Parse(text)
		if err != nil {
			return nil, AsError(err)
		}
		res, err := e.execCaughtUp(ctx, &sess, text, st, req.Params)
		if err != nil {
			return nil, err
		}
		out = append(out, *res)
	}
	return out, nil
}

// requestContext applies a request's defaults: the session's namespace
// ("default" when none) and limits.query_timeout.
func (e *Engine) requestContext(ctx context.Context, sess *Session) (context.Context, context.CancelFunc) {
	if sess.Namespace == "" {
		sess.Namespace = "default"
	}
	if e.opts.QueryTimeout > 0 {
		return context.WithTimeout(ctx, e.opts.QueryTimeout)
	}
	return ctx, func() {}
}

// execCaughtUp is execOne that, on a replicated node, answers NOT_FOUND
// only once the node has caught up: a table, namespace or user created
// through another replica may not be applied here yet (writes and DDL
// take no read barrier), so a NOT_FOUND is retried once after ReadIndex
// on the meta group (fenceCatalog). The lookup that fails precedes any
// write, so the retry is safe.
func (e *Engine) execCaughtUp(ctx context.Context, sess *Session, text string, st parse.Statement, params []any) (*Result, error) {
	var res *Result
	err := e.caughtUp(ctx, func() (err error) {
		res, err = e.execOne(ctx, sess, text, st, params)
		return err
	})
	return res, err
}

// caughtUp runs f and, on a replicated node, runs it once more after a
// ReadIndex on the meta group when it failed with NOT_FOUND: the object
// it looked up may have been created through another replica and not be
// applied here yet. f must change nothing before its lookup fails. Used by
// statements (execCaughtUp) and live subscriptions (PlanLive).
func (e *Engine) caughtUp(ctx context.Context, f func() error) error {
	err := f()
	var ke *Error
	if err == nil || e.opts.ReadBarrier == nil || !errors.As(err, &ke) || ke.Code != CodeNotFound {
		return err
	}
	if berr := e.fenceCatalog(ctx); berr != nil {
		return err
	}
	return f()
}

// execOne runs one parsed statement under audit and the statement
// observer; errors come back as *Error.
func (e *Engine) execOne(ctx context.Context, sess *Session, text string, st parse.Statement, params []any) (*Result, error) {
	stStart := time.Now()
	actx, carrier := e.withAuditCarrier(ctx, auditRecord(sess, st, text))
	res, err := e.execStatement(actx, sess, st, params)
	if obs := e.onStatement; obs != nil {
		obs(statementKind(st), time.Since(stStart), err)
	}
	if aerr := e.finishAudit(ctx, carrier, err); aerr != nil && err == nil {
		return nil, AsError(aerr)
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, AsError(errTimeout)
		}
		return nil, AsError(err)
	}
	if res.AsUser == "" {
		res.AsUser = sess.UserID
	}
	bigIntsAsStrings(res)
	return res, nil
}

// bigIntsAsStrings gives the BIGINT columns of results built in Go (SHOW
// STATS, SHOW BACKUPS, ...) the wire form SELECT gives them: decimal
// strings, so 64-bit values such as seq_high_water survive JavaScript
// clients (docs/sql-reference.md#data-types).
func bigIntsAsStrings(res *Result) {
	for _, f := range res.Schema {
		if f.DataType != "BIGINT" {
			continue
		}
		for _, row := range res.Rows {
			if f.Index >= len(row) {
				continue
			}
			switch v := row[f.Index].(type) {
			case int64:
				row[f.Index] = strconv.FormatInt(v, 10)
			case int:
				row[f.Index] = strconv.Itoa(v)
			case uint64:
				row[f.Index] = strconv.FormatUint(v, 10)
			}
		}
	}
}

func (e *Engine) checkParams(params []any) error {
	if e.opts.MaxParams > 0 && len(params) > e.opts.MaxParams {
		return badRequest(CodeInvalidParameter, "%d parameters given; the limit is %d", len(params), e.opts.MaxParams)
	}
	for i, p := range params {
		switch v := p.(type) {
		case string:
			if e.opts.MaxParamBytes > 0 && len(v) > e.opts.MaxParamBytes {
				return badRequest(CodeInvalidParameter, "parameter $%d is %d bytes; the limit is %d", i+1, len(v), e.opts.MaxParamBytes)
			}
		case map[string]any, []any:
			return badRequest(CodeInvalidParameter, "parameter $%d: objects and arrays are not supported; pass JSON as a string", i+1)
		}
	}
	return nil
}

func (e *Engine) execStatement(ctx context.Context, sess *Session, st parse.Statement, params []any) (*Result, error) {
	switch s := st.(type) {
	case *parse.Select:
		return e.execSelect(ctx, sess, s.SQL, params)
	case *parse.Explain:
		return e.execExplain(ctx, sess, s, params)
	case *parse.Insert:
		return e.execInsert(ctx, sess, s, params)
	case *parse.Update:
		return e.execUpdate(ctx, sess, s, params)
	case *parse.Delete:
		return e.execDelete(ctx, sess, s, params)
	case *parse.CreateNamespace:
		return e.execCreateNamespace(ctx, sess, s)
	case *parse.DropNamespace:
		return e.execDropNamespace(ctx, sess, s)
	case *parse.ShowNamespaces:
		return e.execShowNamespaces(ctx, sess)
	case *parse.UseNamespace:
		if _, ok := e.cat.Namespace(s.Name); !ok {
			return nil, notFound("namespace '%s' not found", s.Name)
		}
		sess.Namespace = s.Name
		return &Result{Message: "Using namespace " + s.Name}, nil
	case *parse.CreateTable:
		return e.execCreateTable(ctx, sess, s)
	case *parse.DropTable:
		return e.execDropTable(ctx, sess, s)
	case *parse.ShowTables:
		return e.execShowTables(ctx, sess, s)
	case *parse.DescribeTable:
		return e.execDescribe(ctx, sess, s)
	case *parse.CreateUser:
		return e.execCreateUser(ctx, sess, s)
	case *parse.AlterUser:
		return e.execAlterUser(ctx, sess, s)
	case *parse.DropUser:
		return e.execDropUser(ctx, sess, s)
	case *parse.CreateStorage, *parse.AlterStorage, *parse.DropStorage, *parse.ShowStorages, *parse.StorageCheck, *parse.StorageJob:
		return e.execStorage(ctx, sess, st)
	case *parse.Backup, *parse.VerifyBackup, *parse.ShowBackups, *parse.Restore, *parse.DeleteBackup, *parse.PruneBackups:
		return e.execBackup(ctx, sess, st)
	case *parse.Subscribe:
		return e.execSubscribe(ctx, sess, s)
	case *parse.KillLiveQuery:
		return e.execKillLive(ctx, sess, s)
	case *parse.CreateIndex:
		return e.execCreateIndex(ctx, sess, s)
	case *parse.DropIndex:
		return e.execDropIndex(ctx, sess, s)
	case *parse.AlterTable:
		return e.execAlterTable(ctx, sess, s)
	case *parse.ShowStats:
		return e.execShowStats(ctx, sess, s)
	case *parse.ExecuteAs:
		return e.execExecuteAs(ctx, sess, s, params)
	}
	return nil, badRequest(CodeInvalidSQL, "unsupported statement type")
}

// resolveTable finds a user-visible table by possibly unqualified name.
func (e *Engine) resolveTable(sess *Session, tn parse.TableName) (*catalog.Table, error) {
	ns := tn.Namespace
	if ns == "" {
		ns = sess.Namespace
	}
	if ns == "system" {
		return nil, badRequest(CodeInvalidSQL, "system tables are read-only")
	}
	t, ok := e.cat.Table(ns, tn.Name)
	if !ok {
		return nil, notFound("table '%s.%s' not found", ns, tn.Name)
	}
	return t, nil
}

func (e *Engine) nowMs() int64 { return e.now().UnixMilli() }

// SetStatementObserver registers fn to be told the kind, duration and error
// of every statement (metrics). Call it before serving.
func (e *Engine) SetStatementObserver(fn func(kind string, took time.Duration, err error)) {
	e.onStatement = fn
}

// statementKind names a statement for metrics labels (bounded set).
func statementKind(st parse.Statement) string {
	name := fmt.Sprintf("%T", st)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(name)
}
