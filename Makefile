# The two commands of the README:
#   make run    set up libtorch if needed, build, run the main experiment
#   make test   set up libtorch if needed, run every test
CARGO ?= cargo

.PHONY: run test build setup check fmt clean-torch bench bench-annotate bench-api

setup:
	@scripts/setup-torch.sh

build: setup
	$(CARGO) build --release --locked

run: build
	target/release/neglect run experiments/main.toml

test: setup
	$(CARGO) test --workspace --locked

# Engine speed against PyTorch on this machine (bench/README.md). Needs a Python whose torch
# imports (the lean install in .venv does not carry torch's Python dependencies):
#   make bench BENCH_PYTHON=/path/to/python
BENCH_PYTHON ?= python3
BENCH_THREADS ?= $(shell nproc)
bench: setup
	$(CARGO) build --release --locked -p neglect-lm --example engine_bench
	$(BENCH_PYTHON) bench/engine.py --ours target/release/examples/engine_bench --threads $(BENCH_THREADS)

# Annotation throughput against a Python port (bench/README.md); needs only python3.
bench-annotate: build
	$(CARGO) build --release --locked -p neglect-data --example annotate_bench
	python3 bench/annotate.py --neglect target/release/neglect --inprocess target/release/examples/annotate_bench

# Hosted-model eval throughput against the mock API and a Python asyncio baseline (bench/README.md).
bench-api: build
	$(CARGO) build --release --locked -p neglect-api --example mock_server
	python3 bench/api_throughput.py --neglect target/release/neglect --mock target/release/examples/mock_server --runs 9

# Lints used before committing.
check: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

# Forget the torch install (the next make re-creates it).
clean-torch:
	rm -rf .venv .torch
