// Package deploy holds the tests of what deploys imagescan: the
// Dockerfile at the repository's root and the Kubernetes manifests in
// deploy/kubernetes. It has no code of its own.
package deploy
