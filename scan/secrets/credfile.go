package secrets

import (
	"bytes"
	"encoding/base64"
	"path"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// credentialFile is one kind of file whose format says where its
// credentials are.
type credentialFile struct {
	match func(p string) bool
	parse func(content []byte) []finding.Match
}

// credentialFiles are the credential files imagescan parses. They run
// whatever the file's size or type, in every layer, third-party trees
// included.
var credentialFiles = []credentialFile{
	{isNpmrc, parseNpmrc},
	{baseIs(".yarnrc.yml", ".yarnrc.yaml"), parseYarnrcYML},
	{baseIs(".yarnrc"), parseYarnrc},
	{isDockerConfig, parseDockerConfig},
	{baseIs(".git-credentials"), parseGitCredentials},
	{baseIs(".netrc", "_netrc"), parseNetrc},
	{isAptAuth, parseNetrc},
	{baseIs(".pypirc"), parsePypirc},
	{baseIs("pip.conf", "pip.ini"), parsePipConf},
	{suffixIs(".gem/credentials"), parseGemCredentials},
	{baseIs("settings.xml"), parseMavenSettings},
	{baseIs("auth.json"), parseComposerAuth},
	{suffixIs(".aws/credentials", ".aws/config"), parseAWSConfig},
	{isKubeconfig, parseKubeconfig},
	{isEnvFile, parseEnvFile},
}

// isAptAuth reports whether p is apt's credentials for private
// repositories, /etc/apt/auth.conf or a file in auth.conf.d, which use the
// netrc format.
func isAptAuth(p string) bool {
	return suffixIs("etc/apt/auth.conf")(p) || strings.Contains(p, "etc/apt/auth.conf.d/") && strings.HasSuffix(p, ".conf")
}

// parseCredentialFiles runs the parsers for the file at p.
func parseCredentialFiles(p string, content []byte) []finding.Match {
	var out []finding.Match
	for _, cf := range credentialFiles {
		if cf.match(p) {
			out = append(out, cf.parse(content)...)
		}
	}
	return out
}

func baseIs(names ...string) func(string) bool {
	return func(p string) bool {
		b := base(p)
		for _, n := range names {
			if b == n {
				return true
			}
		}
		return false
	}
}

func suffixIs(suffixes ...string) func(string) bool {
	return func(p string) bool {
		for _, s := range suffixes {
			if p == s || strings.HasSuffix(p, "/"+s) || strings.HasSuffix(p, "!"+s) {
				return true
			}
		}
		return false
	}
}

// base is the last element of a path, which may be a chain through
// archives (bundle.tgz!package/.npmrc).
func base(p string) string {
	if i := strings.LastIndexByte(p, '!'); i >= 0 {
		p = p[i+1:]
	}
	return path.Base(p)
}

// credential is a match of a credential-file parser.
func credential(rule, desc, secret string, line, col int) finding.Match {
	return finding.Match{
		RuleID: rule, Description: strings.ToValidUTF8(desc, "\uFFFD"), Secret: finding.NewSecret(secret),
		Line: line, Column: col, Priority: priorityParser, Severity: finding.High,
	}
}

// decoded is credential for a secret read out of encoded text: the
// encoded form reveals it too, so reporters redact both.
func decoded(m finding.Match, encoded string) finding.Match {
	m.Secret = m.Secret.WithEncoded(strings.TrimSpace(encoded))
	return m
}

// position returns the 1-based line and column of the first occurrence of
// value in content at or after line from (1-based), or of the line itself
// when value does not occur in it as written (a decoded value).
func position(content []byte, value string, from int) (line, col int) {
	lines := bytes.Split(content, []byte("\n"))
	for i := max(from-1, 0); i < len(lines); i++ {
		if j := bytes.Index(lines[i], []byte(value)); j >= 0 {
			return i + 1, j + 1
		}
	}
	return from, 1
}

// lines calls fn with each line and its 1-based number.
func lines(content []byte, fn func(n int, line string)) {
	for i, l := range bytes.Split(content, []byte("\n")) {
		fn(i+1, strings.TrimRight(string(l), "\r"))
	}
}

// decodeUserPass decodes a base64 "user:password" pair.
func decodeUserPass(b64 string) (user, pass string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok && pass != ""
}

// decodeBase64 decodes a base64 value that is printable text.
func decodeBase64(b64 string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(raw) == 0 || bytes.ContainsAny(raw, "\x00\n") {
		return "", false
	}
	return string(raw), true
}

// keyValue splits "key = value" or "key: value" (sep) and unquotes the
// value; ok is false for comments and lines without sep.
func keyValue(line string, seps string) (key, value string, ok bool) {
	t := strings.TrimSpace(line)
	if t == "" || t[0] == '#' || t[0] == ';' || strings.HasPrefix(t, "//") && !strings.Contains(t, "=") {
		return "", "", false
	}
	i := strings.IndexAny(t, seps)
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimSpace(t[:i])
	value = unquote(strings.TrimSpace(stripComment(t[i+1:])))
	return key, value, true
}

// stripComment removes a trailing " #comment" from an unquoted value.
func stripComment(v string) string {
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		return v
	}
	if i := strings.Index(v, " #"); i >= 0 {
		return v[:i]
	}
	return v
}
