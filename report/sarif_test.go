package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
)

// sarifSchema compiles the SARIF 2.1.0 schema committed in testdata (see
// testdata/README.md for where it comes from).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	file, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	doc, err := jsonschema.UnmarshalJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateSARIF(t *testing.T, schema *jsonschema.Schema, log string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(log))
	if err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Errorf("SARIF does not validate: %v", err)
	}
}

func TestSARIFValidates(t *testing.T) {
	schema := sarifSchema(t)
	// The schema must catch a broken log, or validating proves nothing.
	broken := `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "severe"}]}]}`
	doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(broken))
	if schema.Validate(doc) == nil {
		t.Fatal("the schema accepts a result with level \"severe\"")
	}

	deleted, same := scanFixture(t, "../fixtures/npm-deleted/image.tar"), scanFixture(t, "../fixtures/npm-same-run/image.tar")
	creds := scanFixture(t, "../fixtures/credentials/image.tar")
	clean := scanFixture(t, "../fixtures/clean/image.tar")
	binaries := scanFixture(t, "../fixtures/binaries/image.tar")
	broken2 := &scan.Result{Input: "registry.example:5000/team/app:1.2", Errors: []string{"registry.example:5000/team/app:1.2: layer 2: unexpected EOF"}}
	suppressed := scanFixture(t, "../fixtures/npm-left/image.tar")
	suppressed.Suppress(func(f finding.Finding) string {
		if f.Location.Kind == finding.KindHistory {
			return finding.SuppressBaseline
		}
		return ""
	})
	for _, show := range []bool{false, true} {
		for _, showSuppressed := range []bool{false, true} {
			rep, _ := report.For("sarif", report.Options{ShowSecrets: show, ShowSuppressed: showSuppressed})
			var buf bytes.Buffer
			r := &report.Report{Tool: tool, FingerprintKey: finding.PublicKey.ID(), Images: []*scan.Result{deleted, same, creds, clean, broken2, suppressed, binaries}}
			if err := rep.Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			validateSARIF(t, schema, buf.String())
		}
	}
}

// sarifLog is the part of a SARIF log the tests read.
type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID   string `json:"id"`
					Help struct {
						Text string `json:"text"`
					} `json:"help"`
					Default struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
		} `json:"invocations"`
		Artifacts []struct {
			Location struct {
				URI string `json:"uri"`
			} `json:"location"`
			ParentIndex *int `json:"parentIndex"`
		} `json:"artifacts"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Locations []struct {
				Physical struct {
					Artifact struct {
						URI   string `json:"uri"`
						Index *int   `json:"index"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				Logical []struct {
					Name string `json:"fullyQualifiedName"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind string `json:"kind"`
			} `json:"suppressions"`
			Properties map[string]any `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func TestSARIFCarriesTheFindingModel(t *testing.T) {
	res := scanFixture(t, "../fixtures/npm-deleted/image.tar")
	var log sarifLog
	if err := json.Unmarshal([]byte(render(t, "sarif", false, res)), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Results) != len(res.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(res.Findings))
	}
	rules := run.Tool.Driver.Rules
	if len(rules) != 1 || rules[0].ID != "npm-access-token" || rules[0].Default.Level != "error" {
		t.Fatalf("rules %+v", rules)
	}
	for _, want := range []string{"--mount=type=secret", "multi-stage", "not a fix"} {
		if !strings.Contains(rules[0].Help.Text, want) {
			t.Errorf("the npm rule's help does not say %q:\n%s", want, rules[0].Help.Text)
		}
	}
	for i, r := range run.Results {
		f := res.Findings[i]
		if r.RuleID != f.RuleID || r.RuleIndex != 0 || r.Level != "error" {
			t.Errorf("result %d: rule %s #%d level %s", i, r.RuleID, r.RuleIndex, r.Level)
		}
		if r.PartialFingerprints["imagescan/v2"] != f.Fingerprint {
			t.Errorf("result %d: partialFingerprints %v, want %s", i, r.PartialFingerprints, f.Fingerprint)
		}
		p := r.Properties
		if p["status"] != string(f.Location.Status) || p["severity"] != "critical" || p["diff_id"] != nonEmpty(f.Location.DiffID) ||
			p["layer_digest"] != nonEmpty(f.Location.LayerDigest) || p["history_index"] != float64(f.Location.HistoryIndex) ||
			p["config_digest"] != res.ConfigDigest || p["secret"] != "npm_4zWH…" {
			t.Errorf("result %d properties %v", i, p)
		}
		loc := r.Locations[0].Physical
		switch f.Location.Kind {
		case finding.KindLayer:
			if loc.Artifact.URI != "../fixtures/npm-deleted/image.tar/private-app/.npmrc" || loc.Region == nil || loc.Region.StartLine != 1 {
				t.Errorf("layer result at %s %+v", loc.Artifact.URI, loc.Region)
			}
			file := run.Artifacts[*loc.Artifact.Index]
			if file.ParentIndex == nil || run.Artifacts[*file.ParentIndex].Location.URI != "../fixtures/npm-deleted/image.tar" {
				t.Errorf("the file's artifact is not inside the image's: %+v", file)
			}
			if p["removed_by_layer"] != float64(4) || p["layer_index"] != float64(3) {
				t.Errorf("layer result properties %v", p)
			}
		default:
			if loc.Artifact.URI != "../fixtures/npm-deleted/image.tar" || r.Locations[0].Logical[0].Name != f.Location.Field {
				t.Errorf("history result at %s %v", loc.Artifact.URI, r.Locations[0].Logical)
			}
		}
	}
	if !run.Invocations[0].ExecutionSuccessful {
		t.Error("a clean run is marked unsuccessful")
	}
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestSARIFSuppressedResults(t *testing.T) {
	res := scanFixture(t, "../fixtures/npm-deleted/image.tar")
	res.Suppress(func(f finding.Finding) string {
		if f.Location.Kind == finding.KindLayer {
			return finding.SuppressIgnore
		}
		return ""
	})
	for _, show := range []bool{false, true} {
		rep, _ := report.For("sarif", report.Options{ShowSuppressed: show})
		var buf bytes.Buffer
		if err := rep.Write(&buf, &report.Report{Tool: tool, Images: []*scan.Result{res}}); err != nil {
			t.Fatal(err)
		}
		var log sarifLog
		if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		results := log.Runs[0].Results
		want := 2
		if show {
			want = 3
		}
		if len(results) != want {
			t.Fatalf("show suppressed %v: %d results, want %d", show, len(results), want)
		}
		if show && (len(results[2].Suppressions) != 1 || results[2].Suppressions[0].Kind != "external") {
			t.Errorf("the suppressed result has suppressions %+v", results[2].Suppressions)
		}
	}
}

func TestSARIFImageURIsAreRelative(t *testing.T) {
	res := &scan.Result{Input: "registry.example:5000/team/app:1.2"}
	var log sarifLog
	if err := json.Unmarshal([]byte(render(t, "sarif", false, res)), &log); err != nil {
		t.Fatal(err)
	}
	if got := log.Runs[0].Artifacts[0].Location.URI; got != "registry.example%3A5000/team/app%3A1.2" {
		t.Errorf("image URI %q: a colon would read as a URI scheme", got)
	}
}
