module github.com/ordo-platform/ordo/services/notify

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0
	github.com/ordo-platform/ordo/pkg v0.0.0
)

replace github.com/ordo-platform/ordo/pkg => ../../pkg
