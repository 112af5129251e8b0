package deploy_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/driftload/driftload/deploy"
	"github.com/driftload/driftload/internal/scenario/all"
)

// The contract every kustomization under kubernetes/ keeps, checked on what
// kubectl kustomize renders: the objects a cluster would be given.
var kustomizations = []struct {
	dir       string
	test      string // the test the segments run
	segments  int
	startFlag string // --start-in or --start-at
	image     string
	namespace string // "" when the kustomization sets none
	// secret is whether the Secret with the API key is rendered (the base
	// leaves it to the user: kubectl create secret).
	secret bool
	// args are the segments' args for pod index 1 (index 0 when there is
	// one segment), references resolved.
	args []string
}{
	{
		dir: "kubernetes/base", test: "smoke", segments: 1, startFlag: "--start-in",
		image: "driftload",
		args:  []string{"smoke", "--segment", "0/1", "--start-in", "30s", "--out", "/results/part-0.json"},
	},
	{
		dir: "kubernetes/overlays/example", test: "load", segments: 3, startFlag: "--start-at",
		image: "registry.example.com/driftload:0.1.0", namespace: "driftload", secret: true,
		args: []string{"load", "--segment", "1/3", "--start-at", "2026-12-01T12:00:00Z", "--out", "/results/part-1.json"},
	},
}

const (
	resultsClaim = "driftload-results"
	resultsDir   = "/results"
)

func TestKustomizationsRenderTheContract(t *testing.T) {
	for _, k := range kustomizations {
		t.Run(k.dir, func(t *testing.T) {
			rendered, err := deploy.Render(k.dir)
			if errors.Is(err, deploy.ErrNoKubectl) {
				t.Skip("kubectl is not installed: the rendered manifests are not checked (kubectl kustomize renders them offline)")
			}
			if err != nil {
				t.Fatal(err)
			}
			o, err := deploy.Decode(rendered)
			if err != nil {
				t.Fatalf("rendered manifests do not decode strictly into the API types: %v", err)
			}
			seg := mustJob(t, o, deploy.SegmentComponent)
			merge := mustJob(t, o, deploy.MergeComponent)

			t.Run("segments Job is Indexed, N pods at once, each run once", func(t *testing.T) {
				s := seg.Spec
				if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
					t.Errorf("completionMode %v, want Indexed", deref(s.CompletionMode))
				}
				if deref(s.Completions) != int32(k.segments) || deref(s.Parallelism) != deref(s.Completions) {
					t.Errorf("completions %d parallelism %d, want both %d", deref(s.Completions), deref(s.Parallelism), k.segments)
				}
				if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 {
					t.Errorf("backoffLimitPerIndex %v, want 0: a segment must not run twice", deref(s.BackoffLimitPerIndex))
				}
				if s.BackoffLimit != nil {
					t.Errorf("backoffLimit %d set: a Job-wide limit terminates every segment when one fails its thresholds", *s.BackoffLimit)
				}
				if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("restartPolicy %q, want Never", s.Template.Spec.RestartPolicy)
				}
			})

			t.Run("segment args: the test, its segment of N, the start, its own part", func(t *testing.T) {
				c := mustContainer(t, seg)
				if len(c.Args) == 0 || c.Args[0] != k.test {
					t.Fatalf("args %q, want the %s test first", c.Args, k.test)
				}
				if _, ok := all.Lookup(c.Args[0]); !ok {
					t.Errorf("args[0] %q is not a driftload test", c.Args[0])
				}
				wantSeg := fmt.Sprintf("$(%s)/%d", deploy.CompletionIndexEnv, deref(seg.Spec.Completions))
				if v, ok := flagValue(c.Args, "--segment"); !ok || v != wantSeg {
					t.Errorf("args %q: --segment %q, want %q", c.Args, v, wantSeg)
				}
				wantOut := resultsDir + "/part-$(" + deploy.CompletionIndexEnv + ").json"
				if v, ok := flagValue(c.Args, "--out"); !ok || v != wantOut {
					t.Errorf("args %q: --out %q, want %q", c.Args, v, wantOut)
				}
				if _, ok := flagValue(c.Args, k.startFlag); !ok {
					t.Errorf("args %q: no %s", c.Args, k.startFlag)
				}
				for _, a := range c.Args {
					if strings.HasPrefix(a, "--api-key") {
						t.Errorf("args %q: the API key is given on the command line (%s), not from the Secret", c.Args, a)
					}
				}
			})

			t.Run("API key from a Secret, target from a ConfigMap, every reference rendered", func(t *testing.T) {
				c := mustContainer(t, seg)
				env := envByName(c)
				key := env["API_KEY"]
				if key.ValueFrom == nil || key.ValueFrom.SecretKeyRef == nil || key.Value != "" {
					t.Errorf("API_KEY %+v, want a secretKeyRef", key)
				}
				base := env["BASE_URL"]
				if base.ValueFrom == nil || base.ValueFrom.ConfigMapKeyRef == nil {
					t.Errorf("BASE_URL %+v, want a configMapKeyRef", base)
				}
				if _, ok := env[deploy.CompletionIndexEnv]; ok {
					t.Errorf("env sets %s: the Job controller sets it", deploy.CompletionIndexEnv)
				}
				for _, v := range c.Env {
					if v.ValueFrom == nil {
						continue
					}
					if r := v.ValueFrom.ConfigMapKeyRef; r != nil {
						if _, ok := configMap(o, seg.Namespace, r.Name).Data[r.Key]; !ok {
							t.Errorf("env %s: ConfigMap %q key %q is not rendered", v.Name, r.Name, r.Key)
						}
					}
					if r := v.ValueFrom.SecretKeyRef; r != nil && k.secret {
						if _, ok := secret(o, seg.Namespace, r.Name).Data[r.Key]; !ok {
							t.Errorf("env %s: Secret %q key %q is not rendered", v.Name, r.Name, r.Key)
						}
					}
				}
				if !k.secret && len(o.Secrets) > 0 {
					t.Errorf("%d Secrets rendered, want none (the key is the user's)", len(o.Secrets))
				}
				if k.startFlag == "--start-at" {
					v, _ := flagValue(c.Args, "--start-at")
					cmd, err := o.Command(seg, 0, nil)
					if err != nil {
						t.Fatal(err)
					}
					at, _ := flagValue(cmd.Args, "--start-at")
					if _, err := time.Parse(time.RFC3339, at); err != nil {
						t.Errorf("--start-at %s resolves to %q, not an RFC 3339 instant: %v", v, at, err)
					}
				}
			})

			t.Run("merge Job: suspended, run once, every part listed", func(t *testing.T) {
				s := merge.Spec
				if s.Suspend == nil || !*s.Suspend {
					t.Errorf("suspend %v, want true: it must not start before the segments have written their parts", deref(s.Suspend))
				}
				if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
					t.Errorf("backoffLimit %v, want 0: a verdict is not retried", deref(s.BackoffLimit))
				}
				if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("restartPolicy %q, want Never", s.Template.Spec.RestartPolicy)
				}
				want := []string{"merge"}
				for i := range int(deref(seg.Spec.Completions)) {
					want = append(want, fmt.Sprintf("%s/part-%d.json", resultsDir, i))
				}
				want = append(want, "-o", resultsDir+"/merged.json")
				if got := mustContainer(t, merge).Args; !slices.Equal(got, want) {
					t.Errorf("merge args\n got %q\nwant %q", got, want)
				}
			})

			t.Run("results on one ReadWriteMany claim, mounted at /results in every pod", func(t *testing.T) {
				var pvc *corev1.PersistentVolumeClaim
				for i := range o.Claims {
					if o.Claims[i].Name == resultsClaim {
						pvc = &o.Claims[i]
					}
				}
				if pvc == nil {
					t.Fatalf("no PersistentVolumeClaim %s rendered", resultsClaim)
				}
				if !slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) {
					t.Errorf("claim access modes %v, want [ReadWriteMany]: segments run on several nodes", pvc.Spec.AccessModes)
				}
				if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
					t.Error("claim requests no storage")
				}
				for _, job := range []*batchv1.Job{seg, merge} {
					if got := resultsMount(job); got != resultsDir {
						t.Errorf("job %s: claim %s mounted at %q, want %s", job.Name, resultsClaim, got, resultsDir)
					}
				}
			})

			t.Run("pods are locked down and sized", func(t *testing.T) {
				for _, job := range []*batchv1.Job{seg, merge} {
					checkPodSecurity(t, job)
				}
			})

			t.Run("image and namespace", func(t *testing.T) {
				for _, job := range []*batchv1.Job{seg, merge} {
					if got := mustContainer(t, job).Image; got != k.image {
						t.Errorf("job %s: image %q, want %q", job.Name, got, k.image)
					}
				}
				for _, ns := range namespaces(o) {
					if ns != k.namespace {
						t.Errorf("an object in namespace %q, want %q", ns, k.namespace)
					}
				}
				if k.namespace != "" {
					if len(o.Namespaces) != 1 || o.Namespaces[0].Name != k.namespace {
						t.Fatalf("namespaces rendered %v, want %s", o.Namespaces, k.namespace)
					}
					if got := o.Namespaces[0].Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
						t.Errorf("namespace enforces pod security %q, want restricted", got)
					}
				}
			})

			t.Run("PodArgs: what each segment's pod runs", func(t *testing.T) {
				n := k.segments
				for i := range n {
					args, err := deploy.PodArgs(rendered, i)
					if !k.secret {
						// The pod would not start before the user creates
						// the Secret; a test provides the key.
						if err == nil {
							t.Fatalf("PodArgs(%d) without the Secret: no error", i)
						}
						var cmd deploy.Command
						cmd, err = o.Command(seg, i, map[string]string{"API_KEY": "test-key"})
						args = cmd.Args
					}
					if err != nil {
						t.Fatal(err)
					}
					for _, a := range args {
						if strings.Contains(a, "$(") {
							t.Errorf("pod %d: %q left unexpanded in %q", i, a, args)
						}
					}
					if v, _ := flagValue(args, "--segment"); v != fmt.Sprintf("%d/%d", i, n) {
						t.Errorf("pod %d: --segment %q, want %d/%d", i, v, i, n)
					}
					if v, _ := flagValue(args, "--out"); v != fmt.Sprintf("%s/part-%d.json", resultsDir, i) {
						t.Errorf("pod %d: --out %q", i, v)
					}
				}
				i := min(1, n-1)
				cmd, err := o.Command(seg, i, map[string]string{"API_KEY": "test-key"})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(cmd.Args, k.args) {
					t.Errorf("pod %d args\n got %q\nwant %q", i, cmd.Args, k.args)
				}
				if cmd.Env["BASE_URL"] == "" || cmd.Env["API_KEY"] == "" || cmd.Env[deploy.CompletionIndexEnv] != fmt.Sprint(i) {
					t.Errorf("pod %d env %v: want BASE_URL, API_KEY and %s=%d", i, cmd.Env, deploy.CompletionIndexEnv, i)
				}
				if _, err := deploy.PodArgs(rendered, n); err == nil {
					t.Errorf("PodArgs(%d) of %d segments: no error", n, n)
				}
				if _, err := deploy.MergeArgs(rendered); err != nil {
					t.Errorf("MergeArgs: %v", err)
				}
			})
		})
	}
}

// checkPodSecurity asserts the pod settings of the "restricted" Pod Security
// Standard, and requests and limits for CPU and memory in every container.
func checkPodSecurity(t *testing.T, job *batchv1.Job) {
	t.Helper()
	pod := job.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("job %s: pod securityContext.runAsNonRoot not true", job.Name)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("job %s: pod seccompProfile not RuntimeDefault", job.Name)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("job %s: the service account token is mounted; driftload does not talk to the API server", job.Name)
	}
	if len(pod.InitContainers) > 0 {
		t.Errorf("job %s: init containers %v: not checked here", job.Name, pod.InitContainers)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("job %s container %s: no securityContext", job.Name, c.Name)
			continue
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("job %s container %s: root filesystem writable", job.Name, c.Name)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("job %s container %s: privilege escalation allowed", job.Name, c.Name)
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("job %s container %s: capabilities %+v, want drop [ALL] and none added", job.Name, c.Name, sc.Capabilities)
		}
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[name]
			lim, okLim := c.Resources.Limits[name]
			if !okReq || !okLim || req.Cmp(lim) > 0 || req.Sign() <= 0 {
				t.Errorf("job %s container %s: %s request %v limit %v, want both, 0 < request <= limit", job.Name, c.Name, name, req.String(), lim.String())
			}
		}
		for name := range c.Resources.Limits {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory && name != corev1.ResourceEphemeralStorage {
				t.Errorf("job %s container %s: unknown resource %q", job.Name, c.Name, name)
			}
		}
	}
}

// resultsMount is where job's driftload container mounts the results claim.
func resultsMount(job *batchv1.Job) string {
	var vol string
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == resultsClaim {
			vol = v.Name
		}
	}
	for _, c := range job.Spec.Template.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if c.Name == deploy.ContainerName && vol != "" && m.Name == vol && !m.ReadOnly {
				return m.MountPath
			}
		}
	}
	return ""
}

func namespaces(o *deploy.Objects) []string {
	var ns []string
	for _, c := range o.ConfigMaps {
		ns = append(ns, c.Namespace)
	}
	for _, s := range o.Secrets {
		ns = append(ns, s.Namespace)
	}
	for _, p := range o.Claims {
		ns = append(ns, p.Namespace)
	}
	for _, j := range o.Jobs {
		ns = append(ns, j.Namespace)
	}
	return ns
}

func configMap(o *deploy.Objects, ns, name string) corev1.ConfigMap {
	for _, c := range o.ConfigMaps {
		if c.Namespace == ns && c.Name == name {
			return c
		}
	}
	return corev1.ConfigMap{}
}

func secret(o *deploy.Objects, ns, name string) corev1.Secret {
	for _, s := range o.Secrets {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return corev1.Secret{}
}

func mustJob(t *testing.T, o *deploy.Objects, component string) *batchv1.Job {
	t.Helper()
	job, err := o.Job(component)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func mustContainer(t *testing.T, job *batchv1.Job) *corev1.Container {
	t.Helper()
	c, err := deploy.Container(job)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func envByName(c *corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, v := range c.Env {
		m[v.Name] = v
	}
	return m
}

// flagValue returns the value after flag in args ("--flag value" or
// "--flag=value").
func flagValue(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
