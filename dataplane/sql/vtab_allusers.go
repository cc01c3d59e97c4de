package sql

// Reads of a USER table across every user's rows.
//
// A USER table's rows are partitioned by user (keys.ScopePrefix). A user's
// SELECT reads its own partition; a SELECT by a role that reads every
// user's rows (system, dba, service: auth.Role.ReadsAllUsers, the original
// KalamDB's can_read_all_users) reads them all. The rewriter then names the
// table's virtual table "<ns>.<table>@all" (resolver.allUsers), declared
// with the all-users flag, so a SQLite plan made for one kind of read is
// never used for the other. Its cursor reads user by user
// (read.TableUsers, in byte order of the user id), each user's scope
// through the read path as for that user's own SELECT (hot and cold merged,
// tombstones hidden unless asked for); primary-key bounds, equality
// pre-filters, secondary indexes and segment pruning apply within each
// scope. Keys are ordered within a user only, so ORDER BY is left to
// SQLite. DML (its matching SELECT), live queries and EXECUTE AS USER read
// one user's rows: they use rewrite, not rewriteRead.

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
)

// allUsersSuffix ends the name of a USER table's all-users virtual table.
const allUsersSuffix = "@all"

// readsAllUsers reports whether sess's SELECT of t reads every user's rows
// (so the per-scope fast paths do not apply).
func readsAllUsers(sess *Session, t *catalog.Table) bool {
	return t.Type == catalog.TableUser && sess.Role.ReadsAllUsers()
}

// tableUsers lists the users with rows of the table in the statement's
// snapshot, once per statement.
func (t *kalamTable) tableUsers(snap pebble.Reader) ([]string, error) {
	if t.usersSnap == snap {
		return t.users, nil
	}
	users, err := read.TableUsers(snap, t.table.ID)
	if err != nil {
		return nil, err
	}
	t.usersSnap, t.users = snap, users
	return users, nil
}

// scopeUser is the user whose scope the cursor reads.
func (c *kalamCursor) scopeUser() string {
	if c.users != nil {
		return c.users[c.user]
	}
	return c.t.cs.sess.UserID
}

// openScopes opens the current scope and, across users, moves on to the
// next user while a scope has no row.
func (c *kalamCursor) openScopes(idxNum int, vals []vtab.Value) error {
	for {
		if err := c.openScope(idxNum, vals); err != nil {
			return err
		}
		if !c.eof || c.users == nil || c.user+1 >= len(c.users) {
			return nil
		}
		c.close()
		c.user++
		c.eof = false
	}
}

// allUsersRowid identifies a row across users: the same key in two users'
// scopes is two rows (FNV-1a over the user id and the key).
func (c *kalamCursor) allUsersRowid() (int64, error) {
	var key any = int64(c.seq)
	if c.t.pkIdx >= 0 {
		v, err := c.Column(c.t.pkIdx)
		if err != nil {
			return 0, err
		}
		key = v
	}
	b := append([]byte(c.users[c.user]), 0)
	switch x := key.(type) {
	case string:
		b = append(b, x...)
	case []byte:
		b = append(b, x...)
	default:
		b = fmt.Append(b, x)
	}
	return rowidHash(b), nil
}
