package cbad

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestProfile(t *testing.T) {
	tests := []struct {
		name string
		want Params
	}{
		{"sensitive", Params{200, 30, 10, 0.20, 0.10, 500, "zstd"}},
		{"balanced", Params{400, 50, 10, 0.30, 0.05, 1000, "zstd"}},
		{"strict", Params{800, 100, 20, 0.45, 0.01, 1000, "zstd"}},
	}
	for _, tt := range tests {
		got, ok := Profile(tt.name)
		if !ok || got != tt.want {
			t.Errorf("Profile(%q) = %+v, %v; want %+v, true", tt.name, got, ok, tt.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("Profile(%q) invalid: %v", tt.name, err)
		}
	}
	for _, name := range []string{"", "Balanced", "default", "paranoid"} {
		if _, ok := Profile(name); ok {
			t.Errorf("Profile(%q) ok, want unknown", name)
		}
	}
}

func TestValidate(t *testing.T) {
	good := mustProfile("balanced")
	tests := []struct {
		name    string
		mod     func(*Params)
		wantBad []string // field names the error must name; nil means valid
	}{
		{"balanced", func(*Params) {}, nil},
		{"empty compressor means zstd", func(p *Params) { p.Compressor = "" }, nil},
		{"gzip", func(p *Params) { p.Compressor = "gzip" }, nil},
		{"zero permutations", func(p *Params) { p.Permutations = 0 }, nil},
		{"thresholds at 1", func(p *Params) { p.NCDThreshold, p.PValueThreshold = 1, 1 }, nil},
		{"zero baseline", func(p *Params) { p.BaselineSize = 0 }, []string{"BaselineSize"}},
		{"negative window", func(p *Params) { p.WindowSize = -1 }, []string{"WindowSize"}},
		{"zero hop", func(p *Params) { p.HopSize = 0 }, []string{"HopSize"}},
		{"zero ncd threshold", func(p *Params) { p.NCDThreshold = 0 }, []string{"NCDThreshold"}},
		{"ncd threshold above 1", func(p *Params) { p.NCDThreshold = 1.01 }, []string{"NCDThreshold"}},
		{"NaN p threshold", func(p *Params) { p.PValueThreshold = math.NaN() }, []string{"PValueThreshold"}},
		{"negative permutations", func(p *Params) { p.Permutations = -5 }, []string{"Permutations"}},
		{"lz4", func(p *Params) { p.Compressor = "lz4" }, []string{"Compressor"}},
		{"everything", func(p *Params) { *p = Params{Permutations: -1, Compressor: "zlib"} },
			[]string{"BaselineSize", "WindowSize", "HopSize", "NCDThreshold", "PValueThreshold", "Permutations", "Compressor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.mod(&p)
			err := p.Validate()
			if tt.wantBad == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error naming %v", tt.wantBad)
			}
			for _, f := range tt.wantBad {
				if !strings.Contains(err.Error(), f+" ") {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
			if _, derr := NewDetector(p, 1); derr == nil {
				t.Errorf("NewDetector accepted invalid params")
			}
		})
	}
}

func TestWithPermutationCap(t *testing.T) {
	p := mustProfile("balanced") // 1000 permutations
	tests := []struct{ max, want int }{{10, 10}, {1000, 1000}, {5000, 1000}, {0, 0}, {-1, 1000}}
	for _, tt := range tests {
		if got := p.WithPermutationCap(tt.max).Permutations; got != tt.want {
			t.Errorf("WithPermutationCap(%d).Permutations = %d, want %d", tt.max, got, tt.want)
		}
	}
	if p.Permutations != 1000 {
		t.Errorf("WithPermutationCap modified its receiver")
	}
}

func TestNCD(t *testing.T) {
	logs := bytes.Join(newLogGen(1).normals(60), []byte("\n"))
	otherLogs := bytes.Join(newLogGen(2).normals(60), []byte("\n"))
	random := make([]byte, len(logs))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	repetitive := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), len(logs)/45)

	tests := []struct {
		comps    []string
		name     string
		x, y     []byte
		min, max float64
	}{
		{[]string{"", "zstd", "gzip"}, "identical logs", logs, logs, 0, 0.15},
		{[]string{"", "zstd"}, "identical random", random, random, 0, 0.05},
		// DEFLATE's BestSpeed skips ahead through incompressible input and
		// so misses part of the repeat.
		{[]string{"gzip"}, "identical random", random, random, 0, 0.7},
		{[]string{"", "zstd", "gzip"}, "similar logs", logs, otherLogs, 0.3, 0.99},
		{[]string{"", "zstd", "gzip"}, "random vs repetitive", random, repetitive, 0.9, 1.1},
		{[]string{"", "zstd", "gzip"}, "repetitive vs random", repetitive, random, 0.9, 1.1},
	}
	for _, tt := range tests {
		for _, comp := range tt.comps {
			got, err := NCD(tt.x, tt.y, comp)
			if err != nil {
				t.Fatal(err)
			}
			if got < tt.min || got > tt.max {
				t.Errorf("%q/%s: NCD = %.3f, want in [%.2f, %.2f]", comp, tt.name, got, tt.min, tt.max)
			}
		}
	}
	if _, err := NCD(logs, logs, "lz4"); err == nil {
		t.Error("NCD accepted an unknown compressor")
	}
}
