package controllers

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// The 1 -> 3 migration of a running single-node cluster as a flat list of
// steps (tidb-operator style), each chosen from observed state only, so an
// operator that restarts anywhere resumes at the right step
// (docs/high-availability.md, "Adding replicas and migrating a single
// node"):
//
//  0. the single-node StatefulSet (OrderedReady: its pod management policy
//     cannot change) is deleted with the orphan policy — pod 0 and its
//     volume keep running — and recreated Parallel/OnDelete with replicas
//     still 1: a replicated pod waits for its peers before it is ready, so
//     OrderedReady could deadlock a later cold start of all three;
//  1. the recreated template carries the [cluster] env and
//     KALAMDB_CLUSTER_JOIN_ABOVE_REPLICA_ID=1, and pod 0 is deleted so it
//     restarts with it: replica 1 is not above 1, so it adopts its data
//     as a one-member group (it never joins); wait until it is Ready;
//  2. the StatefulSet is scaled to 3: pods 1 and 2 (replicas 2 and 3)
//     start empty and join, waiting to be added;
//  3. pod 0 adds replica 2, then 3 (POST /v1/cluster/members), again on
//     each reconcile until each votes in every group;
//  4. the StatefulSet is annotated kalamdb.io/scale-up=done and the
//     ScalingUp condition cleared. The join env stays in the template
//     (removing it would restart every pod; a node with Raft state
//     ignores it).

const (
	// envJoinAbove is the data plane's cluster.join_above_replica_id.
	envJoinAbove = "KALAMDB_CLUSTER_JOIN_ABOVE_REPLICA_ID"
	// annScaleUp on the StatefulSet records the migration's completion.
	annScaleUp     = "kalamdb.io/scale-up"
	scaleUpDoneVal = "done"
)

// scaleUpAction is one step of the migration.
type scaleUpAction int

const (
	// scaleUpNone: no migration (not asked for, or finished).
	scaleUpNone scaleUpAction = iota
	// scaleUpRecreate: orphan-delete the OrderedReady StatefulSet.
	scaleUpRecreate
	// scaleUpRollPod0: delete pod 0 so it restarts with the cluster env.
	scaleUpRollPod0
	// scaleUpWaitPod0: pod 0 runs the cluster env; wait until Ready.
	scaleUpWaitPod0
	// scaleUpScaleOut: set the StatefulSet's replicas to 3.
	scaleUpScaleOut
	// scaleUpAddMember: add Member (2 or 3) from pod 0 until it votes.
	scaleUpAddMember
	// scaleUpWaitPods: every replica votes; wait until every pod is
	// Ready (its readiness probe has seen it caught up).
	scaleUpWaitPods
	// scaleUpFinish: every replica votes and every pod is Ready; record
	// completion.
	scaleUpFinish
)

// scaleUpObservation is what one reconcile saw of a cluster that may be
// migrating; every field comes from the API server or the data plane.
type scaleUpObservation struct {
	// Want is spec.replicas.
	Want int32
	// Exists: the StatefulSet exists; the fields below describe it.
	Exists bool
	// OrphanPod0: no StatefulSet, but pod 0 runs (step 0 deleted the
	// single-node StatefulSet and the operator restarted before it
	// created the new one).
	OrphanPod0 bool
	// Replicas is the StatefulSet's spec.replicas.
	Replicas int32
	// Parallel: its pod management policy is Parallel.
	Parallel bool
	// Migrating: its template carries envJoinAbove (set by step 1).
	Migrating bool
	// Done: it carries annScaleUp=done.
	Done bool
	// Pod0Updated: pod 0 exists at the StatefulSet's update revision.
	Pod0Updated bool
	// Pod0Ready: pod 0 is Ready.
	Pod0Ready bool
	// Voters: replica ids that vote in every group (pod 0's view).
	Voters map[uint64]bool
	// ReadyPods is the StatefulSet's status.readyReplicas.
	ReadyPods int32
}

// scaleUpStep is the planner's answer: what to do now, and the
// StatefulSet replicas the builder must keep while doing it.
type scaleUpStep struct {
	Action scaleUpAction
	// Member is the replica id to add (scaleUpAddMember).
	Member uint64
	// Replicas is the StatefulSet replicas to render (0: spec.replicas).
	Replicas int32
	// Msg says what the step does, for the condition and events.
	Msg string
	// Serving: pod 0 is Ready while this step runs, so the cluster
	// answers reads and writes and stays Ready=True (Reconciling=True
	// says what the migration does); false while pod 0 restarts.
	Serving bool
}

// active reports whether the migration is under way (the template must
// carry the join env and the normal rollout must wait).
func (s scaleUpStep) active() bool { return s.Action != scaleUpNone }

// planScaleUp chooses the next step of a 1 -> 3 migration.
func planScaleUp(o scaleUpObservation) scaleUpStep {
	s := planScaleUpAction(o)
	s.Serving = s.active() && o.Pod0Ready
	return s
}

func planScaleUpAction(o scaleUpObservation) scaleUpStep {
	if o.Want <= 1 || o.Done {
		return scaleUpStep{}
	}
	if !o.Exists {
		if o.OrphanPod0 {
			return scaleUpStep{Action: scaleUpRollPod0, Replicas: 1,
				Msg: "scaling 1 -> 3 (step 1/4): creating the Parallel StatefulSet, which adopts the running pod 0"}
		}
		return scaleUpStep{}
	}
	if !o.Migrating && o.Replicas > 1 {
		// Created replicated: nothing to migrate.
		return scaleUpStep{}
	}
	if !o.Parallel {
		return scaleUpStep{Action: scaleUpRecreate, Replicas: 1,
			Msg: "scaling 1 -> 3 (step 1/4): recreating the StatefulSet with Parallel pod management; pod 0 and its volume keep running"}
	}
	if o.Replicas <= 1 {
		switch {
		case !o.Migrating || !o.Pod0Updated:
			return scaleUpStep{Action: scaleUpRollPod0, Replicas: 1,
				Msg: "scaling 1 -> 3 (step 2/4): restarting pod 0 with the [cluster] configuration so that it adopts its data as a one-member Raft group"}
		case !o.Pod0Ready:
			return scaleUpStep{Action: scaleUpWaitPod0, Replicas: 1,
				Msg: "scaling 1 -> 3 (step 2/4): waiting for pod 0 to be ready as replica 1 of a one-member Raft group"}
		}
		return scaleUpStep{Action: scaleUpScaleOut, Replicas: o.Want,
			Msg: fmt.Sprintf("scaling 1 -> 3 (step 3/4): starting pods 1..%d, which join the cluster", o.Want-1)}
	}
	for id := uint64(2); id <= uint64(o.Want); id++ {
		if !o.Voters[id] {
			return scaleUpStep{Action: scaleUpAddMember, Member: id, Replicas: o.Want,
				Msg: fmt.Sprintf("scaling 1 -> 3 (step 4/4): adding replica %d (pod %d) to every Raft group until it votes", id, id-1)}
		}
	}
	if o.ReadyPods < o.Want {
		return scaleUpStep{Action: scaleUpWaitPods, Replicas: o.Want,
			Msg: fmt.Sprintf("scaling 1 -> 3 (step 4/4): every replica votes; waiting for every pod to be ready (%d/%d)", o.ReadyPods, o.Want)}
	}
	return scaleUpStep{Action: scaleUpFinish, Replicas: o.Want,
		Msg: fmt.Sprintf("scaled 1 -> %d: every replica votes in every Raft group", o.Want)}
}

// observeScaleUpSts fills the StatefulSet part of an observation.
func observeScaleUpSts(o *scaleUpObservation, sts *appsv1.StatefulSet) {
	if sts == nil {
		return
	}
	o.Exists = true
	o.Replicas = 1
	if sts.Spec.Replicas != nil {
		o.Replicas = *sts.Spec.Replicas
	}
	o.Parallel = sts.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
	o.Migrating = templateMigrating(sts)
	o.Done = sts.Annotations[annScaleUp] == scaleUpDoneVal
	o.ReadyPods = sts.Status.ReadyReplicas
}

// templateMigrating reports whether the template carries envJoinAbove.
func templateMigrating(sts *appsv1.StatefulSet) bool {
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name != containerName {
			continue
		}
		for _, e := range c.Env {
			if e.Name == envJoinAbove {
				return true
			}
		}
	}
	return false
}

// applyScaleUp renders a migrating (or migrated) cluster's StatefulSet:
// the join env for every replica above 1 and the replicas of the current
// step. keepJoin is true once a migration started (the env is sticky).
func applyScaleUp(kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet, step scaleUpStep, keepJoin bool) {
	if !replicated(kc) || (!step.active() && !keepJoin) {
		return
	}
	if step.Replicas > 0 {
		r := step.Replicas
		sts.Spec.Replicas = &r
	}
	for i := range sts.Spec.Template.Spec.Containers {
		c := &sts.Spec.Template.Spec.Containers[i]
		if c.Name == containerName {
			c.Env = append(c.Env, corev1.EnvVar{Name: envJoinAbove, Value: "1"})
		}
	}
}
