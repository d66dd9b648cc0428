package secrets

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// isDockerConfig reports whether p is a docker or podman registry
// credentials file: .docker/config.json (also kaniko's), and the
// containers auth.json.
func isDockerConfig(p string) bool {
	return strings.HasSuffix(p, ".docker/config.json") ||
		base(p) == "auth.json" && strings.Contains(p, "containers")
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// parseDockerConfig finds the credentials of a docker config.json:
// auths.*.auth (base64 user:password, decoded: the secret is the password,
// the description names the user), password, identitytoken and
// registrytoken.
func parseDockerConfig(content []byte) []finding.Match {
	var cfg struct {
		Auths map[string]dockerAuth `json:"auths"`
	}
	if json.Unmarshal(content, &cfg) != nil {
		return nil // not JSON: the content rules still run over it
	}
	var out []finding.Match
	for _, host := range slices.Sorted(maps.Keys(cfg.Auths)) {
		a := cfg.Auths[host]
		from, _ := position(content, fmt.Sprintf("%q", host), 1)
		if user, pass, ok := decodeUserPass(a.Auth); ok && !isPlaceholder(pass) {
			line, col := position(content, a.Auth, from)
			out = append(out, decoded(credential("docker-config-auth", fmt.Sprintf("Registry credentials for %s in a docker config.json: the password of user %q, base64-encoded with it.", host, user), pass, line, col), a.Auth))
		}
		for _, tok := range []struct{ rule, value, what string }{
			{"docker-config-password", a.Password, "password"},
			{"docker-config-identity-token", a.IdentityToken, "identity token"},
			{"docker-config-registry-token", a.RegistryToken, "registry token"},
		} {
			if tok.value != "" && !isPlaceholder(tok.value) {
				line, col := position(content, tok.value, from)
				out = append(out, credential(tok.rule, fmt.Sprintf("A registry %s for %s in a docker config.json.", tok.what, host), tok.value, line, col))
			}
		}
	}
	return out
}
