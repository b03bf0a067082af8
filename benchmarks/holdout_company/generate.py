#!/usr/bin/env python3
"""Held-out evaluation company for the reconciliation engine: Scaldis Trading SA/NV (Brussels).

One year (2026) of a Belgian wholesaler of catering supplies selling to BE, FR, NL, DE, ES, IT, UK
and CH, as its ERP and its five bank accounts would hand it over, plus the answer a careful credit
controller would give for every booked bank line (ground_truth.csv).  Written from how companies and
banks fill payments, independently of the engine and of the other benchmark generators.

    .venv/bin/python benchmarks/holdout_company/generate.py OUT_DIR --seed 11 --invoices 1500

Pure Python + lxml; deterministic per --seed.  Exits 1 when its own output fails its checks.
See README.md beside this file.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import random
import sys
import unicodedata
from collections import Counter, defaultdict

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
XSD_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "xsd"))
if not os.path.isdir(XSD_DIR):
    XSD_DIR = "/work/shared/xsd"

YEAR = 2026
Y0 = dt.date(YEAR, 1, 1)
Y1 = dt.date(YEAR, 12, 31)

# ----------------------------------------------------------------------------------------------
# check digits
# ----------------------------------------------------------------------------------------------


def _alnum_to_digits(s: str) -> str:
    return "".join(str(int(c, 36)) for c in s)


def iban(country: str, bban: str) -> str:
    num = _alnum_to_digits(bban + country + "00")
    return f"{country}{98 - int(num) % 97:02d}{bban}"


def iban_ok(s: str) -> bool:
    s = s.replace(" ", "")
    return int(_alnum_to_digits(s[4:] + s[:4])) % 97 == 1


def rf_ref(body: str) -> str:
    num = _alnum_to_digits(body + "RF00")
    return f"RF{98 - int(num) % 97:02d}{body}"


def rf_ok(s: str) -> bool:
    s = s.replace(" ", "").upper()
    return s.startswith("RF") and int(_alnum_to_digits(s[4:] + s[:4])) % 97 == 1


def ogm(base10: int) -> str:
    """Belgian structured communication, 12 digits: 10 + (base mod 97, 97 for 0)."""
    chk = base10 % 97 or 97
    return f"{base10:010d}{chk:02d}"


def ogm_ok(d12: str) -> bool:
    return len(d12) == 12 and d12.isdigit() and (int(d12[:10]) % 97 or 97) == int(d12[10:])


def ogm_print(d12: str) -> str:
    return f"+++{d12[:3]}/{d12[3:7]}/{d12[7:]}+++"


def luhn_complete(s: str) -> str:
    for d in "0123456789":
        t = s + d
        tot = 0
        for i, c in enumerate(reversed(t)):
            v = int(c)
            if i % 2:
                v *= 2
                if v > 9:
                    v -= 9
            tot += v
        if tot % 10 == 0:
            return t
    raise AssertionError


def fr_vat(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def be_vat(r: random.Random) -> str:
    base = r.randint(2000000, 9999999)
    b8 = f"0{base:07d}"
    return f"BE{b8}{97 - int(b8) % 97:02d}"


def rib_key(bank: str, guichet: str, account: str) -> str:
    tr = {
        c: str(v)
        for v, cs in enumerate(["", "AJ", "BKS", "CLT", "DMU", "ENV", "FOW", "GPX", "HQY", "IRZ"])
        for c in cs
    }
    acc = "".join(tr.get(c, c) for c in account)
    k = 97 - (89 * int(bank) + 15 * int(guichet) + 3 * int(acc)) % 97
    return f"{k:02d}"


def translit_de(s: str) -> str:
    for a, b in (
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("Ä", "AE"),
        ("Ö", "OE"),
        ("Ü", "UE"),
        ("ß", "ss"),
    ):
        s = s.replace(a, b)
    return s


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def money(c: int) -> str:
    s = "-" if c < 0 else ""
    c = abs(c)
    return f"{s}{c // 100}.{c % 100:02d}"


def bizday(d: dt.date) -> dt.date:
    while d.weekday() >= 5 or (d.month, d.day) in ((1, 1), (5, 1), (12, 25), (11, 11)):
        d += dt.timedelta(days=1)
    return d


# ----------------------------------------------------------------------------------------------
# the company and its banks
# ----------------------------------------------------------------------------------------------

SELLER = "SCALDIS TRADING SA/NV"
ACCOUNTS = {
    # key: (iban, currency, bank BIC, format)
    "BE_EUR": (iban("BE", "001" + "3876542" + "65"[:0] + "51"), "EUR", "GEBABEBB", "camt08"),
    "FR_EUR": (None, "EUR", "SOGEFRPP", "cfonb"),
    "DE_EUR": (iban("DE", "37040044" + "0532077100"), "EUR", "COBADEFFXXX", "mt940"),
    "BE_GBP": (iban("BE", "363" + "1842207" + "04"[:0] + "66"), "GBP", "BBRUBEBB", "camt02"),
    "BE_CHF": (iban("BE", "363" + "1842208" + "67"), "CHF", "BBRUBEBB", "camt02"),
}
FR_BANK, FR_GUICHET, FR_ACCOUNT = "30003", "02180", "00020417603"
ACCOUNTS["FR_EUR"] = (
    iban("FR", FR_BANK + FR_GUICHET + FR_ACCOUNT + rib_key(FR_BANK, FR_GUICHET, FR_ACCOUNT)),
    "EUR",
    "SOGEFRPP",
    "cfonb",
)
ACCT_ORDER = ["BE_EUR", "FR_EUR", "DE_EUR", "BE_GBP", "BE_CHF"]
OPENING = {
    "BE_EUR": 184_322_17,
    "FR_EUR": 61_207_45,
    "DE_EUR": 43_880_09,
    "BE_GBP": 12_450_00,
    "BE_CHF": 8_115_30,
}

# ----------------------------------------------------------------------------------------------
# customers
# ----------------------------------------------------------------------------------------------

CORES = {
    "BE": [
        "Brasserie {a}",
        "Traiteur {a}",
        "Hotel {b}",
        "Horeca {a}",
        "Taverne {b}",
        "Friterie {a}",
        "Restaurant {b}",
        "Catering {a}",
        "Bakkerij {a}",
        "Eethuis {b}",
        "Cuisine {a}",
    ],
    "FR": [
        "Hôtel {b}",
        "Restaurant {b}",
        "Boulangerie {a}",
        "Traiteur {a}",
        "Brasserie {b}",
        "Cuisines {a}",
        "Le Comptoir {b}",
        "Auberge {b}",
        "Pâtisserie {a}",
        "Restauration {a}",
    ],
    "NL": [
        "Horeca {a}",
        "Bakkerij {a}",
        "Grand Café {b}",
        "Catering {a}",
        "Eetcafé {b}",
        "Hotel {b}",
    ],
    "DE": [
        "Gasthaus {b}",
        "Bäckerei {a}",
        "Hotel {b}",
        "Großküche {a}",
        "Gastro {a}",
        "Brauhaus {b}",
    ],
    "ES": ["Hostelería {a}", "Restaurante {b}", "Distribuciones {a}", "Hotel {b}", "Catering {a}"],
    "IT": [
        "Ristorazione {a}",
        "Albergo {b}",
        "Pasticceria {a}",
        "Distribuzione {a}",
        "Trattoria {b}",
    ],
    "UK": ["{a} Catering", "{b} Hotel", "{a} Foodservice", "{a} & Sons", "{b} Kitchens"],
    "CH": ["Hotel {b}", "Gastro {a}", "Restaurant {b}", "Bäckerei {a}"],
}
SURN = {
    "BE": [
        "Van den Bossche",
        "Peeters",
        "Dubois",
        "Claes",
        "Janssens",
        "Lambert",
        "Maes",
        "Wouters",
        "Goossens",
        "Mertens",
        "Dupont",
        "Willems",
        "De Smet",
        "Lemaire",
        "Vermeulen",
        "Hermans",
        "Jacobs",
        "Michiels",
        "Desmet",
        "Leclercq",
        "Stevens",
        "Van Damme",
        "Martens",
        "Renard",
        "Collignon",
    ],
    "FR": [
        "Martin",
        "Bernard",
        "Lefèvre",
        "Moreau",
        "Girard",
        "Roux",
        "Fournier",
        "Mercier",
        "Bonnet",
        "Lambert",
        "Fontaine",
        "Chevalier",
        "Garnier",
        "Faure",
        "Rousseau",
        "Blanc",
        "Guérin",
        "Muller",
        "Henry",
        "Perrin",
    ],
    "NL": [
        "de Vries",
        "Jansen",
        "van Dijk",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "Bos",
    ],
    "DE": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Becker",
        "Hoffmann",
        "Koch",
        "Richter",
        "Wolf",
    ],
    "ES": ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"],
    "IT": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"],
    "UK": ["Smith", "Taylor", "Brown", "Wilson", "Hughes", "Wright", "Walker", "Hall"],
    "CH": ["Meier", "Keller", "Huber", "Brunner", "Gerber", "Baumann"],
}
PLACES = {
    "BE": [
        "du Parc",
        "de la Gare",
        "Sint-Jan",
        "Grand-Place",
        "De Kroon",
        "Het Anker",
        "du Sablon",
        "De Zwaan",
        "Lion d'Or",
        "Saint-Hubert",
        "Ter Heide",
        "des Ardennes",
    ],
    "FR": [
        "du Lac",
        "de la Poste",
        "des Flandres",
        "du Vieux Lille",
        "de l'Europe",
        "Saint-Maurice",
        "du Marché",
        "des Halles",
        "de la Citadelle",
        "du Beffroi",
    ],
    "NL": ["De Gouden Leeuw", "Het Wapen", "De Molen", "Centraal", "De Haven"],
    "DE": ["Zur Post", "Am Markt", "Zum Löwen", "Rheinblick", "Stadtmitte"],
    "ES": ["del Mar", "La Plaza", "El Puerto", "Castilla", "Mediterráneo"],
    "IT": ["Bellavista", "del Centro", "La Pergola", "San Marco", "Il Faro"],
    "UK": ["Riverside", "Kingsway", "Highgate", "Harbour", "Castle"],
    "CH": ["Bellevue", "Alpenblick", "Seeblick", "Bahnhof"],
}
FORMS = {
    "BE": ["SA", "SRL", "BV", "NV", "SPRL", "CVBA"],
    "FR": ["SAS", "SARL", "SA", "EURL"],
    "NL": ["B.V.", "B.V."],
    "DE": ["GmbH", "GmbH & Co. KG", "AG"],
    "ES": ["S.L.", "S.A."],
    "IT": ["S.r.l.", "S.p.A."],
    "UK": ["Ltd", "Limited"],
    "CH": ["AG", "GmbH", "SA"],
}
CITY = {
    "BE": [
        ("1000", "Bruxelles"),
        ("2000", "Antwerpen"),
        ("9000", "Gent"),
        ("4000", "Liège"),
        ("8000", "Brugge"),
        ("5000", "Namur"),
        ("7000", "Mons"),
        ("3000", "Leuven"),
    ],
    "FR": [
        ("59000", "Lille"),
        ("59100", "Roubaix"),
        ("62000", "Arras"),
        ("75011", "Paris"),
        ("51100", "Reims"),
        ("80000", "Amiens"),
        ("59140", "Dunkerque"),
    ],
    "NL": [("1012", "Amsterdam"), ("3011", "Rotterdam"), ("4811", "Breda"), ("5611", "Eindhoven")],
    "DE": [("50667", "Köln"), ("52062", "Aachen"), ("40213", "Düsseldorf"), ("10115", "Berlin")],
    "ES": [("28001", "Madrid"), ("08001", "Barcelona"), ("46001", "Valencia")],
    "IT": [("20121", "Milano"), ("10121", "Torino"), ("40121", "Bologna")],
    "UK": [("EC1A 1BB", "London"), ("M1 1AE", "Manchester"), ("CT1 2EH", "Canterbury")],
    "CH": [("8001", "Zürich"), ("1201", "Genève"), ("4051", "Basel")],
}
LANG = {
    "BE": None,
    "FR": "fr",
    "NL": "nl",
    "DE": "de",
    "ES": "es",
    "IT": "it",
    "UK": "en",
    "CH": None,
}
ISO_CTRY = {"UK": "GB"}
BICS = {
    "BE": ["GEBABEBB", "KREDBEBB", "BBRUBEBB", "GKCCBEBB", "ARSPBE22"],
    "FR": ["BNPAFRPP", "CRLYFRPP", "AGRIFRPP", "CMCIFRPP"],
    "NL": ["INGBNL2A", "RABONL2U", "ABNANL2A"],
    "DE": ["DEUTDEFF", "COBADEFF", "COLSDE33"],
    "ES": ["CAIXESBB", "BSCHESMM"],
    "IT": ["UNCRITMM", "BCITITMM"],
    "UK": ["BARCGB22", "NWBKGB2L", "LOYDGB2L"],
    "CH": ["UBSWCHZH80A", "POFICHBEXXX"],
}


def random_iban(r: random.Random, c: str) -> str:
    c2 = ISO_CTRY.get(c, c)
    d = lambda n: "".join(r.choice("0123456789") for _ in range(n))  # noqa: E731
    if c2 == "BE":
        return iban("BE", d(12))
    if c2 == "FR":
        b, g, a = d(5), d(5), d(11)
        return iban("FR", b + g + a + rib_key(b, g, a))
    if c2 == "NL":
        return iban("NL", r.choice(["INGB", "RABO", "ABNA"]) + d(10))
    if c2 == "DE":
        return iban("DE", d(18))
    if c2 == "ES":
        return iban("ES", d(20))
    if c2 == "IT":
        return iban("IT", r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + d(22))
    if c2 == "GB":
        return iban("GB", r.choice(["BARC", "NWBK", "LOYD"]) + d(14))
    if c2 == "CH":
        return iban("CH", d(17))
    raise ValueError(c)


class Customer:
    pass


def make_customers(r: random.Random, n: int):
    mix = [
        ("BE", 34),
        ("FR", 24),
        ("NL", 10),
        ("DE", 10),
        ("ES", 7),
        ("IT", 7),
        ("UK", 5),
        ("CH", 3),
    ]
    countries = []
    for c, w in mix:
        countries += [c] * max(1, round(n * w / 100))
    r.shuffle(countries)
    countries = countries[:n]
    seen = set()
    out = []
    for i, c in enumerate(countries):
        cu = Customer()
        cu.id = f"C{1001 + i}"
        cu.num = i + 1
        cu.country = c
        while True:
            core = r.choice(CORES[c]).format(a=r.choice(SURN[c]), b=r.choice(PLACES[c]))
            if core.upper() not in seen:
                break
        seen.add(core.upper())
        cu.core = core
        cu.form = r.choice(FORMS[c])
        cu.name = f"{core} {cu.form}"
        cu.lang = LANG[c] or (r.choice(["fr", "fr", "nl"]) if c == "BE" else r.choice(["de", "fr"]))
        cu.iban = random_iban(r, c)
        cu.bic = r.choice(BICS[c])
        cu.iban_on_file = r.random() < 0.78
        cu.currency = {"UK": "GBP", "CH": "CHF" if r.random() < 0.7 else "EUR"}.get(c, "EUR")
        cu.account = {
            "BE": "BE_EUR",
            "FR": "FR_EUR",
            "NL": "DE_EUR",
            "DE": "DE_EUR",
            "ES": "BE_EUR",
            "IT": "BE_EUR",
            "UK": "BE_GBP",
            "CH": "BE_CHF" if cu.currency == "CHF" else "BE_EUR",
        }[c]
        cu.terms = r.choice(
            {
                "BE": [30, 30, 30, 45, 60],
                "FR": [30, 45, 60, 60],
                "NL": [14, 30, 30],
                "DE": [14, 30, 30],
                "ES": [60, 60, 90],
                "IT": [60, 90, 90],
                "UK": [30, 30],
                "CH": [30, 30],
            }[c]
        )
        cu.delay = r.choice([-6, -2, 0, 2, 4, 7, 10, 15, 25])
        cu.siren = luhn_complete(f"{r.randint(30000000, 99999999)}") if c == "FR" else ""
        cu.vat = fr_vat(cu.siren) if c == "FR" else (be_vat(r) if c == "BE" else "")
        pc, city = r.choice(CITY[c])
        cu.postal, cu.city = pc, city
        cu.street = (
            r.choice(["Rue", "Avenue", "Straat", "Weg", "Via", "Calle", "Road"])
            + f" {r.randint(1, 240)}"
        )
        cu.email = (
            "compta@"
            + strip_accents(core).lower().replace(" ", "").replace("'", "")[:18]
            + {"UK": ".co.uk"}.get(c, "." + c.lower())
        )
        # the seller prints a Belgian structured communication for Belgian customers, RF for some others
        if c == "BE":
            cu.refkind = "ogm" if r.random() < 0.85 else None
        else:
            cu.refkind = (
                "rf"
                if r.random() < {"NL": 0.6, "DE": 0.3, "FR": 0.3, "ES": 0.3, "IT": 0.3}.get(c, 0.2)
                else None
            )
        # how the customer pays
        w = {
            "BE": [("ogm", 50), ("text", 16), ("dd", 20), ("strd", 6), ("noref", 8)],
            "FR": [("text", 46), ("list", 22), ("cheque", 12), ("noref", 10), ("rftext", 14)],
            "NL": [("rf", 45), ("text", 30), ("list", 15), ("noref", 10)],
            "DE": [("text", 50), ("list", 25), ("rf", 15), ("noref", 10)],
            "ES": [("text", 45), ("strd", 35), ("rf", 20)],
            "IT": [("text", 45), ("strd", 35), ("rf", 20)],
            "UK": [("text", 80), ("noref", 20)],
            "CH": [("text", 70), ("rf", 30)],
        }[c]
        m = r.choices([k for k, _ in w], [v for _, v in w])[0]
        if m in ("ogm",) and cu.refkind != "ogm":
            m = "text"
        if m in ("rf", "rftext") and cu.refkind != "rf":
            m = "text"
        cu.method = m
        cu.third = None
        cu.recurring = None
        out.append(cu)
    # enough direct-debit mandates among Belgian customers, and some name-only payers
    be = [cu for cu in out if cu.country == "BE" and cu.method in ("text", "ogm")]
    need = max(0, len(out) // 14 - sum(cu.method == "dd" for cu in out))
    for cu in be[:need]:
        cu.method = "dd"
    for cu in out:
        if cu.method == "dd":
            cu.iban_on_file = True  # the mandate carries the IBAN
        if cu.method == "noref" and r.random() < 0.4:
            cu.iban_on_file = False
    # third-party payers: a factor paying for a few customers, two parent companies paying for subsidiaries
    fr_be = [
        cu for cu in out if cu.country in ("FR", "BE") and cu.method in ("text", "list", "noref")
    ]
    r.shuffle(fr_be)
    for cu in fr_be[:3]:
        cu.third = (
            "factor",
            r.choice(
                ["BNP PARIBAS FACTOR", "CGA FACTORING - GROUPE SG", "BELFIUS COMMERCIAL FINANCE"]
            ),
        )
    for grp, name in (
        ("FR", "GROUPE HOTELIER DES FLANDRES SA"),
        ("BE", "HORECA INVEST HOLDING NV"),
    ):
        subs = [
            cu
            for cu in out
            if cu.country == grp
            and cu.third is None
            and cu.method in ("text", "list", "ogm", "noref")
        ]
        r.shuffle(subs)
        for cu in subs[:3]:
            cu.third = ("parent", name)
            cu.parent_iban = random_iban(random.Random(name), grp)
    # recurring maintenance contracts: same fixed monthly amounts at several customers
    rec = [
        cu
        for cu in out
        if cu.country in ("BE", "FR") and cu.method in ("text", "noref", "ogm") and cu.third is None
    ]
    r.shuffle(rec)
    for cu in rec[:10]:
        cu.recurring = r.choice([450_00, 450_00, 189_90, 1_250_00])
    return out


# ----------------------------------------------------------------------------------------------
# invoices
# ----------------------------------------------------------------------------------------------


class Doc:
    pass


def make_invoices(r: random.Random, customers, n: int):
    weights = [r.lognormvariate(0, 0.9) for _ in customers]
    docs = []
    # December 2025 invoices (the previous year's tail, numbered FV25/00981...), then 2026
    n_prev = max(20, n // 16)
    dates_prev = sorted(
        dt.date(2025, 12, 1) + dt.timedelta(days=r.randint(0, 30)) for _ in range(n_prev)
    )
    dates = sorted(
        dt.date(YEAR, 1, 2) + dt.timedelta(days=r.randint(0, 345)) for _ in range(n - n_prev)
    )
    seq = {2025: 980, 2026: 0}
    cseq = {2025: 61, 2026: 0}
    rec_customers = [cu for cu in customers if cu.recurring]
    picks = []
    # recurring maintenance contracts: one invoice a month at a fixed price, issued on the first working day
    for cu in rec_customers:
        for m in range(1, 13):
            picks.append((bizday(dt.date(YEAR, m, 2)), 2026, cu, cu.recurring, "invoice"))
    all_dates = [(d, 2025) for d in dates_prev] + [
        (d, 2026) for d in dates[: max(0, n - n_prev - len(picks))]
    ]
    for d, y in all_dates:
        cu = r.choices(customers, weights)[0]
        if r.random() < 0.045 and y == 2026:
            picks.append((d, y, cu, None, "credit_note"))
        else:
            amt = int(round(r.lognormvariate(7.6, 0.95) * 100))
            amt = max(min(amt, 60_000_00), 45_00)
            picks.append((d, y, cu, amt, "invoice"))
    picks.sort(key=lambda t: (t[0], t[2].num))
    for d, y, cu, amt, typ in picks:
        doc = Doc()
        doc.type = typ
        doc.cust = cu
        doc.issue = d
        doc.year = y
        if typ == "invoice":
            seq[y] += 1
            doc.seq = seq[y]
            doc.id = f"FV{y % 100:02d}/{seq[y]:05d}"
            doc.due = d + dt.timedelta(days=cu.terms)
            doc.cents = amt
        else:
            cseq[y] += 1
            doc.seq = cseq[y]
            doc.id = f"NC{y % 100:02d}/{cseq[y]:05d}"
            doc.due = d
            prev = [x for x in docs if x.cust is cu and x.type == "invoice"]
            base = r.choice(prev).cents if prev else 500_00
            doc.cents = -max(20_00, int(base * r.choice([0.05, 0.1, 0.15, 0.25, 1.0])))
        doc.ref = ""
        if cu.refkind == "ogm":
            doc.ref = ogm_print(
                ogm(
                    int(f"{y % 100:02d}{doc.seq:05d}{cu.num % 1000:03d}")
                    + (0 if typ == "invoice" else 5_000_000_000)
                )
            )
        elif cu.refkind == "rf":
            doc.ref = rf_ref(f"{y % 100:02d}{doc.seq:05d}{'C' if typ == 'credit_note' else ''}")
        docs.append(doc)
    return docs


# ----------------------------------------------------------------------------------------------
# bank lines
# ----------------------------------------------------------------------------------------------


class Line:
    def __init__(self, acct, date, cents, kind, **kw):
        self.acct, self.date, self.cents, self.kind = acct, date, cents, kind
        self.vdate = kw.pop("vdate", date)
        self.alloc = kw.pop("alloc", [])  # [(doc_id, cents)]
        self.name = kw.pop("name", None)
        self.piban = kw.pop("piban", None)
        self.pbic = kw.pop("pbic", None)
        self.ustrd = kw.pop("ustrd", None)
        self.strd = kw.pop("strd", [])  # list of dicts
        self.cref = kw.pop("cref", None)  # (ref, issuer)
        self.e2e = kw.pop("e2e", None)
        self.mndt = kw.pop("mndt", None)
        self.batch = kw.pop("batch", None)  # list of sub Lines
        self.details = kw.pop("details", True)
        self.rtr = kw.pop("rtr", None)
        self.code = kw.pop("code", "RCDT")  # PMNT family sub-family for camt
        self.ev = kw.pop("ev", {})
        self.noncust = kw.pop("noncust", False)
        self.note = kw.pop("note", "")
        self.label = kw.pop("label", None)  # CFONB 31-char label / short text for debits
        self.pmtinf = kw.pop("pmtinf", None)
        self.chqnb = kw.pop("chqnb", None)
        assert not kw, kw


def printed_name(r: random.Random, cu, habit=None) -> str:
    """A payer name as banks print it."""
    habit = (
        habit
        or r.choices(
            ["as_is", "upper", "moved", "dropped", "abbrev", "trunc"], [30, 30, 12, 12, 6, 10]
        )[0]
    )
    core, form = cu.core, cu.form
    if cu.country in ("DE", "CH"):
        core = translit_de(core)  # German banks write Mueller, not Muller
    if habit == "as_is":
        return cu.name
    up = strip_accents(core).upper()
    fu = strip_accents(form).upper().replace(".", "")
    if habit == "upper":
        return f"{up} {fu}"
    if habit == "moved":
        return f"{fu} {up}"
    if habit == "dropped":
        return up
    if habit == "abbrev":
        ab = {
            "RESTAURANT": "REST.",
            "BOULANGERIE": "BOUL.",
            "HOTEL": "HTL",
            "TRAITEUR": "TRAIT.",
            "BRASSERIE": "BRASS.",
            "CATERING": "CAT.",
            "PATISSERIE": "PATISS.",
            "RESTAURATION": "RESTAUR.",
            "BAKKERIJ": "BAKK.",
            "DISTRIBUCIONES": "DISTRIB.",
            "DISTRIBUZIONE": "DISTRIB.",
            "RISTORAZIONE": "RIST.",
        }
        w = up.split()
        w[0] = ab.get(w[0], w[0])
        pre = {"FR": "STE ", "BE": "ETS "}.get(cu.country, "")
        return pre + " ".join(w)
    if habit == "trunc":
        s = f"{up} {fu}"
        return s[: max(14, min(len(s) - 3, r.choice([18, 20, 22])))]
    raise ValueError(habit)


NUMFORMS = ["std", "std", "std", "std", "dash", "space", "glued", "nozero", "short"]


def num_form(r: random.Random, doc, form=None) -> str:
    form = form or r.choice(NUMFORMS)
    p = doc.id[:2]
    y = doc.id[2:4]
    s = f"{doc.seq:05d}"
    return {
        "std": doc.id,
        "dash": f"{p}{y}-{s}",
        "space": f"{p} {y}/{s}",
        "glued": f"{p}{y}{s}",
        "nozero": f"{p.lower() if r.random() < 0.3 else p}{y}/{doc.seq}",
        "short": f"{y}/{s}",
    }[form]


WORDING = {
    "fr": [
        "Facture {n}",
        "Fact. {n}",
        "FACT {n}",
        "Règlement facture {n}",
        "Paiement fact n° {n}",
        "REGLEMENT {n}",
        "Votre facture {n} merci",
        "{n}",
        "FACTURE N {n} DU {d}",
    ],
    "nl": [
        "Factuur {n}",
        "factuurnr. {n}",
        "Betaling factuur {n}",
        "fact {n}",
        "{n} bedankt",
        "FACTUUR {n} VAN {d}",
    ],
    "de": [
        "Rechnung {n}",
        "RE {n}",
        "Rechnungsnr. {n} vom {d}",
        "Re-Nr {n} Kd-Nr {c}",
        "{n}",
        "Zahlung RG {n}",
    ],
    "en": [
        "Invoice {n}",
        "INV {n}",
        "Payment of invoice {n}",
        "Inv no {n}",
        "{n}",
        "INVOICE {n} THANK YOU",
    ],
    "es": ["Factura {n}", "FRA {n}", "Pago factura {n}", "Fra. nº {n}", "PAGO FRA {n} {c}"],
    "it": [
        "Fattura {n}",
        "Pagamento fattura n. {n}",
        "Saldo fattura {n}",
        "FT {n}",
        "Rif. fatt. {n} del {d}",
    ],
}
LIST_AND = {"fr": " et ", "nl": " en ", "de": " und ", "en": " & ", "es": " y ", "it": " e "}
LIST_HEAD = {
    "fr": ["Règlement factures ", "Fact. ", "REGLT FACT ", "Factures "],
    "nl": ["Facturen ", "Betaling fact. "],
    "de": ["Rechnungen ", "RE ", "Sammelzahlung RG "],
    "en": ["Invoices ", "INV "],
    "es": ["Facturas ", "FRAS "],
    "it": ["Fatture ", "Pagamento ft. "],
}
MINUS = {
    "fr": [" moins avoir ", " - ", " dont avoir "],
    "nl": [" min creditnota ", " - "],
    "de": [" abzgl. Gutschrift ", " ./. "],
    "en": [" less credit note ", " - "],
    "es": [" menos abono ", " - "],
    "it": [" meno nota credito ", " - "],
}
DEPOSIT = {
    "fr": "Acompte {p}% facture {n}",
    "nl": "Voorschot {p}% factuur {n}",
    "de": "Anzahlung {p}% Rechnung {n}",
    "en": "Deposit {p}% invoice {n}",
    "es": "Anticipo {p}% factura {n}",
    "it": "Acconto {p}% fattura {n}",
}
BALANCE = {
    "fr": "Solde facture {n}",
    "nl": "Saldo factuur {n}",
    "de": "Restzahlung Rechnung {n}",
    "en": "Balance invoice {n}",
    "es": "Resto factura {n}",
    "it": "Saldo fattura {n}",
}


def wording(r, cu, n, doc):
    w = r.choice(WORDING[cu.lang])
    return w.format(
        n=n, d=doc.issue.strftime("%d.%m.%Y" if cu.lang == "de" else "%d/%m/%Y"), c=cu.id
    )


def list_text(r, cu, docs):
    """'Règlement factures FV26/00012, 15 et 19' and other list forms; docs invoices then credit notes.

    Returns the text and, per document, where its token ends (to know which survive the 140-character cut)."""
    inv = [d for d in docs if d.type == "invoice"]
    cns = [d for d in docs if d.type == "credit_note"]
    style = r.choice(["short_tail", "full", "slash", "plus"])
    if style == "short_tail" and len({d.year for d in inv}) == 1:
        parts = [inv[0].id] + [str(d.seq) for d in inv[1:]]
    elif style == "slash":
        parts = [inv[0].id] + [f"{d.seq:05d}" for d in inv[1:]]
    else:
        parts = [d.id for d in inv]
    if len(parts) == 1:
        s = wording(r, cu, parts[0], inv[0])
    elif style == "slash":
        s = r.choice(LIST_HEAD[cu.lang]) + "-".join(parts)
    elif style == "plus":
        s = r.choice(LIST_HEAD[cu.lang]) + " + ".join(parts)
    else:
        s = r.choice(LIST_HEAD[cu.lang]) + ", ".join(parts[:-1]) + LIST_AND[cu.lang] + parts[-1]
    for c in cns:
        s += r.choice(MINUS[cu.lang]) + c.id
    ends = {}
    pos = 0
    for d, tok in list(zip(inv, parts)) + [(c, c.id) for c in cns]:
        i = s.find(tok, pos)
        assert i >= 0, (s, tok)
        pos = i + len(tok)
        ends[d.id] = pos
    return s, ends


def rf_text(r, ref):
    style = r.choice(["spaced", "lower", "glued", "prefix", "spaced_lower"])
    sp = " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
    return {
        "spaced": sp,
        "lower": ref.lower(),
        "glued": r.choice(["Payment", "Ref", "Betaling", "Zahlung", "Facture"]) + ref,
        "prefix": "REF:" + ref,
        "spaced_lower": sp.lower(),
    }[style]


def ogm_text(r, ref):
    d = "".join(c for c in ref if c.isdigit())
    style = r.choice(["plus", "bare_slash", "stars", "digits", "spaced"])
    return {
        "plus": ref,
        "bare_slash": f"{d[:3]}/{d[3:7]}/{d[7:]}",
        "stars": f"***{d[:3]}/{d[3:7]}/{d[7:]}***",
        "digits": d,
        "spaced": f"MEDEDELING {d[:3]} {d[3:7]} {d[7:]}",
    }[style]


def transpose(r, doc, all_ids):
    s = list(f"{doc.seq:05d}")
    idx = [i for i in range(len(s) - 1) if s[i] != s[i + 1] and not (i == 0 and s[i + 1] == "0")]
    if not idx:
        return None
    i = r.choice(idx)
    s[i], s[i + 1] = s[i + 1], s[i]
    return f"{doc.id[:4]}/{''.join(s)}"


def make_lines(r: random.Random, customers, docs):
    lines = []
    by_cust = defaultdict(list)
    for d in docs:
        by_cust[d.cust.id].append(d)
    all_ids = {d.id for d in docs}
    dd_queue = defaultdict(list)  # date -> [(doc, cents)]
    cheque_queue = defaultdict(list)
    RET = [
        ("AM04", "Insufficient funds"),
        ("MD06", "Refund request by end customer"),
        ("MS02", "Refused by debtor"),
        ("AC04", "Closed account number"),
    ]

    def clamp(d):
        d = bizday(d)
        return d

    def payer(cu, line_ev, habit=None, new_iban=False):
        """name, iban, bic, identified customer id."""
        name = printed_name(r, cu, habit)
        if new_iban or not cu.iban_on_file:
            ib = random_iban(r, cu.country) if new_iban else cu.iban
            line_ev["payer"] = cu.id  # a careful controller recognises the printed name
            return name, ib, cu.bic
        line_ev["payer"] = cu.id
        return name, cu.iban, cu.bic

    def base_line(cu, date, cents, kind, ev, **kw):
        return Line(cu.account, clamp(date), cents, kind, ev=ev, **kw)

    for cu in customers:
        cdocs = sorted(by_cust[cu.id], key=lambda d: d.issue)
        invs = [d for d in cdocs if d.type == "invoice"]
        cns = [d for d in cdocs if d.type == "credit_note"]
        cn_pending = list(cns)

        def take_cn(upto):
            for c in cn_pending:
                if c.issue <= upto:
                    cn_pending.remove(c)
                    return c
            return None

        if cu.method in ("list", "strd") or (cu.third and cu.third[0] == "parent"):
            # monthly payment run around the 10th, paying everything due by the end of the month
            paid = set()
            for m in range(1, 13):
                run = clamp(dt.date(YEAR, m, r.choice([8, 10, 12, 15])))
                horizon = run + dt.timedelta(days=20)
                batch = [
                    d
                    for d in invs
                    if d.id not in paid
                    and d.due <= horizon
                    and d.issue < run - dt.timedelta(days=2)
                ]
                if not batch:
                    continue
                if r.random() < 0.04:
                    continue  # skips a month
                cnl = [c for c in cn_pending if c.issue < run - dt.timedelta(days=2)]
                for c in cnl:
                    cn_pending.remove(c)
                for d in batch:
                    paid.add(d.id)
                total = sum(d.cents for d in batch) + sum(c.cents for c in cnl)
                if total <= 0:
                    for c in cnl:
                        cn_pending.append(c)
                    cnl = []
                    total = sum(d.cents for d in batch)
                alloc = [(d.id, d.cents) for d in batch] + [(c.id, c.cents) for c in cnl]
                ev = {}
                if cu.third and cu.third[0] == "parent":
                    ev["payer"] = None
                    text, ends = list_text(r, cu, batch + cnl)
                    kind = "third_party_parent"
                    kw = dict(name=cu.third[1], piban=cu.parent_iban, pbic=cu.bic)
                else:
                    name, ib, bic = payer(cu, ev)
                    kw = dict(name=name, piban=ib, pbic=bic)
                    text = None
                if cu.method == "strd" and not (cu.third and cu.third[0] == "parent"):
                    cn_style = r.choice(["CdtNoteAmt", "RmtdAmt"])
                    strd = [
                        dict(tp="CINV", nb=d.id, dt=d.issue, amt=d.cents, ccy=d.cust.currency)
                        for d in batch
                    ]
                    strd += [
                        dict(
                            tp="CREN",
                            nb=c.id,
                            dt=c.issue,
                            amt=-c.cents,
                            ccy=c.cust.currency,
                            style=cn_style,
                        )
                        for c in cnl
                    ]
                    ev["refs"] = [d.id for d in batch] + [c.id for c in cnl]
                    ln = base_line(
                        cu,
                        run,
                        total,
                        "structured_remittance",
                        ev,
                        alloc=alloc,
                        strd=strd,
                        e2e=f"PAY{run:%y%m%d}{cu.num:04d}",
                        note=f"{len(strd)} Strd blocks" + (", CREN netted" if cnl else ""),
                        **kw,
                    )
                    lines.append(ln)
                    continue
                if text is None:
                    text, ends = list_text(r, cu, batch + cnl)
                full = text
                text = text[:140]  # SEPA unstructured remittance: 140 characters, the rest is lost
                ev["refs"] = [d.id for d in batch + cnl if ends[d.id] <= 140]
                if cu.third and cu.third[0] == "parent":
                    kind = "third_party_parent"
                elif cnl:
                    kind = (
                        "invoices_minus_credit_note"
                        if len(batch) > 1
                        else "invoice_minus_credit_note"
                    )
                else:
                    kind = "invoice_list" if len(batch) > 1 else "invoice_number_text"
                note = "list cut at 140 characters" if len(full) > 140 else ""
                lines.append(
                    base_line(cu, run, total, kind, ev, alloc=alloc, ustrd=text, note=note, **kw)
                )
            continue

        skip = set()
        for k_inv, inv in enumerate(invs):
            if inv.id in skip:
                continue
            due = inv.due
            pay = due + dt.timedelta(days=cu.delay + r.randint(-3, 6))
            if pay < inv.issue + dt.timedelta(days=2):
                pay = inv.issue + dt.timedelta(days=2)
            if r.random() < 0.035:
                continue  # never paid this year (dispute, bad debt)
            if clamp(pay) > Y1:
                continue
            ev = {}
            # ---------------- direct debit ----------------
            if cu.method == "dd":
                # the seller collects twice a month, on the 5th and the 20th, what is due by then
                cdate = (
                    dt.date(due.year, due.month, 5)
                    if due.day <= 5
                    else (
                        dt.date(due.year, due.month, 20)
                        if due.day <= 20
                        else dt.date(due.year + (due.month == 12), due.month % 12 + 1, 5)
                    )
                )
                cdate = clamp(cdate)
                dd_queue[cdate].append((inv, cu))
                continue
            # ---------------- cheques ----------------
            if cu.method == "cheque":
                dep = clamp(pay + dt.timedelta(days=r.randint(1, 6)))
                dep = dep - dt.timedelta(days=dep.weekday()) + dt.timedelta(days=r.choice([1, 3]))
                cn = take_cn(pay)
                amt = inv.cents + (cn.cents if cn and inv.cents + cn.cents > 0 else 0)
                alloc = [(inv.id, inv.cents)] + (
                    [(cn.id, cn.cents)] if cn and inv.cents + cn.cents > 0 else []
                )
                if cn and inv.cents + cn.cents <= 0:
                    cn_pending.append(cn)
                cheque_queue[clamp(dep)].append((cu, amt, alloc))
                continue
            # ---------------- factor paying ----------------
            if cu.third and cu.third[0] == "factor":
                ev["payer"] = None
                fname = cu.third[1]
                fdate = clamp(inv.issue + dt.timedelta(days=r.randint(5, 20)))
                if r.random() < 0.7:
                    n = num_form(r, inv, "std")
                    text = r.choice(
                        [
                            f"{cu.core.upper()} FACT {n}",
                            f"FINANCEMENT {n} {strip_accents(cu.core).upper()}",
                            f"REGLEMENT POUR COMPTE DE {strip_accents(cu.core).upper()[:20]} {n}",
                        ]
                    )
                    ev["refs"] = [inv.id]
                else:
                    text = f"DOSSIER {r.randint(100000, 999999)} REMISE {r.randint(1000, 9999)}"
                lines.append(
                    base_line(
                        cu,
                        fdate,
                        inv.cents,
                        "third_party_factor",
                        ev,
                        alloc=[(inv.id, inv.cents)],
                        ustrd=text,
                        name=fname,
                        piban=random_iban(random.Random(fname), "FR"),
                        pbic="BNPAFRPP",
                        note="factor pays for " + cu.id,
                    )
                )
                continue

            n_std = num_form(r, inv)
            roll = r.random()
            # ---------------- special habits ----------------
            if roll < 0.02 and cu.method in ("text", "ogm", "rf", "rftext"):
                # paid on the pro-forma / order confirmation, before the invoice is issued
                d0 = clamp(inv.issue - dt.timedelta(days=r.randint(2, 9)))
                if Y0 <= d0 < inv.issue:
                    name, ib, bic = payer(cu, ev)
                    ev["refs"] = [inv.id]
                    lines.append(
                        base_line(
                            cu,
                            d0,
                            inv.cents,
                            "paid_before_issue",
                            ev,
                            alloc=[(inv.id, inv.cents)],
                            ustrd=wording(r, cu, inv.id, inv),
                            name=name,
                            piban=ib,
                            pbic=bic,
                            note=f"invoice issued {inv.issue}",
                        )
                    )
                    continue
            if (
                roll < 0.045
                and inv.cents > 3000_00
                and inv.issue >= Y0
                and cu.method in ("text", "ogm", "rftext", "rf", "noref")
            ):
                pct = r.choice([20, 30, 30, 50])
                dep = int(round(inv.cents * pct / 100, -2))
                d1 = clamp(inv.issue + dt.timedelta(days=r.randint(1, 5)))
                name, ib, bic = payer(cu, ev)
                ev1 = dict(ev, refs=[inv.id], partial=True)
                lines.append(
                    base_line(
                        cu,
                        d1,
                        dep,
                        "deposit",
                        ev1,
                        alloc=[(inv.id, dep)],
                        ustrd=DEPOSIT[cu.lang].format(p=pct, n=inv.id),
                        name=name,
                        piban=ib,
                        pbic=bic,
                    )
                )
                ev2 = dict(ev, refs=[inv.id])
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents - dep,
                        "balance",
                        ev2,
                        alloc=[(inv.id, inv.cents - dep)],
                        ustrd=BALANCE[cu.lang].format(n=num_form(r, inv)),
                        name=name,
                        piban=ib,
                        pbic=bic,
                    )
                )
                continue
            if roll < 0.065 and cu.method in ("text", "rftext", "noref"):
                bad = transpose(r, inv, all_ids)
                if bad:
                    name, ib, bic = payer(cu, ev)
                    ev["mangled"] = bad
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            inv.cents,
                            "transposed_digits",
                            ev,
                            alloc=[(inv.id, inv.cents)],
                            ustrd=wording(r, cu, bad, inv),
                            name=name,
                            piban=ib,
                            pbic=bic,
                            note=f"{bad} typed for {inv.id}"
                            + (" (an existing document)" if bad in all_ids else ""),
                        )
                    )
                    continue
            if roll < 0.105 and cu.method in ("text", "noref", "rftext"):
                name, ib, bic = payer(cu, ev)
                nn = str(inv.seq) if r.random() < 0.6 else f"{inv.seq:05d}"
                ev["nopfx"] = inv.seq
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents,
                        "number_without_prefix",
                        ev,
                        alloc=[(inv.id, inv.cents)],
                        ustrd=wording(r, cu, nn, inv),
                        name=name,
                        piban=ib,
                        pbic=bic,
                    )
                )
                continue
            fee_payer = cu.country in ("UK", "CH")
            if (fee_payer and r.random() < 0.35) or (not fee_payer and roll < 0.11):
                fee = (
                    r.choice([7_50, 10_00, 12_00, 15_00, 20_00, 25_00])
                    if fee_payer
                    else r.choice([1_50, 2_50, 5_00, 8_00])
                )
                name, ib, bic = payer(cu, ev)
                ev["refs"] = [inv.id]
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents - fee,
                        "bank_fee_deducted",
                        ev,
                        alloc=[(inv.id, inv.cents - fee)],
                        ustrd=wording(r, cu, n_std, inv),
                        name=name,
                        piban=ib,
                        pbic=bic,
                        note=f"{money(fee)} "
                        + (
                            "charges taken on the way"
                            if fee_payer
                            else "the customer deducted its own transfer charges"
                        ),
                    )
                )
                continue
            if roll < 0.135:
                up = (inv.cents // 100 + 1) * 100 if inv.cents % 100 else inv.cents + 100
                if up - inv.cents > 0:
                    name, ib, bic = payer(cu, ev)
                    ev["refs"] = [inv.id]
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            up,
                            "rounded_up",
                            ev,
                            alloc=[(inv.id, inv.cents)],
                            ustrd=wording(r, cu, n_std, inv),
                            name=name,
                            piban=ib,
                            pbic=bic,
                            note=f"{money(up - inv.cents)} overpaid, stays unallocated",
                        )
                    )
                    continue
            if roll < 0.17 and cu.method != "noref":
                # paid from an IBAN not on file (a new bank account)
                name, ib, bic = payer(cu, ev, new_iban=True)
                if cu.method == "ogm":
                    ev["refs"] = [inv.id]
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            inv.cents,
                            "iban_not_on_file",
                            ev,
                            alloc=[(inv.id, inv.cents)],
                            cref=("".join(c for c in inv.ref if c.isdigit()), "BBA"),
                            name=name,
                            piban=ib,
                            pbic=bic,
                        )
                    )
                else:
                    ev["refs"] = [inv.id]
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            inv.cents,
                            "iban_not_on_file",
                            ev,
                            alloc=[(inv.id, inv.cents)],
                            ustrd=wording(r, cu, n_std, inv),
                            name=name,
                            piban=ib,
                            pbic=bic,
                        )
                    )
                continue
            cn = take_cn(pay - dt.timedelta(days=1))
            nxt = invs[k_inv + 1] if k_inv + 1 < len(invs) else None
            if (
                cn
                and nxt
                and nxt.issue < pay - dt.timedelta(days=1)
                and r.random() < 0.5
                and nxt.id not in skip
            ):
                # two invoices at once, less the credit note
                skip.add(nxt.id)
                name, ib, bic = payer(cu, ev)
                alloc = [(inv.id, inv.cents), (nxt.id, nxt.cents), (cn.id, cn.cents)]
                text, _ends = list_text(r, cu, [inv, nxt, cn])
                ev["refs"] = [inv.id, nxt.id, cn.id]
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents + nxt.cents + cn.cents,
                        "invoices_minus_credit_note",
                        ev,
                        alloc=alloc,
                        ustrd=text[:140],
                        name=name,
                        piban=ib,
                        pbic=bic,
                    )
                )
                continue
            if cn and inv.cents + cn.cents > 0:
                name, ib, bic = payer(cu, ev)
                alloc = [(inv.id, inv.cents), (cn.id, cn.cents)]
                if r.random() < 0.8:
                    text = wording(r, cu, n_std, inv) + r.choice(MINUS[cu.lang]) + cn.id
                    ev["refs"] = [inv.id, cn.id]
                    note = ""
                else:
                    text = wording(r, cu, n_std, inv)
                    ev["refs"] = [inv.id]
                    note = "credit note deducted without being mentioned"
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents + cn.cents,
                        "invoice_minus_credit_note",
                        ev,
                        alloc=alloc,
                        ustrd=text,
                        name=name,
                        piban=ib,
                        pbic=bic,
                        note=note,
                    )
                )
                continue
            elif cn:
                cn_pending.append(cn)
            # ---------------- ordinary ----------------
            name, ib, bic = payer(cu, ev)
            kw = dict(name=name, piban=ib, pbic=bic, alloc=[(inv.id, inv.cents)])
            if cu.recurring and inv.cents == cu.recurring:
                # contract invoices: standing order with the contract, no invoice number
                roll2 = r.random()
                if roll2 < 0.45:
                    ev["refs"] = [inv.id]
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            inv.cents,
                            "invoice_number_text",
                            ev,
                            ustrd=wording(r, cu, n_std, inv),
                            **kw,
                        )
                    )
                    continue
                if roll2 < 0.6 and cu.iban_on_file:
                    ev2 = {"payer": None}
                    owner = strip_accents(r.choice(SURN[cu.country])).upper()
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            inv.cents,
                            "same_amount_several_customers",
                            ev2,
                            ustrd=r.choice(
                                [
                                    "CONTRAT ENTRETIEN",
                                    "ONDERHOUDSCONTRACT",
                                    "MAINTENANCE",
                                    "ABONNEMENT",
                                ]
                            )
                            + f" {pay:%m/%Y}",
                            name=f"{r.choice('ABCDEFGHJLMPV')}. {owner}",
                            piban=random_iban(r, cu.country),
                            pbic=cu.bic,
                            alloc=[(inv.id, inv.cents)],
                            note="paid by the owner's private account",
                        )
                    )
                    continue
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents,
                        "recurring_same_amount",
                        ev,
                        ustrd=r.choice(
                            ["CONTRAT ENTRETIEN", "ONDERHOUDSCONTRACT", "MAINTENANCE MENSUELLE"]
                        ),
                        **kw,
                    )
                )
                continue
            if cu.method == "ogm":
                if r.random() < 0.15:
                    ev["refs"] = [inv.id]
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            inv.cents,
                            "ogm_in_free_text",
                            ev,
                            ustrd=ogm_text(r, inv.ref),
                            **kw,
                        )
                    )
                else:
                    ev["refs"] = [inv.id]
                    lines.append(
                        base_line(
                            cu,
                            pay,
                            inv.cents,
                            "structured_communication",
                            ev,
                            cref=("".join(c for c in inv.ref if c.isdigit()), "BBA"),
                            **kw,
                        )
                    )
            elif cu.method == "rf":
                ev["refs"] = [inv.id]
                if cu.account == "BE_EUR" or cu.account.startswith("BE_"):
                    lines.append(
                        base_line(
                            cu, pay, inv.cents, "rf_structured", ev, cref=(inv.ref, "ISO"), **kw
                        )
                    )
                else:
                    lines.append(
                        base_line(cu, pay, inv.cents, "rf_structured", ev, ustrd=inv.ref, **kw)
                    )
            elif cu.method == "rftext":
                ev["refs"] = [inv.id]
                lines.append(
                    base_line(
                        cu, pay, inv.cents, "rf_in_free_text", ev, ustrd=rf_text(r, inv.ref), **kw
                    )
                )
            elif cu.method == "noref":
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents,
                        "no_reference" if cu.iban_on_file else "payer_name_only",
                        ev,
                        ustrd=r.choice(
                            [
                                None,
                                "PAIEMENT",
                                "BETALING",
                                "FACTURE",
                                "ZAHLUNG",
                                "PAYMENT",
                                strip_accents(cu.core).upper(),
                            ]
                        ),
                        **kw,
                    )
                )
            else:
                ev["refs"] = [inv.id]
                lines.append(
                    base_line(
                        cu,
                        pay,
                        inv.cents,
                        "invoice_number_text",
                        ev,
                        ustrd=wording(r, cu, n_std, inv),
                        **kw,
                    )
                )
            # duplicate payment
            if r.random() < 0.012:
                d2 = pay + dt.timedelta(days=r.randint(2, 15))
                if clamp(d2) <= Y1:
                    last = lines[-1]
                    ev2 = dict(last.ev)
                    lines.append(
                        Line(
                            last.acct,
                            clamp(d2),
                            last.cents,
                            "duplicate_payment",
                            ev=ev2,
                            alloc=[],
                            name=last.name,
                            piban=last.piban,
                            pbic=last.pbic,
                            ustrd=last.ustrd,
                            cref=last.cref,
                            note=f"second payment of {inv.id}, to be refunded",
                        )
                    )

        # grouped payments without reference from contract customers (two months at once)
    # contract customers sometimes pay two months at once without reference: replace two singles by one
    for cu in customers:
        if not cu.recurring:
            continue
        own = [
            ln
            for ln in lines
            if ln.kind == "recurring_same_amount"
            and ln.alloc
            and ln.alloc[0][0] in {d.id for d in by_cust[cu.id]}
        ]
        own.sort(key=lambda ln: ln.date)
        if len(own) >= 4:
            a, b = own[1], own[2]
            lines.remove(a)
            lines.remove(b)
            ev = dict(a.ev)
            lines.append(
                Line(
                    a.acct,
                    b.date,
                    a.cents + b.cents,
                    "grouped_no_reference",
                    ev=ev,
                    alloc=a.alloc + b.alloc,
                    name=a.name,
                    piban=a.piban,
                    pbic=a.pbic,
                    ustrd="MAINTENANCE 2 MOIS",
                    note="two monthly contract invoices at once",
                )
            )

    # SEPA direct debit collections (Belgian account): one batch per collection date
    ret_later = []
    n_dd = 0
    for cdate in sorted(dd_queue):
        items = dd_queue[cdate]
        if cdate > Y1:
            continue
        pmtinf = f"SCALDIS-DD-{cdate:%Y%m%d}"
        subs = []
        for inv, cu in items:
            sev = {"refs": [inv.id], "payer": cu.id}
            subs.append(
                Line(
                    "BE_EUR",
                    cdate,
                    inv.cents,
                    "dd_item",
                    ev=sev,
                    alloc=[(inv.id, inv.cents)],
                    name=printed_name(r, cu, "upper"),
                    piban=cu.iban,
                    pbic=cu.bic,
                    e2e=inv.id,
                    mndt=f"SCAL-{cu.id}-01",
                    ustrd=f"{inv.id} {strip_accents(cu.core).upper()[:20]}",
                )
            )
            n_dd += 1
            if n_dd % 12 == 7:  # about one collection in twelve comes back
                ret_later.append((cdate, inv, cu))
        details = cdate >= dt.date(YEAR, 4, 1)
        ev = {"batch": True}
        if len(subs) == 1 and details:
            s = subs[0]
            s.kind = "direct_debit_single"
            s.code = "PMNT/RDDT/ESDD"
            s.pmtinf = pmtinf
            lines.append(s)
            continue
        lines.append(
            Line(
                "BE_EUR",
                cdate,
                sum(s.cents for s in subs),
                "sepa_batch_details" if details else "sepa_batch_no_details",
                ev=ev,
                alloc=[a for s in subs for a in s.alloc],
                batch=subs,
                details=details,
                code="PMNT/RDDT/ESDD",
                pmtinf=pmtinf,
                note=f"{len(subs)} collections",
            )
        )
    for cdate, inv, cu in ret_later:
        rd = clamp(cdate + dt.timedelta(days=r.randint(2, 6)))
        if rd > Y1:
            continue
        code, why = r.choice(RET)
        lines.append(
            Line(
                "BE_EUR",
                rd,
                -inv.cents,
                "direct_debit_return",
                ev={"return_of": inv.id},
                alloc=[(inv.id, -inv.cents)],
                name=printed_name(r, cu, "upper"),
                piban=cu.iban,
                pbic=cu.bic,
                e2e=inv.id,
                mndt=f"SCAL-{cu.id}-01",
                rtr=(code, why),
                code="PMNT/RDDT/UPDD",
                note=f"return {code}, invoice reopened",
            )
        )
        # then the customer pays by transfer
        d2 = clamp(rd + dt.timedelta(days=r.randint(5, 20)))
        if d2 <= Y1:
            ev = {"refs": [inv.id], "payer": cu.id}
            lines.append(
                Line(
                    "BE_EUR",
                    d2,
                    inv.cents,
                    "invoice_number_text",
                    ev=ev,
                    alloc=[(inv.id, inv.cents)],
                    name=printed_name(r, cu),
                    piban=cu.iban,
                    pbic=cu.bic,
                    ustrd=wording(r, cu, inv.id, inv),
                    note="pays after the returned direct debit",
                )
            )
    # cheque remittances (French bank)
    rem_no = 4410000
    for dep in sorted(cheque_queue):
        if dep > Y1:
            continue
        items = cheque_queue[dep]
        rem_no += r.randint(1, 3)
        lines.append(
            Line(
                "FR_EUR",
                dep,
                sum(a for _, a, _ in items),
                "cheque_remittance",
                ev={"payer": None},
                alloc=[x for _, _, al in items for x in al],
                label=f"REMISE CHEQUES {rem_no}",
                ustrd=f"REMISE {rem_no} {len(items)} CHQ",
                note=f"{len(items)} cheque(s): " + ", ".join(c.id for c, _, _ in items),
            )
        )
    return lines


def noncustomer_lines(r: random.Random):
    out = []
    d = Y0
    suppliers = [
        ("BRASSERIE HAACHT NV", "BE"),
        ("DANONE FRANCE SAS", "FR"),
        ("METRO CASH & CARRY", "BE"),
        ("LOGISTIQUE DU NORD SARL", "FR"),
        ("VERPAKKINGEN DEKKER BV", "NL"),
        ("KUEHNE + NAGEL NV", "BE"),
    ]
    sup_iban = {s: random_iban(random.Random(s), c) for s, c in suppliers}
    while d <= Y1:
        if d.weekday() < 5:
            # card payouts of the cash & carry counter (Worldline), a batch of card sales without details
            if d.weekday() in (1, 3):
                out.append(
                    Line(
                        "BE_EUR",
                        d,
                        r.randint(400_00, 6500_00),
                        "card_payout",
                        noncust=True,
                        ev={},
                        name="WORLDLINE SA/NV",
                        piban="BE18000000000010",
                        ustrd=f"BANCONTACT/MAESTRO {d:%d%m%y} TERM 4471203",
                        code="PMNT/CCRD/POSC",
                        note="card sales payout",
                    )
                )
            if d.weekday() == 2 and r.random() < 0.8:
                s, c = r.choice(suppliers)
                acct = "FR_EUR" if c == "FR" else "BE_EUR"
                out.append(
                    Line(
                        acct,
                        d,
                        -r.randint(800_00, 25000_00),
                        "supplier_payment",
                        noncust=True,
                        ev={},
                        name=s,
                        piban=sup_iban[s],
                        ustrd=f"FACTURE {r.randint(100000, 999999)}",
                        code="PMNT/ICDT/ESCT",
                        label=f"VIR SEPA EMIS {s}"[:31],
                    )
                )
            if d.weekday() == 4 and r.random() < 0.4:
                out.append(
                    Line(
                        "DE_EUR",
                        d,
                        -r.randint(500_00, 9000_00),
                        "supplier_payment",
                        noncust=True,
                        ev={},
                        name="FRISCHE KUECHE LIEFERDIENST GMBH",
                        piban=random_iban(random.Random("fk"), "DE"),
                        ustrd=f"RECHNUNG {r.randint(10000, 99999)}",
                    )
                )
        if d.day == 25 or (d.day in (26, 27) and d.weekday() == 0):
            if d.day == 25 or True:
                pass
        d += dt.timedelta(days=1)
    for m in range(1, 13):
        pd = bizday(dt.date(YEAR, m, 25))
        n_emp = 14
        subs = []
        for k in range(n_emp):
            subs.append(
                Line(
                    "BE_EUR",
                    pd,
                    -r.randint(2300_00, 4800_00),
                    "salary_item",
                    noncust=True,
                    ev={},
                    name=f"EMPLOYEE {k + 1:02d}",
                    piban=random_iban(random.Random(f"emp{k}"), "BE"),
                    ustrd=f"SALAIRE {m:02d}/{YEAR}",
                    e2e=f"SAL{YEAR}{m:02d}{k + 1:03d}",
                )
            )
        out.append(
            Line(
                "BE_EUR",
                pd,
                sum(s.cents for s in subs),
                "salaries",
                noncust=True,
                ev={},
                batch=subs,
                details=True,
                code="PMNT/ICDT/ESCT",
                pmtinf=f"SAL-{YEAR}-{m:02d}",
                note=f"{n_emp} salaries, batch with details",
            )
        )
        out.append(
            Line(
                "BE_EUR",
                bizday(dt.date(YEAR, m, 5)),
                -r.randint(11000_00, 15000_00),
                "social_security",
                noncust=True,
                ev={},
                name="RSZ-ONSS",
                piban="BE63679200300008",
                ustrd=ogm_print(ogm(4_410_000_000 + m * 1000 + 3)),
                note="ONSS contributions",
            )
        )
        last = bizday(dt.date(YEAR, m, 28))
        for acct, txt, lab, c in (
            ("BE_EUR", "FRAIS DE GESTION COMPTE", "FRAIS", r.randint(18_00, 45_00)),
            ("FR_EUR", "COMMISSIONS ET FRAIS", "COMMISSIONS ET FRAIS", r.randint(25_00, 60_00)),
            ("DE_EUR", "KONTOFUEHRUNGSGEBUEHREN", "ENTGELTABSCHLUSS", r.randint(12_00, 30_00)),
            ("BE_GBP", "ACCOUNT MAINTENANCE FEE", "FEE", r.randint(8_00, 15_00)),
            ("BE_CHF", "FRAIS DE TENUE DE COMPTE", "FRAIS", r.randint(8_00, 15_00)),
        ):
            out.append(
                Line(
                    acct,
                    last,
                    -c,
                    "bank_fee",
                    noncust=True,
                    ev={},
                    ustrd=txt,
                    label=lab,
                    code="ACMT/MDOP/CHRG",
                )
            )
        if m % 3 == 0:
            out.append(
                Line(
                    "BE_EUR",
                    bizday(dt.date(YEAR, m, 30 if m != 2 else 28)),
                    r.randint(15_00, 240_00),
                    "interest",
                    noncust=True,
                    ev={},
                    ustrd=f"INTERETS CREDITEURS T{m // 3}",
                    code="ACMT/MDOP/INTR",
                )
            )
            out.append(
                Line(
                    "DE_EUR",
                    bizday(dt.date(YEAR, m, 30 if m != 2 else 28)),
                    r.randint(2_00, 40_00),
                    "interest",
                    noncust=True,
                    ev={},
                    ustrd="ABSCHLUSS HABENZINSEN",
                )
            )
    for m in (2, 5, 8, 11):
        out.append(
            Line(
                "BE_EUR",
                bizday(dt.date(YEAR, m, r.randint(10, 20))),
                r.randint(3000_00, 28000_00),
                "tax_refund",
                noncust=True,
                ev={},
                name="SPF FINANCES - TVA",
                piban="BE61679200220017",
                ustrd=f"REMBOURSEMENT TVA {YEAR}/{m:02d} 0456.789.123",
            )
        )
    out.append(
        Line(
            "FR_EUR",
            bizday(dt.date(YEAR, 6, 17)),
            4_512_00,
            "tax_refund",
            noncust=True,
            ev={},
            name="DGFIP REMBT CREDIT TVA",
            ustrd="REMBOURSEMENT CREDIT TVA NON RESIDENT 2025",
            label="VIR DGFIP REMBT TVA",
        )
    )
    return out


# ----------------------------------------------------------------------------------------------
# the controller
# ----------------------------------------------------------------------------------------------

FEE_TOL = 30_00  # shortfall a controller writes off as bank charges (and at most 2 % of the amount)
OVER_TOL = 5_00  # overpayment a controller accepts as rounding (and at most 1 %)


class Controller:
    def __init__(self, docs):
        self.docs = {d.id: d for d in docs}
        self.open = {d.id: d.cents for d in docs}
        self.by_seq = defaultdict(list)
        for d in docs:
            if d.type == "invoice":
                self.by_seq[d.seq].append(d)
        self.by_cust = defaultdict(list)
        for d in docs:
            self.by_cust[d.cust.id].append(d)

    def issued(self, did, day):
        return self.docs[did].issue <= day

    def is_open(self, did):
        o = self.open[did]
        return o > 0 if self.docs[did].cents > 0 else o < 0

    def decide(self, ln: Line):
        """'auto' when a careful controller allocates without doubt, else 'person' (with the reason)."""
        day = ln.date
        if ln.noncust:
            return "person", "not a customer payment"
        if ln.batch is not None:
            if not ln.details:
                return "person", "batch booked without transaction details"
            for s in ln.batch:
                s.date = day
                v, why = self.decide(s)
                if v != "auto":
                    return "person", f"batch item {s.e2e}: {why}"
            return "auto", "every batch item identified"
        ev = ln.ev
        if "return_of" in ev:
            did = ev["return_of"]
            return (
                ("auto", "return of a collected direct debit")
                if self.open[did] == 0
                else ("person", "return of an item not settled")
            )
        amount = ln.cents
        refs = ev.get("refs") or []
        if refs:
            if any(not self.issued(x, day) for x in refs):
                return "person", "referenced document not issued yet"
            if any(not self.is_open(x) for x in refs):
                return "person", "referenced document already settled"
            target = sum(self.open[x] for x in refs)
            diff = amount - target
            if diff == 0:
                return "auto", "references and amount agree"
            if ev.get("partial") and len(refs) == 1 and 0 < amount < target:
                return "auto", "announced deposit on the referenced invoice"
            if -FEE_TOL <= diff < 0 and -diff * 50 <= target:
                return "auto", "short by bank charges"
            if 0 < diff <= OVER_TOL and diff * 100 <= target:
                return "auto", "small overpayment (rounding)"
            return "person", "amount does not agree with the referenced documents"
        payer = ev.get("payer")
        if "nopfx" in ev:
            cands = [d for d in self.by_seq[ev["nopfx"]] if d.issue <= day and self.is_open(d.id)]
            hits = [d for d in cands if self.open[d.id] == amount]
            if len(cands) == 1 and len(hits) == 1:
                return "auto", "number without prefix matches one open invoice with that amount"
            return "person", f"number without prefix: {len(cands)} open candidates"
        if "mangled" in ev:
            if ev["mangled"] in self.docs:
                return "person", "the typed number is another document"
            if payer is None:
                return "person", "payer unknown"
            hits = [
                d
                for d in self.by_cust[payer]
                if d.issue <= day and self.is_open(d.id) and self.open[d.id] == amount
            ]
            if len(hits) == 1 and sorted(hits[0].id) == sorted(ev["mangled"]):
                return "auto", "typo in the number, payer and amount agree"
            return "person", "mistyped number"
        if payer is None:
            return "person", "payer not identified and no reference"
        items = [d for d in self.by_cust[payer] if d.issue <= day and self.is_open(d.id)]
        singles = [d for d in items if self.open[d.id] == amount]
        if len(singles) == 1:
            return "auto", "payer identified, one open item with that amount"
        if len(singles) > 1:
            return "person", f"{len(singles)} open items of that payer have this amount"
        items = items[:24]
        found = 0
        for k in range(2, 5 if len(items) <= 24 else 4):
            for combo in itertools.combinations(items, k):
                if sum(self.open[d.id] for d in combo) == amount:
                    found += 1
                    if found > 1:
                        return "person", "several sets of open items sum to the amount"
        if found == 1:
            return "auto", "payer identified, one set of open items sums to the amount"
        return "person", "no open item or set matches"

    def apply(self, ln: Line):
        for did, c in ln.alloc:
            self.open[did] -= c


# ----------------------------------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------------------------------


def assign_refs(lines):
    cnt = Counter()
    pre = {"BE_EUR": "BNPF", "BE_GBP": "INGG", "BE_CHF": "INGC"}
    for ln in lines:
        cnt[(ln.acct, ln.date)] += 1
        k = cnt[(ln.acct, ln.date)]
        if ln.acct in pre:
            ln.ref = f"{pre[ln.acct]}{ln.date:%y%m%d}{k:05d}"
        elif ln.acct == "DE_EUR":
            ln.ref = f"CB{ln.date:%y%m%d}{k:08d}"
        else:
            ln.ref = f"SG{ln.date:%y%m%d}{k:08d}"
        assert len(ln.ref) <= 16


def E(parent, tag, text=None, **attrib):
    el = etree.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def camt_write(path, key, days, version):
    ib, ccy, bic, _ = ACCOUNTS[key]
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    root = etree.Element(
        "Document", nsmap={None: ns, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    )
    b = E(root, "BkToCstmrStmt")
    first = days[0][0]
    gh = E(b, "GrpHdr")
    E(gh, "MsgId", f"{key}-{first:%Y%m}")
    E(gh, "CreDtTm", f"{days[-1][0]:%Y-%m-%d}T21:30:00")
    v8 = version == "08"
    for day, lines, opening, closing, seqno in days:
        st = E(b, "Stmt")
        E(st, "Id", f"{key}-{day:%Y%m%d}")
        E(st, "ElctrncSeqNb", str(seqno))
        E(st, "CreDtTm", f"{day:%Y-%m-%d}T21:30:00")
        fr = E(st, "FrToDt")
        E(fr, "FrDtTm", f"{day:%Y-%m-%d}T00:00:00")
        E(fr, "ToDtTm", f"{day:%Y-%m-%d}T23:59:59")
        ac = E(st, "Acct")
        E(E(ac, "Id"), "IBAN", ib)
        E(ac, "Ccy", ccy)
        E(ac, "Ownr").append(etree.fromstring(f"<Nm xmlns='{ns}'>{SELLER}</Nm>"))
        fi = E(E(ac, "Svcr"), "FinInstnId")
        E(fi, "BICFI" if v8 else "BIC", bic)
        for code, amt in (("OPBD", opening), ("CLBD", closing)):
            bal = E(st, "Bal")
            E(E(E(bal, "Tp"), "CdOrPrtry"), "Cd", code)
            E(bal, "Amt", money(abs(amt)), Ccy=ccy)
            E(bal, "CdtDbtInd", "CRDT" if amt >= 0 else "DBIT")
            E(E(bal, "Dt"), "Dt", f"{day:%Y-%m-%d}")
        ts = E(st, "TxsSummry")
        tt = E(ts, "TtlNtries")
        E(tt, "NbOfNtries", str(len(lines)))
        for ln in lines:
            n = E(st, "Ntry")
            E(n, "NtryRef", ln.ref[-10:])
            E(n, "Amt", money(abs(ln.cents)), Ccy=ccy)
            E(n, "CdtDbtInd", "CRDT" if ln.cents > 0 else "DBIT")
            if ln.rtr:
                E(n, "RvslInd", "false")
            if v8:
                E(E(n, "Sts"), "Cd", "BOOK")
            else:
                E(n, "Sts", "BOOK")
            E(E(n, "BookgDt"), "Dt", f"{ln.date:%Y-%m-%d}")
            E(E(n, "ValDt"), "Dt", f"{ln.vdate:%Y-%m-%d}")
            E(n, "AcctSvcrRef", ln.ref)
            btc(n, ln.code)
            nd = E(n, "NtryDtls")
            if ln.batch is not None:
                bt = E(nd, "Btch")
                E(bt, "PmtInfId", ln.pmtinf)
                E(bt, "NbOfTxs", str(len(ln.batch)))
                E(bt, "TtlAmt", money(abs(ln.cents)), Ccy=ccy)
                E(bt, "CdtDbtInd", "CRDT" if ln.cents > 0 else "DBIT")
                if ln.details:
                    for i, s in enumerate(ln.batch, 1):
                        camt_tx(nd, s, ccy, v8, f"{ln.ref}-{i}", ln.pmtinf)
            else:
                camt_tx(nd, ln, ccy, v8, None, ln.pmtinf)
            if ln.batch is not None and not ln.details:
                E(
                    n,
                    "AddtlNtryInf",
                    f"SEPA DIRECT DEBIT COLLECTION {ln.pmtinf} {len(ln.batch)} TRANSACTIONS"
                    if ln.cents > 0
                    else "BATCH",
                )
    etree.ElementTree(root).write(path, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def btc(parent, code):
    dom, fam, sub = (code.split("/") + ["", ""])[:3] if "/" in code else ("PMNT", "RCDT", "ESCT")
    bt = E(parent, "BkTxCd")
    d = E(bt, "Domn")
    E(d, "Cd", dom)
    f = E(d, "Fmly")
    E(f, "Cd", fam)
    E(f, "SubFmlyCd", sub)


def camt_tx(nd, ln, ccy, v8, ref, pmtinf):
    tx = E(nd, "TxDtls")
    rf = E(tx, "Refs")
    if ref:
        E(rf, "AcctSvcrRef", ref)
    if pmtinf:
        E(rf, "PmtInfId", pmtinf)
    E(rf, "EndToEndId", ln.e2e or "NOTPROVIDED")
    if ln.mndt:
        E(rf, "MndtId", ln.mndt)
    if v8:
        E(tx, "Amt", money(abs(ln.cents)), Ccy=ccy)
        E(tx, "CdtDbtInd", "CRDT" if ln.cents > 0 else "DBIT")
    else:
        ad = E(tx, "AmtDtls")
        E(E(ad, "TxAmt"), "Amt", money(abs(ln.cents)), Ccy=ccy)
    if ln.name or ln.piban:
        rp = E(tx, "RltdPties")
        other = "Dbtr" if ln.cents > 0 else "Cdtr"
        if ln.name:
            p = E(rp, other)
            E(E(p, "Pty") if v8 else p, "Nm", ln.name)
        if ln.piban:
            E(E(E(rp, other + "Acct"), "Id"), "IBAN", ln.piban)
        if ln.pbic:
            ra = E(tx, "RltdAgts")
            E(E(E(ra, other + "Agt"), "FinInstnId"), "BICFI" if v8 else "BIC", ln.pbic)
    if ln.ustrd or ln.strd or ln.cref:
        ri = E(tx, "RmtInf")
        if ln.ustrd:
            E(ri, "Ustrd", ln.ustrd[:140])
        for s in ln.strd:
            sd = E(ri, "Strd")
            di = E(sd, "RfrdDocInf")
            E(E(E(di, "Tp"), "CdOrPrtry"), "Cd", s["tp"])
            E(di, "Nb", s["nb"])
            E(di, "RltdDt", f"{s['dt']:%Y-%m-%d}")
            am = E(sd, "RfrdDocAmt")
            if s["tp"] == "CREN" and s.get("style") == "CdtNoteAmt":
                E(am, "CdtNoteAmt", money(s["amt"]), Ccy=s["ccy"])
            else:
                E(am, "RmtdAmt", money(s["amt"]), Ccy=s["ccy"])
        if ln.cref:
            sd = E(ri, "Strd")
            cr = E(sd, "CdtrRefInf")
            tp = E(cr, "Tp")
            E(E(tp, "CdOrPrtry"), "Cd", "SCOR")
            E(tp, "Issr", ln.cref[1])
            E(cr, "Ref", ln.cref[0])
    if ln.rtr:
        rt = E(tx, "RtrInf")
        E(E(rt, "Rsn"), "Cd", ln.rtr[0])
        E(rt, "AddtlInf", ln.rtr[1])


def mt940_amount(c):
    return f"{abs(c) // 100},{abs(c) % 100:02d}"


def mt940_write(path, days):
    ib, ccy, bic, _ = ACCOUNTS["DE_EUR"]
    out = []
    for day, lines, opening, closing, seqno in days:
        out.append(
            "{1:F01COBADEFFAXXX0000000000}{2:O9401200"
            + f"{day:%y%m%d}"
            + "COBADEFFAXXX00000000000000000000N}{4:"
        )
        out.append(f":20:STARTUMS{day:%y%m%d}")
        out.append(f":25:{ib}")
        out.append(f":28C:{seqno:05d}/001")
        out.append(f":60F:{'C' if opening >= 0 else 'D'}{day:%y%m%d}{ccy}{mt940_amount(opening)}")
        for ln in lines:
            typ = (
                "NTRF"
                if ln.kind not in ("bank_fee", "interest")
                else ("NCHG" if ln.kind == "bank_fee" else "NINT")
            )
            cref = (ln.e2e or "NONREF")[:16]
            out.append(
                f":61:{ln.vdate:%y%m%d}{ln.date:%m%d}{'C' if ln.cents > 0 else 'D'}{mt940_amount(ln.cents)}{typ}{cref}//{ln.ref}"
            )
            gvc = {"bank_fee": "805", "interest": "805"}.get(
                ln.kind, "166" if ln.cents > 0 else "177"
            )
            title = {"805": "ABSCHLUSS", "166": "SEPA-UEBERWEISUNG", "177": "SEPA-UEBERWEISUNG"}[
                gvc
            ]
            subs = [f"?00{title}", "?109310"]
            txt = ln.ustrd or ""
            if ln.cents > 0 and gvc == "166":
                txt = "SVWZ+" + txt
            chunks = [txt[i : i + 27] for i in range(0, len(txt), 27)][:9] or [""]
            if ln.cents > 0 and gvc == "166":
                chunks = [f"EREF+{ln.e2e or 'NOTPROVIDED'}"[:27]] + chunks
            for i, ch in enumerate(chunks):
                subs.append(f"?{20 + i}{ch}")
            if ln.pbic:
                subs.append(f"?30{ln.pbic}")
            if ln.piban:
                subs.append(f"?31{ln.piban}")
            if ln.name:
                nm = strip_accents(translit_de(ln.name)).upper()
                subs.append(f"?32{nm[:27]}")
                if len(nm) > 27:
                    subs.append(f"?33{nm[27:54]}")
            subs.append("?34997" if gvc != "805" else "?34000")
            body = gvc + "".join(subs)
            first = True
            while body:
                out.append((":86:" if first else "") + body[: 65 if first else 65])
                body = body[65:]
                first = False
        out.append(f":62F:{'C' if closing >= 0 else 'D'}{day:%y%m%d}{ccy}{mt940_amount(closing)}")
        out.append("-}")
    with open(path, "w", encoding="latin-1", newline="\r\n") as f:
        f.write(strip_accents("\n".join(out)) + "\n")


CF_POS = "{ABCDEFGHI"
CF_NEG = "}JKLMNOPQR"


def cf_amount(c):
    s = f"{abs(c):014d}"
    return s[:-1] + (CF_POS if c >= 0 else CF_NEG)[int(s[-1])]


def cf_text(s, n):
    s = strip_accents(s or "").upper()
    s = "".join(ch if 32 <= ord(ch) < 127 else " " for ch in s)
    return s[:n].ljust(n)


def cfonb_write(path, days):
    out = []
    acc = FR_ACCOUNT
    for day, lines, opening, closing, seqno in days:
        prev = day - dt.timedelta(days=1)
        out.append(
            f"01{FR_BANK}    {FR_GUICHET}EUR2 {acc}  {prev:%d%m%y}"
            + " " * 50
            + cf_amount(opening)
            + " " * 16
        )
        for k, ln in enumerate(lines, 1):
            code = {
                "cheque_remittance": "15",
                "bank_fee": "11",
                "supplier_payment": "06",
                "tax_refund": "05",
            }.get(ln.kind, "05")
            label = ln.label or ("VIR SEPA RECU " + (ln.name or ""))
            head = f"{FR_BANK}00{code}{FR_GUICHET}EUR2 {acc}{code}{ln.date:%d%m%y}"
            rec = f"04{head}  {ln.vdate:%d%m%y}{cf_text(label, 31)}  {k:07d}  {cf_amount(ln.cents)}{ln.ref:<16}"
            out.append(rec)
            ext = []
            if ln.ustrd and ln.kind not in ("bank_fee",):
                t = cf_text(ln.ustrd, 140).rstrip()
                ext += [("LIB", t[i : i + 70]) for i in range(0, len(t), 70)]
            if ln.name and ln.cents > 0:
                ext.append(("NPY", ln.name))
            if ln.e2e:
                ext.append(("RCN", ln.e2e))
            for q, t in ext:
                out.append(f"05{head}     {q}{cf_text(t, 70)}  ")
        out.append(
            f"07{FR_BANK}    {FR_GUICHET}EUR2 {acc}  {day:%d%m%y}"
            + " " * 50
            + cf_amount(closing)
            + " " * 16
        )
    with open(path, "w", encoding="latin-1", newline="\r\n") as f:
        f.write("\n".join(out) + "\n")


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--invoices", type=int, default=1500)
    a = ap.parse_args(argv)
    r = random.Random(a.seed)
    n_cust = max(40, a.invoices // 11)
    customers = make_customers(r, n_cust)
    docs = make_invoices(r, customers, a.invoices)
    lines = make_lines(r, customers, docs) + noncustomer_lines(r)
    lines = [ln for ln in lines if Y0 <= ln.date <= Y1]
    # credit notes fully consumed by a partial refund are not needed; keep order deterministic
    for i, ln in enumerate(lines):
        ln.gen = i
    lines.sort(key=lambda ln: (ln.date, ACCT_ORDER.index(ln.acct), ln.cents < 0, ln.gen))
    assign_refs(lines)

    ctl = Controller(docs)
    for ln in lines:
        ln.expected, ln.why = ctl.decide(ln)
        ctl.apply(ln)

    os.makedirs(os.path.join(a.out_dir, "statements"), exist_ok=True)
    # customers.csv / invoices.csv
    with open(os.path.join(a.out_dir, "customers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "customer_id",
                "name",
                "email",
                "iban",
                "siren",
                "vat_number",
                "language",
                "legal_entity",
                "address_line1",
                "postal_code",
                "city",
                "country",
            ]
        )
        for cu in customers:
            w.writerow(
                [
                    cu.id,
                    cu.name,
                    cu.email,
                    cu.iban if cu.iban_on_file else "",
                    cu.siren,
                    cu.vat,
                    cu.lang if cu.lang in ("fr", "en") else ("en" if cu.lang != "fr" else "fr"),
                    cu.form,
                    cu.street,
                    cu.postal,
                    cu.city,
                    ISO_CTRY.get(cu.country, cu.country),
                ]
            )
    with open(os.path.join(a.out_dir, "invoices.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "invoice_id",
                "customer_id",
                "customer_name",
                "issue_date",
                "due_date",
                "currency",
                "amount_total",
                "document_type",
                "reference",
                "amount_paid",
                "status",
                "customer_email",
                "customer_iban",
                "customer_siren",
                "customer_vat",
                "language",
                "po_number",
                "legal_entity",
                "customer_address_line1",
                "customer_postal_code",
                "customer_city",
                "customer_country",
            ]
        )
        for d in docs:
            cu = d.cust
            w.writerow(
                [
                    d.id,
                    cu.id,
                    cu.name,
                    d.issue.isoformat(),
                    d.due.isoformat(),
                    cu.currency,
                    money(d.cents),
                    d.type,
                    d.ref,
                    "0.00",
                    "open",
                    cu.email,
                    cu.iban if cu.iban_on_file else "",
                    cu.siren,
                    cu.vat,
                    "fr" if cu.lang == "fr" else "en",
                    f"PO-{d.issue:%y%m}-{cu.num:03d}" if r.random() < 0.3 else "",
                    cu.form,
                    cu.street,
                    cu.postal,
                    cu.city,
                    ISO_CTRY.get(cu.country, cu.country),
                ]
            )

    # statements: one file a month and account, one statement a booking day
    files = {}
    by_acct_day = defaultdict(list)
    for ln in lines:
        by_acct_day[(ln.acct, ln.date)].append(ln)
    problems = []
    for key in ACCT_ORDER:
        bal = OPENING[key]
        seqno = 0
        months = defaultdict(list)
        for (k, day), lst in sorted(by_acct_day.items()):
            if k != key:
                continue
            seqno += 1
            opening = bal
            bal += sum(x.cents for x in lst)
            months[day.month].append((day, lst, opening, bal, seqno))
        fmt = ACCOUNTS[key][3]
        for m, days in sorted(months.items()):
            if fmt.startswith("camt"):
                name = f"{key.lower()}_camt053_{YEAR}{m:02d}.xml"
                camt_write(
                    os.path.join(a.out_dir, "statements", name),
                    key,
                    days,
                    "08" if fmt == "camt08" else "02",
                )
            elif fmt == "mt940":
                name = f"{key.lower()}_mt940_{YEAR}{m:02d}.sta"
                mt940_write(os.path.join(a.out_dir, "statements", name), days)
            else:
                name = f"{key.lower()}_cfonb120_{YEAR}{m:02d}.txt"
                cfonb_write(os.path.join(a.out_dir, "statements", name), days)
            for _, lst, _, _, _ in days:
                for ln in lst:
                    ln.file = name
            files[name] = (fmt, days)

    # ground truth
    gt_rows = []
    for ln in lines:
        ib, ccy = ACCOUNTS[ln.acct][0], ACCOUNTS[ln.acct][1]
        alloc = [{"invoice_id": did, "amount": money(c)} for did, c in ln.alloc]
        note = "; ".join(x for x in (ln.note, ln.why) if x)
        gt_rows.append(
            [
                ib,
                ccy,
                ln.file,
                ln.date.isoformat(),
                money(ln.cents),
                ln.ref,
                ln.kind,
                ln.expected,
                json.dumps(alloc, ensure_ascii=False),
                note,
            ]
        )
    with open(os.path.join(a.out_dir, "ground_truth.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "account_iban",
                "currency",
                "statement_file",
                "booking_date",
                "amount",
                "bank_reference",
                "case_kind",
                "expected",
                "allocations",
                "note",
            ]
        )
        w.writerows(gt_rows)
    summ = defaultdict(Counter)
    for ln in lines:
        summ[ln.kind][ln.expected] += 1
    summary = {
        "seed": a.seed,
        "invoices": a.invoices,
        "customers": len(customers),
        "documents": len(docs),
        "statement_lines": len(lines),
        "expected": dict(Counter(ln.expected for ln in lines)),
        "case_kinds": {k: dict(sorted(v.items())) for k, v in sorted(summ.items())},
    }
    with open(os.path.join(a.out_dir, "expected_summary.json"), "w") as f:
        json.dump(summary, f, indent=2, sort_keys=False)

    problems += self_check(a.out_dir, files, lines, docs, customers)
    if problems:
        for p in problems[:40]:
            print("CHECK FAILED:", p, file=sys.stderr)
        return 1
    print(
        f"{len(docs)} documents, {len(customers)} customers, {len(lines)} booked lines in {len(files)} statement files "
        f"({summary['expected']}); checks passed"
    )
    return 0


def self_check(out, files, lines, docs, customers):
    problems = []
    schemas = {}
    for v in ("02", "08"):
        p = os.path.join(XSD_DIR, f"camt.053.001.{v}.xsd")
        if os.path.exists(p):
            schemas[v] = etree.XMLSchema(etree.parse(p))
        else:
            problems.append(f"schema {p} missing")
    ids = Counter(ln.ref for ln in lines)
    problems += [f"bank reference {k} used {n} times" for k, n in ids.items() if n > 1]
    want = defaultdict(list)
    for ln in lines:
        want[ln.file].append(ln.ref)
    for name, (fmt, days) in files.items():
        path = os.path.join(out, "statements", name)
        with open(
            path, encoding="latin-1" if not fmt.startswith("camt") else "utf-8", newline=""
        ) as f:
            raw = f.read()
        if fmt.startswith("camt"):
            got = [
                e.findtext("{*}AcctSvcrRef") for e in etree.fromstring(raw.encode()).iter("{*}Ntry")
            ]
        elif fmt == "mt940":
            got = [
                x.split("//")[1].split("\r")[0] for x in raw.split("\r\n") if x.startswith(":61:")
            ]
        else:
            got = [x[104:120].strip() for x in raw.split("\r\n") if x.startswith("04")]
        if got != want[name]:
            problems.append(f"{name}: booked lines in the file differ from ground_truth.csv")
        if fmt.startswith("camt"):
            v = "08" if fmt == "camt08" else "02"
            doc = etree.parse(path)
            if v in schemas and not schemas[v].validate(doc):
                problems.append(f"{name}: {schemas[v].error_log.last_error}")
            ns = {"c": doc.getroot().nsmap[None]}
            for st in doc.getroot().iterfind(".//c:Stmt", ns):

                def bal(code):
                    b = st.xpath(f"c:Bal[c:Tp/c:CdOrPrtry/c:Cd='{code}']", namespaces=ns)[0]
                    c = int(round(float(b.findtext("c:Amt", namespaces=ns)) * 100))
                    return c if b.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -c

                mov = 0
                for n in st.iterfind("c:Ntry", ns):
                    c = int(round(float(n.findtext("c:Amt", namespaces=ns)) * 100))
                    mov += c if n.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -c
                    bt = n.find("c:NtryDtls/c:Btch", ns)
                    txs = n.findall("c:NtryDtls/c:TxDtls", ns)
                    if bt is not None and txs:
                        tot = sum(
                            int(
                                round(
                                    float(
                                        t.findtext("c:Amt", namespaces=ns)
                                        or t.findtext("c:AmtDtls/c:TxAmt/c:Amt", namespaces=ns)
                                    )
                                    * 100
                                )
                            )
                            for t in txs
                        )
                        if tot != c:
                            problems.append(
                                f"{name}: batch {n.findtext('c:AcctSvcrRef', namespaces=ns)} details do not add up"
                            )
                if bal("OPBD") + mov != bal("CLBD"):
                    problems.append(
                        f"{name}: statement {st.findtext('c:Id', namespaces=ns)} does not balance"
                    )
        elif fmt == "cfonb":
            with open(path, encoding="latin-1", newline="") as f:
                recs = f.read().split("\r\n")[:-1]
            cur = None

            def amt(rec):
                s = rec[90:104]
                last = s[-1]
                if last in CF_POS:
                    return int(s[:-1] + str(CF_POS.index(last)))
                return -int(s[:-1] + str(CF_NEG.index(last)))

            for rec in recs:
                if len(rec) != 120:
                    problems.append(f"{name}: record of {len(rec)} columns: {rec[:30]}")
                    continue
                if rec[:2] == "01":
                    cur = amt(rec)
                elif rec[:2] == "04":
                    cur += amt(rec)
                elif rec[:2] == "07":
                    if cur != amt(rec):
                        problems.append(f"{name}: day {rec[34:40]} does not balance")
        else:
            with open(path, encoding="latin-1", newline="") as f:
                txt = f.read()
            for block in txt.split("-}")[:-1]:
                op = cl = None
                mov = 0
                for line in block.split("\r\n"):
                    if line.startswith(":60F:") or line.startswith(":62F:"):
                        v = int(line[15:].replace(",", ""))
                        v = v if line[5] == "C" else -v
                        if line.startswith(":60F:"):
                            op = v
                        else:
                            cl = v
                    elif line.startswith(":61:"):
                        s = line[14:]
                        sign = 1 if s[0] == "C" else -1
                        num = ""
                        for ch in s[1:]:
                            if ch.isdigit() or ch == ",":
                                num += ch
                            else:
                                break
                        mov += sign * int(num.replace(",", ""))
                if op is None or op + mov != cl:
                    problems.append(f"{name}: an MT940 statement does not balance")
    for cu in customers:
        if not iban_ok(cu.iban):
            problems.append(f"bad IBAN {cu.iban}")
    for ib, *_r in ACCOUNTS.values():
        if not iban_ok(ib):
            problems.append(f"bad account IBAN {ib}")
    for d in docs:
        if d.ref.startswith("RF") and not rf_ok(d.ref):
            problems.append(f"bad RF {d.ref}")
        if d.ref.startswith("+++") and not ogm_ok("".join(c for c in d.ref if c.isdigit())):
            problems.append(f"bad structured communication {d.ref}")
    for ln in lines:
        tot = sum(c for _, c in ln.alloc)
        if ln.kind in ("rounded_up", "bank_fee_deducted", "duplicate_payment"):
            continue
        if ln.alloc and tot != ln.cents:
            problems.append(f"{ln.ref} {ln.kind}: allocations {tot} != amount {ln.cents}")
    ids = [d.id for d in docs]
    if len(ids) != len(set(ids)):
        problems.append("duplicate invoice ids")
    return problems


if __name__ == "__main__":
    sys.exit(main())
