# activekv: two commands on a fresh Debian machine: `make demo` and `make test`.
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

DEB_PACKAGES := build-essential cmake pkg-config libgrpc++-dev protobuf-compiler-grpc \
  libprotobuf-dev protobuf-compiler libabsl-dev libssl-dev libspdlog-dev libgtest-dev \
  libgmock-dev libyaml-cpp-dev libasio-dev libbenchmark-dev redis-server redis-tools \
  clang-format python3 python3-redis iproute2 liblua5.1-0-dev lua-cjson-dev lua-bitop-dev \
  python3-rq python3-celery libcurl4-openssl-dev awscli clang clang-tidy libclang-rt-14-dev

# Node.js and npm run the client acceptance tests (tests/clients: ioredis, node-redis, redlock,
# bull, bullmq) and the S3-compatible server of the backup tests (@20minutes/s3rver). awscli (above)
# is the backup tests' independent S3 client; libcurl4-openssl-dev is linked by backup/.
# Checked by command, not by package name: a machine may have Node.js from elsewhere (NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package, which then cannot be installed).
NODE_DEB_PACKAGES := nodejs npm
# The npm packages, pinned by the committed package-lock.json; node_modules is not committed.
NODE_CLIENTS := tests/clients
NODE_STAMP := $(NODE_CLIENTS)/node_modules/.installed-from-lock

.PHONY: all deps node-deps build test test-unit demo format format-check asan tsan fuzz-ci \
  sanitize-ci thread-safety tidy ci clean

all: build

# Installs whatever Debian packages are missing; a quick no-op when all are present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  missing="$$missing $(NODE_DEB_PACKAGES)"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j $(JOBS)

# npm ci (exactly what package-lock.json pins) when node_modules is missing or older than the
# lock file or package.json; a no-op otherwise.
node-deps: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_CLIENTS)/package.json $(NODE_CLIENTS)/package-lock.json | deps
	npm ci --prefix $(NODE_CLIENTS) --no-audit --no-fund
	touch $@

# Every test: unit, integration (real processes, real redis-server / redis-cli, real client
# libraries: redis-py, ioredis, node-redis, redlock; job queues: rq, celery, bull, bullmq).
test: build format-check node-deps
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 2

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit -j 2

demo: build
	tools/demo.sh topology/examples/local-3.yaml

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

format-check:
	@bad=$$(git ls-files '*.h' '*.cc' | xargs clang-format --dry-run 2>&1 | grep -c 'warning:' || true); \
	if [ "$$bad" != "0" ]; then echo "format-check: $$bad lines need clang-format (make format)"; \
	  git ls-files '*.h' '*.cc' | xargs clang-format --dry-run 2>&1 | head -20; exit 1; fi

# A sanitizer report makes the process exit non-zero: a unit test fails, and an activekv-server
# under an integration test dies, failing that test (its server.log, kept on failure, holds the
# report). ASan and UBSan (-fno-sanitize-recover=all) stop at the first report by default; UBSan is
# asked for the whole stack. A caller's own *SAN_OPTIONS are appended, so they win.
asan:
	UBSAN_OPTIONS="print_stacktrace=1 $$UBSAN_OPTIONS" \
	$(MAKE) test BUILD_DIR=build-asan CMAKE_FLAGS="-DACTIVEKV_ASAN=ON -DCMAKE_BUILD_TYPE=Debug"

# TSan reports and keeps running by default, which would let a race inside activekv-server pass an
# integration test unnoticed: halt_on_error=1 makes it exit (code 66) at the first report.
# tests/sanitizers/tsan.supp: false reports caused by the uninstrumented gRPC (see the file).
# ignore_noninstrumented_modules=1: the interceptors (memcpy, sendmsg, ...) skip their range
# checks when called from an uninstrumented library. Without it, gRPC's sendmsg of a 6 MiB
# message made TSan check every word of it against our thread's writes (ordered by gRPC's
# invisible locks), and the suppressed-race bookkeeping for each stalled the stream for minutes:
# test_replication.py's large-value test failed 3 runs in 4 (docs/replication-protocol.md,
# "Large ops"). Cost: a race reached only through such a library call is not seen.
# (CMakeLists.txt adds -Wno-tsan for GCC: Asio's fences are flagged under -fsanitize=thread.)
tsan:
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 \
	  suppressions=$(CURDIR)/tests/sanitizers/tsan.supp $$TSAN_OPTIONS" \
	$(MAKE) test BUILD_DIR=build-tsan \
	  CMAKE_FLAGS="-DACTIVEKV_TSAN=ON -DCMAKE_BUILD_TYPE=Debug"

# The libFuzzer targets (docs/fuzzing.md): built with clang in build-fuzz, each replays its
# committed corpus, then fuzzes for FUZZ_SECONDS (default 20). Fails on any finding.
fuzz-ci:
	tools/fuzz_ci.sh

# The sanitizer tier of CI, in one clang build (build-sanitize/): ASan+UBSan over everything, with
# the libFuzzer targets built in it too (-DACTIVEKV_FUZZ=ON), so the libraries are compiled once for
# both. Being clang, the build also checks every translation unit's locking annotations
# (-Wthread-safety, an error like any warning). Runs the unit tier and the integration tests that
# feed hostile input under the sanitizers -- malformed RESP, floods, ACL rules, bad certificates,
# hostile scripts, garbage on the sync port, the differential run over every command family --
# then the fuzzing tier over the same build (tools/fuzz_ci.sh). The unit tier's seeded property
# tests run a quarter of their histories here (AKV_TEST_SCALE, tests/unit/test_scale.h).
SANITIZE_DIR := build-sanitize
ASAN_CI_TESTS := integration_(protocol|limits|acl|resp_tls|tls|scripting|differential)
sanitize-ci: node-deps
	$(MAKE) build BUILD_DIR=$(SANITIZE_DIR) CMAKE_FLAGS="-DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_COMPILER=clang++ -DACTIVEKV_ASAN=ON -DACTIVEKV_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug"
	cd $(SANITIZE_DIR) && UBSAN_OPTIONS="print_stacktrace=1 $$UBSAN_OPTIONS" AKV_TEST_SCALE=25 \
	  ctest --output-on-failure --timeout 900 -j 2 -L unit
	cd $(SANITIZE_DIR) && UBSAN_OPTIONS="print_stacktrace=1 $$UBSAN_OPTIONS" AKV_START_TIMEOUT=60 \
	  ctest --output-on-failure --timeout 900 -j 2 -R '$(ASAN_CI_TESTS)'
	BUILD_DIR=$(SANITIZE_DIR) FUZZ_CONFIGURE=0 tools/fuzz_ci.sh

# Static checks (docs/development.md): clang's -Wthread-safety over the translation units that
# use the locking annotations, and clang-tidy over TIDY_DIRS (`make tidy TIDY_DIRS=.`: all).
TIDY_DIRS ?= crdt persistence topology/endpoint.cc topology/parser.cc topology/topology.cc \
  region-server/acl region-server/resp region-server/tls scripting
thread-safety: build
	tools/check_thread_safety.sh
tidy: build
	tools/run_tidy.sh $(TIDY_DIRS)

# What .ci/run runs on a clean clone (docs/development.md, "CI"). `make thread-safety` is not in
# it: sanitize-ci's clang build checks the same annotations over every translation unit.
ci: test sanitize-ci tidy

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz $(SANITIZE_DIR)
