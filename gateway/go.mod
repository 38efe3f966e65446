module github.com/ordo-platform/ordo/gateway

go 1.26.8
