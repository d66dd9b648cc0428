package history

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func parse(t *testing.T, raw string) *Config {
	t.Helper()
	cfg, err := ParseConfig([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEveryConfigStringIsSearched(t *testing.T) {
	info, _ := json.Marshal(map[string]any{
		"frontend": "dockerfile.v0",
		"attrs":    map[string]string{"build-arg:NPM_TOKEN": "plain-value-one", "build-arg:MIRROR": "tok_in_buildinfo"},
	})
	raw := `{
		"architecture": "amd64", "os": "linux",
		"config": {"User": "tok_user", "Volumes": {"tok_volume": {}}, "Env": ["A_TOKEN=tok_env"],
			"Labels": {"l": "tok_label"}, "Cmd": ["run", "tok_cmd"], "StopSignal": "SIGTERM"},
		"container_config": {"WorkingDir": "tok_workdir"},
		"x-vendor": {"nested": [{"secret": "tok_vendor"}], "tok_as_a_key": true},
		"` + buildInfoKey + `": "` + base64.StdEncoding.EncodeToString(info) + `",
		"history": [{"created_by": "RUN echo tok_history", "empty_layer": true}],
		"rootfs": {"type": "layers", "diff_ids": []}
	}`
	_, hits := scanConfig(t, parse(t, raw), 0)
	got := map[string]string{}
	for _, h := range hits {
		if prev, dup := got[h.Secret]; dup {
			t.Errorf("%s reported twice: %s and %s", h.Secret, prev, h.Field)
		}
		got[h.Secret] = h.Field + "|" + h.Variable
	}
	want := map[string]string{
		"tok_user":         "config.User|",
		"tok_env":          "config.Env[0]|A_TOKEN",
		"tok_label":        `config.Labels["l"]|l`,
		"tok_volume":       "config.Volumes.tok_volume|",
		"tok_cmd":          "config.Cmd|",
		"tok_workdir":      "container_config.WorkingDir|",
		"tok_vendor":       "x-vendor.nested[0].secret|",
		"tok_as_a_key":     "x-vendor.tok_as_a_key|",
		"tok_in_buildinfo": `moby.buildkit.buildinfo.v1 (decoded).attrs["build-arg:MIRROR"]|MIRROR`,
		"plain-value-one":  `moby.buildkit.buildinfo.v1 (decoded).attrs["build-arg:NPM_TOKEN"]|NPM_TOKEN`,
		"tok_history":      "history[0].created_by|",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if name := fieldName([]string{"config", "Volumes", "/data"}); name != `config.Volumes["/data"]` {
		t.Errorf("a volume's field is named %s", name)
	}
}

func TestDeepConfigValuesAreCounted(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDocumentDepth+5) + `"tok_deep"` + strings.Repeat(`}`, MaxDocumentDepth+5)
	res, hits := scanConfig(t, parse(t, `{"os": "linux", "x": `+deep+`}`), 0)
	if len(hits) != 0 || res.Deeper != 1 {
		t.Errorf("findings %v, %d values deeper than the limit; want none found and one counted", hits, res.Deeper)
	}
}
