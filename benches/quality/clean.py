"""Cleartext standardisation of the synthetic extracts for the peer tools (Splink, clkhash).

What a competent user does before handing data to a linker: one case, no accents or punctuation,
ISO dates, M/F, postcodes as `CV1 2AB`, NHS numbers as ten digits. pseudolink does its own
normalisation (docs/normalisation.md) and reads the raw extracts.
"""

import csv
import re
import unicodedata
from datetime import date

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
# Letters that do not decompose under NFKD.
SPECIAL = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",  # noqa: RUF001 (the dotless i of Turkish names, on purpose)
        "þ": "th",
        "ð": "d",
    }
)


def fold(s):
    s = unicodedata.normalize("NFKD", s.lower()).translate(SPECIAL)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[^a-z0-9 ]+", " ", s.replace("'", ""))
    return " ".join(s.split())


def name(s):
    return fold(re.sub(r"[0-9]", "", s))


def dob(s):
    s = s.strip()
    if not s:
        return ""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})", s)
        if m:
            d, mo, y = int(m[1]), int(m[2]), int(m[3])
        else:
            m = re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]{3})[a-z]*[ -](\d{2}|\d{4})", s)
            if not m or m[2].lower() not in MONTHS:
                return ""
            d, mo, y = int(m[1]), MONTHS[m[2].lower()], int(m[3])
    if y < 100:
        y += 2000 if y <= 26 else 1900
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return ""


def sex(s):
    s = s.strip().lower()
    return {"m": "M", "male": "M", "1": "M", "f": "F", "female": "F", "2": "F"}.get(s, "")


def postcode(s):
    s = re.sub(r"[^A-Z0-9]", "", s.upper())
    if not re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}", s):
        return ""
    return s[:-3] + " " + s[-3:]


def nhs(s):
    s = re.sub(r"\D", "", s)
    return s if len(s) == 10 else ""


CLEANERS = {
    "first_name": name,
    "middle_name": name,
    "last_name": name,
    "date_of_birth": dob,
    "sex": sex,
    "postcode": postcode,
    "address_line_1": fold,
    "nhs_number": nhs,
}


def read_clean(path):
    """Rows of a synth extract as dicts of cleaned values ('' = missing)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        out = []
        for row in csv.DictReader(f):
            rec = {"record_id": row["record_id"]}
            for col, fn in CLEANERS.items():
                rec[col] = fn(row.get(col) or "")
            out.append(rec)
        return out
