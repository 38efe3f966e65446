package devinfra

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// endpoint is the part of a server URL that decides where a private instance
// would listen and whom it would serve.
type endpoint struct {
	host     string // host name or IP, without brackets
	port     int
	user     string // PostgreSQL role; empty for Redis
	database string // PostgreSQL database; empty for Redis
}

// addr is host:port, suitable for net.Dial and log lines.
func (e endpoint) addr() string {
	return net.JoinHostPort(e.host, strconv.Itoa(e.port))
}

// loopback reports whether the endpoint is on this machine, which is the only
// case where devinfra may start a server for it.
func (e endpoint) loopback() bool {
	if strings.EqualFold(e.host, "localhost") {
		return true
	}
	ip := net.ParseIP(e.host)
	return ip != nil && ip.IsLoopback()
}

// listenAddr is the address a private instance binds: the URL's IP when it
// is a loopback literal, else 127.0.0.1.
func (e endpoint) listenAddr() string {
	if ip := net.ParseIP(e.host); ip != nil && ip.IsLoopback() {
		return ip.String()
	}
	return "127.0.0.1"
}

// parsePostgresURL reads a postgres:// URL. Keyword/value connection strings
// are refused: devinfra must know the host and port for certain.
func parsePostgresURL(raw string) (endpoint, error) {
	u, err := parseServerURL(raw, 5432, "postgres", "postgresql")
	if err != nil {
		return endpoint{}, err
	}
	e := endpoint{host: u.Hostname(), user: "postgres", database: "postgres"}
	e.port, _ = strconv.Atoi(u.Port())
	if name := u.User.Username(); name != "" {
		e.user = name
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		e.database = db
	} else if u.User.Username() != "" {
		e.database = e.user // libpq's default: the database named after the role
	}
	return e, nil
}

// parseRedisURL reads a redis:// or rediss:// URL.
func parseRedisURL(raw string) (endpoint, error) {
	u, err := parseServerURL(raw, 6379, "redis", "rediss")
	if err != nil {
		return endpoint{}, err
	}
	e := endpoint{host: u.Hostname()}
	e.port, _ = strconv.Atoi(u.Port())
	return e, nil
}

// parseServerURL parses raw, checks its scheme and fills in the default port.
func parseServerURL(raw string, defaultPort int, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	if !hasScheme(u, schemes) {
		return nil, fmt.Errorf("URL %q: scheme must be one of %s", redact(raw), strings.Join(schemes, ", "))
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("URL %q: no host (unix sockets are not supported here)", redact(raw))
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(defaultPort))
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return nil, fmt.Errorf("URL %q: bad port %q", redact(raw), u.Port())
	}
	return u, nil
}

func hasScheme(u *url.URL, schemes []string) bool {
	for _, s := range schemes {
		if strings.EqualFold(u.Scheme, s) {
			return true
		}
	}
	return false
}

// withDatabase returns raw with its path replaced by the database name.
func withDatabase(raw, database string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse URL: %w", err)
	}
	u.Path = "/" + database
	u.RawPath = ""
	return u.String(), nil
}

// redact hides a password in a URL meant for a log line or an error.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
