"""Seeded generator of one French B2B seller's year, for judging a receivables matcher.

Writes the ERP exports (customers.csv, invoices.csv), the bank statements of five bank
relationships (camt.053.001.08, camt.053.001.02, MT940 German and Dutch style, CFONB 120) and
the ground truth a careful credit controller would produce, line by line.

    python benchmarks/independent_company/generate.py OUT_DIR --seed 1 --invoices 1500

Written from the standards and from how French/European customers and banks behave; it shares
no code with the engine it judges. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

YEAR = 2026
START = dt.date(YEAR, 1, 1)
END = dt.date(YEAR, 12, 31)
# TARGET2 closing days: no SEPA booking on these.
HOLIDAYS = {
    dt.date(2026, 1, 1),
    dt.date(2026, 4, 3),
    dt.date(2026, 4, 6),
    dt.date(2026, 5, 1),
    dt.date(2026, 12, 25),
    dt.date(2026, 12, 26),
}
DAY = dt.timedelta(days=1)

# --------------------------------------------------------------------------------------------
# check digits


def _digits(s: str) -> str:
    """Letters to numbers as ISO 13616 / ISO 11649 do (A=10 .. Z=35)."""
    return "".join(str(int(ch, 36)) for ch in s)


def make_iban(country: str, bban: str) -> str:
    check = 98 - int(_digits(bban + country + "00")) % 97
    return f"{country}{check:02d}{bban}"


def make_rf(body: str) -> str:
    """ISO 11649 creditor reference: RF + 2 check digits (ISO 7064 mod 97-10) + body."""
    check = 98 - int(_digits(body.upper() + "RF00")) % 97
    return f"RF{check:02d}{body.upper()}"


def rf_is_valid(ref: str) -> bool:
    ref = ref.replace(" ", "").upper()
    return int(_digits(ref[4:] + ref[:4])) % 97 == 1


def luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def fr_rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def fr_iban(bank: str, branch: str, account: str) -> str:
    return make_iban("FR", bank + branch + account + fr_rib_key(bank, branch, account))


def fr_vat(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def de_vat(rnd: random.Random) -> str:
    body = "".join(rnd.choice("0123456789") for _ in range(8))
    body = str(rnd.randint(1, 9)) + body[1:]
    product = 10
    for ch in body:
        s = (int(ch) + product) % 10 or 10
        product = (2 * s) % 11
    return f"DE{body}{(11 - product) % 10}"


def strip_accents(s: str) -> str:
    s = s.replace("ß", "ss").replace("Æ", "AE").replace("æ", "ae").replace("Ø", "O")
    s = s.replace("ø", "o").replace("Œ", "OE").replace("œ", "oe")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def money_fr(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    units = f"{cents // 100:,}".replace(",", " ")
    return f"{sign}{units},{cents % 100:02d}"


# --------------------------------------------------------------------------------------------
# the seller and its banks

SELLER = "Lumenor Industrie SAS"
SELLER_SIREN = luhn_complete("81245637")


@dataclass
class Account:
    key: str
    fmt: str  # camt08 | camt02 | mt940_de | mt940_nl | cfonb
    iban: str
    bic: str
    bank: str
    ccy: str
    opening: int
    fr_parts: tuple[str, str, str] | None = None


def make_accounts() -> dict[str, Account]:
    accts = [
        Account(
            "main",
            "camt08",
            fr_iban("30004", "00823", "00010427135"),
            "BNPAFRPPXXX",
            "BNP Paribas",
            "EUR",
            18_452_310,
            ("30004", "00823", "00010427135"),
        ),
        Account(
            "cfonb",
            "cfonb",
            fr_iban("18206", "00010", "65123409871"),
            "AGRIFRPP882",
            "Credit Agricole Paris",
            "EUR",
            6_230_455,
            ("18206", "00010", "65123409871"),
        ),
        Account(
            "hsbc_eur",
            "camt02",
            fr_iban("30056", "00148", "01480012345"),
            "CCFRFRPPXXX",
            "HSBC Continental Europe",
            "EUR",
            4_120_000,
        ),
        Account(
            "hsbc_usd",
            "camt02",
            fr_iban("30056", "00148", "01480012346"),
            "CCFRFRPPXXX",
            "HSBC Continental Europe",
            "USD",
            1_250_000,
        ),
        Account(
            "hsbc_gbp",
            "camt02",
            fr_iban("30056", "00148", "01480012347"),
            "CCFRFRPPXXX",
            "HSBC Continental Europe",
            "GBP",
            830_000,
        ),
        Account(
            "hsbc_chf",
            "camt02",
            fr_iban("30056", "00148", "01480012348"),
            "CCFRFRPPXXX",
            "HSBC Continental Europe",
            "CHF",
            960_000,
        ),
        Account(
            "de",
            "mt940_de",
            make_iban("DE", "50040000" + "0612345600"),
            "COBADEFFXXX",
            "Commerzbank",
            "EUR",
            2_745_120,
        ),
        Account(
            "nl",
            "mt940_nl",
            make_iban("NL", "INGB" + "0006543210"),
            "INGBNL2A",
            "ING Bank",
            "EUR",
            1_980_400,
        ),
    ]
    return {a.key: a for a in accts}


# --------------------------------------------------------------------------------------------
# customers

FR_ACT = [
    "Menuiserie",
    "Transports",
    "Électricité",
    "Ateliers",
    "Imprimerie",
    "Garage",
    "Laboratoires",
    "Boulangerie Industrielle",
    "Bâtiment",
    "Plomberie",
    "Métallerie",
    "Éditions",
    "Hôtellerie",
    "Distribution",
    "Charpente",
    "Carrosserie",
    "Froid Industriel",
    "Logistique",
    "Papeterie",
    "Agencement",
    "Éclairage",
    "Maintenance",
]
FR_SURN = [
    "Dubois",
    "Lefèvre",
    "Bénard",
    "Gérard",
    "Moreau",
    "Rousseau",
    "Chevalier",
    "Girard",
    "Lemaître",
    "Noël",
    "Béranger",
    "Faure",
    "Mercier",
    "Blanchard",
    "Guérin",
    "Perrin",
    "Roche",
    "Clément",
    "Aubert",
    "Hébert",
    "Lacroix",
    "Fontaine",
    "Barbier",
    "Morel",
    "Legrand",
    "Garnier",
    "Brunet",
    "Rivière",
    "Leclerc",
    "Dupré",
    "Chauvin",
    "Marchand",
    "Picard",
    "Renaud",
    "Boyer",
    "Prévost",
    "Carré",
    "Ménard",
    "Collet",
    "Vasseur",
    "Delmas",
    "Février",
    "Joubert",
    "Lambert",
    "Masson",
]
FR_PLACE = [
    "du Vexin",
    "de l'Ouest",
    "Normandie",
    "Atlantique",
    "des Alpes",
    "Provence",
    "Île-de-France",
    "du Rhône",
    "Bourgogne",
    "de Bretagne",
    "Occitanie",
    "du Nord",
    "Champagne",
    "Val de Loire",
    "Côte d'Azur",
    "Lorraine",
    "d'Aquitaine",
]
FR_CITIES = [
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13008", "Marseille"),
    ("31000", "Toulouse"),
    ("44000", "Nantes"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("67000", "Strasbourg"),
    ("35000", "Rennes"),
    ("76000", "Rouen"),
    ("21000", "Dijon"),
    ("37000", "Tours"),
    ("95300", "Pontoise"),
    ("38000", "Grenoble"),
    ("51100", "Reims"),
    ("06000", "Nice"),
]
FR_LEGAL = [("SAS", 45), ("SARL", 30), ("SA", 10), ("SASU", 8), ("EURL", 5), ("SNC", 2)]
FR_BANKS = [
    ("30004", "BNPAFRPPXXX"),
    ("30003", "SOGEFRPPXXX"),
    ("30002", "CRLYFRPPXXX"),
    ("10278", "CMCIFR2AXXX"),
    ("30066", "CMCIFRPPXXX"),
    ("16006", "AGRIFRPP860"),
    ("13507", "CCBPFRPPLIL"),
    ("18706", "AGRIFRPP887"),
    ("20041", "PSSTFRPPPAR"),
    ("17515", "CEPAFRPP751"),
]
FOREIGN = {
    "DE": (
        [
            "Müller",
            "Schäfer",
            "Schneider",
            "Weiß",
            "Köhler",
            "Becker",
            "Hoffmann",
            "Krüger",
            "Wagner",
            "Zimmermann",
            "Schröder",
            "Braun",
        ],
        [
            "Maschinenbau",
            "Logistik",
            "Elektrotechnik",
            "Anlagenbau",
            "Haustechnik",
            "Metallbau",
            "Handel",
            "Systeme",
        ],
        [("GmbH", 70), ("AG", 10), ("GmbH & Co. KG", 20)],
        [("60311", "Frankfurt am Main"), ("80331", "München"), ("50667", "Köln")],
    ),
    "AT": (
        ["Gruber", "Huber", "Bauer", "Pichler"],
        ["Haustechnik", "Bau", "Elektro"],
        [("GmbH", 100)],
        [("1010", "Wien"), ("8010", "Graz")],
    ),
    "NL": (
        [
            "Van der Berg",
            "De Vries",
            "Jansen",
            "Bakker",
            "Visser",
            "Smit",
            "Van Dijk",
            "De Boer",
            "Mulder",
            "Van Leeuwen",
        ],
        ["Techniek", "Installatie", "Bouw", "Groothandel", "Verlichting", "Logistiek"],
        [("B.V.", 60), ("BV", 40)],
        [("1012", "Amsterdam"), ("3011", "Rotterdam"), ("3511", "Utrecht")],
    ),
    "BE": (
        ["Peeters", "Janssens", "Maes", "Dubois", "Lambert", "Claes"],
        ["Bouw", "Technics", "Électricité", "Services"],
        [("NV", 40), ("SRL", 30), ("BV", 30)],
        [("1000", "Bruxelles"), ("2000", "Antwerpen"), ("4000", "Liège")],
    ),
    "ES": (
        ["García", "Martínez", "López", "Sánchez", "Fernández", "Núñez"],
        ["Construcciones", "Instalaciones", "Suministros", "Iluminación"],
        [("SL", 60), ("S.L.", 20), ("SA", 20)],
        [("28001", "Madrid"), ("08002", "Barcelona")],
    ),
    "IT": (
        ["Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Colombo"],
        ["Impianti", "Costruzioni", "Elettrica", "Forniture"],
        [("S.r.l.", 75), ("SpA", 25)],
        [("20121", "Milano"), ("10121", "Torino")],
    ),
    "GB": (
        ["Hartley", "Whitfield", "Ashworth", "Pemberton", "Caldwell", "Fairbairn"],
        ["Engineering", "Lighting", "Facilities", "Building Services"],
        [("Ltd", 80), ("Limited", 20)],
        [("EC1A 1BB", "London"), ("M1 1AE", "Manchester")],
    ),
    "CH": (
        ["Brunner", "Keller", "Meier", "Favre", "Rochat", "Baumann"],
        ["Elektro", "Technik", "Bau", "Énergie"],
        [("AG", 60), ("SA", 25), ("Sàrl", 15)],
        [("8001", "Zürich"), ("1204", "Genève"), ("1003", "Lausanne")],
    ),
    "US": (
        ["Summit", "Lakeside", "Pioneer", "Redwood", "Atlas", "Keystone"],
        ["Lighting", "Supply", "Industries", "Facilities"],
        [("Inc.", 70), ("LLC", 30)],
        [("10001", "New York"), ("60601", "Chicago")],
    ),
}
FOREIGN_BANKS = {
    "DE": [("37040044", "COBADEFFXXX"), ("10070000", "DEUTDEBBXXX"), ("70150000", "SSKMDEMMXXX")],
    "AT": [("12000", "BKAUATWWXXX"), ("20111", "GIBAATWWXXX")],
    "NL": [("ABNA", "ABNANL2A"), ("RABO", "RABONL2U"), ("INGB", "INGBNL2A"), ("KNAB", "KNABNL2H")],
    "BE": [("001", "GEBABEBB"), ("310", "BBRUBEBB"), ("068", "GKCCBEBB")],
    "ES": [("21000418", "CAIXESBBXXX"), ("00490075", "BSCHESMMXXX")],
    "IT": [("0306909606", "BCITITMMXXX"), ("0200801633", "UNCRITMMXXX")],
    "GB": [("BARC200000", "BARCGB22XXX"), ("NWBK601613", "NWBKGB2LXXX")],
    "CH": [("00762", "UBSWCHZH80A"), ("04835", "CRESCHZZ80A")],
}
COUNTRY_W = [
    ("FR", 680),
    ("DE", 70),
    ("AT", 10),
    ("NL", 50),
    ("BE", 50),
    ("ES", 30),
    ("IT", 30),
    ("GB", 30),
    ("CH", 30),
    ("US", 20),
]
LANG_TEXT = {
    "FR": "fr",
    "BE": "fr",
    "CH": "fr",
    "DE": "de",
    "AT": "de",
    "NL": "nl",
    "ES": "es",
    "IT": "it",
    "GB": "en",
    "US": "en",
}
LEGAL_FORMS = [
    "GmbH & Co. KG",
    "GmbH",
    "SASU",
    "SARL",
    "SAS",
    "EURL",
    "SNC",
    "SA",
    "AG",
    "B.V.",
    "BV",
    "NV",
    "SRL",
    "S.r.l.",
    "SpA",
    "S.L.",
    "SL",
    "Ltd",
    "Limited",
    "Inc.",
    "LLC",
    "Sàrl",
]
STREETS = {
    "DE": ["Hauptstraße", "Industriestraße", "Bahnhofstraße"],
    "AT": ["Hauptstraße", "Gewerbepark"],
    "NL": ["Kerkstraat", "Industrieweg", "Stationsplein"],
    "BE": ["Rue de la Loi", "Industrielaan", "Kerkstraat"],
    "ES": ["Calle Mayor", "Avenida de la Industria"],
    "IT": ["Via Roma", "Via Garibaldi", "Viale dell'Industria"],
    "GB": ["High Street", "Station Road", "Mill Lane"],
    "CH": ["Bahnhofstrasse", "Rue du Rhône", "Industriestrasse"],
    "US": ["Main Street", "Industrial Parkway", "Commerce Drive"],
}
FACTORS = [
    "BNP PARIBAS FACTOR",
    "CIC FACTOR SOLUTIONS",
    "EUROFACTOR",
    "SG FACTORING",
    "BPCE FACTOR",
]


def weighted(rnd: random.Random, pairs):
    total = sum(w for _, w in pairs)
    x = rnd.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


def split_legal(name: str) -> tuple[str, str]:
    for lf in LEGAL_FORMS:
        if name.endswith(" " + lf):
            return name[: -len(lf) - 1], lf
    return name, ""


@dataclass
class Customer:
    num: int
    id: str
    name: str
    country: str
    lang: str  # language of the payer's remittance text
    inv_lang: str  # invoice language column (fr/en)
    ccy: str
    iban_file: str | None
    pay_iban: str | None
    pay_bic: str | None
    siren: str
    vat: str
    email: str
    addr: str
    postal: str
    city: str
    account: str
    printed: str
    style: str
    rf: bool
    sdd: bool
    delay: int
    terms: str
    third: tuple[str, str, str, str] | None  # kind, name, iban, bic
    recurring: int | None
    unpaid_p: float
    weight: float = 1.0
    docs: list = field(default_factory=list)


@dataclass
class Doc:
    cust: Customer
    issue: dt.date
    due: dt.date
    ccy: str
    cents: int
    kind: str  # invoice | credit_note
    legacy: bool = False
    id: str = ""
    serial: int = 0
    rf: str | None = None
    po: str | None = None
    origin: Doc | None = None
    planted: bool = False
    used: bool = False
    min_pay: dt.date | None = None


@dataclass
class Line:
    account: str
    date: dt.date
    cents: int
    case_kind: str
    family: str
    allocs: list[tuple[Doc, int]] = field(default_factory=list)
    payer: Customer | None = None
    payer_name: str | None = None
    payer_iban: str | None = None
    payer_bic: str | None = None
    text: Callable[[], str] | str | None = None
    rf_struct: Doc | None = None
    rfrd: list[tuple[Doc, int]] | None = None
    ultimate: str | None = None
    label: str | None = None
    verify: str = "person"
    meta: dict = field(default_factory=dict)
    expected: str = ""
    note: str = ""
    e2e: str | None = None
    mandate: str | None = None
    bank_ref: str = ""
    parts: list[Line] | None = None
    batch_details: bool = True
    reversal: bool = False
    return_reason: str | None = None
    seq: int = 0
    ustrd: str | None = None


# --------------------------------------------------------------------------------------------
# the generator


class Generator:
    def __init__(self, seed: int, n_invoices: int):
        self.seed = seed
        self.n = n_invoices
        self.rnd = random.Random(seed)
        self.accounts = make_accounts()
        self.customers: list[Customer] = []
        self.docs: list[Doc] = []
        self.lines: list[Line] = []
        self._seq = 0
        self._names: set[str] = set()
        self._bdays = [
            START + i * DAY
            for i in range((END - START).days + 1)
            if (START + i * DAY).weekday() < 5 and START + i * DAY not in HOLIDAYS
        ]

    # ---- dates
    def bday(self, d: dt.date) -> dt.date:
        while d.weekday() >= 5 or d in HOLIDAYS:
            d += DAY
        return d

    def add_bdays(self, d: dt.date, n: int) -> dt.date:
        d = self.bday(d)
        for _ in range(n):
            d = self.bday(d + DAY)
        return d

    # ---- customers
    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(200):
            name = make()
            if name not in self._names:
                self._names.add(name)
                return name
        name = make() + f" {len(self._names)}"
        self._names.add(name)
        return name

    def _fr_name(self) -> str:
        r = self.rnd
        lf = weighted(r, FR_LEGAL)
        pattern = r.random()
        if pattern < 0.35:
            core = f"{r.choice(FR_ACT)} {r.choice(FR_SURN)}"
        elif pattern < 0.55:
            core = f"{r.choice(FR_ACT)} {r.choice(FR_PLACE)}"
        elif pattern < 0.68:
            core = f"{r.choice(FR_SURN)} et Fils"
        elif pattern < 0.8:
            core = f"Établissements {r.choice(FR_SURN)}"
        elif pattern < 0.9:
            core = f"Société Nouvelle {r.choice(FR_ACT)} {r.choice(FR_SURN)}"
        else:
            core = f"{r.choice(FR_SURN)} {r.choice(FR_SURN)} {r.choice(FR_ACT)}"
        return f"{core} {lf}"

    def _foreign_name(self, country: str) -> str:
        surn, act, legal, _ = FOREIGN[country]
        r = self.rnd
        core = (
            f"{r.choice(act)} {r.choice(surn)}"
            if country in ("ES",)
            else (f"{r.choice(surn)} {r.choice(act)}")
        )
        return f"{core} {weighted(r, legal)}"

    def _iban_for(self, country: str) -> tuple[str | None, str | None]:
        r = self.rnd

        def digits(n: int) -> str:
            return "".join(r.choice("0123456789") for _ in range(n))

        if country == "FR":
            bank, bic = r.choice(FR_BANKS)
            return fr_iban(bank, digits(5), digits(11)), bic
        if country == "US":
            return None, "CHASUS33XXX"
        code, bic = r.choice(FOREIGN_BANKS[country])
        if country == "DE":
            return make_iban("DE", code + digits(10)), bic
        if country == "AT":
            return make_iban("AT", code + digits(11)), bic
        if country == "NL":
            return make_iban("NL", code + digits(10)), bic
        if country == "BE":
            first = code + digits(7)
            chk = int(first) % 97 or 97
            return make_iban("BE", f"{first}{chk:02d}"), bic
        if country == "ES":
            return make_iban("ES", code + digits(12)), bic
        if country == "IT":
            return make_iban("IT", r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + code + digits(12)), bic
        if country == "GB":
            return make_iban("GB", code + digits(8)), bic
        if country == "CH":
            return make_iban("CH", code + digits(12)), bic
        raise ValueError(country)

    def _printed(self, name: str, country: str) -> str:
        r = self.rnd
        base = strip_accents(name)
        core, lf = split_legal(base)
        style = weighted(
            r,
            [
                ("upper", 40),
                ("no_lf", 18),
                ("lf_first", 10),
                ("swap", 7),
                ("abbrev", 8),
                ("trunc", 9),
                ("asis", 8),
            ],
        )
        if style == "upper":
            s = base.upper()
        elif style == "no_lf":
            s = core.upper()
        elif style == "lf_first":
            s = f"{lf} {core}".upper().strip()
        elif style == "swap":
            words = core.split()
            s = " ".join(words[1:] + words[:1]).upper() if len(words) > 1 else core.upper()
            if lf and r.random() < 0.5:
                s += " " + lf.upper()
        elif style == "abbrev":
            s = base.upper()
            for long, short in (
                ("SOCIETE NOUVELLE", "STE NLE"),
                ("SOCIETE", "STE"),
                ("ETABLISSEMENTS", "ETS"),
                ("TRANSPORTS", "TRANSP"),
                ("LABORATOIRES", "LABO"),
                ("BOULANGERIE INDUSTRIELLE", "BOUL IND"),
                ("ELECTRICITE", "ELEC"),
                ("MAINTENANCE", "MAINT"),
                ("INSTALLATIE", "INST"),
                ("MASCHINENBAU", "MASCH.BAU"),
                (" ET FILS", " & FILS"),
            ):
                s = s.replace(long, short)
        elif style == "trunc":
            s = base.upper()[: r.randint(16, 24)].rstrip()
        else:
            s = name
        return s

    def make_customers(self) -> None:
        r = self.rnd
        n_cust = max(40, self.n // 8)
        for i in range(n_cust):
            country = weighted(r, COUNTRY_W)
            name = self._unique(
                self._fr_name if country == "FR" else lambda c=country: self._foreign_name(c)
            )
            if country == "FR":
                postal, city = r.choice(FR_CITIES)
            else:
                postal, city = r.choice(FOREIGN[country][3])
            ccy = {"GB": "GBP", "US": "USD"}.get(country, "EUR")
            if country == "CH":
                ccy = "CHF" if r.random() < 0.7 else "EUR"
            iban, bic = self._iban_for(country)
            siren = luhn_complete("".join(r.choice("0123456789") for _ in range(8)))
            siren = str(r.randint(3, 9)) + siren[1:-1]
            siren = luhn_complete(siren)
            if country == "FR":
                vat = fr_vat(siren)
            elif country == "DE":
                vat = de_vat(r)
            elif country == "NL":
                vat = f"NL{r.randint(100000000, 999999999)}B01"
            elif country == "BE":
                first = f"0{r.randint(2000000, 9999999)}"
                vat = f"BE{first}{97 - int(first) % 97:02d}"
            elif country == "ES":
                vat = f"ESB{r.randint(10000000, 99999999)}"
            elif country == "IT":
                vat = f"IT{r.randint(10000000000, 99999999999)}"
            elif country == "GB":
                vat = f"GB{r.randint(100000000, 999999999)}"
            elif country == "AT":
                vat = f"ATU{r.randint(10000000, 99999999)}"
            else:
                vat = ""
            if country != "FR":
                siren = ""
            if country == "FR":
                account = weighted(r, [("main", 58), ("cfonb", 27), ("hsbc_eur", 15)])
            elif country in ("DE", "AT"):
                account = "de"
            elif country in ("NL", "BE"):
                account = weighted(r, [("nl", 70), ("main", 30)])
            elif ccy == "USD":
                account = "hsbc_usd"
            elif ccy == "GBP":
                account = "hsbc_gbp"
            elif ccy == "CHF":
                account = "hsbc_chf"
            else:
                account = weighted(r, [("main", 60), ("hsbc_eur", 40)])
            style = weighted(
                r, [("clean", 70), ("noisy", 10), ("multi", 9), ("noref", 5), ("own", 6)]
            )
            rf = account in ("main", "hsbc_eur", "nl", "cfonb", "de") and r.random() < 0.25
            sdd = country == "FR" and account == "main" and r.random() < 0.07
            third = None
            email_dom = re.sub(r"[^a-z]", "", strip_accents(split_legal(name)[0]).lower())[:16]
            tld = {"GB": "co.uk", "US": "com", "AT": "at"}.get(country, country.lower())
            cust = Customer(
                num=i + 1,
                id=f"C{i + 1:05d}",
                name=name,
                country=country,
                lang=LANG_TEXT[country] if country != "BE" else r.choice(["fr", "nl"]),
                inv_lang="fr" if country in ("FR", "BE", "CH") else "en",
                ccy=ccy,
                iban_file=iban if (iban and r.random() < 0.8) else None,
                pay_iban=iban,
                pay_bic=bic,
                siren=siren,
                vat=vat,
                email=f"compta@{email_dom}.{tld}",
                addr=f"{r.randint(1, 180)} {r.choice(['rue', 'avenue', 'boulevard', 'chemin'])} "
                f"{r.choice(['de la Gare', 'Victor Hugo', 'des Lilas', 'Pasteur', 'du Port'])}"
                if country == "FR"
                else f"{r.choice(STREETS[country])} {r.randint(1, 99)}",
                postal=postal,
                city=city,
                account=account,
                printed=self._printed(name, country),
                style=style,
                rf=rf,
                sdd=sdd,
                delay=weighted(r, [(-4, 10), (0, 30), (6, 25), (15, 20), (30, 10), (55, 5)]),
                terms=weighted(r, [("30", 45), ("45FM", 30), ("60", 15), ("REC", 10)]),
                third=third,
                recurring=None,
                unpaid_p=weighted(r, [(0.01, 80), (0.05, 15), (0.25, 5)]),
                weight=r.lognormvariate(0, 1.0),
            )
            if cust.pay_iban and r.random() < 0.05:
                # pays from another bank than the one on file
                cust.pay_iban, cust.pay_bic = self._iban_for(country)
            if country == "US":
                # an American bank account number, no IBAN (camt shows it under Othr/Id)
                cust.pay_iban = f"{(cust.num * 7919 + 1234567) % 10**10:010d}"
            if r.random() < 0.1 and ccy == "EUR" and country == "FR":
                cust.recurring = r.choice([45000, 54000, 64800, 96000, 118800, 150000, 216000])
            self.customers.append(cust)

    # ---- invoices
    def _due(self, c: Customer, issue: dt.date) -> dt.date:
        if c.terms == "REC":
            return issue
        if c.terms == "45FM":
            d = issue + 45 * DAY
            nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
            return nxt - DAY
        return issue + int(c.terms) * DAY

    def _amount(self, c: Customer) -> int:
        r = self.rnd
        if c.recurring and r.random() < 0.8:
            return c.recurring
        qty = weighted(
            r, [(1, 50), (2, 15), (3, 8), (4, 6), (5, 5), (10, 6), (12, 4), (20, 3), (25, 3)]
        )
        unit = max(1500, int(r.lognormvariate(6.3, 1.0) * 100) // 50 * 50)
        ht = min(qty * unit, 6_000_000)
        if c.country == "FR":
            return (ht * 120 + 50) // 100
        return ht

    def make_invoices(self) -> None:
        r = self.rnd
        weights = [c.weight for c in self.customers]
        n_legacy = max(10, self.n // 25)
        raw: list[Doc] = []
        for k in range(self.n):
            c = r.choices(self.customers, weights)[0]
            legacy = k < n_legacy
            if legacy:
                issue = dt.date(2025, 10, 15) + r.randint(0, 75) * DAY
            else:
                issue = dt.date(YEAR, 1, 2) + r.randint(0, 349) * DAY
            issue = self.bday(issue) if issue.year == YEAR else issue
            doc = Doc(
                cust=c,
                issue=issue,
                due=self._due(c, issue),
                ccy=c.ccy,
                cents=self._amount(c),
                kind="invoice",
                legacy=legacy,
            )
            if r.random() < 0.35:
                doc.po = f"{r.choice(['PO', 'BC', 'CDE', '45'])}{r.randint(10000, 99999)}"
            raw.append(doc)
        raw.sort(key=lambda d: (not d.legacy, d.issue))
        legacy_serial, serial = 11850, 0
        for d in raw:
            if d.legacy:
                legacy_serial += r.randint(1, 3)
                d.serial = legacy_serial
                d.id = f"F-{legacy_serial:06d}"
            else:
                serial += 1
                d.serial = serial
                d.id = f"FA{YEAR}-{serial:05d}"
            if d.cust.rf and not d.legacy:
                d.rf = make_rf(f"{d.cust.num:04d}{YEAR % 100}{d.serial:05d}")
            d.cust.docs.append(d)
        self.docs = raw

    def assign_third_parties(self) -> None:
        """Some customers are paid for by a reverse-factoring company or by their parent."""
        r = self.rnd
        pool = [
            c
            for c in self.customers
            if c.country == "FR" and not c.sdd and sum(d.kind == "invoice" for d in c.docs) >= 4
        ]
        r.shuffle(pool)
        n = max(2, len(self.customers) // 60)
        for i, c in enumerate(pool[: 2 * n]):
            iban, bic = self._iban_for("FR")
            if i % 2 == 0:
                c.third = ("factor", r.choice(FACTORS), iban, bic)
            else:
                core, _ = split_legal(c.name)
                c.third = (
                    "parent",
                    f"GROUPE {strip_accents(core.split()[-1]).upper()} HOLDING",
                    iban,
                    bic,
                )

    def new_credit_note(self, origin: Doc, issue: dt.date, cents: int) -> Doc:
        cn = Doc(
            cust=origin.cust,
            issue=issue,
            due=issue,
            ccy=origin.ccy,
            cents=cents,
            kind="credit_note",
            origin=origin,
            used=True,
        )
        origin.cust.docs.append(cn)
        self.docs.append(cn)
        return cn

    def number_credit_notes(self) -> None:
        cns = sorted((d for d in self.docs if d.kind == "credit_note"), key=lambda d: d.issue)
        per_year: Counter = Counter()
        for cn in cns:
            per_year[cn.issue.year] += 1
            cn.serial = per_year[cn.issue.year]
            cn.id = f"AV{cn.issue.year}-{cn.serial:04d}"

    # ---- lines
    def add(self, line: Line) -> Line:
        self._seq += 1
        line.seq = self._seq
        self.lines.append(line)
        return line

    def payment_date(self, c: Customer, docs: list[Doc]) -> dt.date:
        r = self.rnd
        due = max(d.due for d in docs)
        issue = max(d.issue for d in docs)
        d = due + (c.delay + round(r.gauss(0, 6))) * DAY
        if d <= issue:
            d = issue + r.randint(2, 9) * DAY
        mins = [x.min_pay for x in docs if x.min_pay]
        if mins and d < max(mins):
            d = max(mins) + r.randint(0, 6) * DAY
        return self.bday(max(d, START))

    def e2e(self, c: Customer | None) -> str | None:
        r = self.rnd
        if r.random() < 0.45:
            return None
        return weighted(
            r,
            [
                (f"{r.randint(10**9, 10**10 - 1)}", 40),
                (f"E2E{r.randint(10**7, 10**8 - 1)}", 20),
                (f"PAY-{r.randint(100000, 999999)}", 20),
                (f"{YEAR}{r.randint(1, 12):02d}{r.randint(100000, 999999)}", 20),
            ],
        )

    def pay_line(
        self,
        c: Customer,
        date: dt.date,
        docs_allocs: list[tuple[Doc, int]],
        case: str,
        text,
        verify: str,
        **kw,
    ) -> Line:
        cents = kw.pop("cents", None)
        if cents is None:
            cents = sum(a for _, a in docs_allocs)
        account = kw.pop("account", c.account)
        return self.add(
            Line(
                account=account,
                date=date,
                cents=cents,
                case_kind=case,
                family=kw.pop("family", "sct_in"),
                allocs=docs_allocs,
                payer=c,
                payer_name=kw.pop("payer_name", c.printed),
                payer_iban=kw.pop("payer_iban", c.pay_iban),
                payer_bic=kw.pop("payer_bic", c.pay_bic),
                text=text,
                verify=verify,
                e2e=kw.pop("e2e", self.e2e(c)),
                **kw,
            )
        )

    # ---- remittance wording
    def single_text(self, c: Customer, d: Doc) -> Callable[[], str]:
        r = self.rnd
        lang = c.lang
        pay_ref = f"{r.choice(['PAY', 'REG', 'VIR', 'OP'])}{YEAR}{r.randint(1000, 99999)}"
        short = strip_accents(split_legal(c.name)[0]).upper()[:20]
        if c.style == "own":
            tpl = r.choice(
                [
                    "PAIEMENT {payref} {id}",
                    "{payref} FACT {id}",
                    "N/REF {payref} V/FACT {id}",
                    "{id} {payref}",
                ]
            )
        elif lang == "fr":
            tpl = r.choice(
                [
                    "{id}",
                    "FACTURE {id}",
                    "Facture {id}",
                    "REGLEMENT FACTURE {id}",
                    "Paiement facture n° {id}",
                    "FACT {id}",
                    "{id} {short}",
                    "VIREMENT {short} FACTURE {id}",
                    "Règlement {id} du {date}",
                    "/INV/{id} {dated}",
                    "Reglt fact {id}",
                    "{id} ECHEANCE {due}",
                    "NOTRE CDE {po} VOTRE FACT {id}",
                    "{short} - FACTURE N {id}",
                ]
            )
        elif lang == "de":
            tpl = r.choice(
                [
                    "Rechnung {id}",
                    "RE {id}",
                    "Rechnungsnr. {id} vom {dated}",
                    "{id} Kd-Nr. {custno}",
                    "RG {id}",
                    "Zahlung Rechnung {id}",
                ]
            )
        elif lang == "nl":
            tpl = r.choice(
                [
                    "Factuur {id}",
                    "Betaling factuur {id}",
                    "fact. {id}",
                    "{id}",
                    "factuurnummer {id} klant {custno}",
                ]
            )
        elif lang == "es":
            tpl = r.choice(["Pago factura {id}", "FRA {id}", "{id}", "Factura {id} {short}"])
        elif lang == "it":
            tpl = r.choice(["Pagamento fattura {id}", "Fatt. {id}", "{id}", "Bonifico fatt {id}"])
        else:
            tpl = r.choice(
                [
                    "Invoice {id}",
                    "INV {id}",
                    "Payment invoice {id}",
                    "{id} PO {po}",
                    "Inv. no. {id}",
                    "{id}",
                    "{short} INVOICE {id}",
                ]
            )
        if "{po}" in tpl and not d.po:
            tpl = tpl.replace("NOTRE CDE {po} ", "").replace(" PO {po}", "")

        def render() -> str:
            return tpl.format(
                id=d.id,
                short=short,
                date=d.issue.strftime("%d/%m/%Y"),
                dated=d.issue.strftime("%d.%m.%Y"),
                due=d.due.strftime("%d/%m/%y"),
                po=d.po or "",
                payref=pay_ref,
                custno=c.id,
            )

        return render

    def noisy_number(self, d: Doc) -> str:
        r = self.rnd
        s, y = d.serial, YEAR
        if d.legacy:
            return r.choice([f"F{s}", f"F {s:06d}", f"{s}", f"FACT {s}", f"F-{s}", f"FACTURE {s}"])
        return r.choice(
            [
                f"FACT {s}",
                f"FA {y} {s}",
                f"FA{y} {s:05d}",
                f"FA{y}{s:05d}",
                f"{s:05d}",
                f"{y}-{s}",
                f"FA-{y}-{s}",
                f"fa{y}-{s:05d}",
                f"F{y}-{s:05d}",
                f"N {s}",
                f"FACTURE N°{s}",
                f"FA{y % 100}-{s}",
                f"Fact.{s}",
                f"{s}",
            ]
        )

    def rf_text(self, c: Customer, d: Doc) -> str:
        r = self.rnd
        ref = d.rf or ""
        spaced = " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
        return weighted(
            r,
            [
                (spaced, 25),
                (ref.lower(), 10),
                (f"REF {ref}", 10),
                (f"REF. {spaced}", 5),
                (f"{c.printed[:20]} {ref}", 12),
                (f"PAIEMENT{ref}", 6),
                (f"{ref}FACTURE", 4),
                (f"{ref}/{c.id}", 4),
                (f"Votre ref {spaced.lower()}", 6),
                (ref, 18),
            ],
        )

    def multi_text(self, c: Customer, docs: list[Doc], cns: list[Doc] | None = None) -> str:
        r = self.rnd
        lang = c.lang
        ids = [d.id for d in docs]
        all_new = all(not d.legacy for d in docs)
        options = []
        if lang == "fr":
            if all_new and not cns:
                ser = [str(d.serial) for d in docs]
                lst = ", ".join(ser[:-1]) + " et " + ser[-1]
                options += [f"Règlement factures {lst}", f"REGLEMENT FACTURES {lst}"]
                options.append(f"FA{YEAR}-" + "+".join(f"{d.serial:05d}" for d in docs))
            options += [
                "REGLEMENT FACT " + " ".join(ids),
                "Factures " + " + ".join(ids),
                "PAIEMENT RELEVE " + " ".join(ids),
                "Fact. " + ", ".join(ids),
            ]
        elif lang == "de":
            options += ["Rechnungen " + ", ".join(ids), "RE " + " ".join(ids)]
        elif lang == "nl":
            options += ["Facturen " + " ".join(ids), "Betaling " + ", ".join(ids)]
        else:
            options += ["Invoices " + ", ".join(ids), "INV " + " ".join(ids)]
        text = r.choice(options)
        if cns:
            cn_ids = " ".join(x.id for x in cns)
            text += r.choice(
                {
                    "fr": [
                        f" moins avoir {cn_ids}",
                        f" - AV {cn_ids}",
                        f" avoir {cn_ids} deduit",
                        f" DEDUCTION AVOIR {cn_ids}",
                    ],
                    "de": [f" abzgl. Gutschrift {cn_ids}", f" ./. {cn_ids}"],
                    "nl": [f" min creditnota {cn_ids}"],
                }.get(lang, [f" less credit note {cn_ids}", f" minus CN {cn_ids}"])
            )
        return text

    # ---- planted scenarios (before the ordinary walk so the amounts are fixed first)
    def _free(self, c: Customer, lo: dt.date, hi: dt.date) -> list[Doc]:
        return [
            d
            for d in c.docs
            if d.kind == "invoice"
            and not d.planted
            and not d.used
            and not d.legacy
            and lo <= d.issue <= hi
        ]

    def plant_same_amount(self, count: int) -> None:
        r = self.rnd
        pool = [
            c
            for c in self.customers
            if c.ccy == "EUR" and c.country == "FR" and not c.sdd and not c.third
        ]
        for _ in range(count):
            lo = dt.date(YEAR, r.randint(2, 10), 1)
            hi = lo + 40 * DAY
            cands = [c for c in pool if self._free(c, lo, hi)]
            if len(cands) < 3:
                continue
            chosen = r.sample(cands, 3)
            amount = r.choice([118800, 142800, 99000, 216000, 86400, 174000])
            invs = []
            for c in chosen:
                d = r.choice(self._free(c, lo, hi))
                d.cents, d.planted = amount, True
                invs.append(d)
            t = self.add_bdays(max(d.issue for d in invs), r.randint(3, 12))
            payer = invs[0]
            payer.used = True
            unknown = r.choice(
                [
                    "SCI LES TILLEULS",
                    "M OU MME DURAND JEAN",
                    "HOLDING JMD",
                    "SARL FINANCIERE DU PARC",
                    "MR GERARD PATRICK",
                    "PATRIMOINE CONSEIL",
                ]
            )
            iban, bic = self._iban_for("FR")
            text = r.choice(
                [
                    "VIREMENT",
                    "PAIEMENT",
                    "REGLEMENT",
                    "",
                    "VIR SEPA",
                    "FACTURE",
                    "REGLEMENT FOURNISSEUR",
                ]
            )
            self.pay_line(
                payer.cust,
                t,
                [(payer, amount)],
                "same_amount_no_reference",
                text,
                "unknown",
                payer_name=unknown,
                payer_iban=iban,
                payer_bic=bic,
                account=payer.cust.account,
                note=f"no usable reference, unknown payer; really {payer.cust.id} (told by phone)",
            )
            for d in invs[1:]:
                d.min_pay = t + 15 * DAY

    def plant_grouped_ambiguous(self, count: int) -> None:
        r = self.rnd
        pool = [
            c
            for c in self.customers
            if c.ccy == "EUR" and not c.sdd and not c.third and len(c.docs) >= 5
        ]
        r.shuffle(pool)
        made = 0
        for c in pool:
            if made >= count:
                break
            free = sorted(
                self._free(c, dt.date(YEAR, 1, 15), dt.date(YEAR, 10, 31)), key=lambda d: d.issue
            )
            for i in range(len(free) - 2):
                a, b, x = free[i], free[i + 1], free[i + 2]
                if (x.issue - a.issue).days <= 60:
                    x.cents = a.cents + b.cents
                    for d in (a, b, x):
                        d.planted = True
                    a.used = b.used = True
                    t = self.add_bdays(x.issue, r.randint(2, 8))
                    self.pay_line(
                        c,
                        t,
                        [(a, a.cents), (b, b.cents)],
                        "grouped_no_reference_ambiguous",
                        r.choice(
                            [
                                "VIREMENT",
                                "REGLEMENT",
                                "PAIEMENT FOURNISSEUR",
                                "VIR " + c.printed[:18],
                                "",
                            ]
                        ),
                        "noref",
                        note=f"two sets fit: {a.id}+{b.id} or {x.id}; the customer "
                        f"meant {a.id}+{b.id} (remittance advice by e-mail)",
                    )
                    x.min_pay = t + 10 * DAY
                    made += 1
                    break

    def plant_typo_ambiguous(self, count: int) -> None:
        r = self.rnd
        pool = [
            c
            for c in self.customers
            if c.ccy == "EUR" and not c.sdd and not c.third and len(c.docs) >= 4
        ]
        r.shuffle(pool)
        made = 0
        for c in pool:
            if made >= count:
                break
            free = sorted(
                self._free(c, dt.date(YEAR, 1, 15), dt.date(YEAR, 10, 31)), key=lambda d: d.issue
            )
            for i in range(len(free) - 1):
                a, b = free[i], free[i + 1]
                typo = transpose(a.serial)
                if typo is None or (b.issue - a.issue).days > 50:
                    continue
                b.cents = a.cents
                a.planted = b.planted = a.used = True
                t = self.add_bdays(b.issue, r.randint(2, 8))
                self.pay_line(
                    c,
                    t,
                    [(a, a.cents)],
                    "invoice_number_typo",
                    lambda a=a, typo=typo: typo_text(a, typo),
                    "typo",
                    meta={"typo": typo},
                    note=f"number typed {typo:05d}; two open invoices of this payer "
                    f"have this amount; really {a.id}",
                )
                b.min_pay = t + 10 * DAY
                made += 1
                break

    # ---- ordinary walk
    def walk(self) -> None:
        r = self.rnd
        for c in self.customers:
            invs = sorted((d for d in c.docs if d.kind == "invoice"), key=lambda d: d.issue)
            for i, inv in enumerate(invs):
                if inv.used:
                    continue
                if r.random() < c.unpaid_p:
                    inv.used = True  # disputed or forgotten: stays open
                    continue
                later = [
                    d
                    for d in invs[i + 1 :]
                    if not d.used
                    and not d.planted
                    and (d.issue - inv.issue).days <= 45
                    and d.legacy == inv.legacy
                ]
                kind = "exact" if inv.min_pay else self.choose(c, inv, later)
                getattr(self, "plan_" + kind)(c, inv, later)

    def choose(self, c: Customer, inv: Doc, later: list[Doc]) -> str:
        r = self.rnd
        if c.sdd and not inv.legacy:
            return "sdd" if r.random() < 0.93 else "exact"
        w: list[tuple[str, float]] = [
            ("exact", 60.0),
            ("noisy", 5.0),
            ("typo", 0.8),
            ("trunc_single", 0.6),
            ("fee_short", 1.0),
            ("over", 0.7),
            ("deposit", 2.2),
            ("minus_cn", 1.6),
            ("paid_before", 0.8),
            ("noref_single", 1.8),
            ("duplicate", 0.4),
        ]
        if c.ccy != "EUR" or c.country not in ("FR",):
            w.append(("fee_short", 10.0 if c.ccy != "EUR" else 2.5))
        if inv.rf:
            w += [
                ("rf_struct", 45.0 if c.account in ("main", "hsbc_eur", "nl") else 0.0),
                ("rf_free", 22.0),
            ]
        if later:
            w += [("multi", 4.5), ("multi_cn", 0.8), ("noref_group", 1.8)]
            if c.account in ("main", "hsbc_eur"):
                w.append(("rfrddoc", 1.2))
            if len(later) >= 6:
                w.append(("trunc_multi", 3.0))
        if c.country == "FR" and c.account in ("main", "cfonb"):
            w.append(("cheque", 1.6))
        if c.third:
            w.append(("third", 70.0))
        if c.style == "noisy":
            w.append(("noisy", 18.0))
        elif c.style == "multi" and later:
            w.append(("multi", 40.0))
        elif c.style == "noref":
            w.append(("noref_single", 30.0))
            if later:
                w.append(("noref_group", 15.0))
        return weighted(r, w)

    def _mark(self, docs) -> None:
        for d in docs:
            d.used = True

    def plan_exact(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        kind = "foreign_currency_invoice" if c.ccy != "EUR" else "exact_invoice_number"
        self.pay_line(c, t, [(inv, inv.cents)], kind, self.single_text(c, inv), "named")

    def plan_sdd(self, c, inv, later):
        self._mark([inv])
        t = self.bday(max(inv.due, inv.issue + 14 * DAY))
        if t > END:
            return
        mandate = f"LUM-{c.id}-01"
        line = self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "direct_debit_collection",
            f"{inv.id} {SELLER.upper()}",
            "named",
            family="sdd_in",
            e2e=f"SDD{inv.id.replace('-', '')}",
            mandate=mandate,
            payer_iban=c.iban_file or c.pay_iban,
        )
        if self.rnd.random() < 0.12:
            rt = self.add_bdays(t, self.rnd.randint(2, 5))
            reason = self.rnd.choice(["AM04", "MS02", "AC04", "MD07"])
            self.add(
                Line(
                    account=c.account,
                    date=rt,
                    cents=-inv.cents,
                    case_kind="returned_direct_debit",
                    family="sdd_return",
                    allocs=[(inv, -inv.cents)],
                    payer=c,
                    payer_name=c.printed,
                    payer_iban=line.payer_iban,
                    payer_bic=c.pay_bic,
                    text=f"{inv.id} {SELLER.upper()}",
                    verify="person",
                    e2e=line.e2e,
                    mandate=mandate,
                    reversal=True,
                    return_reason=reason,
                    note=f"SEPA B2B collection of {inv.id} returned ({reason}); undo the "
                    f"allocation of the collection; invoice open again",
                )
            )
            t2 = self.add_bdays(rt, self.rnd.randint(5, 20))
            if t2 <= END and self.rnd.random() < 0.6:
                self.pay_line(
                    c,
                    t2,
                    [(inv, inv.cents)],
                    "exact_invoice_number",
                    f"{inv.id} SUITE REJET PRELEVEMENT",
                    "named",
                    account=c.account,
                    note="paid by transfer after the direct debit was returned",
                )

    def plan_rf_struct(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        text = None if self.rnd.random() < 0.7 else self.single_text(c, inv)
        self.pay_line(c, t, [(inv, inv.cents)], "rf_structured", text, "named", rf_struct=inv)

    def plan_rf_free(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "rf_free_text",
            lambda c=c, inv=inv: self.rf_text(c, inv),
            "named",
        )

    def plan_noisy(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        prefix = self.rnd.choice(["", "", "REGLEMENT ", "VIR ", "PAIEMENT "])
        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "invoice_number_noisy",
            lambda inv=inv, p=prefix: (p + self.noisy_number(inv)).strip(),
            "noisy",
            meta={"serial": inv.serial},
        )

    def plan_typo(self, c, inv, later):
        typo = transpose(inv.serial)
        if typo is None or inv.legacy:
            return self.plan_noisy(c, inv, later)
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "invoice_number_typo",
            lambda inv=inv, typo=typo: typo_text(inv, typo),
            "typo",
            meta={"typo": typo},
            note=f"number typed with digits swapped ({typo:05d})",
        )

    def plan_trunc_single(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        boiler = (
            f"{strip_accents(split_legal(c.name)[0]).upper()} SERVICE COMPTABILITE "
            f"FOURNISSEURS LOT DE PAIEMENT {self.rnd.randint(10**6, 10**7)} "
            f"ECHEANCE DU {t:%d/%m/%Y} CONDITIONS CONTRAT CADRE {self.rnd.randint(100, 999)}"
            f" REGLEMENT DE VOTRE FACTURE NUMERO "
        )

        def render(inv=inv, boiler=boiler):
            full = (boiler * 2)[: 140 - len(inv.id) + self.rnd.randint(3, 8)] + inv.id
            return full[:140]

        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "truncated_remittance",
            render,
            "noref",
            note="remittance cut at 140 characters: the invoice number is lost; "
            "decided on payer and amount",
        )

    def plan_trunc_multi(self, c, inv, later):
        head = self.rnd.choice(
            [
                "REGLEMENT DE VOS FACTURES N ",
                "PAIEMENT FACTURES ",
                "VIREMENT FOURNISSEUR REGLEMENT FACT ",
            ]
        )
        sep = self.rnd.choice([" ", ", ", " / "])
        docs = [inv]
        for d in later:
            if len(head + sep.join(x.id for x in docs)) > 140:
                break
            docs.append(d)
        if len(head + sep.join(x.id for x in docs)) <= 140:
            return self.plan_multi(c, inv, later)
        self._mark(docs)
        t = self.payment_date(c, docs)
        if t > END:
            return

        def render(docs=docs, head=head, sep=sep):
            return (head + sep.join(d.id for d in docs))[:140]

        self.pay_line(
            c,
            t,
            [(d, d.cents) for d in docs],
            "truncated_remittance",
            render,
            "trunc",
            note="invoice list cut by the 140-character SEPA limit",
        )

    def plan_fee_short(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        fee = self.rnd.choice([256, 500, 750, 1200, 1500, 320, 1000, 850])
        if fee * 20 > inv.cents:
            return self.plan_exact_at(c, inv, t)
        self.pay_line(
            c,
            t,
            [(inv, inv.cents - fee)],
            "fee_short_payment",
            self.single_text(c, inv),
            "named",
            meta={"short": fee},
            note=f"{money(fee)} short (payer's bank charges); allocate what came, "
            f"write off or leave the {money(fee)} open",
        )

    def plan_exact_at(self, c, inv, t):
        kind = "foreign_currency_invoice" if c.ccy != "EUR" else "exact_invoice_number"
        self.pay_line(c, t, [(inv, inv.cents)], kind, self.single_text(c, inv), "named")

    def plan_over(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        extra = self.rnd.choice([525, 400, 1000, 150])
        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "overpayment_small",
            self.single_text(c, inv),
            "named",
            cents=inv.cents + extra,
            meta={"over": extra},
            note=f"{money(extra)} paid over the invoice (fees added by the payer); "
            f"the excess stays unallocated on the customer's account",
        )

    def plan_deposit(self, c, inv, later):
        r = self.rnd
        if inv.cents < 100000:
            return self.plan_exact(c, inv, later)
        self._mark([inv])
        pct = r.choice([30, 30, 40, 50, 50])
        dep = inv.cents * pct // 100
        t1 = self.add_bdays(inv.issue, r.randint(1, 8))
        if t1 < START:
            inv.used = False
            return self.plan_exact(c, inv, later)
        lang = c.lang
        w1 = {
            "fr": ["Acompte {id}", "ACOMPTE {p}% FACTURE {id}", "Acompte {p} % fact {id}"],
            "de": ["Anzahlung {p}% Rechnung {id}", "Anzahlung {id}"],
            "nl": ["Aanbetaling factuur {id}"],
        }.get(lang, ["Down payment {p}% invoice {id}", "Deposit {id}"])
        w2 = {
            "fr": ["Solde {id}", "SOLDE FACTURE {id}", "Solde fact {id} deduction acompte"],
            "de": ["Restzahlung Rechnung {id}", "Rest {id}"],
            "nl": ["Restbetaling factuur {id}"],
        }.get(lang, ["Balance invoice {id}", "Final payment {id}"])
        t1w, t2w = r.choice(w1), r.choice(w2)
        if t1 <= END:
            self.pay_line(
                c,
                t1,
                [(inv, dep)],
                "partial_deposit",
                lambda inv=inv, w=t1w, p=pct: w.format(id=inv.id, p=p),
                "named",
                meta={"partial": True},
                note=f"{pct} % deposit on {inv.id}",
            )
        t2 = self.payment_date(c, [inv])
        if t2 <= t1:
            t2 = self.add_bdays(t1, r.randint(10, 30))
        if t2 <= END:
            self.pay_line(
                c,
                t2,
                [(inv, inv.cents - dep)],
                "balance_after_deposit",
                lambda inv=inv, w=t2w: w.format(id=inv.id),
                "named",
                note=f"remaining {100 - pct} % of {inv.id}",
            )

    def plan_minus_cn(self, c, inv, later):
        r = self.rnd
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END or (t - inv.issue).days < 5:
            return self.plan_exact_at(c, inv, t) if t <= END else None
        cn_amt = max(1000, inv.cents * r.choice([5, 10, 15, 20, 25]) // 100)
        cn = self.new_credit_note(
            inv, inv.issue + r.randint(1, (t - inv.issue).days - 2) * DAY, cn_amt
        )
        self.pay_line(
            c,
            t,
            [(inv, inv.cents), (cn, -cn_amt)],
            "invoice_minus_credit_note",
            lambda c=c, inv=inv, cn=cn: self.multi_text(c, [inv], [cn]),
            "named",
            note="invoice less its credit note",
        )

    def plan_multi(self, c, inv, later):
        docs = [inv, *later[: self.rnd.randint(1, 3)]]
        self._mark(docs)
        t = self.payment_date(c, docs)
        if t > END:
            return
        self.pay_line(
            c,
            t,
            [(d, d.cents) for d in docs],
            "multi_invoice_listed",
            lambda c=c, docs=docs: self.multi_text(c, docs),
            "named",
        )

    def plan_multi_cn(self, c, inv, later):
        r = self.rnd
        docs = [inv, *later[: r.randint(1, 3)]]
        self._mark(docs)
        t = self.payment_date(c, docs)
        if t > END:
            return
        origin = r.choice(docs)
        cn_amt = max(1000, origin.cents * r.choice([10, 20, 30]) // 100)
        span = max(1, (t - origin.issue).days - 2)
        cn = self.new_credit_note(origin, origin.issue + r.randint(1, span) * DAY, cn_amt)
        self.pay_line(
            c,
            t,
            [(d, d.cents) for d in docs] + [(cn, -cn_amt)],
            "multi_invoice_minus_credit_note",
            lambda c=c, docs=docs, cn=cn: self.multi_text(c, docs, [cn]),
            "named",
        )

    def plan_noref_single(self, c, inv, later):
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        text = self.rnd.choice(
            [
                "VIREMENT",
                "REGLEMENT FOURNISSEUR",
                "PAIEMENT",
                "",
                c.printed[:25],
                f"VIR {c.printed[:20]}",
                "ECHEANCE",
                f"REGLEMENT {t:%m/%Y}",
                "Zahlung" if c.lang == "de" else "VIR",
            ]
        )
        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "amount_payer_unique_no_reference",
            text,
            "noref",
            note="no reference; payer known by IBAN or name",
        )

    def plan_noref_group(self, c, inv, later):
        docs = [inv, *later[: self.rnd.randint(1, 3)]]
        self._mark(docs)
        t = self.payment_date(c, docs)
        if t > END:
            return
        text = self.rnd.choice(
            [
                "VIREMENT",
                "REGLEMENT FOURNISSEUR",
                "PAIEMENT",
                "",
                f"REGLEMENT {t:%m/%Y}",
                "RELEVE",
                f"ECHEANCES {t:%m %Y}",
            ]
        )
        self.pay_line(
            c,
            t,
            [(d, d.cents) for d in docs],
            "grouped_no_reference_unique",
            text,
            "noref",
            note="several invoices, no reference; one set of open items fits",
        )

    def plan_rfrddoc(self, c, inv, later):
        docs = [inv, later[0]]
        self._mark(docs)
        t = self.payment_date(c, docs)
        if t > END:
            return
        self.pay_line(
            c,
            t,
            [(d, d.cents) for d in docs],
            "structured_rfrddoc",
            None,
            "named",
            rfrd=[(d, d.cents) for d in docs],
            account=c.account,
            note="RmtInf/Strd names both invoices with RfrdDocAmt/RmtdAmt",
        )

    def plan_cheque(self, c, inv, later):
        r = self.rnd
        docs = [inv] + (later[:1] if later and r.random() < 0.3 else [])
        self._mark(docs)
        t = self.add_bdays(self.payment_date(c, docs), r.randint(2, 5))
        if t > END:
            return
        nb = r.randint(1000000, 9999999)
        label = f"REMISE CHEQUES N {nb} 1 CHQ"
        self.pay_line(
            c,
            t,
            [(d, d.cents) for d in docs],
            "cheque_deposit",
            label,
            "person",
            family="cheque",
            payer_name=None,
            payer_iban=None,
            payer_bic=None,
            e2e=None,
            label=label,
            note=f"cheque of {c.id}; the bank line names only the deposit slip {nb}; "
            "the slip (not in the bank file) says which invoices",
        )

    def plan_third(self, c, inv, later):
        r = self.rnd
        kind, name, iban, bic = c.third
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if kind == "factor":
            t = self.add_bdays(inv.issue, r.randint(5, 15))  # reverse factoring pays early
        if t > END:
            return
        core = strip_accents(split_legal(c.name)[0]).upper()
        if kind == "factor":
            text = r.choice(
                [
                    f"{inv.id} {core[:25]}",
                    f"FACT {inv.id} DEBITEUR {core[:20]}",
                    f"PAIEMENT POUR COMPTE DE {core[:22]} {inv.id}",
                    f"REVERSE FACTORING {r.randint(10000, 99999)} {inv.id}",
                ]
            )
        else:
            text = r.choice(
                [
                    f"{core[:24]} FACTURE {inv.id}",
                    f"POUR {core[:24]} {inv.id}",
                    f"{inv.id}",
                    f"FILIALE {core[:20]} FACT {inv.id}",
                ]
            )
        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "third_party_factor" if kind == "factor" else "third_party_parent",
            text,
            "named",
            payer_name=name,
            payer_iban=iban,
            payer_bic=bic,
            ultimate=c.printed if r.random() < 0.5 else None,
            note=f"paid by {name} for {c.id}",
        )

    def plan_paid_before(self, c, inv, later):
        r = self.rnd
        self._mark([inv])
        t = self.bday(inv.issue - r.randint(2, 10) * DAY)
        if t < START or t > END:
            return self.plan_exact(c, inv, later) if t > END else None
        text = r.choice(
            [
                f"{inv.id} PAIEMENT ANTICIPE",
                f"PROFORMA {inv.id}",
                f"Facture {inv.id} reglement a la commande",
                f"{inv.id}",
            ]
        )
        self.pay_line(
            c,
            t,
            [(inv, inv.cents)],
            "paid_before_invoice",
            text,
            "named",
            note=f"paid {(inv.issue - t).days} days before {inv.id} is issued; auto "
            "because the year's export holds the invoice; a run before the "
            "invoice is loaded should leave it to a person",
        )

    def plan_duplicate(self, c, inv, later):
        r = self.rnd
        self._mark([inv])
        t = self.payment_date(c, [inv])
        if t > END:
            return
        text = self.single_text(c, inv)
        first = self.pay_line(c, t, [(inv, inv.cents)], "exact_invoice_number", text, "named")
        t2 = self.add_bdays(t, r.randint(1, 12))
        if t2 > END:
            return
        dup = self.pay_line(
            c,
            t2,
            [],
            "duplicate_payment",
            text,
            "person",
            e2e=first.e2e,
            cents=inv.cents,
            note=f"{inv.id} paid a second time; credit on account, refund or "
            "return: a person decides",
        )
        t3 = self.add_bdays(t2, r.randint(3, 10))
        if t3 <= END and r.random() < 0.7:
            self.add(
                Line(
                    account=c.account,
                    date=t3,
                    cents=-inv.cents,
                    case_kind="returned_transfer",
                    family="sct_return",
                    payer=c,
                    payer_name=c.printed,
                    payer_iban=c.pay_iban,
                    payer_bic=c.pay_bic,
                    text=f"RETOUR VIREMENT DOUBLE {inv.id}",
                    verify="person",
                    e2e=dup.e2e,
                    return_reason="DUPL",
                    meta={"undoes": dup},
                    note="duplicate transfer sent back to the payer; nothing to allocate",
                )
            )

    # ---- after the walk
    def plan_refunds(self, count: int) -> None:
        r = self.rnd
        paid = [
            (ln, d)
            for ln in self.lines
            if ln.case_kind == "exact_invoice_number"
            and ln.family == "sct_in"
            and ln.date < dt.date(YEAR, 11, 15)
            for d, _ in ln.allocs[:1]
        ]
        r.shuffle(paid)
        for ln, inv in paid[:count]:
            c = inv.cust
            cn_amt = max(2000, inv.cents * r.choice([10, 20, 100]) // 100)
            cn_date = self.bday(ln.date + r.randint(5, 25) * DAY)
            cn = self.new_credit_note(inv, cn_date, cn_amt)
            t = self.add_bdays(cn_date, r.randint(3, 15))
            if t > END:
                continue
            self.add(
                Line(
                    account=c.account,
                    date=t,
                    cents=-cn_amt,
                    case_kind="customer_refund",
                    family="sct_out",
                    allocs=[(cn, -cn_amt)],
                    payer=c,
                    payer_name=c.printed,
                    payer_iban=c.iban_file or c.pay_iban,
                    payer_bic=c.pay_bic,
                    text=lambda cn=cn: r.choice(
                        [
                            f"REMBOURSEMENT AVOIR {cn.id}",
                            f"AVOIR {cn.id}",
                            f"Refund credit note {cn.id}",
                        ]
                    ),
                    verify="named",
                    note="refund of a credit note to the customer",
                )
            )

    def leftover_credit_notes(self, count: int) -> None:
        r = self.rnd
        invs = [d for d in self.docs if d.kind == "invoice" and not d.legacy]
        for inv in r.sample(invs, min(count, len(invs))):
            self.new_credit_note(
                inv,
                inv.issue + r.randint(3, 30) * DAY,
                max(1000, inv.cents * r.choice([5, 10, 50]) // 100),
            )

    def non_customer(self) -> None:
        r = self.rnd
        a = self.add
        for q in range(4):
            d = self.bday(dt.date(YEAR, 3 * q + 2, r.randint(5, 25)))
            a(
                Line(
                    "main",
                    d,
                    r.randint(300000, 2500000),
                    "tax_refund",
                    "sct_in",
                    payer_name="DGFIP",
                    payer_iban=make_iban("FR", "30001" + "00064" + "0000000000034"),
                    text=r.choice(["REMBOURSEMENT CREDIT TVA", f"DRFIP IDF REMBT TVA T{q + 1}"]),
                    note="VAT credit refund from the tax office",
                )
            )
        for d, who, txt in (
            (self.bday(dt.date(YEAR, 4, 17)), "AXA FRANCE IARD", "INDEMNISATION SINISTRE 2026"),
            (self.bday(dt.date(YEAR, 9, 9)), "ALLIANZ IARD", "REGLEMENT SINISTRE DOSSIER 88213"),
        ):
            a(
                Line(
                    r.choice(["main", "cfonb"]),
                    d,
                    r.randint(150000, 1800000),
                    "insurance_payout",
                    "sct_in",
                    payer_name=who,
                    payer_iban=make_iban("FR", "30003" + "03620" + "00020049821" + "42"),
                    text=f"{txt} {r.randint(100000, 999999)}",
                    note="insurance claim payout",
                )
            )
        for d in (self.bday(dt.date(YEAR, 2, 12)), self.bday(dt.date(YEAR, 7, 21))):
            a(
                Line(
                    "cfonb",
                    d,
                    r.randint(8000, 95000),
                    "utility_refund",
                    "sct_in",
                    payer_name=r.choice(["EDF", "ENGIE", "VEOLIA EAU"]),
                    text="REMBOURSEMENT TROP PERCU REGULARISATION",
                    note="utility bill refund after meter reading",
                )
            )
        for key in ("main", "cfonb", "de"):
            for q in range(4):
                d = self.bday(dt.date(YEAR, 3 * q + 3, 28))
                a(
                    Line(
                        key,
                        d,
                        r.randint(500, 9000),
                        "bank_interest",
                        "interest",
                        text="INTERETS CREDITEURS" if key != "de" else "ZINSEN",
                        label="INTERETS CREDITEURS",
                        note="interest on the account balance",
                    )
                )
        for m in range(1, 13):
            for _ in range(2):
                d = self.bday(dt.date(YEAR, m, r.randint(1, 26)))
                a(
                    Line(
                        "main",
                        d,
                        r.randint(20000, 600000),
                        "card_settlement",
                        "card",
                        payer_name="STRIPE TECHNOLOGY EUROPE LTD" if r.random() < 0.5 else None,
                        text=r.choice(
                            [
                                f"REMISE CB {r.randint(1000000, 9999999)} {d:%d%m}",
                                f"STRIPE PAYOUT {r.randint(10**8, 10**9)}",
                            ]
                        ),
                        note="card acquirer settlement of web-shop sales",
                    )
                )
        for key, acct in self.accounts.items():
            for m in range(1, 13):
                d = self.bday(dt.date(YEAR, m, 28))
                fee = r.randint(900, 6500) if acct.ccy == "EUR" else r.randint(1500, 3500)
                a(
                    Line(
                        key,
                        d,
                        -fee,
                        "bank_fee_debit",
                        "fee",
                        text=r.choice(["FRAIS TENUE DE COMPTE", "COMMISSIONS", "COTISATION OFFRE"]),
                        note="bank charges",
                    )
                )
                if key in ("main", "cfonb", "de", "nl") and r.random() < 0.8:
                    d2 = self.bday(dt.date(YEAR, m, r.randint(3, 25)))
                    sup = r.choice(
                        [
                            "ACIERIES DU NORD SA",
                            "CARTONNAGES MODERNES SARL",
                            "URSSAF ILE DE FRANCE",
                            "LOGISTIQUE EXPRESS SAS",
                            "OSRAM GMBH",
                            "PHILIPS LIGHTING BV",
                        ]
                    )
                    big = key in ("main", "cfonb")
                    amount = r.randint(200000, 3500000) if big else r.randint(20000, 250000)
                    a(
                        Line(
                            key,
                            d2,
                            -amount,
                            "supplier_payment_debit",
                            "sct_out",
                            payer_name=sup,
                            payer_iban=make_iban("FR", "30004" + "01000" + "00012345678" + "12"),
                            text=f"FACTURE {r.choice(['F', 'INV', 'FC'])}{r.randint(10000, 99999)}",
                            note="payment to a supplier",
                        )
                    )

    def make_batches(self) -> None:
        """Group some clean single payments of one day on the main account into one entry."""
        r = self.rnd
        by_day = defaultdict(list)
        for ln in self.lines:
            if (
                ln.account == "main"
                and ln.case_kind == "exact_invoice_number"
                and ln.expected == "auto"
                and ln.family == "sct_in"
                and ln.parts is None
            ):
                by_day[ln.date].append(ln)
        days = [d for d in sorted(by_day) if len(by_day[d]) >= 2]
        r.shuffle(days)
        n_with = max(3, len(self.lines) // 100)
        n_without = max(2, len(self.lines) // 300)
        made = 0
        for d in days:
            if made >= n_with + n_without:
                break
            group = by_day[d][: r.randint(2, 4)]
            if len(group) < 2 or (made >= n_with and len(group) < 3):
                continue
            with_details = made < n_with
            for g in group:
                self.lines.remove(g)
            allocs = [a for g in group for a in g.allocs]
            n = len(group)
            ln = self.add(
                Line(
                    account="main",
                    date=d,
                    cents=sum(g.cents for g in group),
                    case_kind="sepa_batch_with_details"
                    if with_details
                    else "sepa_batch_no_details",
                    family="sct_in",
                    allocs=allocs,
                    parts=group,
                    batch_details=with_details,
                    label=f"REMISE DE {n} VIREMENTS SEPA RECUS",
                    text=None,
                    expected="auto" if with_details else "person",
                    note=(
                        f"batch booking of {n} transfers; each TxDtls names its invoice"
                        if with_details
                        else f"batch booking of {n} transfers without details: only the total "
                        "is known; allocations are what the bank's detail advice would say"
                    ),
                )
            )
            ln.ustrd = None
            made += 1

    # ---- verification: the rules of a careful credit controller, applied in date order
    def verify(self) -> None:
        residual: dict[int, int] = {id(d): d.cents for d in self.docs}
        docs_by_cust: dict[str, list[Doc]] = defaultdict(list)
        for d in self.docs:
            docs_by_cust[d.cust.id].append(d)
        all_docs = self.docs

        def value(d: Doc) -> int:
            return residual[id(d)] if d.kind == "invoice" else -residual[id(d)]

        def open_docs(c: Customer, t: dt.date, ccy: str) -> list[Doc]:
            return [
                d
                for d in docs_by_cust[c.id]
                if residual[id(d)] > 0 and d.issue <= t and d.ccy == ccy
            ]

        for ln in sorted(self.lines, key=lambda x: (x.date, x.seq)):
            if isinstance(ln.text, Callable):
                ln.ustrd = ln.text()
            else:
                ln.ustrd = ln.text
            if ln.expected:  # already decided (batches)
                pass
            elif ln.verify == "person":
                ln.expected = "person"
            elif ln.verify == "unknown":
                same = [
                    d
                    for d in all_docs
                    if d.kind == "invoice"
                    and d.issue <= ln.date
                    and residual[id(d)] == ln.cents
                    and d.ccy == self.ccy(ln)
                ]
                ln.expected = "person"
                ln.note += f"; {len(same)} open invoices of {money(ln.cents)} that day"
            elif ln.verify == "named":
                ok, why = True, ""
                for d, a in ln.allocs:
                    if d.kind == "invoice" and a > residual[id(d)]:
                        ok, why = False, f"{d.id} has only {money(residual[id(d)])} open"
                    if d.kind == "credit_note" and -a > residual[id(d)]:
                        ok, why = False, f"{d.id} already used"
                if ln.family == "sct_in" and not ln.meta.get("partial") and ok:
                    open_sum = sum(value(d) for d, _ in ln.allocs)
                    diff = ln.cents - open_sum
                    if diff and not (ln.meta.get("short") == -diff or ln.meta.get("over") == diff):
                        ok, why = False, f"amount differs from open items by {money(diff)}"
                ln.expected = "auto" if ok else "person"
                if not ok:
                    ln.note += f"; check failed: {why}"
            elif ln.verify == "noisy":
                s = ln.meta["serial"]
                cands = [
                    d
                    for d in all_docs
                    if d.serial == s and residual[id(d)] == ln.cents and d.ccy == self.ccy(ln)
                ]
                payer_ok = [d for d in cands if d.cust is ln.payer]
                ln.expected = "auto" if len(cands) == 1 and len(payer_ok) == 1 else "person"
                ln.note = f"{len(cands)} open document(s) numbered {s} with this amount" + (
                    "" if ln.expected == "auto" else "; ambiguous"
                )
            elif ln.verify == "typo":
                cands = [
                    d
                    for d in open_docs(ln.payer, ln.date, self.ccy(ln))
                    if d.kind == "invoice" and residual[id(d)] == ln.cents
                ]
                ln.expected = "auto" if len(cands) == 1 else "person"
                ln.note += f"; {len(cands)} open invoice(s) of the payer with this amount"
            elif ln.verify in ("noref", "trunc"):
                pool = open_docs(ln.payer, ln.date, self.ccy(ln))
                target = ln.cents
                named: list[Doc] = []
                if ln.verify == "trunc":
                    text = ln.ustrd or ""
                    named = [
                        d for d, _ in ln.allocs if re.search(re.escape(d.id) + r"(?![0-9])", text)
                    ]
                    target -= sum(value(d) for d in named)
                    pool = [d for d in pool if d not in named]
                want = {id(d) for d, _ in ln.allocs} - {id(d) for d in named}
                sols = subsets(pool, target, value)
                if sols == "too_many":
                    ln.expected = "person"
                    ln.note += "; too many open items to be sure"
                else:
                    ln.expected = "auto" if len(sols) == 1 and sols[0] == want else "person"
                    ln.note += f"; {len(sols)} set(s) of the payer's open items fit the amount" + (
                        f" after {len(named)} named" if named else ""
                    )
                if ln.case_kind.startswith("grouped_no_reference"):
                    ln.case_kind = (
                        "grouped_no_reference_unique"
                        if ln.expected == "auto"
                        else "grouped_no_reference_ambiguous"
                    )
                elif ln.case_kind == "amount_payer_unique_no_reference" and ln.expected != "auto":
                    ln.case_kind = "amount_payer_ambiguous_no_reference"
            else:
                raise ValueError(ln.verify)
            for d, a in ln.allocs:
                residual[id(d)] += -a if d.kind == "invoice" else a
        self.residual = residual

    def ccy(self, ln: Line) -> str:
        return self.accounts[ln.account].ccy

    # ---- bank references
    def assign_refs(self) -> None:
        counters: Counter = Counter()
        prefix = {
            "main": "{d}BNP{n:07d}",
            "cfonb": "CA{d}{n:08d}",
            "de": "DE{d}{n:06d}",
            "nl": "NL{d}{n:06d}",
        }
        for ln in sorted(self.lines, key=lambda x: (x.account, x.date, x.seq)):
            counters[ln.account] += 1
            n = counters[ln.account]
            pat = prefix.get(ln.account, "HS" + ln.account[-3:].upper() + "{d}{n:05d}")
            ln.bank_ref = pat.format(d=ln.date.strftime("%y%m%d"), n=n)

    def run(self) -> None:
        r = self.rnd
        self.make_customers()
        self.make_invoices()
        self.assign_third_parties()
        self.plant_same_amount(max(2, self.n // 250))
        self.plant_grouped_ambiguous(max(2, self.n // 300))
        self.plant_typo_ambiguous(max(1, self.n // 500))
        self.walk()
        self.plan_refunds(max(2, self.n // 200))
        self.leftover_credit_notes(max(3, self.n // 150))
        self.number_credit_notes()
        self.non_customer()
        self.verify()
        self.make_batches()
        self.assign_refs()
        del r


def transpose(serial: int) -> int | None:
    s = f"{serial:05d}"
    for i in range(len(s) - 1, 0, -1):
        if s[i] != s[i - 1] and s[i - 1 :].lstrip("0"):
            t = s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]
            if int(t) != serial and int(t) > 0:
                return int(t)
    return None


def typo_text(d: Doc, typo: int) -> str:
    forms = [
        f"FACTURE FA{YEAR}-{typo:05d}",
        f"FA{YEAR}-{typo:05d}",
        f"Fact {YEAR}-{typo:05d}",
        f"REGLEMENT FA{YEAR}-{typo:05d}",
    ]
    return forms[(d.serial + typo) % len(forms)]


def subsets(pool: list[Doc], target: int, value) -> list[set[int]] | str:
    """Every set of documents whose values sum to target (meet in the middle; at most 2 kept)."""
    if len(pool) > 24:
        return "too_many"
    half = len(pool) // 2
    left, right = pool[:half], pool[half:]

    def sums(items):
        out = defaultdict(list)
        n = len(items)
        for mask in range(1 << n):
            s = 0
            for i in range(n):
                if mask >> i & 1:
                    s += value(items[i])
            out[s].append(mask)
        return out

    ls, rs = sums(left), sums(right)
    found: list[set[int]] = []
    if target == 0:
        found.append(set())
    for s, masks in ls.items():
        for rm in rs.get(target - s, []):
            for lm in masks:
                if lm == 0 and rm == 0:
                    continue
                chosen = {id(left[i]) for i in range(len(left)) if lm >> i & 1}
                chosen |= {id(right[i]) for i in range(len(right)) if rm >> i & 1}
                found.append(chosen)
                if len(found) > 2:
                    return found
    return found


# --------------------------------------------------------------------------------------------
# writers

SWIFT_OK = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


def swift_text(s: str) -> str:
    s = strip_accents(s).replace("&", "+").replace("°", "").replace("_", " ").replace("%", " PCT")
    return SWIFT_OK.sub(" ", s)


def month_lines(lines: list[Line], month: int) -> list[Line]:
    return sorted((ln for ln in lines if ln.date.month == month), key=lambda x: (x.date, x.seq))


def end_of_month(m: int) -> dt.date:
    return dt.date(YEAR + (m == 12), m % 12 + 1, 1) - DAY


def sepa_name(s: str | None) -> str | None:
    return s[:70] if s else s


class Camt:
    def __init__(self, version: str):
        self.v = version
        self.ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"

    def sub(self, parent, tag, text=None, **attrib):
        el = etree.SubElement(parent, f"{{{self.ns}}}{tag}", **attrib)
        if text is not None:
            el.text = text
        return el

    def party(self, parent, tag, name):
        el = self.sub(parent, tag)
        if self.v == "08":
            el = self.sub(el, "Pty")
        self.sub(el, "Nm", name[:140])

    def acct(self, parent, tag, iban):
        el = self.sub(self.sub(parent, tag), "Id")
        if iban and re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", iban):
            self.sub(el, "IBAN", iban)
        else:
            self.sub(self.sub(el, "Othr"), "Id", iban or "NOTPROVIDED")

    def bic(self, parent, tag, bic):
        fi = self.sub(self.sub(parent, tag), "FinInstnId")
        self.sub(fi, "BICFI" if self.v == "08" else "BIC", bic)

    def btc(self, parent, domain, fam, sub):
        b = self.sub(self.sub(parent, "BkTxCd"), "Domn")
        self.sub(b, "Cd", domain)
        f = self.sub(b, "Fmly")
        self.sub(f, "Cd", fam)
        self.sub(f, "SubFmlyCd", sub)

    def amount(self, parent, cents, ccy):
        if self.v == "08":
            self.sub(parent, "Amt", money(abs(cents)), Ccy=ccy)
        else:
            self.sub(
                self.sub(self.sub(parent, "AmtDtls"), "TxAmt"), "Amt", money(abs(cents)), Ccy=ccy
            )

    def tx(self, parent, ln: Line, ccy: str, ref: str) -> None:
        tx = self.sub(parent, "TxDtls")
        refs = self.sub(tx, "Refs")
        self.sub(refs, "AcctSvcrRef", ref)
        self.sub(refs, "EndToEndId", ln.e2e or "NOTPROVIDED")
        if ln.mandate:
            self.sub(refs, "MndtId", ln.mandate)
        self.amount(tx, ln.cents, ccy)
        if self.v == "08":
            self.sub(tx, "CdtDbtInd", "CRDT" if ln.cents > 0 else "DBIT")
        incoming = ln.family in ("sct_in", "sdd_in", "sdd_return")
        if ln.payer_name or ln.payer_iban:
            rp = self.sub(tx, "RltdPties")
            if incoming:
                if ln.payer_name:
                    self.party(rp, "Dbtr", ln.payer_name)
                if ln.payer_iban:
                    self.acct(rp, "DbtrAcct", ln.payer_iban)
                if ln.ultimate:
                    self.party(rp, "UltmtDbtr", ln.ultimate)
            else:
                if ln.payer_name:
                    self.party(rp, "Cdtr", ln.payer_name)
                if ln.payer_iban:
                    self.acct(rp, "CdtrAcct", ln.payer_iban)
        if ln.payer_bic:
            self.bic(self.sub(tx, "RltdAgts"), "DbtrAgt" if incoming else "CdtrAgt", ln.payer_bic)
        if ln.ustrd or ln.rf_struct or ln.rfrd:
            rmt = self.sub(tx, "RmtInf")
            if ln.ustrd:
                self.sub(rmt, "Ustrd", ln.ustrd[:140])
            if ln.rf_struct:
                cri = self.sub(self.sub(rmt, "Strd"), "CdtrRefInf")
                tp = self.sub(cri, "Tp")
                self.sub(self.sub(tp, "CdOrPrtry"), "Cd", "SCOR")
                self.sub(tp, "Issr", "ISO")
                self.sub(cri, "Ref", ln.rf_struct.rf)
            for d, a in ln.rfrd or []:
                strd = self.sub(rmt, "Strd")
                rdi = self.sub(strd, "RfrdDocInf")
                self.sub(self.sub(self.sub(rdi, "Tp"), "CdOrPrtry"), "Cd", "CINV")
                self.sub(rdi, "Nb", d.id)
                self.sub(rdi, "RltdDt", d.issue.isoformat())
                self.sub(self.sub(strd, "RfrdDocAmt"), "RmtdAmt", money(a), Ccy=d.ccy)
        if ln.return_reason:
            rt = self.sub(tx, "RtrInf")
            self.sub(self.sub(rt, "Rsn"), "Cd", ln.return_reason)

    def entry(self, stmt, ln: Line, ccy: str) -> None:
        e = self.sub(stmt, "Ntry")
        self.sub(e, "Amt", money(abs(ln.cents)), Ccy=ccy)
        self.sub(e, "CdtDbtInd", "CRDT" if ln.cents > 0 else "DBIT")
        if ln.reversal:
            self.sub(e, "RvslInd", "true")
        if self.v == "08":
            self.sub(self.sub(e, "Sts"), "Cd", "BOOK")
        else:
            self.sub(e, "Sts", "BOOK")
        self.sub(self.sub(e, "BookgDt"), "Dt", ln.date.isoformat())
        self.sub(self.sub(e, "ValDt"), "Dt", ln.date.isoformat())
        self.sub(e, "AcctSvcrRef", ln.bank_ref)
        codes = {
            "sct_in": ("PMNT", "RCDT", "ESCT"),
            "sct_out": ("PMNT", "ICDT", "ESCT"),
            "sdd_in": ("PMNT", "RDDT", "BBDD"),
            "sdd_return": ("PMNT", "RDDT", "UPDD"),
            "sct_return": ("PMNT", "ICDT", "RRTN"),
            "fee": ("ACMT", "MDOP", "CHRG"),
            "interest": ("ACMT", "MCOP", "INTR"),
            "card": ("PMNT", "CCRD", "POSC"),
            "cheque": ("PMNT", "RCHQ", "CCHQ"),
        }[ln.family]
        if ln.parts is not None:
            codes = ("PMNT", "RCDT", "ESCT")
        self.btc(e, *codes)
        if ln.parts is not None:
            nd = self.sub(e, "NtryDtls")
            b = self.sub(nd, "Btch")
            self.sub(b, "NbOfTxs", str(len(ln.parts)))
            if self.v == "08":
                self.sub(b, "TtlAmt", money(ln.cents), Ccy=ccy)
                self.sub(b, "CdtDbtInd", "CRDT")
            if ln.batch_details:
                for i, p in enumerate(ln.parts, 1):
                    self.tx(nd, p, ccy, f"{ln.bank_ref}-{i}")
            self.sub(e, "AddtlNtryInf", ln.label)
            return
        if ln.family in ("fee", "interest", "card", "cheque"):
            self.sub(e, "AddtlNtryInf", (ln.label or ln.ustrd or "")[:500])
            return
        self.tx(self.sub(e, "NtryDtls"), ln, ccy, f"{ln.bank_ref}-1")
        head = {
            "sct_in": "VIR SEPA RECU",
            "sct_out": "VIR SEPA EMIS",
            "sdd_in": "PRLV SEPA B2B",
            "sdd_return": "RETOUR PRLV SEPA B2B IMPAYE",
            "sct_return": "RETOUR VIREMENT",
        }
        info = f"{head[ln.family]} /DE {ln.payer_name or ''}"
        if ln.ustrd:
            info += f" /MOTIF {ln.ustrd}"
        if ln.e2e:
            info += f" /REF {ln.e2e}"
        self.sub(e, "AddtlNtryInf", info[:500])

    def document(self, accounts: list[Account], lines: dict[str, list[Line]]) -> bytes:
        root = etree.Element(f"{{{self.ns}}}Document", nsmap={None: self.ns})
        bk = self.sub(root, "BkToCstmrStmt")
        gh = self.sub(bk, "GrpHdr")
        self.sub(gh, "MsgId", f"CAMT053{self.v}{YEAR}1231{accounts[0].key.upper()[:8]}")
        self.sub(gh, "CreDtTm", f"{YEAR + 1}-01-02T06:15:00")
        pg = self.sub(gh, "MsgPgntn")
        self.sub(pg, "PgNb", "1")
        self.sub(pg, "LastPgInd", "true")
        for acct in accounts:
            bal = acct.opening
            for m in range(1, 13):
                ml = month_lines(lines[acct.key], m)
                first, last = dt.date(YEAR, m, 1), end_of_month(m)
                st = self.sub(bk, "Stmt")
                self.sub(st, "Id", f"{acct.key.upper()}-{YEAR}{m:02d}")
                self.sub(st, "ElctrncSeqNb", str(m))
                self.sub(st, "CreDtTm", f"{(last + DAY).isoformat()}T05:30:00")
                ft = self.sub(st, "FrToDt")
                self.sub(ft, "FrDtTm", f"{first.isoformat()}T00:00:00")
                self.sub(ft, "ToDtTm", f"{last.isoformat()}T23:59:59")
                ac = self.sub(st, "Acct")
                self.sub(self.sub(ac, "Id"), "IBAN", acct.iban)
                self.sub(ac, "Ccy", acct.ccy)
                self.sub(self.sub(ac, "Ownr"), "Nm", SELLER.upper())
                self.bic(ac, "Svcr", acct.bic)
                close = bal + sum(ln.cents for ln in ml)
                for code, amt, d in (("OPBD", bal, first - DAY), ("CLBD", close, last)):
                    b = self.sub(st, "Bal")
                    self.sub(self.sub(self.sub(b, "Tp"), "CdOrPrtry"), "Cd", code)
                    self.sub(b, "Amt", money(abs(amt)), Ccy=acct.ccy)
                    self.sub(b, "CdtDbtInd", "CRDT" if amt >= 0 else "DBIT")
                    self.sub(self.sub(b, "Dt"), "Dt", d.isoformat())
                for ln in ml:
                    self.entry(st, ln, acct.ccy)
                bal = close
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def wrap65(s: str, first_prefix: str) -> list[str]:
    out, s = [], first_prefix + s
    while s:
        out.append(s[:65])
        s = s[65:]
    return out


def mt940(acct: Account, lines: list[Line], style: str) -> str:
    out: list[str] = []
    bal = acct.opening
    cur = acct.ccy

    def amt(c: int) -> str:
        return f"{abs(c) // 100},{abs(c) % 100:02d}"

    def sign(c: int) -> str:
        return "C" if c >= 0 else "D"

    for m in range(1, 13):
        ml = month_lines(lines, m)
        prev = dt.date(YEAR, m, 1) - DAY
        last = end_of_month(m)
        out.append(f":20:STMT{YEAR % 100}{m:02d}{acct.key.upper()}")
        out.append(f":25:{acct.iban}" + (acct.ccy if style == "nl" else ""))
        out.append(f":28C:{m:05d}/001" if style == "de" else f":28C:{m:05d}")
        out.append(f":60F:{sign(bal)}{prev:%y%m%d}{cur}{amt(bal)}")
        for ln in ml:
            ttt = {
                "sct_in": "TRF",
                "sct_out": "TRF",
                "sdd_in": "DDT",
                "sdd_return": "RTI",
                "sct_return": "RTI",
                "fee": "CHG",
                "interest": "INT",
                "card": "MSC",
                "cheque": "CHK",
            }[ln.family]
            cref = (ln.e2e or "NONREF")[:16]
            if style == "nl" and ln.e2e:
                cref = "EREF"
            out.append(
                f":61:{ln.date:%y%m%d}{ln.date:%m%d}{sign(ln.cents)}{amt(ln.cents)}"
                f"N{ttt}{cref}//{ln.bank_ref}"
            )
            text = swift_text(ln.ustrd or "")
            name = swift_text(ln.payer_name or "")
            if style == "de":
                gvc = {
                    "sct_in": "166",
                    "sct_out": "116",
                    "sdd_return": "109",
                    "sct_return": "159",
                    "fee": "805",
                    "interest": "804",
                    "card": "166",
                    "cheque": "070",
                    "sdd_in": "171",
                }[ln.family]
                head = {
                    "166": "GUTSCHR. UEBERWEISUNG",
                    "116": "SEPA UEBERWEISUNG",
                    "109": "RUECKLASTSCHRIFT",
                    "159": "RUECKUEBERWEISUNG",
                    "805": "ABSCHLUSS",
                    "804": "ZINSEN",
                    "070": "SCHECKEINREICHUNG",
                    "171": "SEPA LASTSCHRIFT",
                }[gvc]
                chunks: list[str] = []
                text = text.replace("?", " ")
                if ln.family in ("sct_in", "sct_out", "sct_return"):
                    chunks.append(f"EREF+{ln.e2e or 'NOTPROVIDED'}"[:27])
                    text = "SVWZ+" + text
                chunks += [text[i : i + 27] for i in range(0, len(text), 27)]
                if ln.ultimate:
                    chunks.append(f"ABWA+{swift_text(ln.ultimate)}"[:27])
                tags = [f"{n:02d}" for n in [*range(20, 30), *range(60, 64)]]
                fields = [f"{gvc}", f"?00{head}", "?109310"]
                fields += [f"?{tag}{ch}" for tag, ch in zip(tags, chunks, strict=False)]
                if ln.payer_bic:
                    fields.append(f"?30{ln.payer_bic}")
                if ln.payer_iban:
                    fields.append(f"?31{ln.payer_iban}")
                if name:
                    fields.append(f"?32{name[:27]}")
                    if len(name) > 27:
                        fields.append(f"?33{name[27:54]}")
                # German banks break :86: lines between ?-subfields, 65 characters at most
                row = ":86:"
                for f_ in fields:
                    if len(row) + len(f_) > 65:
                        out.append(row)
                        row = ""
                    row += f_
                out.append(row)
            else:
                t = text.replace("/", " ")
                body = ""
                if ln.family == "sdd_return" or ln.family == "sct_return":
                    body += f"/RTRN/{ln.return_reason or 'MS03'}/"
                if ln.family in ("sct_in", "sct_out", "sct_return", "sdd_return"):
                    body += f"/EREF/{ln.e2e or 'NOTPROVIDED'}//CNTP/{ln.payer_iban or ''}/"
                    body += f"{ln.payer_bic or ''}/{name.replace('/', ' ')}///"
                if ln.rf_struct:
                    body += f"REMI/STRD/CUR/{ln.rf_struct.rf}/"
                else:
                    body += f"REMI/USTD//{t}/" if body else f"/REMI/USTD//{t}/"
                out.extend(wrap65(body[:390], ":86:"))
        bal += sum(ln.cents for ln in ml)
        out.append(f":62F:{sign(bal)}{last:%y%m%d}{cur}{amt(bal)}")
        out.append("-")
    return "\r\n".join(out) + "\r\n"


def cfonb(acct: Account, lines: list[Line]) -> str:
    bank, branch, account = acct.fr_parts

    def amount(cents: int) -> str:
        digits = f"{abs(cents):014d}"
        last = int(digits[-1])
        ch = ("{ABCDEFGHI" if cents >= 0 else "}JKLMNOPQR")[last]
        return digits[:-1] + ch

    def head(code: str, op: str, interbank: str, d: dt.date) -> str:
        return f"{code}{bank}{op:<4}{branch}{acct.ccy}2 {account}{interbank:<2}{d:%d%m%y}"

    def fit(s: str, n: int) -> str:
        s = strip_accents(s).upper()
        s = re.sub(r"[^A-Z0-9 /\-.,:'+()*&]", " ", s)
        return s[:n].ljust(n)

    out: list[str] = []
    bal = acct.opening
    for m in range(1, 13):
        ml = month_lines(lines, m)
        prev = dt.date(YEAR, m, 1) - DAY
        last = end_of_month(m)
        out.append(
            f"01{bank}    {branch}{acct.ccy}2 {account}  {prev:%d%m%y}"
            + " " * 50
            + amount(bal)
            + " " * 16
        )
        for n, ln in enumerate(ml, 1):
            code = {
                "sct_in": "05",
                "sct_out": "06",
                "fee": "13",
                "interest": "33",
                "cheque": "01",
                "sdd_return": "10",
                "sct_return": "06",
                "card": "23",
                "sdd_in": "15",
            }[ln.family]
            lab = {
                "sct_in": f"VIR SEPA {ln.payer_name or ''}",
                "sct_out": f"VIR SEPA EMIS {ln.payer_name or ''}",
                "sct_return": f"RETOUR VIR {ln.payer_name or ''}",
            }.get(ln.family, ln.label or ln.ustrd or "")
            rec = (
                head("04", "0005", code, ln.date)
                + "  "
                + f"{ln.date:%d%m%y}"
                + fit(lab, 31)
                + "  "
                + f"{n:07d}"
                + "0"
                + "0"
                + amount(ln.cents)
                + fit(ln.bank_ref, 16)
            )
            out.append(rec)
            h5 = head("05", "0005", code, ln.date) + "     "
            if ln.family in ("sct_in", "sct_out", "sct_return"):
                if ln.payer_name:
                    out.append(h5 + "NPY" + fit(ln.payer_name, 70) + "  ")
                text = ln.ustrd or ""
                for i in range(0, min(len(text), 140), 70):
                    out.append(h5 + "LIB" + fit(text[i : i + 70], 70) + "  ")
                if ln.e2e:
                    out.append(h5 + "RCN" + fit(ln.e2e, 70) + "  ")
            elif ln.ustrd and ln.ustrd != lab:
                out.append(h5 + "LIB" + fit(ln.ustrd, 70) + "  ")
        bal += sum(ln.cents for ln in ml)
        out.append(
            f"07{bank}    {branch}{acct.ccy}2 {account}  {last:%d%m%y}"
            + " " * 50
            + amount(bal)
            + " " * 16
        )
    for rec in out:
        assert len(rec) == 120, (len(rec), rec)
    return "\r\n".join(out) + "\r\n"


# --------------------------------------------------------------------------------------------
# output


def write_all(g: Generator, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    (out / "statements").mkdir(exist_ok=True)
    # customers: comma, UTF-8, no BOM
    rows = [
        "customer_id,name,email,iban,siren,vat_number,language,address_line1,postal_code,"
        "city,country"
    ]
    for c in g.customers:
        rows.append(
            ",".join(
                csv_field(x)
                for x in (
                    c.id,
                    c.name,
                    c.email,
                    c.iban_file or "",
                    c.siren,
                    c.vat,
                    c.inv_lang,
                    c.addr,
                    c.postal,
                    c.city,
                    c.country,
                )
            )
        )
    (out / "customers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # invoices: semicolon, French decimals and dates, UTF-8 with BOM (an Excel-friendly ERP export)
    cols = [
        "invoice_id",
        "customer_id",
        "customer_name",
        "issue_date",
        "due_date",
        "currency",
        "amount_total",
        "document_type",
        "reference",
        "customer_iban",
        "customer_siren",
        "customer_vat",
        "language",
        "customer_email",
        "po_number",
        "customer_address_line1",
        "customer_postal_code",
        "customer_city",
        "customer_country",
    ]
    rows = [";".join(cols)]
    for d in sorted(g.docs, key=lambda d: (d.issue, d.id)):
        c = d.cust
        rows.append(
            ";".join(
                csv_field(x, ";")
                for x in (
                    d.id,
                    c.id,
                    c.name,
                    d.issue.strftime("%d/%m/%Y"),
                    d.due.strftime("%d/%m/%Y"),
                    d.ccy,
                    money_fr(d.cents),
                    "invoice" if d.kind == "invoice" else "credit_note",
                    d.rf or "",
                    c.iban_file or "",
                    c.siren,
                    c.vat,
                    c.inv_lang,
                    c.email,
                    d.po or "",
                    c.addr,
                    c.postal,
                    c.city,
                    c.country,
                )
            )
        )
    (out / "invoices.csv").write_text("\ufeff" + "\r\n".join(rows) + "\r\n", encoding="utf-8")

    by_acct: dict[str, list[Line]] = defaultdict(list)
    for ln in g.lines:
        by_acct[ln.account].append(ln)
    a = g.accounts
    files = {
        "camt053_v08_bnp.xml": Camt("08").document([a["main"]], by_acct),
        "camt053_v02_hsbc.xml": Camt("02").document(
            [a["hsbc_eur"], a["hsbc_usd"], a["hsbc_gbp"], a["hsbc_chf"]], by_acct
        ),
        "mt940_commerzbank.sta": mt940(a["de"], by_acct["de"], "de").encode("ascii"),
        "mt940_ing.sta": mt940(a["nl"], by_acct["nl"], "nl").encode("ascii"),
        "cfonb120_credit_agricole.txt": cfonb(a["cfonb"], by_acct["cfonb"]).encode("ascii"),
    }
    for name, data in files.items():
        (out / "statements" / name).write_bytes(data)

    gt = [
        "account_iban,currency,statement_file,booking_date,amount,bank_reference,case_kind,"
        "expected,allocations,note"
    ]
    fname = {
        "main": "camt053_v08_bnp.xml",
        "cfonb": "cfonb120_credit_agricole.txt",
        "de": "mt940_commerzbank.sta",
        "nl": "mt940_ing.sta",
    }
    for ln in sorted(g.lines, key=lambda x: (x.account, x.date, x.bank_ref)):
        acct = a[ln.account]
        allocs = json.dumps(
            [{"invoice_id": d.id, "amount": money(x)} for d, x in ln.allocs], separators=(",", ":")
        )
        gt.append(
            ",".join(
                csv_field(x)
                for x in (
                    acct.iban,
                    acct.ccy,
                    fname.get(ln.account, "camt053_v02_hsbc.xml"),
                    ln.date.isoformat(),
                    money(ln.cents),
                    ln.bank_ref,
                    ln.case_kind,
                    ln.expected,
                    allocs,
                    ln.note.strip("; "),
                )
            )
        )
    (out / "ground_truth.csv").write_text("\n".join(gt) + "\n", encoding="utf-8")

    per_case: dict[str, Counter] = defaultdict(Counter)
    for ln in g.lines:
        per_case[ln.case_kind][ln.expected] += 1
    summary = {
        "seed": g.seed,
        "invoices": sum(1 for d in g.docs if d.kind == "invoice"),
        "credit_notes": sum(1 for d in g.docs if d.kind == "credit_note"),
        "customers": len(g.customers),
        "bank_lines": len(g.lines),
        "per_expected": dict(Counter(ln.expected for ln in g.lines)),
        "per_case_kind": {
            k: {"total": sum(v.values()), **dict(v)}
            for k, v in sorted(per_case.items(), key=lambda kv: -sum(kv[1].values()))
        },
        "per_account": {a[k].iban + " " + a[k].ccy: len(v) for k, v in sorted(by_acct.items())},
        "open_at_year_end": sum(1 for d in g.docs if g.residual[id(d)] > 0),
    }
    (out / "expected_summary.json").write_text(
        json.dumps(summary, indent=2) + "\n", encoding="utf-8"
    )
    return summary


def csv_field(x: str, sep: str = ",") -> str:
    x = str(x)
    if any(ch in x for ch in (sep, '"', "\n")):
        return '"' + x.replace('"', '""') + '"'
    return x


# --------------------------------------------------------------------------------------------
# self-check: XSD validity and balances, read back from the written files


def self_check(out: Path, xsd_dir: Path | None) -> list[str]:
    report = []
    st = out / "statements"
    for name, v in (("camt053_v08_bnp.xml", "08"), ("camt053_v02_hsbc.xml", "02")):
        doc = etree.parse(str(st / name))
        xsd = xsd_dir / f"camt.053.001.{v}.xsd" if xsd_dir else None
        if xsd and xsd.exists():
            schema = etree.XMLSchema(etree.parse(str(xsd)))
            ok = schema.validate(doc)
            report.append(f"{name}: XSD camt.053.001.{v} {'valid' if ok else 'INVALID'}")
            if not ok:
                report.extend(str(e) for e in list(schema.error_log)[:5])
        ns = {"c": f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{v}"}
        bad = 0
        stmts = doc.findall(".//c:Stmt", ns)
        for s in stmts:
            bals = {}
            for b in s.findall("c:Bal", ns):
                sgn = 1 if b.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
                bals[b.findtext(".//c:Cd", namespaces=ns)] = sgn * round(
                    float(b.findtext("c:Amt", namespaces=ns)) * 100
                )
            mv = 0
            for e in s.findall("c:Ntry", ns):
                sgn = 1 if e.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
                mv += sgn * round(float(e.findtext("c:Amt", namespaces=ns)) * 100)
            bad += bals["OPBD"] + mv != bals["CLBD"]
        report.append(f"{name}: {len(stmts)} statements, {bad} unbalanced")
    for name in ("mt940_commerzbank.sta", "mt940_ing.sta"):
        text = (st / name).read_bytes().decode("ascii")
        bad = n = 0
        for block in text.split("\r\n-\r\n"):
            if ":60F:" not in block:
                continue
            n += 1

            def val(tag, block=block):
                mm = re.search(tag + r"([CD])\d{6}[A-Z]{3}([0-9,]+)", block)
                c = int(mm.group(2).replace(",", ""))
                return c if mm.group(1) == "C" else -c

            mv = sum(
                (1 if s == "C" else -1) * int(a.replace(",", ""))
                for s, a in re.findall(r":61:\d{10}(C|D)([0-9]+,[0-9]{2})", block)
            )
            bad += val(":60F:") + mv != val(":62F:")
        report.append(f"{name}: {n} statements, {bad} unbalanced")
    recs = (st / "cfonb120_credit_agricole.txt").read_bytes().decode("ascii").split("\r\n")
    bad = n = 0
    cur = mv = 0

    def cf_amount(field_: str) -> int:
        ch = field_[-1]
        if ch in "{ABCDEFGHI":
            return int(field_[:-1] + str("{ABCDEFGHI".index(ch)))
        return -int(field_[:-1] + str("}JKLMNOPQR".index(ch)))

    for rec in recs:
        if not rec:
            continue
        if len(rec) != 120:
            bad += 1
        if rec.startswith("01"):
            cur, mv, n = cf_amount(rec[90:104]), 0, n + 1
        elif rec.startswith("04"):
            mv += cf_amount(rec[90:104])
        elif rec.startswith("07"):
            bad += cur + mv != cf_amount(rec[90:104])
    report.append(
        f"cfonb120_credit_agricole.txt: {n} statements, {bad} unbalanced or not 120 columns"
    )
    # RF check digits in the export
    inv = (out / "invoices.csv").read_text(encoding="utf-8-sig").splitlines()
    refs = [r.split(";")[8] for r in inv[1:] if r.split(";")[8]]
    report.append(
        f"invoices.csv: {len(refs)} RF references, "
        f"{sum(not rf_is_valid(x) for x in refs)} with bad check digits"
    )
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir", type=Path)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--invoices", type=int, default=1500)
    default_xsd = Path(__file__).resolve().parents[3] / "shared" / "xsd"
    p.add_argument(
        "--xsd-dir",
        type=Path,
        default=default_xsd,
        help="folder with camt.053.001.08.xsd/.02.xsd to validate against",
    )
    p.add_argument("--no-check", action="store_true", help="skip the read-back self-check")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    g = Generator(args.seed, args.invoices)
    g.run()
    summary = write_all(g, args.out_dir)
    elapsed = time.perf_counter() - t0
    print(
        f"{summary['invoices']} invoices, {summary['credit_notes']} credit notes, "
        f"{summary['bank_lines']} bank lines in {elapsed:.1f}s -> {args.out_dir}"
    )
    print(json.dumps(summary["per_expected"]))
    if not args.no_check:
        report = self_check(args.out_dir, args.xsd_dir if args.xsd_dir.exists() else None)
        print("\n".join(report))
        if any(
            "INVALID" in r
            or (" unbalanced" in r and not re.search(r" 0 unbalanced", r))
            or ("bad check" in r and not r.endswith(" 0 with bad check digits"))
            for r in report
        ):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
