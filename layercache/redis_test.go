package layercache_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/layercache"
)

var macKey = []byte("0123456789abcdef0123456789abcdef")

func openRedis(t *testing.T, url string, key []byte) *layercache.Redis {
	t.Helper()
	r, err := layercache.OpenRedis(context.Background(), url, time.Hour, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// raw is a plain client on the same server, to look at and tamper with
// what the cache stores.
func raw(t *testing.T, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// onlyKey returns the one key the cache wrote.
func onlyKey(t *testing.T, c *redis.Client) string {
	t.Helper()
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v; want one", keys, err)
	}
	return keys[0]
}

func TestRedisKeepsEntriesForTheirTTL(t *testing.T) {
	srv := testenv.StartRedis(t)
	r := openRedis(t, srv.URL(0), macKey)
	if err := r.Put("layer-a", []byte("scan of a")); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Get("layer-a"); !ok || string(got) != "scan of a" {
		t.Fatalf("Get = %q, %v", got, ok)
	}
	if _, ok := r.Get("layer-b"); ok {
		t.Error("an entry never put was found")
	}
	c := raw(t, srv.URL(0))
	key := onlyKey(t, c)
	if strings.Contains(key, "layer-a") {
		t.Errorf("the Redis key %q holds the caller's key", key)
	}
	ttl, err := c.TTL(context.Background(), key).Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL %v, %v; want an hour", ttl, err)
	}
	if err := r.Delete("layer-a"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get("layer-a"); ok {
		t.Error("a deleted entry was found")
	}
}

func TestRedisTrustsNoEntryItCannotAuthenticate(t *testing.T) {
	srv := testenv.StartRedis(t)
	r := openRedis(t, srv.URL(0), macKey)
	if err := r.Put("layer-a", []byte("clean scan")); err != nil {
		t.Fatal(err)
	}
	c := raw(t, srv.URL(0))
	key := onlyKey(t, c)
	good, err := c.Get(context.Background(), key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	forged := append([]byte(nil), good...)
	forged[len(forged)-1] ^= 1 // the scan changed, the MAC not
	otherKey := openRedis(t, srv.URL(1), []byte("another key, another fleet......"))
	for name, value := range map[string][]byte{
		"garbage":         []byte("not an entry"),
		"a changed scan":  forged,
		"the magic alone": []byte("imagescan-layer-1\x00"),
	} {
		if err := c.Set(context.Background(), key, value, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if got, ok := r.Get("layer-a"); ok {
			t.Errorf("%s: Get = %q, trusted", name, got)
		}
	}
	// An entry written under another MAC key (another fleet's imagescan,
	// or anyone who can write to Redis) is not trusted, and a Put
	// rewrites it.
	if err := otherKey.Put("layer-a", []byte("forged clean scan")); err != nil {
		t.Fatal(err)
	}
	other := raw(t, srv.URL(1))
	value, err := other.Get(context.Background(), onlyKey(t, other)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set(context.Background(), key, value, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Get("layer-a"); ok {
		t.Errorf("an entry of another key was trusted: %q", got)
	}
	if err := r.Put("layer-a", []byte("rescanned")); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Get("layer-a"); !ok || string(got) != "rescanned" {
		t.Errorf("after the rewrite Get = %q, %v", got, ok)
	}
	// An entry copied to another layer's place does not open there: the
	// MAC binds the entry to its key.
	value, err = c.Get(context.Background(), key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Put("layer-b", []byte("scan of b")); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k != key {
			if err := c.Set(context.Background(), k, value, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, ok := r.Get("layer-b"); ok {
		t.Errorf("layer a's entry opened as layer b's: %q", got)
	}
}

func TestAnUnreachableRedisIsAnErrorAtOnce(t *testing.T) {
	port := testenv.FreePort(t)
	start := time.Now()
	_, err := layercache.OpenRedis(context.Background(), "redis://127.0.0.1:"+strconv.Itoa(port)+"/0", time.Hour, macKey)
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	_, err = layercache.OpenRedis(context.Background(), "redis://user:hunter2-password@127.0.0.1:"+strconv.Itoa(port)+"/0", time.Hour, macKey)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the URL's password: %v", err)
	}
}

func TestARedisThatDiesIsGivenUpOnce(t *testing.T) {
	srv := testenv.StartRedis(t)
	r := openRedis(t, srv.URL(0), macKey)
	if err := r.Put("layer-a", []byte("scan")); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	if err := r.Put("layer-c", []byte("scan")); err != nil {
		t.Errorf("Put on a dead server: %v; the failure is the run's, kept for Err", err)
	}
	if _, ok := r.Get("layer-a"); ok {
		t.Error("Get found an entry on a dead server")
	}
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "stopped answering") {
		t.Errorf("Err() = %v", r.Err())
	}
	start := time.Now()
	for range 100 {
		if err := r.Put("layer-b", []byte("scan")); err != nil {
			t.Errorf("Put after giving up: %v", err)
		}
		r.Get("layer-b")
	}
	if time.Since(start) > time.Second {
		t.Errorf("200 calls on a given-up cache took %v; they should not try the server", time.Since(start))
	}
}

func TestOneProcessScansALayerWhileTheOthersWait(t *testing.T) {
	srv := testenv.StartRedis(t)
	first, second := openRedis(t, srv.URL(0), macKey), openRedis(t, srv.URL(0), macKey)
	release := first.Claim(context.Background(), "layer-a")
	var waited time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		second.Claim(context.Background(), "layer-a")()
		waited = time.Since(start)
	}()
	time.Sleep(400 * time.Millisecond)
	if err := first.Put("layer-a", []byte("scan")); err != nil {
		t.Fatal(err)
	}
	release()
	wg.Wait()
	if waited < 300*time.Millisecond {
		t.Errorf("the second claim returned after %v, before the first scan was stored", waited)
	}
	if _, ok := second.Get("layer-a"); !ok {
		t.Error("the waiting process finds no entry")
	}
	// A claim given up without an entry (a scan that could not be
	// stored) lets the next process scan.
	release = first.Claim(context.Background(), "layer-b")
	release()
	done := make(chan struct{})
	go func() {
		second.Claim(context.Background(), "layer-b")()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("a released claim still holds the next process")
	}
}

// TestRedisOverTLS: rediss:// speaks TLS and checks the server's
// certificate against the system's authorities (here the test's, through
// SSL_CERT_FILE, read once per process: this is the package's only TLS).
func TestRedisOverTLS(t *testing.T) {
	srv := testenv.StartRedisTLS(t)
	t.Setenv("SSL_CERT_FILE", srv.CAFile)
	r := openRedis(t, srv.URL(0), macKey)
	if err := r.Put("layer-a", []byte("scan over TLS")); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Get("layer-a"); !ok || string(got) != "scan over TLS" {
		t.Errorf("Get = %q, %v", got, ok)
	}
	plain := strings.Replace(srv.URL(0), "rediss://", "redis://", 1)
	if _, err := layercache.OpenRedis(context.Background(), plain, time.Hour, macKey); err == nil {
		t.Error("plain redis:// to a TLS port answered")
	}
}
