package e2e

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
)

const (
	growNS      = "kalam-grow"
	growCluster = "kalam" // config/samples/kalamdb_v1alpha1_kalamcluster.yaml
	// growRows rows per table before the scale-up: 1..growFlushed are
	// flushed to the cold tier (Parquet in MinIO), the rest stay hot.
	growRows    = 100
	growFlushed = 60
	alicePW     = "alice-pw-e2e"
)

// TestHAScaleUp is issue 20's "scale 1 → 3 on a cluster with data", end to
// end: the single-node sample KalamCluster (object storage in MinIO) gets
// rows in a SHARED and a USER table, some flushed to Parquet and some hot;
// spec.replicas is patched to 3 while clients keep writing through the
// client Service; the operator migrates it (pod 0 adopts its data as a
// one-member Raft group, pods 1 and 2 join non-voting and are promoted).
// At the end every row written before and every acknowledged write during
// the change is readable through each of the three pods, new writes
// through any pod replicate to the others, status.groups lists three
// members and a leader per group, and Ready is True. The migration's
// duration is logged (docs/high-availability.md reports it).
func TestHAScaleUp(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts a control plane, MinIO and the operator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	env := harness.Start(ctx, t)
	if out, err := env.KubectlRun(ctx, nil, "create", "namespace", growNS); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	env.ApplySample(ctx, t, growNS, "s3-credentials.yaml")
	env.ApplySample(ctx, t, growNS, "kalamdb_v1alpha1_kalamcluster.yaml", "minio.minio.svc:9000", env.MinIO.Endpoint)
	g := &growRun{haRun: &haRun{s: &scenario{env: env, ns: growNS}, cluster: growCluster}}
	runSteps(ctx, t, []step{
		{"1_single_node_with_flushed_and_hot_rows", nil, g.stepData},
		{"2_scale_1_to_3_while_writing", []string{"1_single_node_with_flushed_and_hot_rows"}, g.stepScale},
		{"3_every_row_on_every_replica", []string{"2_scale_1_to_3_while_writing"}, g.stepEveryReplica},
		{"4_new_writes_replicate", []string{"2_scale_1_to_3_while_writing"}, g.stepNewWrites},
	})
}

// growRun carries TestHAScaleUp's state between steps.
type growRun struct {
	*haRun
	before []int64 // ids written to both tables before the scale-up
}

// stepData: the single-node cluster is Ready; root writes a SHARED table,
// alice her USER table; the first growFlushed rows of each are flushed to
// the object store, the rest stay hot.
func (g *growRun) stepData(ctx context.Context, t *testing.T) {
	g.s.waitReady(ctx, t, &kalamv1.KalamCluster{}, growCluster, 3*time.Minute)
	root := g.s.root(ctx, t, growCluster)
	g.token = root.Token
	for _, q := range []string{
		"CREATE NAMESPACE ha",
		"CREATE TABLE ha.events (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE = 'SHARED', STORAGE_ID = 'objstore')",
		"CREATE TABLE ha.notes (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE = 'USER', STORAGE_ID = 'objstore')",
		"CREATE USER alice WITH PASSWORD '" + alicePW + "' ROLE user",
	} {
		if _, err := root.SQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	alice := g.s.user(ctx, t, g.s.serviceURL(ctx, t, growCluster), "alice")
	write := func(from, to int64) {
		for id := from; id <= to; id++ {
			if _, err := root.SQL(ctx, "INSERT INTO ha.events (id, v) VALUES ($1, $2)", id, "before"); err != nil {
				t.Fatalf("insert ha.events %d: %v", id, err)
			}
			if _, err := alice.SQL(ctx, "INSERT INTO ha.notes (id, v) VALUES ($1, $2)", id, "alice before"); err != nil {
				t.Fatalf("insert ha.notes %d: %v", id, err)
			}
			g.before = append(g.before, id)
		}
	}
	write(1, growFlushed)
	for _, tbl := range []string{"ha.events", "ha.notes"} {
		g.flush(ctx, t, root, tbl)
	}
	parquet := g.parquetObjects(ctx, t)
	if parquet < 2 {
		t.Fatalf("%d Parquet objects in the object store after flushing both tables, want at least 2", parquet)
	}
	write(growFlushed+1, growRows)
	t.Logf("%d rows in ha.events and alice's ha.notes, %d of each flushed (%d Parquet objects), %d hot",
		growRows, growFlushed, parquet, growRows-growFlushed)
}

// stepScale patches spec.replicas to 3 while three clients write through
// the client Service, and waits until the operator has migrated the
// cluster: three pods Ready, every group with three members and a leader in
// status.groups, Ready=True. It records how the Ready condition moved.
func (g *growRun) stepScale(ctx context.Context, t *testing.T) {
	w := g.startWriter(ctx, t, 100_000)
	g.waitAcks(ctx, t, w, 20)
	mon := g.watchConditions(ctx)
	t0 := time.Now()
	var kc kalamv1.KalamCluster
	if err := g.s.env.Client.Get(ctx, client.ObjectKey{Namespace: growNS, Name: growCluster}, &kc); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(kc.DeepCopy())
	kc.Spec.Replicas = 3
	if err := g.s.env.Client.Patch(ctx, &kc, patch); err != nil {
		t.Fatal(err)
	}
	g.s.eventually(ctx, t, "the operator to scale the cluster to three voting replicas", 6*time.Minute, func() (bool, string) {
		return g.scaledUp(ctx, t)
	})
	took := time.Since(t0)
	samples := mon.stop()
	g.waitAcks(ctx, t, w, len(w.acks())+20)
	w.stop()
	g.record(w)
	for _, s := range samples.transitions() {
		t.Logf("  +%6.2fs %s", s.at.Sub(t0).Seconds(), s)
	}
	t.Logf("SCALE-UP 1 -> 3: Ready=True with 3 voting replicas %s after the patch; Ready=False for %s in all; longest gap between acknowledged writes %s; %d writes acknowledged, %d failed (%s)",
		took.Round(time.Millisecond), samples.notReady().Round(time.Millisecond), w.maxGap(t0).Round(time.Millisecond),
		len(w.acks()), w.failed(), w.lastError())
	// Pod 0 serves throughout but for its restart into a one-member Raft
	// group (step 2/4): only then may the cluster be not Ready.
	var bad []string
	for _, s := range samples {
		if s.ready != metav1.ConditionTrue && !(s.reconciling == "ScalingUp" && strings.Contains(s.msg, "step 2/4")) {
			bad = append(bad, fmt.Sprintf("+%.2fs %s", s.at.Sub(t0).Seconds(), s))
		}
	}
	if len(bad) > 0 {
		t.Errorf("Ready was not True outside pod 0's restart in %d of %d samples, first: %v", len(bad), len(samples), bad[:min(len(bad), 3)])
	}
	g.expectAcked(ctx, t, w.acks(), "")
}

// scaledUp reports whether the migration has finished as the user sees
// it, and else what is missing.
func (g *growRun) scaledUp(ctx context.Context, t *testing.T) (bool, string) {
	var kc kalamv1.KalamCluster
	if err := g.s.env.Client.Get(ctx, client.ObjectKey{Namespace: growNS, Name: growCluster}, &kc); err != nil {
		return false, err.Error()
	}
	c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReady)
	var state []string
	done := c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration >= kc.Generation &&
		!meta.IsStatusConditionTrue(kc.Status.Conditions, kalamv1.ConditionReconciling)
	if c != nil {
		state = append(state, fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message))
	}
	var sts appsv1.StatefulSet
	if err := g.s.env.Client.Get(ctx, client.ObjectKey{Namespace: growNS, Name: growCluster}, &sts); err != nil {
		return false, err.Error()
	}
	done = done && sts.Annotations["kalamdb.io/scale-up"] == "done"
	pods := g.pods(ctx, t)
	ready := 0
	for _, p := range pods {
		if podReady(&p) && p.DeletionTimestamp == nil {
			ready++
		}
	}
	done = done && len(pods) == 3 && ready == 3
	state = append(state, fmt.Sprintf("%d pods, %d ready; statefulset annotation %q", len(pods), ready, sts.Annotations["kalamdb.io/scale-up"]))
	if len(kc.Status.Groups) == 0 {
		done = false
	}
	for _, gr := range kc.Status.Groups {
		if len(gr.Members) != 3 || gr.Leader == 0 {
			done = false
			state = append(state, fmt.Sprintf("group %s members %v leader %d", gr.Name, gr.Members, gr.Leader))
		}
	}
	return done, strings.Join(state, "; ")
}

// stepEveryReplica reads, through each pod directly, every row written
// before the scale-up (flushed and hot, SHARED and alice's USER rows) and
// every write acknowledged during it; each pod reports three members and
// a leader per group, as does status.groups.
func (g *growRun) stepEveryReplica(ctx context.Context, t *testing.T) {
	g.mu.Lock()
	want := append(slices.Clone(g.acked), g.before...)
	g.mu.Unlock()
	slices.Sort(want)
	pods := g.pods(ctx, t)
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	for _, p := range pods {
		ip := p.Status.PodIP
		g.expectAcked(ctx, t, want, ip)
		if got := g.noteIDs(ctx, t, g.alice(ctx, t, p)); !slices.Equal(got, g.before) {
			t.Fatalf("alice's ha.notes on %s: %d rows %v, want %d rows 1..%d", p.Name, len(got), got[:min(len(got), 20)], len(g.before), growRows)
		}
		st := g.status(ctx, t, ip)
		for _, sh := range st.Shards {
			if len(sh.Members) != 3 || sh.Leader == 0 {
				t.Fatalf("%s: group %s has members %v, leader %d", p.Name, sh.Name, sh.Members, sh.Leader)
			}
		}
		// How each got there, from its log (pods/log through the agent):
		// pod 0 adopted its data; pods 1 and 2 joined as non-voting
		// replicas and promoted themselves in every group.
		out, err := g.s.env.CP.Client.CoreV1().Pods(growNS).GetLogs(p.Name, &corev1.PodLogOptions{Container: "kalamdb"}).DoRaw(ctx)
		if err != nil {
			t.Fatalf("log of %s: %v", p.Name, err)
		}
		adopted := strings.Contains(string(out), "adopting this node's single-node data")
		promoted := strings.Count(string(out), `msg="replica promoted to voter"`)
		if p.Name == podName(growCluster, 0) {
			if !adopted || promoted != 0 {
				t.Errorf("%s: adopted %v, promoted in %d groups; want adopted, never promoted", p.Name, adopted, promoted)
			}
		} else if adopted || promoted != len(st.Shards) {
			t.Errorf("%s: adopted %v, promoted in %d of %d groups; want a joined replica promoted in every group", p.Name, adopted, promoted, len(st.Shards))
		}
	}
	var kc kalamv1.KalamCluster
	if err := g.s.env.Client.Get(ctx, client.ObjectKey{Namespace: growNS, Name: growCluster}, &kc); err != nil {
		t.Fatal(err)
	}
	for _, gr := range kc.Status.Groups {
		if !slices.Equal(gr.Members, []int64{1, 2, 3}) || gr.Leader == 0 {
			t.Fatalf("status.groups %s: members %v, leader %d", gr.Name, gr.Members, gr.Leader)
		}
	}
	t.Logf("%d ha.events rows (%d before, %d written during the scale-up) and %d of alice's ha.notes rows on each of the 3 pods; %d groups in status.groups",
		len(want), len(g.before), len(want)-len(g.before), len(g.before), len(kc.Status.Groups))
}

// stepNewWrites writes one row of each table through each pod and reads
// all of them through every pod (linearizable reads, the default).
func (g *growRun) stepNewWrites(ctx context.Context, t *testing.T) {
	pods := g.pods(ctx, t)
	var ids []int64
	for i, p := range pods {
		id := int64(900_000 + i)
		if _, err := g.client(p.Status.PodIP).SQL(ctx, "INSERT INTO ha.events (id, v) VALUES ($1, $2)", id, "after via "+p.Name); err != nil {
			t.Fatalf("insert ha.events %d via %s: %v", id, p.Name, err)
		}
		if _, err := g.alice(ctx, t, p).SQL(ctx, "INSERT INTO ha.notes (id, v) VALUES ($1, $2)", id, "alice after via "+p.Name); err != nil {
			t.Fatalf("insert ha.notes %d via %s: %v", id, p.Name, err)
		}
		ids = append(ids, id)
	}
	for _, p := range pods {
		g.expectAcked(ctx, t, ids, p.Status.PodIP)
		got := g.noteIDs(ctx, t, g.alice(ctx, t, p))
		for _, id := range ids {
			if _, ok := slices.BinarySearch(got, id); !ok {
				t.Fatalf("alice's row %d written after the scale-up is missing on %s", id, p.Name)
			}
		}
	}
}

// podName is <cluster>-<ordinal>.
func podName(cluster string, ordinal int) string { return fmt.Sprintf("%s-%d", cluster, ordinal) }

// alice logs alice in on pod p directly.
func (g *growRun) alice(ctx context.Context, t *testing.T, p corev1.Pod) *dpclient.Client {
	t.Helper()
	c := dpclient.New("http://" + net.JoinHostPort(p.Status.PodIP, "8080"))
	if _, err := c.Login(ctx, "alice", alicePW); err != nil {
		t.Fatalf("alice login on %s: %v", p.Name, err)
	}
	return c
}

// flush runs STORAGE FLUSH TABLE and waits for its job to complete.
func (g *growRun) flush(ctx context.Context, t *testing.T, root *dpclient.Client, table string) {
	t.Helper()
	recs, err := root.Records(ctx, "STORAGE FLUSH TABLE "+table)
	if err != nil || len(recs) != 1 {
		t.Fatalf("STORAGE FLUSH TABLE %s: %v %v", table, recs, err)
	}
	id := recs[0].String("job_id")
	g.s.eventually(ctx, t, "flush job "+id+" of "+table, time.Minute, func() (bool, string) {
		j, err := root.Job(ctx, id)
		switch {
		case err != nil:
			return false, err.Error()
		case j == nil:
			return false, "not listed yet"
		case j.Status == "failed" || j.Status == "cancelled":
			t.Fatalf("flush job %s of %s: %s %s", id, table, j.Status, j.Error)
		}
		return j.Status == "completed", j.Status
	})
}

// parquetObjects counts the Parquet files in the MinIO bucket.
func (g *growRun) parquetObjects(ctx context.Context, t *testing.T) int {
	t.Helper()
	n := 0
	for obj := range g.s.env.S3.ListObjects(ctx, harness.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if strings.HasSuffix(obj.Key, ".parquet") {
			n++
		}
	}
	return n
}

// noteIDs reads every id of the caller's ha.notes rows.
func (g *growRun) noteIDs(ctx context.Context, t *testing.T, c *dpclient.Client) []int64 {
	t.Helper()
	var out []int64
	g.s.eventually(ctx, t, "a read of ha.notes", time.Minute, func() (bool, string) {
		rows, err := c.Rows(ctx, "SELECT id FROM ha.notes ORDER BY id LIMIT 5000")
		if err != nil {
			return false, err.Error()
		}
		out = out[:0]
		for _, r := range rows {
			id, err := strconv.ParseInt(fmt.Sprint(r[0]), 10, 64)
			if err != nil {
				t.Fatalf("ha.notes id %v: %v", r[0], err)
			}
			out = append(out, id)
		}
		return true, ""
	})
	return out
}

// condSample is the KalamCluster's Ready and Reconciling conditions at
// one moment.
type condSample struct {
	at          time.Time
	phase       kalamv1.ClusterPhase
	ready       metav1.ConditionStatus
	reason      string
	reconciling string // Reconciling's reason, "" when absent or not True
	msg         string // Reconciling's message, else Ready's
}

func (s condSample) String() string {
	return fmt.Sprintf("phase=%s Ready=%s/%s Reconciling=%q: %s", s.phase, s.ready, s.reason, s.reconciling, s.msg)
}

type condSamples []condSample

// transitions keeps the samples where something other than the time changed.
func (ss condSamples) transitions() condSamples {
	var out condSamples
	for i, s := range ss {
		if i == 0 || s.String() != ss[i-1].String() {
			out = append(out, s)
		}
	}
	return out
}

// notReady is how long Ready was not True between the first and last sample.
func (ss condSamples) notReady() time.Duration {
	var d time.Duration
	for i := 1; i < len(ss); i++ {
		if ss[i-1].ready != metav1.ConditionTrue {
			d += ss[i].at.Sub(ss[i-1].at)
		}
	}
	return d
}

// condMonitor samples the cluster's conditions every 200 ms until stop.
type condMonitor struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	samples condSamples
}

func (g *growRun) watchConditions(ctx context.Context) *condMonitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &condMonitor{cancel: cancel, done: make(chan struct{})}
	go func() { // owned by m: ends on stop
		defer close(m.done)
		for ctx.Err() == nil {
			var kc kalamv1.KalamCluster
			if err := g.s.env.Client.Get(ctx, client.ObjectKey{Namespace: growNS, Name: growCluster}, &kc); err == nil {
				s := condSample{at: time.Now(), phase: kc.Status.Phase}
				if c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReady); c != nil {
					s.ready, s.reason, s.msg = c.Status, c.Reason, c.Message
				}
				if c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReconciling); c != nil && c.Status == metav1.ConditionTrue {
					s.reconciling, s.msg = c.Reason, c.Message
				}
				m.mu.Lock()
				m.samples = append(m.samples, s)
				m.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return m
}

func (m *condMonitor) stop() condSamples {
	m.cancel()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.samples)
}
