// Command pgfuncsdiff runs the literal-only queries of
// test/pgdiff/queries/funcs-*.sql against an in-memory KalamDB SQL engine
// and against a live PostgreSQL (through psql), and reports the answers
// that differ. It is a development aid for the SQL function layer; the
// recorded-oracle harness of `make pgdiff` is the gate.
//
//	go run ./hack/pgfuncsdiff -psql "psql -h 127.0.0.1 -p 5432 -U postgres" test/pgdiff/queries/funcs-*.sql
//
// hack/pgfuncsdiff.sh starts a private PostgreSQL and runs it.
//
// Each answer is reduced to text: rows joined by newlines, columns by
// "|", NULL as "NULL", errors as "ERROR <SQLSTATE>". Differences are
// classified: "bool" (PostgreSQL t/f against our 1/0), "number" (equal
// numbers printed differently, e.g. 2.50 against 2.5) and "DIFF".
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

type quiet struct{}

func (quiet) Infof(string, ...any)      {}
func (quiet) Errorf(string, ...any)     {}
func (quiet) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func main() {
	psql := flag.String("psql", "psql -h 127.0.0.1 -U postgres", "psql command line of the live PostgreSQL")
	verbose := flag.Bool("v", false, "print every query, also the equal ones")
	strict := flag.Bool("strict", false, "count bool and number classes as differences")
	flag.Parse()
	if err := run(*psql, flag.Args(), *verbose, *strict); err != nil {
		fmt.Fprintln(os.Stderr, "pgfuncsdiff:", err)
		os.Exit(1)
	}
}

func run(psql string, files []string, verbose, strict bool) error {
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		return err
	}
	defer db.Close()
	cat, err := catalog.Load(db)
	if err != nil {
		return err
	}
	eo := engine.DefaultOptions()
	eo.Sync = false
	ex, err := engine.Open(db, cat, eo)
	if err != nil {
		return err
	}
	defer ex.Close()
	e, err := sql.New(db, cat, ex, sql.DefaultOptions())
	if err != nil {
		return err
	}
	defer e.Close()
	sess := sql.Session{UserID: "root", Role: auth.RoleSystem}
	counts := map[string]int{}
	for _, f := range files {
		qs, err := readQueries(f)
		if err != nil {
			return err
		}
		for _, q := range qs {
			ours := kalam(e, sess, q)
			theirs := postgres(psql, q)
			class := classify(ours, theirs)
			counts[class]++
			if class != "same" && (class == "DIFF" || strict) || verbose {
				fmt.Printf("%s\t%s\n\tpg:  %s\n\tours: %s\n", class, q, oneLine(theirs), oneLine(ours))
			}
		}
	}
	fmt.Printf("summary: %v\n", counts)
	if counts["DIFF"] > 0 || (strict && (counts["bool"] > 0 || counts["number"] > 0)) {
		return fmt.Errorf("%d differences", counts["DIFF"])
	}
	return nil
}

// readQueries splits a corpus file: statements end with ";" at the end
// of a line; "--" lines are comments.
func readQueries(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "--") || strings.TrimSpace(line) == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	return out, sc.Err()
}

var stateRe = regexp.MustCompile(`SQLSTATE ([0-9A-Z]{5})`)

func kalam(e *sql.Engine, sess sql.Session, q string) string {
	res, err := e.Execute(context.Background(), sess, sql.Request{SQL: q})
	if err != nil {
		if m := stateRe.FindStringSubmatch(err.Error()); m != nil {
			return "ERROR " + m[1]
		}
		return "ERROR " + err.Error()
	}
	var rows []string
	for _, r := range res[len(res)-1].Rows {
		cols := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
				cols[i] = "NULL"
			case float64:
				cols[i] = strconv.FormatFloat(x, 'g', -1, 64)
			default:
				cols[i] = fmt.Sprint(x)
			}
		}
		rows = append(rows, strings.Join(cols, "|"))
	}
	return strings.Join(rows, "\n")
}

var pgErrRe = regexp.MustCompile(`ERROR:\s+([0-9A-Z]{5}):`)

func postgres(psql, q string) string {
	args := strings.Fields(psql)
	args = append(args, "-X", "-At", "-v", "VERBOSITY=verbose", "-P", "null=NULL", "-c", q)
	cmd := exec.Command(args[0], args[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if m := pgErrRe.FindStringSubmatch(stderr.String()); m != nil {
		return "ERROR " + m[1]
	}
	if err != nil {
		return "ERROR psql: " + strings.TrimSpace(stderr.String())
	}
	return strings.TrimRight(string(out), "\n")
}

func classify(ours, pg string) string {
	if ours == pg {
		return "same"
	}
	if strings.HasPrefix(ours, "ERROR") || strings.HasPrefix(pg, "ERROR") {
		return "DIFF"
	}
	a, b := strings.Split(ours, "\n"), strings.Split(pg, "\n")
	if len(a) != len(b) {
		return "DIFF"
	}
	class := "same"
	for i := range a {
		x, y := strings.Split(a[i], "|"), strings.Split(b[i], "|")
		if len(x) != len(y) {
			return "DIFF"
		}
		for k := range x {
			if x[k] == y[k] {
				continue
			}
			switch {
			case (x[k] == "1" && y[k] == "t") || (x[k] == "0" && y[k] == "f"):
				if class == "same" {
					class = "bool"
				}
			case numEqual(x[k], y[k]):
				class = "number"
			case isTimestampMicros(x[k], y[k]):
				if class == "same" {
					class = "timestamp"
				}
			default:
				return "DIFF"
			}
		}
	}
	return class
}

// isTimestampMicros reports whether ours is the microsecond form (our
// wire format for timestamps) of PostgreSQL's timestamp text pg.
func isTimestampMicros(ours, pg string) bool {
	us, err := strconv.ParseInt(ours, 10, 64)
	if err != nil {
		return false
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, pg); err == nil {
			return t.UnixMicro() == us || t.Unix()/86400 == us && layout == "2006-01-02"
		}
	}
	return false
}

func numEqual(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return x == y || math.Abs(x-y) <= 1e-12*math.Max(math.Abs(x), math.Abs(y))
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ⏎ ") }
