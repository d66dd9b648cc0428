package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/moby/moby/client"

	"github.com/imagescan/imagescan/scan"
)

// daemonClient connects to the Docker daemon that $DOCKER_HOST (or the
// default socket) names, and checks that it answers.
func daemonClient(ctx context.Context) (*client.Client, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker daemon: %w", err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("cannot reach the Docker daemon at %s: %s", cli.DaemonHost(), oneLine(err.Error()))
	}
	return cli, nil
}

// daemonImage reads one image from the local Docker daemon, by name
// (repo:tag) or image ID.
func daemonImage(ctx context.Context, input, ref string, o *options) (*Set, error) {
	cli, err := daemonClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	id, err := resolveDaemonImage(ctx, cli, ref)
	if err != nil {
		return nil, err
	}
	save := ref
	if strings.HasPrefix(ref, "sha256:") || isHexPrefix(ref) {
		save = id // an image ID: the archive will hold it untagged, named by its ID
	}
	return saveFromDaemon(ctx, cli, input, []string{save}, o)
}

// resolveDaemonImage returns the image ID ref names. A name is resolved
// through go-containerregistry's daemon package; an ID by inspection.
func resolveDaemonImage(ctx context.Context, cli *client.Client, ref string) (string, error) {
	if strings.HasPrefix(ref, "sha256:") || isHexPrefix(ref) {
		res, err := cli.ImageInspect(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("no image %s in the Docker daemon: %s", ref, oneLine(err.Error()))
		}
		return res.ID, nil
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("not an image name or ID: %w", err)
	}
	img, err := daemon.Image(r, daemon.WithClient(cli), daemon.WithContext(ctx), daemon.WithUnbufferedOpener())
	if err != nil {
		return "", fmt.Errorf("no image %s in the Docker daemon: %s", ref, oneLine(err.Error()))
	}
	id, err := img.ConfigName()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

func isHexPrefix(s string) bool {
	if len(s) < 12 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// LocalImages opens every image the local Docker daemon holds, intermediate
// and dangling (<none>:<none>) ones included: the build stages a
// multi-stage build leaves behind are where tokens leak. Tagged images are
// exported under their tags, the others under their IDs, all in one export.
// The caller closes the Set.
func LocalImages(ctx context.Context, opts ...Option) (*Set, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	cli, err := daemonClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("docker-daemon: %w", err)
	}
	defer cli.Close()
	list, err := cli.ImageList(ctx, client.ImageListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("docker-daemon: listing images: %w", err)
	}
	var names []string
	for _, img := range list.Items {
		tags := realTags(img.RepoTags)
		if len(tags) == 0 {
			tags = []string{img.ID}
		}
		names = append(names, tags...)
	}
	if len(names) == 0 {
		return nil, errors.New("docker-daemon: the daemon holds no images")
	}
	set, err := saveFromDaemon(ctx, cli, "docker-daemon:", names, &o)
	if err != nil {
		return nil, fmt.Errorf("docker-daemon: %w", err)
	}
	return set, nil
}

func realTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t != "<none>:<none>" {
			out = append(out, t)
		}
	}
	return out
}

// saveFromDaemon exports names in one `docker save` stream, spools it like
// standard input (0600, unlinked at once) and reads it as a docker archive.
// go-containerregistry's daemon image would export the image again for
// every layer, or hold it all in memory or in a named temporary file.
func saveFromDaemon(ctx context.Context, cli *client.Client, input string, names []string, o *options) (*Set, error) {
	rc, err := cli.ImageSave(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("exporting from the Docker daemon: %s", oneLine(err.Error()))
	}
	defer rc.Close()
	f, err := spoolFile(ctx, rc, o.tempDir)
	if err != nil {
		return nil, fmt.Errorf("exporting from the Docker daemon: %w", err)
	}
	a, err := archiveOf(f)
	if err != nil {
		return nil, err
	}
	return fromArchive(a, func(a *archive) ([]*scan.Target, error) { return dockerArchive(a, input, "", o) })
}

// spoolFile copies a stream to a temporary file in dir, created 0600 and
// unlinked at once: its bytes live only as long as the open file, so
// nothing is left on disk, even if the process is killed. A
// gzip-compressed stream is spooled decompressed, so that it can be read
// in place.
func spoolFile(ctx context.Context, r io.Reader, dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "imagescan-spool-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	if err := spool(ctx, f, r); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// archiveOf indexes a spooled file, closing it when that fails.
func archiveOf(f *os.File) (*archive, error) {
	a, err := newArchive(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}
