package packaging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
)

// The data plane's monitoring (config/prometheus/dataplane-*.yaml,
// config/grafana/kalamdb-dashboard.json and their chart templates) is
// checked against a real data-plane server: every kalamdb_* series an alert
// or a panel queries must be one the server exports, with the labels the
// query matches on. promtool is not built here (the Prometheus module is a
// large build); the rules' structure is checked by the Go types below.

// promRule is one rule of a PrometheusRule.
type promRule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type promRuleObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Groups []struct {
			Name  string     `json:"name"`
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// externalSeries are scraped by Prometheus itself, kube-state-metrics,
// cAdvisor or the kubelet, not by the data plane.
var externalSeries = regexp.MustCompile(`^(up|kube_.*|kubelet_.*|container_.*)$`)

// targetLabels are added by the scrape (PodMonitor relabelling), not by the
// server.
var targetLabels = map[string]bool{"job": true, "namespace": true, "pod": true, "instance": true, "container": true, "kalamdb_cluster": true, "le": true}

// scrapeDataPlane starts a server, runs a workload that moves every family
// (HTTP, statements, writes, a flush job) and parses its /metrics.
func scrapeDataPlane(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Host, cfg.Server.Port = "127.0.0.1", 0
	cfg.Storage.DataPath = t.TempDir()
	cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 8, 8
	cfg.Auth.RootPassword, cfg.Auth.BcryptCost = "monitoring-root-pw", 4
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client.New("http://" + n.Addr())
	if _, err := c.Login(ctx, "root", cfg.Auth.RootPassword); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE NAMESPACE mon", "CREATE SHARED TABLE mon.t (id BIGINT PRIMARY KEY, v TEXT)",
		"INSERT INTO mon.t (id, v) VALUES (1, 'a'), (2, 'b')", "SELECT * FROM mon.t", "STORAGE FLUSH TABLE mon.t",
	} {
		if _, err := c.SQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + n.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		fams, err = p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if fams["kalamdb_cold_job_bytes_total"] != nil || time.Now().After(deadline) {
			return fams
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var (
	seriesRe   = regexp.MustCompile(`\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?`)
	matcherRe  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"`)
	promqlWord = map[string]bool{ // functions, aggregations and keywords used by the queries
		"sum": true, "max": true, "min": true, "avg": true, "rate": true, "increase": true, "delta": true, "by": true, "on": true,
		"histogram_quantile": true, "and": true, "or": true, "unless": true, "label_values": true, "without": true, "ignoring": true,
	}
)

// checkQuery checks one PromQL expression: balanced brackets, and every
// series it names exists in fams (or is external) with the labels it
// matches on. It returns the problems found.
func checkQuery(expr string, fams map[string]*dto.MetricFamily) []string {
	var errs []string
	depth := map[rune]int{}
	pairs := map[rune]rune{')': '(', '}': '{', ']': '['}
	for _, r := range expr {
		switch r {
		case '(', '{', '[':
			depth[r]++
		case ')', '}', ']':
			depth[pairs[r]]--
			if depth[pairs[r]] < 0 {
				return []string{fmt.Sprintf("unbalanced %q in %s", r, expr)}
			}
		}
	}
	for r, d := range depth {
		if d != 0 {
			errs = append(errs, fmt.Sprintf("unclosed %q in %s", r, expr))
		}
	}
	// Strip string literals and range/offset brackets before finding names.
	stripped := regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(expr, "")
	for _, m := range seriesRe.FindAllStringSubmatchIndex(stripped, -1) {
		name := stripped[m[2]:m[3]]
		if promqlWord[name] || (m[3] < len(stripped) && strings.HasPrefix(strings.TrimSpace(stripped[m[3]:]), "(")) && m[4] < 0 {
			continue // a function call or keyword
		}
		if !strings.ContainsAny(name, "_") || strings.HasPrefix(name, "$") {
			continue // a label name inside by (...) or a number
		}
		if inside(stripped, m[2]) {
			continue // a label name or value inside {...} or by (...)
		}
		if externalSeries.MatchString(name) {
			continue
		}
		fam := fams[name]
		if fam == nil {
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if base := strings.TrimSuffix(name, suffix); base != name && fams[base] != nil && fams[base].GetType() == dto.MetricType_HISTOGRAM {
					fam = fams[base]
				}
			}
		}
		if fam == nil {
			errs = append(errs, fmt.Sprintf("series %s is not exported by the data plane (have %s)", name, familyNames(fams)))
			continue
		}
		if m[4] < 0 {
			continue
		}
		for _, lm := range matcherRe.FindAllStringSubmatch(stripped[m[4]:m[5]], -1) {
			if targetLabels[lm[1]] {
				continue
			}
			if !hasLabel(fam, lm[1]) {
				errs = append(errs, fmt.Sprintf("%s has no label %q", name, lm[1]))
			}
		}
	}
	return errs
}

// inside reports whether position i of s is within {...} or by/on (...),
// i.e. names a label rather than a series.
func inside(s string, i int) bool {
	if strings.LastIndex(s[:i], "{") > strings.LastIndex(s[:i], "}") {
		return true
	}
	open := strings.LastIndex(s[:i], "(")
	if open < 0 || strings.LastIndex(s[:i], ")") > open {
		return false
	}
	before := strings.TrimSpace(s[:open])
	for _, kw := range []string{"by", "on", "without", "ignoring"} {
		if strings.HasSuffix(before, kw) {
			return true
		}
	}
	return false
}

func hasLabel(f *dto.MetricFamily, label string) bool {
	for _, m := range f.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				return true
			}
		}
	}
	return false
}

func familyNames(fams map[string]*dto.MetricFamily) string {
	var names []string
	for n := range fams {
		if strings.HasPrefix(n, "kalamdb_") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func readRules(t *testing.T, data []byte) promRuleObject {
	t.Helper()
	var o promRuleObject
	if err := yaml.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestDataPlaneAlertRules: each alert has an expression over series the
// data plane exports (or Kubernetes' own), a valid `for`, a severity and a
// summary; the rule names are unique.
func TestDataPlaneAlertRules(t *testing.T) {
	fams := scrapeDataPlane(t)
	data, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "dataplane-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o := readRules(t, data)
	if o.Kind != "PrometheusRule" || len(o.Spec.Groups) == 0 {
		t.Fatalf("not a PrometheusRule with groups: %+v", o)
	}
	seen := map[string]bool{}
	n := 0
	for _, g := range o.Spec.Groups {
		for _, r := range g.Rules {
			n++
			where := g.Name + "/" + r.Alert
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("%s: missing or duplicate alert name", where)
			}
			seen[r.Alert] = true
			if _, err := time.ParseDuration(r.For); r.For != "" && err != nil {
				t.Errorf("%s: for %q: %v", where, r.For, err)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", where, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", where)
			}
			if strings.TrimSpace(r.Expr) == "" {
				t.Errorf("%s: no expr", where)
			}
			for _, e := range checkQuery(r.Expr, fams) {
				t.Errorf("%s: %s", where, e)
			}
		}
	}
	if n < 6 {
		t.Errorf("only %d data-plane alerts", n)
	}
	// The checker itself catches a wrong series and a wrong label.
	for _, bad := range []string{`rate(kalamdb_no_such_total[5m]) > 0`, `kalamdb_jobs{typo="x"} > 0`, `sum(rate(kalamdb_jobs[5m])`} {
		if len(checkQuery(bad, fams)) == 0 {
			t.Errorf("the query check accepts %s", bad)
		}
	}
}

// TestGrafanaDashboard: the dashboard is valid JSON with its variables, and
// every panel's query names series the data plane exports.
func TestGrafanaDashboard(t *testing.T) {
	fams := scrapeDataPlane(t)
	data, err := os.ReadFile(filepath.Join(root, "config", "grafana", "kalamdb-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if d.UID == "" || d.Title == "" || !vars["datasource"] || !vars["namespace"] || !vars["cluster"] || len(d.Panels) < 10 {
		t.Fatalf("dashboard uid %q title %q vars %v panels %d", d.UID, d.Title, vars, len(d.Panels))
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			expr := strings.NewReplacer("$__rate_interval", "5m", "$namespace", "x", "$cluster", "x").Replace(tg.Expr)
			for _, e := range checkQuery(expr, fams) {
				t.Errorf("panel %q: %s", p.Title, e)
			}
		}
	}
}

// TestChartDataPlaneMonitoring renders the chart with helm: the data-plane
// PodMonitor, PrometheusRule and dashboard ConfigMap appear only when
// enabled, carry exactly config/'s specs, and the PodMonitor follows
// watchNamespace in a namespaced install.
func TestChartDataPlaneMonitoring(t *testing.T) {
	for _, f := range []string{"prometheus/dataplane-podmonitor.yaml", "prometheus/dataplane-rules.yaml", "grafana/kalamdb-dashboard.json"} {
		a, _ := os.ReadFile(filepath.Join(root, "config", f))
		b, err := os.ReadFile(filepath.Join(root, "charts", "kalamdb-operator", "files", filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("charts/kalamdb-operator/files/%s differs from config/%s: run `make chart`", filepath.Base(f), f)
		}
	}
	if testing.Short() {
		t.Skip("builds helm on a fresh machine")
	}
	helm := tool(t, "helm")
	chart := "charts/kalamdb-operator"
	on := []string{"--set", "dataplane.monitoring.podMonitor.enabled=true", "--set", "dataplane.monitoring.prometheusRule.enabled=true",
		"--set", "dataplane.monitoring.grafanaDashboard.enabled=true", "--set", "dataplane.monitoring.grafanaDashboard.namespace=monitoring",
		"--set", "dataplane.monitoring.podMonitor.interval=15s"}
	run(t, helm, append([]string{"lint", "--strict", chart}, on...)...)
	out := run(t, helm, append([]string{"template", "kdb", chart, "--namespace", "kalamdb-system"}, on...)...)
	docs := splitDocs(t, out)
	pm, pr, cm := docs["PodMonitor/kdb-kalamdb-operator-dataplane"], docs["PrometheusRule/kdb-kalamdb-operator-dataplane"], docs["ConfigMap/kdb-kalamdb-operator-dashboard"]
	if pm == nil || pr == nil || cm == nil {
		t.Fatalf("helm template lacks the data-plane monitoring objects: %v", keys(docs))
	}
	want := readYAML(t, filepath.Join(root, "config", "prometheus", "dataplane-rules.yaml"))
	if !reflect.DeepEqual(pr["spec"], want["spec"]) {
		t.Errorf("the chart's PrometheusRule spec differs from config/prometheus/dataplane-rules.yaml")
	}
	pmSpec := pm["spec"].(map[string]any)
	ep := pmSpec["podMetricsEndpoints"].([]any)[0].(map[string]any)
	if ep["port"] != "http" || ep["path"] != "/metrics" || ep["interval"] != "15s" {
		t.Errorf("PodMonitor endpoint %v", ep)
	}
	// Pods of a cluster with spec.tls (labelled kalamdb.io/tls=true) are
	// scraped over https by the second endpoint, and only by it.
	if eps := pmSpec["podMetricsEndpoints"].([]any); len(eps) != 2 || eps[1].(map[string]any)["scheme"] != "https" || eps[1].(map[string]any)["interval"] != "15s" {
		t.Errorf("PodMonitor has no https endpoint for TLS clusters: %v", eps)
	}
	if ns := pmSpec["namespaceSelector"].(map[string]any); ns["any"] != true {
		t.Errorf("cluster-wide install: namespaceSelector %v", ns)
	}
	meta := cm["metadata"].(map[string]any)
	if meta["namespace"] != "monitoring" || meta["labels"].(map[string]any)["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap metadata %v", meta)
	}
	dash, _ := os.ReadFile(filepath.Join(root, "config", "grafana", "kalamdb-dashboard.json"))
	var got, exp any
	if err := json.Unmarshal([]byte(cm["data"].(map[string]any)["kalamdb-dashboard.json"].(string)), &got); err != nil {
		t.Fatalf("dashboard in the ConfigMap: %v", err)
	}
	_ = json.Unmarshal(dash, &exp)
	if !reflect.DeepEqual(got, exp) {
		t.Error("the ConfigMap's dashboard differs from config/grafana/kalamdb-dashboard.json")
	}

	// Namespaced install: the PodMonitor watches the one namespace.
	out = run(t, helm, append([]string{"template", "kdb", chart, "--namespace", "kalamdb-system", "--set", "watchNamespace=apps"}, on...)...)
	pm = splitDocs(t, out)["PodMonitor/kdb-kalamdb-operator-dataplane"]
	if ns := pm["spec"].(map[string]any)["namespaceSelector"]; !reflect.DeepEqual(ns, map[string]any{"matchNames": []any{"apps"}}) {
		t.Errorf("namespaced install: namespaceSelector %v", ns)
	}

	// Off by default.
	def := splitDocs(t, run(t, helm, "template", "kdb", chart))
	for k := range def {
		if strings.HasPrefix(k, "PodMonitor/") || strings.HasSuffix(k, "-dataplane") || strings.HasSuffix(k, "-dashboard") {
			t.Errorf("%s rendered by default", k)
		}
	}
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// splitDocs parses helm's output into "Kind/name" -> object.
func splitDocs(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	docs := map[string]map[string]any{}
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(d) == "" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("helm output: %v\n%s", err, d)
		}
		if m == nil {
			continue
		}
		meta, _ := m["metadata"].(map[string]any)
		docs[fmt.Sprintf("%v/%v", m["kind"], meta["name"])] = m
	}
	return docs
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
