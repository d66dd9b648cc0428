package source_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/source"
)

const stageFixture = "../fixtures/npm-multistage/deps-stage.tar"

func TestRealDockerDaemon(t *testing.T) {
	cli := testenv.StartDockerd(t)
	for _, a := range []string{deletedFixture, "../fixtures/clean/image.tar", stageFixture} {
		testenv.DockerLoad(t, cli, a)
	}
	// deps-stage.tar is untagged: loading it leaves a dangling image, as a
	// multi-stage build leaves its first stage.
	stage := open(t, stageFixture)
	stageID := stage.ConfigDigest.String()

	t.Run("by name", func(t *testing.T) {
		tg := open(t, "docker-daemon:localhost/fixtures/npm-deleted:latest")
		if diff := cmp.Diff(where(run(t, open(t, deletedFixture))), where(run(t, tg))); diff != "" {
			t.Errorf("findings (-archive +daemon):\n%s", diff)
		}
	})
	t.Run("dangling, by image ID", func(t *testing.T) {
		tg := open(t, "docker-daemon:"+stageID[len("sha256:"):len("sha256:")+12])
		if tg.Reference != stageID {
			t.Errorf("reference %q, want the image ID %s", tg.Reference, stageID)
		}
		if diff := cmp.Diff(where(run(t, stage)), where(run(t, tg))); diff != "" {
			t.Errorf("findings (-archive +daemon):\n%s", diff)
		}
	})
	t.Run("unknown image", func(t *testing.T) {
		_, err := source.Open(context.Background(), "docker-daemon:localhost/nope:1")
		if err == nil || !containsAll(err.Error(), "docker-daemon:localhost/nope:1: no image localhost/nope:1 in the Docker daemon") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("all local images, shared layers once", func(t *testing.T) {
		set, err := source.LocalImages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		det := fixture.NewCountingDetector(t)
		cache := scan.NewLayerCache()
		leaks := map[string]int{}
		for _, tg := range set.Targets {
			res, err := scan.Run(context.Background(), tg, det, scan.WithLayerCache(cache))
			if err != nil {
				t.Fatal(err)
			}
			leaks[res.Reference] = len(res.Findings)
		}
		want := map[string]int{"localhost/fixtures/npm-deleted:latest": 3, "localhost/fixtures/clean:latest": 0, stageID: 2}
		if diff := cmp.Diff(want, leaks); diff != "" {
			t.Errorf("findings per image (-want +got):\n%s", diff)
		}
		// bin/sh is a symlink in the busybox install layer all three images
		// share: each walk of that layer asks about it once.
		if n := det.Files("bin/sh"); n != 1 {
			t.Errorf("the layer all three images share was walked %d times, want once", n)
		}
	})
}

func TestDaemonUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := source.Open(context.Background(), "docker-daemon:app:1")
	if err == nil || !containsAll(err.Error(), "docker-daemon:app:1: cannot reach the Docker daemon at unix:///nonexistent/docker.sock") {
		t.Errorf("err = %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !bytes.Contains([]byte(s), []byte(sub)) {
			return false
		}
	}
	return true
}
