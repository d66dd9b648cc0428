package secrets

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// isNpmrc reports whether the file at p is an npm config file: .npmrc in a
// project or home directory, or npmrc as in /etc/npmrc and
// /usr/local/etc/npmrc.
func isNpmrc(p string) bool {
	base := path.Base(p)
	return base == ".npmrc" || base == "npmrc"
}

// parseNpmrc finds the credentials of an npm config file: _authToken,
// _auth and _password, scoped to a registry (//host/path/:_authToken) or
// not, quoted or not. Environment placeholders such as ${NPM_TOKEN} are
// expanded by npm at run time and are not secrets.
func parseNpmrc(content []byte) []finding.Match {
	var out []finding.Match
	for i, line := range bytes.Split(content, []byte("\n")) {
		if m, ok := npmrcLine(string(line)); ok {
			m.Line = i + 1
			out = append(out, m)
		}
	}
	return out
}

func npmrcLine(line string) (finding.Match, bool) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
		return finding.Match{}, false
	}
	key, value, ok := strings.Cut(trimmed, "=")
	if !ok {
		return finding.Match{}, false
	}
	key = strings.TrimSpace(key)
	value = unquote(strings.TrimSpace(value))
	if isPlaceholder(value) {
		return finding.Match{}, false
	}
	scope, setting := "", key
	if i := strings.LastIndex(key, ":"); i >= 0 && strings.HasPrefix(key, "//") {
		scope, setting = key[:i], key[i+1:]
	}
	m := finding.Match{
		Secret:   finding.NewSecret(value),
		Column:   strings.Index(line, value) + 1,
		Priority: priorityParser,
	}
	switch setting {
	case "_authToken":
		m.RuleID = "npmrc-auth-token"
		m.Description = "An npm registry auth token in an npm config file" + forScope(scope) + "."
	case "_auth":
		m.RuleID = "npmrc-auth"
		m.Description = "npm basic auth (base64 user:password) in an npm config file" + forScope(scope) + forUser(value) + "."
	case "_password":
		m.RuleID = "npmrc-password"
		m.Description = "An npm registry password (base64) in an npm config file" + forScope(scope) + "."
	default:
		return finding.Match{}, false
	}
	return m, true
}

func forScope(scope string) string {
	if scope == "" {
		return ""
	}
	return " for " + scope
}

// forUser names the user of a base64 user:password pair, so the reader knows
// whose account leaked. The password half is never put in the description.
func forUser(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return ", not valid base64"
	}
	user, _, ok := strings.Cut(string(raw), ":")
	if !ok {
		return ", decoding to no user:password pair"
	}
	return fmt.Sprintf(", user %q", user)
}
