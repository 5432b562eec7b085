# trail — the two commands: `make run` (build everything, run the main job)
# and `make test` (build and run every test: ASan+UBSan, TSan for the
# concurrency tests, short fuzz runs). Both install missing Debian packages.

JOBS    ?= $(shell nproc)
BUILD   ?= build
PACKAGES = build-essential cmake pkg-config clang libclang-rt-14-dev \
           zlib1g-dev libzstd-dev libdeflate-dev libisal-dev libspdlog-dev libyaml-dev libcurl4-openssl-dev \
           libmicrohttpd-dev libssl-dev libsnappy-dev nginx-light caddy procps \
           prometheus
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FUZZ_SECONDS ?= 15

.PHONY: all deps release run test test-asan test-tsan test-fuzz bench clean

all: release

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

release: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release -DTRAIL_BUILD_TESTS=OFF -DTRAIL_BUILD_BENCH=ON >/dev/null
	cmake --build $(BUILD)/release -j $(JOBS)

run: release
	./scripts/run-main.sh $(BUILD)/release

test: deps test-asan test-tsan test-fuzz

test-asan:
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DTRAIL_SANITIZE=address,undefined >/dev/null
	cmake --build $(BUILD)/asan -j $(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

test-tsan:
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Debug -DTRAIL_SANITIZE=thread >/dev/null
	cmake --build $(BUILD)/tsan -j $(JOBS)
	cd $(BUILD)/tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" setarch -R ctest --output-on-failure -L concurrency

test-fuzz:
	CC=clang cmake -S . -B $(BUILD)/fuzz -DCMAKE_BUILD_TYPE=Debug -DTRAIL_BUILD_FUZZ=ON -DTRAIL_BUILD_TESTS=OFF >/dev/null
	cmake --build $(BUILD)/fuzz -j $(JOBS)
	./scripts/run-fuzzers.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

bench: release
	./$(BUILD)/release/bench/trail_bench

clean:
	rm -rf $(BUILD)
