package secrets

import (
	"regexp"
	"strings"
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

func withoutThirdPartyPaths(paths []string) []string {
	var kept []string
	for _, p := range paths {
		if !containsAny(p, thirdPartyAllowlist) {
			kept = append(kept, p)
		}
	}
	return kept
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
