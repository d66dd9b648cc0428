package finding

import "maps"

// Reasons a file's content is not scanned, or a match is not reported.
const (
	SkipBinary               = "binary"            // a binary file, with --skip-binaries; path rules still run
	SkipPacked               = "packed"            // compressed or packed in a format imagescan does not open (xz, zstd, bzip2, Debian packages, 7z, RAR, LZ4); path rules still run
	SkipAllowlisted          = "allowlisted_path"  // the rule set allowlists the path (images, fonts, …)
	SkipUnreadable           = "unreadable"        // the tar stream failed inside the file
	SkipUnknownType          = "unknown_type"      // a tar entry type imagescan does not know
	SkipNestedDepth          = "nested_too_deep"   // an archive deeper than the depth limit; path rules still run
	SkipNestedLimit          = "nested_limit"      // an archive that would yield more than its size or ratio budget
	SkipNestedTooLarge       = "nested_too_large"  // a zip too large to hold in memory for reading
	SkipNestedBroken         = "nested_unreadable" // an archive that is corrupt or truncated
	SkipSparseLimit          = "sparse_limit"      // a sparse file longer than the archive budget: only its start is read
	SuppressThirdParty       = "third_party_generic"
	SuppressThirdPartySample = "third_party_sample"
	SuppressBaseline         = "baseline" // the finding's fingerprint is in the --baseline report
	SuppressIgnore           = "ignore"   // the finding's fingerprint is in the ignore file
)

// Coverage counts what a scan read and what it did not.
type Coverage struct {
	Layers       int64 // layers read to their end
	SharedLayers int64 // layers whose scan was shared with an image scanned before in the run
	CachedLayers int64 // layers whose scan came from the layer cache
	Unread       int64 // layers that could not be read to their end

	Files    int64 // regular files whose content was scanned
	Binaries int64 // of those, binary files scanned through their printable strings
	Bytes    int64 // bytes of content scanned
	Links    int64 // symlinks and hardlinks, recorded and never followed
	Removed  int64 // whiteout and opaque-directory markers
	Archives int64 // archives inside layer files that were opened

	// Skipped counts the regular files whose content was not scanned, by
	// reason. Suppressed counts matches not reported, by reason.
	Skipped    map[string]int64
	Suppressed map[string]int64
}

// Add adds o's counts to c.
func (c *Coverage) Add(o Coverage) {
	c.Layers += o.Layers
	c.SharedLayers += o.SharedLayers
	c.CachedLayers += o.CachedLayers
	c.Unread += o.Unread
	c.Files += o.Files
	c.Binaries += o.Binaries
	c.Bytes += o.Bytes
	c.Links += o.Links
	c.Removed += o.Removed
	c.Archives += o.Archives
	c.Skipped = addCounts(c.Skipped, o.Skipped)
	c.Suppressed = addCounts(c.Suppressed, o.Suppressed)
}

// Skip counts one file not scanned for reason.
func (c *Coverage) Skip(reason string) {
	if c.Skipped == nil {
		c.Skipped = map[string]int64{}
	}
	c.Skipped[reason]++
}

func addCounts(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]int64, len(src))
	}
	for k, v := range maps.All(src) {
		dst[k] += v
	}
	return dst
}
