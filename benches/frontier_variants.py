"""Schema variants of the privacy-quality frontier (benches/frontier.sh).

Usage: python3 benches/frontier_variants.py DEFAULT_SCHEMA OUT_DIR

Writes OUT_DIR/<variant>.json for each variant below, all made from the default schema
(`pseudolink schema example`), and prints their names one per line. The old default (encoding
version 2, schema format 1) is not made here: the script passes `core/src/schema/example_v1.json`.
"""

import copy
import json
import sys
from pathlib import Path

NAME_FIELDS = ("first_name", "last_name")


def with_name_filters(schema, balanced=False, xor_fold=False, bits=512):
    """Adds one Bloom filter per name field, salted with the date of birth (so that only
    records born the same day see each other's filters), and a Dice level to the name's
    comparison after its cleartext similarity level."""
    s = copy.deepcopy(schema)
    s["filters"] = [
        {
            "name": f"{field}_grams",
            "fields": [{"field": field, "hashes": 20}],
            "context": ["date_of_birth"],
            "bits": bits,
            "q": 2,
            "balanced": balanced,
            "xor_fold": xor_fold,
        }
        for field in NAME_FIELDS
    ]
    # A balanced filter of n bits and weight w is 2n bits of weight n: Dice d becomes
    # 1 - 2w(1 - d) / 2n. Weight about 0.3n for a 20-hash name filter of 512 bits.
    dice = 0.8 if not balanced else round(1 - 0.3 * (1 - 0.8), 3)
    for c in s["link"]["comparisons"]:
        if c["name"] in NAME_FIELDS:
            at = next(
                (i + 1 for i, lv in enumerate(c["levels"]) if "similarity" in lv),
                len(c["levels"]),
            )
            c["levels"].insert(
                at, {"name": f"dice>={dice}", "filter": f"{c['name']}_grams", "dice": dice}
            )
    return s


def minimal(schema):
    """Only exact keys: no one-edit deletions, Soundex, digit masks or unordered dates (fewer
    tokens for an attacker to align; fewer ways for a pair with a typing error to agree)."""
    s = copy.deepcopy(schema)
    fuzzy = (".deletions", ".soundex", ".digit_masks", ".unordered")

    def keeps(keys):
        return not any(k.endswith(fuzzy) for k in keys)

    s["tokens"] = [t for t in s["tokens"] if keeps(t)]
    link = s["link"]
    link["blocking"] = [b for b in link["blocking"] if keeps(b)]
    for c in link["comparisons"]:
        c["levels"] = [lv for lv in c["levels"] if keeps(lv.get("keys", []))]
    return s


def with_more_keys(schema, extra, where):
    """Adds the key `extra` to every token (and blocking rule) whose keys satisfy `where`: a token
    holding more keys joins fewer records, so an attacker's bridges through it chain fewer
    records of one value (and a pair with an error in `extra` loses that token)."""
    s = copy.deepcopy(schema)

    def grow(keys):
        return [*keys, extra] if where(keys) else keys

    s["tokens"] = [grow(t) for t in s["tokens"]]
    s["link"]["blocking"] = [grow(b) for b in s["link"]["blocking"]]
    return s


MASKS = ["date_of_birth.digit_masks", "first_name", "last_name"]


def masks_first_name_only(schema):
    """The default before the red team's finding: the digit masks of the date of birth hashed
    with the first name alone. Records of one first name born a digit apart share a token, which
    at 150,000 records chains most records of a common first name into one class
    (docs/security.md)."""
    s = copy.deepcopy(schema)

    def shrink(keys):
        return keys[:2] if keys == MASKS else keys

    s["tokens"] = [shrink(t) for t in s["tokens"]]
    s["link"]["blocking"] = [shrink(b) for b in s["link"]["blocking"]]
    return s


def first_name_bridges_with_surname(schema):
    """The first name's tokens with the postcode and the address also hold the last name (as the
    default's digit masks do): the first name is then bridged only within one date of birth."""
    places = ("postcode", "address_line_1", "address_line_1.number_street")
    return with_more_keys(
        schema,
        "last_name",
        lambda keys: len(keys) == 2 and keys[1] == "first_name" and keys[0] in places,
    )


def main():
    default = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    variants = {
        "default": default,
        "minimal": minimal(default),
        "masks-first-name-only": masks_first_name_only(default),
        "first-name-bridges-with-surname": first_name_bridges_with_surname(default),
        "name-filters": with_name_filters(default),
        "name-filters-balanced": with_name_filters(default, balanced=True),
    }
    for name, schema in variants.items():
        (out / f"{name}.json").write_text(json.dumps(schema, indent=2) + "\n")
        print(name)


if __name__ == "__main__":
    main()
