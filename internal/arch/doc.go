// Package arch has no code: its test enforces the project's import rules
// and that library packages never print.
package arch
