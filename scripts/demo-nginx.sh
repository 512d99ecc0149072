# Sourced by scripts/demo and scripts/browser-test: start nginx with
# conf-examples/demo.conf from a scratch prefix on 127.0.0.1:$port, and
# stop it again.  Sets RTDASH_PREFIX and RTDASH_NGINX_PID.

rtdash_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

rtdash_free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport'
}

rtdash_start_nginx() {
    local port=$1 module=${RTDASH_MODULE:-$rtdash_top/build/ngx_http_rtdash_module.so}
    local nginx
    nginx=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}

    RTDASH_PREFIX=$(mktemp -d /tmp/rtdash-demo.XXXXXX)
    mkdir -p "$RTDASH_PREFIX/conf" "$RTDASH_PREFIX/logs"
    sed -e "s|__MODULE__|$module|" -e "s|__PORT__|$port|" \
        "$rtdash_top/conf-examples/demo.conf" >"$RTDASH_PREFIX/conf/demo.conf"

    if [ "$(id -u)" -eq 0 ]; then
        sed -i '1i user root;' "$RTDASH_PREFIX/conf/demo.conf"
    fi

    "$nginx" -p "$RTDASH_PREFIX" -e logs/error.log -c conf/demo.conf || {
        cat "$RTDASH_PREFIX/logs/error.log" >&2
        return 1
    }

    # until it serves, for 30 s at most (a loaded machine is slow to
    # start it; carrying on earlier fails the tests in obscure ways)
    local ready=
    for _ in $(seq 300); do
        if [ -s "$RTDASH_PREFIX/logs/nginx.pid" ] && curl -sf -o /dev/null \
               "http://127.0.0.1:$port/rtdash/config.json"; then
            ready=1
            break
        fi
        sleep 0.1
    done

    RTDASH_NGINX_PID=$(cat "$RTDASH_PREFIX/logs/nginx.pid" 2>/dev/null || true)

    if [ -z "$ready" ]; then
        echo "nginx does not serve http://127.0.0.1:$port/ after 30 s" >&2
        tail -20 "$RTDASH_PREFIX/logs/error.log" >&2
        return 1
    fi
}

rtdash_stop_nginx() {
    [ -n "${RTDASH_NGINX_PID:-}" ] || return 0
    kill -QUIT "$RTDASH_NGINX_PID" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$RTDASH_NGINX_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$RTDASH_NGINX_PID" 2>/dev/null || true
    RTDASH_NGINX_PID=
    rm -rf "$RTDASH_PREFIX"
}
