package source

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry lists what a registry holds: its repositories (the
// distribution catalog API), their tags and the digests the tags name. It
// reaches the registry with Open's credentials and transport rules.
type Registry struct {
	reg  name.Registry
	o    options
	page int
	// puller keeps one transport, and one authentication per repository,
	// for every request of the sweep: its listings and its images.
	puller *remote.Puller
}

// catalogPage is how many repositories one catalog request asks for.
const catalogPage = 100

// maxRepositories bounds a catalog walk, so that a registry that pages
// forever cannot hold a sweep.
const maxRepositories = 1 << 20

// NewRegistry returns a Registry for host ("registry.example",
// "127.0.0.1:5000"). It takes Open's options; the platform and standard
// input options do not apply.
func NewRegistry(host string, opts ...Option) (*Registry, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	var nameOpts []name.Option
	if o.insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("%q is not a registry host: %w", host, err)
	}
	puller, err := remote.NewPuller(pullerOptions(&o)...)
	if err != nil {
		return nil, err
	}
	return &Registry{reg: reg, o: o, page: catalogPage, puller: puller}, nil
}

// Name is the registry's host as references spell it.
func (r *Registry) Name() string { return r.reg.RegistryStr() }

// remoteOptions are the options of one request made with ctx.
func (r *Registry) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.Reuse(r.puller)}
}

// Repositories lists the registry's repositories under prefix (every one
// when prefix is ""), in the catalog's order, following its pages.
func (r *Registry) Repositories(ctx context.Context, prefix string) ([]string, error) {
	prefix = strings.Trim(prefix, "/")
	var repos, bad []string
	last := ""
	for seen := 0; ; {
		page, err := remote.CatalogPage(r.reg, last, r.page, r.remoteOptions(ctx)...)
		if err != nil {
			return repos, catalogError(r.reg, err)
		}
		for _, repo := range page {
			if repo <= last {
				return repos, fmt.Errorf("registry %s: the catalog went back from %q to %q; it is not the sorted list the API promises (name the repositories with --repos-file)", r.Name(), last, repo)
			}
			last = repo
			if !under(repo, prefix) {
				continue
			}
			if _, err := r.repository(repo); err != nil {
				bad = append(bad, repo)
				continue
			}
			repos = append(repos, repo)
		}
		seen += len(page)
		if len(page) < r.page {
			return repos, badNames(r.Name(), "repository", bad)
		}
		if seen >= maxRepositories {
			return repos, fmt.Errorf("registry %s: the catalog lists more than %d repositories; name a prefix or use --repos-file", r.Name(), maxRepositories)
		}
	}
}

// under reports whether repo is prefix or inside it.
func under(repo, prefix string) bool {
	return prefix == "" || repo == prefix || strings.HasPrefix(repo, prefix+"/")
}

// Tags lists a repository's tags.
func (r *Registry) Tags(ctx context.Context, repo string) ([]string, error) {
	rp, err := r.repository(repo)
	if err != nil {
		return nil, err
	}
	lister, err := r.puller.Lister(ctx, rp)
	if err != nil {
		return nil, registryError(rp.Tag("latest"), err)
	}
	var tags, bad []string
	for lister.HasNext() {
		page, err := lister.Next(ctx)
		if err != nil {
			return tags, registryError(rp.Tag("latest"), err)
		}
		for _, tag := range page.Tags {
			if _, err := name.NewTag(rp.String()+":"+tag, name.StrictValidation); err != nil {
				bad = append(bad, tag)
				continue
			}
			tags = append(tags, tag)
		}
		if len(tags)+len(bad) > maxTags {
			return tags, fmt.Errorf("registry %s: %s lists more than %d tags; use --tags-limit", r.Name(), repo, maxTags)
		}
	}
	return tags, badNames(r.Name(), repo+" lists a tag", bad)
}

// badNames is the error of names a registry listed that are not valid
// names, quoted (a hostile registry could send terminal escapes), or nil.
func badNames(registry, what string, bad []string) error {
	if len(bad) == 0 {
		return nil
	}
	quoted := make([]string, 0, min(len(bad), 5))
	for _, b := range bad[:min(len(bad), 5)] {
		quoted = append(quoted, fmt.Sprintf("%q", b))
	}
	more := ""
	if len(bad) > 5 {
		more = fmt.Sprintf(" and %d more", len(bad)-5)
	}
	return fmt.Errorf("registry %s: %s that is not a valid name, not swept: %s%s", registry, what, strings.Join(quoted, ", "), more)
}

// maxTags bounds one repository's tag list, so that a registry that pages
// forever cannot hold a sweep.
const maxTags = 1 << 17

// Resolve returns the digest a tag names: an image manifest's or an
// index's.
func (r *Registry) Resolve(ctx context.Context, repo, tag string) (v1.Hash, error) {
	rp, err := r.repository(repo)
	if err != nil {
		return v1.Hash{}, err
	}
	ref := rp.Tag(tag)
	desc, err := remote.Head(ref, r.remoteOptions(ctx)...)
	if err != nil {
		return v1.Hash{}, registryError(ref, err)
	}
	return desc.Digest, nil
}

// Reference is the reference Open takes for repo at digest.
func (r *Registry) Reference(repo string, digest v1.Hash) string {
	return r.Name() + "/" + repo + "@" + digest.String()
}

// Open opens repo at digest as Open would, with the Registry's options
// and, for an index, the platform opts pick.
func (r *Registry) Open(ctx context.Context, repo string, digest v1.Hash, opts ...Option) (*Set, error) {
	all := append([]Option{WithInsecure(r.o.insecure), WithStallTimeout(r.o.stall), func(o *options) error {
		o.puller = r.puller
		return nil
	}}, opts...)
	return Open(ctx, r.Reference(repo, digest), all...)
}

func (r *Registry) repository(repo string) (name.Repository, error) {
	var nameOpts []name.Option
	if r.o.insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	rp, err := name.NewRepository(r.Name()+"/"+repo, nameOpts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("registry %s: %q is not a repository name: %w", r.Name(), repo, err)
	}
	return rp, nil
}

// catalogError is registryError for the catalog, which names no
// repository.
func catalogError(reg name.Registry, err error) error {
	return fmt.Errorf("registry %s: listing the catalog: %w", reg.RegistryStr(), registryError(reg.Repo("_catalog").Tag("latest"), err))
}
