package sql

import (
	"context"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// roleRank orders roles for impersonation (reference §2.5): a caller may
// act as users whose role ranks at most its own, except that the user role
// may only "impersonate" itself.
var roleRank = map[auth.Role]int{auth.RoleUser: 0, auth.RoleService: 1, auth.RoleDBA: 2, auth.RoleSystem: 3}

// mayImpersonate applies the role hierarchy: system -> anyone; dba -> dba,
// service, user; service -> service, user; user -> only itself.
func mayImpersonate(caller auth.Role, callerID string, target *catalog.User) bool {
	if target.UserID == callerID {
		return true
	}
	if caller == auth.RoleUser {
		return false
	}
	return roleRank[auth.Role(target.Role)] <= roleRank[caller]
}

// execExecuteAs runs one DML or SELECT statement as another user. The
// inner statement runs with the target's identity AND role, so it can never
// reach more than the target could; it may only touch USER and STREAM
// tables (SHARED and system tables are refused, as upstream). Every
// attempt, allowed or refused, is audited with its subject.
func (e *Engine) execExecuteAs(ctx context.Context, sess *Session, s *parse.ExecuteAs, params []any) (*Result, error) {
	res, err := e.executeAs(ctx, sess, s, params)
	action := AuditExecuteAs
	details := s.InnerSQL
	if err != nil {
		action += "_DENIED"
		details = AsError(err).Code + ": " + details
	}
	if aerr := e.Audit(ctx, catalog.AuditRecord{Actor: sess.UserID, Action: action, Subject: s.User, Details: details}); aerr != nil && err == nil {
		return nil, aerr
	}
	return res, err
}

func (e *Engine) executeAs(ctx context.Context, sess *Session, s *parse.ExecuteAs, params []any) (*Result, error) {
	target, ok := e.cat.User(s.User)
	if !ok || target.DeletedAt != 0 {
		// Same answer as a forbidden target for non-admins, so the
		// statement cannot be used to probe which users exist.
		if !sess.Role.IsAdmin() {
			return nil, denied("permission denied: role %s cannot execute as user '%s'", sess.Role, s.User)
		}
		return nil, notFound("user '%s' not found", s.User)
	}
	if !mayImpersonate(sess.Role, sess.UserID, target) {
		return nil, denied("permission denied: role %s cannot execute as user '%s'", sess.Role, s.User)
	}
	inner := Session{UserID: target.UserID, Role: auth.Role(target.Role), Namespace: sess.Namespace}
	var check string
	switch st := s.Inner.(type) {
	case *parse.Select:
		check = st.SQL
	case *parse.Insert:
		check = "SELECT 1 FROM " + tableRef(&inner, st.Table)
	case *parse.Update:
		check = "SELECT 1 FROM " + tableRef(&inner, st.Table) + " WHERE " + st.Where
	case *parse.Delete:
		check = "SELECT 1 FROM " + tableRef(&inner, st.Table) + " WHERE " + st.Where
	default:
		return nil, badRequest(CodeInvalidSQL, "EXECUTE AS supports SELECT, INSERT, UPDATE and DELETE only")
	}
	if err := e.checkImpersonatedTables(&inner, check); err != nil {
		return nil, err
	}
	res, err := e.execStatement(ctx, &inner, s.Inner, params)
	if err != nil {
		return nil, err
	}
	res.AsUser = target.UserID
	return res, nil
}

func tableRef(sess *Session, tn parse.TableName) string {
	ns := tn.Namespace
	if ns == "" {
		ns = sess.Namespace
	}
	return quoteIdent(ns) + "." + quoteIdent(tn.Name)
}

// checkImpersonatedTables refuses a statement under EXECUTE AS that reads
// or writes anything but USER and STREAM tables (including in subqueries).
func (e *Engine) checkImpersonatedTables(sess *Session, text string) error {
	_, r, err := e.rewrite(sess, text)
	if err != nil {
		return err
	}
	if len(r.views) > 0 {
		return denied("permission denied: EXECUTE AS cannot read system tables")
	}
	for _, t := range r.tables {
		if !t.Type.PerUser() {
			return badRequest(CodeInvalidSQL, "EXECUTE AS applies to USER and STREAM tables only; %s is a %s table", t.QualifiedName(), t.Type)
		}
	}
	return nil
}
