package secrets_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/lucasjones/reggen"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan/layers"
	"github.com/imagescan/imagescan/scan/secrets"
)

// sameAsGitleaks fails t when the engine and gitleaks' own detector find
// different things in text.
func sameAsGitleaks(t testing.TB, d *secrets.Detector, path string, text []byte) bool {
	t.Helper()
	want, got := secrets.GitleaksKeys(d, path, text), secrets.EngineKeys(d, path, text)
	if slices.Equal(want, got) {
		return true
	}
	t.Errorf("%s: the engine and gitleaks disagree\n only gitleaks: %q\n only engine:   %q", path, minus(want, got), minus(got, want))
	return false
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// compareChunks is a finding.Detector that compares the engine with
// gitleaks on every text a layer walk hands it.
type compareChunks struct {
	t     testing.TB
	d     *secrets.Detector
	mu    sync.Mutex
	texts int
	bad   int
}

func (c *compareChunks) SkipContent(p string) string { return c.d.SkipContent(p) }
func (c *compareChunks) DetectVariable(context.Context, string, string) []finding.Match {
	return nil
}
func (c *compareChunks) DetectFile(_ context.Context, f finding.File) []finding.Match {
	ok := sameAsGitleaks(c.t, c.d, f.Path, f.Content)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.texts++
	if !ok {
		c.bad++
	}
	return nil
}

// TestEngineMatchesGitleaksOnAnImage compares the two on every text of the
// image named by $IMAGESCAN_DIFF_IMAGE (a docker save archive), such as
// the benchmark's realistic image. It is slow, and skipped without it.
func TestEngineMatchesGitleaksOnAnImage(t *testing.T) {
	p := os.Getenv("IMAGESCAN_DIFF_IMAGE")
	if p == "" {
		t.Skip("IMAGESCAN_DIFF_IMAGE is not set")
	}
	img, err := tarball.ImageFromPath(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	c := &compareChunks{t: t, d: fixture.Detector(t)}
	for i, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		_, err = layers.Walk(context.Background(), i, rc, c, layers.Options{})
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d texts compared, %d differ", c.texts, c.bad)
}

// generated returns, for every rule of the default set, strings its regex
// generates, repeatably.
func generated(t testing.TB, d *secrets.Detector, perRule int) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for id, pattern := range secrets.RulePatterns(d) {
		g, err := reggen.NewGenerator(pattern)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for seed := range perRule {
			g.SetSeed(int64(seed))
			out[id] = append(out[id], g.Generate(1+seed%10))
		}
		if s, ok := handSamples[id]; ok {
			out[id] = append(out[id], s)
		}
	}
	return out
}

// encodings are the ways gitleaks' decoder undoes.
var encodings = map[string]func(string) string{
	"plain":  func(s string) string { return s },
	"base64": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"base64²": func(s string) string {
		return base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(s))))
	},
	"hex":     func(s string) string { return hex.EncodeToString([]byte(s)) },
	"percent": func(s string) string { return url.PathEscape(s) + "%2F" },
	"unicode": func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			fmt.Fprintf(&b, "\\u%04x", c)
		}
		return b.String()
	},
}

// TestEngineMatchesGitleaks compares the engine with gitleaks' own
// detector on strings generated from every rule, plain and in each
// encoding, set in code-like text: as an assignment, alone on a line, and
// deep inside a long minified line.
func TestEngineMatchesGitleaks(t *testing.T) {
	d := fixture.Detector(t)
	r := rand.New(rand.NewPCG(3, 5))
	names := slices.Sorted(maps.Keys(encodings))
	for id, samples := range generated(t, d, 2) {
		var b strings.Builder
		fmt.Fprintf(&b, "// %s\n", id)
		for i, s := range samples {
			for _, name := range names {
				e := encodings[name](s)
				fmt.Fprintf(&b, "const %s%d = \"%s\";\n%s\n%s%s%s\n", name, i, e, e, minified(r, 400), e, minified(r, 400))
			}
		}
		text, path := []byte(b.String()), cmp.Or(samplePaths[id], "srv/app/main.js")
		if !sameAsGitleaks(t, d, path, text) {
			return
		}
		if n := countRule(secrets.GitleaksKeys(d, path, text), id); n < minFindingsPerRule {
			t.Errorf("%s: %d findings of the rule in its own samples, want %d or more", id, n, minFindingsPerRule)
		}
	}
}

// minFindingsPerRule is how many findings of its own rule each rule's
// text must give, so that a rule neither side finds cannot pass unseen.
const minFindingsPerRule = 2

// samplePaths are paths for the rules that apply only to some files.
var samplePaths = map[string]string{
	"freemius-secret-key":    "srv/app/config.php",
	"hashicorp-tf-password":  "srv/infra/main.tf",
	"kubernetes-secret-yaml": "srv/deploy/secret.yaml",
	"nuget-config-password":  "srv/app/nuget.config",
}

// handSamples are matches of the rules whose generated strings never
// match: the generator fills a literal "." of a host name, and case-folds
// letters, where the rule or its keyword wants them as they are; for the
// generic rule it makes values too plain to pass its entropy, and for the
// Kubernetes one, runs of any byte where a manifest has its lines.
var handSamples = map[string]string{
	"generic-api-key":           "api_key = \"" + randomText(24, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 7) + "\"",
	"sidekiq-sensitive-url":     "https://" + randomText(8, "0123456789abcdef", 8) + ":" + randomText(8, "0123456789abcdef", 9) + "@gems.contribsys.com/",
	"slack-webhook-url":         "https://hooks.slack.com/services/" + randomText(44, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
	"slack-config-access-token": "xoxe.xoxp-1-" + randomText(164, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 11),
	"kubernetes-secret-yaml":    "kind: Secret\nmetadata:\n  name: db\ndata:\n  password: " + randomText(24, "abcdefghijklmnopqrstuvwxyz0123456789+/", 12) + "\n",
}

// randomText returns n characters of alphabet drawn from a fixed seed.
func randomText(n int, alphabet string, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// countRule counts the keys of rule id.
func countRule(keys []string, id string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, id+"|") {
			n++
		}
	}
	return n
}

// minified is random text shaped like minified JavaScript: one long line
// of identifiers, keywords and punctuation.
func minified(r *rand.Rand, n int) string {
	words := []string{"function", "return", "this.", "key", "token", "api", "auth", "s.", "ey", "sk", "var ", "=", ";", "(", ")", "{", "}", "\"", "'", ",", ".", "a", "b", "e", "t", "n", "0", "1", "x", "_", "$", " ", "\\u00e9", "%20"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// TestDecodedKeywordWidensTheDecoding: decoding runs on windows as wide as
// the rules whose keywords are in the text reach. A keyword that only
// decoding brings in makes the whole text be decoded: here "curl" is
// base64-encoded, and the header its rule needs lies 8 KiB further along a
// minified line, where gitleaks, decoding the whole text, finds it.
func TestDecodedKeywordWidensTheDecoding(t *testing.T) {
	d := fixture.Detector(t)
	enc := base64.StdEncoding.EncodeToString([]byte("curl --silent -X POST"))
	text := "var c=\"" + enc + "\";" + strings.Repeat("a=b+c;", 1400) +
		` -H "Authorization: Bearer Zq81xTr5VbN0mKp3Ws7LyHd2"` + "\n"
	want := secrets.GitleaksKeys(d, "srv/app/main.js", []byte(text))
	if !slices.ContainsFunc(want, func(k string) bool { return strings.HasPrefix(k, "curl-auth-header|") }) {
		t.Fatalf("gitleaks finds %q: the text does not test what it should", want)
	}
	sameAsGitleaks(t, d, "srv/app/main.js", []byte(text))
}

// TestKeywordConditionHoldsWhenMatchesLackKeywords: a rule applies only to
// a text holding one of its keywords. Most rules' matches hold one, so a
// match is proof enough; facebook-access-token's (an app id, a bar and a
// token) does not, so the engine must look for "facebook" itself, as
// gitleaks does, however far from the match it is.
func TestKeywordConditionHoldsWhenMatchesLackKeywords(t *testing.T) {
	d := fixture.Detector(t)
	match := "const t = \"104829373847561|Zq81xTr5VbN0mKp3Ws7LyHd2aQe9\";\n"
	far := "// " + strings.Repeat("x = y + z; ", 2000) + "\n"
	for _, tc := range []struct {
		text  string
		found bool
	}{
		{match, false},
		{"// FaceBook login\n" + far + match, true},
		{match + far + "// see facebook\n", true},
	} {
		want := secrets.GitleaksKeys(d, "app/login.js", []byte(tc.text))
		found := slices.ContainsFunc(want, func(k string) bool { return strings.HasPrefix(k, "facebook-access-token|") })
		if found != tc.found {
			t.Fatalf("gitleaks finds %q: the text does not test what it should", want)
		}
		sameAsGitleaks(t, d, "app/login.js", []byte(tc.text))
	}
}
