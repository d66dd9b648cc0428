package source_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan"
)

// cleanImageArchive writes a docker save archive of one clean image.
func cleanImageArchive(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "decoy.tar")
	img := fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/motd", "nothing to see\n"))})
	fixture.DockerArchive(t, p, "example.test/decoy:1", img)
	return p
}

// TestDuplicatedMembersAreRefused: an archive that holds a member twice, a
// decoy first and the real one last (the copy docker load keeps), is
// refused with one line naming the member, whichever member it is.
func TestDuplicatedMembersAreRefused(t *testing.T) {
	dir := t.TempDir()
	decoy := readMembers(t, cleanImageArchive(t, dir))
	real := readMembers(t, deletedFixture)
	decoyManifest := memberData(t, decoy, "manifest.json")

	cases := map[string]func() []fixture.Member{
		// The decoy's clean image, then the real archive with its manifest last.
		"manifest.json": func() []fixture.Member {
			out := append(others(decoy, "manifest.json"), fixture.Member{Header: hdr("manifest.json"), Data: decoyManifest})
			return append(out, real...)
		},
		// A clean copy of the leaking layer first, the real one after.
		"a layer.tar": func() []fixture.Member {
			layer := layerMember(t, real)
			return append([]fixture.Member{{Header: hdr(layer), Data: fixture.Tar(t, fixture.File("x", "clean\n"))}}, real...)
		},
		"the config": func() []fixture.Member {
			cfg := configMember(t, real)
			return append(append([]fixture.Member(nil), real...), fixture.Member{Header: hdr(cfg), Data: []byte(`{}`)})
		},
		"./manifest.json spelled differently": func() []fixture.Member {
			return append(append([]fixture.Member(nil), real...), fixture.Member{Header: hdr("./manifest.json"), Data: decoyManifest})
		},
	}
	for name, members := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ambiguous.tar")
			writeMembers(t, p, members())
			_, err := fixture.Open(t, p)
			if err == nil || !strings.Contains(err.Error(), "twice") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line saying a member appears twice", err)
			}
		})
	}

	t.Run("an OCI archive's index.json", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "oci.tar")
		idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: imageOf(t, open(t, deletedFixture))})
		layoutDir := t.TempDir()
		fixture.OCILayout(t, layoutDir, idx)
		members := tarDir(t, layoutDir)
		members = append([]fixture.Member{{Header: hdr("index.json"), Data: []byte(`{"schemaVersion":2,"manifests":[]}`)}}, members...)
		writeMembers(t, p, members)
		if _, err := fixture.Open(t, "oci-archive:"+p); err == nil || !strings.Contains(err.Error(), "index.json twice") {
			t.Fatalf("err = %v, want index.json named as duplicated", err)
		}
	})
}

// TestOversizedManifestIsRefusedBeforeDecoding: a docker save archive whose
// manifest.json is larger than any real one (valid JSON, padded) is refused
// without being read into memory.
func TestOversizedManifestIsRefusedBeforeDecoding(t *testing.T) {
	real := readMembers(t, deletedFixture)
	manifest := memberData(t, real, "manifest.json")
	padded := append(bytes.Repeat([]byte(" "), 40<<20), manifest...)
	members := append(others(real, "manifest.json"), fixture.Member{Header: hdr("manifest.json"), Data: padded})
	p := filepath.Join(t.TempDir(), "big.tar")
	writeMembers(t, p, members)
	members, padded = nil, nil

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := fixture.Open(t, p)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "too large for image metadata") {
		t.Fatalf("err = %v, want the manifest refused as too large", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("refusing it allocated %d MiB", grew>>20)
	}
}

// TestNonRegularBlobsAreRefusedNotWaitedOn: an OCI layout whose layer blob
// or index.json is a FIFO, or a link to a device, gives one line at once
// instead of blocking the scan forever.
func TestNonRegularBlobsAreRefusedNotWaitedOn(t *testing.T) {
	img := imageOf(t, open(t, deletedFixture))
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := layers[3].Digest()
	if err != nil {
		t.Fatal(err)
	}
	replace := map[string]func(path string) error{
		"a FIFO as a layer blob": func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"a link to /dev/zero":    func(p string) error { return os.Symlink("/dev/zero", p) },
	}
	for name, make := range replace {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fixture.OCILayout(t, dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img}))
			blob := filepath.Join(dir, "blobs", "sha256", digest.Hex)
			if err := os.Remove(blob); err != nil {
				t.Fatal(err)
			}
			if err := make(blob); err != nil {
				t.Fatal(err)
			}
			res, err := withTimeout(t, func() (string, error) {
				targets, err := fixture.Open(t, dir)
				if err != nil {
					return "", err
				}
				res, err := runErr(t, targets[0])
				return strings.Join(where(res), "\n"), err
			})
			if err == nil || !strings.Contains(err.Error(), "layer 3") || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("err = %v, want layer 3 refused as not a regular file", err)
			}
			if !strings.Contains(res, "history") {
				t.Errorf("the findings of what was read are gone:\n%s", res)
			}
		})
	}
	t.Run("a FIFO as index.json", func(t *testing.T) {
		dir := t.TempDir()
		if err := syscall.Mkfifo(filepath.Join(dir, "index.json"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := withTimeout(t, func() (string, error) { _, err := fixture.Open(t, dir); return "", err })
		if err == nil || !strings.Contains(err.Error(), "a FIFO, not a regular file") {
			t.Fatalf("err = %v", err)
		}
	})
}

// withTimeout runs f, failing the test when it has not returned in 20 s.
func withTimeout(t *testing.T, f func() (string, error)) (string, error) {
	t.Helper()
	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	go func() { s, err := f(); done <- result{s, err} }()
	select {
	case r := <-done:
		return r.s, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("still waiting after 20 s")
		return "", errors.New("unreachable")
	}
}

func hdr(name string) *tar.Header {
	return &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg}
}

func readMembers(t *testing.T, p string) []fixture.Member {
	t.Helper()
	var out []fixture.Member
	fixture.Rewrite(t, p, filepath.Join(t.TempDir(), "copy.tar"), func(ms []fixture.Member) []fixture.Member {
		out = ms
		return ms
	})
	return out
}

func writeMembers(t *testing.T, p string, ms []fixture.Member) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "empty.tar")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.Close()
	if err := os.WriteFile(src, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fixture.Rewrite(t, src, p, func([]fixture.Member) []fixture.Member { return ms })
}

func memberData(t *testing.T, ms []fixture.Member, name string) []byte {
	t.Helper()
	for _, m := range ms {
		if m.Header.Name == name {
			return m.Data
		}
	}
	t.Fatalf("no member %s", name)
	return nil
}

func others(ms []fixture.Member, name string) []fixture.Member {
	var out []fixture.Member
	for _, m := range ms {
		if m.Header.Name != name {
			out = append(out, m)
		}
	}
	return out
}

// layerMember names the member of the fixture's layer 3, the one that
// holds the .npmrc.
func layerMember(t *testing.T, ms []fixture.Member) string {
	t.Helper()
	for _, m := range ms {
		if strings.HasSuffix(m.Header.Name, ".tar") && bytes.Contains(m.Data, []byte("_authToken")) {
			return m.Header.Name
		}
	}
	t.Fatal("no layer holds the token")
	return ""
}

func configMember(t *testing.T, ms []fixture.Member) string {
	t.Helper()
	for _, m := range ms {
		if strings.HasSuffix(m.Header.Name, ".json") && m.Header.Name != "manifest.json" {
			return m.Header.Name
		}
	}
	t.Fatal("no config")
	return ""
}

// tarDir lists a directory's regular files as members, by relative path.
func tarDir(t *testing.T, dir string) []fixture.Member {
	t.Helper()
	var out []fixture.Member
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		out = append(out, fixture.Member{Header: hdr(filepath.ToSlash(rel)), Data: data})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runErr(t *testing.T, tg *scan.Target) (*scan.Result, error) {
	t.Helper()
	return scan.Run(context.Background(), tg, fixture.Detector(t))
}
