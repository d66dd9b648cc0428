package secrets

import (
	"fmt"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// isNpmrc reports whether the file at p is an npm config file: .npmrc in a
// project or home directory, or npmrc as in /etc/npmrc and
// /usr/local/etc/npmrc.
func isNpmrc(p string) bool {
	b := base(p)
	return b == ".npmrc" || b == "npmrc"
}

// npmScope splits an npm config key into its registry scope and setting:
// "//registry.npmjs.org/:_authToken" is scope "//registry.npmjs.org/" and
// setting "_authToken"; a key without a scope is all setting.
func npmScope(key string) (scope, setting string) {
	if i := strings.LastIndex(key, ":"); i >= 0 && strings.HasPrefix(key, "//") {
		return key[:i], key[i+1:]
	}
	return "", key
}

// parseNpmrc finds the credentials of an npm config file: _authToken,
// _auth and _password, scoped to a registry (//host/path/:_authToken) or
// not, quoted or not. _auth (base64 user:password) and _password (base64
// password) are decoded: the secret is the password, the description names
// the user. Environment placeholders such as ${NPM_TOKEN} are expanded by
// npm at run time and are not secrets.
func parseNpmrc(content []byte) []finding.Match {
	var out []finding.Match
	lines(content, func(n int, line string) {
		key, value, ok := keyValue(line, "=")
		if !ok || isPlaceholder(value) {
			return
		}
		scope, setting := npmScope(key)
		if m, ok := npmrcSetting(setting, scope, value); ok {
			m.Line, m.Column = n, strings.Index(line, value)+1
			out = append(out, m)
		}
	})
	return out
}

func npmrcSetting(setting, scope, value string) (finding.Match, bool) {
	where := forScope(scope)
	switch setting {
	case "_authToken":
		return credential("npmrc-auth-token", "An npm registry auth token in an npm config file"+where+".", value, 0, 0), true
	case "_auth":
		if user, pass, ok := decodeUserPass(value); ok {
			return decoded(credential("npmrc-auth", fmt.Sprintf("npm basic auth in an npm config file%s: the password of user %q, base64-encoded with it.", where, user), pass, 0, 0), value), true
		}
		return credential("npmrc-auth", "npm basic auth in an npm config file"+where+", not a valid base64 user:password.", value, 0, 0), true
	case "_password":
		if pass, ok := decodeBase64(value); ok {
			return decoded(credential("npmrc-password", "An npm registry password in an npm config file"+where+", base64-encoded.", pass, 0, 0), value), true
		}
		return credential("npmrc-password", "An npm registry password in an npm config file"+where+", not valid base64.", value, 0, 0), true
	}
	return finding.Match{}, false
}

func forScope(scope string) string {
	if scope == "" {
		return ""
	}
	return " for " + scope
}
