package controllers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// KalamUserReconciler keeps a KalamDB user as declared: it exists, has the
// declared role (and e-mail), and its password is the one in the Secret.
//
// The password is never read back (KalamDB stores a bcrypt hash, and a
// trial login would count towards the lockout). Instead the operator applies
// it when the Secret changed since the last write (its resourceVersion) or
// when the user's updated_at moved since the operator's last write, which
// only ALTER USER does: someone altered the user out of band, so the declared
// password, role and e-mail are applied again.
type KalamUserReconciler struct {
	client.Client
	Recorder  events.EventRecorder
	DataPlane *DataPlane
	// Resync is the drift-check interval (default 2 min); a password changed
	// in its Secret is applied within it.
	Resync time.Duration
}

// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamusers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamusers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamusers/finalizers,verbs=update

// Reconcile implements reconcile.Reconciler.
func (r *KalamUserReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var ku kalamv1.KalamUser
	return reconcileManaged(ctx, r.Client, r.Recorder, req, managedReconcile{
		kind: "KalamUser", noun: "user", obj: &ku,
		keepFinalizer: func() bool { return ku.Spec.DeletionPolicy == kalamv1.DeletionDelete },
		remove:        func(ctx context.Context) (ctrl.Result, error) { return r.delete(ctx, &ku) },
		apply:         func(ctx context.Context) (ctrl.Result, error) { return r.reconcile(ctx, &ku) },
	})
}

// observedUser is one row of system.users.
type observedUser struct {
	role, email string
	updatedAt   int64
	dropped     bool
}

// userChanges are the ALTER USER clauses that bring an observed user to the
// declared state. Pure, so the decision is tested without a data plane.
type userChanges struct {
	password, role, email bool
	// drift: the user differs from what the operator last wrote.
	drift bool
}

func (c userChanges) any() bool { return c.password || c.role || c.email }

// planUser decides what to alter on an existing user. secretVersion is the
// password Secret's resourceVersion now.
func planUser(ku *kalamv1.KalamUser, obs observedUser, secretVersion string) userChanges {
	st := ku.Status
	adopted := st.AppliedName == ""
	outOfBand := !adopted && st.UserUpdatedAt != 0 && obs.updatedAt != st.UserUpdatedAt
	ch := userChanges{
		// A user the operator did not write yet (adopted) gets the declared
		// password: the Secret is the source of truth.
		password: adopted || outOfBand || st.PasswordSecretVersion != secretVersion,
		role:     !strings.EqualFold(obs.role, string(ku.RoleOrDefault())),
		email:    ku.Spec.Email != "" && obs.email != ku.Spec.Email,
	}
	ch.drift = !adopted && (outOfBand || ch.role || ch.email)
	return ch
}

// alterUserStatements are the ALTER USER statements for ch (password last, so a
// refused password does not hide a role that was put back).
func alterUserStatements(name string, ku *kalamv1.KalamUser, ch userChanges, password string) []string {
	q := dpclient.Quote(name)
	var out []string
	if ch.role {
		out = append(out, "ALTER USER "+q+" SET ROLE "+string(ku.RoleOrDefault()))
	}
	if ch.email {
		out = append(out, "ALTER USER "+q+" SET EMAIL "+dpclient.Quote(ku.Spec.Email))
	}
	if ch.password {
		out = append(out, "ALTER USER "+q+" SET PASSWORD "+dpclient.Quote(password))
	}
	return out
}

// createUserStatement is the CREATE USER for the declared user.
func createUserStatement(name string, ku *kalamv1.KalamUser, password string) string {
	s := "CREATE USER " + dpclient.Quote(name) + " WITH PASSWORD " + dpclient.Quote(password) + " ROLE " + string(ku.RoleOrDefault())
	if ku.Spec.Email != "" {
		s += " EMAIL " + dpclient.Quote(ku.Spec.Email)
	}
	return s
}

func (r *KalamUserReconciler) reconcile(ctx context.Context, ku *kalamv1.KalamUser) (ctrl.Result, error) {
	name := ku.DatabaseName()
	if name == "root" {
		return ctrl.Result{}, permanent(kalamv1.ReasonInvalidSpec, "root cannot be declared as a KalamUser: its password is the KalamCluster's rootPasswordSecret")
	}
	password, secretVersion, err := r.password(ctx, ku)
	if err != nil {
		return ctrl.Result{}, err
	}
	kc, dp, err := connectUnclaimed(ctx, r.Client, r.DataPlane, ku, ku.Spec.ClusterRef.Name, "KalamUser", "user "+name,
		func(ctx context.Context) (string, error) { return r.conflict(ctx, ku) })
	if err != nil {
		return ctrl.Result{}, err
	}
	obs, found, err := lookupUser(ctx, dp, name)
	if err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{}, classifyDataPlane(err, "reading system.users")
	}
	reason, msg := kalamv1.ReasonAvailable, "user "+name+" is as declared"
	switch {
	case found && obs.dropped:
		return ctrl.Result{}, permanent(kalamv1.ReasonUserDropped,
			"user %s was dropped out of band; KalamDB keeps a dropped user's name until its rows are purged (user_management.deletion_grace_period_days), the operator recreates it then", name)
	case !found:
		if _, err := dp.SQL(ctx, createUserStatement(name, ku, password)); err != nil {
			r.DataPlane.forgetOnAuth(kc, err)
			return ctrl.Result{}, classifyUserWrite(err, "creating user "+name)
		}
		if ku.Status.AppliedName != "" {
			reason, msg = kalamv1.ReasonDriftCorrected, "user "+name+" was missing and has been recreated"
			r.driftCorrected(ku, msg)
		} else {
			reason, msg = kalamv1.ReasonApplied, "created user "+name
			r.Recorder.Eventf(ku, nil, corev1.EventTypeNormal, "Created", "Reconcile", "created user %s with role %s", name, ku.RoleOrDefault())
		}
	default:
		ch := planUser(ku, obs, secretVersion)
		for _, stmt := range alterUserStatements(name, ku, ch, password) {
			if _, err := dp.SQL(ctx, stmt); err != nil {
				r.DataPlane.forgetOnAuth(kc, err)
				// The statement holds the password: name the user only.
				return ctrl.Result{}, classifyUserWrite(err, "altering user "+name)
			}
		}
		switch {
		case ch.drift:
			reason, msg = kalamv1.ReasonDriftCorrected, fmt.Sprintf("user %s was altered out of band (role %s); the declared role and password were applied again", name, obs.role)
			r.driftCorrected(ku, msg)
		case ch.any():
			reason, msg = kalamv1.ReasonApplied, "applied "+describe(ch)+" of user "+name
			r.Recorder.Eventf(ku, nil, corev1.EventTypeNormal, "Updated", "Reconcile", "applied %s of user %s", describe(ch), name)
		}
	}
	// Remember what was written: the Secret version and the user's
	// updated_at after the operator's own writes.
	if obs, found, err = lookupUser(ctx, dp, name); err != nil || !found {
		return ctrl.Result{}, fmt.Errorf("while re-reading user %s: found=%v: %w", name, found, err)
	}
	ku.Status.AppliedName = name
	ku.Status.PasswordSecretVersion = secretVersion
	ku.Status.UserUpdatedAt = obs.updatedAt
	now := metav1.Now()
	ku.Status.LastSyncTime = &now
	kalamv1.MarkReady(ku, reason, msg)
	return ctrl.Result{RequeueAfter: resyncOr(r.Resync)}, nil
}

func (r *KalamUserReconciler) driftCorrected(ku *kalamv1.KalamUser, msg string) {
	ku.Status.DriftCorrections++
	driftCorrections.WithLabelValues("KalamUser").Inc()
	r.Recorder.Eventf(ku, nil, corev1.EventTypeWarning, kalamv1.ReasonDriftCorrected, "Reconcile", "%s", msg)
}

func describe(ch userChanges) string {
	var parts []string
	if ch.role {
		parts = append(parts, "role")
	}
	if ch.email {
		parts = append(parts, "e-mail")
	}
	if ch.password {
		parts = append(parts, "password")
	}
	return strings.Join(parts, ", ")
}

// password reads the declared password and the Secret's resourceVersion.
// Secrets are read uncached (ClientOptions), so a change is seen at once.
func (r *KalamUserReconciler) password(ctx context.Context, ku *kalamv1.KalamUser) (string, string, error) {
	ref := ku.Spec.PasswordSecret
	var sec corev1.Secret
	if err := r.Get(ctx, types.NamespacedName{Namespace: ku.Namespace, Name: ref.Name}, &sec); err != nil {
		if apierrors.IsNotFound(err) {
			return "", "", waitFor(kalamv1.ReasonPasswordSecretNotFound, 30*time.Second, "password Secret %q not found", ref.Name)
		}
		return "", "", fmt.Errorf("while reading password Secret %s: %w", ref.Name, err)
	}
	pw, ok := sec.Data[ku.PasswordKey()]
	if !ok || len(pw) == 0 {
		return "", "", waitFor(kalamv1.ReasonPasswordSecretNotFound, 30*time.Second, "password Secret %q has no key %q (or it is empty)", ref.Name, ku.PasswordKey())
	}
	return string(pw), sec.ResourceVersion, nil
}

// classifyUserWrite is classifyDataPlane for statements carrying a
// password: a refused password gets its own reason, and no message ever
// quotes the statement.
func classifyUserWrite(err error, what string) error {
	var ae *dpclient.APIError
	if asAPIError(err, &ae) && ae.HTTPStatus == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Message), "password") {
		return permanent(kalamv1.ReasonInvalidPassword, "%s: the data plane refused the password from the Secret: %s", what, ae.Message)
	}
	return classifyDataPlane(err, what)
}

// lookupUser reads one user from system.users.
func lookupUser(ctx context.Context, dp *dpclient.Client, name string) (observedUser, bool, error) {
	recs, err := dp.Records(ctx, "SELECT user_id, role, email, updated_at, deleted_at FROM system.users WHERE user_id = $1", name)
	if err != nil || len(recs) == 0 {
		return observedUser{}, false, err
	}
	rec := recs[0]
	return observedUser{
		role: rec.String("role"), email: rec.String("email"),
		updatedAt: rec.Int("updated_at"), dropped: rec["deleted_at"] != nil,
	}, true, nil
}

// conflict returns the name of an older KalamUser claiming the same user of
// the same cluster, or "".
func (r *KalamUserReconciler) conflict(ctx context.Context, ku *kalamv1.KalamUser) (string, error) {
	var list kalamv1.KalamUserList
	if err := r.List(ctx, &list, client.InNamespace(ku.Namespace)); err != nil {
		return "", fmt.Errorf("while listing KalamUsers: %w", err)
	}
	return olderClaimant(list.Items, ku, func(o *kalamv1.KalamUser) bool {
		return o.Spec.ClusterRef.Name == ku.Spec.ClusterRef.Name && o.DatabaseName() == ku.DatabaseName()
	}), nil
}

// delete runs on a CR being deleted that still carries the finalizer (its
// policy is Delete): it drops the user this CR managed (status.appliedName,
// so a conflicting newcomer never drops another CR's user), and lets go at
// once when the cluster is gone.
func (r *KalamUserReconciler) delete(ctx context.Context, ku *kalamv1.KalamUser) (ctrl.Result, error) {
	if !hasFinalizer(ku) {
		return ctrl.Result{}, nil
	}
	kc, err := getCluster(ctx, r.Client, ku.Namespace, ku.Spec.ClusterRef.Name)
	if err != nil || !kc.DeletionTimestamp.IsZero() || ku.Status.AppliedName == "" || ku.Spec.DeletionPolicy != kalamv1.DeletionDelete {
		if err != nil && !isWait(err) {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, setFinalizer(ctx, r.Client, ku, false)
	}
	dp, err := r.DataPlane.Connect(ctx, kc)
	if err != nil {
		return ctrl.Result{}, err
	}
	name := ku.Status.AppliedName
	if _, err := dp.SQL(ctx, "DROP USER IF EXISTS "+dpclient.Quote(name)); err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{}, fmt.Errorf("while dropping user %s: %w", name, err)
	}
	r.Recorder.Eventf(ku, nil, corev1.EventTypeNormal, "Dropped", "Delete", "dropped user %s", name)
	return ctrl.Result{}, setFinalizer(ctx, r.Client, ku, false)
}

// SetupWithManager registers the controller. Annotation changes (pause,
// unmanage) trigger a reconcile as well as spec changes; a KalamCluster
// change wakes its users.
func (r *KalamUserReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&kalamv1.KalamUser{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&kalamv1.KalamCluster{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var list kalamv1.KalamUserList
			if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
				return nil
			}
			var out []reconcile.Request
			for _, u := range list.Items {
				if u.Spec.ClusterRef.Name == o.GetName() {
					out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&u)})
				}
			}
			return out
		})).
		Named("kalamuser").
		Complete(r)
}
