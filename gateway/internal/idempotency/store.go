// Package idempotency makes a write safe to retry: the first request with
// an Idempotency-Key runs, and every later one with the same key (per user)
// gets its recorded answer. Records live in Redis with a body hash so a
// reused key with a different body is refused, and an in-flight lock so a
// duplicate that races the first is refused rather than run twice.
package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// Record states.
const (
	statePending = "pending"
	stateDone    = "done"
)

// Record is what Redis holds per (user, key).
type Record struct {
	State    string      `json:"state"`
	Token    string      `json:"token,omitempty"` // owner of a pending record
	BodyHash string      `json:"body_hash"`
	Status   int         `json:"status,omitempty"`
	Header   http.Header `json:"header,omitempty"`
	Body     []byte      `json:"body,omitempty"`
}

// Store keeps the records.
type Store struct {
	rdb       redis.Scripter
	prefix    string
	lock      time.Duration
	retention time.Duration
}

// NewStore keeps records under prefix: a pending one for at most lock (so a
// crashed gateway does not block a key forever), a finished one for
// retention.
func NewStore(rdb redis.Scripter, prefix string, lock, retention time.Duration) *Store {
	return &Store{rdb: rdb, prefix: prefix, lock: lock, retention: retention}
}

// Retention is how long a finished answer is replayed.
func (s *Store) Retention() time.Duration { return s.retention }

// begin atomically either claims the key (returns nil) or returns the
// record already there.
var begin = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`)

// finish replaces the pending record only while this request still owns it.
var finish = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or cjson.decode(v)['token'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) return 1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// Claim is a claimed key; Finish or Release it.
type Claim struct {
	key, token, hash string
}

// Begin claims (user, key) for a body with hash. It returns the claim, or
// the existing record when the key is taken.
func (s *Store) Begin(ctx context.Context, user, key, hash string) (*Claim, *Record, error) {
	token, err := newToken()
	if err != nil {
		return nil, nil, err
	}
	rk := s.prefix + user + ":" + key
	pending, _ := json.Marshal(Record{State: statePending, Token: token, BodyHash: hash})
	v, err := begin.Run(ctx, s.rdb, []string{rk}, pending, s.lock.Milliseconds()).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return &Claim{key: rk, token: token, hash: hash}, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("idempotency begin: %w", err)
	}
	var rec Record
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return nil, nil, fmt.Errorf("idempotency record %s: %w", rk, err)
	}
	return nil, &rec, nil
}

// Finish records the answer to replay for the retention period.
func (s *Store) Finish(ctx context.Context, c *Claim, status int, h http.Header, body []byte) error {
	done, err := json.Marshal(Record{State: stateDone, BodyHash: c.hash, Status: status, Header: h, Body: body})
	if err != nil {
		return err
	}
	return finish.Run(ctx, s.rdb, []string{c.key}, c.token, done, s.retention.Milliseconds()).Err()
}

// Release forgets the claim so the client may retry (the answer was a
// transient failure that must not be replayed for a day).
func (s *Store) Release(ctx context.Context, c *Claim) error {
	return finish.Run(ctx, s.rdb, []string{c.key}, c.token, "", 0).Err()
}

func newToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("idempotency token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
