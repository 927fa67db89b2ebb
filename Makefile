# Entry points. Both install what they need through scripts/setup.sh first.
#   make demo   build and run the main job on the bundled default model
#   make test   build and run every test (unit, e2e, sanitizers, fuzz smoke)
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECS ?= 60
# ccache uses its default machine-wide directory; with paths taken relative to the
# checkout, fresh clones on the same machine (CI) share it.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: setup build demo test test-unit test-asan test-fuzz fuzz-long suite-parity clean

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

test: build test-unit test-asan test-fuzz

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# Bad-input tests under ASan+UBSan.
test-asan: setup
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEP_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j$(JOBS)
	@cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) -L asan

# libFuzzer smoke run of the model loader (FUZZ_SECS seconds; `make fuzz-long` for longer).
test-fuzz: setup
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEP_FUZZ=ON -DEP_TESTS=OFF -DEP_NATIVE=OFF >/dev/null
	@cmake --build $(BUILD)-fuzz -j$(JOBS) --target fuzz_model_loader
	@bash tests/fuzz/run_fuzz.sh $(BUILD)-fuzz $(FUZZ_SECS)

# The whole model suite (bench/suite: 40+ models) against ONNX Runtime; the table goes
# to stdout and $(BUILD)/suite/parity.json. Exports take a few minutes the first time.
suite-parity: build
	@/usr/bin/python3 bench/suite/build_suite.py --out $(BUILD)/suite
	@/usr/bin/python3 bench/suite/parity.py --suite $(BUILD)/suite --edgeperf $(BUILD)/edgeperf \
	  --json $(BUILD)/suite/parity.json

fuzz-long:
	@$(MAKE) test-fuzz FUZZ_SECS=3600

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
