package controllers

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

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
	}{
		{"single node stays", scaleUpObservation{Want: 1, Exists: true, Replicas: 1}, scaleUpNone, 0, 0},
		{"new cluster", scaleUpObservation{Want: 3}, scaleUpNone, 0, 0},
		{"created replicated", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true}, scaleUpNone, 0, 0},
		{"statefulset orphan-deleted, pod 0 runs", scaleUpObservation{Want: 3, OrphanPod0: true}, scaleUpRollPod0, 0, 1},
		{"ordered-ready single node", scaleUpObservation{Want: 3, Exists: true, Replicas: 1}, scaleUpRecreate, 0, 1},
		{"recreated, pod 0 outdated", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Migrating: true, Pod0Ready: true}, scaleUpRollPod0, 0, 1},
		{"parallel but template not yet migrating", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Pod0Updated: true, Pod0Ready: true}, scaleUpRollPod0, 0, 1},
		{"pod 0 restarting", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Migrating: true, Pod0Updated: true}, scaleUpWaitPod0, 0, 1},
		{"pod 0 adopted", scaleUpObservation{Want: 3, Exists: true, Replicas: 1, Parallel: true, Migrating: true, Pod0Updated: true, Pod0Ready: true}, scaleUpScaleOut, 0, 3},
		{"scaled out", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Voters: voters(1)}, scaleUpAddMember, 2, 3},
		{"replica 2 votes", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Voters: voters(1, 2)}, scaleUpAddMember, 3, 3},
		{"replica 3 votes before 2 (re-observed)", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Voters: voters(1, 3)}, scaleUpAddMember, 2, 3},
		{"all vote", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Voters: voters(1, 2, 3)}, scaleUpFinish, 0, 3},
		{"done", scaleUpObservation{Want: 3, Exists: true, Replicas: 3, Parallel: true, Migrating: true, Done: true}, scaleUpNone, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := planScaleUp(tc.o)
			if s.Action != tc.want || s.Member != tc.member || s.Replicas != tc.replicas {
				t.Fatalf("plan = %+v, want action %d member %d replicas %d", s, tc.want, tc.member, tc.replicas)
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
