package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

func newUser(name, cluster, secret string, role kalamv1.UserRole, policy kalamv1.DeletionPolicy) *kalamv1.KalamUser {
	return &kalamv1.KalamUser{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: kalamv1.KalamUserSpec{
			ClusterRef: kalamv1.ClusterReference{Name: cluster}, Role: role,
			PasswordSecret: kalamv1.SecretKeySelector{Name: secret}, DeletionPolicy: policy,
		},
	}
}

func passwordSecret(name, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Data:       map[string][]byte{"password": []byte(password)},
	}
}

// userRow reads one user from system.users (role, deleted).
func userRow(t *testing.T, dp *dataPlane, name string) (role string, found, dropped bool) {
	t.Helper()
	obs, found, err := lookupUser(tctx(t), dp.root, name)
	if err != nil {
		t.Fatal(err)
	}
	return obs.role, found, obs.dropped
}

// canLogin reports whether name logs in with password. Each failure counts
// towards the lockout, so tests call it sparingly with wrong passwords.
func canLogin(t *testing.T, dp *dataPlane, name, password string) bool {
	t.Helper()
	_, err := dpclient.New("http://"+dp.node.Addr()).Login(tctx(t), name, password)
	return err == nil
}

// TestUserLifecycle: a KalamUser creates its user with the role and the
// password of its Secret; a new password in the Secret is applied; a role
// or password altered out of band is put back (DriftCorrected); a missing
// Secret, a refused password (never quoted), a second CR for the same user
// and a user dropped out of band each get their own reason; deletion
// follows deletionPolicy.
func TestUserLifecycle(t *testing.T) {
	kc := newCluster("users")
	create(t, kc)
	dp := runDataPlane(t, kc)

	sec := passwordSecret("alice-pw", "alice-first-pw-42")
	create(t, sec)
	alice := newUser("alice", kc.Name, "alice-pw", "service", kalamv1.DeletionDelete)
	create(t, alice)
	waitCondition(t, alice, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	if role, found, _ := userRow(t, dp, "alice"); !found || role != "service" {
		t.Fatalf("alice: found=%v role=%q", found, role)
	}
	if !canLogin(t, dp, "alice", "alice-first-pw-42") {
		t.Fatal("alice cannot log in with the Secret's password")
	}
	if !controllerutil.ContainsFinalizer(alice, Finalizer) || alice.Status.AppliedName != "alice" || alice.Status.PasswordSecretVersion == "" || alice.Status.UserUpdatedAt == 0 {
		t.Fatalf("alice status %+v finalizers %v", alice.Status, alice.Finalizers)
	}

	// A new password in the Secret is applied (ALTER USER ... SET PASSWORD).
	update(t, sec, func() { sec.Data["password"] = []byte("alice-second-pw-42") })
	eventually(t, 30*time.Second, "new password applied", func() (bool, string) {
		get(t, alice)
		return alice.Status.PasswordSecretVersion == sec.ResourceVersion, fmt.Sprintf("status %+v", alice.Status)
	})
	if !canLogin(t, dp, "alice", "alice-second-pw-42") {
		t.Fatal("alice cannot log in with the rotated password")
	}

	// Drift: a role changed out of band is put back.
	mustSQL(t, dp.root, "ALTER USER alice SET ROLE user")
	waitCondition(t, alice, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonDriftCorrected)
	if role, _, _ := userRow(t, dp, "alice"); role != "service" {
		t.Fatalf("role after drift correction: %q", role)
	}
	// Drift: a password changed out of band is put back.
	before := alice.Status.DriftCorrections
	mustSQL(t, dp.root, "ALTER USER alice SET PASSWORD 'someone-else-pw-42'")
	eventually(t, 30*time.Second, "out-of-band password reverted", func() (bool, string) {
		get(t, alice)
		return alice.Status.DriftCorrections > before, fmt.Sprintf("corrections %d", alice.Status.DriftCorrections)
	})
	if !canLogin(t, dp, "alice", "alice-second-pw-42") {
		t.Fatal("the Secret's password was not applied again after an out-of-band change")
	}
	if v := counterValue(t, driftCorrections.WithLabelValues("KalamUser")); v < 2 {
		t.Fatalf("kalamdb_operator_drift_corrections_total{kind=KalamUser} = %v", v)
	}

	// A missing Secret: waiting, with its own reason; created later, the
	// user appears.
	bob := newUser("bob", kc.Name, "bob-pw", "", kalamv1.DeletionRetain)
	create(t, bob)
	waitCondition(t, bob, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonPasswordSecretNotFound)
	if _, found, _ := userRow(t, dp, "bob"); found {
		t.Fatal("bob created without a password Secret")
	}
	create(t, passwordSecret("bob-pw", "bob-first-pw-42"))
	waitCondition(t, bob, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	if role, found, _ := userRow(t, dp, "bob"); !found || role != "user" {
		t.Fatalf("bob: found=%v role=%q (default role user)", found, role)
	}
	if controllerutil.ContainsFinalizer(bob, Finalizer) {
		t.Fatal("a Retain user carries a finalizer")
	}

	// A password the data plane refuses: Stalled/InvalidPassword, and no
	// condition quotes it.
	create(t, passwordSecret("carol-pw", "xq7"))
	carol := newUser("carol", kc.Name, "carol-pw", "", kalamv1.DeletionRetain)
	create(t, carol)
	cond := waitCondition(t, carol, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonInvalidPassword)
	for _, c := range carol.Status.Conditions {
		if strings.Contains(c.Message, "xq7") {
			t.Fatalf("condition %s quotes the password: %s", c.Type, c.Message)
		}
	}
	t.Logf("refused password: %s", cond.Message)

	// A second CR for the same user is the newcomer: Conflict.
	dup := newUser("alice-dup", kc.Name, "alice-pw", "dba", kalamv1.DeletionDelete)
	dup.Spec.Name = "alice"
	create(t, dup)
	waitCondition(t, dup, kalamv1.ConditionConflict, metav1.ConditionTrue, kalamv1.ReasonConflict)
	if role, _, _ := userRow(t, dp, "alice"); role != "service" {
		t.Fatalf("the conflicting CR changed alice's role to %q", role)
	}
	if err := k8s.Delete(tctx(t), dup); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "conflicting CR gone", func() (bool, string) { return !get(t, dup), "" })
	if _, found, dropped := userRow(t, dp, "alice"); !found || dropped {
		t.Fatal("deleting the conflicting CR dropped alice")
	}

	// A user dropped out of band: KalamDB reserves the name until purge, so
	// the condition says so instead of failing obscurely.
	mustSQL(t, dp.root, "DROP USER bob")
	waitCondition(t, bob, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonUserDropped)

	// deletionPolicy Retain keeps the user; Delete drops it.
	dave := newUser("dave", kc.Name, "bob-pw", "", kalamv1.DeletionRetain)
	create(t, dave)
	waitCondition(t, dave, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	if err := k8s.Delete(tctx(t), dave); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "dave's CR gone", func() (bool, string) { return !get(t, dave), "" })
	if _, found, dropped := userRow(t, dp, "dave"); !found || dropped {
		t.Fatal("deletionPolicy Retain dropped the user")
	}
	if err := k8s.Delete(tctx(t), alice); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "alice's CR gone", func() (bool, string) { return !get(t, alice), "" })
	if _, _, dropped := userRow(t, dp, "alice"); !dropped {
		t.Fatal("deletionPolicy Delete did not drop the user")
	}
}

// TestPlanUser covers the ALTER decision without a data plane.
func TestPlanUser(t *testing.T) {
	ku := newUser("u", "c", "s", "dba", kalamv1.DeletionRetain)
	cases := []struct {
		name   string
		status kalamv1.KalamUserStatus
		obs    observedUser
		want   userChanges
	}{
		{"adopted user gets the declared password", kalamv1.KalamUserStatus{}, observedUser{role: "dba", updatedAt: 5}, userChanges{password: true}},
		{"in sync", kalamv1.KalamUserStatus{AppliedName: "u", PasswordSecretVersion: "7", UserUpdatedAt: 5}, observedUser{role: "dba", updatedAt: 5}, userChanges{}},
		{"secret changed", kalamv1.KalamUserStatus{AppliedName: "u", PasswordSecretVersion: "6", UserUpdatedAt: 5}, observedUser{role: "dba", updatedAt: 5}, userChanges{password: true}},
		{"altered out of band", kalamv1.KalamUserStatus{AppliedName: "u", PasswordSecretVersion: "7", UserUpdatedAt: 5}, observedUser{role: "dba", updatedAt: 9}, userChanges{password: true, drift: true}},
		{"role drift", kalamv1.KalamUserStatus{AppliedName: "u", PasswordSecretVersion: "7", UserUpdatedAt: 5}, observedUser{role: "user", updatedAt: 9}, userChanges{password: true, role: true, drift: true}},
	}
	for _, c := range cases {
		ku.Status = c.status
		if got := planUser(ku, c.obs, "7"); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	ch := userChanges{password: true, role: true}
	got := alterUserStatements("o'brien", ku, ch, "pw'x")
	want := []string{"ALTER USER 'o''brien' SET ROLE dba", "ALTER USER 'o''brien' SET PASSWORD 'pw''x'"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("statements %q, want %q", got, want)
	}
}
