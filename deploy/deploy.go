// Package deploy reads what the kustomizations under deploy/kubernetes render
// to. Decode takes the rendered YAML strictly into the Kubernetes API types
// (an unknown or misspelt field is an error, as it is to the API server with
// strict field validation); Command builds the command line and environment
// that one pod of a Job runs, as the Job controller and the kubelet would:
// JOB_COMPLETION_INDEX set for its index, every env var resolved from its
// value, ConfigMap or Secret, and $(VAR) references in the args expanded.
// So a test can check the manifests, and run what a pod would run, without a
// cluster.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The label that tells the Jobs of a deployment apart, and its values.
const (
	ComponentLabel   = "app.kubernetes.io/component"
	SegmentComponent = "segment" // the Indexed Job: one pod a segment
	MergeComponent   = "merge"   // the Job that merges the parts
)

// ContainerName is the container that runs driftload in every pod.
const ContainerName = "driftload"

// CompletionIndexEnv is the variable the Job controller sets in every
// container of an Indexed Job's pods, from completionIndexAnnotation.
const CompletionIndexEnv = "JOB_COMPLETION_INDEX"

const completionIndexAnnotation = "batch.kubernetes.io/job-completion-index"

// ErrNoKubectl is returned by Render when kubectl is not on the PATH.
var ErrNoKubectl = errors.New("kubectl not found on PATH")

// Objects are the rendered manifests, by kind, in the order rendered.
type Objects struct {
	Namespaces []corev1.Namespace
	ConfigMaps []corev1.ConfigMap
	Secrets    []corev1.Secret
	Claims     []corev1.PersistentVolumeClaim
	Jobs       []batchv1.Job
}

// Command is what one pod of a Job runs.
type Command struct {
	// Args are the arguments given to the image's ENTRYPOINT, /driftload,
	// with $(VAR) references expanded: run them as
	// exec.Command(driftloadBinary, cmd.Args...).
	Args []string
	// Env is the container's environment as the kubelet sets it (beside
	// the image's PATH), JOB_COMPLETION_INDEX included for an Indexed Job.
	Env map[string]string
}

// Render runs kubectl kustomize on dir and returns the rendered YAML. It
// needs no cluster and no network when the kustomization has only local
// resources. ErrNoKubectl (errors.Is) when kubectl is missing.
func Render(dir string) ([]byte, error) {
	path, err := exec.LookPath("kubectl")
	if err != nil {
		return nil, ErrNoKubectl
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path, "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kubectl kustomize %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Decode splits rendered into its YAML documents and decodes each strictly
// into the API type its apiVersion and kind name: an unknown field, a field
// given twice, a value of the wrong type or a kind other than Namespace,
// ConfigMap, Secret, PersistentVolumeClaim (v1) and Job (batch/v1) is an
// error naming the document.
func Decode(rendered []byte) (*Objects, error) {
	var o Objects
	for i, doc := range splitDocuments(rendered) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("document %d: %v", i+1, err)
		}
		what := fmt.Sprintf("document %d (%s %s)", i+1, head.Kind, head.Metadata.Name)
		var err error
		switch head.APIVersion + " " + head.Kind {
		case "v1 Namespace":
			o.Namespaces, err = appendStrict(o.Namespaces, doc)
		case "v1 ConfigMap":
			o.ConfigMaps, err = appendStrict(o.ConfigMaps, doc)
		case "v1 Secret":
			o.Secrets, err = appendStrict(o.Secrets, doc)
		case "v1 PersistentVolumeClaim":
			o.Claims, err = appendStrict(o.Claims, doc)
		case "batch/v1 Job":
			o.Jobs, err = appendStrict(o.Jobs, doc)
		default:
			return nil, fmt.Errorf("%s: unexpected apiVersion %q kind %q (want v1 Namespace, ConfigMap, Secret, PersistentVolumeClaim or batch/v1 Job)",
				what, head.APIVersion, head.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", what, err)
		}
	}
	return &o, nil
}

// appendStrict decodes doc strictly into a new T and appends it to list.
func appendStrict[T any](list []T, doc []byte) ([]T, error) {
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return list, err
	}
	return append(list, v), nil
}

// splitDocuments cuts a YAML stream at its "---" lines and drops documents
// that hold only blank lines and comments.
func splitDocuments(stream []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	content := false
	flush := func() {
		if content {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
		content = false
	}
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(make([]byte, 64*1024), len(stream)+1)
	for sc.Scan() {
		line := sc.Text()
		if line == "---" || strings.HasPrefix(line, "--- ") {
			flush()
			continue
		}
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			content = true
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

// Job returns the one Job labelled ComponentLabel=component.
func (o *Objects) Job(component string) (*batchv1.Job, error) {
	var found *batchv1.Job
	for i := range o.Jobs {
		if o.Jobs[i].Labels[ComponentLabel] != component {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("two Jobs labelled %s=%s: %s and %s", ComponentLabel, component, found.Name, o.Jobs[i].Name)
		}
		found = &o.Jobs[i]
	}
	if found == nil {
		return nil, fmt.Errorf("no Job labelled %s=%s", ComponentLabel, component)
	}
	return found, nil
}

// Container returns the driftload container of job's pods.
func Container(job *batchv1.Job) (*corev1.Container, error) {
	cs := job.Spec.Template.Spec.Containers
	for i := range cs {
		if cs[i].Name == ContainerName {
			return &cs[i], nil
		}
	}
	return nil, fmt.Errorf("job %s: no container named %q", job.Name, ContainerName)
}

// Command returns what pod index of job runs. index must be below the
// completions of an Indexed Job, and 0 for any other. A reference that the
// kubelet could not resolve (a ConfigMap, Secret or key not in o, unless
// optional) is an error, as the pod would not start. override sets
// environment variables instead of resolving them, before the args are
// expanded, as a test aiming the pods elsewhere needs (BASE_URL, START_AT,
// or an API_KEY whose Secret is created by hand); it cannot set
// JOB_COMPLETION_INDEX.
func (o *Objects) Command(job *batchv1.Job, index int, override map[string]string) (Command, error) {
	if _, ok := override[CompletionIndexEnv]; ok {
		return Command{}, fmt.Errorf("override cannot set %s: it is the pod's index", CompletionIndexEnv)
	}
	indexed := job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
	completions := 1
	if job.Spec.Completions != nil {
		completions = int(*job.Spec.Completions)
	}
	if index < 0 || index >= completions || (!indexed && index != 0) {
		return Command{}, fmt.Errorf("job %s: no pod index %d (completions %d, indexed %t)", job.Name, index, completions, indexed)
	}
	c, err := Container(job)
	if err != nil {
		return Command{}, err
	}
	if len(c.Command) > 0 {
		return Command{}, fmt.Errorf("job %s: container %s sets command %q, replacing the image's ENTRYPOINT /driftload", job.Name, c.Name, c.Command)
	}
	env := map[string]string{}
	for _, src := range c.EnvFrom {
		if err := o.envFrom(job.Namespace, src, env); err != nil {
			return Command{}, fmt.Errorf("job %s: %v", job.Name, err)
		}
	}
	vars := c.Env
	if indexed && !slices.ContainsFunc(vars, func(v corev1.EnvVar) bool { return v.Name == CompletionIndexEnv }) {
		// The Job controller appends the variable to every container of
		// the pods it creates, reading the pod's index annotation.
		vars = append(slices.Clone(vars), corev1.EnvVar{Name: CompletionIndexEnv, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + completionIndexAnnotation + "']"},
		}})
	}
	for _, v := range vars {
		if val, ok := override[v.Name]; ok {
			// In place, for the values that refer to it; not resolved, so
			// a Secret created by hand need not be rendered.
			env[v.Name] = val
			continue
		}
		val, ok, err := o.envValue(job, index, indexed, v, env)
		if err != nil {
			return Command{}, fmt.Errorf("job %s: env %s: %v", job.Name, v.Name, err)
		}
		if ok {
			env[v.Name] = val
		}
	}
	for k, v := range override {
		env[k] = v
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = Expand(a, env)
	}
	return Command{Args: args, Env: env}, nil
}

// envFrom adds the keys of one envFrom source to env.
func (o *Objects) envFrom(ns string, src corev1.EnvFromSource, env map[string]string) error {
	switch {
	case src.ConfigMapRef != nil:
		cm := o.configMap(ns, src.ConfigMapRef.Name)
		if cm == nil {
			if optional(src.ConfigMapRef.Optional) {
				return nil
			}
			return fmt.Errorf("envFrom: no ConfigMap %q", src.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[src.Prefix+k] = v
		}
	case src.SecretRef != nil:
		s := o.secret(ns, src.SecretRef.Name)
		if s == nil {
			if optional(src.SecretRef.Optional) {
				return nil
			}
			return fmt.Errorf("envFrom: no Secret %q", src.SecretRef.Name)
		}
		for k, v := range secretData(s) {
			env[src.Prefix+k] = v
		}
	default:
		return errors.New("envFrom: neither configMapRef nor secretRef")
	}
	return nil
}

// envValue resolves one env var as the kubelet does; ok is false for an
// optional reference to a missing ConfigMap, Secret or key (the variable is
// then not set).
func (o *Objects) envValue(job *batchv1.Job, index int, indexed bool, v corev1.EnvVar, env map[string]string) (val string, ok bool, err error) {
	if v.ValueFrom == nil {
		return Expand(v.Value, env), true, nil
	}
	switch from := v.ValueFrom; {
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm := o.configMap(job.Namespace, ref.Name)
		if cm != nil {
			if val, ok := cm.Data[ref.Key]; ok {
				return val, true, nil
			}
		}
		if optional(ref.Optional) {
			return "", false, nil
		}
		if cm == nil {
			return "", false, fmt.Errorf("no ConfigMap %q", ref.Name)
		}
		return "", false, fmt.Errorf("no key %q in ConfigMap %q", ref.Key, ref.Name)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s := o.secret(job.Namespace, ref.Name)
		if s != nil {
			if val, ok := secretData(s)[ref.Key]; ok {
				return val, true, nil
			}
		}
		if optional(ref.Optional) {
			return "", false, nil
		}
		if s == nil {
			return "", false, fmt.Errorf("no Secret %q (create it, or render one)", ref.Name)
		}
		return "", false, fmt.Errorf("no key %q in Secret %q", ref.Key, ref.Name)
	case from.FieldRef != nil:
		switch path := from.FieldRef.FieldPath; {
		case indexed && path == "metadata.annotations['"+completionIndexAnnotation+"']":
			return strconv.Itoa(index), true, nil
		case path == "metadata.namespace":
			return job.Namespace, true, nil
		default:
			return "", false, fmt.Errorf("fieldRef %s is known only on a cluster", path)
		}
	default:
		return "", false, errors.New("valueFrom is known only on a cluster (resourceFieldRef, fileKeyRef, ...)")
	}
}

func (o *Objects) configMap(ns, name string) *corev1.ConfigMap {
	for i := range o.ConfigMaps {
		if o.ConfigMaps[i].Name == name && o.ConfigMaps[i].Namespace == ns {
			return &o.ConfigMaps[i]
		}
	}
	return nil
}

func (o *Objects) secret(ns, name string) *corev1.Secret {
	for i := range o.Secrets {
		if o.Secrets[i].Name == name && o.Secrets[i].Namespace == ns {
			return &o.Secrets[i]
		}
	}
	return nil
}

// secretData is a Secret's values as the API server stores them: data,
// with stringData written over it.
func secretData(s *corev1.Secret) map[string]string {
	m := make(map[string]string, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		m[k] = string(v)
	}
	for k, v := range s.StringData {
		m[k] = v
	}
	return m
}

func optional(b *bool) bool { return b != nil && *b }

// Expand replaces the $(VAR) references in s by their values in env, with
// the kubelet's rules: $$ is a literal $, a reference to an undefined
// variable and an unclosed $( stay as written.
func Expand(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// PodArgs returns the arguments pod index of the segments Job (the one
// labelled ComponentLabel=SegmentComponent) in rendered gives /driftload,
// JOB_COMPLETION_INDEX substituted and every other reference resolved from
// the rendered ConfigMaps and Secrets.
func PodArgs(rendered []byte, index int) ([]string, error) {
	return componentArgs(rendered, SegmentComponent, index)
}

// MergeArgs returns the arguments the merge Job's pod gives /driftload.
func MergeArgs(rendered []byte) ([]string, error) {
	return componentArgs(rendered, MergeComponent, 0)
}

func componentArgs(rendered []byte, component string, index int) ([]string, error) {
	o, err := Decode(rendered)
	if err != nil {
		return nil, err
	}
	job, err := o.Job(component)
	if err != nil {
		return nil, err
	}
	cmd, err := o.Command(job, index, nil)
	if err != nil {
		return nil, err
	}
	return cmd.Args, nil
}
