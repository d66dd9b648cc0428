package finding

import (
	"fmt"
	"strings"
)

// Severity ranks how bad a leak is.
type Severity string

// The severities, from worst to least.
const (
	Critical Severity = "critical" // a live-format token of a known service
	High     Severity = "high"     // a credential in a credential file, a password in a URL, or a private key
	Medium   Severity = "medium"   // a secret-named variable, or a generic key, with no known format
	Low      Severity = "low"      // an encrypted private key, or a likely test value
)

var severityRank = map[Severity]int{Low: 1, Medium: 2, High: 3, Critical: 4}

// AtLeast reports whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool {
	return severityRank[s] >= severityRank[min]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	s := Severity(strings.ToLower(name))
	if severityRank[s] == 0 {
		return "", fmt.Errorf("unknown severity %q (want critical, high, medium or low)", name)
	}
	return s, nil
}
