#!/usr/bin/env bash
# The status page (GET /status and /): served from memory as HTML with
# the HEAD, 405 and 404 rules of the other routes; error text gated by
# [daemon] details exactly as in the JSON body (loopback, another
# address, none, all); valid HTML (tidy, and a strict parse: every element
# closed, no script, nothing loaded from elsewhere); and in a real
# headless browser (Debian's chromium): the DOM's rows, and a screenshot
# whose rows carry the pass and fail colours with their badges.
# STATUS_SHOT=FILE keeps a copy of the screenshot.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's interpreter: python3-pil is a Debian package
PAGE=$IT_HERE/status_page.py

for tool in chromium tidy "$PY"; do
	command -v "$tool" >/dev/null 2>&1 ||
		fail "$tool is installed (make deps: RUN_DEBS has chromium, tidy, python3-pil)"
done
"$PY" -c 'import PIL' 2>/dev/null ||
	fail "$PY imports PIL (make deps: python3-pil)"

# ---------------------------------------------------------------- setup
closed=$(free_port)
# write_status_config FILE DETAILS LISTEN
write_status_config() {
	write_config_header "$1"
	sed -i -e "s/^details = .*/details = $2/" -e "s/^listen = .*/listen = $3/" "$1"
	cat >>"$1" <<EOF

[check redis-ok]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD:-}
db = 0

[check redis-closed]
kind = redis
host = 127.0.0.1
port = $closed
db = 2

[group ok-group]
checks = redis-ok

[group bad-group]
checks = redis-ok redis-closed
EOF
}

conf=$T_CONF/local.conf
write_status_config "$conf" local "127.0.0.1:$(free_port)"
start_readyd "$conf" || exit 1
wait_check redis-ok pass "" 15
wait_check redis-closed fail refused 15

# page URL NAME: GET URL into $T_ART/NAME.html; prints the rows.
page() {
	curl -s --max-time 5 -o "$T_ART/$2.html" "$1" 2>/dev/null
	"$PY" "$PAGE" rows "$T_ART/$2.html"
}

# ---------------------------------------------------------------- HTTP
http_req "$READYD_URL/status"
assert_eq "$HTTP_STATUS" 200 "GET /status: 200"
assert_eq "$(header Content-Type)" "text/html; charset=utf-8" "GET /status: Content-Type text/html; charset=utf-8"
assert_eq "$(header Cache-Control)" no-store "GET /status: Cache-Control no-store"
assert_match "$(header Content-Security-Policy)" "^default-src 'none'; style-src 'unsafe-inline'" \
	"GET /status: a Content-Security-Policy that allows no script and no asset"
cp "$T_ART/http-$HTTP_N.body" "$T_ART/status.html"
assert_contains "$HTTP_BODY" '<meta http-equiv="refresh" content="5">' "GET /status: refreshes itself every 5 s"
assert_contains "$HTTP_BODY" "<title>readyd: not ready</title>" "GET /status: the title says not ready"
assert_not_contains "$HTTP_BODY" "<script" "GET /status: no script"
rows=$("$PY" "$PAGE" rows "$T_ART/status.html")
assert_eq "$rows" "check redis-ok pass PASS out=no
check redis-closed fail FAIL out=yes
group ok-group pass READY out=no
group bad-group fail NOT_READY out=no" "GET /status: one row per check and per group, with state, class and error text (loopback)" 
assert_contains "$HTTP_BODY" "Connection refused" "GET /status (loopback, details = local): the error text"
assert_contains "$HTTP_BODY" ">refused<" "GET /status: the reason"
assert_contains "$HTTP_BODY" "127.0.0.1:$closed/2" "GET /status: the target"
assert_match "$HTTP_BODY" '<td class="num">[0-9]+\.[0-9] ms</td>' "GET /status: the last latency"
assert_match "$HTTP_BODY" '<time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z">' "GET /status: since, as RFC 3339 UTC"

http_req "$READYD_URL/"
assert_eq "$HTTP_STATUS" 200 "GET /: 200"
assert_eq "$(header Content-Type)" "text/html; charset=utf-8" "GET /: the same page"
cp "$T_ART/http-$HTTP_N.body" "$T_ART/root.html"
assert_eq "$("$PY" "$PAGE" rows "$T_ART/root.html")" "$rows" "GET /: the same rows as /status"

for p in /status /; do
	http_req -I "$READYD_URL$p"
	assert_eq "$HTTP_STATUS" 200 "HEAD $p: 200"
	assert_eq "$HTTP_SIZE" 0 "HEAD $p: no body"
	assert_eq "$(header Content-Type)" "text/html; charset=utf-8" "HEAD $p: Content-Type as GET"
	check "(( \$(header Content-Length) > 1000 ))" "HEAD $p: Content-Length of the page ($(header Content-Length))"
	for m in POST PUT DELETE; do
		http_req -X "$m" "$READYD_URL$p"
		assert_eq "$HTTP_STATUS" 405 "$m $p: 405"
		assert_match "$(header Allow)" '^GET, ?HEAD$' "$m $p: Allow: GET, HEAD"
	done
done
for p in /status/x /statusx /status/; do
	assert_eq "$(http_status "$READYD_URL$p")" 404 "GET $p: 404"
done

# ---------------------------------------------------------------- validity
run_cmd tidy tidy -errors -q "$T_ART/status.html"
assert_eq "$RC" 0 "tidy: the served page has no error and no warning" "$OUT$ERR"
check "[[ -z \$ERR ]]" "tidy: says nothing about the served page" "$ERR"
run_cmd tidy-golden tidy -errors -q "$IT_HERE/../data/render/sample.html"
assert_eq "$RC" 0 "tidy: the renderer's golden page (hostile names, every state) has no error and no warning" "$ERR"
run_cmd strict "$PY" "$PAGE" validate "$T_ART/status.html"
assert_eq "$RC" 0 "strict parse: every element closed in order, unique ids, nothing from elsewhere" "$OUT$ERR"
run_cmd strict-golden "$PY" "$PAGE" validate "$IT_HERE/../data/render/sample.html"
assert_eq "$RC" 0 "strict parse: the golden page too" "$OUT$ERR"

# ---------------------------------------------------------------- details
# details_rows CONF_DETAILS LISTEN_HOST: a readyd with that details on
# LISTEN_HOST; sets XPID, XPORT once redis-closed failed (asked on loopback).
XPID=
start_extra() {
	local c=$T_CONF/details-$1.conf
	XPORT=$(free_port)
	write_status_config "$c" "$1" "$2:$XPORT"
	"$READYD" serve -c "$c" >"$T_ART/readyd-details-$1.log" 2>&1 </dev/null &
	XPID=$!
	echo "$XPID" >>"$IT_WORK/pids"
	on_exit "kill -TERM $XPID 2>/dev/null"
	wait_for "[[ \$(curl -s --max-time 2 http://127.0.0.1:$XPORT/ready/redis-closed | jq -r '.checks[\"redis-closed\"].status' 2>/dev/null) == fail ]]" 15 ||
		fail "readyd with details = $1 on $2: redis-closed fails within 15 s" "$(tail -n 5 "$T_ART/readyd-details-$1.log")"
}
stop_extra() {
	kill -TERM "$XPID" 2>/dev/null
	wait "$XPID" 2>/dev/null
}
# out_of URL: the redis-closed row's out= and the JSON output field there.
out_of() {
	local r j
	r=$(page "$1/status" "details-$2" | awk '$2 == "redis-closed" { print $5 }')
	j=$(http_body "$1/ready" | jq -r '.checks["redis-closed"].output // "absent"' 2>/dev/null)
	[[ $j == absent ]] || j=present
	echo "page:$r json:$j"
}

ext=$(ip -o -4 addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
if [[ -z $ext ]]; then
	fail "a non-loopback address of this machine to ask from (ip -4 addr show scope global: none)"
else
	start_extra local 0.0.0.0
	assert_eq "$(out_of "http://127.0.0.1:$XPORT" local-lo)" "page:out=yes json:present" \
		"details = local, asked on loopback: error text in the page as in the JSON"
	assert_eq "$(out_of "http://$ext:$XPORT" local-ext)" "page:out=no json:absent" \
		"details = local, asked on $ext: no error text, in the page as in the JSON"
	check "! grep -q 'Connection refused' '$T_ART/details-local-ext.html'" \
		"details = local, asked on $ext: the page never names the error"
	stop_extra
	start_extra all 0.0.0.0
	assert_eq "$(out_of "http://$ext:$XPORT" all-ext)" "page:out=yes json:present" \
		"details = all, asked on $ext: error text in the page as in the JSON"
	stop_extra
fi
start_extra none 127.0.0.1
assert_eq "$(out_of "http://127.0.0.1:$XPORT" none-lo)" "page:out=no json:absent" \
	"details = none, asked on loopback: no error text, in the page as in the JSON"
stop_extra

# ---------------------------------------------------------------- browser
PROFILE=$IT_WORK/chromium-profile
chrome() {
	timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu \
		--disable-dev-shm-usage --hide-scrollbars --no-first-run \
		--user-data-dir="$PROFILE" "$@"
}
shot=$T_ART/status.png
rm -f -- "$shot"
chrome --screenshot="$shot" --window-size=1000,700 "$READYD_URL/status" \
	>"$T_ART/chromium-screenshot.log" 2>&1
rc=$?
assert_eq "$rc" 0 "chromium --headless --screenshot: exit 0" "$(tail -n 5 "$T_ART/chromium-screenshot.log")"
check "[[ \$(head -c 8 '$shot' 2>/dev/null | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]]" \
	"chromium: wrote a PNG screenshot ($(stat -c %s "$shot" 2>/dev/null || echo 0) bytes)"
[[ -n ${STATUS_SHOT:-} && -s $shot ]] && cp -- "$shot" "$STATUS_SHOT"

chrome --dump-dom "$READYD_URL/status" >"$T_ART/status-dom.html" 2>"$T_ART/chromium-dom.log"
rc=$?
assert_eq "$rc" 0 "chromium --headless --dump-dom: exit 0" "$(tail -n 5 "$T_ART/chromium-dom.log")"
assert_eq "$("$PY" "$PAGE" rows "$T_ART/status-dom.html")" "$rows" \
	"chromium's DOM: the passing check's row is class pass with PASS, the failing one class fail with FAIL and its error text, groups alike"
check "grep -q '<title>readyd: not ready</title>' '$T_ART/status-dom.html'" "chromium's DOM: the title says not ready"
check "! grep -qi 'Content Security Policy' '$T_ART/chromium-screenshot.log' '$T_ART/chromium-dom.log'" \
	"chromium: no Content-Security-Policy violation (the style is allowed, nothing else is needed)"

# The rows' backgrounds down a column at the table's left edge, top to
# bottom, and the badge colours inside each: the checks' table (redis-ok,
# then redis-closed), then the groups' (ok-group, then bad-group).
"$PY" "$PAGE" colours "$shot" >"$T_ART/colours.txt" 2>&1
bands=$(awk '$1 == "band" { print $2 }' "$T_ART/colours.txt" | tr '\n' ' ')
assert_eq "$bands" "pass fail pass fail " \
	"screenshot: rows coloured pass (green tint), fail (red tint), then the groups pass, fail" "$(cat "$T_ART/colours.txt")"
# band N FIELD: green=, red= or amber= of the Nth band
band() { awk -v n="$1" -v f="$2" '$1 == "band" && ++i == n { for (k = 4; k <= NF; k++) { split($k, a, "="); if (a[1] == f) print a[2] } }' "$T_ART/colours.txt"; }
check "(( \$(band 1 green) > 300 && \$(band 1 red) == 0 ))" \
	"screenshot: the passing check's row shows the green PASS badge and no red (green=$(band 1 green) red=$(band 1 red))"
check "(( \$(band 2 red) > 300 && \$(band 2 green) == 0 ))" \
	"screenshot: the failing check's row shows the red FAIL badge and no green (red=$(band 2 red) green=$(band 2 green))"
check "(( \$(band 3 green) > 300 && \$(band 4 red) > 300 ))" \
	"screenshot: ok-group's badge green, bad-group's red"
