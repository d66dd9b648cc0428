package secrets

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// yarnAuthKey is a Yarn Berry auth setting, at the top level of
// .yarnrc.yml or under npmScopes and npmRegistries.
var yarnAuthKey = regexp.MustCompile(`^\s*(npmAuthToken|npmAuthIdent)\s*:\s*(.+?)\s*$`)

// parseYarnrcYML finds npmAuthToken and npmAuthIdent in a .yarnrc.yml.
// npmAuthIdent is "user:password", possibly base64-encoded; the secret is
// the password.
func parseYarnrcYML(content []byte) []finding.Match {
	var out []finding.Match
	lines(content, func(n int, line string) {
		m := yarnAuthKey.FindStringSubmatch(line)
		if m == nil {
			return
		}
		value := unquote(stripComment(m[2]))
		if isPlaceholder(value) {
			return
		}
		col := strings.Index(line, value) + 1
		if m[1] == "npmAuthToken" {
			out = append(out, credential("yarnrc-auth-token", "A Yarn npmAuthToken in a .yarnrc.yml.", value, n, col))
			return
		}
		out = append(out, identMatch(value, n, col))
	})
	return out
}

func identMatch(value string, line, col int) finding.Match {
	user, pass, ok := strings.Cut(value, ":")
	encoded := ""
	if !ok {
		user, pass, ok = decodeUserPass(value)
		encoded = value
	}
	if !ok || pass == "" {
		return credential("yarnrc-auth-ident", "A Yarn npmAuthIdent in a .yarnrc.yml, not a user:password pair.", value, line, col)
	}
	return decoded(credential("yarnrc-auth-ident", fmt.Sprintf("A Yarn npmAuthIdent in a .yarnrc.yml: the password of user %q.", user), pass, line, col), encoded)
}

// parseYarnrc finds registry credentials in a Yarn v1 .yarnrc, whose lines
// are `key value` with either side possibly quoted, as in
// "//registry.npmjs.org/:_authToken" "npm_…".
func parseYarnrc(content []byte) []finding.Match {
	var out []finding.Match
	lines(content, func(n int, line string) {
		key, value, ok := yarnV1Pair(line)
		if !ok || isPlaceholder(value) {
			return
		}
		scope, setting := npmScope(key)
		if m, ok := npmrcSetting(setting, scope, value); ok {
			m.RuleID = strings.Replace(m.RuleID, "npmrc", "yarnrc", 1)
			m.Description = strings.Replace(m.Description, "an npm config file", "a Yarn v1 .yarnrc", 1)
			m.Line, m.Column = n, strings.Index(line, value)+1
			out = append(out, m)
		}
	})
	return out
}

func yarnV1Pair(line string) (key, value string, ok bool) {
	t := strings.TrimSpace(line)
	if t == "" || t[0] == '#' {
		return "", "", false
	}
	if t[0] == '"' {
		end := strings.Index(t[1:], `"`)
		if end < 0 {
			return "", "", false
		}
		key, t = t[1:end+1], t[end+2:]
	} else {
		var found bool
		key, t, found = strings.Cut(t, " ")
		if !found {
			return "", "", false
		}
	}
	value = unquote(strings.TrimSpace(t))
	return key, value, value != ""
}
