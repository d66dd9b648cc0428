package source

import (
	"context"
	"fmt"
	"strings"

	"github.com/imagescan/imagescan/scan"
)

// transports are the skopeo-style prefixes imagescan knows, mapped to
// whether this version reads them.
var transports = map[string]bool{
	"docker-archive:": true,
	"oci-archive:":    false,
	"oci:":            false,
	"docker://":       false,
	"docker-daemon:":  false,
}

// Open returns the images that input names. Today that is a docker save
// archive (classic or Docker ≥ 25, plain or gzip-compressed), named by its
// path or as docker-archive:PATH; every image it holds becomes a Target.
//
// The error names the input.
func Open(_ context.Context, input string) ([]*scan.Target, error) {
	p := input
	for prefix, supported := range transports {
		if rest, ok := strings.CutPrefix(input, prefix); ok {
			if !supported {
				return nil, fmt.Errorf("%s: %s images are not supported yet", input, strings.TrimRight(prefix, ":/"))
			}
			p = rest
		}
	}
	targets, err := dockerArchive(input, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	return targets, nil
}
