package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/imagescan/imagescan/scan"
)

// Provenance is the record written beside a file that imagescan extract
// copied out of a layer: where the bytes came from, their digest, and
// whether the layer verified. The history step is redacted like every
// report, unless ShowSecrets.
type Provenance struct {
	Tool        Tool
	Evidence    *scan.Evidence
	Output      string    // where the bytes were written: a file, or "-" for stdout
	ExtractedAt time.Time // when
	ShowSecrets bool
}

type provenanceJSON struct {
	SchemaVersion int             `json:"schema_version"`
	Tool          Tool            `json:"tool"`
	ExtractedAt   string          `json:"extracted_at"`
	Output        string          `json:"output"`
	Image         provenanceImage `json:"image"`
	Layer         provenanceLayer `json:"layer"`
	File          provenanceFile  `json:"file"`
}

type provenanceImage struct {
	Input        string `json:"input"`
	Reference    string `json:"reference"`
	Digest       string `json:"digest"`
	ConfigDigest string `json:"config_digest"`
	Platform     string `json:"platform"`
}

type provenanceLayer struct {
	Index        int           `json:"index"`
	Digest       string        `json:"digest"`
	DiffID       string        `json:"diff_id"`
	MediaType    string        `json:"media_type"`
	HistoryIndex *int          `json:"history_index"`
	CreatedBy    string        `json:"created_by"`
	Step         string        `json:"step"`
	Integrity    jsonIntegrity `json:"integrity"`
}

type provenanceFile struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Mode    string `json:"mode"`
	ModTime string `json:"mtime"`
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`
}

// WriteProvenance writes p as one JSON document.
func WriteProvenance(w io.Writer, p Provenance) error {
	ev, red := p.Evidence, historyRedactor(p.Evidence, p.ShowSecrets)
	l := ev.Layer
	out := provenanceJSON{
		SchemaVersion: 1, Tool: p.Tool, ExtractedAt: p.ExtractedAt.UTC().Format(time.RFC3339), Output: p.Output,
		Image: provenanceImage{Input: red.text(ev.Input), Reference: red.text(ev.Reference), Digest: ev.Digest, ConfigDigest: ev.ConfigDigest, Platform: ev.Platform},
		Layer: provenanceLayer{
			Index: l.Index, Digest: l.Digest, DiffID: l.DiffID, MediaType: l.MediaType, HistoryIndex: index(l.HistoryIndex),
			CreatedBy: red.text(l.CreatedBy), Step: red.text(l.Step),
			Integrity: jsonIntegrity{Status: l.Integrity.Status, Problems: nonNil(red.texts(l.Integrity.Problems))},
		},
		File: provenanceFile{
			Path: ev.Path, Size: ev.Size, SHA256: ev.SHA256, Mode: fmt.Sprintf("%04o", ev.Mode&0o7777),
			ModTime: ev.ModTime.UTC().Format(time.RFC3339), UID: ev.UID, GID: ev.GID,
		},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// historyRedactor hides the secrets found in the image's history.
func historyRedactor(ev *scan.Evidence, show bool) *redactor {
	if show {
		return &redactor{show: true}
	}
	return redactorOf(ev.HistorySecrets)
}
