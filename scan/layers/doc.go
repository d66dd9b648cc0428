// Package layers walks one layer tarball in a single streamed pass and
// resolves, across all of an image's layers, whether each file is still
// visible in the final filesystem.
//
// Walk hands every regular file's content to a finding.Detector, in windows
// so that no file is ever held whole, and records the paths the layer writes,
// the whiteouts (.wh.NAME) it places and the directories it makes opaque
// (.wh..wh..opq). Symlinks and hardlinks are recorded and never followed.
// Nothing is written to disk.
//
// Resolve then applies the overlay rules to the findings: a path written
// again by a later layer (or later in the same layer) is overwritten; a path
// hidden by a whiteout, an opaque directory or a non-directory entry at one of
// its parents is deleted. Either way the bytes are still in the image.
package layers
