package secrets

import (
	"fmt"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// iniSecrets reads an INI file and reports the values of the keys in
// secretKeys (lower case), with the section in the description.
func iniSecrets(content []byte, rule, file string, secretKeys map[string]string) []finding.Match {
	var out []finding.Match
	section := ""
	lines(content, func(n int, line string) {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			section = strings.TrimSpace(t[1 : len(t)-1])
			return
		}
		key, value, ok := keyValue(line, "=:")
		what, secret := secretKeys[strings.ToLower(key)]
		if !ok || !secret || isPlaceholder(value) {
			return
		}
		desc := fmt.Sprintf("%s in %s", what, file)
		if section != "" {
			desc += fmt.Sprintf(", section [%s]", section)
		}
		out = append(out, credential(rule, desc+".", value, n, strings.Index(line, value)+1))
	})
	return out
}

// parsePypirc finds the passwords (often PyPI API tokens) of a .pypirc.
func parsePypirc(content []byte) []finding.Match {
	return iniSecrets(content, "pypirc-password", "a .pypirc", map[string]string{"password": "A package index password"})
}

// parseAWSConfig finds the secrets of an AWS shared credentials or config
// file: secret access keys and session tokens. Access key IDs are not
// secret alone; gitleaks' rules report them by their format.
func parseAWSConfig(content []byte) []finding.Match {
	return iniSecrets(content, "aws-credentials-file", "an AWS credentials file", map[string]string{
		"aws_secret_access_key": "An AWS secret access key",
		"aws_session_token":     "An AWS session token",
		"aws_security_token":    "An AWS session token",
	})
}
