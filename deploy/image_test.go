package deploy_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestImageRunsDriftload builds the container image as `make image-test`
// does (Containerfile, buildah, vfs storage in a temporary directory), runs
// `driftload version` in it, and checks what the image holds: the static
// binary and the CA bundle, nothing else, run as 65532 through the
// ENTRYPOINT.
func TestImageRunsDriftload(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the image build takes about a minute")
	}
	for _, tool := range []string{"buildah", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the container image is not built (apt-get install -y buildah make)", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: buildah's vfs storage and chroot isolation, as make image uses them, need root")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	const version = "imagetest"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	start := time.Now()
	out, err := exec.CommandContext(ctx, "make", "-C", root, "image-test",
		"VERSION="+version,
		"IMAGE_STORE="+store,
		"IMAGE_DIR="+filepath.Join(tmp, "context"),
		"IMAGE_ARCHIVE="+filepath.Join(tmp, "driftload.tar"),
	).CombinedOutput()
	if err != nil {
		t.Fatalf("make image-test: %v\n%s", err, out)
	}
	t.Logf("make image-test took %s", time.Since(start).Round(100*time.Millisecond))
	if !strings.Contains(string(out), "\ndriftload "+version+" (go") || !strings.Contains(string(out), "image-test: ok") {
		t.Fatalf("make image-test did not show driftload's version from inside the image:\n%s", out)
	}
	if fi, err := os.Stat(filepath.Join(tmp, "driftload.tar")); err != nil || fi.Size() < 1<<20 {
		t.Errorf("image archive: %v (%v)", err, fi)
	}

	buildah := func(args ...string) []byte {
		t.Helper()
		full := append([]string{"--storage-driver", "vfs", "--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run")}, args...)
		out, err := exec.CommandContext(ctx, "buildah", full...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return out
	}
	image := "driftload:" + version

	var inspect struct {
		OCIv1 struct {
			Config struct {
				User       string
				Entrypoint []string
				Cmd        []string
				Labels     map[string]string
			} `json:"config"`
		}
	}
	if err := json.Unmarshal(buildah("inspect", "--type", "image", image), &inspect); err != nil {
		t.Fatal(err)
	}
	cfg := inspect.OCIv1.Config
	if cfg.User != "65532:65532" {
		t.Errorf("image user %q, want 65532:65532", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/driftload"}) || len(cfg.Cmd) > 0 {
		t.Errorf("entrypoint %q cmd %q, want [/driftload] and no cmd: a pod's args are driftload's", cfg.Entrypoint, cfg.Cmd)
	}
	if got := cfg.Labels["org.opencontainers.image.version"]; got != version {
		t.Errorf("version label %q, want %q", got, version)
	}

	// The image's files, read from a container's root filesystem (with vfs
	// a plain directory, no mount).
	c := strings.TrimSpace(string(buildah("from", "--quiet", image)))
	defer buildah("rm", c)
	rootfs := strings.TrimSpace(string(buildah("mount", c)))
	var files []string
	err = filepath.WalkDir(rootfs, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(rootfs, path)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"driftload", "etc/ssl/certs/ca-certificates.crt"}; !slices.Equal(files, want) {
		t.Errorf("image files %q, want only %q", files, want)
	}
	bin, err := elf.Open(filepath.Join(rootfs, "driftload"))
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/driftload asks for a dynamic loader: not a static binary, it cannot run on scratch")
		}
	}
	if bin.Section(".symtab") != nil {
		t.Error("/driftload has a symbol table: not built with -s")
	}
	bundle, err := os.ReadFile(filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if host, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil && !bytes.Equal(bundle, host) {
		t.Error("the image's CA bundle is not the build host's")
	}
	if !x509.NewCertPool().AppendCertsFromPEM(bundle) {
		t.Error("the image's CA bundle holds no certificate: https targets would not verify")
	}
}
