# Developer entry points: thin wrappers, each one a script or preset that CI runs too.
# The real work is in scripts/ and CMakePresets.json; `make help` lists the targets.
# Every target runs scripts/install-deps with the group it needs (apt, as root or with sudo).

.PHONY: help test-local test-unit test-integration test-coverage test-lint format test-sanitize \
        bench bench-targets fuzz package test-package

help:  ## This list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

test-local:  ## The whole suite, exactly what CI runs (scripts/run-tests = .ci/run)
	scripts/run-tests

test-unit:  ## Unit tests only (build-test/, -Werror)
	scripts/run-tests -L unit

test-integration:  ## Integration tests only (a real tsad on 127.0.0.1)
	scripts/run-tests -L integration

test-coverage:  ## Line coverage of src/ (gcovr): build-coverage/coverage/index.html, fails below 85%
	scripts/coverage

test-lint:  ## clang-format check, layer bans and clang-tidy over src/ and tools/: zero warnings
	scripts/lint

format:  ## Reformat every C++ file with clang-format-14 (.clang-format)
	scripts/lint --format

test-sanitize:  ## Unit and integration tests under ASan+UBSan, then under TSan (build-asan/, build-tsan/)
	scripts/sanitize

bench:  ## Loopback benchmark (bench/run.sh; minutes; on a quiet machine)
	bench/run.sh

bench-targets:  ## Speed targets of issues 9 and 12 on medians of interleaved rounds (bench/targets.sh)
	bench/targets.sh

fuzz:  ## Build the libFuzzer harnesses (clang-14) and run each for FUZZ_SECONDS (default 60)
	scripts/fuzz-smoke $(FUZZ_SECONDS)

package:  ## Debian package of the release build: build-package/tsad_<version>-1_<arch>.deb (CPack)
	scripts/package

test-package:  ## Install that package into a fresh Debian 12 root (debootstrap, cached), check it
	scripts/package
	tests/package/install_test.sh build-package
