// Package auth implements KalamDB roles, password hashing and policy, and
// HS256 JWT issuing and verification for the data-plane server.
package auth

import (
	"fmt"
	"strings"
)

// Role is a KalamDB role.
type Role string

// The KalamDB roles, from least to most privileged.
const (
	// RoleUser may access only its own user tables.
	RoleUser Role = "user"
	// RoleService is for applications and may act on behalf of users.
	RoleService Role = "service"
	// RoleDBA administers namespaces, tables and users.
	RoleDBA Role = "dba"
	// RoleSystem is the built-in superuser role.
	RoleSystem Role = "system"
)

// ReadsAllUsers reports whether the role's own SELECT of a USER table
// reads every user's rows rather than its own: system, dba and service do,
// as in the original KalamDB (kalamdb-session permissions.rs
// can_read_all_users). Their writes, subscriptions and EXECUTE AS USER
// statements stay in one user's rows.
func (r Role) ReadsAllUsers() bool {
	return r == RoleSystem || r == RoleDBA || r == RoleService
}

// roleAliases maps accepted spellings (lower case) to roles, so names used by
// other databases and older KalamDB versions keep working.
var roleAliases = map[string]Role{
	"user":      RoleUser,
	"viewer":    RoleUser,
	"readonly":  RoleUser,
	"service":   RoleService,
	"developer": RoleService,
	"analyst":   RoleService,
	"dba":       RoleDBA,
	"admin":     RoleDBA,
	"system":    RoleSystem,
}

// ParseRole parses a role name case-insensitively, accepting the aliases
// admin (dba), developer and analyst (service), viewer and readonly (user).
func ParseRole(s string) (Role, error) {
	if r, ok := roleAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return r, nil
	}
	return "", fmt.Errorf("auth: unknown role %q (want user, service, dba or system)", s)
}

// IsAdmin reports whether r may administer the database (dba or system).
func (r Role) IsAdmin() bool {
	return r == RoleDBA || r == RoleSystem
}

// valid reports whether r is one of the canonical roles; aliases are not,
// because tokens and stored users must carry canonical names.
func (r Role) valid() bool {
	switch r {
	case RoleUser, RoleService, RoleDBA, RoleSystem:
		return true
	}
	return false
}
