# The two commands of the README:
#   make run    set up libtorch if needed, build, run the main experiment
#   make test   set up libtorch if needed, run every test
CARGO ?= cargo

.PHONY: run test build setup check fmt clean-torch

setup:
	@scripts/setup-torch.sh

build: setup
	$(CARGO) build --release --locked

run: build
	target/release/neglect run experiments/main.toml

test: setup
	$(CARGO) test --workspace --locked

# Lints used before committing.
check: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

# Forget the torch install (the next make re-creates it).
clean-torch:
	rm -rf .venv .torch
