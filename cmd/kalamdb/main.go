// Command kalamdb is the KalamDB data-plane binary.
//
//	kalamdb server [--config server.toml]   run the server
//	kalamdb sql [-c SQL | -f FILE | --subscribe SQL]  SQL client (interactive without them)
//	kalamdb step-down [--config server.toml] [--timeout 30s]  hand this node's Raft leaderships over (preStop)
//	kalamdb version                         print the version
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	server.Version = version
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(os.Args[2:]))
	case "sql":
		os.Exit(runSQL(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	case "step-down":
		os.Exit(runStepDown(os.Args[2:], os.Stdout, os.Stderr))
	case "version", "--version", "-v":
		fmt.Println("kalamdb", version)
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "kalamdb: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: kalamdb <command> [flags]

commands:
  server [--config FILE]   run the data-plane server (env KALAMDB_* overrides the file)
         [--restore-from TARGET [--restore-backup-id ID]]  bootstrap an empty data dir from a backup
                           (an incomplete bootstrap is retried at the next start)
  sql [flags]              SQL client: -c SQL, -f FILE, --subscribe SQL or an interactive shell
                           (--url, --user, --password, --token, --save-credentials,
                           --format table|json|csv; see docs/cli.md)
  step-down [--config FILE] [--timeout 30s]
                           hand every Raft group this node leads to another replica and wait
                           (a replicated pod's preStop hook; exit 0 when it leads nothing)
  version                  print the version`)
}

func runServer(args []string) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "path to server.toml (default: embedded defaults)")
	restoreFrom := fs.String("restore-from", "", "bootstrap an EMPTY data directory from the backup in this target (s3://<storage-id>/<prefix> or an absolute path); a bootstrap that did not complete is retried at the next start (from this target, else the one recorded in <data_path>/BOOTSTRAP_RESTORE)")
	restoreID := fs.String("restore-backup-id", "", "backup id for --restore-from (default: the newest completed backup)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 1 && *cfgPath == "" {
		*cfgPath = fs.Arg(0) // upstream passes the config path positionally
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kalamdb:", err)
		return 1
	}
	var h slog.Handler
	hopts := &slog.HandlerOptions{Level: cfg.Logging.SlogLevel()}
	if cfg.Logging.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, hopts)
	} else {
		h = slog.NewTextHandler(os.Stderr, hopts)
	}
	log := slog.New(h)
	node.ApplyMemoryLimit(log)
	var sopts []node.StartOption
	if *restoreFrom != "" {
		sopts = append(sopts, node.WithRestoreFrom(*restoreFrom, *restoreID))
	}
	stopPprof, err := startPprof(log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kalamdb:", err)
		return 1
	}
	defer stopPprof()
	n, err := node.Start(cfg, log, sopts...)
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String(), "timeout_seconds", cfg.Server.ShutdownTimeoutSeconds)
		go func() {
			// A second signal skips the graceful sequence; acknowledged
			// writes are durable either way.
			s := <-sig
			log.Warn("forced exit", "signal", s.String())
			os.Exit(1)
		}()
	case err := <-waitChan(n):
		log.Error("server stopped", "err", err)
	}
	if err := n.Close(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func waitChan(n *node.Node) <-chan error {
	c := make(chan error, 1)
	go func() { c <- n.Wait() }()
	return c
}
