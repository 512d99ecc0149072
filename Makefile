# rtdash: build, test, demo and benchmarks.
#
#   make              build build/ngx_http_rtdash_module.so
#   make test         install what is missing, build, run every suite
#   make demo         nginx on 127.0.0.1:8080 with the dashboard and a load
#   make bench        the benchmarks (scripts/bench)
#   make fuzz         the parser fuzzer for FUZZ_SECONDS (default 60)
#   make test-asan    the suites against an ASan+UBSan build
#   make test-valgrind the suites with nginx under valgrind
#   make test-upstream the suites against nginx 1.22.1 built from its release
#                     source without --with-debug (scripts/upstream-nginx)
#   make test-hup     the suites in Test::Nginx's reload mode
#                     (TEST_NGINX_USE_HUP=1: one nginx per suite, SIGHUP
#                     between blocks, the zones kept)
#   make test-crash   workers killed inside the zone's lock under load
#                     (a test build of the module, scripts/crash-test)
#   make chaos        reloads, killed workers, slow bodies under load
#   make check-rules  promtool: the Prometheus config, rules and rule tests
#   make deb          the Debian package libnginx-mod-http-rtdash (build/deb/)
#   make deb-check    make deb, then check the package (scripts/deb-check)
#   make clean

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= $(shell command -v nginx || echo /usr/sbin/nginx)
BUILD       := $(CURDIR)/build
CC_OPT      ?= -g -O2 -Wall -Wextra -Werror -Wno-unused-parameter
FUZZ_SECONDS ?= 60
SAN         := -fsanitize=address,undefined
CC_OPT_nginx = $(CC_OPT)
CC_OPT_upstream = $(CC_OPT)
# the crash-test variant: workers kill themselves inside the zone's lock
CC_OPT_crash = $(CC_OPT) -DNGX_HTTP_RTDASH_CRASH_TEST=1
# scripts/upstream-nginx builds the binary and unpacks the release tree here
UPSTREAM    := $(BUILD)/upstream-nginx
# The ASan+UBSan variant is built with clang: its one runtime holds both
# sanitizers and writes their reports to the log_path files (gcc's two
# runtimes libasan and libubsan don't: only the first loaded one does).
# The module's copies of ngx_modules[] and ngx_module_names[] are bound
# to nginx's own at load time: ASan must not put redzones after them.
ASAN_CC      = clang
ASAN_IGNORE  = $(BUILD)/asan-ignorelist.txt
CC_OPT_asan  = $(CC_OPT) -Wno-conditional-uninitialized \
               -O1 -g -fno-omit-frame-pointer $(SAN) \
               -fno-sanitize-recover=all -fsanitize-ignorelist=$(ASAN_IGNORE)
LD_OPT_asan  = $(SAN)

SRCS := $(wildcard ngx_http_rtdash_module/*.c ngx_http_rtdash_module/*.h)
ASSETS := $(wildcard static/*.html static/*.js static/*.css)

.PHONY: all setup test unit check demo bench fuzz test-asan test-valgrind \
        test-upstream test-hup test-crash chaos clean assets check-rules \
        deb deb-check

all: $(BUILD)/ngx_http_rtdash_module.so

setup:
	@scripts/setup

assets:
	@scripts/embed-assets $(BUILD)/gen

# configure once per variant (about 20 s), then rebuild in about 1 s
$(BUILD)/%/.configured: config Makefile
	@scripts/configure-nginx "$(NGINX_SRC)" "$(BUILD)/$*" \
	    "$(CC_OPT_$*)" "$(LD_OPT_$*)"
	@touch $@

$(BUILD)/ngx_http_rtdash_module.so: $(BUILD)/nginx/.configured $(SRCS) $(ASSETS) assets
	@$(MAKE) -s -C $(BUILD)/nginx -f objs/Makefile modules
	@cp $(BUILD)/nginx/objs/ngx_http_rtdash_module.so $@.tmp && mv -f $@.tmp $@
	@echo "built $@"

$(BUILD)/asan/.configured: export CC = $(ASAN_CC)
$(BUILD)/asan/.configured: $(ASAN_IGNORE)

$(ASAN_IGNORE): Makefile
	@mkdir -p $(BUILD)
	@printf '%s\n' 'src:*_modules.c' 'global:ngx_modules' \
	    'global:ngx_module_names' 'global:ngx_module_order' >$@

$(BUILD)/asan/ngx_http_rtdash_module.so: $(BUILD)/asan/.configured $(SRCS) $(ASSETS) assets
	@$(MAKE) -s -C $(BUILD)/asan -f objs/Makefile modules
	@cp $(BUILD)/asan/objs/ngx_http_rtdash_module.so $@.tmp && mv -f $@.tmp $@

$(BUILD)/crash/ngx_http_rtdash_module.so: $(BUILD)/crash/.configured $(SRCS) $(ASSETS) assets
	@$(MAKE) -s -C $(BUILD)/crash -f objs/Makefile modules
	@cp $(BUILD)/crash/objs/ngx_http_rtdash_module.so $@.tmp && mv -f $@.tmp $@

# workers killed inside the zone's lock under load (scripts/crash-test)
test-crash: setup
	@$(MAKE) -s $(BUILD)/crash/ngx_http_rtdash_module.so
	@RTDASH_MODULE=$(BUILD)/crash/ngx_http_rtdash_module.so scripts/crash-test

# from the release tree as `make NGINX_SRC=` would, whatever NGINX_SRC says
$(BUILD)/upstream/.configured: override NGINX_SRC = $(UPSTREAM)/src

$(BUILD)/upstream/ngx_http_rtdash_module.so: $(BUILD)/upstream/.configured $(SRCS) $(ASSETS) assets
	@$(MAKE) -s -C $(BUILD)/upstream -f objs/Makefile modules
	@cp $(BUILD)/upstream/objs/ngx_http_rtdash_module.so $@.tmp && mv -f $@.tmp $@

$(BUILD)/parse_test: t/unit/parse_test.c ngx_http_rtdash_module/ngx_http_rtdash_parse.c ngx_http_rtdash_module/ngx_http_rtdash_parse.h
	@mkdir -p $(BUILD)
	$(CC) -std=gnu99 -Wall -Wextra -Werror -O1 -g \
	    -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -Ingx_http_rtdash_module -o $@ t/unit/parse_test.c \
	    ngx_http_rtdash_module/ngx_http_rtdash_parse.c -lm

$(BUILD)/sketch_test: t/unit/sketch_test.c ngx_http_rtdash_module/ngx_http_rtdash_sketch.c ngx_http_rtdash_module/ngx_http_rtdash_pack.c ngx_http_rtdash_module/ngx_http_rtdash_sketch.h
	@mkdir -p $(BUILD)
	$(CC) -std=gnu99 -Wall -Wextra -Werror -O1 -g \
	    -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -Ingx_http_rtdash_module -o $@ t/unit/sketch_test.c \
	    ngx_http_rtdash_module/ngx_http_rtdash_sketch.c \
	    ngx_http_rtdash_module/ngx_http_rtdash_pack.c -lm

unit: $(BUILD)/parse_test $(BUILD)/sketch_test
	$(BUILD)/parse_test
	$(BUILD)/sketch_test

test: setup
	@$(MAKE) -s all
	@$(MAKE) -s unit
	@$(MAKE) -s check-rules
	@scripts/check-confs
	@$(MAKE) -s deb-check
	@scripts/run-tests

# the shipped Prometheus config and rules, and the rules' unit tests
check-rules:
	@cd conf-examples && promtool check config prometheus.yml && \
	    promtool test rules prometheus-rules.test.yml

# the package, rebuilt (about 20 s) when what goes into it changes
DEB_INPUTS := config README.md $(SRCS) $(ASSETS) \
              $(wildcard debian/* debian/*/* conf-examples/*.conf \
                         conf-examples/*.yml conf-examples/grafana/*)

$(BUILD)/deb/.built: $(DEB_INPUTS)
	@scripts/embed-assets $(BUILD)/gen
	@scripts/build-deb $(BUILD)/deb >/dev/null
	@touch $@

deb: $(BUILD)/deb/.built
	@ls $(BUILD)/deb/*.deb

deb-check: $(BUILD)/deb/.built
	@scripts/deb-check $(BUILD)/deb/libnginx-mod-http-rtdash_*_$$(dpkg --print-architecture).deb

test-asan: setup
	@$(MAKE) -s $(BUILD)/asan/ngx_http_rtdash_module.so
	@RTDASH_MODULE=$(BUILD)/asan/ngx_http_rtdash_module.so \
	    RTDASH_ASAN=1 scripts/run-tests t
	@# the WebSocket protocol corpus, commands and a 1,000-client quit
	@# against the same build (nginx through run-tests' ASan wrapper)
	@NGINX_BIN=$(BUILD)/wrap/nginx \
	    RTDASH_MODULE=$(BUILD)/asan/ngx_http_rtdash_module.so \
	    scripts/live-tests t/live/websocket.test.js
	@scripts/check-sanitizers

test-valgrind: setup
	@$(MAKE) -s all
	@RTDASH_VALGRIND=1 scripts/run-tests t

test-upstream: setup
	@bin=$$(scripts/upstream-nginx) && \
	    $(MAKE) -s $(BUILD)/upstream/ngx_http_rtdash_module.so && \
	    echo "test-upstream: $$($$bin -v 2>&1) ($$bin)" && \
	    TEST_NGINX_BINARY=$$bin \
	    RTDASH_MODULE=$(BUILD)/upstream/ngx_http_rtdash_module.so \
	    scripts/run-tests -r t

# nginx started once per suite and reloaded for each block: what a block
# finds in a zone may come from the blocks before it
test-hup: setup
	@$(MAKE) -s all
	@TEST_NGINX_USE_HUP=1 scripts/run-tests t

chaos: setup
	@$(MAKE) -s all
	@scripts/chaos

$(BUILD)/parse_fuzz: fuzz/ngx_http_rtdash_parse_fuzz.c ngx_http_rtdash_module/ngx_http_rtdash_parse.c
	@mkdir -p $(BUILD)
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -Ingx_http_rtdash_module -o $@ $^ -lm

fuzz: setup $(BUILD)/parse_fuzz
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/parse_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=5 $(BUILD)/fuzz-corpus fuzz/corpus

demo: setup
	@$(MAKE) -s all
	@scripts/demo

bench: setup
	@$(MAKE) -s all
	@scripts/bench

clean:
	rm -rf $(BUILD) t/servroot*
