package secrets

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"NPM_TOKEN": true, "npm_token": true, "GITHUB_TOKEN": true, "DB_PASSWORD": true,
		"MYSQL_ROOT_PASSWORD": true, "PASSWD": true, "AWS_SECRET_ACCESS_KEY": true,
		"STRIPE_API_KEY": true, "apiKey": true, "ACCESS_KEY": true, "SSH_PRIVATE_KEY": true,
		"GOOGLE_APPLICATION_CREDENTIALS_JSON": true, "NPM_AUTH": true, "AUTH": true,
		"basic-auth": true, "client.secret": true,
		"AUTHOR": false, "OAUTH_URL": false, "NPM_TOKEN_FILE": false, "PASSWORD_PATH": false,
		"TOKEN_URL": false, "AUTH_TYPE": false, "PASSWORD_MIN_LENGTH": false,
		"NODE_ENV": false, "PATH": false, "PWD": false, "": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNotASecret(t *testing.T) {
	for v, want := range map[string]bool{
		"": true, "${NPM_TOKEN}": true, "$NPM_TOKEN": true, "${TOKEN:-default}": true,
		"<token>": true, "<your-api-key>": true, "{{ .Values.token }}": true, "%TOKEN%": true,
		"${{ secrets.NPM_TOKEN }}": true, "$(cat /run/secrets/x)": true,
		"xxxxxxxxxxxx": true, "************": true, "changeme": true, "ChangeMe": true,
		"password": true, "secret": true, "true": true, "false": true, "12345678": true,
		"short": true, "/run/secrets/npm_token": true,
		"AKIAIOSFODNN7EXAMPLE":                     true,
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": true,
		"YOUR-TOKEN-WOULD-GO-HERE":                 true,
		"your_npm_token":                           true,
		"MY_API_KEY":                               true,
		"TOKEN_HERE":                               true,
		"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx":     true,
		"npm_1234567890abcdefghijklmnopqrstuvwxyz": true,
		"ghp_16C7e42F292c6912E7710c838347Ae178B4a": true,
		"walnut-kettle-8516":                       false,
		"my-secret-garden-7731":                    false,
		"npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3": false,
		"hunter2!":                false,
		"/not a path, has spaces": false,
	} {
		if got := notASecret(v); got != want {
			t.Errorf("notASecret(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestLikelyTestValue(t *testing.T) {
	for v, want := range map[string]bool{
		"sk_test_4eC39HqLyjWDarjtT1zdp7dc": true, "my-test-password": true, "example123": true,
		"dummy": true, "FAKE_TOKEN_1234": true, "password.sample": true,
		"npm_xAbTeStqT9x3LmQ2w8ZrV1sKc4nPdYh7Jb": false, // "TeSt" inside a random token
		"testing-is-not-test-words":              true,
		"latest-and-greatest":                    false,
		"-----BEGIN RSA PRIVATE KEY-----\nabc/test/def\n-----END RSA PRIVATE KEY-----": false,
		"": false,
	} {
		if got := likelyTestValue(v); got != want {
			t.Errorf("likelyTestValue(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestURLCredentialsLines(t *testing.T) {
	content := []byte("mail me@example.com\n\nno url here @ all\nconn = mysql://app:My-Secret-99@db:3306/x and https://a:Other-Pass-7@h/\n@\r\nlast://u:Last-One-55@h")
	type hit struct {
		Secret       string
		Line, Column int
	}
	var got []hit
	for _, m := range urlCredentials(content, "url-credentials", "") {
		got = append(got, hit{m.Secret.Raw(), m.Line, m.Column})
	}
	want := []hit{{"My-Secret-99", 4, 20}, {"Other-Pass-7", 4, 57}, {"Last-One-55", 6, 10}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("urlCredentials (-want +got):\n%s", diff)
	}
}
