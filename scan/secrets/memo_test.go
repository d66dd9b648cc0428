package secrets

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/layercache"
)

// memoText holds secrets whose findings depend on the path in every way
// the rules know: a token gitleaks allowlists in one README, a generic
// key its allowlist drops only in BitBake files, a password its rule
// looks for only in Terraform files, an npm token the .npmrc parser
// reads, and third-party and test trees that judging treats apart.
func memoText() []byte {
	return fmt.Appendf(nil, `# settings
github_token: %s
SRC_TOKEN = "%s"
administrator_login_password = "%s"
//registry.npmjs.org/:_authToken=%s
# padding so that the text is long enough to be remembered
%0300d
`, fakeToken("ghp_", 36, 71), fakeToken("", 24, 72), fakeToken("Pw", 14, 73), fakeToken("npm_", 36, 74), 0)
}

var memoPaths = []string{
	"srv/app/config.yml",
	"srv/app2/config.yml",
	"usr/lib/node_modules/@octokit/auth-token/README.md",
	"srv/app/main.tf",
	"srv/app/recipe.bb",
	"srv/app/.npmrc",
	"srv/app/node_modules/pkg/test/config.yml",
	"srv/app/test/config.yml",
	"srv/app/logo.png",
}

// forget empties d's memo.
func forget(d *Detector) {
	d.memo.mu.Lock()
	d.memo.seen = nil
	d.memo.mu.Unlock()
}

func TestContentsMetAgainGiveWhatAFreshScanGives(t *testing.T) {
	d := detector(t)
	text := memoText()
	detect := func(p string) []finding.Match {
		return d.DetectFile(context.Background(), finding.File{Path: p, Content: text})
	}
	want := map[string][]finding.Match{}
	for _, p := range memoPaths {
		forget(d)
		want[p] = detect(p)
	}
	// Without differences between the paths, the test would prove nothing.
	if cmp.Equal(want[memoPaths[0]], want[memoPaths[3]], cmp.AllowUnexported(finding.Secret{})) ||
		cmp.Equal(want[memoPaths[0]], want[memoPaths[2]], cmp.AllowUnexported(finding.Secret{})) {
		t.Fatalf("the paths give the same findings: %v", want[memoPaths[0]])
	}
	for first := range memoPaths {
		forget(d)
		for i := range memoPaths {
			p := memoPaths[(first+i)%len(memoPaths)]
			if diff := cmp.Diff(want[p], detect(p), cmp.AllowUnexported(finding.Secret{})); diff != "" {
				t.Errorf("%s after %s (-fresh +remembered):\n%s", p, memoPaths[first], diff)
			}
		}
	}
}

func TestIdenticalContentsAreScannedOnce(t *testing.T) {
	d := detector(t)
	forget(d)
	text := memoText()
	scanned := func(p string) int64 {
		before := d.memo.scanned.Load()
		d.DetectFile(context.Background(), finding.File{Path: p, Content: text})
		return d.memo.scanned.Load() - before
	}
	n := int64(len(text))
	for _, c := range []struct {
		path string
		want int64
	}{
		{"srv/app/config.yml", n},
		{"srv/app2/config.yml", 0},                                // the rules' path conditions say the same
		{"srv/app/node_modules/pkg/test/config.yml", 0},           // judging differs, the rules' pass does not
		{"srv/app/main.tf", n},                                    // a rule runs only on Terraform files
		{"srv/app/main.tf", n},                                    // remembered for its first path only
		{"usr/lib/node_modules/@octokit/auth-token/README.md", n}, // an allowlisted path
		{"srv/app/config.yml", 0},
	} {
		if got := scanned(c.path); got != c.want {
			t.Errorf("%s: the rules read %d bytes, want %d", c.path, got, c.want)
		}
	}
	short := text[:minMemoBytes-1]
	for range 2 {
		before := d.memo.scanned.Load()
		d.DetectFile(context.Background(), finding.File{Path: "a/short.yml", Content: short})
		if got := d.memo.scanned.Load() - before; got != int64(len(short)) {
			t.Errorf("a short text: the rules read %d bytes, want %d each time", got, len(short))
		}
	}
}

func TestACancelledScanIsNotRemembered(t *testing.T) {
	d := detector(t)
	forget(d)
	text := memoText()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d.DetectFile(ctx, finding.File{Path: "srv/app/config.yml", Content: text})
	got := d.DetectFile(context.Background(), finding.File{Path: "srv/app/config.yml", Content: text})
	if len(got) < 3 {
		t.Fatalf("after a cancelled scan of the same text: %d findings, want the text's own", len(got))
	}
}

func TestCleanContentsAreKeptBetweenRuns(t *testing.T) {
	d := detector(t)
	t.Cleanup(func() {
		d.memo.store, d.memo.pending = nil, nil
		forget(d)
	})
	dir := t.TempDir()
	clean := bytes.Repeat([]byte("plain text with nothing to hide\n"), minStoreBytes/32+1)
	leaky := append(memoText(), clean...)
	short := clean[:minStoreBytes-1]
	scanned := func(p string, text []byte) int64 {
		before := d.memo.scanned.Load()
		d.DetectFile(context.Background(), finding.File{Path: p, Content: text})
		return d.memo.scanned.Load() - before
	}
	run := func(build string, steps func()) {
		store, err := layercache.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		forget(d)
		d.KeepCleanContents(store, build)
		steps()
		if err := d.FlushContents(); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: the rules read %d bytes, want %d", what, got, want)
		}
	}
	run("build-1", func() {
		expect("a clean text, first run", int(scanned("srv/app/a.txt", clean)), len(clean))
		expect("a leaking text, first run", int(scanned("srv/app/b.txt", leaky)), len(leaky))
		expect("a short clean text, first run", int(scanned("srv/app/c.txt", short)), len(short))
	})
	run("build-1", func() {
		expect("the clean text at its path", int(scanned("srv/app/a.txt", clean)), 0)
		expect("the clean text at another path", int(scanned("srv/app/main.tf", clean)), len(clean))
		expect("the leaking text", int(scanned("srv/app/b.txt", leaky)), len(leaky))
		expect("the short clean text", int(scanned("srv/app/c.txt", short)), len(short))
		if got := d.DetectFile(context.Background(), finding.File{Path: "srv/app/b.txt", Content: leaky}); len(got) < 3 {
			t.Errorf("the leaking text: %d findings", len(got))
		}
	})
	run("build-2", func() {
		expect("the clean text with another build", int(scanned("srv/app/a.txt", clean)), len(clean))
	})
}
