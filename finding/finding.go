package finding

import (
	"cmp"
	"regexp"
)

// Kind says which part of an image a location is in.
type Kind string

// The kinds of location.
const (
	KindLayer    Kind = "layer"    // a file inside a layer tarball
	KindHistory  Kind = "history"  // a config history entry (a Dockerfile step)
	KindConfig   Kind = "config"   // the image config: Env, Labels, Cmd, …
	KindManifest Kind = "manifest" // manifest or index annotations
)

// Status says whether a layer file is still part of the final filesystem.
// Whatever the status, the file's bytes are still inside the image: a later
// layer can hide a file but never remove it from the layer that wrote it.
type Status string

// The statuses of a location.
const (
	Visible     Status = "visible"     // in the final filesystem
	Deleted     Status = "deleted"     // hidden by a whiteout, an opaque directory or a non-directory above it
	Overwritten Status = "overwritten" // the same path was written again by a later layer (or later in the same layer)
)

// Location is one place in an image where a secret is exposed.
type Location struct {
	Kind Kind

	// LayerIndex is the 0-based index among the image's layers, oldest first.
	// For a history location it is the layer that entry created; -1 when there
	// is none (empty_layer entries, config locations, an unmappable history).
	LayerIndex  int
	LayerDigest string // the layer blob's digest as the image describes it
	DiffID      string // the uncompressed layer's digest, from config.rootfs.diff_ids

	// HistoryIndex is the 0-based index among all config history entries: the
	// entry itself for a history location, the entry that created the layer
	// for a layer location, -1 when unknown.
	HistoryIndex int
	CreatedBy    string // that history entry's created_by, unredacted (reporters redact)

	Path   string // file path inside the layer, without a leading slash
	Line   int    // 1-based; 0 when not applicable
	Column int    // 1-based; 0 when not applicable
	// Content says how the file was read when it was not plain text:
	// ContentUTF16LE or ContentUTF16BE (decoded; Line and Column are in
	// the decoded text), or ContentBinary (its printable strings; Offset
	// is where the secret starts in the file, and there is no line).
	Content string
	Offset  int64

	Field    string // for history and config: e.g. "config.Env[3]", "history[7].created_by"
	Variable string // the build arg, ENV or LABEL name the secret was assigned to, if any

	Status         Status
	RemovedByLayer int // the layer that deleted or overwrote the path; -1 when nothing did
	// VisibleAt is set when the path itself was deleted or overwritten but
	// the content is still in the final filesystem through a hard link:
	// Status is then Visible, and VisibleAt is the link's path.
	VisibleAt  string
	FileSHA256 string // hex digest of the file's whole content, as evidence

	// Unverified is set when the layer the secret was read from did not
	// match the digests the image claims, or could not be read to its end:
	// the bytes are what the image holds, but not what it says it holds.
	Unverified bool

	// Git places a finding in a git object in its repository's history.
	Git *GitPlace
}

// GitPlace is where a blob with a secret stands in a git repository
// copied into the image.
type GitPlace struct {
	Repository string // the repository's git directory in the layer, e.g. srv/app/.git
	Object     string // the object's id
	// Commits are the newest commits whose tree holds the blob, with its
	// path there; MoreCommits counts the others.
	Commits     []GitCommit
	MoreCommits int
	// CheckedOut says HEAD's commit holds the blob, when HeadKnown: else
	// it lives on in history only.
	CheckedOut, HeadKnown bool
}

// GitCommit is a commit that holds a blob, at Path.
type GitCommit struct {
	ID, Path string
}

// How a file's content was read, when not as plain text.
const (
	ContentBinary  = "binary"
	ContentUTF16LE = "utf-16le"
	ContentUTF16BE = "utf-16be"
)

// Finding is one secret at one location.
type Finding struct {
	RuleID      string
	Description string
	Secret      Secret
	Severity    Severity

	// SecretID groups the findings of one value across locations (see
	// Key.SecretID).
	SecretID string
	// Fingerprint identifies (secret, rule, location kind, path or field) and
	// survives rebuilds that change layer digests; baselines match on it
	// (see Key.Fingerprint).
	Fingerprint string
	// SuppressedBy is SuppressBaseline or SuppressIgnore for a finding that
	// a baseline or an ignore file suppresses, else empty.
	SuppressedBy string

	Location Location
}

// indexPattern matches the array and map subscripts of a field name.
var indexPattern = regexp.MustCompile(`\[[^\]]*\]`)

var kindRank = map[Kind]int{KindLayer: 0, KindHistory: 1, KindConfig: 2, KindManifest: 3}

// Compare orders findings for stable output: layer files first by layer,
// path and line, then history entries, then config fields; ties break on
// rule, secret id, status and file digest, so that the order does not
// depend on the order in which findings were made. It returns -1, 0 or +1 like cmp.Compare.
func Compare(a, b Finding) int {
	x, y := a.Location, b.Location
	return cmp.Or(
		cmp.Compare(kindRank[x.Kind], kindRank[y.Kind]),
		cmp.Compare(x.LayerIndex, y.LayerIndex),
		cmp.Compare(x.HistoryIndex, y.HistoryIndex),
		cmp.Compare(x.Path, y.Path),
		cmp.Compare(x.Line, y.Line),
		cmp.Compare(x.Column, y.Column),
		cmp.Compare(x.Field, y.Field),
		cmp.Compare(x.Variable, y.Variable),
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.SecretID, b.SecretID),
		cmp.Compare(x.Status, y.Status),
		cmp.Compare(x.FileSHA256, y.FileSHA256),
	)
}
