package layers_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

// codeLike is text shaped like minified and plain JavaScript.
func codeLike(size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "function handler%d(req, res) { const key = req.headers['x-api-key']; return res.json({ id: %d, ok: true }); }\n", i, i)
	}
	return b.String()[:size]
}

// BenchmarkWalk is the walk alone, with a detector that costs nothing: a
// layer of 200 files of 64 KiB. It reports MB/s of file content.
func BenchmarkWalk(b *testing.B) {
	var entries []fixture.Entry
	body := codeLike(64 << 10)
	for i := range 200 {
		entries = append(entries, fixture.File(fmt.Sprintf("app/src/f%03d.js", i), body))
	}
	layer := fixture.Tar(b, entries...)
	b.SetBytes(int64(200 * len(body)))
	for b.Loop() {
		if _, err := Walk(context.Background(), 0, bytes.NewReader(layer), fakeDetector{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
