# Thin wrapper: the two README commands and the long-running targets.
#   make demo   install dependencies, build, run the main job on bundled defaults
#   make test   install dependencies, build, run the whole test suite (ctest)
#   make bench  side-by-side benchmarks (bench/compare/{hash,ledger,engine,watermark,guard}.sh)
#   make fuzz   build the libFuzzer targets with clang and run each briefly (FUZZ_SECONDS)
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test bench fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/apps/warden/warden demo

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	bash bench/compare/hash.sh
	bash bench/compare/ledger.sh
	bash bench/compare/engine.sh
	bash bench/compare/watermark.sh
	bash bench/compare/guard.sh

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
