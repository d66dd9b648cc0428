package layercache

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTTL is how long a layer scan stays in Redis.
const DefaultTTL = 7 * 24 * time.Hour

// Bounds on talking to Redis: a cache that does not answer quickly is
// worth less than the scan it would spare.
const (
	redisTimeout = 3 * time.Second
	claimTTL     = 10 * time.Minute
	claimPoll    = 100 * time.Millisecond
)

// entryMagic starts every value, followed by the entry's MAC.
var entryMagic = []byte("imagescan-layer-1\x00")

func init() {
	redis.SetLogger(silent{}) // library code prints nothing
}

type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

// Redis keeps layer scans in a Redis server that several imagescans, on
// one machine or many, share: the shards of a registry sweep, say. It
// keeps what the local cache keeps, under the same keys, with the same
// rule that no raw secret is stored unless the run shows secrets.
//
// Each entry expires after its TTL and carries an HMAC-SHA256 under a key
// the caller derives from the fingerprint key: an entry that is corrupt,
// or written by anyone without that key, is ignored and rewritten, never
// trusted. A Redis that does not answer is given up for the rest of the
// run; Err says why, and the run goes on without it.
type Redis struct {
	client *redis.Client
	ttl    time.Duration
	mac    []byte
	where  string

	down atomic.Bool
	mu   sync.Mutex
	err  error
}

// OpenRedis connects to the Redis server rawURL names
// (redis://[user:password@]host:port/db, or rediss:// for TLS) and checks
// that it answers. macKey authenticates the entries.
func OpenRedis(ctx context.Context, rawURL string, ttl time.Duration, macKey []byte) (*Redis, error) {
	if ttl <= 0 {
		return nil, errors.New("the cache TTL must be greater than zero")
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--cache-url: %w", err)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = redisTimeout, redisTimeout, redisTimeout
	opts.MaxRetries = 1
	opts.DisableIdentity = true
	r := &Redis{client: redis.NewClient(opts), ttl: ttl, mac: macKey, where: redacted(rawURL)}
	pctx, cancel := context.WithTimeout(ctx, 2*redisTimeout)
	defer cancel()
	if err := r.client.Ping(pctx).Err(); err != nil {
		r.client.Close()
		return nil, fmt.Errorf("the Redis layer cache at %s does not answer: %w", r.where, err)
	}
	return r, nil
}

// redacted is rawURL without its password, for messages.
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// Where names the server, without its password.
func (r *Redis) Where() string { return r.where }

// Err says why the cache was given up during the run, or is nil.
func (r *Redis) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// fail gives the cache up after err, and returns err the first time.
func (r *Redis) fail(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	if r.down.Swap(true) {
		return nil
	}
	r.mu.Lock()
	r.err = fmt.Errorf("the Redis layer cache at %s stopped answering (%v); going on without it", r.where, err)
	r.mu.Unlock()
	return r.err
}

func (r *Redis) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*redisTimeout)
}

// entryKey is where the scan stored under key lives in Redis.
func entryKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "imagescan:layer:" + hex.EncodeToString(sum[:])
}

func claimKey(key string) string { return entryKey(key) + ":claim" }

// seal returns the value stored for data under key.
func (r *Redis) seal(key string, data []byte) []byte {
	m := hmac.New(sha256.New, r.mac)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write(data)
	out := append(append([]byte(nil), entryMagic...), m.Sum(nil)...)
	return append(out, data...)
}

// open returns the data of a value sealed under key, or false.
func (r *Redis) open(key string, value []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(value, entryMagic)
	if !ok || len(rest) < sha256.Size {
		return nil, false
	}
	sum, data := rest[:sha256.Size], rest[sha256.Size:]
	m := hmac.New(sha256.New, r.mac)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write(data)
	return data, hmac.Equal(sum, m.Sum(nil))
}

// Get returns the entry stored under key. A value that does not open
// under the MAC key is no entry: the caller scans the layer and Puts it
// anew.
func (r *Redis) Get(key string) ([]byte, bool) {
	if r.down.Load() {
		return nil, false
	}
	ctx, cancel := r.ctx()
	defer cancel()
	value, err := r.client.Get(ctx, entryKey(key)).Bytes()
	if err != nil {
		_ = r.fail(err)
		return nil, false
	}
	return r.open(key, value)
}

// Put stores data under key for the TTL. A failure gives the cache up
// and is kept for Err rather than returned: it is the run's problem, to
// be reported once, not the problem of the layer that happened to meet
// it.
func (r *Redis) Put(key string, data []byte) error {
	if r.down.Load() {
		return nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	_ = r.fail(r.client.Set(ctx, entryKey(key), r.seal(key, data), r.ttl).Err())
	return nil
}

// Delete removes the entry under key; a failure is kept as Put's is.
func (r *Redis) Delete(key string) error {
	if r.down.Load() {
		return nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	_ = r.fail(r.client.Del(ctx, entryKey(key)).Err())
	return nil
}

// release deletes a claim only if it is still the caller's.
var release = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Claim lets one of the processes that share the cache scan the layer of
// key while the others wait for its entry. It returns at once when the
// entry is there; otherwise it takes the claim, or waits while another
// process holds it (up to the claim's expiry, or until ctx ends), and
// returns the function that gives the caller's claim up. Whatever goes
// wrong, the caller scans the layer itself: a claim saves work, it never
// withholds a scan.
func (r *Redis) Claim(ctx context.Context, key string) func() {
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	for !r.down.Load() && ctx.Err() == nil {
		rctx, cancel := r.ctx()
		n, err := r.client.Exists(rctx, entryKey(key)).Result()
		if err == nil && n == 0 {
			var ok bool
			ok, err = r.client.SetNX(rctx, claimKey(key), token, claimTTL).Result()
			if err == nil && ok {
				cancel()
				return func() {
					rctx, cancel := r.ctx()
					defer cancel()
					_ = r.fail(release.Run(rctx, r.client, []string{claimKey(key)}, token).Err())
				}
			}
		}
		cancel()
		if err != nil {
			_ = r.fail(err)
			break
		}
		if n > 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(claimPoll):
		}
	}
	return func() {}
}

// Close closes the connection.
func (r *Redis) Close() error { return r.client.Close() }
