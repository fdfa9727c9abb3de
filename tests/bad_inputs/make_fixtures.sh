#!/usr/bin/env bash
# Regenerates the encoded fixtures of the bad-input corpus (tests/bad_inputs/encoded/) from the
# cleartext raw-a.csv and raw-b.csv beside them, with the golden-vector test secret
# (common/secret.hex, the TEST_SECRET_HEX of tests/src/lib.rs: a public fixture, never for real
# data), a second test secret and a second schema. Run it when the encoding or the manifest format
# changes (the corpus test fails with a fingerprint or format mismatch then):
#
#     cargo build -p pseudolink-cli && bash tests/bad_inputs/make_fixtures.sh
#
# PSEUDOLINK may name the binary; by default the debug build under CARGO_TARGET_DIR or target/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
pl="${PSEUDOLINK:-${CARGO_TARGET_DIR:-$root/target}/debug/pseudolink}"
cd "$here/encoded"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for k in secret other-secret; do
    cp "../common/$k.hex" "$work/$k.hex"
    chmod 600 "$work/$k.hex"
done
enc() { # schema secret input output
    "$pl" encode --schema "../common/$1.json" --secret-file "$work/$2.hex" --input "$3" \
        --output "$4" --agreement "ISA-TEST-0001" --purpose "bad-input corpus fixture" >/dev/null
}
# model-version-1.json is a model saved by an older pseudolink (model format version 1), and
# a-encoding-v2.enc.csv with its manifest an extract encoded by pseudolink 0.1 (extract format
# version 1, encoding version 2, the version 1 default schema): both are kept.
find . -maxdepth 1 \( -name '*.enc.csv' -o -name '*.manifest.json' \) ! -name 'a-encoding-v2.*' -delete
rm -f ./model.json ./model-other-schema.json ./model-cut-short.json
# Good extracts, linkable with each other.
enc schema secret raw-a.csv a.enc.csv
enc schema secret raw-b.csv b.enc.csv
# B under another secret (same schema).
enc schema other-secret raw-b.csv b-other-secret.enc.csv
# A under another schema (same secret).
enc other-schema secret raw-a.csv a-other-schema.enc.csv
# A truncated mid-row (an email gateway cut it), with A's manifest.
size=$(wc -c < a.enc.csv)
head -c $((size - 200)) a.enc.csv > a-truncated.enc.csv
cp a.enc.csv.manifest.json a-truncated.enc.csv.manifest.json
# A cut at a row boundary (the last two rows lost), with A's manifest.
head -n 7 a.enc.csv > a-truncated-at-row.enc.csv
cp a.enc.csv.manifest.json a-truncated-at-row.enc.csv.manifest.json
# A without its manifest.
cp a.enc.csv a-no-manifest.enc.csv
# A with the manifest of A encoded under another schema.
cp a.enc.csv a-manifest-other-schema.enc.csv
cp a-other-schema.enc.csv.manifest.json a-manifest-other-schema.enc.csv.manifest.json
# A with the manifest of A encoded under another secret.
enc schema other-secret raw-a.csv "$work/a-other-secret.enc.csv"
cp a.enc.csv a-manifest-other-secret.enc.csv
cp "$work/a-other-secret.enc.csv.manifest.json" a-manifest-other-secret.enc.csv.manifest.json
# A model trained on A and B, and the same model claiming another schema.
"$pl" link --schema ../common/schema.json --left a.enc.csv --right b.enc.csv \
    --output "$work/links.csv" --save-model model.json >/dev/null
sed -E 's/"schema_fingerprint": "[0-9a-f]+"/"schema_fingerprint": "00000000000000000000000000000000"/' \
    model.json > model-other-schema.json
printf '{"format": "pseudolink-model", ' > model-cut-short.json
# The run record names whoever made the fixtures (as keyed hashes since extract format 2); make
# it neutral (it is not hashed), so that regenerating elsewhere gives the same files.
zero=00000000000000000000000000000000
for m in ./*.manifest.json; do
    [ "$m" = ./a-encoding-v2.enc.csv.manifest.json ] && continue
    sed -i -E "s/\"user_keyed\": \"[^\"]*\"/\"user_keyed\": \"$zero\"/; s/\"host_keyed\": \"[^\"]*\"/\"host_keyed\": \"$zero\"/" "$m"
done
ls -l
