package auth

import "testing"

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{in: "user", want: RoleUser},
		{in: "USER", want: RoleUser},
		{in: "viewer", want: RoleUser},
		{in: "ReadOnly", want: RoleUser},
		{in: "service", want: RoleService},
		{in: "developer", want: RoleService},
		{in: "analyst", want: RoleService},
		{in: "dba", want: RoleDBA},
		{in: "Admin", want: RoleDBA},
		{in: " system ", want: RoleSystem},
		{in: "", wantErr: true},
		{in: "root", wantErr: true},
		{in: "superuser", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRole(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseRole(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ParseRole(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRoleIsAdmin(t *testing.T) {
	for _, tc := range []struct {
		role Role
		want bool
	}{
		{RoleUser, false},
		{RoleService, false},
		{RoleDBA, true},
		{RoleSystem, true},
		{Role("admin"), false}, // aliases are resolved by ParseRole only
	} {
		if got := tc.role.IsAdmin(); got != tc.want {
			t.Errorf("%q.IsAdmin() = %v, want %v", tc.role, got, tc.want)
		}
	}
}
