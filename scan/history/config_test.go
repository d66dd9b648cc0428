package history

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/finding"
)

// fakeDetector finds "tok_" words in text and judges variables by a
// _TOKEN suffix, so that Scan is tested apart from the rule set.
type fakeDetector struct{}

func (fakeDetector) SkipContent(string) string { return "" }

func (fakeDetector) DetectFile(_ context.Context, f finding.File) []finding.Match {
	var ms []finding.Match
	for _, w := range strings.FieldsFunc(string(f.Content), func(r rune) bool { return strings.ContainsRune(" =\"'\n", r) }) {
		if strings.HasPrefix(w, "tok_") {
			ms = append(ms, finding.Match{RuleID: "fake-token", Secret: finding.NewSecret(w), Line: 1, Column: 1})
		}
	}
	return ms
}

func (fakeDetector) DetectVariable(_ context.Context, name, value string) []finding.Match {
	if strings.HasSuffix(name, "_TOKEN") && value != "" {
		return []finding.Match{{RuleID: "fake-variable", Secret: finding.NewSecret(value), Priority: 2}}
	}
	return nil
}

type hit struct {
	Rule, Secret, Kind, Field, Variable string
	Layer, History                      int
	CreatedBy                           string
}

func scanConfig(t *testing.T, cfg *Config, layers int) (*Result, []hit) {
	t.Helper()
	res := Scan(context.Background(), cfg, layers, fakeDetector{})
	var hits []hit
	for _, f := range res.Findings {
		l := f.Location
		if l.Status != finding.Visible || l.RemovedByLayer != -1 {
			t.Errorf("%s: status %s removed by %d, want visible", l.Field, l.Status, l.RemovedByLayer)
		}
		hits = append(hits, hit{f.RuleID, f.Secret.Raw(), string(l.Kind), l.Field, l.Variable, l.LayerIndex, l.HistoryIndex, l.CreatedBy})
	}
	return res, hits
}

func TestScanHistoryAndConfig(t *testing.T) {
	run := "|2 NPM_TOKEN=tok_npm OTHER_TOKEN=plain-value /bin/sh -c npm ci"
	cfg := &Config{ConfigFile: v1.ConfigFile{
		History: []v1.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "},
			{CreatedBy: "/bin/sh -c #(nop) ARG NPM_TOKEN", EmptyLayer: true},
			{CreatedBy: run},
			{CreatedBy: "ENV API_TOKEN=tok_env", EmptyLayer: true, Comment: "tok_in_comment"},
		},
		Config: v1.Config{
			Env:         []string{"PATH=/usr/bin", "API_TOKEN=tok_env"},
			Labels:      map[string]string{"deploy_TOKEN": "label-value", "maintainer": "x"},
			Cmd:         []string{"sh", "-c", "curl -H tok_cmd"},
			OnBuild:     []string{"ENV BUILD_TOKEN=onbuild-value"},
			Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "curl", "tok_health"}},
		},
	}}
	cfg.ContainerConfig = &v1.Config{Env: []string{"API_TOKEN=tok_env"}}
	res, got := scanConfig(t, cfg, 2)
	want := []hit{
		{"fake-token", "tok_npm", "history", "history[2].created_by", "NPM_TOKEN", 1, 2, run},
		{"fake-variable", "plain-value", "history", "history[2].created_by", "OTHER_TOKEN", 1, 2, run},
		{"fake-token", "tok_env", "history", "history[3].created_by", "API_TOKEN", -1, 3, "ENV API_TOKEN=tok_env"},
		{"fake-token", "tok_in_comment", "history", "history[3].comment", "", -1, 3, "tok_in_comment"},
		{"fake-token", "tok_env", "config", "config.Env[1]", "API_TOKEN", -1, -1, ""},
		{"fake-variable", "label-value", "config", `config.Labels["deploy_TOKEN"]`, "deploy_TOKEN", -1, -1, ""},
		{"fake-token", "tok_cmd", "config", "config.Cmd", "", -1, -1, ""},
		{"fake-variable", "onbuild-value", "config", "config.OnBuild[0]", "BUILD_TOKEN", -1, -1, ""},
		{"fake-token", "tok_health", "config", "config.Healthcheck.Test", "", -1, -1, ""},
		{"fake-token", "tok_env", "config", "container_config.Env[0]", "API_TOKEN", -1, -1, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 2}, res.Layers.History); diff != "" {
		t.Errorf("mapping (-want +got):\n%s", diff)
	}
	if len(res.Steps) != 4 || res.Steps[2].String() != "RUN npm ci" {
		t.Errorf("steps = %v", res.Steps)
	}
}

func TestMap(t *testing.T) {
	h := []v1.History{{}, {EmptyLayer: true}, {}, {EmptyLayer: true}, {}}
	m := Map(h, 3)
	if diff := cmp.Diff(Mapping{History: []int{0, 2, 4}}, m); diff != "" {
		t.Errorf("Map (-want +got):\n%s", diff)
	}
	if m.HistoryOf(1) != 2 || m.HistoryOf(3) != -1 || m.LayerOf(4) != 2 || m.LayerOf(1) != -1 {
		t.Errorf("lookups wrong: %+v", m)
	}
	for name, tc := range map[string]struct {
		history []v1.History
		layers  int
		problem string
	}{
		"more layers than steps":  {h, 4, "3 entries that create layers but the image has 4 layers"},
		"fewer layers than steps": {h, 2, "3 entries that create layers but the image has 2 layers"},
		"no history":              {nil, 2, "no history"},
	} {
		m := Map(tc.history, tc.layers)
		if m.History != nil || !strings.Contains(m.Problem, tc.problem) {
			t.Errorf("%s: Map = %+v, want no mapping and a problem with %q", name, m, tc.problem)
		}
		if m.HistoryOf(0) != -1 || m.LayerOf(0) != -1 {
			t.Errorf("%s: an unmapped history answers lookups", name)
		}
	}
}

func TestParseConfig(t *testing.T) {
	raw := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},
		"config":{"Env":["A=1"]},"container_config":{"Env":["B=2"],"Cmd":["/bin/sh","-c","#(nop) CMD"]}}`
	c, err := ParseConfig([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if c.Config.Env[0] != "A=1" || c.ContainerConfig == nil || c.ContainerConfig.Env[0] != "B=2" {
		t.Errorf("ParseConfig lost fields: %+v", c)
	}
	if _, err := ParseConfig([]byte("{not json")); err == nil || !strings.Contains(err.Error(), "decoding image config") {
		t.Errorf("garbage config: err = %v", err)
	}
}
