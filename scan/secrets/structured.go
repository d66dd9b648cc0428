package secrets

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// gemAPIKey is a RubyGems API key line in ~/.gem/credentials, a YAML map
// of ":rubygems_api_key: KEY" or "https://host: KEY".
var gemAPIKey = regexp.MustCompile(`^\s*(:?[\w]*api_key|https?://[^\s:]+(?::\d+)?/?)\s*:\s*(\S+)\s*$`)

// parseGemCredentials finds the API keys in a RubyGems credentials file.
func parseGemCredentials(content []byte) []finding.Match {
	var out []finding.Match
	lines(content, func(n int, line string) {
		m := gemAPIKey.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(strings.TrimSpace(line), "#") {
			return
		}
		value := unquote(m[2])
		if isPlaceholder(value) || value == "---" {
			return
		}
		out = append(out, credential("gem-credentials", fmt.Sprintf("A RubyGems API key (%s) in ~/.gem/credentials.", strings.TrimPrefix(m[1], ":")), value, n, strings.Index(line, value)+1))
	})
	return out
}

// mavenPassword is a <password> or <passphrase> element of a Maven
// settings.xml server entry.
var mavenPassword = regexp.MustCompile(`<(password|passphrase)>\s*([^<]+?)\s*</(?:password|passphrase)>`)

// parseMavenSettings finds the server passwords of a Maven settings.xml.
// Values encrypted with Maven's master password ({...}) are still
// reported: the master password often sits beside them.
func parseMavenSettings(content []byte) []finding.Match {
	var out []finding.Match
	lines(content, func(n int, line string) {
		for _, m := range mavenPassword.FindAllStringSubmatchIndex(line, -1) {
			value := line[m[4]:m[5]]
			if isPlaceholder(value) || strings.HasPrefix(value, "${") {
				continue
			}
			desc := "A server " + line[m[2]:m[3]] + " in a Maven settings.xml."
			if strings.HasPrefix(value, "{") && strings.HasSuffix(value, "}") {
				desc = "A server " + line[m[2]:m[3]] + " in a Maven settings.xml, encrypted with the Maven master password."
			}
			out = append(out, credential("maven-settings-password", desc, value, n, m[4]+1))
		}
	})
	return out
}

// parseComposerAuth finds the credentials of a Composer auth.json:
// http-basic passwords, and github-oauth, gitlab-token, gitlab-oauth,
// bitbucket-oauth and bearer tokens. A containers auth.json (podman's
// registry credentials) is read as a docker config.
func parseComposerAuth(content []byte) []finding.Match {
	var doc map[string]json.RawMessage
	if json.Unmarshal(content, &doc) != nil {
		return nil
	}
	if _, ok := doc["auths"]; ok {
		return parseDockerConfig(content)
	}
	var out []finding.Match
	for _, kind := range slices.Sorted(maps.Keys(doc)) {
		var hosts map[string]json.RawMessage
		if json.Unmarshal(doc[kind], &hosts) != nil {
			continue
		}
		for _, host := range slices.Sorted(maps.Keys(hosts)) {
			out = append(out, composerEntry(content, kind, host, hosts[host])...)
		}
	}
	return out
}

func composerEntry(content []byte, kind, host string, raw json.RawMessage) []finding.Match {
	var secret string
	switch kind {
	case "http-basic":
		var basic struct{ Username, Password string }
		if json.Unmarshal(raw, &basic) != nil {
			return nil
		}
		secret = basic.Password
	case "github-oauth", "gitlab-token", "gitlab-oauth", "bearer", "bitbucket-oauth":
		if json.Unmarshal(raw, &secret) != nil {
			var tok struct {
				Token          string
				ConsumerSecret string `json:"consumer-secret"`
			}
			if json.Unmarshal(raw, &tok) != nil {
				return nil
			}
			secret = cmp.Or(tok.Token, tok.ConsumerSecret)
		}
	default:
		return nil
	}
	if secret == "" || isPlaceholder(secret) {
		return nil
	}
	from, _ := position(content, fmt.Sprintf("%q", host), 1)
	line, col := position(content, secret, from)
	return []finding.Match{credential("composer-auth", fmt.Sprintf("A Composer %s credential for %s in auth.json.", kind, host), secret, line, col)}
}

// kubeSecretKey is a kubeconfig user field that holds a credential.
var kubeSecretKey = regexp.MustCompile(`^\s*-?\s*(token|client-key-data|password)\s*:\s*(\S+)\s*$`)

// isKubeconfig reports whether p is a kubeconfig: ~/.kube/config, or a
// file named kubeconfig or *.kubeconfig.
func isKubeconfig(p string) bool {
	b := base(p)
	return strings.HasSuffix(p, ".kube/config") || b == "kubeconfig" || strings.HasSuffix(b, ".kubeconfig")
}

// parseKubeconfig finds the user credentials of a kubeconfig: bearer
// tokens, client key data (a base64 private key) and basic-auth passwords.
func parseKubeconfig(content []byte) []finding.Match {
	var out []finding.Match
	lines(content, func(n int, line string) {
		m := kubeSecretKey.FindStringSubmatch(line)
		if m == nil {
			return
		}
		value := unquote(m[2])
		if isPlaceholder(value) {
			return
		}
		out = append(out, credential("kubeconfig-"+m[1], fmt.Sprintf("A cluster user's %s in a kubeconfig.", m[1]), value, n, strings.Index(line, value)+1))
	})
	return out
}

// isEnvFile reports whether p is a dotenv file: .env, .env.production,
// app.env. Example and template files are not: their values are
// placeholders by design.
func isEnvFile(p string) bool {
	b := base(p)
	for _, suffix := range []string{".example", ".sample", ".template", ".dist", ".tpl"} {
		if strings.HasSuffix(b, suffix) {
			return false
		}
	}
	return b == ".env" || strings.HasPrefix(b, ".env.") || strings.HasSuffix(b, ".env")
}

// parseEnvFile reports the values of secret-named keys in a dotenv file,
// like the secret-named variable rule does for ENV and build args.
func parseEnvFile(content []byte) []finding.Match {
	var out []finding.Match
	lines(content, func(n int, line string) {
		key, value, ok := keyValue(strings.TrimPrefix(strings.TrimSpace(line), "export "), "=")
		if !ok || !secretName(key) || notASecret(value) {
			return
		}
		m := credential("env-file-secret", fmt.Sprintf("A value assigned to %s, a name that says it holds a secret, in a .env file.", key), value, n, strings.Index(line, value)+1)
		m.Severity, m.Priority = finding.Medium, priorityVariable
		out = append(out, m)
	})
	return out
}
