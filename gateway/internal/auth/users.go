// Package auth is the gateway's authentication: a directory of users with
// bcrypt password hashes, HS256 access tokens with a pinned algorithm, and
// the echo middleware that turns a Bearer token into a web.Identity.
package auth

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/ordo-platform/ordo/pkg/web"
)

// ErrBadCredentials means the username or the password is wrong; callers
// never learn which.
var ErrBadCredentials = errors.New("wrong username or password")

// User is one account that can log in.
type User struct {
	Name string
	Role string
	// Hash is the bcrypt hash of the password.
	Hash []byte
}

// Users is the directory the gateway authenticates against.
type Users struct {
	byName map[string]User
	dummy  []byte
}

// demoHash is bcrypt("demo", cost 10): only the hash is kept in the source.
const demoHash = "$2a$10$mq5Znqak7KySidSrA8zoIecFe1r0TInkdR3iWSY3szkV7iG8kks8O"

// DemoUsers is the local/dev directory: alice and bob (customers) and
// admin, each with password "demo". Production mode refuses it.
const DemoUsers = "alice:customer:" + demoHash + ",bob:customer:" + demoHash + ",admin:admin:" + demoHash

// ParseUsers reads a directory written as "name:role:bcrypt-hash,...".
// Bcrypt hashes contain neither ':' nor ',', so the form needs no quoting.
func ParseUsers(spec string) (*Users, error) {
	u := &Users{byName: map[string]User{}, dummy: []byte(demoHash)}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) != 3 || parts[0] == "" {
			return nil, fmt.Errorf("user %q: want name:role:bcrypt-hash", item)
		}
		if parts[1] != web.RoleCustomer && parts[1] != web.RoleAdmin {
			return nil, fmt.Errorf("user %s: role %q is neither %s nor %s", parts[0], parts[1], web.RoleCustomer, web.RoleAdmin)
		}
		if _, err := bcrypt.Cost([]byte(parts[2])); err != nil {
			return nil, fmt.Errorf("user %s: password hash: %w", parts[0], err)
		}
		if _, dup := u.byName[parts[0]]; dup {
			return nil, fmt.Errorf("user %s is listed twice", parts[0])
		}
		u.byName[parts[0]] = User{Name: parts[0], Role: parts[1], Hash: []byte(parts[2])}
	}
	if len(u.byName) == 0 {
		return nil, errors.New("no users configured")
	}
	return u, nil
}

// Authenticate checks a password. An unknown user costs one bcrypt
// comparison too, so response time does not reveal which names exist.
func (u *Users) Authenticate(name, password string) (User, error) {
	usr, ok := u.byName[name]
	hash := usr.Hash
	if !ok {
		hash = u.dummy
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if !ok || err != nil {
		return User{}, ErrBadCredentials
	}
	return usr, nil
}

// UsesDemoPassword reports whether any user still has the demo password,
// which production mode refuses.
func (u *Users) UsesDemoPassword() bool {
	for _, usr := range u.byName {
		if bcrypt.CompareHashAndPassword(usr.Hash, []byte("demo")) == nil {
			return true
		}
	}
	return false
}
