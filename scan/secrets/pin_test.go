package secrets

import (
	"os"
	"strings"
	"testing"
)

// TestEngineIsPinnedToTheGitleaksItWasCheckedAgainst fails when the
// gitleaks module changes: the engine reproduces one release's judging,
// and another release must be checked against it (the differential tests
// in every build, FuzzEngine, bench/realistic) before checkedGitleaks
// moves. (Test binaries carry no module versions, so go.mod is read.)
func TestEngineIsPinnedToTheGitleaksItWasCheckedAgainst(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/zricethezav/gitleaks/v8 "
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), module); ok {
			if v = strings.Fields(v)[0]; v != checkedGitleaks {
				t.Errorf("go.mod requires gitleaks %s; the engine was checked against %s", v, checkedGitleaks)
			}
			return
		}
	}
	t.Fatal("go.mod does not require gitleaks")
}
