package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

// SARIF writes a SARIF 2.1.0 log: one run, one rule per rule that found
// something, one result per location. Each image is an artifact, and each
// file a finding was read from is an artifact inside it (parentIndex), so
// a result names both. The layer, history step, status and severity are in
// each result's properties, the fingerprint in its partialFingerprints.
// Suppressed findings, with Options.ShowSuppressed, are results with an
// external suppression.
type SARIF struct {
	opts Options
}

var _ Reporter = (*SARIF)(nil)

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Artifacts   []sarifArtifact   `json:"artifacts,omitempty"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifHelp      `json:"help"`
	Default          sarifConfig    `json:"defaultConfiguration"`
	Properties       map[string]any `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifArtifact struct {
	Location    sarifArtifactLocation `json:"location"`
	ParentIndex *int                  `json:"parentIndex,omitempty"`
	Description *sarifText            `json:"description,omitempty"`
	Roles       []string              `json:"roles,omitempty"`
	Hashes      map[string]string     `json:"hashes,omitempty"`
	Properties  map[string]any        `json:"properties,omitempty"`
}

type sarifArtifactLocation struct {
	URI   string `json:"uri"`
	Index *int   `json:"index,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties"`
}

type sarifLocation struct {
	Physical sarifPhysical     `json:"physicalLocation"`
	Logical  []sarifLogicalLoc `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	Artifact sarifArtifactLocation `json:"artifactLocation"`
	Region   *sarifRegion          `json:"region,omitempty"`
}

type sarifRegion struct {
	StartLine   int    `json:"startLine,omitempty"`
	StartColumn int    `json:"startColumn,omitempty"`
	ByteOffset  *int64 `json:"byteOffset,omitempty"`
}

type sarifLogicalLoc struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// fingerprintKeyName is the partialFingerprints key of imagescan's
// fingerprint; it changes when the fingerprint's meaning does.
const fingerprintKeyName = "imagescan/v2"

// Write implements Reporter.
func (s *SARIF) Write(w io.Writer, r *Report) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: r.Tool.Name, Version: r.Tool.Version,
			InformationURI: "https://github.com/imagescan/imagescan", Rules: []sarifRule{},
		}},
		Results:    []sarifResult{},
		Properties: map[string]any{"fingerprint_key": r.FingerprintKey, "gitleaks_version": r.Tool.Gitleaks, "rules": r.Tool.Rules},
	}
	b := &sarifBuilder{run: &run, rules: map[string]int{}, opts: s.opts}
	ok := true
	var notes []sarifNotification
	for _, res := range r.Images {
		b.image(res)
		red := newRedactor(res, s.opts.ShowSecrets)
		for _, msg := range red.texts(res.Errors) {
			ok = false
			notes = append(notes, sarifNotification{Level: "error", Message: sarifText{msg}})
		}
		for _, msg := range red.texts(res.Warnings) {
			notes = append(notes, sarifNotification{Level: "warning", Message: sarifText{msg}})
		}
	}
	run.Invocations = []sarifInvocation{{ExecutionSuccessful: ok, Notifications: notes}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// sarifBuilder adds images to a run.
type sarifBuilder struct {
	run   *sarifRun
	rules map[string]int // rule id → index in run.Tool.Driver.Rules
	opts  Options
}

func (b *sarifBuilder) image(res *scan.Result) {
	red := newRedactor(res, b.opts.ShowSecrets)
	uri := imageURI(res.Input)
	img := b.artifact(sarifArtifact{
		Location:    sarifArtifactLocation{URI: uri},
		Description: &sarifText{imageDescription(res, red)},
		Roles:       []string{"analysisTarget"},
		Hashes:      sha256Hash(res.ConfigDigest),
		Properties:  map[string]any{"image": red.text(res.Input), "reference": red.text(res.Reference), "digest": res.Digest, "config_digest": res.ConfigDigest, "platform": res.Platform, "coverage": coverage(res.Coverage)},
	})
	files := map[string]int{}
	add := func(f finding.Finding) {
		loc := b.location(f, res, red, uri, img, files)
		b.run.Results = append(b.run.Results, b.result(f, res, red, loc))
	}
	for _, f := range res.Findings {
		add(f)
	}
	if b.opts.ShowSuppressed {
		for _, f := range res.Suppressed {
			add(f)
		}
	}
}

// artifact adds a to the run and returns its index.
func (b *sarifBuilder) artifact(a sarifArtifact) int {
	b.run.Artifacts = append(b.run.Artifacts, a)
	return len(b.run.Artifacts) - 1
}

// location places a finding: a layer file is the artifact IMAGE/PATH
// inside the image's artifact, with its line; a history entry or config
// field is the image itself, with the field as a logical location.
func (b *sarifBuilder) location(f finding.Finding, res *scan.Result, red *redactor, uri string, img int, files map[string]int) sarifLocation {
	l := f.Location
	if l.Kind != finding.KindLayer {
		return sarifLocation{
			Physical: sarifPhysical{Artifact: sarifArtifactLocation{URI: uri, Index: &img}},
			Logical:  []sarifLogicalLoc{{FullyQualifiedName: red.text(l.Field), Kind: "member"}},
		}
	}
	path := red.text(l.Path)
	fileURI := uri + "/" + escapePath(path)
	key := fmt.Sprintf("%d\x00%s", l.LayerIndex, path)
	i, ok := files[key]
	if !ok {
		i = b.artifact(sarifArtifact{
			Location: sarifArtifactLocation{URI: fileURI}, ParentIndex: &img,
			Hashes: sha256Hash(l.FileSHA256), Properties: map[string]any{"layer_index": l.LayerIndex},
		})
		files[key] = i
	}
	loc := sarifLocation{Physical: sarifPhysical{Artifact: sarifArtifactLocation{URI: fileURI, Index: &i}}}
	switch {
	case l.Content == finding.ContentBinary:
		loc.Physical.Region = &sarifRegion{ByteOffset: &l.Offset}
	case l.Line > 0:
		loc.Physical.Region = &sarifRegion{StartLine: l.Line, StartColumn: max(l.Column, 0)}
	}
	return loc
}

func (b *sarifBuilder) result(f finding.Finding, res *scan.Result, red *redactor, loc sarifLocation) sarifResult {
	value := red.secret(f.Secret)
	if f.Secret.IsZero() {
		value = "(the file itself)"
	}
	out := sarifResult{
		RuleID:              f.RuleID,
		RuleIndex:           b.rule(f, red),
		Level:               sarifLevel(f.Severity),
		Message:             sarifText{fmt.Sprintf("%s %s in %s: %s", f.RuleID, value, red.text(res.Input), place(f, res, red))},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{fingerprintKeyName: f.Fingerprint},
		Properties:          sarifProperties(f, res, red),
	}
	if f.SuppressedBy != "" {
		out.Suppressions = []sarifSuppression{{Kind: "external", Justification: "in the " + f.SuppressedBy}}
	}
	return out
}

func sarifProperties(f finding.Finding, res *scan.Result, red *redactor) map[string]any {
	l := location(f.Location, red)
	return map[string]any{
		"severity": string(f.Severity), "secret": red.secret(f.Secret), "secret_id": f.SecretID,
		"image": red.text(res.Input), "image_digest": res.Digest, "config_digest": res.ConfigDigest, "platform": res.Platform,
		"kind": l.Kind, "layer_index": l.LayerIndex, "layer_digest": l.LayerDigest, "diff_id": l.DiffID,
		"history_index": l.HistoryIndex, "created_by": l.CreatedBy, "path": l.Path, "line": l.Line,
		"field": l.Field, "variable": l.Variable, "status": l.Status, "removed_by_layer": l.RemovedByLayer, "visible_at": l.VisibleAt,
		"file_sha256": l.FileSHA256, "unverified": l.Unverified, "content": l.Content, "offset": l.Offset, "git": l.Git,
	}
}

// rule returns the index of f's rule, adding the rule on first use. A
// rule's level is the worst of its results'.
func (b *sarifBuilder) rule(f finding.Finding, red *redactor) int {
	rules := b.run.Tool.Driver.Rules
	if i, ok := b.rules[f.RuleID]; ok {
		if f.Severity.AtLeast(finding.Severity(rules[i].Properties["severity"].(string))) {
			setRuleSeverity(&rules[i], f.Severity)
		}
		return i
	}
	help := fixFor(f.RuleID)
	r := sarifRule{
		ID: f.RuleID, Name: ruleName(f.RuleID),
		ShortDescription: sarifText{red.text(f.Description)},
		FullDescription:  sarifText{red.text(f.Description)},
		Help:             sarifHelp{Text: help, Markdown: help},
		Properties:       map[string]any{"tags": []string{"security", "secret"}},
	}
	setRuleSeverity(&r, f.Severity)
	b.run.Tool.Driver.Rules = append(rules, r)
	b.rules[f.RuleID] = len(b.run.Tool.Driver.Rules) - 1
	return b.rules[f.RuleID]
}

func setRuleSeverity(r *sarifRule, s finding.Severity) {
	r.Default = sarifConfig{Level: sarifLevel(s)}
	r.Properties["severity"] = string(s)
	r.Properties["security-severity"] = securitySeverity[s]
}

// securitySeverity is the CVSS-like score GitHub code scanning ranks
// security results by.
var securitySeverity = map[finding.Severity]string{
	finding.Critical: "9.5", finding.High: "8.0", finding.Medium: "5.5", finding.Low: "3.0",
}

func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.Critical, finding.High:
		return "error"
	case finding.Medium:
		return "warning"
	}
	return "note"
}

// ruleName turns a rule id into the PascalCase name SARIF viewers show.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// imageURI renders an image input as a relative URI reference: a colon
// (in a tag, a port or a transport prefix) would otherwise read as a
// scheme.
func imageURI(input string) string {
	if input == "-" {
		input = "stdin"
	}
	return escapePath(input)
}

// escapePath percent-encodes what a URI path may not hold, keeping "/".
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '-' || c == '.' || c == '_' || c == '~' || c == '@' || c == '+' || c == '=' || c == ',' ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func imageDescription(res *scan.Result, red *redactor) string {
	parts := []string{"image " + red.text(res.Input)}
	if res.Reference != "" && res.Reference != res.Input {
		parts = append(parts, red.text(res.Reference))
	}
	parts = append(parts, "image id "+orNone(res.ConfigDigest), orNone(res.Platform))
	return strings.Join(parts, ", ")
}

// sha256Hash renders "sha256:HEX" or "HEX" as SARIF hashes, or nil.
func sha256Hash(digest string) map[string]string {
	hexPart := strings.TrimPrefix(digest, "sha256:")
	if hexPart == "" || strings.Contains(hexPart, ":") {
		return nil
	}
	return map[string]string{"sha-256": hexPart}
}

// fixFor returns the help text of a rule: what the secret is exposed by,
// and the fix. A later RUN rm is never the fix.
func fixFor(ruleID string) string {
	const never = "Deleting it in a later step is not a fix: the file stays in the layer that added it, and build args stay in the image history, readable by anyone who can pull or `docker save` the image."
	if strings.Contains(ruleID, "npm") {
		return "Revoke the npm token now (`npm token revoke`), then build without it in any layer or build arg. " + never +
			" Give the token to the build as a BuildKit secret mount, which is never stored: `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci` with `docker build --secret id=npmrc,src=$HOME/.npmrc`. " +
			"Or install in a multi-stage build whose first stage holds the `.npmrc` and copy only `node_modules` into the final stage; do not push or keep the first stage, which still holds the token."
	}
	return "Revoke or rotate this credential now, then build without it in any layer, build arg, ENV or LABEL. " + never +
		" Use a BuildKit secret mount (`RUN --mount=type=secret,id=…`) for what the build needs, a multi-stage build whose secret-holding stages you do not ship or keep, and runtime secrets (mounted files, your orchestrator's secrets) for what the container needs."
}
