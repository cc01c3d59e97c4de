package sql

import (
	"context"
	"fmt"
	"strings"
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
	if rec.IP == "" {
		rec.IP = clientIP(ctx)
	}
	if len(rec.Details) > maxAuditDetails {
		rec.Details = rec.Details[:maxAuditDetails] + "..."
	}
	_, err := e.proposeCatalog(context.WithoutCancel(ctx), &engine.CatalogWrite{
		Op: engine.CatAppendAudit, Audit: &rec, AuditRetentionMs: e.opts.AuditRetention.Milliseconds(),
	})
	if err != nil {
		return fmt.Errorf("while writing the audit log: %w", err)
	}
	return nil
}

// auditStatement records a successful administrative statement. Reads,
// DML and session statements are not audited (they would dominate the
// log); everything else is, including statement types added later.
// Passwords never reach the log: user statements record what changed.
func (e *Engine) auditStatement(ctx context.Context, sess *Session, st parse.Statement, text string) error {
	var target, details string
	switch s := st.(type) {
	case *parse.Select, *parse.Insert, *parse.Update, *parse.Delete, *parse.Subscribe,
		*parse.ShowNamespaces, *parse.ShowTables, *parse.DescribeTable, *parse.UseNamespace,
		*parse.ShowStorages, *parse.StorageCheck, *parse.ExecuteAs:
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
	return e.Audit(ctx, catalog.AuditRecord{Actor: sess.UserID, Action: auditAction(st), Target: target, Details: details})
}

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
