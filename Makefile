# tenant-operator Makefile. `make help` lists the targets.

IMG ?= tenant-operator:dev
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Arguments passed through to `make demo` and `make run`, e.g. ARGS="--exit-when-ready".
ARGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

GOBIN ?= $(shell go env GOBIN)
ifeq (,$(GOBIN))
GOBIN = $(shell go env GOPATH)/bin
endif

LDFLAGS := -X github.com/tenant-operator/tenant-operator/internal/version.Version=$(VERSION)

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the Go markers.
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	hack/sync-chart.sh

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	"$(CONTROLLER_GEN)" object paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	"$(GOLANGCI_LINT)" run

.PHONY: envtest
envtest: ## Build (once) the envtest control plane from the Go module proxy and print where it is.
	@hack/setup-envtest.sh

# Coverage is counted across packages: a statement of api/, internal/ or cmd/ counts as covered
# when any suite runs it, so internal/managed shows what the controllers' suites exercise (per
# package it would be only its own unit tests). Each package's line of `go test` then says how
# much of all of it that one suite ran; hack/coverage-summary.sh sums them up per package.
COVERPKG ?= ./api/...,./internal/...,./cmd/...

.PHONY: test
test: manifests generate fmt vet ## Run the unit and envtest suites (not test/e2e) and print the coverage per package.
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go test $$(go list ./... | grep -v /test/e2e) -coverpkg=$(COVERPKG) -coverprofile cover.out
	@hack/coverage-summary.sh cover.out

.PHONY: test-e2e
test-e2e: build helm ## Run the end-to-end suites against the real manager binary, kubectl and helm.
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go test ./test/e2e/... -v -ginkgo.v -timeout 30m

BENCH_PROFILE ?= full
BENCH_ARGS ?=

.PHONY: bench
bench: ## Measure how the operator scales, polling against the remote watch (BENCH_PROFILE=short: a few minutes; BENCH_ARGS: more flags of cmd/bench).
	go build -o bin/benchmark ./cmd/bench
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" bin/benchmark -profile $(BENCH_PROFILE) $(BENCH_ARGS)

CHAOS_PROFILE ?= full
CHAOS_ARGS ?=

.PHONY: chaos
chaos: ## Break things (SIGKILLs, 5xx, 429, lost answers, an outage, a failover) and check the operator's promises (CHAOS_PROFILE=short: a few minutes; CHAOS_ARGS: more flags of test/chaos).
	go build -o bin/chaos ./test/chaos
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" bin/chaos -profile $(CHAOS_PROFILE) $(CHAOS_ARGS)

.PHONY: verify
verify: manifests generate fmt build-installer ## Regenerate everything and fail if the tree changed.
	@if [ -n "$$(git status --porcelain --untracked-files=all -- . ':!bin' ':!cover.out')" ]; then \
		echo "verify: generated files are out of date; run 'make manifests generate fmt build-installer' and commit:"; \
		git status --porcelain --untracked-files=all -- . ':!bin' ':!cover.out'; git --no-pager diff --stat; exit 1; fi

##@ Charts

.PHONY: helm-lint
helm-lint: helm ## Lint and render both Helm charts (charts/); fails if a render lacks a kind it must have.
	"$(HELM)" lint --strict charts/tenant-operator
	@out="$$("$(HELM)" template tenant-operator charts/tenant-operator --namespace tenant-operator-system --include-crds --set serviceMonitor.enabled=true --set grafanaDashboard.enabled=true --set 'watchNamespaces={team-a,team-b}')"; \
	for k in CustomResourceDefinition ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding Deployment Service ServiceMonitor ConfigMap; do \
		grep -q "^kind: $$k$$" <<<"$$out" || { echo "helm-lint: tenant-operator render has no $$k"; exit 1; }; done; \
	echo "helm-lint: tenant-operator renders"
	hack/helm-lint-onboarding.sh "$(HELM)"

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager, devenv and kubectl-accounts binaries into bin/.
	go build -ldflags "$(LDFLAGS)" -o bin/manager ./cmd
	@if [ -d bin/devenv ]; then rm -rf bin/devenv; fi
	go build -ldflags "$(LDFLAGS)" -o bin/devenv ./cmd/devenv
	go build -ldflags "$(LDFLAGS)" -o bin/kubectl-accounts ./cmd/kubectl-accounts

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the current kubeconfig.
	go run -ldflags "$(LDFLAGS)" ./cmd $(ARGS)

.PHONY: demo
demo: manifests ## Start a local control plane and the operator, apply the samples, show them converge.
	@if [ -d bin/devenv ]; then rm -rf bin/devenv; fi # the kubeconfig's directory before it moved to bin/demo
	go build -ldflags "$(LDFLAGS)" -o bin/devenv ./cmd/devenv
	@# exec: devenv replaces the shell, so make's signals and death reach it.
	export KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)"; exec bin/devenv $(ARGS)

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml: CRDs and the operator's deployment.
	mkdir -p dist
	"$(KUSTOMIZE)" build config/default > dist/install.yaml

##@ Tools

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
HELM ?= $(LOCALBIN)/helm

CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.1
GOLANGCI_LINT_VERSION ?= v2.15.0
HELM_VERSION ?= v4.3.1

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)-$(CONTROLLER_TOOLS_VERSION) ## Install controller-gen into bin/.
$(CONTROLLER_GEN)-$(CONTROLLER_TOOLS_VERSION): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE)-$(KUSTOMIZE_VERSION) ## Install kustomize into bin/.
$(KUSTOMIZE)-$(KUSTOMIZE_VERSION): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)-$(GOLANGCI_LINT_VERSION) ## Install golangci-lint into bin/.
$(GOLANGCI_LINT)-$(GOLANGCI_LINT_VERSION): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: helm
helm: $(HELM)-$(HELM_VERSION) ## Install helm into bin/.
$(HELM)-$(HELM_VERSION): | $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v4/cmd/helm,$(HELM_VERSION))

# go-install-tool installs a pinned version of a Go tool into bin/ as
# <name>-<version> and links <name> to it, so a version bump reinstalls.
define go-install-tool
@[ -f "$(1)-$(3)" ] || { \
set -e; \
echo "Installing $(2)@$(3)" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $(2)@$(3) ;\
mv "$(1)" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef
