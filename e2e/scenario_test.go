// Package e2e is the end-to-end suite: a real control plane (etcd,
// kube-apiserver, kube-controller-manager), the operator as a process, MinIO,
// and a node agent running the data plane's pods as local processes. The
// scenario applies config/samples with kubectl, exactly as a user would.
// See e2e/README.md.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/minio/minio-go/v7"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
)

const ns = "kalam-e2e"

// scenario carries state between the steps.
type scenario struct {
	env *harness.Env
	// ns overrides the package's namespace (another test's own).
	ns   string
	repl []string // sample rewrites: object-store endpoint -> MinIO

	mu    sync.Mutex
	acked map[string][]int64 // user -> ids whose INSERT was acknowledged
}

func TestScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts a control plane, MinIO and the operator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	env := harness.Start(ctx, t)
	s := &scenario{env: env, acked: map[string][]int64{},
		repl: []string{"minio.minio.svc:9000", env.MinIO.Endpoint}}
	if out, err := env.KubectlRun(ctx, nil, "create", "namespace", ns); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	runSteps(ctx, t, []step{
		{"1_cluster_namespace_tables_ready", nil, s.step1},
		{"2_users_write_and_subscriber_receives", []string{"1_cluster_namespace_tables_ready"}, s.step2},
		{"3_scheduled_backup_immediate", []string{"2_users_write_and_subscriber_receives"}, s.step3},
		{"4_restore_into_new_cluster", []string{"3_scheduled_backup_immediate"}, s.step4},
		{"5_schema_change_and_destructive_pending", []string{"2_users_write_and_subscriber_receives"}, s.step5},
		{"6_kill_data_plane_no_acked_row_lost", []string{"2_users_write_and_subscriber_receives"}, s.step6},
		{"6b_kubectl_kalam_sql_and_logs", []string{"6_kill_data_plane_no_acked_row_lost"}, s.stepPlugin},
		{"7_delete_follows_deletion_policy", []string{"1_cluster_namespace_tables_ready"}, s.step7},
	})
}

// step is one subtest of a scenario; it runs only when every step it
// needs passed.
type step struct {
	name  string
	needs []string
	fn    func(context.Context, *testing.T)
}

// runSteps runs steps in order as subtests. A step whose prerequisite
// failed fails with "cannot run" (never skipped silently).
func runSteps(ctx context.Context, t *testing.T, steps []step) {
	ok := map[string]bool{}
	for _, st := range steps {
		began := time.Now()
		ok[st.name] = t.Run(st.name, func(t *testing.T) {
			for _, n := range st.needs {
				if !ok[n] {
					// Explicit, not silent: the parent test has already failed.
					t.Fatalf("cannot run: step %s failed", n)
				}
			}
			st.fn(ctx, t)
		})
		t.Logf("e2e: step %s: ok=%v in %s", st.name, ok[st.name], time.Since(began).Round(time.Millisecond))
	}
}

// step1: KalamCluster becomes Ready; KalamNamespace and two KalamTables too.
func (s *scenario) step1(ctx context.Context, t *testing.T) {
	s.env.ApplySample(ctx, t, ns, "s3-credentials.yaml")
	s.env.ApplySample(ctx, t, ns, "kalamdb_v1alpha1_kalamcluster.yaml", s.repl...)
	s.waitReady(ctx, t, &kalamv1.KalamCluster{}, "kalam", 3*time.Minute)
	s.env.ApplySample(ctx, t, ns, "kalamdb_v1alpha1_kalamnamespace.yaml")
	s.env.ApplySample(ctx, t, ns, "kalamdb_v1alpha1_kalamtable.yaml")
	s.waitReady(ctx, t, &kalamv1.KalamNamespace{}, "app", time.Minute)
	s.waitReady(ctx, t, &kalamv1.KalamTable{}, "app-messages", time.Minute)
	s.waitReady(ctx, t, &kalamv1.KalamTable{}, "app-rooms", time.Minute)
	root := s.root(ctx, t, "kalam")
	for _, tbl := range []string{"messages", "rooms"} {
		info, err := root.DescribeTable(ctx, "app", tbl)
		if err != nil || info == nil {
			t.Fatalf("table app.%s after Ready: %v %v", tbl, info, err)
		}
	}
}

// step2: an app logs in through the Service, two users insert rows, and a
// WebSocket subscriber receives its user's changes.
func (s *scenario) step2(ctx context.Context, t *testing.T) {
	base := s.serviceURL(ctx, t, "kalam")
	root := s.root(ctx, t, "kalam")
	for _, u := range []string{"alice", "bob"} {
		if _, err := root.SQL(ctx, fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s-pw-e2e' ROLE user", u, u)); err != nil {
			t.Fatalf("create user %s: %v", u, err)
		}
	}
	alice, bob := s.user(ctx, t, base, "alice"), s.user(ctx, t, base, "bob")

	// Subscribe as alice before writing.
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws?compress=false"
	h := http.Header{}
	h.Set("Authorization", "Bearer "+alice.Token)
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("websocket dial %s: %v", wsURL, err)
	}
	defer conn.CloseNow()
	read := func() map[string]any {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		_, b, err := conn.Read(rctx)
		if err != nil {
			t.Fatalf("websocket read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("websocket message %q: %v", b, err)
		}
		return m
	}
	if m := read(); m["type"] != "auth_success" {
		t.Fatalf("websocket: want auth_success, got %v", m)
	}
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "s1", "sql": "SELECT * FROM app.messages"}})
	if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	for {
		m := read()
		if m["type"] == "error" {
			t.Fatalf("subscribe: %v", m)
		}
		if m["type"] == "initial_data_batch" {
			if st, _ := m["batch_control"].(map[string]any); st == nil || st["status"] == "ready" || st["has_more"] == false {
				break
			}
		}
	}

	s.insert(ctx, t, alice, "alice", 1, 2, 3)
	s.insert(ctx, t, bob, "bob", 101, 102)

	got := map[string]bool{}
	for len(got) < 3 {
		m := read()
		if m["type"] != "change" {
			continue
		}
		if m["change_type"] != "insert" {
			t.Fatalf("unexpected change %v", m)
		}
		rows, _ := m["rows"].([]any)
		for _, r := range rows {
			id := fmt.Sprint(r.(map[string]any)["id"])
			if id == "101" || id == "102" {
				t.Fatalf("alice's subscriber received bob's row %s", id)
			}
			got[id] = true
		}
	}
	for _, id := range []string{"1", "2", "3"} {
		if !got[id] {
			t.Fatalf("subscriber did not receive id %s: %v", id, got)
		}
	}
	s.expectRows(ctx, t, alice, "alice")
	s.expectRows(ctx, t, bob, "bob")
}

// step3: a KalamScheduledBackup with immediate: true completes and its
// objects are in MinIO.
func (s *scenario) step3(ctx context.Context, t *testing.T) {
	s.env.ApplySample(ctx, t, ns, "kalamdb_v1alpha1_kalamscheduledbackup.yaml")
	var done *kalamv1.KalamBackup
	s.eventually(ctx, t, "immediate KalamBackup of kalam-nightly Completed", 4*time.Minute, func() (bool, string) {
		var list kalamv1.KalamBackupList
		if err := s.env.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{kalamv1.LabelScheduledBackup: "kalam-nightly"}); err != nil {
			return false, err.Error()
		}
		var states []string
		for i := range list.Items {
			b := &list.Items[i]
			states = append(states, fmt.Sprintf("%s=%s %s", b.Name, b.Status.Phase, b.Status.Error))
			if b.Status.Phase == kalamv1.BackupFailed {
				t.Fatalf("backup %s failed: %s", b.Name, b.Status.Error)
			}
			if b.Status.Phase == kalamv1.BackupCompleted {
				done = b
				return true, ""
			}
		}
		return false, strings.Join(states, "; ")
	})
	t.Logf("backup %s completed: id %s target %s size %d", done.Name, done.Status.BackupID, done.Status.Target, done.Status.SizeBytes)
	n := s.backupObjects(ctx, t)
	if n == 0 {
		t.Fatalf("no backup objects under backups/kalam/ in bucket %s", harness.Bucket)
	}
	t.Logf("%d backup objects in MinIO under backups/kalam/", n)
	backups, err := s.root(ctx, t, "kalam").ShowBackups(ctx, done.Status.Target)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range backups {
		found = found || (b.BackupID == done.Status.BackupID && b.Status == "completed")
	}
	if !found {
		t.Fatalf("SHOW BACKUPS IN %s does not list %s as completed: %+v", done.Status.Target, done.Status.BackupID, backups)
	}
}

// step4: a new KalamCluster bootstrapped from the backup serves the same rows.
func (s *scenario) step4(ctx context.Context, t *testing.T) {
	s.env.ApplySample(ctx, t, ns, "kalamdb_v1alpha1_kalamcluster_restore.yaml", s.repl...)
	s.waitReady(ctx, t, &kalamv1.KalamCluster{}, "kalam-restored", 4*time.Minute)
	base := s.serviceURL(ctx, t, "kalam-restored")
	// Users (with their passwords) are part of a database backup.
	s.expectRowsAtLeast(ctx, t, s.user(ctx, t, base, "alice"), "alice", []int64{1, 2, 3})
	s.expectRowsAtLeast(ctx, t, s.user(ctx, t, base, "bob"), "bob", []int64{101, 102})
}

// step5: an added column appears in DESCRIBE; a destructive change (dropping
// a column) stays pending.
func (s *scenario) step5(ctx context.Context, t *testing.T) {
	root := s.root(ctx, t, "kalam")
	s.updateTable(ctx, t, "app-messages", func(tb *kalamv1.KalamTable) {
		tb.Spec.Columns = append(tb.Spec.Columns, kalamv1.ColumnSpec{Name: "topic", Type: "TEXT"})
	})
	s.eventually(ctx, t, "column topic in DESCRIBE app.messages", time.Minute, func() (bool, string) {
		info, err := root.DescribeTable(ctx, "app", "messages")
		if err != nil || info == nil {
			return false, fmt.Sprint(err)
		}
		return hasColumn(info, "topic"), fmt.Sprintf("%+v", info.Columns)
	})
	s.waitReady(ctx, t, &kalamv1.KalamTable{}, "app-messages", time.Minute)

	s.updateTable(ctx, t, "app-messages", func(tb *kalamv1.KalamTable) {
		tb.Spec.Columns = slices.DeleteFunc(tb.Spec.Columns, func(c kalamv1.ColumnSpec) bool { return c.Name == "body" })
	})
	s.eventually(ctx, t, "destructive plan pending on app-messages", time.Minute, func() (bool, string) {
		var tb kalamv1.KalamTable
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-messages"}, &tb); err != nil {
			return false, err.Error()
		}
		p := tb.Status.PendingPlan
		return p != nil && len(p.Destructive) > 0, fmt.Sprintf("pendingPlan=%+v conditions=%+v", p, tb.Status.Conditions)
	})
	// Give the operator a few reconciles; the column must still be there.
	time.Sleep(3 * time.Second)
	info, err := root.DescribeTable(ctx, "app", "messages")
	if err != nil || info == nil || !hasColumn(info, "body") {
		t.Fatalf("column body was dropped without approval: %+v %v", info, err)
	}
}

// step6: the data-plane process is SIGKILLed while a client writes; the agent
// restarts it and every acknowledged row is there.
func (s *scenario) step6(ctx context.Context, t *testing.T) {
	base := s.serviceURL(ctx, t, "kalam")
	alice := s.user(ctx, t, base, "alice")
	alice.HTTP.Timeout = 3 * time.Second
	pod := &corev1.Pod{}
	if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "kalam-0"}, pod); err != nil {
		t.Fatal(err)
	}
	restartsBefore := restartCount(pod)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var afterKill atomic.Int64
	killed := make(chan struct{})
	wg.Add(1)
	go func() { // owned by this step: ends on stop
		defer wg.Done()
		for id := int64(1000); ; id++ {
			select {
			case <-stop:
				return
			default:
			}
			_, err := alice.SQL(ctx, "INSERT INTO app.messages (id, body) VALUES ($1, 'k')", id)
			if err == nil {
				s.record("alice", id)
				select {
				case <-killed:
					afterKill.Add(1)
				default:
				}
				continue
			}
			time.Sleep(100 * time.Millisecond)
			if alice.Token != "" && dpclient.IsCode(err, "UNAUTHORIZED") {
				_, _ = alice.Login(ctx, "alice", "alice-pw-e2e")
			}
		}
	}()
	time.Sleep(time.Second)
	if err := s.env.Agent.Kill(ns, "kalam-0", "kalamdb", syscall.SIGKILL); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	close(killed)
	s.eventually(ctx, t, "kalam-0 restarted and Ready", 2*time.Minute, func() (bool, string) {
		p := &corev1.Pod{}
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "kalam-0"}, p); err != nil {
			return false, err.Error()
		}
		return restartCount(p) > restartsBefore && podReady(p), fmt.Sprintf("restarts=%d ready=%v", restartCount(p), podReady(p))
	})
	s.eventually(ctx, t, "writes succeed again after the restart", time.Minute, func() (bool, string) {
		return afterKill.Load() >= 5, fmt.Sprintf("%d writes since the kill", afterKill.Load())
	})
	close(stop)
	wg.Wait()
	s.waitReady(ctx, t, &kalamv1.KalamCluster{}, "kalam", 2*time.Minute)
	s.expectRowsAtLeast(ctx, t, alice, "alice", s.ids("alice"))
	t.Logf("%d acknowledged alice rows all present after SIGKILL", len(s.ids("alice")))
}

// step7: deleting the CRs follows each deletionPolicy.
func (s *scenario) step7(ctx context.Context, t *testing.T) {
	root := s.root(ctx, t, "kalam")
	del := func(obj client.Object, name string) {
		obj.SetNamespace(ns)
		obj.SetName(name)
		if err := s.env.Client.Delete(ctx, obj); err != nil {
			t.Fatalf("delete %T %s: %v", obj, name, err)
		}
		s.eventually(ctx, t, fmt.Sprintf("%T %s gone", obj, name), time.Minute, func() (bool, string) {
			err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
			return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprintf("finalizers=%v", obj.GetFinalizers())
		})
	}
	// KalamTable app-messages: deletionPolicy Delete -> table dropped.
	del(&kalamv1.KalamTable{}, "app-messages")
	if info, err := root.DescribeTable(ctx, "app", "messages"); err != nil || info != nil {
		t.Fatalf("app.messages should be dropped (deletionPolicy Delete): %+v %v", info, err)
	}
	// KalamTable app-rooms: Retain -> table kept.
	del(&kalamv1.KalamTable{}, "app-rooms")
	if info, err := root.DescribeTable(ctx, "app", "rooms"); err != nil || info == nil {
		t.Fatalf("app.rooms should be kept (deletionPolicy Retain): %v", err)
	}
	// KalamNamespace app: Retain -> namespace kept.
	del(&kalamv1.KalamNamespace{}, "app")
	if exists, err := root.NamespaceExists(ctx, "app"); err != nil || !exists {
		t.Fatalf("namespace app should be kept (deletionPolicy Retain): %v %v", exists, err)
	}
	// KalamScheduledBackup with backupOwnerReference self: its KalamBackups go
	// with it (garbage collector), the backup objects stay in the bucket.
	var sched kalamv1.KalamScheduledBackup
	if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "kalam-nightly"}, &sched); err == nil {
		del(&kalamv1.KalamScheduledBackup{}, "kalam-nightly")
		s.eventually(ctx, t, "KalamBackups of kalam-nightly garbage-collected", time.Minute, func() (bool, string) {
			var list kalamv1.KalamBackupList
			err := s.env.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{kalamv1.LabelScheduledBackup: "kalam-nightly"})
			return err == nil && len(list.Items) == 0, fmt.Sprintf("%d left", len(list.Items))
		})
		if n := s.backupObjects(ctx, t); n == 0 {
			t.Fatal("deleting the KalamBackup objects removed the backup data from the bucket")
		}
	}
	// KalamClusters: the StatefulSet and its pods go; the agent stops the
	// processes.
	for _, name := range []string{"kalam-restored", "kalam"} {
		var kc kalamv1.KalamCluster
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &kc); err != nil {
			continue // kalam-restored exists only when step 4 ran
		}
		del(&kalamv1.KalamCluster{}, name)
		s.eventually(ctx, t, "pods of "+name+" gone", 2*time.Minute, func() (bool, string) {
			var pods corev1.PodList
			err := s.env.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{kalamv1.LabelCluster: name})
			return err == nil && len(pods.Items) == 0, fmt.Sprintf("%d pods", len(pods.Items))
		})
	}
}

// --- helpers ---

// backupObjects counts the objects of cluster kalam's backups in MinIO.
func (s *scenario) backupObjects(ctx context.Context, t *testing.T) int {
	t.Helper()
	n := 0
	for obj := range s.env.S3.ListObjects(ctx, harness.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if strings.Contains(obj.Key, "backups/kalam/") {
			n++
		}
	}
	return n
}

func (s *scenario) waitReady(ctx context.Context, t *testing.T, obj client.Object, name string, timeout time.Duration) {
	t.Helper()
	s.eventually(ctx, t, fmt.Sprintf("%T %s Ready", obj, name), timeout, func() (bool, string) {
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: s.namespace(), Name: name}, obj); err != nil {
			return false, err.Error()
		}
		co, ok := obj.(kalamv1.ConditionedObject)
		if !ok {
			return false, "not a ConditionedObject"
		}
		conds := *co.GetConditions()
		c := meta.FindStatusCondition(conds, "Ready")
		if c == nil {
			return false, "no Ready condition yet"
		}
		return c.Status == metav1.ConditionTrue && c.ObservedGeneration >= obj.GetGeneration(),
			fmt.Sprintf("Ready=%s reason=%s message=%s", c.Status, c.Reason, c.Message)
	})
}

func (s *scenario) eventually(ctx context.Context, t *testing.T, what string, timeout time.Duration, ok func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var done bool
		done, last = ok()
		if done {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

// serviceURL resolves the cluster's client Service to a ready pod.
func (s *scenario) serviceURL(ctx context.Context, t *testing.T, cluster string) string {
	t.Helper()
	var eps []string
	s.eventually(ctx, t, "endpoints of service "+cluster, time.Minute, func() (bool, string) {
		var err error
		eps, err = harness.ServiceEndpoints(ctx, s.env.CP.Client, s.namespace(), cluster, "http")
		return err == nil, fmt.Sprint(err)
	})
	return "http://" + eps[0]
}

// root logs in as root with the password from <cluster>-credentials (C4).
func (s *scenario) root(ctx context.Context, t *testing.T, cluster string) *dpclient.Client {
	t.Helper()
	var sec corev1.Secret
	if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: s.namespace(), Name: cluster + "-credentials"}, &sec); err != nil {
		t.Fatalf("secret %s-credentials: %v", cluster, err)
	}
	c := dpclient.New(s.serviceURL(ctx, t, cluster))
	if _, err := c.Login(ctx, "root", string(sec.Data["root-password"])); err != nil {
		t.Fatalf("root login on %s: %v", cluster, err)
	}
	return c
}

func (s *scenario) user(ctx context.Context, t *testing.T, base, name string) *dpclient.Client {
	t.Helper()
	c := dpclient.New(base)
	if _, err := c.Login(ctx, name, name+"-pw-e2e"); err != nil {
		t.Fatalf("login %s at %s: %v", name, base, err)
	}
	return c
}

func (s *scenario) insert(ctx context.Context, t *testing.T, c *dpclient.Client, user string, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		if _, err := c.SQL(ctx, "INSERT INTO app.messages (id, body) VALUES ($1, $2)", id, fmt.Sprintf("%s says %d", user, id)); err != nil {
			t.Fatalf("insert %d as %s: %v", id, user, err)
		}
		s.record(user, id)
	}
}

func (s *scenario) record(user string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acked[user] = append(s.acked[user], id)
}

func (s *scenario) ids(user string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acked[user])
}

// expectRows checks the user sees exactly the acknowledged rows.
func (s *scenario) expectRows(ctx context.Context, t *testing.T, c *dpclient.Client, user string) {
	t.Helper()
	got := selectIDs(ctx, t, c)
	want := s.ids(user)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s sees ids %v, want %v", user, got, want)
	}
}

// expectRowsAtLeast checks every id in want is present.
func (s *scenario) expectRowsAtLeast(ctx context.Context, t *testing.T, c *dpclient.Client, user string, want []int64) {
	t.Helper()
	got := selectIDs(ctx, t, c)
	for _, id := range want {
		if _, found := slices.BinarySearch(got, id); !found {
			t.Fatalf("%s: acknowledged id %d missing (have %d rows)", user, id, len(got))
		}
	}
}

// selectIDs reads every id of the caller's app.messages rows, in pages of
// 500 (the server caps a result at limits.max_query_limit).
func selectIDs(ctx context.Context, t *testing.T, c *dpclient.Client) []int64 {
	t.Helper()
	var out []int64
	last := int64(-1 << 62)
	for page := 0; page < 10000; page++ {
		rows, err := c.Rows(ctx, "SELECT id FROM app.messages WHERE id > $1 ORDER BY id LIMIT 500", last)
		if err != nil {
			t.Fatalf("select: %v", err)
		}
		for _, r := range rows {
			var id int64
			switch v := r[0].(type) {
			case float64:
				id = int64(v)
			case string:
				if _, err := fmt.Sscan(v, &id); err != nil {
					t.Fatalf("id %q: %v", v, err)
				}
			case json.Number:
				id, _ = v.Int64()
			}
			out = append(out, id)
			last = id
		}
		if len(rows) < 500 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (s *scenario) updateTable(ctx context.Context, t *testing.T, name string, mut func(*kalamv1.KalamTable)) {
	t.Helper()
	for i := 0; i < 10; i++ {
		var tb kalamv1.KalamTable
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &tb); err != nil {
			t.Fatal(err)
		}
		mut(&tb)
		err := s.env.Client.Update(ctx, &tb)
		if err == nil {
			return
		}
		t.Logf("update %s: %v (retrying)", name, err)
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("could not update KalamTable %s", name)
}

func hasColumn(info *dpclient.TableInfo, name string) bool {
	for _, c := range info.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

func restartCount(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
