"""Write the built-in province and regency/city list from the official Kepmendagri list.

    python scripts/generate_builtin_regions.py ../shared/data/wilayah_kepmendagri_2025.csv

reads a `kode,nama` CSV of every region code (Kepmendagri 300.2.2-2138/2025, 91,599 codes) and
writes src/cakupan/regions/data/provinsi_kabkota.csv: the 38 provinces and every regency/city
(levels 1 and 2), a few hundred public codes. cakupan ships them so that a NIK whose province
or regency does not exist is refused before the national list of kecamatan is imported.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/cakupan/regions/data/provinsi_kabkota.csv"
LEVEL_1_2 = re.compile(r"^\d{2}(\.\d{2})?$")


def main(source: str) -> int:
    with open(source, encoding="utf-8-sig", newline="") as f:
        rows = [(r["kode"].strip(), r["nama"].strip()) for r in csv.DictReader(f)]
    kept = sorted((c, n) for c, n in rows if LEVEL_1_2.match(c))
    provinces = sum(1 for c, _n in kept if len(c) == 2)
    if provinces < 38 or len(kept) < 500:
        print(f"{source}: only {provinces} provinces, {len(kept)} codes; is it the whole list?")
        return 1
    with OUT.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["kode", "nama"])
        writer.writerows(kept)
    print(f"{OUT}: {provinces} provinces, {len(kept) - provinces} regencies/cities")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
