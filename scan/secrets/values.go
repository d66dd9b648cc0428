package secrets

import (
	"regexp"
	"strconv"
	"strings"
)

// placeholderPattern matches values that stand for a secret without being
// one: shell and CI variables, templates, angle-bracket hints.
var placeholderPattern = regexp.MustCompile(`^(?:` +
	`\$\{?[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+][^}]*)?\}?` + // $VAR, ${VAR}, ${VAR:-default}
	`|\$\(\s*[^)]*\)` + // $(command)
	`|<[^<>]+>` + // <token>
	`|\{\{.*\}\}` + // {{ .Values.token }}
	`|%[A-Za-z_][A-Za-z0-9_]*%` + // %TOKEN%
	`|\$\{\{.*\}\}` + // ${{ secrets.TOKEN }}
	`)$`)

// dummyValues are values that documentation and examples use in place of a
// real secret.
var dummyValues = map[string]bool{
	"changeme": true, "change_me": true, "change-me": true, "changeit": true,
	"password": true, "passwd": true, "secret": true, "token": true,
	"example": true, "dummy": true, "placeholder": true, "redacted": true,
	"none": true, "null": true, "nil": true, "undefined": true, "todo": true,
	"your-token": true, "your_token": true, "yourtoken": true, "your-token-here": true,
	"your-api-key": true, "your_api_key": true, "xxx": true,
}

// exampleKeys are credentials published in vendor documentation.
var exampleKeys = map[string]bool{
	"AKIAIOSFODNN7EXAMPLE":                     true, // AWS
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": true,
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY": true,
	"ghp_16C7e42F292c6912E7710c838347Ae178B4a": true, // GitHub's token documentation
}

// docPlaceholder matches the fill-in-the-blank values of documentation:
// YOUR_TOKEN, your-npm-token, MY_API_KEY, TOKEN_HERE,
// YOUR-TOKEN-WOULD-GO-HERE, <insert token>.
var docPlaceholder = regexp.MustCompile(`(?i)^(?:(?:your|my|insert|replace|put)[-_ ]?(?:own[-_ ]?)?(?:[a-z]+[-_ ]?){0,2}(?:token|key|password|passwd|secret|pat|credentials?)(?:[-_ ]?(?:would[-_ ]?)?(?:go[-_ ]?)?here)?|.*[-_ ](?:goes|go)[-_ ]here|.*[-_]here)$`)

// ascendingRun matches the runs of digits and letters that sample tokens
// are padded with.
var ascendingRun = regexp.MustCompile(`(?i)1234567890|0123456789|abcdefghij`)

// publicKey matches keys that are public by design, made to be shipped in
// web pages and apps: Stripe's publishable keys.
var publicKey = regexp.MustCompile(`^pk_(?:test|live)_[0-9A-Za-z]{10,}$`)

// isPlaceholder reports whether v is a placeholder, a dummy, a documented
// example or a key that is public by design rather than a secret. Such
// values are never findings.
func isPlaceholder(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || exampleKeys[v] || dummyValues[strings.ToLower(v)] || publicKey.MatchString(v) {
		return true
	}
	if placeholderPattern.MatchString(v) || docPlaceholder.MatchString(v) || ascendingRun.MatchString(v) {
		return true
	}
	return oneRepeatedChar(v) || onlyFiller(v)
}

// onlyFiller reports whether v is made of x, X or * and separators only,
// as in xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
func onlyFiller(v string) bool {
	return strings.Trim(v, "xX*-_.: ") == "" && strings.ContainsAny(v, "xX*")
}

// oneRepeatedChar reports whether v is one character repeated (xxxx, ****).
func oneRepeatedChar(v string) bool {
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			return false
		}
	}
	return true
}

// minVariableSecret is the shortest value the secret-named variable rule
// reports. Shorter values are flags and modes ("AUTH=1", "TOKEN=no").
const minVariableSecret = 6

// notASecret reports whether a value assigned to a secret-named variable is
// not worth reporting: placeholders, short flags, booleans, numbers and
// paths (secrets mounted as files are named, not inlined).
func notASecret(v string) bool {
	if isPlaceholder(v) || len(v) < minVariableSecret {
		return true
	}
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "enabled", "disabled":
		return true
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	return strings.HasPrefix(v, "/") && !strings.ContainsAny(v, " \t")
}

// unquote strips one pair of matching single or double quotes.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// secretWords are name fragments that say a variable holds a secret.
var secretWords = []string{
	"TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY",
	"ACCESS_KEY", "ACCESSKEY", "PRIVATE_KEY", "PRIVATEKEY", "CREDENTIAL",
}

// notSecretSuffixes mark names whose values describe a secret rather than
// hold it: a file holding it, where to fetch it, its type or length.
var notSecretSuffixes = []string{
	"_FILE", "_PATH", "_DIR", "_URL", "_URI", "_ENDPOINT", "_HOST", "_TYPE",
	"_MODE", "_LENGTH", "_LEN", "_SIZE", "_TTL", "_EXPIRY", "_EXPIRES",
	"_ENABLED", "_ENABLE", "_REQUIRED", "_NAME", "_ID", "_HEADER", "_METHOD",
}

// secretName reports whether a variable's name says it holds a secret, per
// DESIGN §2: TOKEN, SECRET, PASSWORD, PASSWD, API_KEY, ACCESS_KEY,
// PRIVATE_KEY, CREDENTIAL, or AUTH as a whole word of the name.
func secretName(name string) bool {
	n := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(strings.TrimSpace(name)))
	if n == "" {
		return false
	}
	for _, s := range notSecretSuffixes {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	if containsAny(n, secretWords) {
		return true
	}
	for _, part := range strings.Split(n, "_") {
		if part == "AUTH" {
			return true
		}
	}
	return false
}
