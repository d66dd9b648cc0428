package secrets

import (
	"regexp"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
	glregexp "github.com/zricethezav/gitleaks/v8/regexp"
)

// thirdPartyTree matches paths inside trees of installed or cached
// third-party code and documentation: npm, Go and PHP vendoring, Bower,
// Python site-packages and virtualenvs, Ruby bundles, npm's and Maven's
// and Gradle's caches, the libraries a Java application bundles, and what
// the OS package manager installs (Debian's packaged node and Python
// libraries, headers, documentation, man pages) or keeps (apt lists, the
// dpkg database).
var thirdPartyTree = regexp.MustCompile(`(?:^|/)(?:` +
	`node_modules|vendor|bower_components|site-packages|dist-packages|[^/]+\.dist-info|[^/]+\.egg-info|v?env/lib(?:64)?|virtualenv/lib(?:64)?|gems` +
	`|_cacache|\.m2/repository|\.gradle/caches|(?:BOOT|WEB)-INF/lib|usr/share/java` +
	`|usr/(?:share/(?:doc|man|info|nodejs|javascript|perl5?|ruby-[^/]+|gems)|include|lib/(?:python[23][.0-9]*|node_modules|x86_64-linux-gnu/perl[^/]*|ruby))` +
	`|var/lib/(?:apt/lists|dpkg)|var/cache/(?:apt|debconf)` +
	`)/`)

// packageArchive matches the files of third-party package formats: Python
// wheels and eggs, Ruby gems, and Java libraries (an application's own jar
// is not one, but the jars it bundles are, by where they lie).
var packageArchive = regexp.MustCompile(`\.(?:whl|egg|gem)$`)

// inThirdPartyTree reports whether the file at path, which may be a chain
// through archives (app.tgz!package/README.md), is third-party code or
// documentation: some link of the chain lies in a third-party tree, or is
// inside a third-party package's archive. An npm package tarball, as npm
// pack writes it and npm's cache keeps it, holds everything under
// package/.
func inThirdPartyTree(path string) bool {
	links := strings.Split(path, "!")
	for i, link := range links {
		if thirdPartyTree.MatchString(link) {
			return true
		}
		if i > 0 && (strings.HasPrefix(link, "package/") || packageArchive.MatchString(links[i-1])) {
			return true
		}
	}
	return false
}

// osBinaryTree matches where the OS package manager installs programs and
// libraries: /usr (but not /usr/local, the image author's own), /bin,
// /sbin and the /lib directories.
var osBinaryTree = regexp.MustCompile(`^(?:usr/(?:bin|sbin|lib(?:32|64|x32)?|libexec|share)|bin|sbin|lib(?:32|64|x32)?)/`)

// osPackagedBinary reports whether a binary file at path (not inside an
// archive) lies where OS packages put programs and libraries. Their
// strings hold what the upstream code compiled in, such as the private
// keys a crypto library tests itself with: third-party policy applies,
// and a private key there is a sample (see judge).
func osPackagedBinary(path string) bool {
	return !strings.Contains(path, "!") && osBinaryTree.MatchString(path)
}

// sampleFile matches the tests, fixtures, examples and documentation that
// third-party packages ship, whose tokens are samples: test and example
// directories, man and doc trees, READMEs and changelogs, files named like
// foo.examples.json or bar.test.js, and TypeScript declarations, which
// hold types and doc comments (with their examples), never values.
var sampleFile = regexp.MustCompile(`(?i)(?:(?:^|[/!])(?:tests?|__tests__|spec|specs|fixtures?|testdata|test-data|examples?|samples?|docs?|man|info)/` +
	`|(?:^|[/!])(?:readme|changelog|changes|history|news)[^/!]*$|\.(?:md|markdown|rst|txt|html?)$|\.(?:examples?|samples?|tests?|spec)\.[a-z0-9]+$|\.d\.[cm]?ts$)`)

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
