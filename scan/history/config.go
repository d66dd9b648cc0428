package history

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/finding"
)

// Config is an image config as imagescan reads it: ggcr's ConfigFile plus
// the legacy container_config that classic builders and buildah still write.
type Config struct {
	v1.ConfigFile
	ContainerConfig *v1.Config `json:"container_config,omitempty"`

	raw []byte // as read, for the fields ConfigFile does not name
}

// ParseConfig decodes a raw image config.
func ParseConfig(raw []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decoding image config: %w", err)
	}
	c.raw = raw
	return &c, nil
}

// Result is what Scan found in a config.
type Result struct {
	Findings []finding.Finding
	// Steps holds the parsed created_by of every history entry, by index.
	Steps []Step
	// Layers maps layers to history: Layers.History[i] is the history entry
	// that created layer i. See Map.
	Layers Mapping
	// Deeper counts the config's values nested too deep to be searched.
	Deeper int
}

// Scan looks for secrets in every string of cfg: history entries, config
// and container_config parsed for their commands and assignments, and
// every other string by its JSON path (see configStrings). layers is the
// image's layer count, used to map history entries to layers.
func Scan(ctx context.Context, cfg *Config, layers int, det finding.Detector) *Result {
	res := &Result{Layers: Map(cfg.History, layers)}
	s := &scanner{ctx: ctx, det: det, res: res}
	for i, h := range cfg.History {
		st := Parse(h.CreatedBy)
		res.Steps = append(res.Steps, st)
		s.historyEntry(i, h, st)
	}
	s.config("config", &cfg.Config)
	if cfg.ContainerConfig != nil {
		s.config("container_config", cfg.ContainerConfig)
	}
	s.configStrings(cfg.raw)
	return res
}

// ScanRaw looks for secrets in a config that does not parse, as plain text,
// so that a corrupt or hostile config is still searched. Its findings are
// config findings on the field "config (unparsed)", with the line in it.
func ScanRaw(ctx context.Context, raw []byte, det finding.Detector) []finding.Finding {
	var out []finding.Finding
	for _, m := range finding.Best(det.DetectFile(ctx, finding.File{Content: raw}), nil) {
		out = append(out, finding.Finding{
			RuleID: m.RuleID, Description: m.Description, Secret: m.Secret, Severity: m.Severity,
			Location: finding.Location{
				Kind: finding.KindConfig, LayerIndex: -1, HistoryIndex: -1,
				Field: "config (unparsed)", Line: m.Line, Column: m.Column,
				Status: finding.Visible, RemovedByLayer: -1,
			},
		})
	}
	return out
}

type scanner struct {
	ctx context.Context
	det finding.Detector
	res *Result
}

// field is one piece of config text, with the assignments parsed out of it.
type field struct {
	name string // e.g. "history[3].created_by"
	text string
	args []Arg
	// history is the history entry index for history fields, else -1.
	history int
}

func (s *scanner) historyEntry(i int, h v1.History, st Step) {
	args := append(slices.Clone(st.BuildArgs), st.Assignments...)
	s.field(field{name: fmt.Sprintf("history[%d].created_by", i), text: h.CreatedBy, args: args, history: i})
	s.field(field{name: fmt.Sprintf("history[%d].comment", i), text: h.Comment, history: i})
	s.field(field{name: fmt.Sprintf("history[%d].author", i), text: h.Author, history: i})
}

func (s *scanner) config(prefix string, c *v1.Config) {
	for i, kv := range c.Env {
		name, value, _ := strings.Cut(kv, "=")
		s.field(field{name: fmt.Sprintf("%s.Env[%d]", prefix, i), text: kv, args: []Arg{{name, value}}, history: -1})
	}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		s.field(field{name: fmt.Sprintf("%s.Labels[%q]", prefix, k), text: k + "=" + c.Labels[k], args: []Arg{{k, c.Labels[k]}}, history: -1})
	}
	s.field(field{name: prefix + ".Entrypoint", text: strings.Join(c.Entrypoint, " "), history: -1})
	s.field(field{name: prefix + ".Cmd", text: strings.Join(c.Cmd, " "), history: -1})
	for i, ob := range c.OnBuild {
		st := Parse(ob)
		s.field(field{name: fmt.Sprintf("%s.OnBuild[%d]", prefix, i), text: ob, args: st.Assignments, history: -1})
	}
	if c.Healthcheck != nil {
		s.field(field{name: prefix + ".Healthcheck.Test", text: strings.Join(c.Healthcheck.Test, " "), history: -1})
	}
}

// field runs the detector over one field's text and its assignments and
// records the best match for each secret as a finding.
func (s *scanner) field(f field) {
	if strings.TrimSpace(f.text) == "" {
		return
	}
	var ms []finding.Match
	for _, m := range s.det.DetectFile(s.ctx, finding.File{Content: []byte(f.text)}) {
		m.Line, m.Column = 0, 0
		ms = append(ms, m)
	}
	for _, a := range f.args {
		ms = append(ms, s.det.DetectVariable(s.ctx, a.Name, a.Value)...)
	}
	for _, m := range finding.Best(ms, nil) {
		s.res.Findings = append(s.res.Findings, s.finding(f, m))
	}
}

func (s *scanner) finding(f field, m finding.Match) finding.Finding {
	loc := finding.Location{
		Kind:           finding.KindConfig,
		LayerIndex:     -1,
		HistoryIndex:   -1,
		Field:          f.name,
		Variable:       assignedTo(f.args, m.Secret.Raw()),
		Status:         finding.Visible,
		RemovedByLayer: -1,
	}
	if f.history >= 0 {
		loc.Kind = finding.KindHistory
		loc.HistoryIndex = f.history
		loc.CreatedBy = f.text
		loc.LayerIndex = s.res.Layers.LayerOf(f.history)
	}
	return finding.Finding{RuleID: m.RuleID, Description: m.Description, Secret: m.Secret, Severity: m.Severity, Location: loc}
}

// assignedTo returns the name of the first assignment whose value holds the
// secret, or "".
func assignedTo(args []Arg, secret string) string {
	if secret == "" {
		return ""
	}
	for _, a := range args {
		if strings.Contains(a.Value, secret) {
			return a.Name
		}
	}
	return ""
}
