// Package deploy holds no code: it is the module of ordo's deployment
// files (the Dockerfile, docker-compose.yml, the Kubernetes manifests) and
// of the tests that validate them statically, without a container engine
// or a cluster: deploy_test.go loads the compose file with compose-go,
// renders the kustomize overlays and compares both with what the binaries
// really read (their --help) and serve (/healthz, /readyz, ports).
package deploy
