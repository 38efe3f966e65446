module github.com/ordo-platform/ordo/services/notify

go 1.26.8
