package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Git runs git in dir, as a fixed user, without the machine's git
// configuration, and with main as the first branch. Without git the test
// fails and says what to install (see RequireTool).
func Git(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(RequireTool(t, "git", "git"), append([]string{"-C", dir, "-c", "user.name=dev", "-c", "user.email=dev@example.test", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
