# Thin wrapper over CMake. `make run` and `make test` do all set-up on a fresh Debian 12 machine (as root).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build run test test-sanitize fuzz bench clean

deps:
	@./scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/kite server local --port 8080 --data ./kite-data

test: build
	cd $(BUILD) && ctest --output-on-failure -j 2

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-sanitize: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j 2

# libFuzzer on the YAML loader + flow validator and on the expression engine, FUZZ_SECONDS each (bounded for CI).
# Seeds are in tests/fuzz/seeds; new corpus entries stay in $(BUILD)-fuzz/corpus, crashes fail the target.
FUZZ_SECONDS ?= 60
fuzz: deps
	CC=clang cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug -DKITE_FUZZ=ON
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_yaml fuzz_expr
	for t in yaml expr; do \
		mkdir -p $(BUILD)-fuzz/corpus/$$t $(BUILD)-fuzz/crashes; \
		ASAN_OPTIONS=detect_leaks=1 ./$(BUILD)-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)-fuzz/crashes/ $(BUILD)-fuzz/corpus/$$t tests/fuzz/seeds/$$t || exit 1; \
	done

bench: build
	./$(BUILD)/kite-bench

clean:
	rm -rf $(BUILD) $(BUILD)-asan
