package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftload/driftload/deploy"
)

// netnsHosts makes a small network on this machine: a bridge and one
// network namespace per host, each with its address on the bridge. It needs
// root and iproute2; the test skips without them. Everything is removed at
// the end.
func netnsHosts(t *testing.T, names ...string) map[string]string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network namespaces need iproute2's ip")
	}
	suffix := fmt.Sprintf("%d", os.Getpid()%10000)
	bridge := "dlbr" + suffix
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Skipf("ip %s: %v: %s (no network namespaces here)", strings.Join(args, " "), err, out)
		}
	}
	run("link", "add", bridge, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", bridge).Run() })
	subnet := fmt.Sprintf("10.213.%d", os.Getpid()%200)
	// The test itself (root namespace) reaches the hosts over the bridge.
	run("addr", "add", subnet+".1/24", "dev", bridge)
	run("link", "set", bridge, "up")
	addrs := map[string]string{}
	for i, name := range names {
		ns := "dl" + suffix + name
		host, peer := fmt.Sprintf("dlh%s%d", suffix, i), fmt.Sprintf("dlp%s%d", suffix, i)
		addr := fmt.Sprintf("%s.%d", subnet, 10+i)
		run("netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		run("link", "add", host, "type", "veth", "peer", "name", peer)
		run("link", "set", host, "master", bridge, "up")
		run("link", "set", peer, "netns", ns)
		run("-n", ns, "addr", "add", addr+"/24", "dev", peer)
		run("-n", ns, "link", "set", peer, "up")
		run("-n", ns, "link", "set", "lo", "up")
		addrs[name] = addr
	}
	return addrs
}

// nsCommand runs driftload inside the namespace of host.
func nsCommand(host string, args ...string) *exec.Cmd {
	suffix := fmt.Sprintf("%d", os.Getpid()%10000)
	return exec.Command("ip", append([]string{"netns", "exec", "dl" + suffix + host, binary}, args...)...)
}

// Three hosts each run one segment of a load test against a target on a
// fourth, with the command lines and environment of the pods of the
// rendered Kubernetes Indexed Job (deploy/kubernetes/overlays/example) for
// JOB_COMPLETION_INDEX 0, 1, 2, as the Job controller and the kubelet would
// run them — the results volume mapped to a temporary directory and the
// 15-minute profile scaled to 9 s (--time-scale 0.01). Their result files,
// merged with the merge Job's command line, make one run whose request and
// event counts equal the target's own counters exactly.
func TestSegmentsOnThreeHostsMergeExactly(t *testing.T) {
	t.Parallel()
	hosts := netnsHosts(t, "target", "c0", "c1", "c2")
	srv := nsCommand("target", "serve", "--addr", hosts["target"]+":8080", "--key-rate", "100000")
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	var key string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if k, ok := strings.CutPrefix(sc.Text(), "driftload serve: dev API key: "); ok {
			key = k
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if key == "" {
		t.Fatal("no dev key from the target")
	}
	base := "http://" + hosts["target"] + ":8080"
	dir := t.TempDir()
	rendered, err := deploy.Render("../../deploy/kubernetes/overlays/example")
	if errors.Is(err, deploy.ErrNoKubectl) {
		t.Skip("kubectl is needed to render the manifests")
	}
	if err != nil {
		t.Fatal(err)
	}
	objs, err := deploy.Decode(rendered)
	if err != nil {
		t.Fatal(err)
	}
	segJob, err := objs.Job(deploy.SegmentComponent)
	if err != nil {
		t.Fatal(err)
	}
	mergeJob, err := objs.Job(deploy.MergeComponent)
	if err != nil {
		t.Fatal(err)
	}
	// The results volume is mounted at /results in the pods.
	volume := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.Replace(a, "/results/", dir+"/", 1)
		}
		return out
	}
	override := map[string]string{"BASE_URL": base, "API_KEY": key, "START_AT": time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod, err := objs.Command(segJob, i, override)
			if err != nil {
				t.Error(err)
				return
			}
			cmd := nsCommand(fmt.Sprintf("c%d", i), append(volume(pod.Args), "--time-scale", "0.01", "--quiet", "--lag-budget", "200ms")...)
			cmd.Env = os.Environ()
			for k, v := range pod.Env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 0 && code != 99 && code != 110 {
				t.Errorf("host c%d: exit %d\n%s", i, code, out)
			}
		}()
	}
	wg.Wait()
	merged := filepath.Join(dir, "merged.json")
	mergePod, err := objs.Command(mergeJob, 0, override)
	if err != nil {
		t.Fatal(err)
	}
	res := runBinary(t, dir, time.Minute, volume(mergePod.Args)...)
	if res.code != 0 && res.code != 99 && res.code != 110 {
		t.Fatalf("merge: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	m := readResult(t, merged)
	served := sumWhere(scrape(t, base, "driftlock_http_requests_total"), `route="/v1/detect"`)
	events := sumWhere(scrape(t, base, "driftlock_events_processed_total"))
	detect := 0.0
	for _, s := range m["metrics"].(map[string]any)["http_reqs"].(map[string]any)["series"].([]any) {
		sr := s.(map[string]any)
		if sr["tags"].(map[string]any)["endpoint"] == "detect" {
			detect += sr["sum"].(float64)
		}
	}
	if detect == 0 || detect != served {
		t.Errorf("merged %g detect requests, the target answered %g", detect, served)
	}
	if got := metricValue(t, m, "events_processed", "count"); got != events {
		t.Errorf("merged %g events processed, the target counted %g", got, events)
	}
	if m["share"] != "0:1" || len(m["analysis"].(map[string]any)["parts"].([]any)) != 3 {
		t.Errorf("merged share %v, parts %v", m["share"], m["analysis"])
	}
}
