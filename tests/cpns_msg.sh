#!/bin/sh
# Smoke test of cpns-msg decode on the fuzz seeds: valid PDUs decode and
# exit 0, each broken one exits 1 naming its exact error.
set -u
srcdir=${srcdir:-.}
seeds=$srcdir/fuzz/corpus/pdu
msg=./examples/cpns-msg
status=0
out=cpns_msg.sh.out

expect() { # expect STATUS PATTERN ARGS...
  want=$1 pattern=$2
  shift 2
  "$msg" "$@" >"$out" 2>&1
  got=$?
  if [ "$got" -ne "$want" ] || ! grep -q -- "$pattern" "$out"; then
    echo "FAIL: cpns-msg $* -> $got (want $want, '$pattern'):" >&2
    cat "$out" >&2
    status=1
  fi
}

expect 0 'pdu: keyRequest' decode "$seeds/request-first.der"
expect 0 'valid per module: yes' decode "$seeds/delivery-success.der"
expect 0 'pdu: keyChallenge' decode - <"$seeds/challenge.der"
expect 0 'AuthTranscript' decode --transcript "$seeds/transcript.der"
expect 1 'CPNS_ERR_DER_INDEFINITE_LENGTH, -102' decode "$seeds/bad-indefinite.der"
expect 1 'CPNS_ERR_DER_TRAILING_BYTES' decode "$seeds/bad-trailing.der"
expect 1 'CPNS_ERR_DER_NON_MINIMAL_INTEGER' decode "$seeds/bad-non-minimal-integer.der"
expect 1 'CPNS_ERR_DER_CONSTRUCTED_STRING' decode "$seeds/bad-constructed-string.der"
expect 1 'CPNS_ERR_EXTENSION_PRESENT' decode "$seeds/bad-extension.der"
expect 1 'CPNS_ERR_DER_HIGH_TAG_FORM' decode "$seeds/bad-high-tag.der"
expect 1 'valid DER: no' decode "$seeds/bad-trailing.der"
expect 1 'CPNS_ERR_PDU_TOO_LONG' decode --max-len 10 "$seeds/request-first.der"
expect 1 'CPNS_ERR_WRONG_CHOICE' decode --hex - <<HEX
30 03 02 01 01
HEX
# Protocol v2 (PROTOCOL.md §3, §4): the additions print in hex; a version-1
# PDU carrying one decodes and fails validation; unknown additions and wrong
# sizes are still rejected.
expect 0 'ke1.blindedMessage: 0b1825323f4c' decode "$seeds/v2-request-first-ke1.der"
expect 0 'presence, consistency): yes' decode "$seeds/v2-request-first-ke1.der"
expect 0 'ke3: 0a1724313e4b' decode "$seeds/v2-request-second-ke3.der"
expect 0 'ke2.serverMac: 111e2b384552' decode "$seeds/v2-challenge-ke2.der"
expect 0 'suite: 2(opaque3dh-ristretto255-sha512-argon2id)' decode "$seeds/v2-challenge-ke2.der"
expect 0 'presence, consistency): yes' decode "$seeds/v2-request-second-suite1.der"
expect 0 'CPNS_ERR_V2_FIELD_IN_V1, -119' decode "$seeds/v1-request-with-ke1.der"
expect 0 'CPNS_ERR_V2_FIELD_IN_V1, -119' decode "$seeds/v1-challenge-with-ke2.der"
expect 0 'suite: 2' decode --transcript "$seeds/v2-transcript.der"
expect 1 'CPNS_ERR_EXTENSION_PRESENT' decode "$seeds/bad-v2-extension-after-ke3.der"
expect 1 'CPNS_ERR_CONSTRAINT' decode "$seeds/bad-v2-ke3-short.der"
expect 0 'usage: cpns-msg decode' decode --help
expect 0 'usage: cpns-msg' --help
expect 2 'usage' decode
rm -f "$out"
exit $status
