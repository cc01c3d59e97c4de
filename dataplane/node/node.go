// Package node wires one data-plane process together: config, hot tier,
// catalog, executor, SQL engine and HTTP server. cmd/kalamdb and the
// integration tests both start servers through it.
package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/live"
	"github.com/kalamdb/kalamdb-k8s/dataplane/pgwire"
	"github.com/kalamdb/kalamdb-k8s/dataplane/replication"
	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// Node is a running data plane.
type Node struct {
	cfg   config.Config
	log   *slog.Logger
	store *hot.Store
	exec  *engine.Executor
	// prop is the write path: exec, or repl on a clustered node.
	prop engine.Proposer
	// repl is this node's Raft replicas (cluster.go; nil: single node).
	repl   *replication.Host
	cold   *flush.Manager
	eng    *kalamsql.Engine
	srv    *server.Server
	live   *live.Manager
	backup *backup.Service
	ln     net.Listener
	// certs serves the API's (and the PostgreSQL listener's) certificate,
	// re-read when its files change; nil without TLS.
	certs *server.CertReloader
	// pg is the PostgreSQL wire listener (pgwire.go; nil when disabled).
	pg      *pgwire.Server
	pgLn    net.Listener
	pgStop  context.CancelFunc
	pgDone  chan struct{}
	cancel  context.CancelFunc
	stopped chan struct{}
	srvErr  error

	// clean is set by a graceful shutdown: storage then closes with
	// CloseClean (shutdown.go).
	clean bool
}

// Start opens storage, bootstraps the root user and starts serving HTTP on
// cfg's listen address (port 0 picks a free port; see Addr).
func Start(cfg config.Config, log *slog.Logger, opts ...StartOption) (_ *Node, err error) {
	n := &Node{cfg: cfg, log: log, stopped: make(chan struct{})}
	var so startOptions
	for _, o := range opts {
		o(&so)
	}
	// Before the hot tier is opened (bootstrap.go): a bootstrap restore
	// writes its marker before the data directory first holds data.
	plan, err := planBootstrap(cfg.Storage.DataPath, so, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			n.closeStorage()
		}
	}()
	hopts := hot.DefaultOptions(cfg.Storage.DataPath)
	hopts.CacheBytes = int64(cfg.Storage.BlockCacheSizeMB) << 20
	hopts.MemtableBytes = uint64(cfg.Storage.MemtableSizeMB) << 20
	hopts.NodeID, hopts.ReplaceNodeID = cfg.SnowflakeNodeID()
	hopts.MinFreeBytes = uint64(cfg.Storage.MinFreeMB) << 20
	hopts.FS, hopts.OnFatal, hopts.Logger = so.fs, so.onFatal, log
	if n.store, err = hot.Open(hopts); err != nil {
		return nil, err
	}
	kalamsql.SetNode(n.store.NodeID)
	if !n.store.CleanStart {
		log.Warn("the previous shutdown was not clean; Pebble replayed its WAL", "data_dir", cfg.Storage.DataPath)
	}
	cat, err := catalog.Load(n.store.DB)
	if err != nil {
		return nil, fmt.Errorf("while loading the catalog: %w", err)
	}
	eopts := engine.DefaultOptions()
	eopts.Sync = cfg.Storage.SyncWrites
	eopts.Logger = log
	eopts.Admit = func(*engine.Command) error { return n.store.CheckFree() }
	eopts.OnFatal = n.store.Fatal
	eopts.OnCommitError = func(error) { n.store.CountError() }
	if n.exec, err = engine.Open(n.store.DB, cat, eopts); err != nil {
		return nil, err
	}
	n.prop = n.exec
	var coldExec flush.Executor = n.exec
	if cfg.Cluster.Enabled() {
		if err := n.startReplication(cfg, cat, log); err != nil {
			return nil, fmt.Errorf("while starting replication: %w", err)
		}
		n.prop = n.repl
		coldExec = replicatedExec{Host: n.repl, exec: n.exec}
	}
	sopts := kalamsql.DefaultOptions()
	sopts.DefaultQueryLimit = cfg.Limits.DefaultQueryLimit
	sopts.MaxQueryLimit = cfg.Limits.MaxQueryLimit
	sopts.MaxSQLBytes = cfg.Limits.MaxSQLBytes
	sopts.MaxParams = cfg.Limits.MaxParams
	sopts.MaxParamBytes = cfg.Limits.MaxParamBytes
	sopts.MaxResultBytes = cfg.Limits.MaxResultBytes
	sopts.BcryptCost = cfg.Auth.BcryptCost
	sopts.PasswordPolicy = auth.PasswordPolicy{MinLength: cfg.Auth.MinPasswordLength, MaxLength: cfg.Auth.MaxPasswordLength}
	sopts.QueryTimeout = time.Duration(cfg.Limits.QueryTimeoutSeconds) * time.Second
	sopts.SelectStarSystemColumns = cfg.Compat.SelectStarSystemColumns
	sopts.KalamTypeNames = cfg.Compat.KalamTypeNames
	applySecurityOptions(cfg, &sopts)
	if n.repl != nil {
		sopts.ReadBarrier = n.repl.ReadBarrier
	}
	sopts.RefuseNodeLocalStorage = cfg.Cluster.RefusesNodeLocalStorage()
	sopts.RefuseNodeCounters = cfg.Cluster.SeveralMembers()
	if n.eng, err = kalamsql.New(n.store.DB, cat, n.prop, sopts); err != nil {
		return nil, err
	}
	copts := coldOptions(cfg, log)
	if n.repl != nil {
		copts.Cluster = n.coldCluster()
	}
	n.cold = flush.New(n.store.DB, cat, coldExec, copts)
	n.eng.SetColdTier(n.cold)
	ctx := context.Background()
	if err := untilQuorum(ctx, startupQuorumWait, func(ctx context.Context) error { return bootstrap(ctx, n.eng) }); err != nil {
		return nil, err
	}
	if err := untilQuorum(ctx, startupQuorumWait, func(ctx context.Context) error { return bootstrapStorage(ctx, n.eng) }); err != nil {
		return nil, err
	}
	if err := untilQuorum(ctx, startupQuorumWait, n.registerConfigStorages); err != nil {
		return nil, err
	}
	if err := n.cold.Start(ctx); err != nil {
		return nil, fmt.Errorf("while starting the cold tier: %w", err)
	}
	if err := untilQuorum(ctx, startupQuorumWait, func(ctx context.Context) error { return n.eng.EnsureRoot(ctx, cfg.Auth.RootPassword) }); err != nil {
		return nil, err
	}
	// A clustered node leaves interrupted drop cleanups to the meta
	// leader's cold tier, which resumes them (and takes them over).
	if n.repl == nil {
		if err := n.eng.CleanupDropped(ctx); err != nil {
			return nil, err
		}
	}
	if err := n.startBackup(ctx, plan, so); err != nil {
		return nil, err
	}
	// Indexes left building by a crash or a --restore-from are rebuilt
	// before serving; until then queries do not use them.
	if err := n.eng.ResumeIndexBuilds(ctx); err != nil {
		return nil, err
	}
	if err := checkExposure(cfg); err != nil {
		return nil, err
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return nil, err
	}
	expiry := time.Duration(cfg.Auth.JWTExpiryHours) * time.Hour
	tokens := auth.NewTokenIssuer(secret, expiry)
	refresh := auth.NewTokenIssuer(secret, 7*expiry)
	n.srv = server.New(n.eng, tokens, refresh, log, server.Options{
		MaxBodyBytes: cfg.Security.MaxRequestBodyBytes,
		SlowQueryLog: time.Duration(cfg.Logging.SlowQueryThresholdMS) * time.Millisecond,
		Security:     serverSecurity(cfg),
	})
	if n.repl != nil {
		n.srv.SetClusterAdmin(n.clusterAdmin())
	}
	n.registerMetrics()
	n.registerStorageHealth()
	n.registerCaughtUp()
	if err := n.startLive(); err != nil {
		return nil, fmt.Errorf("while starting live queries: %w", err)
	}
	n.registerOpsMetrics()
	n.installOpsInfo(time.Now())
	if n.ln, err = net.Listen("tcp", cfg.ListenAddr()); err != nil {
		return nil, fmt.Errorf("while listening on %s: %w", cfg.ListenAddr(), err)
	}
	if n.ln, n.certs, err = secureListener(cfg, n.ln, log.With("component", "tls")); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		n.srvErr = server.Serve(sctx, n.ln, n.srv.Handler(), time.Duration(cfg.Server.ShutdownTimeoutSeconds)*time.Second)
		close(n.stopped)
	}()
	if err := n.startPostgresWire(); err != nil {
		cancel()
		<-n.stopped
		return nil, err
	}
	n.srv.SetReady(true)
	log.Info("kalamdb server ready", "addr", n.ln.Addr().String(), "data_dir", cfg.Storage.DataPath, "node_id", n.store.NodeID, "version", server.Version)
	return n, nil
}

// bootstrap creates the "default" namespace on first start.
func bootstrap(ctx context.Context, eng *kalamsql.Engine) error {
	if _, ok := eng.Catalog().Namespace("default"); ok {
		return nil
	}
	_, err := eng.Execute(ctx, kalamsql.Session{UserID: kalamsql.RootUser, Role: auth.RoleSystem},
		kalamsql.Request{SQL: "CREATE NAMESPACE IF NOT EXISTS default"})
	if err != nil {
		return fmt.Errorf("while creating the default namespace: %w", err)
	}
	return nil
}

// jwtSecret returns the configured secret, or a random one generated on
// first start and kept in the data dir so tokens survive restarts.
func jwtSecret(cfg config.Config) ([]byte, error) {
	if cfg.Auth.JWTSecret != "" {
		return []byte(cfg.Auth.JWTSecret), nil
	}
	path := filepath.Join(cfg.Storage.DataPath, "jwt_secret")
	data, err := os.ReadFile(path)
	if err == nil {
		b, derr := hex.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(b) < auth.SecretSize {
			return nil, fmt.Errorf("corrupt JWT secret file %s", path)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("while reading %s: %w", path, err)
	}
	b, err := auth.GenerateSecret()
	if err != nil {
		return nil, err
	}
	if err := hot.WriteFileAtomic(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// Addr is the address the server listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Engine exposes the SQL engine (tests).
func (n *Node) Engine() *kalamsql.Engine { return n.eng }

// Wait blocks until the HTTP server stops.
func (n *Node) Wait() error {
	<-n.stopped
	return n.srvErr
}

// Close shuts down gracefully (see shutdown.go): it stops accepting,
// closes WebSockets with 1001, lets running statements finish, flushes
// tables whose policy asks for it, and closes storage cleanly.
func (n *Node) Close() error {
	n.shutdown()
	return n.srvErr
}

func (n *Node) closeStorage() {
	n.stopLive()
	if n.backup != nil {
		n.backup.Close()
	}
	if n.cold != nil {
		n.cold.Close()
	}
	if n.eng != nil {
		n.eng.Close()
	}
	if n.repl != nil {
		// Before the executor and Pebble: its state machines write to them.
		n.repl.Close()
	}
	if n.exec != nil {
		n.exec.Close()
	}
	if n.store != nil {
		n.closeStore()
	}
}
