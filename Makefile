# fleetpipe — the two commands a user needs are `make demo` and `make test`; both set the machine up first.
SHELL := /bin/bash
BUILD := build
FLEETPIPE := $(BUILD)/fleetpipe

.PHONY: demo test setup build build-asan unit-test asan-test integration-test browser-test format format-check up down status clean

demo: setup build
	$(FLEETPIPE) demo

test: setup build
	scripts/test.sh

setup:
	@scripts/setup.sh

build:
	@cmake --preset release >/dev/null
	@ninja -C $(BUILD) -j $$(nproc)

build-asan:
	@cmake --preset asan >/dev/null
	@ninja -C $(BUILD)-asan -j $$(nproc) test_common test_stack test_generator test_webapp test_load test_realtime test_scheduler test_console

unit-test: build
	ctest --preset unit --output-on-failure
	node --test tests/web/

asan-test: build-asan
	ctest --preset asan-unit --output-on-failure

integration-test: build
	ctest --preset integration --output-on-failure

# Headless Chromium against build/fleetpipe and the running stack (see tests/browser/); pgadmin.test.mjs
# needs `fleetpipe up --with-pgadmin` (scripts/test.sh does that).
browser-test: build
	node --test tests/browser/

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp')

format-check:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp')

up: setup build
	$(FLEETPIPE) up

down:
	$(FLEETPIPE) down

status:
	$(FLEETPIPE) status

clean:
	rm -rf $(BUILD) $(BUILD)-asan
