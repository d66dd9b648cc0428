// Package baseline reads what suppresses findings: an earlier JSON report
// (--baseline) and an ignore file of fingerprints (--ignore). Suppressed
// findings are kept aside and counted, never dropped, and never change the
// exit code.
package baseline

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

// Set is the fingerprints that suppress findings, each with its reason.
type Set struct {
	reasons map[string]string // fingerprint → finding.SuppressBaseline or SuppressIgnore
}

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{reasons: map[string]string{}} }

// Len returns the number of fingerprints in the set.
func (s *Set) Len() int { return len(s.reasons) }

// Apply moves every finding of r whose fingerprint is in the set to
// r.Suppressed.
func (s *Set) Apply(r *scan.Result) {
	r.Suppress(func(f finding.Finding) string { return s.reasons[f.Fingerprint] })
}

// add records fingerprint fp with reason, unless an earlier source gave it
// one: a baseline is read before the ignore file and keeps its reason.
func (s *Set) add(fp, reason string) {
	if _, ok := s.reasons[fp]; !ok {
		s.reasons[fp] = reason
	}
}

// baselineReport is the part of a JSON report a baseline needs.
type baselineReport struct {
	SchemaVersion  *int   `json:"schema_version"`
	FingerprintKey string `json:"fingerprint_key"`
	Images         []struct {
		Findings   []baselineFinding `json:"findings"`
		Suppressed []baselineFinding `json:"suppressed_findings"`
	} `json:"images"`
}

type baselineFinding struct {
	Fingerprint string `json:"fingerprint"`
}

// ReportSchemaVersion is the JSON report version whose fingerprints this build
// makes. Reports of version 1 had fingerprints under a public key.
const ReportSchemaVersion = 2

// AddBaseline adds every fingerprint of the JSON report at path, the
// suppressed findings it lists included. keyID is the run's key
// (finding.Key.ID): a report made under another key has other
// fingerprints and is refused rather than silently matching nothing.
func (s *Set) AddBaseline(path, keyID string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err // names the path
	}
	var rep baselineReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("%s: not an imagescan JSON report: %w", path, err)
	}
	switch {
	case rep.SchemaVersion == nil || rep.Images == nil:
		return fmt.Errorf("%s: not an imagescan JSON report (no schema_version or images)", path)
	case *rep.SchemaVersion != ReportSchemaVersion:
		return fmt.Errorf("%s: report schema version %d, this imagescan reads version %d: make the baseline again", path, *rep.SchemaVersion, ReportSchemaVersion)
	case rep.FingerprintKey != keyID:
		return fmt.Errorf("%s: its fingerprints were made with key %s, this run uses key %s: set IMAGESCAN_FINGERPRINT_KEY to the key that made it", path, rep.FingerprintKey, keyID)
	}
	for _, img := range rep.Images {
		for _, f := range append(img.Findings, img.Suppressed...) {
			if !isFingerprint(f.Fingerprint) {
				return fmt.Errorf("%s: %q is not a fingerprint", path, f.Fingerprint)
			}
			s.add(f.Fingerprint, finding.SuppressBaseline)
		}
	}
	return nil
}

// AddIgnoreFile adds the fingerprints of the ignore file at path: one per
// line; "#" starts a comment, which may follow a fingerprint.
func (s *Set) AddIgnoreFile(path string) error {
	file, err := os.Open(path)
	if err != nil {
		return err // names the path
	}
	defer file.Close()
	if err := s.addIgnore(file); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (s *Set) addIgnore(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fp := strings.TrimSpace(line)
		if fp == "" {
			continue
		}
		if !isFingerprint(fp) {
			return fmt.Errorf("line %d: %q is not a fingerprint (16 hex digits)", n, fp)
		}
		s.add(strings.ToLower(fp), finding.SuppressIgnore)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	return nil
}

// isFingerprint reports whether s has the form of a fingerprint.
func isFingerprint(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// DefaultIgnoreFile is the ignore file read when --ignore is not given and
// the file exists in the working directory.
const DefaultIgnoreFile = ".imagescanignore"

// AddDefaultIgnore adds DefaultIgnoreFile when it exists, and says
// whether it did.
func (s *Set) AddDefaultIgnore() (bool, error) {
	if _, err := os.Stat(DefaultIgnoreFile); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return true, s.AddIgnoreFile(DefaultIgnoreFile)
}
