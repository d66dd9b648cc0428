// Package source turns what a user names on the command line into
// scan.Targets. It is the only package that reads image storage formats.
//
// Docker archives (docker save output, classic and Docker ≥ 25, plain or
// gzip-compressed) are read with go-containerregistry's tarball manifest
// types. Layer blobs are streamed straight out of the archive by their
// manifest.json paths rather than through tarball.Image, because that image
// would gzip every uncompressed layer just to compute a digest and cannot
// select an untagged image. Nothing is extracted to disk: each blob is read
// by scanning the archive to its member.
package source
