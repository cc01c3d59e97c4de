package sql

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Audit actions recorded in system.audit_log besides statement kinds.
const (
	AuditLogin       = "LOGIN"
	AuditLoginFailed = "LOGIN_FAILED"
	AuditLogout      = "LOGOUT"
	AuditSetup       = "SETUP"
	AuditExecuteAs   = "EXECUTE_AS"
)

// maxAuditDetails bounds the statement text kept in a record.
const maxAuditDetails = 1024

type clientIPKey struct{}

// WithClientIP records the client address of the request being served,
// for the audit log.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// Audit appends rec to system.audit_log through the meta group's apply
// path, so it is durable once Audit returns nil. A disabled audit log
// makes it a no-op. The client address comes from ctx when rec has none.
func (e *Engine) Audit(ctx context.Context, rec catalog.AuditRecord) error {
	if !e.opts.AuditEnabled {
		return nil
	}
	rec = e.prepareAudit(ctx, rec)
	_, err := e.proposeCatalog(context.WithoutCancel(ctx), &engine.CatalogWrite{
		Op: engine.CatAppendAudit, Audit: &rec, AuditRetentionMs: e.opts.AuditRetention.Milliseconds(),
	})
	if err != nil {
		return fmt.Errorf("while writing the audit log: %w", err)
	}
	return nil
}

// auditRecord returns the record of an administrative statement, or nil
// for statements that are not audited. Reads, DML and session statements
// are not audited (they would dominate the log); everything else is,
// including statement types added later. Passwords never reach the log:
// user statements record what changed.
func auditRecord(sess *Session, st parse.Statement, text string) *catalog.AuditRecord {
	var target, details string
	switch s := st.(type) {
	case *parse.Select, *parse.Insert, *parse.Update, *parse.Delete, *parse.Subscribe,
		*parse.ShowNamespaces, *parse.ShowTables, *parse.DescribeTable, *parse.UseNamespace,
		*parse.ShowStorages, *parse.StorageCheck, *parse.ShowStats, *parse.ShowBackups, *parse.ExecuteAs:
		return nil // EXECUTE AS audits itself, with its subject
	case *parse.CreateUser:
		target, details = s.Name, "role="+s.Role
		if s.Email != "" {
			details += " email=" + s.Email
		}
	case *parse.AlterUser:
		target = s.Name
		if s.Password != nil {
			details += "password changed "
		}
		if s.Role != nil {
			details += "role=" + *s.Role + " "
		}
		if s.Email != nil {
			details += "email=" + *s.Email
		}
	case *parse.DropUser:
		target = s.Name
	case *parse.CreateNamespace:
		target, details = s.Name, text
	case *parse.DropNamespace:
		target, details = s.Name, text
	case *parse.CreateTable:
		target, details = tableTarget(sess, s.Table), text
	case *parse.DropTable:
		target, details = tableTarget(sess, s.Table), text
	default:
		details = text
	}
	return &catalog.AuditRecord{Actor: sess.UserID, Action: auditAction(st), Target: target, Details: details}
}

// auditCarrier is the pending audit record of the statement being
// executed. The statement's first catalog write carries it (proposeCatalog)
// so the change and its record commit in one batch; a statement that made
// no catalog write gets a separate record after it succeeded.
type auditCarrier struct {
	mu       sync.Mutex
	rec      *catalog.AuditRecord
	attached bool
}

type auditCarrierKey struct{}

// withAuditCarrier returns ctx carrying the statement's pending record
// (nil when the statement is not audited or auditing is off).
func (e *Engine) withAuditCarrier(ctx context.Context, rec *catalog.AuditRecord) (context.Context, *auditCarrier) {
	if rec == nil || !e.opts.AuditEnabled {
		return ctx, nil
	}
	c := &auditCarrier{rec: rec}
	return context.WithValue(ctx, auditCarrierKey{}, c), c
}

// attachAudit puts the statement's pending record, if any and not yet
// written, into cw. It returns a function that reports the proposal's
// outcome: a failed proposal wrote nothing, so the record is pending again.
func (e *Engine) attachAudit(ctx context.Context, cw *engine.CatalogWrite) func(error) {
	c, _ := ctx.Value(auditCarrierKey{}).(*auditCarrier)
	if c == nil || cw.Audit != nil || cw.Op == engine.CatAppendAudit {
		return func(error) {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attached {
		return func(error) {}
	}
	rec := e.prepareAudit(ctx, *c.rec)
	cw.Audit, cw.AuditRetentionMs = &rec, e.opts.AuditRetention.Milliseconds()
	c.attached = true
	return func(err error) {
		if err != nil {
			c.mu.Lock()
			c.attached = false
			c.mu.Unlock()
		}
	}
}

// prepareAudit fills the client address and bounds the details.
func (e *Engine) prepareAudit(ctx context.Context, rec catalog.AuditRecord) catalog.AuditRecord {
	if rec.IP == "" {
		rec.IP = clientIP(ctx)
	}
	if len(rec.Details) > maxAuditDetails {
		rec.Details = rec.Details[:maxAuditDetails] + "..."
	}
	return rec
}

// finishAudit writes what the statement's catalog writes did not carry:
// the success record of a statement without a catalog write, or a
// <ACTION>_FAILED record (separate command) when the statement failed.
func (e *Engine) finishAudit(ctx context.Context, c *auditCarrier, stErr error) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	attached := c.attached
	c.mu.Unlock()
	if stErr == nil {
		if attached {
			return nil
		}
		return e.Audit(ctx, *c.rec)
	}
	rec := *c.rec
	rec.Action += auditFailedSuffix
	ae := AsError(stErr)
	rec.Details = ae.Code + ": " + ae.Message + "; " + rec.Details
	return e.Audit(ctx, rec)
}

// auditFailedSuffix marks the record of a statement that failed (nothing
// of it applied, or, for a multi-step statement, not every step).
const auditFailedSuffix = "_FAILED"

func tableTarget(sess *Session, tn parse.TableName) string {
	if tn.Namespace == "" {
		return sess.Namespace + "." + tn.Name
	}
	return tn.Namespace + "." + tn.Name
}

// auditAction names a statement: CreateUser -> CREATE_USER.
func auditAction(st parse.Statement) string {
	name := fmt.Sprintf("%T", st)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	out := make([]byte, 0, len(name)+4)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				out = append(out, '_')
			}
		} else if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// auditLogView is system.audit_log, newest records last.
var auditLogView = &systemView{
	columns: []viewColumn{col("audit_id", datatype.BigInt), col("timestamp", datatype.Timestamp), col("actor_user_id", datatype.Text), col("action", datatype.Text), col("target", datatype.Text), col("details", datatype.Text), col("ip_address", datatype.Text), col("subject_user_id", datatype.Text)},
	rows: func(cs *connState) ([][]any, error) {
		var out [][]any
		err := scanCatalogRecords(cs.snap, keys.CatalogPrefix(catalog.RecAudit), "the audit log", func(r *catalog.AuditRecord) {
			out = append(out, []any{int64(r.AuditID), r.TimeMs * 1000, r.Actor, r.Action, nullIfEmpty(r.Target), nullIfEmpty(r.Details), nullIfEmpty(r.IP), nullIfEmpty(r.Subject)})
		})
		return out, err
	},
}

// defaultAuditRetention applies when Options leaves it zero.
const defaultAuditRetention = 90 * 24 * time.Hour
