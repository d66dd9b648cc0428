package finding

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBestKeepsTheMostSpecificRule(t *testing.T) {
	tok := NewSecret("npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3")
	pw := NewSecret("walnut-kettle-8516")
	in := []Match{
		{RuleID: "secret-named-variable", Secret: tok, Priority: 2},
		{RuleID: "npm-access-token", Secret: tok, Priority: 0},
		{RuleID: "generic-api-key", Secret: pw, Priority: 3},
		{RuleID: "secret-named-variable", Secret: pw, Priority: 2},
		{RuleID: "npm-access-token", Secret: tok, Line: 7, Priority: 0},
		{RuleID: "generic-api-key", Secret: NewSecret("x-suppressed-x"), Priority: 3, Suppressed: "third_party_generic"},
	}
	suppressed := map[string]int64{}
	got := Best(in, suppressed)
	want := []string{"npm-access-token@0", "secret-named-variable@0", "npm-access-token@7"}
	var ids []string
	for _, m := range got {
		ids = append(ids, m.RuleID+"@"+string(rune('0'+m.Line)))
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("Best (-want +got):\n%s", diff)
	}
	if suppressed["third_party_generic"] != 1 {
		t.Errorf("suppressed counts = %v, want one third_party_generic", suppressed)
	}
}

func TestCompareOrdersLayersThenHistoryThenConfig(t *testing.T) {
	fs := []Finding{
		{RuleID: "c", Location: Location{Kind: KindConfig, LayerIndex: -1, HistoryIndex: -1, Field: "config.Env[0]"}},
		{RuleID: "h", Location: Location{Kind: KindHistory, LayerIndex: 1, HistoryIndex: 2}},
		{RuleID: "l2", Location: Location{Kind: KindLayer, LayerIndex: 2, Path: "a"}},
		{RuleID: "l1b", Location: Location{Kind: KindLayer, LayerIndex: 1, Path: "b"}},
		{RuleID: "l1a", Location: Location{Kind: KindLayer, LayerIndex: 1, Path: "a", Line: 3}},
	}
	for i := 0; i < len(fs); i++ {
		for j := i + 1; j < len(fs); j++ {
			if Compare(fs[i], fs[j]) <= 0 {
				t.Errorf("%s should sort after %s", fs[i].RuleID, fs[j].RuleID)
			}
		}
	}
}

func TestCoverageAdd(t *testing.T) {
	var c Coverage
	c.Skip(SkipBinary)
	c.Add(Coverage{Files: 2, Bytes: 10, Links: 1, Removed: 1, Skipped: map[string]int64{SkipBinary: 2}, Suppressed: map[string]int64{SuppressThirdParty: 3}})
	want := Coverage{Files: 2, Bytes: 10, Links: 1, Removed: 1, Skipped: map[string]int64{SkipBinary: 3}, Suppressed: map[string]int64{SuppressThirdParty: 3}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Add (-want +got):\n%s", diff)
	}
}
