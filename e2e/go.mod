module github.com/ordo-platform/ordo/e2e

go 1.26.8

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/ordo-platform/ordo/audit v0.0.0
	github.com/ordo-platform/ordo/launcher v0.0.0
	github.com/ordo-platform/ordo/pkg v0.0.0
	github.com/ordo-platform/ordo/services/order v0.0.0
)

require (
	github.com/EventStore/EventStore-Client-Go/v4 v4.2.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/golang-migrate/migrate/v4 v4.20.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgerrcode v0.0.0-20220416144525-469b46aa5efa // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.12.0 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/ordo-platform/ordo/services/inventory v0.0.0 // indirect
	github.com/ordo-platform/ordo/services/notify v0.0.0 // indirect
	github.com/ordo-platform/ordo/services/payment v0.0.0 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260630182238-925bb5da69e7 // indirect
	google.golang.org/grpc v1.82.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace (
	github.com/ordo-platform/ordo/audit => ../audit
	github.com/ordo-platform/ordo/launcher => ../launcher
	github.com/ordo-platform/ordo/pkg => ../pkg
	github.com/ordo-platform/ordo/services/inventory => ../services/inventory
	github.com/ordo-platform/ordo/services/notify => ../services/notify
	github.com/ordo-platform/ordo/services/order => ../services/order
	github.com/ordo-platform/ordo/services/payment => ../services/payment
)
