package secrets

import (
	"regexp"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
	glregexp "github.com/zricethezav/gitleaks/v8/regexp"
)

// thirdPartyTree matches paths inside trees of installed third-party code
// and documentation: npm, Go and PHP vendoring, Bower, Python
// site-packages and virtualenvs, Ruby bundles, and what the OS package
// manager installs (Debian's packaged node and Python libraries, headers,
// documentation, man pages) or keeps (apt lists, the dpkg database).
var thirdPartyTree = regexp.MustCompile(`(?:^|/)(?:` +
	`node_modules|vendor|bower_components|site-packages|dist-packages|[^/]+\.dist-info|[^/]+\.egg-info|v?env/lib(?:64)?|virtualenv/lib(?:64)?|gems` +
	`|usr/(?:share/(?:doc|man|info|nodejs|javascript|perl5?|ruby-[^/]+|gems)|include|lib/(?:python[23][.0-9]*|node_modules|x86_64-linux-gnu/perl[^/]*|ruby))` +
	`|var/lib/(?:apt/lists|dpkg)|var/cache/(?:apt|debconf)` +
	`)/`)

func inThirdPartyTree(path string) bool {
	return thirdPartyTree.MatchString(path)
}

// sampleFile matches the tests, fixtures, examples and documentation that
// third-party packages ship, whose tokens are samples: test and example
// directories, man and doc trees, READMEs and changelogs, and files named
// like foo.examples.json or bar.test.js.
var sampleFile = regexp.MustCompile(`(?i)(?:(?:^|/)(?:tests?|__tests__|spec|specs|fixtures?|testdata|test-data|examples?|samples?|docs?|man|info)/` +
	`|(?:^|/)(?:readme|changelog|changes|history|news)[^/]*$|\.(?:md|markdown|rst|txt|html?)$|\.(?:examples?|samples?|tests?|spec)\.[a-z0-9]+$)`)

// isSample reports whether p is a sample file inside a third-party tree.
func isSample(p string) bool {
	return inThirdPartyTree(p) && sampleFile.MatchString(p)
}

// thirdPartyAllowlist names fragments of gitleaks' default path allowlist
// entries that skip whole third-party trees or lock files. imagescan scans
// those paths (see the package documentation), so the entries are removed.
var thirdPartyAllowlist = []string{
	"node_modules", "bower_components", "vendor/", "python", "dist-info",
	"virtualenv", "package-lock", "Pipfile", `\.gem$`,
}

// defaultAllowlist is the description of gitleaks' default global
// allowlist, the one whose third-party entries imagescan removes. A user's
// own allowlists are left as written.
const defaultAllowlist = "global allow lists"

// withoutThirdPartyAllowlists rebuilds the default global allowlist
// without its third-party path entries.
func withoutThirdPartyAllowlists(lists []*config.Allowlist) []*config.Allowlist {
	out := make([]*config.Allowlist, 0, len(lists))
	for _, a := range lists {
		if a.Description != defaultAllowlist {
			out = append(out, a)
			continue
		}
		var paths []*glregexp.Regexp
		for _, p := range a.Paths {
			if !containsAny(p.String(), thirdPartyAllowlist) {
				paths = append(paths, p)
			}
		}
		rebuilt := &config.Allowlist{
			Description: a.Description, MatchCondition: a.MatchCondition, Commits: a.Commits,
			Paths: paths, RegexTarget: a.RegexTarget, Regexes: a.Regexes, StopWords: a.StopWords,
		}
		if rebuilt.Validate() == nil {
			out = append(out, rebuilt)
		}
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
