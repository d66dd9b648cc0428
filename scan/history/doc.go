// Package history reads an image config for secrets: every history entry's
// created_by (raw and parsed into its build args and instruction), comment
// and author, and the config's Env, Labels, Cmd, Entrypoint, OnBuild and
// Healthcheck, in both config and the legacy container_config.
//
// It also maps history entries to layers by skipping empty_layer entries.
// When the counts disagree it says so and maps nothing: a wrong Dockerfile
// step on a finding is worse than none.
package history
