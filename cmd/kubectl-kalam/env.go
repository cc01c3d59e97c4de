package main

import (
	"flag"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// globalOptions are kubectl's own connection flags.
type globalOptions struct {
	namespace  string
	kubeconfig string
	context    string
}

func (o *globalOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.namespace, "namespace", "", "Kubernetes namespace")
	fs.StringVar(&o.namespace, "n", "", "Kubernetes namespace (shorthand)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file")
	fs.StringVar(&o.context, "context", "", "kubeconfig context")
}

// env is what every command works with.
type env struct {
	namespace string
	config    *rest.Config
	client    client.Client
	clientset kubernetes.Interface
	stdin     io.Reader
	out       io.Writer
	errOut    io.Writer
}

// env loads the kubeconfig the way kubectl does ($KUBECONFIG, then
// ~/.kube/config; --kubeconfig and --context override).
func (o *globalOptions) env(stdin io.Reader, stdout, stderr io.Writer) (*env, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.kubeconfig != "" {
		rules.ExplicitPath = o.kubeconfig
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("while loading the kubeconfig: %w", err)
	}
	ns := o.namespace
	if ns == "" {
		if ns, _, err = loader.Namespace(); err != nil {
			return nil, fmt.Errorf("while reading the kubeconfig's namespace: %w", err)
		}
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(kalamv1.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("while connecting to the API server: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &env{namespace: ns, config: cfg, client: c, clientset: cs, stdin: stdin, out: stdout, errOut: stderr}, nil
}
