package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/e2e/controlplane"
	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
)

// installGuide is the walkthrough TestInstallGuide executes.
const installGuide = "docs/operator-install.md"

// guideStep is one executable piece of the guide, in document order: a
// bash block to run, or an `<!-- e2e: NAME -->` check the test performs.
type guideStep struct {
	heading string
	line    int
	script  string // a bash block
	check   string // an e2e check name
	skip    string // why a bash block is not run ("" = run it)
}

// parseGuide splits a Markdown walkthrough into steps. A bash block
// preceded by `<!-- e2e: skip: REASON -->` is returned with its reason; any
// other `<!-- e2e: NAME -->` comment is a check.
func parseGuide(text string) ([]guideStep, error) {
	var steps []guideStep
	heading, pendingSkip := "", ""
	var block *guideStep
	var body strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case block != nil:
			if strings.TrimSpace(l) == "```" {
				block.script = body.String()
				steps = append(steps, *block)
				block = nil
				continue
			}
			body.WriteString(l + "\n")
		case strings.HasPrefix(l, "```bash"):
			block = &guideStep{heading: heading, line: n, skip: pendingSkip}
			body.Reset()
			pendingSkip = ""
		case strings.HasPrefix(l, "```"):
			// Another language (yaml, ...): shown, not run. Skip its body.
			for sc.Scan() {
				n++
				if strings.TrimSpace(sc.Text()) == "```" {
					break
				}
			}
		case strings.HasPrefix(l, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(l, "#"))
		case strings.HasPrefix(l, "<!-- e2e:"):
			inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "<!-- e2e:"), "-->"))
			if reason, ok := strings.CutPrefix(inner, "skip:"); ok {
				if strings.TrimSpace(reason) == "" {
					return nil, fmt.Errorf("line %d: e2e skip without a reason", n)
				}
				pendingSkip = strings.TrimSpace(reason)
				continue
			}
			steps = append(steps, guideStep{heading: heading, line: n, check: inner})
		}
	}
	if block != nil {
		return nil, fmt.Errorf("line %d: unterminated bash block", block.line)
	}
	if pendingSkip != "" {
		return nil, fmt.Errorf("an e2e skip comment is not followed by a bash block")
	}
	return steps, sc.Err()
}

// TestInstallGuideParses checks the guide's structure without a cluster: it
// has the steps TestInstallGuide relies on, and every skipped block says why.
func TestInstallGuideParses(t *testing.T) {
	steps := readGuide(t)
	var run []string
	checks := map[string]bool{}
	for _, s := range steps {
		switch {
		case s.check != "":
			checks[s.check] = true
		case s.skip == "":
			run = append(run, s.script)
		default:
			// A skip may not hide a step that changes or waits for the
			// cluster: those are what the guide promises.
			for _, banned := range []string{"helm ", " apply ", " wait ", " create ", " delete ", " patch ", " annotate "} {
				if strings.Contains(s.script, banned) {
					t.Errorf("guide line %d: a skipped block runs %q:\n%s", s.line, strings.TrimSpace(banned), s.script)
				}
			}
		}
	}
	all := strings.Join(run, "\n")
	for _, want := range []string{
		"helm install kalamdb-operator charts/kalamdb-operator",
		"kubectl -n apps wait kalamcluster/kalam --for=condition=Ready",
		"kalamdb_v1alpha1_kalamuser.yaml",
		"kalamdb_v1alpha1_kalamscheduledbackup.yaml",
		"kubectl -n apps wait kalamcluster/kalam-restored --for=condition=Ready",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the guide's executed blocks lack %q", want)
		}
	}
	for name := range checks {
		if _, ok := guideChecks[name]; !ok {
			t.Errorf("the guide names an unknown e2e check %q", name)
		}
	}
	for name := range guideChecks {
		if !checks[name] {
			t.Errorf("e2e check %q is not placed in the guide", name)
		}
	}
}

func readGuide(t *testing.T) []guideStep {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(controlplane.RepoRoot(), installGuide))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := parseGuide(string(b))
	if err != nil {
		t.Fatalf("%s: %v", installGuide, err)
	}
	return steps
}

// guide carries what the checks need.
type guide struct {
	env *harness.Env
	ns  string
}

// guideChecks are the `<!-- e2e: NAME -->` steps: what a skipped block does
// (port-forward + CLI), done through the Service's pod instead, and the
// verification of the restore.
var guideChecks = map[string]func(ctx context.Context, t *testing.T, g *guide){
	// The port-forward block: app_service (the KalamUser sample) logs in
	// with the password from its Secret and inserts rows.
	"write-rows": func(ctx context.Context, t *testing.T, g *guide) {
		c := g.login(ctx, t, "kalam")
		for id := 1; id <= 3; id++ {
			if _, err := c.SQL(ctx, "INSERT INTO app.messages (id, body) VALUES ($1, 'hello')", id); err != nil {
				t.Fatalf("insert %d as app_service: %v", id, err)
			}
		}
	},
	// The restored cluster has the user (with its password) and its rows.
	"check-restored": func(ctx context.Context, t *testing.T, g *guide) {
		c := g.login(ctx, t, "kalam-restored")
		rows, err := c.Rows(ctx, "SELECT id FROM app.messages ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 {
			t.Fatalf("kalam-restored: app_service sees %d rows, want 3: %v", len(rows), rows)
		}
	},
}

// login logs app_service in on cluster's Service, with the password of the
// sample's Secret.
func (g *guide) login(ctx context.Context, t *testing.T, cluster string) *dpclient.Client {
	t.Helper()
	var sec corev1.Secret
	if err := g.env.Client.Get(ctx, client.ObjectKey{Namespace: g.ns, Name: "app-service-password"}, &sec); err != nil {
		t.Fatal(err)
	}
	eps, err := harness.ServiceEndpoints(ctx, g.env.CP.Client, g.ns, cluster, "http")
	if err != nil || len(eps) == 0 {
		t.Fatalf("service %s: %v", cluster, err)
	}
	c := dpclient.New("http://" + eps[0])
	if _, err := c.Login(ctx, "app_service", string(sec.Data["password"])); err != nil {
		t.Fatalf("app_service login on %s: %v", cluster, err)
	}
	return c
}

// TestInstallGuide follows docs/operator-install.md on the e2e control
// plane: every bash block not marked `e2e: skip` runs, in order, with bash
// in a directory holding the repository's charts/ and a copy of
// config/samples in which the object-store endpoint is MinIO's (the edit
// the guide asks for). kubectl and helm are the real binaries; the one
// addition is e2e/harness/operator-values.yaml on `helm install` (a helm
// wrapper adds `-f` with it; see that file for why).
func TestInstallGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts a control plane, MinIO and the operator")
	}
	steps := readGuide(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	env := harness.StartWith(ctx, t, harness.Options{SkipOperator: true})
	work := guideWorkdir(t, env)
	g := &guide{env: env, ns: "apps"}
	for _, s := range steps {
		name := fmt.Sprintf("line%d", s.line)
		switch {
		case s.check != "":
			t.Logf("guide line %d (%s): check %s", s.line, s.heading, s.check)
			guideChecks[s.check](ctx, t, g)
		case s.skip != "":
			t.Logf("guide line %d (%s): not run: %s", s.line, s.heading, s.skip)
		default:
			t.Logf("guide line %d (%s): running\n%s", s.line, s.heading, s.script)
			began := time.Now()
			out, err := runGuideBlock(ctx, env, work, s.script)
			if err != nil {
				t.Fatalf("guide %s (%s) failed: %v\n%s", name, s.heading, err, out)
			}
			t.Logf("guide line %d: ok in %s\n%s", s.line, time.Since(began).Round(time.Millisecond), out)
		}
		if t.Failed() {
			return
		}
	}
}

// guideWorkdir prepares the directory the guide's commands run in, and a
// bin directory with the helm wrapper.
func guideWorkdir(t *testing.T, env *harness.Env) string {
	t.Helper()
	root := controlplane.RepoRoot()
	work := filepath.Join(env.Dir, "guide")
	samples := filepath.Join(work, "config", "samples")
	if err := env.CopySamples(samples); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "charts"), filepath.Join(work, "charts")); err != nil {
		t.Fatal(err)
	}
	values, err := env.OperatorValuesFile()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(env.Dir, "guide-bin")
	if err := os.MkdirAll(bin, 0o750); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf(`#!/bin/sh
# e2e: the guide's helm, plus the suite's values on install/upgrade.
case "$1" in install|upgrade) exec %q "$@" -f %q ;; esac
exec %q "$@"
`, env.Helm, values, env.Helm)
	if err := os.WriteFile(filepath.Join(bin, "helm"), []byte(wrapper), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(env.Kubectl, filepath.Join(bin, "kubectl")); err != nil {
		t.Fatal(err)
	}
	return work
}

// runGuideBlock runs one bash block (errexit, pipefail) against the control
// plane, bounded by 10 minutes.
func runGuideBlock(ctx context.Context, env *harness.Env, work, script string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	home := filepath.Join(env.Dir, "helm")
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Join(env.Dir, "guide-bin")+":"+os.Getenv("PATH"),
		"KUBECONFIG="+env.CP.Kubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestParseGuide covers the guide parser on a small document.
func TestParseGuide(t *testing.T) {
	doc := "# A\n```bash\necho one\n```\n```yaml\nkind: X\n```\n## B\n<!-- e2e: skip: no docker -->\n```bash\ndocker build .\n```\n<!-- e2e: write-rows -->\n"
	steps, err := parseGuide(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []guideStep{
		{heading: "A", line: 2, script: "echo one\n"},
		{heading: "B", line: 10, script: "docker build .\n", skip: "no docker"},
		{heading: "B", line: 13, check: "write-rows"},
	}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Fatalf("steps %+v, want %+v", steps, want)
	}
	for _, bad := range []string{
		"<!-- e2e: skip: -->\n```bash\nx\n```\n",
		"```bash\nx\n",
		"<!-- e2e: skip: why -->\ntext\n",
	} {
		if _, err := parseGuide(bad); err == nil {
			t.Errorf("parseGuide accepted %q", bad)
		}
	}
}
