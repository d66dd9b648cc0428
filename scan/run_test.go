package scan_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan"
)

// npmToken returns a fake npm token, random but repeatable.
func npmToken(seed uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	r := rand.New(rand.NewPCG(seed, 7))
	b := []byte("npm_")
	for range 36 {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	return string(b)
}

func npmrc(token string) string { return "//registry.npmjs.org/:_authToken=" + token + "\n" }

// leakyImage is a four-layer image: an .npmrc written and later deleted, a
// config written and later overwritten, a history with empty-layer steps.
func leakyImage(t *testing.T, deleted, overwritten, kept string) v1.Image {
	t.Helper()
	img := fixture.Image(t,
		fixture.Layer{Tar: fixture.Tar(t, fixture.File("bin/sh", "#!shell")), CreatedBy: "/bin/sh -c #(nop) ADD file:base in / "},
		fixture.Layer{Tar: fixture.Tar(t,
			fixture.File("app/.npmrc", npmrc(deleted)),
			fixture.File("etc/npmrc", npmrc(overwritten)),
			fixture.File("home/.npmrc", npmrc(kept)),
		), CreatedBy: "|1 NPM_TOKEN=" + deleted + " /bin/sh -c echo ... > .npmrc"},
		fixture.Layer{Tar: fixture.Tar(t, fixture.Whiteout("app", ".npmrc")), CreatedBy: "/bin/sh -c rm -f app/.npmrc"},
		fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/npmrc", "registry=https://registry.npmjs.org/\n")), CreatedBy: "COPY npmrc /etc/npmrc # buildkit"},
	)
	return fixture.WithConfig(t, img, func(cf *v1.ConfigFile) {
		// Insert an empty-layer step so that history and layer indexes differ.
		h := append([]v1.History{cf.History[0], {CreatedBy: "/bin/sh -c #(nop) WORKDIR /app", EmptyLayer: true}}, cf.History[1:]...)
		cf.History = h
		cf.OS, cf.Architecture = "linux", "arm64"
	})
}

type got struct {
	Rule, Secret, Kind, Path, Field string
	Layer, History                  int
	Status                          finding.Status
	RemovedBy                       int
}

func summarize(res *scan.Result) []got {
	var out []got
	for _, f := range res.Findings {
		l := f.Location
		out = append(out, got{f.RuleID, f.Secret.Raw(), string(l.Kind), l.Path, l.Field, l.LayerIndex, l.HistoryIndex, l.Status, l.RemovedByLayer})
	}
	return out
}

func TestRunResolvesStatusAndSteps(t *testing.T) {
	deleted, overwritten, kept := npmToken(1), npmToken(2), npmToken(3)
	img := leakyImage(t, deleted, overwritten, kept)
	res, err := scan.Run(context.Background(), fixture.Target(t, "leaky", img), fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{"npm-access-token", deleted, "layer", "app/.npmrc", "", 1, 2, finding.Deleted, 2},
		{"npm-access-token", overwritten, "layer", "etc/npmrc", "", 1, 2, finding.Overwritten, 3},
		{"npm-access-token", kept, "layer", "home/.npmrc", "", 1, 2, finding.Visible, -1},
		{"npm-access-token", deleted, "history", "", "history[2].created_by", 1, 2, finding.Visible, -1},
	}
	if diff := cmp.Diff(want, summarize(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if res.Platform != "linux/arm64" || len(res.Warnings) != 0 || len(res.Errors) != 0 {
		t.Errorf("platform %q warnings %v errors %v", res.Platform, res.Warnings, res.Errors)
	}
	wantSteps := []string{"ADD file:base in /", "RUN echo ... > .npmrc", "RUN rm -f app/.npmrc", "COPY npmrc /etc/npmrc"}
	for i, l := range res.Layers {
		if l.Step != wantSteps[i] || l.Integrity.Status != scan.Verified {
			t.Errorf("layer %d: step %q integrity %v, want %q verified", i, l.Step, l.Integrity, wantSteps[i])
		}
	}
	if res.Findings[0].SecretID != res.Findings[3].SecretID || res.Findings[0].SecretID == res.Findings[2].SecretID {
		t.Error("secret ids do not group the same value and only it")
	}
	if res.Findings[0].Location.LayerDigest != res.Layers[1].Digest || res.Findings[0].Location.DiffID != res.Layers[1].DiffID {
		t.Error("a layer finding does not carry its layer's digests")
	}
}

func TestRunIsTheSameWhateverTheJobs(t *testing.T) {
	img := leakyImage(t, npmToken(4), npmToken(5), npmToken(6))
	one, err := scan.Run(context.Background(), fixture.Target(t, "leaky", img), fixture.Detector(t), scan.WithJobs(1))
	if err != nil {
		t.Fatal(err)
	}
	many, err := scan.Run(context.Background(), fixture.Target(t, "leaky", img), fixture.Detector(t), scan.WithJobs(4))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(one, many, cmp.Comparer(func(a, b finding.Secret) bool { return a.Raw() == b.Raw() })); diff != "" {
		t.Errorf("jobs 1 vs 4 (-1 +4):\n%s", diff)
	}
	if _, err := scan.Run(context.Background(), fixture.Target(t, "leaky", img), fixture.Detector(t), scan.WithJobs(0)); err == nil {
		t.Error("jobs 0 accepted")
	}
}

func TestRunReportsProgressUpToTheTotal(t *testing.T) {
	tg := fixture.Target(t, "leaky", leakyImage(t, npmToken(7), npmToken(8), npmToken(9)))
	ch := make(chan scan.Progress, 1024)
	if _, err := scan.Run(context.Background(), tg, fixture.Detector(t), scan.WithProgress(ch)); err != nil {
		t.Fatal(err)
	}
	close(ch)
	var sum, total int64
	for p := range ch {
		sum += p.Bytes
		total = p.Total
	}
	var want int64
	for _, b := range tg.Layers {
		want += b.Descriptor.Size
	}
	if sum != want || total != want {
		t.Errorf("progress summed to %d of %d, want %d", sum, total, want)
	}
}

func TestRunFlagsTamperedDigestsAndStillScans(t *testing.T) {
	tok := npmToken(10)
	img := leakyImage(t, tok, npmToken(11), npmToken(12))
	other := fixture.Target(t, "other", fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("x", "y"))}))

	tests := map[string]struct {
		tamper func(tg *scan.Target)
		want   string
	}{
		"a layer blob swapped for another valid one": {
			func(tg *scan.Target) { tg.Layers[2].Open = other.Layers[0].Open },
			"layer 2: blob does not match digest",
		},
		"a diff_id edited in the config": {
			func(tg *scan.Target) {
				tg.Config = bytes.Replace(tg.Config, []byte(digestHex(t, img, 1)), []byte(strings.Repeat("0", 64)), 1)
				tg.ConfigDigest = v1.Hash{}
			},
			"layer 1: content does not match diff_id sha256:0000",
		},
		"a config edited after the fact": {
			func(tg *scan.Target) { tg.Config = bytes.Replace(tg.Config, []byte("arm64"), []byte("amd64"), 1) },
			"config does not match its digest",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tg := fixture.Target(t, "tampered.tar", img)
			tc.tamper(tg)
			res, err := scan.Run(context.Background(), tg, fixture.Detector(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tampered.tar: ") {
				t.Fatalf("err = %v, want one naming the input with %q", err, tc.want)
			}
			if !slicesContain(res.Errors, tc.want) {
				t.Errorf("result errors %v do not record %q", res.Errors, tc.want)
			}
			if !hasSecret(res, tok) {
				t.Error("the tampered image's secret was not reported")
			}
		})
	}
}

func digestHex(t *testing.T, img v1.Image, i int) string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.RootFS.DiffIDs[i].Hex
}

func TestRunKeepsWhatItReadWhenALayerBreaks(t *testing.T) {
	tok := npmToken(13)
	tg := fixture.Target(t, "broken.tar", leakyImage(t, tok, npmToken(14), npmToken(15)))
	full := tg.Layers[3].Open
	tg.Layers[3].Open = func() (io.ReadCloser, error) {
		rc, err := full()
		if err != nil {
			return nil, err
		}
		data, _ := io.ReadAll(rc)
		return io.NopCloser(bytes.NewReader(data[:len(data)/2])), nil
	}
	res, err := scan.Run(context.Background(), tg, fixture.Detector(t))
	if err == nil || !strings.Contains(err.Error(), "broken.tar: layer 3 (sha256:") {
		t.Fatalf("err = %v, want one naming the input and layer 3", err)
	}
	if !hasSecret(res, tok) {
		t.Error("findings of the readable layers were lost")
	}
	if in := res.Layers[3].Integrity; in.Status != scan.Unverified {
		t.Errorf("broken layer integrity = %v, want unverified", in)
	}
	if c := res.Coverage; c.Layers != 3 || c.Unread != 1 || c.SharedLayers != 0 {
		t.Errorf("coverage: %d layers read, %d unread, %d shared; want 3, 1, 0", c.Layers, c.Unread, c.SharedLayers)
	}
}

func TestRunReportsUnusableConfigAndStillScansLayers(t *testing.T) {
	tok := npmToken(16)
	tg := fixture.Target(t, "garbage.tar", leakyImage(t, tok, npmToken(17), npmToken(18)))
	inConfig := npmToken(25)
	tg.Config, tg.ConfigDigest = []byte("{garbage\n\"env\": \"NPM_TOKEN="+inConfig+"\""), v1.Hash{}
	res, err := scan.Run(context.Background(), tg, fixture.Detector(t))
	if err == nil || !strings.Contains(err.Error(), "garbage.tar: config sha256:") {
		t.Fatalf("err = %v, want one naming the config", err)
	}
	if !hasSecret(res, tok) {
		t.Error("layers were not scanned")
	}
	last := res.Findings[len(res.Findings)-1]
	if last.Secret.Raw() != inConfig || last.Location.Field != "config (unparsed)" || last.Location.Line != 2 {
		t.Errorf("the unparsed config's secret: got %+v", last.Location)
	}
}

func TestRunWarnsWhenHistoryDoesNotMatchLayers(t *testing.T) {
	img := fixture.WithConfig(t, leakyImage(t, npmToken(19), npmToken(20), npmToken(21)), func(cf *v1.ConfigFile) {
		cf.History = cf.History[:len(cf.History)-1]
	})
	res, err := scan.Run(context.Background(), fixture.Target(t, "short-history", img), fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "3 entries that create layers but the image has 4 layers") {
		t.Errorf("warnings = %v", res.Warnings)
	}
	for _, l := range res.Layers {
		if l.HistoryIndex != -1 || l.Step != "" {
			t.Errorf("layer %d was attributed to history %d (%q) despite the mismatch", l.Index, l.HistoryIndex, l.Step)
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := scan.Run(ctx, fixture.Target(t, "x", leakyImage(t, npmToken(22), npmToken(23), npmToken(24))), fixture.Detector(t))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func hasSecret(res *scan.Result, raw string) bool {
	for _, f := range res.Findings {
		if f.Secret.Raw() == raw {
			return true
		}
	}
	return false
}

func slicesContain(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// An uncompressed blob is its own tar: one hash of its bytes is checked
// against both the manifest's digest and the config's diff_id, and a
// change to either is still caught.
func TestUncompressedLayersAreCheckedAgainstBothDigests(t *testing.T) {
	tok := npmToken(16)
	path := t.TempDir() + "/plain.tar"
	fixture.Docker25Archive(t, path, "plain:1", leakyImage(t, tok, npmToken(17), npmToken(18)))
	open := func(t *testing.T) *scan.Target {
		tgs, err := fixture.Open(t, path)
		if err != nil {
			t.Fatal(err)
		}
		return tgs[0]
	}
	t.Run("untouched", func(t *testing.T) {
		res, err := scan.Run(context.Background(), open(t), fixture.Detector(t))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range res.Layers {
			if l.Integrity.Status != scan.Verified {
				t.Errorf("layer %d: %v, want verified", i, l.Integrity)
			}
		}
	})
	tests := map[string]struct {
		tamper func(tg *scan.Target)
		want   []string
	}{
		"a diff_id edited in the config": {
			func(tg *scan.Target) {
				tg.Config = bytes.Replace(tg.Config, []byte(tg.Layers[1].Descriptor.Digest.Hex), []byte(strings.Repeat("0", 64)), 1)
				tg.ConfigDigest = v1.Hash{}
			},
			[]string{"content does not match diff_id sha256:0000"},
		},
		"a layer blob swapped for another": {
			func(tg *scan.Target) { tg.Layers[1].Open = tg.Layers[2].Open },
			[]string{"blob does not match digest", "content does not match diff_id"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tg := open(t)
			tc.tamper(tg)
			res, err := scan.Run(context.Background(), tg, fixture.Detector(t))
			if err == nil {
				t.Fatal("no error for a tampered layer")
			}
			in := res.Layers[1].Integrity
			if in.Status != scan.Mismatch || len(in.Problems) != len(tc.want) {
				t.Fatalf("layer 1 integrity %v, want a mismatch with %q", in, tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(in.Problems[i], w) {
					t.Errorf("problem %q, want %q", in.Problems[i], w)
				}
			}
			if !hasSecret(res, tok) {
				t.Error("the tampered image's secret was not reported")
			}
		})
	}
}
