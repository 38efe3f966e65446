package load

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Shoppers names n customer accounts: shopper-001, shopper-002, …
func Shoppers(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("shopper-%03d", i+1)
	}
	return names
}

// GatewayUsers is a user directory for the gateway's users setting
// (name:role:bcrypt-hash,...): the customers, and admin, all with password.
// The hashes use bcrypt's lowest cost, so that logging in many shoppers
// costs the gateway little: for load tests, never for a real shop.
func GatewayUsers(customers []string, admin, password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	var b strings.Builder
	for _, c := range customers {
		fmt.Fprintf(&b, "%s:customer:%s,", c, hash)
	}
	fmt.Fprintf(&b, "%s:admin:%s", admin, hash)
	return b.String(), nil
}
