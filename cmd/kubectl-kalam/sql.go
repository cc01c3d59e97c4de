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
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// The data plane's HTTP port and the credentials Secret the operator
// generates (controllers/kalamcluster_builders.go).
const (
	dataPlanePort     = 8080
	credentialsSuffix = "-credentials"
	rootPasswordKey   = "root-password"
	// passwordEnv holds the password of --user other than root.
	passwordEnv = "KALAM_PASSWORD"
)

func sqlCommand(_ *globalOptions) command {
	var endpoint, user, kalamNS string
	return command{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&endpoint, "endpoint", "", "data-plane URL (default: a port-forward to a ready pod of the cluster)")
			fs.StringVar(&user, "user", "root", "KalamDB user; root's password is read from the cluster's credentials Secret, others from $"+passwordEnv)
			fs.StringVar(&kalamNS, "kalam-namespace", "", "default KalamDB namespace of unqualified table names")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) < 1 {
				return fmt.Errorf("%w: sql needs a KalamCluster name", errUsage)
			}
			cluster := args[0]
			stmt := strings.TrimSpace(strings.Join(args[1:], " "))
			if stmt == "" {
				data, err := io.ReadAll(bufio.NewReader(e.stdin))
				if err != nil {
					return err
				}
				stmt = strings.TrimSpace(string(data))
			}
			if stmt == "" {
				return fmt.Errorf("%w: no SQL statement (pass it as an argument or on stdin)", errUsage)
			}
			password, err := userPassword(ctx, e.client, e.namespace, cluster, user)
			if err != nil {
				return err
			}
			tc, err := clusterTLS(ctx, e.client, e.namespace, cluster)
			if err != nil {
				return err
			}
			if endpoint == "" {
				url, stop, err := forwardToCluster(ctx, e, cluster)
				if err != nil {
					return err
				}
				defer stop()
				endpoint = url
				if tc != nil {
					endpoint = "https://" + strings.TrimPrefix(url, "http://")
				}
			}
			c := dpclient.New(endpoint)
			if tc != nil {
				c.HTTP.Transport.(*http.Transport).TLSClientConfig = tc
			}
			c.Namespace = kalamNS
			if _, err := c.Login(ctx, user, password); err != nil {
				return fmt.Errorf("while logging in as %s: %w", user, err)
			}
			res, err := c.SQL(ctx, stmt)
			if res != nil {
				printResults(e.out, res.Results)
			}
			if err != nil {
				return err
			}
			return nil
		},
	}
}

// userPassword is root's password from the Secret the operator generated,
// or another user's from the environment.
func userPassword(ctx context.Context, c client.Client, ns, cluster, user string) (string, error) {
	if user != "root" {
		pw, ok := os.LookupEnv(passwordEnv)
		if !ok {
			return "", fmt.Errorf("the password of user %s is read from $%s, which is not set", user, passwordEnv)
		}
		return pw, nil
	}
	var kc kalamv1.KalamCluster
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: cluster}, &kc); err != nil {
		return "", fmt.Errorf("while reading KalamCluster %s/%s: %w", ns, cluster, err)
	}
	var sec corev1.Secret
	name := cluster + credentialsSuffix
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &sec); err != nil {
		return "", fmt.Errorf("while reading the root password from Secret %s: %w", name, err)
	}
	pw := string(sec.Data[rootPasswordKey])
	if pw == "" {
		return "", fmt.Errorf("Secret %s has no %s", name, rootPasswordKey)
	}
	return pw, nil
}

// printResults prints each statement's rows as a table, or its message.
func printResults(w io.Writer, results []dpclient.Result) {
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if len(r.Schema) == 0 {
			fmt.Fprintln(w, orDefault(r.Message, "OK"))
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		names := make([]string, len(r.Schema))
		for j, f := range r.Schema {
			names[j] = f.Name
		}
		fmt.Fprintln(tw, strings.Join(names, "\t"))
		for _, row := range r.Rows {
			cells := make([]string, len(row))
			for j, v := range row {
				if v == nil {
					cells[j] = "NULL"
				} else {
					cells[j] = fmt.Sprint(v)
				}
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		_ = tw.Flush()
		fmt.Fprintf(w, "(%d rows)\n", len(r.Rows))
	}
}

// readyPod is a ready data-plane pod of the cluster.
func readyPod(ctx context.Context, c client.Client, ns, cluster string) (string, error) {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{kalamv1.LabelCluster: cluster}); err != nil {
		return "", fmt.Errorf("while listing the pods of %s: %w", cluster, err)
	}
	for _, p := range pods.Items {
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				return p.Name, nil
			}
		}
	}
	return "", fmt.Errorf("cluster %s has no ready pod (%d pods)", cluster, len(pods.Items))
}

// forwardToCluster port-forwards a loopback port to a ready pod's HTTP
// port, as `kubectl port-forward` does (the API server's pod proxy cannot
// be used: it takes the Authorization header for itself).
func forwardToCluster(ctx context.Context, e *env, cluster string) (string, func(), error) {
	pod, err := readyPod(ctx, e.client, e.namespace, cluster)
	if err != nil {
		return "", nil, err
	}
	transport, upgrader, err := spdy.RoundTripperFor(e.config)
	if err != nil {
		return "", nil, err
	}
	url := e.clientset.CoreV1().RESTClient().Post().Resource("pods").Namespace(e.namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stopCh, readyCh := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", dataPlanePort)}, stopCh, readyCh, io.Discard, e.errOut)
	if err != nil {
		return "", nil, fmt.Errorf("while port-forwarding to %s: %w", pod, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	stop := func() {
		close(stopCh)
		<-done
	}
	select {
	case <-readyCh:
	case err := <-done:
		return "", nil, fmt.Errorf("while port-forwarding to %s: %w", pod, err)
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		stop()
		return "", nil, errors.Join(errors.New("port-forward gave no local port"), err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", ports[0].Local), stop, nil
}
