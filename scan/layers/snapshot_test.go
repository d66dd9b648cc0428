package layers_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

func TestSnapshotRoundTrip(t *testing.T) {
	lower := walk(t, 2, fixture.Tar(t,
		fixture.File("app/.npmrc", "SECRET=first-version"),
		fixture.File("app/.npmrc", "SECRET=second-version"),
		fixture.Whiteout("app", "old"), fixture.Opaque("cache"),
		fixture.File("etc/conf", "SECRET=stays"),
		fixture.File("srv/token", "SECRET=linked"),
		fixture.Hardlink("srv/keep", "srv/token"),
	), Options{})
	upper := fixture.Tar(t, fixture.Whiteout("etc", "conf"), fixture.Whiteout("srv", "token"))

	for _, withSecrets := range []bool{false, true} {
		data, ok, err := lower.Snapshot(withSecrets)
		if err != nil || !ok {
			t.Fatalf("Snapshot(%v): %v %v", withSecrets, ok, err)
		}
		back, withheld, err := FromSnapshot(data, 5)
		if err != nil {
			t.Fatal(err)
		}
		if withheld == withSecrets {
			t.Errorf("withSecrets %v: withheld %v", withSecrets, withheld)
		}
		// Resolved against the same upper layer, the copy and the original
		// must give the same statuses, ids and redactions.
		orig := lower.Reindexed(5)
		Resolve([]*Result{orig, walk(t, 6, upper, Options{})})
		Resolve([]*Result{back, walk(t, 6, upper, Options{})})
		type view struct {
			Path, Redacted, ID string
			Status             finding.Status
			By, Layer          int
			VisibleAt          string
		}
		var a, b []view
		for _, f := range orig.Findings {
			a = append(a, view{f.Location.Path, f.Secret.Redacted(), f.Secret.ID(), f.Location.Status, f.Location.RemovedByLayer, f.Location.LayerIndex, f.Location.VisibleAt})
		}
		if a[len(a)-1].VisibleAt != "srv/keep" {
			t.Fatalf("the hard link is not followed: %+v", a[len(a)-1])
		}
		for _, f := range back.Findings {
			b = append(b, view{f.Location.Path, f.Secret.Redacted(), f.Secret.ID(), f.Location.Status, f.Location.RemovedByLayer, f.Location.LayerIndex, f.Location.VisibleAt})
			if f.Secret.IsWithheld() == withSecrets {
				t.Errorf("withSecrets %v: %s withheld %v", withSecrets, f.Location.Path, f.Secret.IsWithheld())
			}
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("withSecrets %v (-original +snapshot):\n%s", withSecrets, diff)
		}
	}
}

func TestASecretInAPathIsNotStored(t *testing.T) {
	res := walk(t, 0, fixture.Tar(t, fixture.File("keys/SECRET=in-the-name", "SECRET=in-the-name")), Options{})
	if _, ok, err := res.Snapshot(false); ok || err != nil {
		t.Errorf("a layer whose path holds a secret was stored without the secret: ok %v err %v", ok, err)
	}
	if _, ok, _ := res.Snapshot(true); !ok {
		t.Error("a run that shows secrets may store it")
	}
}

func TestASecretInAHardLinkNameIsNotStored(t *testing.T) {
	res := walk(t, 0, fixture.Tar(t, fixture.File("app/conf", "SECRET=in-the-link"), fixture.Hardlink("keys/SECRET=in-the-link", "app/conf")), Options{})
	if _, ok, err := res.Snapshot(false); ok || err != nil {
		t.Errorf("a layer whose hard link name holds a secret was stored without the secret: ok %v err %v", ok, err)
	}
}

func TestGarbageSnapshots(t *testing.T) {
	if _, _, err := FromSnapshot([]byte("garbage"), 0); err == nil {
		t.Error("garbage decoded")
	}
}
