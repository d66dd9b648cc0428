package secrets

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
)

var (
	sharedOnce sync.Once
	shared     *Detector
	sharedErr  error
)

// detector builds the Detector once for the package's tests: loading the
// rule set compiles a few hundred regular expressions.
func detector(t *testing.T) *Detector {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// fakeToken returns a random string in a token format, from a fixed seed so
// tests are repeatable; real-looking tokens are never committed here.
func fakeToken(prefix string, n int, seed uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b strings.Builder
	b.WriteString(prefix)
	for range n {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

type hit struct {
	Rule, Secret, Suppressed string
	Line                     int
}

func findIn(t *testing.T, path, content string) []hit {
	t.Helper()
	var out []hit
	for _, m := range finding.Best(detector(t).DetectFile(context.Background(), finding.File{Path: path, Content: []byte(content)}), nil) {
		out = append(out, hit{m.RuleID, m.Secret.Raw(), "", m.Line})
	}
	return out
}

func TestDetectFile(t *testing.T) {
	npm := fakeToken("npm_", 36, 1)
	ghp := fakeToken("ghp_", 36, 2)
	tests := map[string]struct {
		path, content string
		want          []hit
	}{
		"an .npmrc token is one finding, under its known format": {
			".npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=" + npm + "\n",
			[]hit{{"npm-access-token", npm, "", 2}},
		},
		"an .npmrc token in the legacy UUID form comes from the parser": {
			"root/.npmrc", "//registry.npmjs.org/:_authToken=3f1c9a2e-7b4d-4e8f-9a61-0c2d5e7f8b94\n",
			[]hit{{"npmrc-auth-token", "3f1c9a2e-7b4d-4e8f-9a61-0c2d5e7f8b94", "", 1}},
		},
		"a known token format inside node_modules is reported": {
			"app/node_modules/@acme/private/index.js", "module.exports = {\n  token: '" + ghp + "'\n};\n",
			[]hit{{"github-pat", ghp, "", 2}},
		},
		"a generic key in first-party code is reported": {
			"app/config.js", "const apiKey = \"Zx8Qp2Lm9Rt4Vw7Yb3Nc6Hd1Jf5Kg0Ts\";\n",
			[]hit{{"generic-api-key", "Zx8Qp2Lm9Rt4Vw7Yb3Nc6Hd1Jf5Kg0Ts", "", 1}},
		},
		"documented example keys are not findings": {
			"app/.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
			nil,
		},
		"a PKCS #12 file is flagged by its path alone": {
			"etc/ssl/private/client.p12", "",
			[]hit{{"pkcs12-file", "", "", 0}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, findIn(t, tc.path, tc.content)); diff != "" {
				t.Errorf("DetectFile(%s) (-want +got):\n%s", tc.path, diff)
			}
		})
	}
}

func TestThirdPartyGenericMatchesAreSuppressedNotDropped(t *testing.T) {
	content := []byte("const apiKey = \"Zx8Qp2Lm9Rt4Vw7Yb3Nc6Hd1Jf5Kg0Ts\";\n")
	ms := detector(t).DetectFile(context.Background(), finding.File{Path: "app/node_modules/left-pad/test/fixtures.js", Content: content})
	counts := map[string]int64{}
	if kept := finding.Best(ms, counts); len(kept) != 0 {
		t.Errorf("kept %v, want the generic match suppressed", kept)
	}
	if counts[finding.SuppressThirdParty] != 1 {
		t.Errorf("suppressed counts = %v, want one %s", counts, finding.SuppressThirdParty)
	}
}

func TestSkipContent(t *testing.T) {
	d := detector(t)
	for p, want := range map[string]string{
		"usr/share/icons/logo.png":           finding.SkipAllowlisted,
		"app/fonts/inter.woff2":              finding.SkipAllowlisted,
		"app/node_modules/x/index.js":        "",
		"app/package-lock.json":              "",
		"usr/lib/python3.11/site-packages/a": "",
		"app/.npmrc":                         "",
	} {
		if got := d.SkipContent(p); got != want {
			t.Errorf("SkipContent(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestDetectVariable(t *testing.T) {
	d := detector(t)
	ctx := context.Background()
	got := d.DetectVariable(ctx, "DB_PASSWORD", "'walnut-kettle-8516'")
	if len(got) != 1 || got[0].RuleID != "secret-named-variable" || got[0].Secret.Raw() != "walnut-kettle-8516" {
		t.Errorf("DB_PASSWORD: got %+v, want the unquoted value", got)
	}
	for name, value := range map[string]string{
		"NODE_ENV": "production-build-42", "NPM_TOKEN": "${NPM_TOKEN}", "NPM_TOKEN_FILE": "/run/secrets/npm",
		"API_KEY": "", "PASSWORD": "changeme",
	} {
		if got := d.DetectVariable(ctx, name, value); len(got) != 0 {
			t.Errorf("DetectVariable(%s=%s) = %v, want nothing", name, value, got)
		}
	}
}

func TestDetectorIsSafeForConcurrentUse(t *testing.T) {
	d := detector(t)
	npm := fakeToken("npm_", 36, 3)
	content := []byte(strings.Repeat("filler line with nothing in it\n", 200) + "//registry.npmjs.org/:_authToken=" + npm + "\n")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ms := finding.Best(d.DetectFile(context.Background(), finding.File{Path: ".npmrc", Content: content}), nil)
			if len(ms) != 1 || ms[0].Line != 201 || ms[0].Secret.Raw() != npm {
				t.Errorf("goroutine %d: got %v", i, ms)
			}
		})
	}
	wg.Wait()
}

// TestThirdPartyPolicyInsideArchives: files inside third-party package
// archives are judged as the same files installed under node_modules
// would be, while credential files and known token formats still report.
func TestThirdPartyPolicyInsideArchives(t *testing.T) {
	d := detector(t)
	generic := []byte("repo_token: otepCoBk7yo6MBg4z2jFgrYV8Oc5CJEB\n")
	suppressed := []string{
		"app/packages/nock-2.0.0.tgz!package/.coveralls.yml",
		"root/.npm/_cacache/content-v2/sha512/34/6c/7b95!package/.coveralls.yml",
		"app/vendor/node_modules.tgz!node_modules/nock/.coveralls.yml",
		"wheels/requests-2.31.0-py3-none-any.whl!requests/.coveralls.yml",
		"usr/local/bundle/cache/rake-13.0.gem!data.tar.gz!.coveralls.yml",
		"app/app.jar!BOOT-INF/lib/dep-1.0.jar!.coveralls.yml",
		"root/.m2/repository/org/x/x-1.0.jar!.coveralls.yml",
	}
	for _, p := range suppressed {
		if kept := finding.Best(d.DetectFile(context.Background(), finding.File{Path: p, Content: generic}), nil); len(kept) != 0 {
			t.Errorf("%s: kept %v, want the generic match suppressed as third-party", p, kept)
		}
	}
	for _, p := range []string{"app/.coveralls.yml", "app/app.jar!BOOT-INF/classes/.coveralls.yml", "app/dist.tgz!dist/.coveralls.yml"} {
		if kept := finding.Best(d.DetectFile(context.Background(), finding.File{Path: p, Content: generic}), nil); len(kept) != 1 {
			t.Errorf("%s: kept %v, want the application's own file reported", p, kept)
		}
	}
	npmrc := []byte("//registry.npmjs.org/:_authToken=npm_4zWH8xMS9BMoXOJrLo8F2nXMzqQdgCWwDllJ\n")
	if kept := finding.Best(d.DetectFile(context.Background(), finding.File{Path: "app/private-lib-1.0.0.tgz!package/.npmrc", Content: npmrc}), nil); len(kept) == 0 {
		t.Error("an .npmrc inside a package tarball is not reported")
	}
	token := []byte("module.exports = { token: 'ghp_Rk3mZq8WvT2pLx9sNc4YbH7dJf1aGe6uQo0i' };\n")
	if kept := finding.Best(d.DetectFile(context.Background(), finding.File{Path: "app/lib.tgz!package/index.js", Content: token}), nil); len(kept) == 0 {
		t.Error("a GitHub token in a package's code is not reported")
	}
}

// TestPublishableKeysAreNeverFindings: Stripe's publishable keys ship in
// web pages by design, in any file and in any variable.
func TestPublishableKeysAreNeverFindings(t *testing.T) {
	d := detector(t)
	env := []byte("STRIPE_PUBLISHABLE_KEY=pk_test_TYooMQauvdEDq54NiTphI7jx\nNEXT_PUBLIC_STRIPE_KEY=pk_live_51NzQm2LkT8rHc4YwB9vXeUa0sJpD3fGh\n")
	if got := d.DetectFile(context.Background(), finding.File{Path: "app/.env", Content: env}); len(got) != 0 {
		t.Errorf("a .env of publishable keys: %v", got)
	}
	if got := d.DetectVariable(context.Background(), "STRIPE_API_KEY", "pk_live_51NzQm2LkT8rHc4YwB9vXeUa0sJpD3fGh"); len(got) != 0 {
		t.Errorf("a publishable key in a build arg: %v", got)
	}
	secret := []byte("STRIPE_SECRET_KEY=sk_live_51NzQm2LkT8rHc4YwB9vXeUa0sJpD3fGhKq\n")
	if got := d.DetectFile(context.Background(), finding.File{Path: "app/.env", Content: secret}); len(got) == 0 {
		t.Error("a Stripe secret key is not reported")
	}
}
