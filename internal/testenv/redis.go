package testenv

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a redis-server the test started.
type Redis struct {
	Addr string
	// CAFile, for a server that speaks TLS, is the certificate of the
	// authority that signed its certificate.
	CAFile string
	cmd    *exec.Cmd
	tls    *tls.Config
}

// URL is the server's redis:// (or, with TLS, rediss://) URL for
// database db.
func (r *Redis) URL(db int) string {
	scheme := "redis"
	if r.tls != nil {
		scheme = "rediss"
	}
	return fmt.Sprintf("%s://%s/%d", scheme, r.Addr, db)
}

// Kill stops the server at once, as a crash would.
func (r *Redis) Kill() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

// StartRedis runs Debian's redis-server on a loopback port, with nothing
// saved to disk, until the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	port := FreePort(t)
	return startRedis(t, &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port)}, "--port", strconv.Itoa(port))
}

// StartRedisTLS runs redis-server speaking only TLS, with a certificate
// for 127.0.0.1 signed by a certificate authority made for the test
// (CAFile); clients need no certificate.
func StartRedisTLS(t testing.TB) *Redis {
	t.Helper()
	dir := t.TempDir()
	ca, cert, key := makeCertificates(t, dir)
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(ca)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("the test CA: %v", err)
	}
	port := FreePort(t)
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), CAFile: ca, tls: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	return startRedis(t, r, "--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "no")
}

func startRedis(t testing.TB, r *Redis, args ...string) *Redis {
	t.Helper()
	bin := RequireTool(t, "redis-server", "redis-server")
	var logs bytes.Buffer
	r.cmd = exec.Command(bin, append(args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())...)
	r.cmd.Stdout, r.cmd.Stderr = &logs, &logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		if t.Failed() {
			t.Logf("redis-server output:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ping(r.Addr, r.tls) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not come up on %s\n%s", r.Addr, logs.String())
		}
	}
}

// makeCertificates writes a certificate authority and a server
// certificate for 127.0.0.1 it signed, and returns their files.
func makeCertificates(t testing.TB, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imagescan test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caTmpl, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	for path, block := range map[string]*pem.Block{ca: {Type: "CERTIFICATE", Bytes: caDER}, cert: {Type: "CERTIFICATE", Bytes: srvDER}, key: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}

// ping sends PING in the Redis protocol, over TLS when cfg is set, and
// waits for +PONG.
func ping(addr string, cfg *tls.Config) bool {
	var c net.Conn
	var err error
	if cfg != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, cfg)
	} else {
		c, err = net.DialTimeout("tcp", addr, time.Second)
	}
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

// TTLs returns the time to live of every key of database db.
func (r *Redis) TTLs(t testing.TB, db int) []time.Duration {
	t.Helper()
	opts, err := redis.ParseURL(r.URL(db))
	if err != nil {
		t.Fatal(err)
	}
	opts.TLSConfig = r.tls
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Duration
	for _, k := range keys {
		d, err := c.TTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}
