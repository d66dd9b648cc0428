package secrets_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
)

// jsLike is text shaped like application JavaScript, keywords included.
func jsLike(size int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "export function handler%d(req, res) { const key = req.headers['x-api-key']; const token = getToken(req.user); return res.json({ id: %d, secret: false, url: 'https://api.example.com/v1/items/%d' }); }\n", i, i, i)
	}
	return []byte(b.String()[:size])
}

// BenchmarkDetectFile is the detector on one 1 MiB window of JavaScript,
// all rules on: the cost per MB that dominates a scan.
func BenchmarkDetectFile(b *testing.B) {
	d := fixture.Detector(b)
	content := jsLike(1 << 20)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		d.DetectFile(context.Background(), finding.File{Path: "srv/app/dist/main.js", Content: content})
	}
}
