package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/source"
)

// pushRepos pushes one small image to each repository, tagged with tags.
func pushRepos(t *testing.T, host string, repos []string, tags []string, opts ...remote.Option) {
	t.Helper()
	img := fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("a.txt", "a")), CreatedBy: "COPY a.txt /"})
	for _, r := range repos {
		for _, tag := range tags {
			push(t, host+"/"+r+":"+tag, img, opts...)
		}
	}
}

// TestRegistryListsItsCatalogPageByPage, against Debian's docker-registry
// (distribution 2.8), which pages its catalog as the API says.
func TestRegistryListsItsCatalogPageByPage(t *testing.T) {
	host := testenv.StartRegistry(t, "lister", "list-pass")
	dockerConfig(t, host, "lister", "list-pass")
	var repos []string
	for i := range 7 {
		repos = append(repos, fmt.Sprintf("team-%d/app", i%2), fmt.Sprintf("other/app-%d", i))
	}
	repos = slices.Compact(slices.Sorted(slices.Values(repos)))
	pushRepos(t, host, repos, []string{"1.0", "latest"}, remote.WithAuth(&authn.Basic{Username: "lister", Password: "list-pass"}))
	reg, err := source.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	source.SetCatalogPage(reg, 2)
	got, err := reg.Repositories(context.Background(), "")
	if err != nil || !slices.Equal(got, repos) {
		t.Errorf("Repositories = %v, %v; want %v", got, err, repos)
	}
	got, err = reg.Repositories(context.Background(), "/team-1/")
	if err != nil || !slices.Equal(got, []string{"team-1/app"}) {
		t.Errorf("under team-1: %v, %v", got, err)
	}
	tags, err := reg.Tags(context.Background(), "team-0/app")
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(tags)), []string{"1.0", "latest"}) {
		t.Errorf("Tags = %v, %v", tags, err)
	}
	one, err := reg.Resolve(context.Background(), "team-0/app", "1.0")
	two, err2 := reg.Resolve(context.Background(), "team-0/app", "latest")
	if err != nil || err2 != nil || one != two || one.Hex == "" {
		t.Errorf("Resolve = %v %v, %v %v; want one digest for both tags", one, err, two, err2)
	}
}

// answer replaces the registry's answer to path with body.
func answer(path string, body any) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				h.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		})
	}
}

func TestAHostileCatalogIsRefusedOrQuoted(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	back := serve(t, answer("/v2/_catalog", map[string]any{"repositories": []string{"b/app", "a/app"}}))
	reg, err := source.NewRegistry(back)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Repositories(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "not the sorted list") {
		t.Errorf("a catalog that goes back: %v", err)
	}
	escape := "evil\x1b]0;owned\x07/app"
	bad := serve(t, answer("/v2/_catalog", map[string]any{"repositories": []string{"a/app", escape}}))
	reg, err = source.NewRegistry(bad)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := reg.Repositories(context.Background(), "")
	if !slices.Equal(repos, []string{"a/app"}) || err == nil || strings.Contains(err.Error(), "\x1b") || !strings.Contains(err.Error(), `"evil\x1b]0;owned\a/app"`) {
		t.Errorf("Repositories = %v, %v; want a/app, and the bad name quoted", repos, err)
	}
	tagged := serve(t, answer("/v2/a/app/tags/list", map[string]any{"name": "a/app", "tags": []string{"1.0", "bad\x1b[2Jtag"}}))
	pushRepos(t, tagged, []string{"a/app"}, []string{"1.0"})
	reg, err = source.NewRegistry(tagged)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := reg.Tags(context.Background(), "a/app")
	if !slices.Equal(tags, []string{"1.0"}) || err == nil || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("Tags = %v, %v; want 1.0, and the bad tag quoted", tags, err)
	}
}
