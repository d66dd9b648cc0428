package history

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// Every string of a config is searched, not only the fields that hold
// commands and assignments: a builder or a user may put a credential in
// any of them (config.User, a volume's name, an annotation, a field no
// specification names). The fields Scan parses (history entries, Env,
// Labels, Entrypoint, Cmd, OnBuild, Healthcheck) are left to it; every
// other string, key or value, is a field of its own, named by its JSON
// path: config.User, config.Volumes["/data"], rootfs.type.

// MaxDocumentDepth bounds how deep a document is walked; what lies deeper
// is counted, not searched.
const MaxDocumentDepth = 64

// buildInfoKey is the config key where BuildKit used to record the build's
// attributes, build args among them: base64 of a JSON document.
const buildInfoKey = "moby.buildkit.buildinfo.v1"

// documentString is one string of a JSON document and where it is.
type documentString struct {
	path []string // the keys and indexes leading to it
	text string
}

// walkDocument calls visit for every string of doc, keys included, and
// returns how many values lay deeper than MaxDocumentDepth.
func walkDocument(doc any, path []string, visit func(documentString)) (deeper int) {
	if len(path) > MaxDocumentDepth {
		return 1
	}
	switch v := doc.(type) {
	case string:
		visit(documentString{path: path, text: v})
	case []any:
		for i, e := range v {
			deeper += walkDocument(e, append(slices.Clip(path), fmt.Sprintf("[%d]", i)), visit)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := append(slices.Clip(path), k)
			visit(documentString{path: p, text: k})
			deeper += walkDocument(v[k], p, visit)
		}
	}
	return deeper
}

// identifier matches a key that a field name can show after a dot.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// fieldName renders a path as the report names fields: config.User,
// config.Volumes["/data"], history[3].empty_layer; a top-level key as it
// is (moby.buildkit.buildinfo.v1).
func fieldName(path []string) string {
	var b strings.Builder
	for i, p := range path {
		switch {
		case i == 0:
			b.WriteString(p)
		case strings.HasPrefix(p, "["):
			b.WriteString(p)
		case identifier.MatchString(p):
			b.WriteByte('.')
			b.WriteString(p)
		default:
			fmt.Fprintf(&b, "[%q]", p)
		}
	}
	return b.String()
}

// parsedByScan reports whether Scan reads the string at path through its
// own parsing of the field.
func parsedByScan(path []string) bool {
	if len(path) >= 3 && path[0] == "history" {
		return path[2] == "created_by" || path[2] == "comment" || path[2] == "author"
	}
	if len(path) < 2 || path[0] != "config" && path[0] != "container_config" {
		return false
	}
	switch path[1] {
	case "Env", "Labels", "Entrypoint", "Cmd", "OnBuild":
		return len(path) > 2
	case "Healthcheck":
		return len(path) > 2 && path[2] == "Test"
	}
	return false
}

// configStrings searches every string of the raw config that Scan does
// not parse itself, and the attributes of BuildKit's build info, decoded.
func (s *scanner) configStrings(raw []byte) {
	var doc any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&doc) != nil {
		return // ParseConfig read it; a config it cannot read is searched as text
	}
	s.res.Deeper += walkDocument(doc, nil, func(ds documentString) {
		if parsedByScan(ds.path) {
			return
		}
		s.field(field{name: fieldName(ds.path), text: ds.text, history: -1})
		if len(ds.path) == 1 && ds.path[0] == buildInfoKey && ds.text != buildInfoKey {
			s.buildInfo(ds.text)
		}
	})
}

// buildInfo searches BuildKit's build info, base64 JSON, decoded.
func (s *scanner) buildInfo(encoded string) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return // the string itself was searched, and the engine decodes base64
	}
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return
	}
	s.document(doc, buildInfoKey+" (decoded)")
}

// document searches every string of doc, in fields named from name: each
// build arg (a "build-arg:NAME" key, as BuildKit records them in its build
// info and in SLSA provenance) as an assignment to NAME.
func (s *scanner) document(doc any, name string) {
	s.res.Deeper += walkDocument(doc, []string{name}, func(ds documentString) {
		f := field{name: fieldName(ds.path), text: ds.text, history: -1}
		key := ds.path[len(ds.path)-1]
		if arg, ok := strings.CutPrefix(key, "build-arg:"); ok && ds.text != key {
			f.args = []Arg{{Name: arg, Value: ds.text}}
		}
		s.field(f)
	})
}

// ScanDocument looks for secrets in every string of a metadata document
// about an image (a manifest, an index, an attestation), in fields named
// from name: manifest.annotations["…"]. A document that is not JSON is
// searched as text, as the field "NAME (unparsed)". deeper counts the
// values nested too deep to be searched.
func ScanDocument(ctx context.Context, name string, raw []byte, det finding.Detector) (found []finding.Finding, deeper int) {
	s := &scanner{ctx: ctx, det: det, res: &Result{}}
	var doc any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&doc) != nil {
		s.field(field{name: name + " (unparsed)", text: string(raw), history: -1})
		return s.res.Findings, 0
	}
	s.document(doc, name)
	return s.res.Findings, s.res.Deeper
}
