package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
)

// TestSamplesTogether applies every sample at once, as the chart's notes
// suggest (`kubectl apply -k config/samples`, MinIO's endpoint edited in),
// and checks they end consistent: every object Ready, both backups
// Completed, the declared user able to log in, and nothing Stalled.
func TestSamplesTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts a control plane, MinIO and the operator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	env := harness.Start(ctx, t)
	const space = "samples"
	if out, err := env.KubectlRun(ctx, nil, "create", "namespace", space); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	dir := filepath.Join(env.Dir, "samples")
	if err := env.CopySamples(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := env.KubectlRun(ctx, nil, "apply", "-n", space, "-k", dir); err != nil {
		t.Fatalf("kubectl apply -k config/samples: %v\n%s", err, out)
	}

	objects := []client.Object{
		&kalamv1.KalamCluster{ObjectMeta: metav1.ObjectMeta{Name: "kalam"}},
		&kalamv1.KalamNamespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}},
		&kalamv1.KalamTable{ObjectMeta: metav1.ObjectMeta{Name: "app-messages"}},
		&kalamv1.KalamTable{ObjectMeta: metav1.ObjectMeta{Name: "app-rooms"}},
		&kalamv1.KalamUser{ObjectMeta: metav1.ObjectMeta{Name: "app-service"}},
		&kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Name: "kalam-manual"}},
		&kalamv1.KalamScheduledBackup{ObjectMeta: metav1.ObjectMeta{Name: "kalam-nightly"}},
	}
	deadline := time.Now().Add(6 * time.Minute)
	for {
		var pending []string
		for _, o := range objects {
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: space, Name: o.GetName()}, o); err != nil {
				pending = append(pending, fmt.Sprintf("%T %s: %v", o, o.GetName(), err))
				continue
			}
			conds := *o.(kalamv1.ConditionedObject).GetConditions()
			if c := meta.FindStatusCondition(conds, kalamv1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
				t.Fatalf("%T %s is Stalled: %s: %s", o, o.GetName(), c.Reason, c.Message)
			}
			if c := meta.FindStatusCondition(conds, kalamv1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration < o.GetGeneration() {
				pending = append(pending, fmt.Sprintf("%T %s: %+v", o, o.GetName(), c))
			}
		}
		var backups kalamv1.KalamBackupList
		if err := env.Client.List(ctx, &backups, client.InNamespace(space)); err != nil {
			t.Fatal(err)
		}
		completed := 0
		for _, b := range backups.Items {
			switch b.Status.Phase {
			case kalamv1.BackupCompleted:
				completed++
			case kalamv1.BackupFailed:
				t.Fatalf("backup %s failed: %s", b.Name, b.Status.Error)
			}
		}
		if completed < 2 { // the manual one and the schedule's immediate one
			pending = append(pending, fmt.Sprintf("%d of %d backups completed", completed, len(backups.Items)))
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("samples applied together did not settle:\n%s", strings.Join(pending, "\n"))
		}
		time.Sleep(time.Second)
	}
	// The declared user logs in with its Secret's password and writes.
	g := &guide{env: env, ns: space}
	c := g.login(ctx, t, "kalam")
	if _, err := c.SQL(ctx, "INSERT INTO app.messages (id, body) VALUES (1, 'from the samples')"); err != nil {
		t.Fatalf("app_service insert: %v", err)
	}
}
