# Entry points. Both install what they need through scripts/setup.sh first.
#   make demo   build and run the main job on the bundled default model
#   make test   build and run every test (unit, e2e, sanitizers, fuzz smoke, arm64 under qemu)
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECS ?= 60
# ccache uses its default machine-wide directory; with paths taken relative to the
# checkout, fresh clones on the same machine (CI) share it.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: setup build demo test test-unit test-asan test-fuzz fuzz-long suite-parity kws-data digits-data kws-fixtures clean \
	build-arm64 test-arm64 test-arm64-full package

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

test: build test-unit test-asan test-fuzz test-arm64

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# Bad-input tests under ASan+UBSan.
test-asan: setup
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEP_SANITIZE=ON -DEP_TRAIN=OFF >/dev/null
	@cmake --build $(BUILD)-asan -j$(JOBS)
	@cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) -L asan

# libFuzzer smoke run of the model loader (FUZZ_SECS seconds; `make fuzz-long` for longer).
test-fuzz: setup
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEP_FUZZ=ON -DEP_TESTS=OFF -DEP_NATIVE=OFF -DEP_TRAIN=OFF >/dev/null
	@cmake --build $(BUILD)-fuzz -j$(JOBS) --target fuzz_model_loader
	@bash tests/fuzz/run_fuzz.sh $(BUILD)-fuzz $(FUZZ_SECS)

# The whole model suite (bench/suite: 40+ models) against ONNX Runtime; the table goes
# to stdout and $(BUILD)/suite/parity.json. Exports take a few minutes the first time.
suite-parity: build
	@/usr/bin/python3 bench/suite/build_suite.py --out $(BUILD)/suite
	@/usr/bin/python3 bench/suite/parity.py --suite $(BUILD)/suite --edgeperf $(BUILD)/edgeperf \
	  --json $(BUILD)/suite/parity.json

# Keyword-spotting data made locally (espeak-ng voices, sox noise and shifts): the training
# split is regenerated here, never committed; `kws-fixtures` also retrains the committed
# DS-CNN fixture (models/fixtures/KWS.md).
kws-data: setup
	@/usr/bin/python3 tools/make_kws_data.py --out $(BUILD)/kws --seed 0

# The digits training split (for `edgeperf qat --train`; needs python3-sklearn).
digits-data:
	@bash scripts/setup.sh --tools
	@/usr/bin/python3 tools/make_digits_calib.py --out models/fixtures --train-dir $(BUILD)/digits

kws-fixtures: kws-data
	@/usr/bin/python3 tools/train_kws.py --data $(BUILD)/kws --out models/fixtures

fuzz-long:
	@$(MAKE) test-fuzz FUZZ_SECS=3600

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz

# arm64 (Raspberry Pi 4/5, Jetson): cross-compiled with Debian's g++-aarch64-linux-gnu
# against Debian's arm64 libraries in a private sysroot (docs/arm.md).
ARM64 ?= build-arm64
ARM64_CONFIGURE = cmake -S . -B $(ARM64) -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
	-DEP_ARM64_SYSROOT=$(CURDIR)/$(ARM64)/sysroot -DCMAKE_BUILD_TYPE=Release >/dev/null
build-arm64:
	@bash scripts/setup.sh --arm64
	@bash scripts/arm64_sysroot.sh $(ARM64)/sysroot
	@$(ARM64_CONFIGURE)
	@cmake --build $(ARM64) -j$(JOBS) --target edgeperf
	@file $(ARM64)/edgeperf

# Under qemu-aarch64 as a Raspberry Pi 4 (cortex-a72, no dotprod) and a Pi 5
# (cortex-a76, dotprod): the unit tests of our kernels, the reference oracle and the
# runtime, then every zoo model and the digits fixture against ONNX Runtime's x86
# outputs (FP32) and the int8 MobileNetV2 against the reference backend. Part of
# `make test`; `make test-arm64-full` runs every unit test instead of this subset.
ARM64_CPUS ?= cortex-a72 cortex-a76
ARM64_TESTS ?= core_test kernels_test sparse_test byte_table_test image_quantize_test depthwise_u8_test onednn_int8_test reference_test
test-arm64: build-arm64
	@cmake --build $(ARM64) -j$(JOBS) --target $(ARM64_TESTS)
	@for cpu in $(ARM64_CPUS); do \
	  echo "== arm64 under qemu-aarch64 -cpu $$cpu"; \
	  for t in $(ARM64_TESTS); do \
	    bin=$$(find $(ARM64)/tests -name $$t -type f -perm -u+x | head -1); \
	    QEMU_CPU=$$cpu EP_ARM64_BUILD=$(CURDIR)/$(ARM64) scripts/qemu-arm64 $$bin --gtest_brief=1 \
	      || { echo "FAILED: $$t under $$cpu"; exit 1; }; \
	  done; \
	  $(ARM64_PARITY) \
	done

ARM64_PARITY = QEMU_CPU=$$cpu EP_ARM64_BUILD=$(CURDIR)/$(ARM64) /usr/bin/python3 tests/e2e/ort_parity.py \
	    --edgeperf scripts/edgeperf-arm64 --work-dir $(ARM64)/parity-$$cpu || exit 1; \
	  QEMU_CPU=$$cpu EP_ARM64_BUILD=$(CURDIR)/$(ARM64) /usr/bin/python3 \
	    tests/e2e/int8_kernels_parity.py --edgeperf scripts/edgeperf-arm64 \
	    --work-dir $(ARM64)/int8-$$cpu || exit 1;

# Every unit test of the arm64 build (not e2e or peers: those drive the binary from
# the host), then the same parity runs.
test-arm64-full: build-arm64
	@cmake --build $(ARM64) -j$(JOBS)
	@for cpu in $(ARM64_CPUS); do \
	  echo "== arm64 under qemu-aarch64 -cpu $$cpu"; \
	  (cd $(ARM64) && QEMU_CPU=$$cpu ctest --output-on-failure -j$(JOBS) -LE "e2e|peers") || exit 1; \
	  $(ARM64_PARITY) \
	done

# Debian packages of both builds: dist/edgeperf_<version>_amd64.deb and _arm64.deb, with
# Depends from dpkg-shlibdeps (scripts/package.sh). `sudo apt-get install ./dist/...deb`.
package: build build-arm64
	@bash scripts/package.sh $(BUILD) $$(dpkg --print-architecture)
	@bash scripts/package.sh $(ARM64) arm64 $(ARM64)/sysroot
