package deploy_test

import (
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/driftload/driftload/deploy"
)

// indexedJob is a rendered deployment written out, so Decode and Command
// are tested without kubectl.
const indexedJob = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: ns
data:
  BASE_URL: http://127.0.0.1:8080
  START_AT: "2030-01-02T03:04:05Z"
---
# a comment-only document is no object
---
apiVersion: v1
kind: Secret
metadata:
  name: key
  namespace: ns
data:
  API_KEY: aHVudGVyMg==
stringData:
  OTHER: plain
---
apiVersion: batch/v1
kind: Job
metadata:
  name: seg
  namespace: ns
  labels:
    app.kubernetes.io/component: segment
spec:
  completionMode: Indexed
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: driftload
        image: driftload
        args: ["load", "--segment", "$(JOB_COMPLETION_INDEX)/2", "--start-at", "$(START_AT)",
               "--out", "/results/part-$(JOB_COMPLETION_INDEX).json", "--tag", "$$(literal)", "$(UNDEFINED)"]
        envFrom:
        - prefix: CFG_
          configMapRef: {name: cfg}
        env:
        - name: START_AT
          valueFrom: {configMapKeyRef: {name: cfg, key: START_AT}}
        - name: BASE_URL
          valueFrom: {configMapKeyRef: {name: cfg, key: BASE_URL}}
        - name: API_KEY
          valueFrom: {secretKeyRef: {name: key, key: API_KEY}}
        - name: OTHER
          valueFrom: {secretKeyRef: {name: key, key: OTHER}}
        - name: MISSING
          valueFrom: {secretKeyRef: {name: nope, key: X, optional: true}}
        - name: NS
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - name: DERIVED
          value: "$(BASE_URL)/v1"
---
apiVersion: batch/v1
kind: Job
metadata:
  name: merge
  namespace: ns
  labels:
    app.kubernetes.io/component: merge
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: driftload
        image: driftload
        args: [merge, /results/part-0.json, /results/part-1.json, -o, /results/merged.json]
`

func TestDecodeIsStrict(t *testing.T) {
	const job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n"
	tests := []struct {
		name, yaml string
		want       string // part of the error; "" for none
	}{
		{"valid", job + "  completions: 3\n", ""},
		{"misspelt field", job + "  completion: 3\n", `document 1 (Job j): error unmarshaling JSON: while decoding JSON: json: unknown field "completion"`},
		{"unknown nested field", job + "  template:\n    spec:\n      containers:\n      - name: c\n        argz: [x]\n", `unknown field "argz"`},
		{"field given twice", job + "  completions: 3\n  completions: 4\n", `key "completions" already set in map`},
		{"wrong type", job + "  completions: \"3\"\n", "cannot unmarshal string into Go struct field JobSpec.spec.completions of type int32"},
		{"bad quantity", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p}\nspec:\n  resources: {requests: {storage: lots}}\n", "quantities must match the regular expression"},
		{"unknown kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n", `document 1 (Deployment d): unexpected apiVersion "apps/v1" kind "Deployment"`},
		{"kind under another group", "apiVersion: batch/v1beta1\nkind: Job\nmetadata: {name: j}\n", `unexpected apiVersion "batch/v1beta1" kind "Job"`},
		{"second document counted", "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n---\n" + job + "  paralelism: 1\n", `document 2 (Job j)`},
		{"not YAML", "apiVersion: [\n", "document 1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy.Decode([]byte(tt.yaml))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Decode: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Decode: no error, want one containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Decode: %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeSplitsDocuments(t *testing.T) {
	o, err := deploy.Decode([]byte(indexedJob))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.ConfigMaps) != 1 || len(o.Secrets) != 1 || len(o.Jobs) != 2 || len(o.Claims) != 0 || len(o.Namespaces) != 0 {
		t.Fatalf("decoded %d ConfigMaps, %d Secrets, %d Jobs, %d claims, %d namespaces; want 1, 1, 2, 0, 0",
			len(o.ConfigMaps), len(o.Secrets), len(o.Jobs), len(o.Claims), len(o.Namespaces))
	}
	if got := string(o.Secrets[0].Data["API_KEY"]); got != "hunter2" {
		t.Errorf("secret data decoded to %q, want the base64-decoded hunter2", got)
	}
}

func TestExpandFollowsTheKubelet(t *testing.T) {
	env := map[string]string{"A": "1", "B": "two", "EMPTY": ""}
	tests := []struct{ in, want string }{
		{"$(A)", "1"},
		{"x$(A)y$(B)z", "x1ytwoz"},
		{"$(A)/$(B)", "1/two"},
		{"$(EMPTY)", ""},
		{"$(UNDEFINED)", "$(UNDEFINED)"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$1"},
		{"$$", "$"},
		{"$A", "$A"},
		{"$", "$"},
		{"a$", "a$"},
		{"$(A", "$(A"},
		{"$()", "$()"},
		{"$((A))", "$((A))"},
		{"no references", "no references"},
	}
	for _, tt := range tests {
		if got := deploy.Expand(tt.in, env); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCommandIsWhatThePodRuns(t *testing.T) {
	o, err := deploy.Decode([]byte(indexedJob))
	if err != nil {
		t.Fatal(err)
	}
	seg, err := o.Job(deploy.SegmentComponent)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		index    int
		override map[string]string
		args     []string
		env      map[string]string // a subset of the environment
	}{
		{
			name: "index 0", index: 0,
			args: []string{"load", "--segment", "0/2", "--start-at", "2030-01-02T03:04:05Z", "--out", "/results/part-0.json", "--tag", "$(literal)", "$(UNDEFINED)"},
			env: map[string]string{
				"JOB_COMPLETION_INDEX": "0", "API_KEY": "hunter2", "OTHER": "plain", "NS": "ns",
				"BASE_URL": "http://127.0.0.1:8080", "CFG_BASE_URL": "http://127.0.0.1:8080", "DERIVED": "http://127.0.0.1:8080/v1",
			},
		},
		{
			name: "index 1, start and target overridden", index: 1,
			override: map[string]string{"START_AT": "2031-01-01T00:00:00Z", "BASE_URL": "http://127.0.0.2:1"},
			args:     []string{"load", "--segment", "1/2", "--start-at", "2031-01-01T00:00:00Z", "--out", "/results/part-1.json", "--tag", "$(literal)", "$(UNDEFINED)"},
			env:      map[string]string{"JOB_COMPLETION_INDEX": "1", "BASE_URL": "http://127.0.0.2:1", "DERIVED": "http://127.0.0.2:1/v1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := o.Command(seg, tt.index, tt.override)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cmd.Args, tt.args) {
				t.Errorf("args\n got %q\nwant %q", cmd.Args, tt.args)
			}
			for k, want := range tt.env {
				if got, ok := cmd.Env[k]; !ok || got != want {
					t.Errorf("env %s = %q (set %t), want %q", k, got, ok, want)
				}
			}
			if _, ok := cmd.Env["MISSING"]; ok {
				t.Error("an optional reference to a missing Secret set MISSING")
			}
		})
	}
}

func TestCommandRefusesWhatNoPodWouldRun(t *testing.T) {
	o, err := deploy.Decode([]byte(indexedJob))
	if err != nil {
		t.Fatal(err)
	}
	seg, _ := o.Job(deploy.SegmentComponent)
	merge, _ := o.Job(deploy.MergeComponent)

	withCommand := seg.DeepCopy()
	withCommand.Spec.Template.Spec.Containers[0].Command = []string{"/bin/sh"}
	missingKey := seg.DeepCopy()
	missingKey.Spec.Template.Spec.Containers[0].Env[2].ValueFrom.SecretKeyRef.Name = "absent"
	noContainer := seg.DeepCopy()
	noContainer.Spec.Template.Spec.Containers[0].Name = "other"

	tests := []struct {
		name     string
		job      *batchv1.Job
		index    int
		override map[string]string
		want     string
	}{
		{"index beyond completions", seg, 2, nil, "job seg: no pod index 2 (completions 2, indexed true)"},
		{"negative index", seg, -1, nil, "no pod index -1"},
		{"index of a job that is not Indexed", merge, 1, nil, "job merge: no pod index 1 (completions 1, indexed false)"},
		{"entrypoint replaced", withCommand, 0, nil, `sets command ["/bin/sh"], replacing the image's ENTRYPOINT`},
		{"a Secret not rendered", missingKey, 0, nil, `env API_KEY: no Secret "absent"`},
		{"no driftload container", noContainer, 0, nil, `job seg: no container named "driftload"`},
		{"index overridden", seg, 0, map[string]string{"JOB_COMPLETION_INDEX": "5"}, "override cannot set JOB_COMPLETION_INDEX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := o.Command(tt.job, tt.index, tt.override)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Command: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPodArgsAndMergeArgs(t *testing.T) {
	rendered := []byte(indexedJob)
	got, err := deploy.PodArgs(rendered, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"load", "--segment", "1/2", "--start-at", "2030-01-02T03:04:05Z", "--out", "/results/part-1.json", "--tag", "$(literal)", "$(UNDEFINED)"}
	if !slices.Equal(got, want) {
		t.Errorf("PodArgs(1)\n got %q\nwant %q", got, want)
	}
	got, err = deploy.MergeArgs(rendered)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"merge", "/results/part-0.json", "/results/part-1.json", "-o", "/results/merged.json"}
	if !slices.Equal(got, want) {
		t.Errorf("MergeArgs\n got %q\nwant %q", got, want)
	}
	if _, err := deploy.PodArgs([]byte(strings.ReplaceAll(indexedJob, "component: segment", "component: other")), 0); err == nil ||
		!strings.Contains(err.Error(), "no Job labelled app.kubernetes.io/component=segment") {
		t.Errorf("PodArgs without a segments Job: %v", err)
	}
	if _, err := deploy.MergeArgs([]byte(strings.ReplaceAll(indexedJob, "component: segment", "component: merge"))); err == nil ||
		!strings.Contains(err.Error(), "two Jobs labelled app.kubernetes.io/component=merge: seg and merge") {
		t.Errorf("MergeArgs with two merge Jobs: %v", err)
	}
}
