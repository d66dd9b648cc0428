package report_test

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
)

// fleetOf makes a fleet report of shard s holding the results, each as a
// repository named after its fixture.
func fleetOf(t *testing.T, key string, s report.Shard, show bool, results map[string]*scan.Result) *report.Fleet {
	t.Helper()
	f := report.NewFleet(tool, key, "registry.example", "team", s, show)
	for repo, res := range results {
		f.Add(report.ImageRef{Repository: repo, Tags: []string{"latest", "1.0"}}, res)
	}
	return f
}

func writeFleet(t *testing.T, format string, f *report.Fleet) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteFleet(&buf, format, f); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestFleetGroupsASecretAcrossImages(t *testing.T) {
	deleted := scanFixture(t, "../fixtures/npm-deleted/image.tar")
	f := fleetOf(t, finding.PublicKey.ID(), report.Shard{Count: 1}, false, map[string]*scan.Result{
		"team/web": deleted, "team/api": deleted, "team/clean": scanFixture(t, "../fixtures/clean/image.tar"),
	})
	f.Finish()
	if f.Totals.Images != 3 || f.Totals.ImagesWithFindings != 2 || f.Totals.RepositoriesLeaking != 2 || f.Totals.Repositories != 3 {
		t.Errorf("totals %+v", f.Totals)
	}
	npm := f.Secrets[0]
	if npm.RuleID != "npm-access-token" || strings.Join(npm.Repos, ",") != "team/api,team/web" || npm.Images != 1 {
		t.Errorf("first secret %s in %d images of %v; want the npm token in one image (one digest) of both repositories", npm.RuleID, npm.Images, npm.Repos)
	}
	text := writeFleet(t, "text", f)
	for _, want := range []string{"LEAKS: 2 of 3 images in 2 of 3 repositories hold", "Repositories to fix:\n  team/api: 1 of 1 image leak", "deleted by layer"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	clean := fleetOf(t, finding.PublicKey.ID(), report.Shard{Count: 1}, false, map[string]*scan.Result{"team/clean": scanFixture(t, "../fixtures/clean/image.tar")})
	if text := writeFleet(t, "text", clean); !strings.Contains(text, "CLEAN: no secrets in 1 image of 1 repository.") {
		t.Errorf("clean fleet:\n%s", text)
	}
}

func TestNoFleetFormatLeaksASecretUnlessAsked(t *testing.T) {
	for raw, archive := range secretsOf(t) {
		res := scanFixture(t, archive)
		for _, show := range []bool{false, true} {
			f := fleetOf(t, finding.PublicKey.ID(), report.Shard{Count: 1}, show, map[string]*scan.Result{"team/app": res})
			for _, format := range []string{"text", "json", "sarif", "html"} {
				out := html.UnescapeString(writeFleet(t, format, f))
				if strings.Contains(out, raw) != show {
					t.Errorf("%s fleet report of %s, show %v: holds the raw secret %v", format, archive, show, !show)
				}
			}
		}
	}
}

func TestFleetSARIFValidates(t *testing.T) {
	f := fleetOf(t, finding.PublicKey.ID(), report.Shard{Count: 1}, false, map[string]*scan.Result{
		"team/web": scanFixture(t, "../fixtures/npm-deleted/image.tar"), "team/same-run": scanFixture(t, "../fixtures/npm-same-run/image.tar"),
	})
	f.AddError(report.ImageRef{Repository: "team/broken"}, "", errString("registry refused access"))
	out := writeFleet(t, "sarif", f)
	validateSARIF(t, sarifSchema(t), out)
	var log struct {
		Runs []struct {
			Results     []json.RawMessage `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs[0].Results) < 2 || log.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Errorf("%d results, successful %v; want the findings and a failed run", len(log.Runs[0].Results), log.Runs[0].Invocations[0].ExecutionSuccessful)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestFleetMergeRefusesWhatDoesNotBelongTogether(t *testing.T) {
	res := map[string]*scan.Result{"team/web": scanFixture(t, "../fixtures/npm-deleted/image.tar")}
	key := finding.PublicKey.ID()
	for name, c := range map[string]struct {
		other *report.Fleet
		want  string
	}{
		"another key":   {fleetOf(t, "other-key", report.Shard{Index: 1, Count: 2}, false, res), "different fingerprint keys"},
		"the same part": {fleetOf(t, key, report.Shard{Index: 0, Count: 2}, false, res), "shard 1/2 is in two"},
		"shown secrets": {fleetOf(t, key, report.Shard{Index: 1, Count: 2}, true, res), "shows secret values"},
	} {
		base := fleetOf(t, key, report.Shard{Index: 0, Count: 2}, false, res)
		if err := base.Merge(c.other); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	base := fleetOf(t, key, report.Shard{Index: 0, Count: 3}, false, res)
	if err := base.Merge(fleetOf(t, key, report.Shard{Index: 2, Count: 3}, false, nil)); err != nil {
		t.Fatal(err)
	}
	base.CheckShards()
	if base.Complete || !base.Failed() || !strings.Contains(strings.Join(base.Errors, ";"), "covers 2 of the sweep's 3 shards") {
		t.Errorf("2 of 3 shards: complete %v, errors %v", base.Complete, base.Errors)
	}
}

func TestReadFleetIsStrict(t *testing.T) {
	f := fleetOf(t, finding.PublicKey.ID(), report.Shard{Count: 1}, false, map[string]*scan.Result{"team/web": scanFixture(t, "../fixtures/npm-deleted/image.tar")})
	good := writeFleet(t, "json", f)
	back, err := report.ReadFleet(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if again := writeFleet(t, "json", back); again != good {
		t.Error("a fleet report read back is written differently")
	}
	image := render(t, "json", false, scanFixture(t, "../fixtures/clean/image.tar"))
	for name, doc := range map[string]string{
		"an image report": image,
		"unknown field":   strings.Replace(good, `"registry":`, `"regsitry": "x", "registry":`, 1),
		"newer schema":    strings.Replace(good, `"schema_version": 1`, `"schema_version": 9`, 1),
		"bad shard":       strings.Replace(good, `"index": 0`, `"index": 5`, 1),
		"null secret":     strings.Replace(good, `"secrets": [`, `"secrets": [null,`, 1),
		"truncated":       good[:len(good)/2],
	} {
		if _, err := report.ReadFleet(strings.NewReader(doc)); err == nil {
			t.Errorf("%s was read", name)
		}
	}
}
