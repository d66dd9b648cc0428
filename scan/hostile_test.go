package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/imagescan/imagescan/finding"
)

// markerDetector reports every "SECRET=word".
type markerDetector struct{ noDetector }

func (markerDetector) DetectFile(_ context.Context, f finding.File) []finding.Match {
	var ms []finding.Match
	for i, line := range strings.Split(string(f.Content), "\n") {
		if _, v, ok := strings.Cut(line, "SECRET="); ok {
			ms = append(ms, finding.Match{RuleID: "marker", Secret: finding.NewSecret(strings.Fields(v)[0]), Line: i + 1})
		}
	}
	return ms
}

// layerTar is a layer with a secret first and then a large file of random
// text, so that a corruption in the middle of its compressed form falls
// after the secret.
func layerTar(t *testing.T) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 4<<20)
	for i := range noise {
		noise[i] = byte('a' + r.IntN(26))
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"first", "SECRET=before-the-damage\n"}, {"noise.txt", string(noise)}, {"last", "SECRET=after-the-damage\n"}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Size: int64(len(f.body)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	return buf.Bytes()
}

func zstdOf(t *testing.T, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll(data, nil)
}

func corruptMiddle(b []byte) []byte {
	c := bytes.Clone(b)
	for i := len(c) / 2; i < len(c)/2+64; i++ {
		c[i] ^= 0x5a
	}
	return c
}

func TestCorruptCompressedLayersMidStream(t *testing.T) {
	plain := layerTar(t)
	for name, blob := range map[string][]byte{
		"gzip": corruptMiddle(gzipped(t, plain)),
		"zstd": corruptMiddle(zstdOf(t, plain)),
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Run(context.Background(), target(name+".tar", blob), markerDetector{})
			if err == nil || !strings.HasPrefix(err.Error(), name+".tar: layer 0: ") {
				t.Fatalf("err = %v, want one naming the input and layer", err)
			}
			if len(res.Findings) == 0 || res.Findings[0].Secret.Raw() != "before-the-damage" {
				t.Errorf("findings before the damage were lost: %v", res.Findings)
			}
			if res.Layers[0].Integrity.Status != Unverified {
				t.Errorf("integrity %v", res.Layers[0].Integrity)
			}
		})
	}
}

func TestLayersAndDiffIDsDisagree(t *testing.T) {
	tg := target("count.tar", gzipped(t, layerTar(t)))
	tg.Layers = append(tg.Layers, tg.Layers[0]) // two layers, one diff_id
	res, err := Run(context.Background(), tg, markerDetector{})
	if err == nil || !strings.Contains(err.Error(), "count.tar: config lists 1 diff_ids but the image has 2 layers") {
		t.Fatalf("err = %v", err)
	}
	if res.Layers[1].Integrity.Status != Unverified || !strings.Contains(strings.Join(res.Layers[1].Integrity.Problems, " "), "no diff_id") {
		t.Errorf("layer 1 integrity %v, want unverified for want of a diff_id", res.Layers[1].Integrity)
	}
}
