package controllers

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// TestPlanScaleUp walks the 1 -> 3 migration through the states an
// operator observes, in order and after a restart at any of them: each
// step follows from the observation alone.
func TestPlanScaleUp(t *testing.T) {
	voters := func(ids ...uint64) map[uint64]bool {
		m := map[uint64]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		o        scaleUpObservation
		want     scaleUpAction
		member   uint64
		replicas int32
		serving  bool // Ready stays True: pod 0 serves during the step
	}{
		{"single node stays", scaleUpObservation{Want: 1, Exists: true, Replicas: 1, Pod0Ready: true}, scaleUpNone, 0, 0, false},
		{"new cluster", scaleUpObservation{Want: 3}, scaleUpNone, 0, 0, false},
		{"created replicated", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Pod0Ready: true}, scaleUpNone, 0, 0, false},
		{"statefulset orphan-deleted, pod 0 runs", scaleUpObservation{Want: 3, OrphanPod0: true, Pod0Ready: true}, scaleUpRollPod0, 0, 1, true},
		{"ordered-ready single node", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Pod0Ready: true}, scaleUpRecreate, 0, 1, true},
		{"recreated, pod 0 outdated", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Migrating: true, Pod0Ready: true}, scaleUpRollPod0, 0, 1, true},
		{"parallel but template not yet migrating", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Pod0Updated: true, Pod0Ready: true}, scaleUpRollPod0, 0, 1, true},
		{"pod 0 restarting", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Migrating: true, Pod0Updated: true}, scaleUpWaitPod0, 0, 1, false},
		{"pod 0 adopted", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Migrating: true, Pod0Updated: true, Pod0Ready: true, ReadyPods: 1}, scaleUpScaleOut, 0, 3, true},
		{"scaled out", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Pod0Ready: true, ReadyPods: 1, Voters: voters(1)}, scaleUpAddMember, 2, 3, true},
		{"replica 2 votes", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Pod0Ready: true, ReadyPods: 2, Voters: voters(1, 2)}, scaleUpAddMember, 3, 3, true},
		{"replica 3 votes before 2 (re-observed)", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Pod0Ready: true, Voters: voters(1, 3)}, scaleUpAddMember, 2, 3, true},
		{"all vote, a pod not ready yet", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Pod0Ready: true, ReadyPods: 2, Voters: voters(1, 2, 3)}, scaleUpWaitPods, 0, 3, true},
		{"all vote and are ready", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Pod0Ready: true, ReadyPods: 3, Voters: voters(1, 2, 3)}, scaleUpFinish, 0, 3, true},
		{"done", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Done: true, Pod0Ready: true, ReadyPods: 3}, scaleUpNone, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := planScaleUp(tc.o)
			if s.Action != tc.want || s.Member != tc.member || s.Replicas != tc.replicas {
				t.Fatalf("plan = %+v, want action %d member %d replicas %d", s, tc.want, tc.member, tc.replicas)
			}
			if s.Serving != tc.serving {
				t.Errorf("serving = %v, want %v", s.Serving, tc.serving)
			}
			if s.active() && !strings.Contains(s.Msg, "1 -> 3") {
				t.Errorf("message %q", s.Msg)
			}
		})
	}
}

// TestApplyScaleUp: the migrating template, loaded by the data plane's own
// config parser for each pod, makes pod 0 (replica 1, the data) adopt and
// never join, and pods 1 and 2 (replicas 2, 3) join; replicas follow the
// step; the env stays once the migration is done (keepJoin), so finishing
// restarts nothing.
// TestScaleUpProgressConditions: while pod 0 serves, a step keeps
// Ready=True and says what it does in Reconciling; while pod 0 restarts,
// Ready is False. Either way the phase is Updating.
func TestScaleUpProgressConditions(t *testing.T) {
	r := &KalamClusterReconciler{}
	kc := replicatedCluster()
	kc.Status.Conditions = []metav1.Condition{{Type: kalamv1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Old"}}
	for _, tc := range []struct {
		o     scaleUpObservation
		ready metav1.ConditionStatus
	}{
		{scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Pod0Ready: true, ReadyPods: 1, Voters: map[uint64]bool{1: true}}, metav1.ConditionTrue},
		{scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Migrating: true, Pod0Updated: true}, metav1.ConditionFalse},
		{scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Pod0Ready: true}, metav1.ConditionTrue},
	} {
		step := planScaleUp(tc.o)
		if res := r.scaleUpProgress(kc, step); res.RequeueAfter != rolloutPoll {
			t.Errorf("requeue %v", res.RequeueAfter)
		}
		ready := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReady)
		rec := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReconciling)
		if ready == nil || ready.Status != tc.ready || ready.Reason != reasonScalingUp || ready.Message != step.Msg {
			t.Errorf("%s: Ready %+v, want %s", step.Msg, ready, tc.ready)
		}
		if rec == nil || rec.Status != metav1.ConditionTrue || rec.Reason != reasonScalingUp {
			t.Errorf("%s: Reconciling %+v", step.Msg, rec)
		}
		if meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionStalled) != nil {
			t.Errorf("%s: Stalled kept", step.Msg)
		}
		if kc.Status.Phase != kalamv1.ClusterUpdating {
			t.Errorf("%s: phase %s", step.Msg, kc.Status.Phase)
		}
	}
}

func TestApplyScaleUp(t *testing.T) {
	kc := replicatedCluster()
	toml, err := renderConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	build := func(step scaleUpStep, keep bool) *appsv1.StatefulSet {
		sts := buildStatefulSet(kc, hashOf(toml), nil)
		applyScaleUp(kc, sts, step, keep)
		return sts
	}
	if sts := build(scaleUpStep{}, false); templateMigrating(sts) || *sts.Spec.Replicas != 3 {
		t.Fatalf("a cluster created with 3 replicas got the migration env or replicas %d", *sts.Spec.Replicas)
	}
	roll := build(planScaleUp(scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true}), false)
	if *roll.Spec.Replicas != 1 || !templateMigrating(roll) {
		t.Fatalf("step 2: replicas %d, migrating %v", *roll.Spec.Replicas, templateMigrating(roll))
	}
	c := roll.Spec.Template.Spec.Containers[0]
	for ordinal, ip := range []string{"10.0.0.7", "10.0.0.8", "10.0.0.9"} {
		env := kubeletEnv(t, c, podName(kc, ordinal), ip)
		cfg, err := config.Parse("server.toml", []byte(strings.SplitN(toml, "[[storages]]", 2)[0]), func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		})
		if err != nil {
			t.Fatalf("pod %d: %v", ordinal, err)
		}
		if cfg.Cluster.ReplicaID != ordinal+1 || cfg.Cluster.Joins() != (ordinal > 0) {
			t.Errorf("pod %d: replica %d joins %v", ordinal, cfg.Cluster.ReplicaID, cfg.Cluster.Joins())
		}
	}
	out := build(scaleUpStep{Action: scaleUpScaleOut, Replicas: 3}, false)
	if *out.Spec.Replicas != 3 || !templateMigrating(out) {
		t.Fatalf("step 3: replicas %d", *out.Spec.Replicas)
	}
	done := build(scaleUpStep{}, true)
	if !templateMigrating(done) || *done.Spec.Replicas != 3 || hashOf(specString(t, done)) != hashOf(specString(t, out)) {
		t.Fatal("the finished migration changes the template (would restart every pod)")
	}
	var o scaleUpObservation
	done.Annotations = map[string]string{annScaleUp: scaleUpDoneVal}
	observeScaleUpSts(&o, done)
	if !o.Exists || o.Replicas != 3 || !o.Parallel || !o.Migrating || !o.Done {
		t.Fatalf("observation %+v", o)
	}
}

func specString(t *testing.T, sts *appsv1.StatefulSet) string {
	t.Helper()
	b, err := sts.Spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
