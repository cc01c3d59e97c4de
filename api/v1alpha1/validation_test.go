package v1alpha1_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/internal/testenv"
)

// CRD validation (OpenAPI + CEL) against a real kube-apiserver: every rule
// has a case that must be accepted and one that must be refused, on create
// and, for immutability, on update.

var k8s client.Client

func TestMain(m *testing.M) {
	env, cfg, err := testenv.Start()
	if err != nil {
		panic(err)
	}
	scheme := runtime.NewScheme()
	if err := kalamv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		panic(err)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

var seq int

func name(prefix string) string {
	seq++
	return prefix + "-" + strings.ToLower(time.Now().Format("150405")) + "-" + string(rune('a'+seq%26)) + string(rune('a'+(seq/26)%26))
}

func cluster() *kalamv1.KalamCluster {
	return &kalamv1.KalamCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name("kc"), Namespace: "default"},
		Spec: kalamv1.KalamClusterSpec{
			Image:   "kalamdb:test",
			Storage: kalamv1.StorageSpec{Size: resource.MustParse("1Gi")},
		},
	}
}

func table() *kalamv1.KalamTable {
	return &kalamv1.KalamTable{
		ObjectMeta: metav1.ObjectMeta{Name: name("kt"), Namespace: "default"},
		Spec: kalamv1.KalamTableSpec{
			ClusterRef: kalamv1.ClusterReference{Name: "c"}, Namespace: "shop", Name: "orders", Type: kalamv1.TableShared,
			Columns: []kalamv1.ColumnSpec{{Name: "id", Type: "BIGINT", PrimaryKey: true}, {Name: "note", Type: "TEXT"}},
		},
	}
}

func backup() *kalamv1.KalamBackup {
	return &kalamv1.KalamBackup{
		ObjectMeta: metav1.ObjectMeta{Name: name("kb"), Namespace: "default"},
		Spec:       kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: "c"}},
	}
}

func schedule() *kalamv1.KalamScheduledBackup {
	return &kalamv1.KalamScheduledBackup{
		ObjectMeta: metav1.ObjectMeta{Name: name("ksb"), Namespace: "default"},
		Spec:       kalamv1.KalamScheduledBackupSpec{Cluster: kalamv1.ClusterReference{Name: "c"}, Schedule: "0 3 * * *"},
	}
}

func namespace() *kalamv1.KalamNamespace {
	return &kalamv1.KalamNamespace{
		ObjectMeta: metav1.ObjectMeta{Name: name("kn"), Namespace: "default"},
		Spec:       kalamv1.KalamNamespaceSpec{ClusterRef: kalamv1.ClusterReference{Name: "c"}},
	}
}

// check creates obj and wants an error containing wantErr ("" = accepted).
func check(t *testing.T, obj client.Object, wantErr string) {
	t.Helper()
	err := k8s.Create(ctx(t), obj)
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("create refused: %v", err)
	case wantErr != "" && err == nil:
		t.Fatalf("create accepted, want error %q", wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Fatalf("create error %v, want %q", err, wantErr)
	}
}

func TestCreateValidation(t *testing.T) {
	cases := []struct {
		name    string
		obj     func() client.Object
		wantErr string
	}{
		{"cluster ok", func() client.Object { return cluster() }, ""},
		{"cluster replicas 2", func() client.Object { c := cluster(); c.Spec.Replicas = 2; return c }, "replicas must be 1 (a single node, no replication) or 3"},
		{"cluster replicas 4", func() client.Object { c := cluster(); c.Spec.Replicas = 4; return c }, "spec.replicas"},
		{"cluster replicas 3 without object store", func() client.Object { c := cluster(); c.Spec.Replicas = 3; return c }, "replicas 3 needs spec.objectStore"},
		{"cluster replicas 3", func() client.Object {
			c := cluster()
			c.Spec.Replicas = 3
			c.Spec.ObjectStore = &kalamv1.ObjectStoreSpec{Endpoint: "minio:9000", Bucket: "kalam"}
			return c
		}, ""},
		{"cluster no image", func() client.Object { c := cluster(); c.Spec.Image = ""; return c }, "spec.image"},
		{"cluster bootstrap both", func() client.Object {
			c := cluster()
			c.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{BackupName: "b", Path: "s3://objstore/x"}}
			return c
		}, "exactly one of backupName and path"},
		{"cluster bootstrap path", func() client.Object {
			c := cluster()
			c.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{Path: "s3://objstore/backups/x", BackupID: "id1"}}
			return c
		}, ""},
		{"cluster bootstrap bad path", func() client.Object {
			c := cluster()
			c.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{Path: "http://x"}}
			return c
		}, "spec.bootstrap.fromBackup.path"},
		{"cluster endpoint with scheme", func() client.Object {
			c := cluster()
			c.Spec.ObjectStore = &kalamv1.ObjectStoreSpec{Endpoint: "http://minio:9000", Bucket: "kalam"}
			return c
		}, "spec.objectStore.endpoint"},
		{"cluster service type", func() client.Object { c := cluster(); c.Spec.Service.Type = "ExternalName"; return c }, "spec.service.type"},
		{"table ok", func() client.Object { return table() }, ""},
		{"table unknown column type", func() client.Object { t := table(); t.Spec.Columns[1].Type = "STRNG"; return t }, "unknown column type"},
		{"table type with trailing junk", func() client.Object { t := table(); t.Spec.Columns[1].Type = "TEXT; DROP"; return t }, "unknown column type"},
		{"table parameterised types", func() client.Object {
			t := table()
			t.Spec.Columns[1].Type = "decimal(10, 2)"
			t.Spec.Columns = append(t.Spec.Columns,
				kalamv1.ColumnSpec{Name: "v", Type: "VARCHAR(20)"}, kalamv1.ColumnSpec{Name: "e", Type: "EMBEDDING(384)"},
				kalamv1.ColumnSpec{Name: "ts", Type: "timestamp with time zone"}, kalamv1.ColumnSpec{Name: "d", Type: "DOUBLE PRECISION"},
				kalamv1.ColumnSpec{Name: "u", Type: "int unsigned"})
			return t
		}, ""},
		{"table no pk", func() client.Object { t := table(); t.Spec.Columns[0].PrimaryKey = false; return t }, "exactly one primaryKey"},
		{"table two pks", func() client.Object { t := table(); t.Spec.Columns[1].PrimaryKey = true; return t }, "primaryKey"},
		{"stream without pk needs ttl", func() client.Object {
			t := table()
			t.Spec.Type = kalamv1.TableStream
			t.Spec.Columns[0].PrimaryKey = false
			return t
		}, "STREAM tables need options.ttlSeconds"},
		{"stream ok", func() client.Object {
			t := table()
			t.Spec.Type = kalamv1.TableStream
			t.Spec.Columns[0].PrimaryKey = false
			t.Spec.Options = &kalamv1.TableOptions{TTLSeconds: ptr.To[int64](30)}
			return t
		}, ""},
		{"ttl on shared", func() client.Object {
			t := table()
			t.Spec.Options = &kalamv1.TableOptions{TTLSeconds: ptr.To[int64](30)}
			return t
		}, "ttlSeconds applies to STREAM"},
		{"access level on user", func() client.Object {
			t := table()
			t.Spec.Type = kalamv1.TableUser
			t.Spec.Options = &kalamv1.TableOptions{AccessLevel: "PUBLIC"}
			return t
		}, "accessLevel applies to SHARED"},
		{"bad flush policy", func() client.Object {
			t := table()
			t.Spec.Options = &kalamv1.TableOptions{FlushPolicy: "every:5"}
			return t
		}, "spec.options.flushPolicy"},
		{"upper-case table name", func() client.Object { t := table(); t.Spec.Name = "Orders"; return t }, "spec.name"},
		{"duplicate column", func() client.Object {
			t := table()
			t.Spec.Columns = append(t.Spec.Columns, kalamv1.ColumnSpec{Name: "note", Type: "INT"})
			return t
		}, "Duplicate value"},
		{"bad table type", func() client.Object { t := table(); t.Spec.Type = "TEMP"; return t }, "spec.type"},
		{"namespace ok", func() client.Object { return namespace() }, ""},
		{"namespace bad name", func() client.Object { n := namespace(); n.Spec.Name = "my-ns"; return n }, "spec.name"},
		{"namespace bad policy", func() client.Object { n := namespace(); n.Spec.DeletionPolicy = "Orphan"; return n }, "spec.deletionPolicy"},
		{"backup ok", func() client.Object { return backup() }, ""},
		{"backup namespace scope without namespace", func() client.Object {
			b := backup()
			b.Spec.Scope = kalamv1.ScopeNamespace
			return b
		}, "namespace is required for scope Namespace"},
		{"backup database scope with namespace", func() client.Object { b := backup(); b.Spec.Namespace = "shop"; return b }, "only allowed there"},
		{"backup bad target", func() client.Object { b := backup(); b.Spec.Target = "gs://bucket"; return b }, "spec.target"},
		{"schedule ok", func() client.Object { return schedule() }, ""},
		{"schedule retention keepLast 0", func() client.Object {
			s := schedule()
			s.Spec.Retention = &kalamv1.BackupRetention{KeepLast: 0}
			return s
		}, "spec.retention.keepLast"},
		{"schedule bad maxAge", func() client.Object {
			s := schedule()
			s.Spec.Retention = &kalamv1.BackupRetention{KeepLast: 3, MaxAge: "30d"}
			return s
		}, "spec.retention.maxAge"},
		{"schedule bad owner", func() client.Object { s := schedule(); s.Spec.BackupOwnerReference = "pod"; return s }, "spec.backupOwnerReference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.obj(), tc.wantErr) })
	}
}

// update creates obj, applies mutate and wants the update refused with wantErr.
func update[T client.Object](t *testing.T, obj T, mutate func(T), wantErr string) {
	t.Helper()
	if err := k8s.Create(ctx(t), obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	mutate(obj)
	err := k8s.Update(ctx(t), obj)
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("update refused: %v", err)
	case wantErr != "" && err == nil:
		t.Fatalf("update accepted, want %q", wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Fatalf("update error %v, want %q", err, wantErr)
	}
}

func TestImmutability(t *testing.T) {
	t.Run("cluster storage may grow", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) { c.Spec.Storage.Size = resource.MustParse("2Gi") }, "")
	})
	t.Run("cluster storage grows across units", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) { c.Spec.Storage.Size = resource.MustParse("1536Mi") }, "")
	})
	t.Run("cluster storage cannot shrink", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) { c.Spec.Storage.Size = resource.MustParse("1000Mi") }, "storage size cannot shrink")
	})
	t.Run("cluster storage class is immutable", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) { c.Spec.Storage.StorageClassName = &[]string{"fast"}[0] }, "storageClassName is immutable")
	})
	t.Run("cluster replicas may go from 1 to 3", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) {
			c.Spec.Replicas = 3
			c.Spec.ObjectStore = &kalamv1.ObjectStoreSpec{Endpoint: "minio:9000", Bucket: "kalam"}
		}, "")
	})
	t.Run("cluster image may change", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) { c.Spec.Image = "kalamdb:v2" }, "")
	})
	t.Run("cluster bootstrap cannot be added", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) {
			c.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{Path: "/backups"}}
		}, "bootstrap can only be set at creation")
	})
	t.Run("cluster config may change", func(t *testing.T) {
		update(t, cluster(), func(c *kalamv1.KalamCluster) {
			c.Spec.Config = &apiextensionsv1.JSON{Raw: []byte(`{"limits":{"max_query_limit":5000}}`)}
		}, "")
	})
	t.Run("table name", func(t *testing.T) {
		update(t, table(), func(k *kalamv1.KalamTable) { k.Spec.Name = "orders2" }, "name is immutable")
	})
	t.Run("table type", func(t *testing.T) {
		update(t, table(), func(k *kalamv1.KalamTable) { k.Spec.Type = kalamv1.TableUser }, "type is immutable")
	})
	t.Run("table namespace", func(t *testing.T) {
		update(t, table(), func(k *kalamv1.KalamTable) { k.Spec.Namespace = "other" }, "namespace is immutable")
	})
	t.Run("table clusterRef", func(t *testing.T) {
		update(t, table(), func(k *kalamv1.KalamTable) { k.Spec.ClusterRef.Name = "other" }, "clusterRef is immutable")
	})
	t.Run("table columns may change", func(t *testing.T) {
		update(t, table(), func(k *kalamv1.KalamTable) {
			k.Spec.Columns = append(k.Spec.Columns, kalamv1.ColumnSpec{Name: "qty", Type: "INT"})
		}, "")
	})
	t.Run("namespace name", func(t *testing.T) {
		n := namespace()
		n.Spec.Name = "shop"
		update(t, n, func(k *kalamv1.KalamNamespace) { k.Spec.Name = "shop2" }, "name is immutable")
	})
	t.Run("namespace name cannot be set later", func(t *testing.T) {
		update(t, namespace(), func(k *kalamv1.KalamNamespace) { k.Spec.Name = "shop" }, "name is immutable")
	})
	t.Run("namespace deletionPolicy may change", func(t *testing.T) {
		update(t, namespace(), func(k *kalamv1.KalamNamespace) { k.Spec.DeletionPolicy = kalamv1.DeletionDelete }, "")
	})
	t.Run("backup spec", func(t *testing.T) {
		update(t, backup(), func(b *kalamv1.KalamBackup) { b.Spec.Target = "/elsewhere" }, "spec is immutable")
	})
	t.Run("schedule cluster", func(t *testing.T) {
		update(t, schedule(), func(s *kalamv1.KalamScheduledBackup) { s.Spec.Cluster.Name = "d" }, "cluster is immutable")
	})
	t.Run("schedule may be suspended", func(t *testing.T) {
		update(t, schedule(), func(s *kalamv1.KalamScheduledBackup) { s.Spec.Suspend = true }, "")
	})
}

// TestDefaults checks the schema defaults the controllers rely on.
func TestDefaults(t *testing.T) {
	c, n, kt, b, s := cluster(), namespace(), table(), backup(), schedule()
	for _, o := range []client.Object{c, n, kt, b, s} {
		if err := k8s.Create(ctx(t), o); err != nil {
			t.Fatal(err)
		}
	}
	if c.Spec.Replicas != 1 || c.Spec.Service.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("cluster defaults: replicas %d, service %q", c.Spec.Replicas, c.Spec.Service.Type)
	}
	if n.Spec.DeletionPolicy != kalamv1.DeletionRetain || kt.Spec.DeletionPolicy != kalamv1.DeletionRetain {
		t.Errorf("deletionPolicy defaults: %q %q", n.Spec.DeletionPolicy, kt.Spec.DeletionPolicy)
	}
	if b.Spec.Scope != kalamv1.ScopeDatabase || s.Spec.Scope != kalamv1.ScopeDatabase || s.Spec.BackupOwnerReference != kalamv1.OwnerNone {
		t.Errorf("backup defaults: %q %q %q", b.Spec.Scope, s.Spec.Scope, s.Spec.BackupOwnerReference)
	}
}

// TestHASampleValid: the 3-replica sample (kept out of the samples applied
// together) is accepted by the API server as written.
func TestHASampleValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "kalamdb_v1alpha1_kalamcluster_ha.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kc kalamv1.KalamCluster
	if err := yaml.UnmarshalStrict(b, &kc); err != nil {
		t.Fatal(err)
	}
	if kc.Spec.Replicas != 3 || kc.Spec.ObjectStore == nil {
		t.Fatalf("sample: replicas %d, objectStore %v", kc.Spec.Replicas, kc.Spec.ObjectStore)
	}
	kc.Name, kc.Namespace = name("kc-ha"), "default"
	check(t, &kc, "")
}
