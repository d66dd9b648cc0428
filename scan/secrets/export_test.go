package secrets

import (
	"context"
	"fmt"
	"slices"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"
)

// oracle is gitleaks' own detector on the Detector's rules, as imagescan
// runs them (decoding to the same depth): what the engine must find.
// Only tests build it.
func oracle(d *Detector) *detect.Detector {
	gl := detect.NewDetector(d.cfg)
	gl.MaxDecodeDepth = maxDecodeDepth
	return gl
}

// GitleaksKeys returns what gitleaks' own detector finds in text, one key
// per finding: rule, line and secret.
func GitleaksKeys(d *Detector, path string, text []byte) []string {
	return keysOf(oracle(d).DetectContext(context.Background(), detect.Fragment{Raw: string(text), FilePath: path, StartLine: 1}))
}

// EngineKeys returns what the engine finds in text, keyed the same way.
func EngineKeys(d *Detector, path string, text []byte) []string {
	return keysOf(d.engine.detect(context.Background(), path, text))
}

func keysOf(fs []report.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s|%d|%q", f.RuleID, f.StartLine, f.Secret))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// RulePatterns returns the regex of every rule that has one, by rule id.
func RulePatterns(d *Detector) map[string]string {
	out := map[string]string{}
	for id, r := range d.cfg.Rules {
		if r.Regex != nil {
			out[id] = r.Regex.String()
		}
	}
	return out
}
