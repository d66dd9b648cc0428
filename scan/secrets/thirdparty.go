package secrets

import (
	"regexp"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
	glregexp "github.com/zricethezav/gitleaks/v8/regexp"
)

// thirdPartyTree matches paths inside trees of installed third-party
// packages: npm, Go and PHP vendoring, Bower, Python site-packages and
// virtualenvs, Ruby bundles.
var thirdPartyTree = regexp.MustCompile(`(?:^|/)(?:node_modules|vendor|bower_components|site-packages|dist-packages|[^/]+\.dist-info|[^/]+\.egg-info|v?env/lib(?:64)?|virtualenv/lib(?:64)?|gems)/`)

func inThirdPartyTree(path string) bool {
	return thirdPartyTree.MatchString(path)
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
