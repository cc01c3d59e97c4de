package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// Exit codes of `kalamdb sql`.
const (
	exitOK      = 0
	exitSQL     = 1
	exitConnect = 2
)

// sqlOptions are the flags of `kalamdb sql`.
type sqlOptions struct {
	url, user, password, token, namespace string
	command, file, format                 string
	timeout                               time.Duration
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func runSQL(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o sqlOptions
	fs := flag.NewFlagSet("sql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", envOr("KALAMDB_URL", "http://127.0.0.1:8080"), "server URL (env KALAMDB_URL)")
	fs.StringVar(&o.user, "user", envOr("KALAMDB_USER", "root"), "user (env KALAMDB_USER)")
	fs.StringVar(&o.password, "password", envOr("KALAMDB_PASSWORD", ""), "password (env KALAMDB_PASSWORD)")
	fs.StringVar(&o.token, "token", envOr("KALAMDB_TOKEN", ""), "access token instead of user/password (env KALAMDB_TOKEN)")
	fs.StringVar(&o.namespace, "namespace", "", "default namespace for unqualified table names")
	fs.StringVar(&o.command, "c", "", "run this SQL and exit")
	fs.StringVar(&o.file, "f", "", "run the SQL in this file and exit")
	fs.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "per-statement timeout")
	if err := fs.Parse(args); err != nil {
		return exitConnect
	}
	f, ok := formatters[o.format]
	if !ok {
		fmt.Fprintf(stderr, "kalamdb sql: unknown --format %q (table, json, csv)\n", o.format)
		return exitConnect
	}
	c := client.New(o.url)
	c.Namespace = o.namespace
	ctx := context.Background()
	if o.token != "" {
		c.Token = o.token
	} else if _, err := c.Login(ctx, o.user, o.password); err != nil {
		fmt.Fprintf(stderr, "kalamdb sql: cannot log in to %s as %s: %v\n", o.url, o.user, err)
		return exitConnect
	}
	s := &shell{c: c, out: stdout, errw: stderr, format: f, timeout: o.timeout}
	switch {
	case o.command != "":
		return s.run(o.command)
	case o.file != "":
		data, err := os.ReadFile(o.file)
		if err != nil {
			fmt.Fprintf(stderr, "kalamdb sql: %v\n", err)
			return exitConnect
		}
		return s.run(string(data))
	}
	return s.repl(stdin)
}

// shell runs statements and meta-commands and prints results.
type shell struct {
	c       *client.Client
	out     io.Writer
	errw    io.Writer
	format  formatter
	timeout time.Duration
}

// run executes one input (SQL or a meta-command) and returns an exit code.
func (s *shell) run(input string) int {
	input = strings.TrimSpace(input)
	if strings.HasPrefix(input, `\`) {
		return s.meta(input)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	res, err := s.c.SQL(ctx, input)
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) {
			fmt.Fprintf(s.errw, "ERROR %s: %s\n", ae.Code, ae.Message)
			if ae.HTTPStatus == 401 {
				return exitConnect
			}
			return exitSQL
		}
		fmt.Fprintf(s.errw, "kalamdb sql: %v\n", err)
		return exitConnect
	}
	for _, r := range res.Results {
		s.format(s.out, r)
	}
	return exitOK
}

// meta runs a backslash command.
func (s *shell) meta(cmd string) int {
	name, arg, _ := strings.Cut(cmd, " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case `\dt`:
		if arg != "" {
			return s.run("SHOW TABLES IN " + arg)
		}
		return s.run("SHOW TABLES")
	case `\d`:
		if arg == "" {
			return s.run("SHOW TABLES")
		}
		return s.run("DESCRIBE TABLE " + arg)
	case `\dn`:
		return s.run("SHOW NAMESPACES")
	case `\health`:
		if s.c.Healthy(context.Background()) {
			fmt.Fprintln(s.out, "ready")
			return exitOK
		}
		fmt.Fprintln(s.out, "not ready")
		return exitConnect
	case `\q`, `\quit`:
		return exitOK
	case `\?`, `\help`:
		fmt.Fprintln(s.out, `\dt [ns]   list tables      \d table   describe a table
\dn        list namespaces  \health    server readiness
\q         quit             statements end with ;`)
		return exitOK
	}
	fmt.Fprintf(s.errw, "unknown command %s (try \\?)\n", name)
	return exitSQL
}

// repl reads statements (terminated by ;) and meta-commands until EOF or \q.
func (s *shell) repl(in io.Reader) int {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var buf strings.Builder
	code := exitOK
	prompt := func() {
		if buf.Len() == 0 {
			fmt.Fprint(s.out, "kalamdb> ")
		} else {
			fmt.Fprint(s.out, "     ..> ")
		}
	}
	prompt()
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if buf.Len() == 0 && strings.HasPrefix(trimmed, `\`) {
			if trimmed == `\q` || trimmed == `\quit` {
				return code
			}
			code = s.meta(trimmed)
			prompt()
			continue
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			code = s.run(buf.String())
			buf.Reset()
		}
		prompt()
	}
	if strings.TrimSpace(buf.String()) != "" {
		code = s.run(buf.String())
	}
	fmt.Fprintln(s.out)
	return code
}
