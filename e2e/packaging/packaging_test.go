// Package packaging checks what ships besides the code: the Dockerfile
// (parsed, and its builds reproduced with the same flags, since no Docker
// engine runs in CI), the kustomize bases, the Helm chart (helm lint and
// helm template, chart in sync with config/crd and config/rbac) and PROJECT.
package packaging

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/e2e/controlplane"
	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
)

var root = controlplane.RepoRoot()

// tool returns a pinned tool from hack/go-tools.sh (built on demand).
func tool(t *testing.T, name string) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(root, "hack", "go-tools.sh"), name)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hack/go-tools.sh %s: %v", name, err)
	}
	tools := os.Getenv("KALAMDB_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "kalamdb-tools")
	}
	return filepath.Join(tools, "bin", name)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// kinds lists "Kind/name" of every object in a multi-document YAML stream.
func kinds(yaml string) []string {
	var out []string
	kind := ""
	inMeta := false
	sc := bufio.NewScanner(strings.NewReader(yaml))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "---":
			kind, inMeta = "", false
		case strings.HasPrefix(l, "kind: "):
			kind = strings.TrimPrefix(l, "kind: ")
		case l == "metadata:":
			inMeta = true
		case inMeta && strings.HasPrefix(l, "  name: "):
			out = append(out, kind+"/"+strings.TrimPrefix(l, "  name: "))
			inMeta = false
		case !strings.HasPrefix(l, " "):
			inMeta = false
		}
	}
	sort.Strings(out)
	return out
}

func contains(t *testing.T, what string, have []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			t.Errorf("%s: missing %s (have %v)", what, w, have)
		}
	}
}

// TestDockerfile checks the Dockerfile's structure (multi-stage, distroless,
// non-root, both binaries, static builds) and builds the same packages with
// the same CGO_ENABLED=0 flags, checking the results are static binaries.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var froms, users, builds, copies []string
	env := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "FROM "):
			froms = append(froms, l)
		case strings.HasPrefix(l, "USER "):
			users = append(users, strings.TrimPrefix(l, "USER "))
		case strings.HasPrefix(l, "ENV "):
			env += l
		case strings.HasPrefix(l, "RUN go build"):
			builds = append(builds, l)
		case strings.HasPrefix(l, "COPY --from=build"):
			copies = append(copies, l)
		}
	}
	if len(froms) < 2 || !strings.Contains(froms[0], " AS build") {
		t.Fatalf("want a multi-stage build starting with a build stage, got %v", froms)
	}
	for _, f := range froms[1:] {
		if !strings.Contains(f, "gcr.io/distroless/static") || !strings.Contains(f, ":nonroot") {
			t.Errorf("runtime stage %q is not distroless/static nonroot", f)
		}
	}
	if len(users) != len(froms)-1 {
		t.Errorf("every runtime stage needs USER, got %v", users)
	}
	for _, u := range users {
		if u == "0" || strings.HasPrefix(u, "root") || strings.HasPrefix(u, "0:") {
			t.Errorf("USER %s is root", u)
		}
	}
	if !strings.Contains(env, "CGO_ENABLED=0") {
		t.Error("the build stage does not set CGO_ENABLED=0")
	}
	want := map[string]string{"./cmd/kalamdb": "/out/kalamdb", "./cmd/manager": "/out/manager"}
	for pkg, out := range want {
		found := false
		for _, bl := range builds {
			found = found || (strings.Contains(bl, pkg) && strings.Contains(bl, "-o "+out))
		}
		if !found {
			t.Errorf("no `go build -o %s %s` in the Dockerfile", out, pkg)
		}
	}
	for _, bin := range []string{"/kalamdb", "/manager"} {
		found := false
		for _, c := range copies {
			found = found || strings.HasSuffix(c, " "+bin)
		}
		if !found {
			t.Errorf("no stage copies %s (C4 runs /kalamdb and /manager)", bin)
		}
	}
	if testing.Short() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), harness.BuildTimeout)
	defer cancel()
	dir := t.TempDir()
	for pkg := range want {
		bin, err := harness.Build(ctx, dir, pkg)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked (has an ELF interpreter): distroless/static cannot run it", pkg)
			}
		}
		f.Close()
	}
}

// TestKustomize builds config/default and config/samples with kustomize
// v5.8.2 and checks what they contain.
func TestKustomize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kustomize on a fresh machine")
	}
	kz := tool(t, "kustomize")
	def := kinds(run(t, kz, "build", "config/default"))
	contains(t, "config/default", def,
		"Namespace/kalamdb-system",
		"CustomResourceDefinition/kalamclusters.kalamdb.io", "CustomResourceDefinition/kalamnamespaces.kalamdb.io",
		"CustomResourceDefinition/kalamtables.kalamdb.io", "CustomResourceDefinition/kalambackups.kalamdb.io",
		"CustomResourceDefinition/kalamscheduledbackups.kalamdb.io", "CustomResourceDefinition/kalamusers.kalamdb.io",
		"ServiceAccount/kalamdb-operator-controller-manager", "ClusterRole/kalamdb-operator-manager-role",
		"ClusterRoleBinding/kalamdb-operator-manager-rolebinding", "Deployment/kalamdb-operator-controller-manager",
		"Service/kalamdb-operator-controller-manager-metrics")
	samples := kinds(run(t, kz, "build", "config/samples"))
	contains(t, "config/samples", samples,
		"KalamCluster/kalam", "KalamNamespace/app", "KalamTable/app-messages",
		"KalamTable/app-rooms", "KalamBackup/kalam-manual", "KalamScheduledBackup/kalam-nightly", "Secret/kalam-s3",
		"KalamUser/app-service", "Secret/app-service-password")
	// Every cluster sample reserves what it needs (requests), so copying a
	// sample never yields a BestEffort database pod.
	for _, f := range []string{"kalamdb_v1alpha1_kalamcluster.yaml", "kalamdb_v1alpha1_kalamcluster_restore.yaml", "kalamdb_v1alpha1_kalamcluster_ha.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "config", "samples", f))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^  resources:\n    requests:\n      cpu: \S+\n      memory: \S+`).Match(b) {
			t.Errorf("sample %s sets no spec.resources.requests (cpu and memory)", f)
		}
	}
	// Applied together, the samples must end consistent: a restore from a
	// backup taken before the tables existed would not, so the restore
	// sample is applied on its own (NOTES.txt, docs/operator-install.md).
	if slices.Contains(samples, "KalamCluster/kalam-restored") {
		t.Error("config/samples includes the restore sample: applied with the rest it restores an empty backup")
	}
	// Three more pods do not fit next to the other samples on the 2-core
	// machine TestSamplesTogether runs on; the HA sample is applied alone.
	if slices.Contains(samples, "KalamCluster/kalam-ha") {
		t.Error("config/samples includes the 3-replica sample: keep it out of kustomization.yaml")
	}
	prom := kinds(run(t, kz, "build", "config/prometheus"))
	contains(t, "config/prometheus", prom, "ServiceMonitor/controller-manager-metrics", "PrometheusRule/kalamdb-operator")
}

// TestHelmChart runs helm lint and helm template (defaults, and with the
// Prometheus objects on).
func TestHelmChart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds helm on a fresh machine")
	}
	helm := tool(t, "helm")
	chart := "charts/kalamdb-operator"
	run(t, helm, "lint", "--strict", chart)
	run(t, helm, "lint", "--strict", chart, "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true")
	out := run(t, helm, "template", "kdb", chart, "--namespace", "kalamdb-system", "--include-crds",
		"--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true")
	contains(t, "helm template", kinds(out),
		"CustomResourceDefinition/kalamclusters.kalamdb.io", "CustomResourceDefinition/kalamscheduledbackups.kalamdb.io",
		"ServiceAccount/kdb-kalamdb-operator", "ClusterRole/kdb-kalamdb-operator", "ClusterRoleBinding/kdb-kalamdb-operator",
		"Role/kdb-kalamdb-operator-leader-election", "Deployment/kdb-kalamdb-operator", "Service/kdb-kalamdb-operator-metrics",
		"ServiceMonitor/kdb-kalamdb-operator", "PrometheusRule/kdb-kalamdb-operator")
	// The ClusterRole carries the generated rules (not an empty list).
	if !regexp.MustCompile(`(?s)kind: ClusterRole\n.*?rules:\n- apiGroups:`).MatchString(out) {
		t.Error("the chart's ClusterRole has no rules from config/rbac/role.yaml")
	}
	def := run(t, helm, "template", "kdb", chart)
	if strings.Contains(def, "ServiceMonitor") || strings.Contains(def, "PrometheusRule") {
		t.Error("Prometheus objects must be off by default")
	}
}

// TestChartInSync fails when config/crd or config/rbac changed and `make
// chart` was not run (the CI diff check).
func TestChartInSync(t *testing.T) {
	pairs := map[string]string{
		filepath.Join(root, "config", "rbac", "role.yaml"): filepath.Join(root, "charts", "kalamdb-operator", "files", "manager-role.yaml"),
	}
	crds, _ := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if len(crds) == 0 {
		t.Fatal("no CRDs in config/crd/bases")
	}
	for _, c := range crds {
		pairs[c] = filepath.Join(root, "charts", "kalamdb-operator", "crds", filepath.Base(c))
	}
	charted, _ := filepath.Glob(filepath.Join(root, "charts", "kalamdb-operator", "crds", "*.yaml"))
	if len(charted) != len(crds) {
		t.Errorf("chart has %d CRDs, config/crd/bases has %d: run `make chart`", len(charted), len(crds))
	}
	for src, dst := range pairs {
		a, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s: run `make chart`", dst, src)
		}
	}
}

// TestProject checks PROJECT against the kubebuilder layout and the API. Kubebuilder
// joins group and domain into the API group, so kalamdb + io is kalamdb.io.
func TestProject(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "PROJECT"))
	if err != nil {
		t.Fatal(err)
	}
	p := string(b)
	for _, want := range []string{"domain: io", "layout:\n- go.kubebuilder.io/v4", "repo: github.com/kalamdb/kalamdb-k8s", `version: "3"`} {
		if !strings.Contains(p, want) {
			t.Errorf("PROJECT lacks %q", want)
		}
	}
	for _, kind := range []string{"KalamCluster", "KalamNamespace", "KalamTable", "KalamBackup", "KalamScheduledBackup", "KalamUser"} {
		re := regexp.MustCompile(`(?m)group: kalamdb\n\s+kind: ` + kind + `\n(?:.*\n){0,3}?\s+version: v1alpha1`)
		if !re.MatchString(p) {
			t.Errorf("PROJECT has no resource group kalamdb kind %s version v1alpha1", kind)
		}
		if _, err := os.Stat(filepath.Join(root, "api", "v1alpha1", strings.ToLower(kind)+"_types.go")); err != nil {
			t.Errorf("PROJECT lists %s but api/v1alpha1 has no type file: %v", kind, err)
		}
	}
}

// TestColumnTypeRuleMatchesParser: the admission rule on KalamTable column
// types (a CEL matches(), RE2 like Go's regexp) accepts exactly what the
// data plane's type parser accepts, over every alias spelling and a set of
// near misses, so a type the server knows is never refused at admission and
// a typo never passes it.
func TestColumnTypeRuleMatchesParser(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(controlplane.RepoRoot(), "config", "crd", "bases", "kalamdb.io_kalamtables.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(b, &crd); err != nil {
		t.Fatal(err)
	}
	col := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["columns"].Items.Schema.Properties["type"]
	var m []string
	for _, r := range col.XValidations {
		if m = regexp.MustCompile(`^self\.matches\('([^']+)'\)$`).FindStringSubmatch(r.Rule); m != nil {
			break
		}
	}
	if m == nil {
		t.Fatalf("no matches() rule on KalamTable spec.columns[].type: %+v", col.XValidations)
	}
	rule := regexp.MustCompile(m[1])
	spellings := []string{
		"BOOLEAN", "bool", "SMALLINT", "int2", "TINYINT", "SMALLSERIAL", "INT", "integer", "INT4", "MEDIUMINT", "SERIAL",
		"BIGINT", "int8", "BIGSERIAL", "FLOAT", "REAL", "FLOAT4", "DOUBLE", "double precision", "FLOAT8", "DECIMAL", "numeric",
		"TEXT", "VARCHAR", "CHAR", "STRING", "NVARCHAR", "CLOB", "character varying", "CHARACTER", "ARRAY", "ENUM", "SET", "STRUCT",
		"BYTES", "BINARY", "VARBINARY", "BLOB", "BYTEA", "JSON", "JSONB", "TIMESTAMP", "timestamp without time zone", "DATE",
		"DATETIME", "TIMESTAMPTZ", "timestamp with time zone", "TIME", "UUID", "EMBEDDING(384)", "VECTOR(3)", "FILE",
		"varchar(20)", "DECIMAL(10,2)", "decimal( 10 , 2 )", "INT UNSIGNED", "int(11) unsigned", "TIMESTAMP(6)",
	}
	for _, s := range spellings {
		if _, err := datatype.Parse(s); err != nil {
			t.Errorf("the parser refuses %q: %v (fix the list)", s, err)
		}
		if !rule.MatchString(s) {
			t.Errorf("admission refuses %q, which the data plane accepts", s)
		}
	}
	for _, s := range []string{"STRNG", "BIGINTEGER", "INTT", "TEXT;DROP", "VARCHAR(20", "INT(1,2,3)", "", "JSONX", "DOUBLE PRECISIONS"} {
		if rule.MatchString(s) {
			t.Errorf("admission accepts %q", s)
		}
		if _, err := datatype.Parse(s); err == nil && s != "" {
			t.Logf("note: the parser accepts %q", s)
		}
	}
}
