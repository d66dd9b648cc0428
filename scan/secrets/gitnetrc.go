package secrets

import (
	"bytes"
	"cmp"
	"fmt"
	"net/url"
	"strings"

	glregexp "github.com/zricethezav/gitleaks/v8/regexp"

	"github.com/imagescan/imagescan/finding"
)

// urlCredential matches a URL carrying a password: scheme://user:password@host.
var urlCredential = glregexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9+.-]{1,20})://([^\s:/@"'<>\x60]{1,256}):([^\s/@"'<>\x60]{1,256})@([^\s/:"'<>\x60?#]{1,256})`)

// dummyURLPasswords are the passwords of documentation URLs.
var dummyURLPasswords = map[string]bool{
	"pass": true, "passwd": true, "password": true, "pwd": true, "secret": true,
	"changeme": true, "xxx": true, "****": true, "pw": true, "p": true, "mypassword": true,
	"your-password": true, "yourpassword": true, "token": true, "example": true,
}

// dummyURLPassword reports whether a URL's password is a placeholder of
// documentation or a template: a dummy word, a variable ($PASS, %s,
// {password}, <pass>), or troff markup in a man page.
func dummyURLPassword(user, pass string) bool {
	if isPlaceholder(pass) || placeholderPattern.MatchString(user) || dummyURLPasswords[strings.ToLower(pass)] {
		return true
	}
	return strings.ContainsAny(pass[:1], `$%{<[\`) || strings.Contains(pass, `\f`)
}

// urlCredentials finds passwords in URLs in any text: database URLs,
// registry URLs in pip.conf and .git-credentials, proxy settings. The
// secret is the password, decoded from URL escapes.
//
// It runs on every byte imagescan scans, so it looks for the '@' of a
// userinfo first and runs its pattern only on the lines that hold one and
// a "://" too.
func urlCredentials(content []byte, rule, where string) []finding.Match {
	var out []finding.Match
	lineNo, lineStart := 1, 0
	for at := 0; at < len(content); {
		i := bytes.IndexByte(content[at:], '@')
		if i < 0 {
			break
		}
		i += at
		start := lineStart + bytes.LastIndexByte(content[lineStart:i], '\n') + 1
		end := i + bytes.IndexByte(content[i:], '\n')
		if end < i {
			end = len(content)
		}
		lineNo += bytes.Count(content[lineStart:start], []byte("\n"))
		lineStart = start
		if line := content[start:end]; bytes.Contains(line, []byte("://")) {
			out = append(out, urlsInLine(string(line), lineNo, rule, where)...)
		}
		at = end + 1
	}
	return out
}

// urlsInLine reports the URL passwords of one line.
func urlsInLine(line string, n int, rule, where string) []finding.Match {
	var out []finding.Match
	for _, m := range urlCredential.FindAllStringSubmatchIndex(line, -1) {
		scheme, user, raw, host := line[m[2]:m[3]], line[m[4]:m[5]], line[m[6]:m[7]], line[m[8]:m[9]]
		pass, err := url.PathUnescape(raw)
		if err != nil {
			pass = raw
		}
		if dummyURLPassword(user, pass) {
			continue
		}
		desc := fmt.Sprintf("A password in a %s URL for user %q at %s%s.", scheme, user, host, where)
		out = append(out, credential(rule, desc, pass, n, m[6]+1))
	}
	return out
}

// parseGitCredentials reads a git credential store: one
// https://user:token@host URL per line.
func parseGitCredentials(content []byte) []finding.Match {
	return urlCredentials(content, "git-credentials", " in a .git-credentials store")
}

// parsePipConf finds credentials in pip's index URLs (index-url,
// extra-index-url), which pip.conf and pip.ini hold.
func parsePipConf(content []byte) []finding.Match {
	return urlCredentials(content, "pip-index-credentials", " in a pip config")
}

// parseNetrc reads a .netrc: whitespace-separated tokens, where the token
// after "password" is a password; macdef bodies are skipped.
func parseNetrc(content []byte) []finding.Match {
	var out []finding.Match
	machine, login := "", ""
	want, inMacro := "", false
	lines(content, func(n int, line string) {
		if inMacro {
			inMacro = strings.TrimSpace(line) != ""
			return
		}
		for _, f := range fieldsWithColumns(line) {
			switch {
			case want == "machine":
				machine, want = f.text, ""
			case want == "login":
				login, want = f.text, ""
			case want == "password":
				if !isPlaceholder(f.text) {
					desc := fmt.Sprintf("A password in a .netrc for login %q at %s.", login, cmp.Or(machine, "the default machine"))
					out = append(out, credential("netrc-password", desc, f.text, n, f.col))
				}
				want = ""
			case f.text == "machine" || f.text == "login" || f.text == "password":
				want = f.text
			case f.text == "default":
				machine = ""
			case f.text == "macdef":
				inMacro = true
				return
			}
		}
	})
	return out
}

type field struct {
	text string
	col  int
}

// fieldsWithColumns splits line on white space, keeping each field's
// 1-based column and stopping at a # comment.
func fieldsWithColumns(line string) []field {
	var out []field
	start := -1
	for i := 0; i <= len(line); i++ {
		if i < len(line) && line[i] != ' ' && line[i] != '\t' {
			if start < 0 {
				if line[i] == '#' {
					return out
				}
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, field{line[start:i], start + 1})
			start = -1
		}
	}
	return out
}
