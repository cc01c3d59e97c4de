package nodeagent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// pvLabel marks PersistentVolumes the agent created (and may delete).
const pvLabel = "kalamdb.io/e2e-agent-pv"

// mount is one bind mount of a host path at a container path.
type mount struct {
	src, dst string
	readOnly bool
	file     bool
}

// syncVolumes stands in for a dynamic provisioner: every pending claim gets a
// hostPath PersistentVolume pre-bound to it (claimRef), which the real
// persistentvolume-binder controller then binds. Released volumes (their
// claim was deleted) are deleted with their directory, like reclaimPolicy
// Delete would.
func (a *Agent) syncVolumes(ctx context.Context) {
	claims, err := a.pvcs.List(labels.Everything())
	if err != nil {
		return
	}
	for _, c := range claims {
		if c.Spec.VolumeName != "" || c.Status.Phase != corev1.ClaimPending || c.DeletionTimestamp != nil {
			continue
		}
		name := "e2e-pv-" + string(c.UID)
		if _, err := a.pvs.Get(name); err == nil {
			continue
		}
		size := c.Spec.Resources.Requests[corev1.ResourceStorage]
		if size.IsZero() {
			size = resource.MustParse("1Gi")
		}
		class := ""
		if c.Spec.StorageClassName != nil {
			class = *c.Spec.StorageClassName
		}
		modes := c.Spec.AccessModes
		if len(modes) == 0 {
			modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
		}
		dir := filepath.Join(a.opts.Dir, "volumes", name)
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{pvLabel: a.opts.NodeName}},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
				AccessModes:                   modes,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              class,
				VolumeMode:                    c.Spec.VolumeMode,
				ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace, Name: c.Name, UID: c.UID},
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}},
			},
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			a.opts.Logf("nodeagent: pv dir: %v", err)
			continue
		}
		if _, err := a.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			a.opts.Logf("nodeagent: create pv for %s/%s: %v", c.Namespace, c.Name, err)
			continue
		}
		a.opts.Logf("nodeagent: created %s for claim %s/%s", name, c.Namespace, c.Name)
	}
	sel := labels.SelectorFromSet(labels.Set{pvLabel: a.opts.NodeName})
	pvs, err := a.pvs.List(sel)
	if err != nil {
		return
	}
	for _, pv := range pvs {
		if pv.Status.Phase != corev1.VolumeReleased || pv.DeletionTimestamp != nil {
			continue
		}
		if err := a.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			a.opts.Logf("nodeagent: delete released %s: %v", pv.Name, err)
			continue
		}
		if pv.Spec.HostPath != nil && strings.HasPrefix(pv.Spec.HostPath.Path, a.opts.Dir) {
			_ = os.RemoveAll(pv.Spec.HostPath.Path)
		}
		a.opts.Logf("nodeagent: deleted released %s", pv.Name)
	}
}

// volumes materialises every volume of the pod as a host directory and
// returns them by volume name. A missing ConfigMap/Secret or an unbound claim
// is an error (the caller retries, as kubelet does in ContainerCreating).
func (a *Agent) volumes(pod *corev1.Pod, podDir string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(podDir, "volumes", v.Name)
		switch {
		case v.PersistentVolumeClaim != nil:
			claim, err := a.pvcs.PersistentVolumeClaims(pod.Namespace).Get(v.PersistentVolumeClaim.ClaimName)
			if err != nil {
				return nil, fmt.Errorf("volume %q: claim %q: %w", v.Name, v.PersistentVolumeClaim.ClaimName, err)
			}
			if claim.Status.Phase != corev1.ClaimBound || claim.Spec.VolumeName == "" {
				return nil, fmt.Errorf("volume %q: claim %q is not bound yet", v.Name, claim.Name)
			}
			pv, err := a.pvs.Get(claim.Spec.VolumeName)
			if err != nil {
				return nil, fmt.Errorf("volume %q: pv %q: %w", v.Name, claim.Spec.VolumeName, err)
			}
			if pv.Spec.HostPath == nil {
				return nil, fmt.Errorf("volume %q: pv %q is not a hostPath volume", v.Name, pv.Name)
			}
			if err := os.MkdirAll(pv.Spec.HostPath.Path, 0o750); err != nil {
				return nil, err
			}
			out[v.Name] = pv.Spec.HostPath.Path
		case v.ConfigMap != nil:
			cm, err := a.cms.ConfigMaps(pod.Namespace).Get(v.ConfigMap.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && v.ConfigMap.Optional != nil && *v.ConfigMap.Optional {
					cm = &corev1.ConfigMap{}
				} else {
					return nil, fmt.Errorf("volume %q: configmap %q: %w", v.Name, v.ConfigMap.Name, err)
				}
			}
			files := map[string][]byte{}
			for k, s := range cm.Data {
				files[k] = []byte(s)
			}
			for k, b := range cm.BinaryData {
				files[k] = b
			}
			if err := writeFiles(dir, files, v.ConfigMap.Items); err != nil {
				return nil, fmt.Errorf("volume %q: %w", v.Name, err)
			}
			out[v.Name] = dir
		case v.Secret != nil:
			s, err := a.secrets.Secrets(pod.Namespace).Get(v.Secret.SecretName)
			if err != nil {
				if apierrors.IsNotFound(err) && v.Secret.Optional != nil && *v.Secret.Optional {
					s = &corev1.Secret{}
				} else {
					return nil, fmt.Errorf("volume %q: secret %q: %w", v.Name, v.Secret.SecretName, err)
				}
			}
			files := map[string][]byte{}
			for k, b := range s.Data {
				files[k] = b
			}
			for k, v := range s.StringData {
				files[k] = []byte(v)
			}
			if err := writeFiles(dir, files, v.Secret.Items); err != nil {
				return nil, fmt.Errorf("volume %q: %w", v.Name, err)
			}
			out[v.Name] = dir
		case v.EmptyDir != nil:
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, err
			}
			out[v.Name] = dir
		default:
			// Projected, downwardAPI, hostPath, CSI...: not needed by the suite.
			// An empty directory keeps the mount valid; the pod is told by a
			// log line rather than failing.
			a.opts.Logf("nodeagent: pod %s/%s volume %q: unsupported source, mounting an empty dir", pod.Namespace, pod.Name, v.Name)
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, err
			}
			out[v.Name] = dir
		}
	}
	return out, nil
}

// writeFiles writes keys (or the selected items) into dir, each file
// atomically (tmp, fsync, rename) and only when its content changed, so a
// process reading a file never sees a partial write.
func writeFiles(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	paths := map[string][]byte{}
	if len(items) == 0 {
		for k, b := range data {
			paths[k] = b
		}
	} else {
		for _, it := range items {
			b, ok := data[it.Key]
			if !ok {
				return fmt.Errorf("key %q not found", it.Key)
			}
			paths[it.Path] = b
		}
	}
	for rel, b := range paths {
		p := filepath.Join(dir, filepath.Clean("/"+rel))
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		tmp := p + ".tmp"
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
		if err != nil {
			return err
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
	}
	return nil
}

// mounts turns a container's volumeMounts into bind mounts.
func mounts(c *corev1.Container, vols map[string]string) ([]mount, error) {
	var out []mount
	for _, vm := range c.VolumeMounts {
		src, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("container %q mounts unknown volume %q", c.Name, vm.Name)
		}
		m := mount{src: src, dst: vm.MountPath, readOnly: vm.ReadOnly}
		if vm.SubPath != "" {
			m.src = filepath.Join(src, filepath.Clean("/"+vm.SubPath))
			st, err := os.Stat(m.src)
			if os.IsNotExist(err) {
				if err := os.MkdirAll(m.src, 0o750); err != nil {
					return nil, err
				}
			} else if err != nil {
				return nil, err
			} else {
				m.file = !st.IsDir()
			}
		}
		out = append(out, m)
	}
	return shadowLast(out), nil
}

// shadowLast orders the bind mounts so that one whose destination hides
// another's source comes after it: the pod's directory lives under the
// host's /tmp, so an emptyDir mounted at /tmp first would hide the source
// of every volume bound after it. Otherwise the order is kept.
func shadowLast(ms []mount) []mount {
	hides := func(a, b mount) bool { // a's destination covers b's source
		return b.src == a.dst || strings.HasPrefix(b.src, strings.TrimRight(a.dst, "/")+"/")
	}
	var first, last []mount
	for i, a := range ms {
		shadows := false
		for j, b := range ms {
			if i != j && hides(a, b) {
				shadows = true
				break
			}
		}
		if shadows {
			last = append(last, a)
		} else {
			first = append(first, a)
		}
	}
	return append(first, last...)
}
