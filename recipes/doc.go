// Package recipes holds the CI and release recipes docs/recipes.md shows:
// a GitHub Actions job, a GitLab CI job, a push wrapper that refuses an
// image with secrets, and the contractor hand-off audit. Its tests run
// each recipe as far as this machine allows.
package recipes
