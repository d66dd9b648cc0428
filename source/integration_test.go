package source_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/source"
)

func TestRealRegistry(t *testing.T) {
	const user, pass = "ci-bot", "walnut-kettle-8516"
	host := testenv.StartRegistry(t, user, pass)
	creds := remote.WithAuth(&authn.Basic{Username: user, Password: pass})
	push(t, host+"/team/app:1.2", imageOf(t, open(t, deletedFixture)), creds)

	dockerConfig(t, host, user, pass)
	want := where(run(t, open(t, deletedFixture)))
	tg := open(t, host+"/team/app:1.2")
	if diff := cmp.Diff(want, where(run(t, tg))); diff != "" {
		t.Errorf("findings (-archive +registry):\n%s", diff)
	}
	if tg.Reference != host+"/team/app:1.2" || tg.Digest.Hex == "" {
		t.Errorf("reference %q digest %v", tg.Reference, tg.Digest)
	}

	_, err := source.Open(context.Background(), host+"/team/app:9.9")
	if err == nil || !strings.Contains(err.Error(), "team/app:9.9 not found in registry "+host) {
		t.Errorf("unknown tag: err = %v", err)
	}
	dockerConfig(t, host, user, "wrong-password")
	_, err = source.Open(context.Background(), host+"/team/app:1.2")
	if err == nil || !strings.Contains(err.Error(), "registry "+host+" refused access to team/app (401 Unauthorized)") {
		t.Errorf("wrong credentials: err = %v", err)
	}
}
