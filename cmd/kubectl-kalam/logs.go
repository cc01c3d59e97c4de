package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// containerName is the data-plane container of the operator's pods.
const containerName = "kalamdb"

func logsCommand(_ *globalOptions) command {
	var pod string
	var follow, previous bool
	var tail int64
	return command{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&pod, "pod", "", "one pod (default: every pod of the cluster, lines prefixed with the pod name)")
			fs.BoolVar(&follow, "f", false, "follow the logs")
			fs.BoolVar(&follow, "follow", false, "follow the logs")
			fs.BoolVar(&previous, "previous", false, "logs of the previous (crashed) container")
			fs.Int64Var(&tail, "tail", -1, "lines from the end (-1: all)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			cluster, err := oneArg(args, "KalamCluster name")
			if err != nil {
				return err
			}
			pods := []string{pod}
			if pod == "" {
				if pods, err = clusterPods(ctx, e.client, e.namespace, cluster); err != nil {
					return err
				}
			}
			opts := &corev1.PodLogOptions{Container: containerName, Follow: follow, Previous: previous}
			if tail >= 0 {
				opts.TailLines = &tail
			}
			prefix := len(pods) > 1
			var mu sync.Mutex // one line at a time on stdout
			var wg sync.WaitGroup
			errs := make([]error, len(pods))
			for i, p := range pods {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = streamLogs(ctx, e, p, opts, prefix, &mu)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func clusterPods(ctx context.Context, c client.Client, ns, cluster string) ([]string, error) {
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{kalamv1.LabelCluster: cluster}); err != nil {
		return nil, fmt.Errorf("while listing the pods of %s: %w", cluster, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("cluster %s has no pods", cluster)
	}
	out := make([]string, len(list.Items))
	for i, p := range list.Items {
		out[i] = p.Name
	}
	return out, nil
}

func streamLogs(ctx context.Context, e *env, pod string, opts *corev1.PodLogOptions, prefix bool, mu *sync.Mutex) error {
	rc, err := e.clientset.CoreV1().Pods(e.namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return fmt.Errorf("while reading the logs of %s: %w", pod, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		mu.Lock()
		if prefix {
			fmt.Fprintf(e.out, "[%s] %s\n", pod, sc.Text())
		} else {
			fmt.Fprintln(e.out, sc.Text())
		}
		mu.Unlock()
	}
	if err := sc.Err(); err != nil && err != io.EOF && ctx.Err() == nil {
		return fmt.Errorf("while reading the logs of %s: %w", pod, err)
	}
	return nil
}
