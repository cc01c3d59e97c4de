package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
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
	instance, subscribe                   string
	saveCredentials, noWait, noHistory    bool
	caCert, tlsServerName                 string
	maxChanges                            int
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
	fs.StringVar(&o.caCert, "cacert", envOr("KALAMDB_CACERT", ""), "PEM CA bundle trusted for an https:// URL instead of the system roots (env KALAMDB_CACERT)")
	fs.StringVar(&o.tlsServerName, "tls-server-name", envOr("KALAMDB_TLS_SERVER_NAME", ""), "name to verify the server certificate against, when the URL's host is not in it (e.g. through a port-forward; env KALAMDB_TLS_SERVER_NAME)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "per-statement timeout (also bounds waiting for a job)")
	fs.StringVar(&o.instance, "instance", "", "name under which credentials are saved and looked up (default: the URL)")
	fs.BoolVar(&o.saveCredentials, "save-credentials", false, "save the access and refresh tokens (never the password) for this instance, mode 0600")
	fs.StringVar(&o.subscribe, "subscribe", "", "live query: print the initial rows, then changes until interrupted")
	fs.IntVar(&o.maxChanges, "max-changes", 0, "with --subscribe, exit after this many change events (0 = until interrupted)")
	fs.BoolVar(&o.noWait, "no-wait", false, "do not wait for jobs started by STORAGE FLUSH/COMPACT, BACKUP or RESTORE")
	fs.BoolVar(&o.noHistory, "no-history", false, "do not read or write the REPL history file")
	if err := fs.Parse(args); err != nil {
		return exitConnect
	}
	f, ok := formatters[o.format]
	if !ok {
		fmt.Fprintf(stderr, "kalamdb sql: unknown --format %q (table, json, csv)\n", o.format)
		return exitConnect
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	_, envPassword := os.LookupEnv("KALAMDB_PASSWORD")
	c := client.New(o.url)
	c.Namespace = o.namespace
	if o.caCert != "" || o.tlsServerName != "" {
		tc, err := cliTLSConfig(o.caCert, o.tlsServerName)
		if err != nil {
			fmt.Fprintf(stderr, "kalamdb sql: %v\n", err)
			return exitConnect
		}
		c.HTTP.Transport.(*http.Transport).TLSClientConfig = tc
	}
	if code := authenticate(c, o, set["password"] || envPassword, stderr); code != exitOK {
		return code
	}
	s := &shell{c: c, out: stdout, errw: stderr, format: f, formatName: o.format, timeout: o.timeout, wait: !o.noWait}
	switch {
	case o.subscribe != "":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return s.subscribe(ctx, o.subscribe, o.maxChanges)
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
	if !o.noHistory {
		s.hist = openHistory()
	}
	return s.repl(stdin)
}

// authenticate gives c a token: --token; else the saved token of this
// instance when no password was given (refreshed if expired); else a
// login with user and password. --save-credentials stores the result.
func authenticate(c *client.Client, o sqlOptions, passwordGiven bool, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	instance := o.instance
	if instance == "" {
		instance = c.BaseURL
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "kalamdb sql: "+format+"\n", args...)
		return exitConnect
	}
	var saved *savedCreds
	switch {
	case o.token != "":
		c.Token = o.token
	case !passwordGiven:
		all, err := loadCreds()
		if err != nil {
			return fail("%v", err)
		}
		sc, ok := all[instance]
		if !ok {
			// No saved login: try the password (empty) so the server
			// answers with its usual error.
			break
		}
		c.Token = sc.AccessToken
		if status, _, err := c.Do(ctx, http.MethodGet, "/v1/api/auth/me", nil, true); err != nil {
			return fail("cannot reach %s: %v", c.BaseURL, err)
		} else if status == http.StatusUnauthorized {
			if sc.RefreshToken == "" {
				return fail("the saved token for %s expired; log in again with --password", instance)
			}
			lr, err := c.Refresh(ctx, sc.RefreshToken)
			if err != nil {
				return fail("the saved credentials for %s expired (%v); log in again with --password", instance, err)
			}
			sc.AccessToken, sc.RefreshToken, sc.ExpiresAt = lr.AccessToken, lr.RefreshToken, lr.ExpiresAt
			if err := saveCreds(instance, &sc); err != nil {
				fmt.Fprintf(stderr, "kalamdb sql: warning: could not update saved credentials: %v\n", err)
			}
		}
		saved = &sc
	}
	if c.Token == "" {
		lr, err := c.Login(ctx, o.user, o.password)
		if err != nil {
			return fail("cannot log in to %s as %s: %v", c.BaseURL, o.user, err)
		}
		saved = &savedCreds{URL: c.BaseURL, User: o.user, AccessToken: lr.AccessToken, RefreshToken: lr.RefreshToken, ExpiresAt: lr.ExpiresAt}
	}
	if o.saveCredentials {
		if saved == nil {
			saved = &savedCreds{URL: c.BaseURL, User: o.user, AccessToken: c.Token}
		}
		if err := saveCreds(instance, saved); err != nil {
			return fail("cannot save credentials: %v", err)
		}
	}
	return exitOK
}

// shell runs statements and meta-commands and prints results.
type shell struct {
	c          *client.Client
	out        io.Writer
	errw       io.Writer
	format     formatter
	formatName string
	timeout    time.Duration
	// wait makes statements that start jobs wait for them (jobs.go).
	wait bool
	// hist is the REPL history (nil outside the REPL).
	hist *history
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
	var jobs []string
	for _, r := range res.Results {
		s.format(s.out, r)
		jobs = append(jobs, jobIDs(r)...)
	}
	if s.wait {
		return s.waitJobs(jobs)
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
	case `\stats`:
		return s.run("SELECT metric_name, metric_value FROM system.stats")
	case `\settings`:
		return s.run("SELECT name, value, category FROM system.settings ORDER BY name LIMIT 1000")
	case `\flush`:
		// Always waits for the jobs, with a progress line on a terminal.
		wait := s.wait
		s.wait = true
		defer func() { s.wait = wait }()
		if arg != "" {
			return s.run("STORAGE FLUSH TABLE " + arg)
		}
		return s.run("STORAGE FLUSH ALL")
	case `\s`, `\history`:
		if s.hist != nil {
			for i, e := range s.hist.entries {
				fmt.Fprintf(s.out, "%5d  %s\n", i+1, e)
			}
		}
		return exitOK
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
		fmt.Fprintln(s.out, `\dt [ns]      list tables          \d table     describe a table
\dn           list namespaces      \health      server readiness
\stats        server statistics    \settings    effective configuration
\flush [t]    flush all tables (or t) to the cold tier and wait
\s            show history         \q           quit
statements end with ;`)
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
			s.remember(trimmed)
			code = s.meta(trimmed)
			prompt()
			continue
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			s.remember(buf.String())
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

// remember adds a REPL input to the history.
func (s *shell) remember(input string) {
	if s.hist != nil {
		s.hist.add(input)
	}
}
