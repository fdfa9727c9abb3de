#!/usr/bin/env python3
"""Writes the small seed corpora fuzz/corpus/<target>/seed-* (committed).

Run from the repository root: python3 fuzz/make_seeds.py (with --check: only fail if a committed
seed differs from what this script writes, e.g. after the default schema changed). Seeds are starting points only; the
fuzzer grows its own corpus beside them (not committed). See tests/src/fuzz.rs for how each
target reads its input.
"""
import json
import os
import sys

CHECK = "--check" in sys.argv[1:]
stale = []

ROOT = os.path.dirname(os.path.abspath(__file__))
HEADER = b"record_id,first_name,middle_name,last_name,date_of_birth,sex,postcode,address_line_1,nhs_number\n"
VECTORS = json.load(open(os.path.join(ROOT, "..", "tests", "vectors", "encode.json")))
SCHEMA = open(os.path.join(ROOT, "..", "core", "src", "schema", "example.json"), "rb").read()
SCHEMA_V1 = open(os.path.join(ROOT, "..", "core", "src", "schema", "example_v1.json"), "rb").read()
SUITES = {s["name"]: s for s in VECTORS["schemas"]}
EVERY_KIND = SUITES["every_kind"]["schema_json"].encode()


def csv_cell(v):
    if any(c in v for c in ',"\n\r') or v.startswith(" "):
        return '"' + v.replace('"', '""') + '"'
    return v


def rows(cases):
    return "".join(",".join(csv_cell(v) for v in c["values"]) + "\n" for c in cases).encode()


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    path = os.path.join(d, "seed-" + name)
    if CHECK:
        if not os.path.exists(path) or open(path, "rb").read() != data:
            stale.append(f"{target}/seed-{name}")
        return
    os.makedirs(d, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


cases = VECTORS["cases"]
# schema: raw JSON (first byte < 128) and edit mode (first byte >= 128).
write("schema", "example", b" " + SCHEMA)
write("schema", "minimal", b' {"version":1,"record_id":"id","fields":[{"name":"n","kind":"name"}],"blocking":[]}')
write("schema", "example-v1", b" " + SCHEMA_V1)
write("schema", "every-kind", b" " + EVERY_KIND)
write("schema", "minimal-v2", b' {"version":2,"record_id":"id","fields":[{"name":"n","kind":"name"}],"tokens":[["n.deletions"]],"link":{"blocking":[["n.deletions"]]}}')
write("schema", "edit-1", bytes([0x80, 0, 0, 5, 2, 1]))
write("schema", "edit-3", bytes([0x90, 2, 0, 17, 2, 3, 0, 40, 0, 5, 1, 9, 2, 14]))
# raw_csv: mode byte (bit 0 header, bit 1 rejects, bit 2 twice, bit 3 again with the id check on
# disk within 64 x the top four bits bytes), then CSV.
write("raw_csv", "vectors", bytes([6]) + HEADER + rows(cases))
write("raw_csv", "vectors-noheader", bytes([7]) + rows(cases[:5]))
write("raw_csv", "bad-rows", bytes([3]) + b"A1,Ann,,Lee,2014-03-09,F,CV1 2AB,,\nA1,dup,,,,,,,\n,,,,,,,,\nA2,too,few\nA3,\xe9t\xe9,,,,,,,\n\"A4,open\n")
write("raw_csv", "crlf-bom", bytes([2]) + b"\xef\xbb\xbfrecord_id,last_name\r\nA1,Smith\r\n\r\nA2,\"Jo\r\nnes\"\n")
write("raw_csv", "empty", bytes([2]))
# raw_cells: mode byte (bit 0 Parquet, else a workbook; bit 1 rejects), then the file.
FORMATS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "formats")
XLSX = open(os.path.join(FORMATS, "people.xlsx"), "rb").read()
PARQUET = open(os.path.join(FORMATS, "people.parquet"), "rb").read()
write("raw_cells", "xlsx", bytes([2]) + XLSX)
write("raw_cells", "parquet", bytes([3]) + PARQUET)
write("raw_cells", "xlsx-cut", bytes([2]) + XLSX[: len(XLSX) // 2])
write("raw_cells", "parquet-cut", bytes([3]) + PARQUET[: len(PARQUET) - 40])
write("raw_csv", "ids-on-disk", bytes([0x2B]) + HEADER + rows(cases) + rows(cases[:3]))
# encode_record: tab-separated values, one record per line.
write("encode_record", "vectors", "\n".join("\t".join(c["values"]) for c in cases).encode())
write("encode_record", "empty-id", b"\tJohn\t\tSmith\n x\t\t\t\t\t\t\t\t")
# normalisers
for i, c in enumerate(cases[:12]):
    v = c["values"]
    write("norm_name", f"v{i:02}", v[1].encode() + b" " + v[3].encode())
    write("norm_date", f"v{i:02}", bytes([25]) + v[4].encode())
    write("norm_sex", f"v{i:02}", v[5].encode())
    write("norm_postcode", f"v{i:02}", v[6].encode())
    write("norm_text", f"v{i:02}", v[7].encode())
    write("norm_nhs", f"v{i:02}", v[8].encode())
for s in [b"Mr Dr John", b"O'Neil-Smith", b"\xc5\x81ukasiewicz", b"  ", b"Mx"]:
    write("norm_name", "x-" + s.hex()[:16], s)
for s in [b"9 Mar 2014", b"44927", b"31/02/2014", b"March 9, 2014", b"09-MAR-14", b"2014-03-09T00:00:00"]:
    write("norm_date", "x-" + s.hex()[:16], bytes([25]) + s)
for s in [b"4.01E+09", b"943 476 5919", b"401-023-2137", b"0000000000", b"\xef\xbc\x99434765919"]:
    write("norm_nhs", "x-" + s.hex()[:16], s)
for s in [b"Not_Known", b"girl", b"9", b"\xe2\x80\x93"]:
    write("norm_sex", "x-" + s.hex()[:16], s)
for s in [b"ec1a1bb", b"GIR 0AA", b"SW1A  1AA", b"BFPO 1", b"cv1"]:
    write("norm_postcode", "x-" + s.hex()[:16], s)
for s in [b"Flat 3, 45 Far Gosford St.", b"12a High Rd", b"The Old Rectory"]:
    write("norm_text", "x-" + s.hex()[:16], s)
# encoded_reader: mode byte (bits 0-1: 0 no manifest, 1 header + rows with manifest, 2 bytes with
# manifest, 3 arbitrary manifest; bit 2: the version 1 default translated), then data.
body = "".join(c["row"] + "\n" for c in cases).encode()
full = VECTORS["header"].encode() + b"\n" + body
write("encoded_reader", "rows", bytes([1]) + body)
write("encoded_reader", "full", bytes([2]) + full)
write("encoded_reader", "unverified", bytes([0]) + full)
write("encoded_reader", "truncated", bytes([1]) + body[: len(body) // 2])
m = json.dumps({"format": "pseudolink-encoded-extract", "format_version": 1, "encoding_version": 2}).encode()
write("encoded_reader", "manifest", bytes([3, len(m) >> 8, len(m) & 255]) + m + full)
m = json.dumps({"format": "pseudolink-encoded-extract", "format_version": 2, "encoding_version": 3}).encode()
write("encoded_reader", "manifest-v2", bytes([3, len(m) >> 8, len(m) & 255]) + m + full)
v1 = SUITES["example_v1"]
body_v1 = "".join(c["row"] + "\n" for c in v1["cases"]).encode()
write("encoded_reader", "v1-rows", bytes([5]) + body_v1)
write("encoded_reader", "v1-full", bytes([6]) + v1["header"].encode() + b"\n" + body_v1)
# Token sets out of order, repeated, of a wrong length and in upper case.
first = body.split(b"\n")[0].split(b",")
sets = [i for i, c in enumerate(first) if len(c) > 32 and len(c) % 16 == 0]
odd = []
for f in (lambda c: c[16:32] + c[:16] + c[32:], lambda c: c[:16] + c[:16] + c[32:], lambda c: c[:-1], lambda c: c.upper()):
    row = list(first)
    row[sets[0]] = f(row[sets[0]])
    odd.append(b",".join(row))
write("encoded_reader", "odd-sets", bytes([1]) + b"\n".join(odd) + b"\n")
# link: mode, thresholds, support, then per source a count and record bytes.
write("link", "two", bytes([1, 0, 1, 6]) + bytes(range(1, 250)) + bytes([6]) + bytes(range(3, 250)))
write("link", "dedupe", bytes([0, 1, 0, 10]) + bytes((i * 7) % 251 for i in range(600)))
write("link", "one-to-one", bytes([9 | 16, 0, 1, 8]) + bytes((i * 13) % 251 for i in range(400)) + bytes([8]) + bytes((i * 5) % 251 for i in range(400)))
write("link", "three", bytes([7, 2, 2, 4]) + bytes(range(0, 200)) + bytes([4]) + bytes(range(50, 250)) + bytes([4]) + bytes(range(1, 200)))
write("link", "v1-filters", bytes([1 | 32, 0, 1, 8]) + bytes((i * 11) % 251 for i in range(900)) + bytes([8]) + bytes((i * 3) % 251 for i in range(900)))
write("link", "no-stats", bytes([1 | 64, 0, 1, 6]) + bytes(range(1, 250)) + bytes([6]) + bytes(range(3, 250)))
write("link", "tampered-stats", bytes([1 | 128, 0, 1, 6]) + bytes(range(1, 250)) + bytes(range(0, 250, 3)) + bytes([6]) + bytes(range(3, 250)) + bytes([255] * 64))
# c_api: schema byte (0 example, 4 raw with 16-bit length, 5 NULL with a length, 6 NULL out,
# 7 prefix of the example), secret byte (0 test secret, 2 raw with a length, 3 NULL or too
# large), encoder byte (3 fixed date, 0-2 a NULL argument first), then records: a mode byte
# (bit 7 an n_values byte follows, bits 5-6 the buffer, bits 0-4 NULL arrays or written) and per
# value a length byte (below 0xF0) and its bytes; 0xF0-0xF3 NULL or too-large lengths, 0xF4 a
# value that must never show in a message.
def c_record(values, mode=0, extra=b""):
    out = bytes([mode]) + extra
    for v in values:
        b = v.encode() if isinstance(v, str) else v
        out += bytes([len(b)]) + b
    return out


minimal = b'{"version":1,"record_id":"id","fields":[{"name":"n","kind":"name"}],"blocking":[]}'
write("c_api", "vectors", bytes([0, 0, 3]) + b"".join(c_record(c["values"]) for c in cases[:8]))
write("c_api", "today", bytes([0, 0, 4]) + b"".join(c_record(c["values"]) for c in cases[8:12]))
write("c_api", "small-buffers", bytes([0, 0, 3]) + c_record(cases[0]["values"], 0x20, bytes([10])) + c_record(cases[1]["values"], 0x40) + c_record(cases[2]["values"], 0x60, bytes([7])))
write("c_api", "bad-values", bytes([0, 0, 3]) + c_record(["A1", b"\xff\xfe", "x"] + [""] * 6) + bytes([0, 0xF0, 0xF1, 5, 0xF2, 0xF3]) + bytes([0x80, 3]) + c_record(["A1", "B", "C"]) + c_record([""] * 9) + bytes([0x10]) + bytes([0x1F]))
write("c_api", "raw-schema", bytes([4, len(minimal) >> 8, len(minimal) & 255]) + minimal + bytes([2, 32]) + bytes(range(32)) + bytes([3]) + c_record(["id1", "Ann"]) + c_record(["", "Bo"]))
minimal_v2 = b'{"version":2,"record_id":"id","fields":[{"name":"n","kind":"name"}],"tokens":[["n.deletions"],["n.soundex"]]}'
write("c_api", "raw-schema-v2", bytes([4, len(minimal_v2) >> 8, len(minimal_v2) & 255]) + minimal_v2 + bytes([2, 32]) + bytes(range(32)) + bytes([3]) + c_record(["id1", "Annabelle"]) + c_record(["id2", ""]) + c_record(["id3", "x" * 40]))
write("c_api", "bad-args", bytes([5, 9, 3, 255, 0]) + c_record(cases[0]["values"]))
write("c_api", "null-out", bytes([6, 3, 254, 1]) + bytes([0xFF] * 9))
write("c_api", "prefix", bytes([7, 0, 100, 2, 31]) + bytes(31) + bytes([2]) + c_record(cases[3]["values"]))
# dice: words-per-filter byte (+1), threshold byte (/255), number of other filters, a mode byte
# (bit 0 the others near the first, bit 1 one popcount short, bit 2 a partial filter at the end),
# then the filters' words (8 bytes each, little-endian).
PATTERN = bytes((i * 37 + 11) % 256 for i in range(4096))
write("dice", "w8-near", bytes([7, 200, 20, 1]) + PATTERN)
write("dice", "w16-near", bytes([15, 230, 12, 1]) + PATTERN)
write("dice", "w5-random", bytes([4, 90, 30, 0]) + PATTERN)
write("dice", "w1-edges", bytes([0, 0, 9, 6]) + bytes(8) + bytes([255] * 64))
write("dice", "w20-partial", bytes([19, 180, 3, 7]) + PATTERN)

if stale:
    sys.exit("fuzz seeds out of date (run python3 fuzz/make_seeds.py): " + ", ".join(stale))
if CHECK:
    print("fuzz seeds up to date")
