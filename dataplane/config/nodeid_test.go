package config

import (
	"strings"
	"testing"
)

// TestSnowflakeNodeID: a single node keeps server.node_id as configured
// (0: stored or 1); a cluster node defaults to its replica id, so the three
// pods of one StatefulSet (identical env) generate distinct SNOWFLAKE_ID()
// values; an explicit id that is another member's default is refused.
func TestSnowflakeNodeID(t *testing.T) {
	single := Default()
	if id, derived := single.SnowflakeNodeID(); id != 0 || derived {
		t.Fatalf("single node, node_id unset: %d %v, want 0 (stored or 1), not derived", id, derived)
	}
	single.Server.NodeID = 7
	if id, derived := single.SnowflakeNodeID(); id != 7 || derived {
		t.Fatalf("single node, node_id 7: %d %v", id, derived)
	}

	env := func(pod int) func(string) (string, bool) {
		vars := map[string]string{
			"KALAMDB_CLUSTER_MEMBERS":        "1=kc-0.kc-headless.ns.svc:9191,2=kc-1.kc-headless.ns.svc:9191,3=kc-2.kc-headless.ns.svc:9191",
			"KALAMDB_CLUSTER_GOSSIP_ADDRESS": "10.0.0.7:9191",
			"KALAMDB_CLUSTER_RAFT_ADDRESS":   "kc-" + string(rune('0'+pod)) + ".kc-headless.ns.svc:9190",
		}
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	seen := map[int]bool{}
	for pod := range 3 {
		cfg, err := Parse("server.toml", nil, env(pod))
		if err != nil {
			t.Fatal(err)
		}
		id, derived := cfg.SnowflakeNodeID()
		if id != pod+1 || !derived {
			t.Fatalf("pod %d: node id %d derived=%v, want %d (its replica id), derived", pod, id, derived, pod+1)
		}
		seen[id] = true
	}
	if len(seen) != 3 {
		t.Fatalf("node ids %v are not distinct", seen)
	}

	// An explicit id: its own replica id or one no member has is fine.
	for _, ok := range []string{"1", "100"} {
		cfg, err := Parse("server.toml", []byte("[server]\nnode_id = "+ok+"\n"), env(0))
		if err != nil {
			t.Fatalf("explicit node_id %s on replica 1 refused: %v", ok, err)
		}
		if id, derived := cfg.SnowflakeNodeID(); derived || id == 0 {
			t.Fatalf("explicit node_id %s: %d derived=%v", ok, id, derived)
		}
	}
	// Replica 1 taking 2 would collide with replica 2's default.
	_, err := Parse("server.toml", []byte("[server]\nnode_id = 2\n"), env(0))
	if err == nil || !strings.Contains(err.Error(), "server.node_id") || !strings.Contains(err.Error(), "member 2") {
		t.Fatalf("node_id 2 on replica 1: %v, want a server.node_id error naming member 2", err)
	}
	// A replica id beyond the 10 bits of a snowflake node id needs an explicit one.
	big := Default()
	big.Cluster.Members = []string{"1=127.0.0.1:7001", "2=127.0.0.1:7002", "2000=127.0.0.1:7003"}
	big.Cluster.ReplicaID = 2000
	big.Cluster.RaftAddress, big.Cluster.GossipAddress = "127.0.0.1:9190", "127.0.0.1:7003"
	if err := big.validateValues(); err == nil || !strings.Contains(err.Error(), "server.node_id") {
		t.Fatalf("replica id 2000 without node_id: %v, want a server.node_id error", err)
	}
	big.Server.NodeID = 3
	if err := big.validateValues(); err != nil {
		t.Fatalf("replica id 2000 with node_id 3: %v", err)
	}
}

// TestClusterRefusesFilesystemStorages: a filesystem [[storages]] entry is
// node-local, refused in a cluster of several members unless
// cluster.allow_node_local_storage; a single node and a one-member
// cluster keep it.
func TestClusterRefusesFilesystemStorages(t *testing.T) {
	base := Default()
	base.Storages = []StorageEntry{{ID: "fs", Type: "filesystem", BaseDirectory: "/data/fs"}}
	if err := base.validateValues(); err != nil {
		t.Fatalf("single node: %v", err)
	}
	one := base
	one.Cluster.Members = []string{"1=127.0.0.1:7001"}
	one.Cluster.ReplicaID, one.Cluster.RaftAddress, one.Cluster.GossipAddress = 1, "127.0.0.1:9190", "127.0.0.1:7001"
	if one.Cluster.RefusesNodeLocalStorage() {
		t.Fatal("a one-member cluster refuses node-local storage")
	}
	three := one
	three.Cluster.Members = []string{"1=127.0.0.1:7001", "2=127.0.0.1:7002", "3=127.0.0.1:7003"}
	if err := three.validateValues(); err == nil || !strings.Contains(err.Error(), "storages[0].type") || !strings.Contains(err.Error(), "allow_node_local_storage") {
		t.Fatalf("three members: %v, want a storages[0].type error", err)
	}
	three.Cluster.AllowNodeLocalStorage = true
	if err := three.validateValues(); err != nil {
		t.Fatalf("three members, allowed: %v", err)
	}
	three.Cluster.AllowNodeLocalStorage = false
	three.Storages = []StorageEntry{{ID: "objstore", Type: "s3", Bucket: "b"}}
	if err := three.validateValues(); err != nil {
		t.Fatalf("three members, s3 storage: %v", err)
	}
}
