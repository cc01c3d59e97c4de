// Command kubectl-kalam is the kubectl plugin of the KalamDB operator
// (`kubectl kalam ...`, like `kubectl cnpg`): a status report of a
// KalamCluster and its tables, plans and backups, SQL against its data
// plane, on-demand backups, restores into a new cluster, approval of a
// pending destructive schema plan, and the data-plane logs.
//
// Everything except `sql` and `logs` is plain Kubernetes API work on the
// kalamdb.io objects: the plugin needs the same access as kubectl on them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// usage is the plugin's help text.
const usage = `kubectl kalam: manage KalamDB clusters run by the kalamdb operator

Usage:
  kubectl kalam status  CLUSTER                      cluster, pods, tables, pending plans, backups
  kubectl kalam sql     CLUSTER [STATEMENT]          run SQL as root (statement from stdin when omitted)
  kubectl kalam backup  CLUSTER [--name N] [--scope Database|Namespace --kalam-namespace NS] [--target T] [--wait D]
  kubectl kalam restore CLUSTER --backup KALAMBACKUP --to NEW_CLUSTER [--wait D]
  kubectl kalam approve TABLE [--hash PLAN_HASH]     approve a KalamTable's pending destructive plan
  kubectl kalam logs    CLUSTER [--pod POD] [-f] [--tail N]

Global flags (anywhere on the line):
  -n, --namespace NS   Kubernetes namespace (default: the kubeconfig context's)
  --kubeconfig PATH    kubeconfig file (default: $KUBECONFIG or ~/.kube/config)
  --context NAME       kubeconfig context
`

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "error: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

// command is one subcommand: its flags are registered on fs, run gets the
// positional arguments.
type command struct {
	flags func(fs *flag.FlagSet)
	run   func(ctx context.Context, e *env, args []string) error
}

// run is main without the process: tests call it with a kubeconfig.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	var o globalOptions
	cmds := map[string]func() command{
		"status":  func() command { return statusCommand(&o) },
		"sql":     func() command { return sqlCommand(&o) },
		"backup":  func() command { return backupCommand(&o) },
		"restore": func() command { return restoreCommand(&o) },
		"approve": func() command { return approveCommand(&o) },
		"logs":    func() command { return logsCommand(&o) },
	}
	mk, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	cmd := mk()
	fs := flag.NewFlagSet("kubectl kalam "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.register(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	e, err := o.env(stdin, stdout, stderr)
	if err != nil {
		return err
	}
	return cmd.run(ctx, e, pos)
}

// parseInterleaved parses flags anywhere on the line (kubectl style: `status
// kalam -n db`), which the flag package alone stops at the first argument.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// oneArg checks a command got exactly one positional argument.
func oneArg(args []string, what string) (string, error) {
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return "", fmt.Errorf("%w: expected one %s, got %d arguments", errUsage, what, len(args))
	}
	return args[0], nil
}
