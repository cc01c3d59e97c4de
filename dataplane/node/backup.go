package node

// Backup wiring: config-declared storages (contract C1), the backup
// service behind the BACKUP/RESTORE statements (C2), and the startup
// rollback of interrupted restores before the --restore-from bootstrap
// (bootstrap.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// configStorage renders a [[storages]] entry as a catalog record, reading
// the credentials from the environment variables it names.
func configStorage(s config.StorageEntry, now int64) (*catalog.Storage, error) {
	rec := &catalog.Storage{ID: s.ID, Type: s.Type, Name: s.ID, Description: "declared in server.toml",
		BaseDirectory: s.BaseDirectory, CreatedAt: now, UpdatedAt: now}
	if s.Type != "s3" {
		return rec, nil
	}
	rec.Bucket, rec.Region = s.Bucket, s.Region
	cfg := map[string]any{"endpoint": s.Endpoint, "path_style": s.PathStyle, "tls": s.TLS}
	if s.CABundleFile != "" {
		pem, err := os.ReadFile(s.CABundleFile)
		if err != nil {
			return nil, fmt.Errorf("storage '%s': ca_bundle_file: %w", s.ID, err)
		}
		cfg["ca_bundle"] = string(pem)
	}
	b, _ := json.Marshal(cfg)
	rec.Config = string(b)
	if s.AccessKeyIDEnv != "" {
		ak, sk := os.Getenv(s.AccessKeyIDEnv), os.Getenv(s.SecretAccessKeyEnv)
		if ak == "" || sk == "" {
			return nil, fmt.Errorf("storage '%s': environment variables %s and %s must hold the credentials", s.ID, s.AccessKeyIDEnv, s.SecretAccessKeyEnv)
		}
		b, _ := json.Marshal(map[string]string{"access_key_id": ak, "secret_access_key": sk})
		rec.Credentials = string(b)
	}
	return rec, nil
}

// registerConfigStorages creates or updates the [[storages]] entries in
// the catalog (through the engine) and protects them from SQL changes.
func (n *Node) registerConfigStorages(ctx context.Context) error {
	var ids []string
	for _, entry := range n.cfg.Storages {
		registered, err := n.registerConfigStorage(ctx, entry)
		if errors.Is(err, engine.ErrAlreadyExists) {
			// Every replica of a cluster registers its config storages at
			// start-up, reading its local catalog first: another replica's
			// CREATE can commit in between. Read again and compare.
			registered, err = n.registerConfigStorage(ctx, entry)
		}
		if err != nil {
			return err
		}
		ids = append(ids, registered)
	}
	n.eng.SetConfigStorages(ids)
	return nil
}

// registerConfigStorage creates or alters one config storage unless the
// catalog already holds it as configured, and returns its id.
func (n *Node) registerConfigStorage(ctx context.Context, entry config.StorageEntry) (string, error) {
	existing, err := flush.Storages(n.store.DB)
	if err != nil {
		return "", err
	}
	byID := map[string]*catalog.Storage{}
	for _, s := range existing {
		byID[s.ID] = s
	}
	now := time.Now().UnixMilli()
	rec, err := configStorage(entry, now)
	if err != nil {
		return "", err
	}
	if err := n.cold.ValidateStorage(rec); err != nil {
		return "", fmt.Errorf("storage '%s': %w", entry.ID, err)
	}
	op := engine.CatCreateStorage
	if cur := byID[entry.ID]; cur != nil {
		same := *cur
		same.CreatedAt, same.UpdatedAt = rec.CreatedAt, rec.UpdatedAt
		if same == *rec {
			return entry.ID, nil
		}
		op, rec.CreatedAt = engine.CatAlterStorage, cur.CreatedAt
	}
	if _, err := n.prop.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: now,
		Catalog: &engine.CatalogWrite{Op: op, Storage: rec}}); err != nil {
		return "", fmt.Errorf("while registering storage '%s': %w", entry.ID, err)
	}
	n.log.Info("registered config storage", "storage_id", entry.ID, "type", entry.Type, "updated", op == engine.CatAlterStorage)
	return entry.ID, nil
}

// startBackup starts the backup service, rolls back the restores the
// previous process left unfinished and then, when planned (bootstrap.go),
// runs the bootstrap restore.
func (n *Node) startBackup(ctx context.Context, plan *bootstrapPlan, o startOptions) error {
	n.backup = backup.NewService(backup.Options{
		Snapshot: func() pebble.Reader { return n.store.DB.NewSnapshot() },
		Stores:   coldStores{n.cold},
		Server:   restoreServer{n},
		Version:  server.Version,
		Logger:   n.log,
		// A running backup needs the segments its snapshot names.
		PauseJanitor: n.cold.PauseJanitor,
		Barrier:      n.backupBarrier(),
		// Memory bounds (docs/operations.md, "Memory").
		ChunkBytes:        n.cfg.Backup.ChunkBytes,
		RestoreBatchBytes: n.cfg.Backup.RestoreBatchBytes,
	})
	if o.bootstrapHooks != nil {
		n.backup.SetTestHooks(o.bootstrapHooks(n), 0, nil)
	}
	n.eng.SetBackup(n.backup)
	// A restore the previous process was running when it stopped left its
	// namespaces marked restoring: roll them back (as a failed restore
	// would) before serving. The cold tier is up, so the drops queue their
	// cleanup jobs as usual; the job records were already failed by it.
	// An interrupted bootstrap restore is rolled back too, then retried.
	if err := n.backup.RecoverInterrupted(ctx); err != nil {
		return fmt.Errorf("while rolling back interrupted restores: %w", err)
	}
	if plan == nil {
		return nil
	}
	return n.bootstrapRestore(ctx, plan)
}

// backupBarrier is the backup's cluster barrier: a ReadIndex on every
// Raft group, so a backup taken on any replica holds every write
// acknowledged before it started (nil on a single node).
func (n *Node) backupBarrier() func(context.Context) error {
	if n.repl == nil {
		return nil
	}
	return n.repl.ReadBarrierAll
}

// Backup exposes the backup service (tests, benchmarks).
func (n *Node) Backup() *backup.Service { return n.backup }

// coldStores resolves storage ids through the cold tier's store cache.
type coldStores struct{ m *flush.Manager }

func (c coldStores) Store(id string) (objstore.Store, error) {
	st, _, err := c.m.Store(id)
	return st, err
}

// restoreServer is the running server as package backup writes into it.
type restoreServer struct{ n *Node }

func (r restoreServer) Propose(ctx context.Context, cmd *engine.Command) (engine.Result, error) {
	return r.n.prop.Propose(ctx, cmd)
}

func (r restoreServer) NamespaceTables(ns string) (bool, int) {
	cat := r.n.eng.Catalog()
	if _, ok := cat.Namespace(ns); !ok {
		return false, 0
	}
	return true, len(cat.Tables(ns))
}

func (r restoreServer) HasUser(id string) bool {
	_, ok := r.n.eng.Catalog().User(id)
	return ok
}

func (r restoreServer) HasStorage(id string) bool {
	_, _, err := r.n.cold.Store(id)
	return err == nil
}

// DropNamespace drops ns with its tables and waits for the background
// cleanups of their data: a table the restore then recreates under the
// same name shares their storage directories, which a running cleanup
// empties (the SQL layer waits the same way before CREATE TABLE).
func (r restoreServer) DropNamespace(ctx context.Context, ns string) error {
	if _, err := r.n.eng.Execute(ctx, kalamsql.Session{UserID: kalamsql.RootUser, Role: auth.RoleSystem},
		kalamsql.Request{SQL: "DROP NAMESPACE IF EXISTS " + ns + " CASCADE"}); err != nil {
		return err
	}
	if err := r.n.cold.WaitDropCleanups(ctx, func(t *catalog.Table) bool { return t.Namespace == ns }); err != nil {
		return fmt.Errorf("while waiting for the cleanup of the tables of dropped namespace '%s': %w", ns, err)
	}
	return nil
}

func (r restoreServer) Namespaces() []*catalog.Namespace {
	return r.n.eng.Catalog().Namespaces()
}

func (r restoreServer) Job(id string) (*catalog.Job, bool, error) {
	j, err := r.n.cold.JobStatus(id)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return j, true, nil
}

// ResumeIndexBuilds rebuilds the indexes of restored tables (package
// backup calls it after a restore: index entries are not backed up).
func (r restoreServer) ResumeIndexBuilds(ctx context.Context) error {
	return r.n.eng.ResumeIndexBuilds(ctx)
}
