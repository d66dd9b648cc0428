package secrets_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/crypto/ssh"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan"
)

// tokens makes fake secrets in each format, repeatably.
type tokens struct{ r *mrand.Rand }

func (g tokens) of(prefix, alphabet string, n int) string {
	b := []byte(prefix)
	for range n {
		b = append(b, alphabet[g.r.IntN(len(alphabet))])
	}
	return string(b)
}

const (
	alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lower = "abcdefghijklmnopqrstuvwxyz0123456789"
	hexa  = "0123456789abcdef"
	upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// label is one secret the corpus plants, where and as what it must be
// reported.
type label struct {
	where    string // file path, or config/history field
	secret   string
	rule     string
	severity finding.Severity
}

// corpusFile is one file of the corpus image.
type corpusFile struct {
	path, content string
}

// corpus builds the labelled set: every credential type imagescan claims,
// each planted beside look-alike decoys that must not be reported.
func corpus(t *testing.T) ([]corpusFile, []label, func(*v1.ConfigFile)) {
	t.Helper()
	g := tokens{mrand.New(mrand.NewPCG(2026, 11))}
	npm, uuid := g.of("npm_", alnum, 36), g.of("", hexa, 8)+"-"+g.of("", hexa, 4)+"-4"+g.of("", hexa, 3)+"-a"+g.of("", hexa, 3)+"-"+g.of("", hexa, 12)
	ghp, ghp2 := g.of("ghp_", alnum, 36), g.of("ghp_", alnum, 36)
	yarnTok, identPass := g.of("", alnum, 32), "ident-"+g.of("", alnum, 14)
	regPass, idTok := "dk-"+g.of("", alnum, 20), g.of("", alnum, 40)
	netrcPass, aptPass := g.of("", hexa, 32), "apt-"+g.of("", alnum, 20)
	pypi := "pypi-AgEIcHlwaS5vcmc" + g.of("", alnum, 70)
	pypiPlain, pipPass := "pw-"+g.of("", alnum, 18), "Pip-"+g.of("", alnum, 16)
	gem := "rubygems_" + g.of("", hexa, 48)
	mvn, composerPass := "mvn-"+g.of("", alnum, 16), "cp-"+g.of("", alnum, 18)
	akia, awsSecret := "AKIA"+g.of("", upper, 16), g.of("", alnum, 40)
	kubeTok, kubeKey := g.of("", alnum, 48), base64.StdEncoding.EncodeToString([]byte(g.of("", alnum, 60)))
	dbPass, stripe := "Db-"+g.of("", alnum, 16), "sk_live_"+g.of("", alnum, 32)
	pgPass, slack := "Pg-"+g.of("", alnum, 16), "xoxb-"+g.of("", "0123456789", 12)+"-"+g.of("", "0123456789", 13)+"-"+g.of("", alnum, 24)
	nestedNpm, amqpPass := g.of("npm_", alnum, 36), "Mq-"+g.of("", alnum, 16)
	envTok, labelPass, argPass, pipEnvPass := "env-"+g.of("", alnum, 20), "lbl-"+g.of("", alnum, 16), "arg-"+g.of("", alnum, 16), "pe-"+g.of("", alnum, 16)
	rsaKey, encRSA, sshKey, encSSH := keys(t)

	files := []corpusFile{
		{"app/.npmrc", "@acme:registry=https://npm.acme.example/\n//registry.npmjs.org/:_authToken=" + npm + "\n//npm.acme.example/:_authToken=\"" + uuid + "\"\n//other.example/:_authToken=${NPM_TOKEN}\n//docs.example/:_authToken=YOUR-TOKEN-WOULD-GO-HERE\n//uuid.example/:_authToken=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n"},
		{"home/ci/.yarnrc.yml", "npmRegistryServer: \"https://npm.acme.example\"\nnpmScopes:\n  acme:\n    npmAuthToken: \"" + yarnTok + "\"\nnpmRegistries:\n  \"https://npm.other.example\":\n    npmAuthIdent: \"ci:" + identPass + "\"\n    npmAlwaysAuth: true\nunsafeHttpWhitelist: []\nnpmAuthToken: \"${NPM_TOKEN}\"\n"},
		{"home/ci/.yarnrc", "registry \"https://registry.yarnpkg.com\"\n\"//registry.yarnpkg.com/:_authToken\" \"" + npm + "\"\n"},
		{"root/.docker/config.json", fmt.Sprintf("{\n  \"auths\": {\n    \"registry.acme.example\": {\n      \"auth\": %q\n    },\n    \"ghcr.io\": {\n      \"identitytoken\": %q\n    },\n    \"empty.example\": {\n      \"auth\": \"\"\n    }\n  },\n  \"credsStore\": \"desktop\"\n}\n", base64.StdEncoding.EncodeToString([]byte("deploy:"+regPass)), idTok)},
		{"root/.git-credentials", "https://ci-bot:" + ghp + "@github.com\nhttps://github.com\n"},
		{"root/.netrc", "machine api.heroku.com\n  login ops@acme.example\n  password " + netrcPass + "\nmachine git.example login bob password $NETRC_PASSWORD\n"},
		{"etc/apt/auth.conf.d/acme.conf", "machine apt.acme.example/debian\nlogin ci\npassword " + aptPass + "\n"},
		{"root/.pypirc", "[distutils]\nindex-servers = pypi internal\n\n[pypi]\nusername = __token__\npassword = " + pypi + "\n\n[internal]\nrepository = https://pypi.acme.example\nusername = ci\npassword = " + pypiPlain + "\n\n[testpypi]\npassword = <your token>\n"},
		{"etc/pip.conf", "[global]\nindex-url = https://ci:" + pipPass + "@pypi.acme.example/simple\nextra-index-url = https://pypi.org/simple\n"},
		{"root/.gem/credentials", "---\n:rubygems_api_key: " + gem + "\n"},
		{"root/.m2/settings.xml", "<settings>\n  <servers>\n    <server>\n      <id>acme</id>\n      <username>ci</username>\n      <password>" + mvn + "</password>\n    </server>\n    <server>\n      <id>env</id>\n      <password>${env.MAVEN_PASSWORD}</password>\n    </server>\n  </servers>\n</settings>\n"},
		{"root/.composer/auth.json", "{\n  \"http-basic\": {\n    \"repo.acme.example\": {\"username\": \"ci\", \"password\": \"" + composerPass + "\"}\n  },\n  \"github-oauth\": {\"github.com\": \"" + ghp2 + "\"}\n}\n"},
		{"root/.aws/credentials", "[default]\naws_access_key_id = " + akia + "\naws_secret_access_key = " + awsSecret + "\n\n[docs]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
		{"root/.kube/config", "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: " + kubeTok + "\n- name: admin\n  user:\n    client-key-data: " + kubeKey + "\n- name: empty\n  user:\n    token: \"\"\n"},
		{"root/.ssh/id_rsa", rsaKey},
		{"root/.ssh/id_rsa_encrypted", encRSA},
		{"root/.ssh/id_ed25519", sshKey},
		{"root/.ssh/id_ed25519_encrypted", encSSH},
		{"srv/app/.env", "NODE_ENV=production\nDB_PASSWORD=" + dbPass + "\nSTRIPE_SECRET_KEY=" + stripe + "\nAPI_KEY=\nSESSION_SECRET=${SESSION_SECRET}\n"},
		{"srv/app/.env.example", "DB_PASSWORD=changeme\nAPI_KEY=<your-key>\nSESSION_SECRET=xxxxxxxxxxxxxxxx\n"},
		{"srv/app/db.js", "module.exports = {\n  url: \"postgres://app:" + pgPass + "@db.internal:5432/app\",\n  docs: \"postgres://user:password@localhost/db\",\n  link: \"https://example.com/@scope/pkg\",\n};\n"},
		{"srv/app/notify.py", "SLACK = \"" + slack + "\"\nEXAMPLE = \"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\nAWS_DOCS = \"AKIAIOSFODNN7EXAMPLE\"\nGITHUB_DOCS = \"ghp_16C7e42F292c6912E7710c838347Ae178B4a\"\n"},
		{"srv/app/node_modules/@acme/private/.npmrc", "//registry.npmjs.org/:_authToken=" + npm + "\n"},
		{"srv/app/node_modules/left-pad/test/fixtures.js", "const token = '" + g.of("ghp_", alnum, 36) + "';\n"},
		{"srv/vendor/private-lib-1.0.0.tgz", string(targz(t, map[string]string{"package/.npmrc": "//registry.npmjs.org/:_authToken=" + nestedNpm + "\n", "package/README.md": "token: <your token>\n"}))},
		{"srv/app/app.jar", string(zipped(t, map[string]string{"BOOT-INF/classes/application.properties": "spring.datasource.url=jdbc:postgresql://db/app\nspring.rabbitmq.addresses=amqp://app:" + amqpPass + "@mq.internal:5672\n"}))},
	}
	labels := []label{
		{"app/.npmrc", npm, "npm-access-token", finding.Critical},
		{"app/.npmrc", uuid, "npmrc-auth-token", finding.High},
		{"home/ci/.yarnrc.yml", yarnTok, "yarnrc-auth-token", finding.High},
		{"home/ci/.yarnrc.yml", identPass, "yarnrc-auth-ident", finding.High},
		{"home/ci/.yarnrc", npm, "npm-access-token", finding.Critical},
		{"root/.docker/config.json", regPass, "docker-config-auth", finding.High},
		{"root/.docker/config.json", idTok, "docker-config-identity-token", finding.High},
		{"root/.git-credentials", ghp, "github-pat", finding.Critical},
		{"root/.netrc", netrcPass, "netrc-password", finding.High},
		{"etc/apt/auth.conf.d/acme.conf", aptPass, "netrc-password", finding.High},
		{"root/.pypirc", pypi, "pypi-upload-token", finding.Critical},
		{"root/.pypirc", pypiPlain, "pypirc-password", finding.High},
		{"etc/pip.conf", pipPass, "pip-index-credentials", finding.High},
		{"root/.gem/credentials", gem, "rubygems-api-token", finding.Critical},
		{"root/.m2/settings.xml", mvn, "maven-settings-password", finding.High},
		{"root/.composer/auth.json", composerPass, "composer-auth", finding.High},
		{"root/.composer/auth.json", ghp2, "github-pat", finding.Critical},
		{"root/.aws/credentials", akia, "aws-access-token", finding.Critical},
		{"root/.aws/credentials", awsSecret, "aws-credentials-file", finding.High},
		{"root/.kube/config", kubeTok, "kubeconfig-token", finding.High},
		{"root/.kube/config", kubeKey, "kubeconfig-client-key-data", finding.High},
		{"root/.ssh/id_rsa", strings.TrimSpace(rsaKey), "private-key", finding.High},
		{"root/.ssh/id_rsa_encrypted", strings.TrimSpace(encRSA), "private-key", finding.Low},
		{"root/.ssh/id_ed25519", strings.TrimSpace(sshKey), "private-key", finding.High},
		{"root/.ssh/id_ed25519_encrypted", strings.TrimSpace(encSSH), "private-key", finding.Low},
		{"srv/app/.env", dbPass, "env-file-secret", finding.Medium},
		{"srv/app/.env", stripe, "stripe-access-token", finding.Critical},
		{"srv/app/db.js", pgPass, "url-credentials", finding.High},
		{"srv/app/notify.py", slack, "slack-bot-token", finding.Critical},
		{"srv/app/node_modules/@acme/private/.npmrc", npm, "npm-access-token", finding.Critical},
		{"srv/vendor/private-lib-1.0.0.tgz!package/.npmrc", nestedNpm, "npm-access-token", finding.Critical},
		{"srv/app/app.jar!BOOT-INF/classes/application.properties", amqpPass, "url-credentials", finding.High},
		{"config.Env[1]", envTok, "secret-named-variable", finding.Medium},
		{"config.Env[2]", pipEnvPass, "url-credentials", finding.High},
		{`config.Labels["deploy.password"]`, labelPass, "secret-named-variable", finding.Medium},
		{"history[2].created_by", argPass, "secret-named-variable", finding.Medium},
	}
	config := func(cf *v1.ConfigFile) {
		cf.Config.Env = []string{"PATH=/usr/bin", "API_TOKEN=" + envTok, "PIP_INDEX_URL=https://ci:" + pipEnvPass + "@pypi.acme.example/simple", "NPM_TOKEN=${NPM_TOKEN}", "PASSWORD_FILE=/run/secrets/db"}
		cf.Config.Labels = map[string]string{"deploy.password": labelPass, "maintainer": "ops@acme.example", "org.opencontainers.image.source": "https://github.com/acme/app"}
		cf.History = append(cf.History, v1.History{CreatedBy: "|2 DB_PASSWORD=" + argPass + " TOKEN_URL=https://auth.acme.example/token /bin/sh -c make", EmptyLayer: true})
	}
	return files, labels, config
}

// targz returns a gzip-compressed tarball of files.
func targz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var entries []fixture.Entry
	for _, name := range slices.Sorted(maps.Keys(files)) {
		entries = append(entries, fixture.File(name, files[name]))
	}
	return fixture.Gz(t, fixture.Tar(t, entries...))
}

// zipped returns a zip archive of files.
func zipped(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// keys returns a PEM RSA key, the same encrypted, an OpenSSH ed25519 key
// and the same encrypted, all made now.
func keys(t *testing.T) (rsaPEM, encRSA, sshPEM, encSSH string) {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der := x509.MarshalPKCS1PrivateKey(rk)
	rsaPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
	//lint:ignore SA1019 legacy PEM encryption is what old keys on disk use
	enc, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", der, []byte("passphrase"), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	encRSA = string(pem.EncodeToMemory(enc))
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ssh.MarshalPrivateKey(ek, "ci@acme")
	if err != nil {
		t.Fatal(err)
	}
	sshPEM = string(pem.EncodeToMemory(b))
	b, err = ssh.MarshalPrivateKeyWithPassphrase(ek, "ci@acme", []byte("passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	encSSH = string(pem.EncodeToMemory(b))
	return rsaPEM, encRSA, sshPEM, encSSH
}

// TestCorpusPrecisionAndRecall scans an image holding the whole corpus and
// requires every planted secret found with its rule and severity, and
// nothing else.
func TestCorpusPrecisionAndRecall(t *testing.T) {
	files, labels, config := corpus(t)
	var entries []fixture.Entry
	for _, f := range files {
		entries = append(entries, fixture.File(f.path, f.content))
	}
	img := fixture.WithConfig(t, fixture.Image(t,
		fixture.Layer{Tar: fixture.Tar(t, fixture.File("bin/sh", "#!"))}, fixture.Layer{Tar: fixture.Tar(t, entries...)},
	), config)
	res, err := scan.Run(context.Background(), fixture.Target(t, "corpus", img), fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]label{}
	for _, l := range labels {
		want[l.where+"\x00"+l.secret] = l
	}
	got := map[string]finding.Finding{}
	for _, f := range res.Findings {
		where := f.Location.Path
		if where == "" {
			where = f.Location.Field
		}
		got[where+"\x00"+f.Secret.Raw()] = f
	}
	var tp, fp, fn []string
	for k, f := range got {
		l, ok := want[k]
		if !ok {
			fp = append(fp, fmt.Sprintf("%s: %s %s (%s)", strings.Split(k, "\x00")[0], f.RuleID, f.Secret.Redacted(), f.Severity))
			continue
		}
		tp = append(tp, k)
		if f.RuleID != l.rule || f.Severity != l.severity {
			t.Errorf("%s: reported as %s/%s, want %s/%s", l.where, f.RuleID, f.Severity, l.rule, l.severity)
		}
	}
	for k, l := range want {
		if _, ok := got[k]; !ok {
			fn = append(fn, fmt.Sprintf("%s: %s", l.where, l.rule))
		}
	}
	sort.Strings(fp)
	sort.Strings(fn)
	precision := float64(len(tp)) / float64(max(len(tp)+len(fp), 1))
	recall := float64(len(tp)) / float64(len(tp)+len(fn))
	t.Logf("corpus: %d labelled secrets, %d found, precision %.3f, recall %.3f", len(want), len(tp), precision, recall)
	if precision < 1 {
		t.Errorf("precision %.3f: reported but not planted:\n  %s", precision, strings.Join(fp, "\n  "))
	}
	if recall < 1 {
		t.Errorf("recall %.3f: planted but not found:\n  %s", recall, strings.Join(fn, "\n  "))
	}
	if res.Coverage.Suppressed[finding.SuppressThirdPartySample] != 1 {
		t.Errorf("suppressed %v, want the third-party test fixture's token counted", res.Coverage.Suppressed)
	}
}
