package history

import "testing"

// BenchmarkParse parses the created_by of a RUN step with build args.
func BenchmarkParse(b *testing.B) {
	s := "RUN |3 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 DB_PASSWORD=walnut-kettle-8516 OTHER=a b c /bin/sh -c npm ci && npm run build # buildkit"
	for b.Loop() {
		Parse(s)
	}
}
