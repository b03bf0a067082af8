"""Held-out evaluation company: Labornova, a Lyon maker of laboratory equipment and consumables.

One year (2026) of ERP exports and bank statements, plus the answer a careful credit controller
would give for every booked bank line. See README.md beside this file for the habits, the rules
that decide `expected`, and the assumptions.

    .venv/bin/python benchmarks/fresh_company/generate.py OUT_DIR --seed 23 --invoices 1500
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import random
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from lxml import etree

YEAR = 2026
START = dt.date(YEAR, 1, 1)
END = dt.date(YEAR, 12, 31)
ERP_SWITCH = dt.date(YEAR, 7, 1)  # the French entity moves to a new ERP: new numbering
XSD_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "xsd"
C = Decimal("0.01")


def D(x) -> Decimal:
    return Decimal(str(x)).quantize(C)


# ----------------------------------------------------------------------------- check digits


def mod97(s: str) -> int:
    n = "".join(str(int(ch, 36)) for ch in s)
    return int(n) % 97


def iban(country: str, bban: str) -> str:
    check = 98 - mod97(bban + country + "00")
    return f"{country}{check:02d}{bban}"


def iban_ok(value: str) -> bool:
    return mod97(value[4:] + value[:4]) == 1


def fr_rib_key(bank: str, branch: str, account: str) -> str:
    acc = "".join(str(int(ch, 36) % 9 or 9) if ch.isalpha() else ch for ch in account)
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(acc)) % 97:02d}"


def fr_iban(rng: random.Random, bank: str | None = None) -> str:
    bank = bank or rng.choice(["30004", "30003", "10278", "13825", "18706", "11306", "30066"])
    branch = f"{rng.randint(100, 9999):05d}"
    account = f"{rng.randint(10**9, 10**10 - 1):011d}"
    return iban("FR", bank + branch + account + fr_rib_key(bank, branch, account))


def es_iban(rng: random.Random) -> str:
    bank = rng.choice(["0182", "2100", "0049", "0081"])
    branch = f"{rng.randint(1, 9999):04d}"
    acc = f"{rng.randint(10**8, 10**10 - 1):010d}"

    def dc(digits: str) -> str:
        w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]
        v = 11 - sum(int(c) * w[i] for i, c in enumerate(digits.zfill(10))) % 11
        return str({10: 1, 11: 0}.get(v, v))

    return iban("ES", bank + branch + dc("00" + bank + branch) + dc(acc) + acc)


def generic_iban(rng: random.Random, country: str) -> str:
    if country == "FR":
        return fr_iban(rng)
    if country == "ES":
        return es_iban(rng)
    body = {
        "IT": lambda: (
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            + f"{rng.randint(10**9, 10**10 - 1)}{rng.randint(10**11, 10**12 - 1):012d}"[:22]
        ),
        "PT": lambda: f"0033{rng.randint(0, 9999):04d}{rng.randint(10**12, 10**13 - 1)}",
        "LU": lambda: (
            f"{rng.choice(['001', '003', '019', '014'])}{rng.randint(10**12, 10**13 - 1)}"
        ),
        "BE": None,
        "CH": lambda: f"00{rng.choice(['762', '235', '483'])}{rng.randint(10**11, 10**12 - 1)}",
        "DE": lambda: f"{rng.randint(10**7, 10**8 - 1)}{rng.randint(10**9, 10**10 - 1)}",
    }
    if country == "BE":
        b = rng.randint(10**9, 10**10 - 1)
        return iban("BE", f"{b:010d}{(b % 97) or 97:02d}")
    if country == "US":
        return ""
    return iban(country, body[country]())


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def siren(rng: random.Random) -> str:
    while True:
        s = f"{rng.randint(10**8, 10**9 - 1)}"
        if luhn_ok(s):
            return s


def fr_vat(s: str) -> str:
    return f"FR{(12 + 3 * (int(s) % 97)) % 97:02d}{s}"


def rf_ref(body: str) -> str:
    check = 98 - mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def ogm(n: int) -> str:
    base = f"{n:010d}"
    chk = int(base) % 97 or 97
    digits = base + f"{chk:02d}"
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


# ----------------------------------------------------------------------------- company data

ACCOUNTS = {
    # key: (iban, currency, bank, format, entity)
    "FR_LCL": ("FR", "EUR", "Crédit Lyonnais", "cfonb", "LBN-FR"),
    "FR_CAM": ("FR", "EUR", "Crédit Agricole Centre-Est", "camt08", "LBN-FR"),
    "LU_BGL": ("LU", "EUR", "BGL BNP Paribas", "camt08", "LBN-LU"),
    "ES_BBVA": ("ES", "EUR", "BBVA", "camt02", "LBN-FR"),
    "CH_ZKB": ("CH", "CHF", "Zürcher Kantonalbank", "mt940", "LBN-FR"),
    "US_ZKB": ("CH", "USD", "Zürcher Kantonalbank", "mt940", "LBN-FR"),
}
REF_PREFIX = {
    "FR_LCL": "LCL",
    "FR_CAM": "CAM",
    "LU_BGL": "BGL",
    "ES_BBVA": "BBV",
    "CH_ZKB": "ZKC",
    "US_ZKB": "ZKU",
}

FR_CITIES = [
    ("Lyon", "69003"),
    ("Grenoble", "38000"),
    ("Saint-Étienne", "42000"),
    ("Clermont-Ferrand", "63000"),
    ("Dijon", "21000"),
    ("Annecy", "74000"),
    ("Valence", "26000"),
    ("Chambéry", "73000"),
    ("Marseille", "13005"),
    ("Montpellier", "34090"),
    ("Strasbourg", "67000"),
    ("Toulouse", "31400"),
    ("Bordeaux", "33000"),
    ("Nancy", "54000"),
    ("Besançon", "25000"),
    ("Limoges", "87000"),
]
PUBLIC_PAYERS = {
    "AURA": "DRFIP AUVERGNE RHONE ALPES ET DU DEPARTEMENT DU RHONE",
    "PACA": "DRFIP PROVENCE ALPES COTE D AZUR",
    "GE": "DRFIP GRAND EST ET DU BAS RHIN",
    "OCC": "DRFIP OCCITANIE ET HAUTE GARONNE",
    "BFC": "DRFIP BOURGOGNE FRANCHE COMTE",
    "NA": "DRFIP NOUVELLE AQUITAINE",
}
CITY_REGION = {
    "Lyon": "AURA",
    "Grenoble": "AURA",
    "Saint-Étienne": "AURA",
    "Clermont-Ferrand": "AURA",
    "Annecy": "AURA",
    "Valence": "AURA",
    "Chambéry": "AURA",
    "Dijon": "BFC",
    "Besançon": "BFC",
    "Marseille": "PACA",
    "Montpellier": "OCC",
    "Toulouse": "OCC",
    "Strasbourg": "GE",
    "Nancy": "GE",
    "Bordeaux": "NA",
    "Limoges": "NA",
}
LAB_WORDS = ["Bioanalyses", "Biolab", "Analyses Médicales", "Biologie", "Cytolab", "Labomed"]
FAMILY = ["Martin", "Girard", "Roux", "Fabre", "Morel", "Garnier", "Chevalier", "Perrin", "Blanc"]
ES_CITIES = ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Zaragoza"]
IT_CITIES = ["Milano", "Torino", "Bologna", "Padova", "Roma", "Firenze"]
PT_CITIES = ["Lisboa", "Porto", "Coimbra", "Braga"]
CH_CITIES = [("Genève", "1205"), ("Lausanne", "1004"), ("Basel", "4051"), ("Zürich", "8001")]
US_CITIES = [("Boston", "MA 02115"), ("San Diego", "CA 92121"), ("Raleigh", "NC 27601")]


@dataclass
class Customer:
    cid: str
    name: str
    legal_form: str
    country: str
    city: str
    postal: str
    entity: str
    currency: str
    account: str
    segment: str  # public, univ, privlab, group, distrib, industry
    iban: str  # on file (may be a treasury centre's or a DRFIP's)
    pay_iban: str  # what the bank shows
    payer: str  # name the bank shows (before mangling)
    method: str  # transfer, chorus, sdd, cheque, confirming, treasury
    siren: str = ""
    vat: str = ""
    language: str = "fr"
    email: str = ""
    group: str = ""
    lateness: int = 10
    contract: Decimal | None = None


@dataclass
class Doc:
    doc_id: str
    cust: Customer
    issue: dt.date
    due: dt.date
    amount: Decimal  # signed: credit notes negative
    kind: str  # invoice / credit_note
    reference: str = ""
    po: str = ""
    seq: int = 0


@dataclass
class Line:
    account: str
    booking: dt.date
    amount: Decimal  # signed
    case_kind: str
    allocs: list = field(default_factory=list)  # [(doc_id, Decimal)]
    payer: str = ""
    payer_iban: str = ""
    ustrd: str = ""
    strd: list = field(default_factory=list)  # [(type, number, date, due, remitted)]
    scor: str = ""  # creditor reference in the structured field
    e2e: str = "NOTPROVIDED"
    refs: list = field(default_factory=list)  # [(doc_id, 'exact'|'fuzzy'|'po')]
    family: str = "transfer"  # transfer, cheque, sdd_batch, sdd_return, other, card, wire
    txs: list = field(default_factory=list)  # batch transactions (Line objects)
    details: bool = True
    reason: str = ""
    reversal: bool = False
    bank_ref: str = ""
    note: str = ""
    known_payer: bool = True
    cust: Customer | None = None
    expected: str = ""
    order: int = 0


def strip_accents(s: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch)
    ).replace("'", " ")


ABBREV = {
    "LABORATOIRE": "LABO",
    "LABORATOIRES": "LABOS",
    "CENTRE HOSPITALIER UNIVERSITAIRE": "CHU",
    "CENTRE HOSPITALIER": "CH",
    "UNIVERSITE": "UNIV",
    "BIOLOGIE": "BIOL",
    "ANALYSES MEDICALES": "ANALYSES MED",
    "INTERNATIONAL": "INTL",
    "DISTRIBUCION": "DISTRIB",
    "SCIENTIFIQUE": "SCIENT",
    "SOCIETE": "STE",
}


def bank_name(rng: random.Random, name: str, form: str, width: int = 70) -> str:
    """The payer name as a bank prints it."""
    n = strip_accents(name).upper()
    f = strip_accents(form).upper().replace(".", "")
    r = rng.random()
    if r < 0.30:
        out = f"{n} {f}".strip()
    elif r < 0.50:
        out = f"{f} {n}".strip()  # legal form moved in front
    elif r < 0.70:
        out = n  # legal form dropped
    else:
        out = n
        for k, v in ABBREV.items():
            out = out.replace(k, v)
        if rng.random() < 0.5:
            out = f"{out} {f}".strip()
    return out[:width].rstrip()


# ----------------------------------------------------------------------------- generation


class Gen:
    def __init__(self, seed: int, n_invoices: int):
        self.rng = random.Random(seed)
        self.n = n_invoices
        self.customers: list[Customer] = []
        self.docs: dict[str, Doc] = {}
        self.lines: list[Line] = []
        self.acct_iban: dict[str, str] = {}
        self.seq = Counter()
        self.scheduled: set[str] = set()

    # -- customers
    def make_accounts(self):
        rng = self.rng
        self.acct_iban["FR_LCL"] = iban("FR", "30002" + "00447" + "0000888899H" + "21")
        bank, br, acc = "17806", "00200", "52076541000"
        self.acct_iban["FR_CAM"] = iban("FR", bank + br + acc + fr_rib_key(bank, br, acc))
        self.acct_iban["LU_BGL"] = iban("LU", "0030" + "184562917000")
        self.acct_iban["ES_BBVA"] = es_iban(rng)
        self.acct_iban["CH_ZKB"] = iban("CH", "00700" + "110004418221")
        self.acct_iban["US_ZKB"] = iban("CH", "00700" + "110004418239")
        # the LCL account as its RIB for the CFONB file
        fr = self.acct_iban["FR_LCL"]
        self.fr_rib = (fr[4:9], fr[9:14], fr[14:25])

    def add(self, **kw) -> Customer:
        rng = self.rng
        cid = f"C{len(self.customers) + 1:04d}"
        c = Customer(cid=cid, **kw)
        if c.country == "FR" and c.segment not in ("public", "univ"):
            c.siren = siren(rng)
            c.vat = fr_vat(c.siren)
        elif c.country == "FR":
            c.siren = siren(rng)
        slug = strip_accents(c.name).lower().replace(" ", "").replace("-", "")
        slug = slug[:10] + slug[-8:]
        tld = {"FR": "fr", "LU": "lu", "BE": "be", "ES": "es", "IT": "it", "PT": "pt", "CH": "ch"}
        c.email = f"comptabilite@{slug}.{tld.get(c.country, 'com')}"
        c.language = "fr" if c.country in ("FR", "LU", "BE") else "en"
        self.customers.append(c)
        return c

    def make_customers(self):
        rng = self.rng
        # public hospitals and universities (Chorus Pro, paid by the DRFIP of their region)
        drfip_iban = {k: fr_iban(rng, "30001") for k in PUBLIC_PAYERS}
        for city, pc in FR_CITIES[:12]:
            reg = CITY_REGION[city]
            big = city in ("Lyon", "Grenoble", "Marseille", "Toulouse", "Strasbourg", "Bordeaux")
            name = (
                f"Centre Hospitalier Universitaire de {city}"
                if big
                else f"Centre Hospitalier de {city}"
            )
            c = self.add(
                name=name,
                legal_form="",
                country="FR",
                city=city,
                postal=pc,
                entity="LBN-FR",
                currency="EUR",
                account="FR_LCL",
                segment="public",
                iban=drfip_iban[reg],
                pay_iban=drfip_iban[reg],
                payer=PUBLIC_PAYERS[reg],
                method="chorus",
                lateness=rng.randint(35, 80),
            )
            if big:
                c.contract = D(rng.choice([1180, 2450, 890]) * 1.2)
        for city, pc in FR_CITIES[:9]:
            reg = CITY_REGION[city]
            self.add(
                name=f"Université {city} {rng.choice(['Sciences', 'Santé', 'Alpes', 'Sud'])}",
                legal_form="",
                country="FR",
                city=city,
                postal=pc,
                entity="LBN-FR",
                currency="EUR",
                account="FR_LCL",
                segment="univ",
                iban=drfip_iban[reg],
                pay_iban=drfip_iban[reg],
                payer=PUBLIC_PAYERS[reg],
                method="chorus",
                lateness=rng.randint(20, 60),
            )
        # private lab groups paying through a treasury centre (structured remittance, camt)
        for gname in ["Biolia", "Cerbalab"]:
            tiban = fr_iban(rng)
            for i in range(5):
                city, pc = FR_CITIES[rng.randrange(len(FR_CITIES))]
                self.add(
                    name=f"{gname} {city} {rng.choice(LAB_WORDS)}" + (f" {i + 1}" if i > 2 else ""),
                    legal_form="SELAS",
                    country="FR",
                    city=city,
                    postal=pc,
                    entity="LBN-FR",
                    currency="EUR",
                    account="FR_CAM",
                    segment="group",
                    iban=tiban,
                    pay_iban=tiban,
                    payer=f"{gname.upper()} SERVICES TRESORERIE",
                    method="treasury",
                    group=gname,
                    lateness=rng.randint(0, 15),
                )
        # private labs paying by SEPA B2B direct debit (camt v08 at Crédit Agricole)
        for i in range(14):
            city, pc = FR_CITIES[rng.randrange(len(FR_CITIES))]
            nm = f"Laboratoire {rng.choice(FAMILY)} {rng.choice(LAB_WORDS)}"
            ib = fr_iban(rng)
            c = self.add(
                name=nm,
                legal_form=rng.choice(["SELARL", "SELAS", "SAS"]),
                country="FR",
                city=city,
                postal=pc,
                entity="LBN-FR",
                currency="EUR",
                account="FR_CAM",
                segment="privlab",
                iban=ib,
                pay_iban=ib,
                payer=nm,
                method="sdd",
            )
            if i < 5:
                c.contract = D(rng.choice([149, 210, 320, 149]) * 1.2)
        # private labs and industry paying by transfer or cheque (LCL, CFONB)
        for i in range(34):
            city, pc = FR_CITIES[rng.randrange(len(FR_CITIES))]
            if i % 3 == 0:
                nm = f"{rng.choice(['Agro', 'Pharma', 'Cosmé', 'Eau'])}"
                nm += f"{rng.choice(['tech', 'lys', 'contrôle', 'vita'])} {city}"
                form, seg = rng.choice(["SAS", "SA", "SARL"]), "industry"
            else:
                nm = f"Laboratoire {rng.choice(FAMILY)}"
                nm += f" {rng.choice(LAB_WORDS)} {rng.choice(['', 'du Rhône', 'des Alpes'])}"
                nm = nm.strip()
                form, seg = rng.choice(["SELARL", "SELAS", "SAS"]), "privlab"
            ib = fr_iban(rng)
            method = "cheque" if i % 8 == 5 else "transfer"
            c = self.add(
                name=nm,
                legal_form=form,
                country="FR",
                city=city,
                postal=pc,
                entity="LBN-FR",
                currency="EUR",
                account="FR_LCL",
                segment=seg,
                iban=ib,
                pay_iban=ib,
                payer=nm,
                method=method,
                lateness=rng.randint(0, 40),
            )
            if i % 9 == 2:
                c.contract = D(480)  # the standard maintenance contract, same at many customers
            if i % 11 == 4:  # pays from another account than the one on file
                c.pay_iban = fr_iban(rng)
        # Luxembourg and Belgian customers of the Luxembourg subsidiary
        for i in range(14):
            be = i % 2 == 1
            country = "BE" if be else "LU"
            city = rng.choice(["Bruxelles", "Liège", "Namur"] if be else ["Luxembourg", "Esch"])
            nm = (
                rng.choice(["Labo", "Centre de Biologie", "BioTech", "Clinique", "Institut"])
                + f" {rng.choice(FAMILY)}{'' if be else ' Lux'}"
            )
            ib = generic_iban(rng, country)
            self.add(
                name=nm,
                legal_form="SRL" if be else rng.choice(["SA", "SARL"]),
                country=country,
                city=city,
                postal="1000" if be else "L-1855",
                entity="LBN-LU",
                currency="EUR",
                account="LU_BGL",
                segment="distrib" if i % 4 == 0 else "privlab",
                iban=ib,
                pay_iban=ib,
                payer=nm,
                method="transfer",
                lateness=rng.randint(0, 30),
            )
        # Spain, Italy, Portugal (BBVA, camt v02); Spanish customers often pay by confirming
        for country, cities, forms in (
            ("ES", ES_CITIES, ["S.L.", "S.A."]),
            ("IT", IT_CITIES, ["S.r.l.", "S.p.A."]),
            ("PT", PT_CITIES, ["Lda", "S.A."]),
        ):
            for i in range({"ES": 9, "IT": 8, "PT": 5}[country]):
                city = rng.choice(cities)
                word = {"ES": "Laboratorios", "IT": "Laboratori", "PT": "Laboratórios"}[country]
                if i % 3 == 0:
                    word = {
                        "ES": "Distribuciones Científicas",
                        "IT": "Forniture Scientifiche",
                        "PT": "Equipamentos Científicos",
                    }[country]
                nm = f"{word} {rng.choice(['Iberlab', 'Medilab', 'Analitica', 'Biosur'])} {city}"
                if country == "IT" and i == 4:
                    nm = f"Azienda Sanitaria Locale {city}"
                ib = generic_iban(rng, country)
                method = "confirming" if country == "ES" and i % 3 == 1 else "transfer"
                c = self.add(
                    name=nm,
                    legal_form=rng.choice(forms) if "Azienda" not in nm else "",
                    country=country,
                    city=city,
                    postal="28001",
                    entity="LBN-FR",
                    currency="EUR",
                    account="ES_BBVA",
                    segment="distrib" if i % 3 == 0 else "privlab",
                    iban=ib,
                    pay_iban=ib,
                    payer=nm,
                    method=method,
                    lateness=rng.randint(10, 75),
                )
                if method == "confirming":
                    c.payer = rng.choice(["BBVA CONFIRMING", "SANTANDER FACTORING Y CONFIRMING"])
                    c.pay_iban = es_iban(rng)
        for city, pc in CH_CITIES:
            for _ in range(2):
                nm = f"{rng.choice(['Labor', 'Biolab', 'Analytica'])} {rng.choice(FAMILY)} {city}"
                ib = generic_iban(rng, "CH")
                self.add(
                    name=nm,
                    legal_form=rng.choice(["AG", "SA", "GmbH"]),
                    country="CH",
                    city=city,
                    postal=pc,
                    entity="LBN-FR",
                    currency="CHF",
                    account="CH_ZKB",
                    segment="privlab",
                    iban=ib,
                    pay_iban=ib,
                    payer=nm,
                    method="transfer",
                    lateness=rng.randint(0, 20),
                )
        for city, pc in US_CITIES:
            nm = f"{rng.choice(['Northbridge', 'Pacific', 'Atlantic'])} Life Sciences {city}"
            self.add(
                name=nm,
                legal_form="Inc.",
                country="US",
                city=city,
                postal=pc,
                entity="LBN-FR",
                currency="USD",
                account="US_ZKB",
                segment="industry",
                iban="",
                pay_iban="",
                payer=nm,
                method="transfer",
                lateness=rng.randint(5, 35),
            )

    # -- invoices
    def next_id(self, entity: str, kind: str, issue: dt.date) -> str:
        key = (entity, kind, issue >= ERP_SWITCH if entity == "LBN-FR" else False)
        self.seq[key] += 1
        n = self.seq[key]
        if entity == "LBN-LU":
            return f"LU-26/{n:04d}" if kind == "invoice" else f"LU-CN-26/{n:03d}"
        if issue < ERP_SWITCH:
            return f"F26{n:05d}" if kind == "invoice" else f"AV26{n:04d}"
        return f"LNV-FR-26-{10000 + n}" if kind == "invoice" else f"LNV-AV-26-{10000 + n}"

    def add_doc(self, c: Customer, issue: dt.date, amount: Decimal, kind="invoice", po=""):
        doc_id = self.next_id(c.entity, kind, issue)
        terms = {"public": 30, "univ": 30}.get(c.segment, 45 if c.country != "US" else 30)
        if c.method == "sdd":
            terms = 15
        d = Doc(doc_id, c, issue, issue + dt.timedelta(days=terms), amount, kind, po=po)
        digits = "".join(ch for ch in doc_id if ch.isdigit())
        if c.entity == "LBN-LU":
            d.reference = ogm(int(digits) * 10 + 7) if c.country == "BE" else rf_ref(digits)
        elif issue >= ERP_SWITCH and kind == "invoice":
            d.reference = rf_ref(digits)
        d.seq = len(self.docs)
        self.docs[doc_id] = d
        return d

    def amount_for(self, c: Customer) -> Decimal:
        rng = self.rng
        r = rng.random()
        if r < 0.70:
            net = (
                rng.choice([rng.randint(60, 900), rng.randint(100, 2500)])
                + rng.randint(0, 99) / 100
            )
        elif r < 0.93:
            net = rng.randint(2500, 12000) + rng.randint(0, 99) / 100
        else:
            net = rng.randint(12000, 68000)
        vat = Decimal("1.2") if c.country == "FR" else (Decimal("1.17") if c.country == "LU" else 1)
        if c.country == "BE":
            vat = Decimal(1)  # intra-EU reverse charge
        return D(Decimal(str(net)) * vat)

    def make_invoices(self):
        rng = self.rng
        weights = []
        for c in self.customers:
            w = {"public": 3.0, "univ": 2.0, "group": 2.2, "privlab": 1.6, "distrib": 2.5}.get(
                c.segment, 1.5
            )
            if c.country == "US":
                w = 0.8
            weights.append(w)
        days = (END - START).days
        contract_slots = [c for c in self.customers if c.contract]
        n_contract = 0
        for c in contract_slots:  # monthly maintenance contracts: recurring same amounts
            for m in range(1, 13):
                issue = dt.date(YEAR, m, 1) + dt.timedelta(days=rng.randint(0, 3))
                self.add_doc(c, issue, c.contract, po=f"CT-{c.cid}")
                n_contract += 1
        for _ in range(max(0, self.n - n_contract)):
            c = rng.choices(self.customers, weights)[0]
            issue = START + dt.timedelta(days=int(rng.random() ** 0.9 * days))
            po = ""
            if c.segment in ("public", "univ"):
                # a yearly public contract: two or three engagement numbers cover all invoices
                po = f"EJ13{int(c.cid[1:]):04d}{rng.randint(1, 3):04d}"
            elif rng.random() < 0.4:
                po = f"PO{rng.randint(450000, 459999)}"
            self.add_doc(c, issue, self.amount_for(c), po=po)
        # credit notes: returned goods / price corrections, ~5% of invoices
        for d in list(self.docs.values()):
            if d.kind == "invoice" and d.amount > 300 and rng.random() < 0.05:
                cn_issue = d.issue + dt.timedelta(days=rng.randint(3, 20))
                if cn_issue <= END:
                    amt = D(d.amount * Decimal(rng.choice([5, 10, 12, 20, 25])) / 100)
                    cn = self.add_doc(d.cust, cn_issue, -amt, kind="credit_note")
                    cn.po = d.doc_id  # remember which invoice it corrects (not exported)

    # -- helpers for wording
    def short_num(self, d: Doc) -> str:
        digits = "".join(ch for ch in d.doc_id.split("/")[-1] if ch.isdigit())
        if d.doc_id.startswith("F26") or d.doc_id.startswith("AV26"):
            return str(int(digits[2:]))
        if d.doc_id.startswith("LNV"):
            return digits[-5:]
        return str(int(digits[-4:]))

    def wording(self, d: Doc, lang: str) -> str:
        rng = self.rng
        n = d.doc_id
        if rng.random() < 0.15:
            n = n.lower()
        if rng.random() < 0.1:
            n = n.replace("-", " ")
        pats = {
            "fr": [
                "FACTURE {n}",
                "Fact. {n}",
                "REGLEMENT FACTURE {n}",
                "FACT {n} DU {dt}",
                "VIR {n}",
                "Facture n° {n}",
                "PAIEMENT FAC {n}",
                "{n}",
            ],
            "es": ["FRA {n}", "FACTURA {n}", "PAGO FRA. {n}", "FRA.NUM {n} DE {dt}"],
            "it": ["SALDO FT. N. {n} DEL {dt}", "PAGAMENTO FATTURA {n}", "FT {n}", "RIF. FT {n}"],
            "pt": ["PAGAMENTO FT {n}", "FATURA {n}", "PAG FACT {n}"],
            "de": ["Rechnung {n}", "RE {n} VOM {dt}", "RG-NR {n}", "Rechnungsnr. {n}"],
            "en": ["INVOICE {n}", "INV {n}", "PAYMENT INV. {n} PO {po}", "INV#{n}"],
        }[lang]
        return (
            rng.choice(pats)
            .replace("{n}", n)
            .replace("{dt}", d.issue.strftime("%d/%m/%Y" if lang != "de" else "%d.%m.%Y"))
            .replace("{po}", d.po or "N/A")
        )

    def lang(self, c: Customer) -> str:
        return {"ES": "es", "IT": "it", "PT": "pt", "CH": "de", "US": "en"}.get(c.country, "fr")

    def transpose(self, doc_id: str) -> str:
        idx = [
            i
            for i in range(len(doc_id) - 1)
            if doc_id[i].isdigit()
            and doc_id[i + 1].isdigit()
            and doc_id[i] != doc_id[i + 1]
            and i >= len(doc_id) - 5
        ]
        if not idx:
            return doc_id
        i = self.rng.choice(idx)
        return doc_id[:i] + doc_id[i + 1] + doc_id[i] + doc_id[i + 2 :]

    def payer_print(self, c: Customer, width=70) -> str:
        if c.payer != c.name:
            return c.payer[:width]
        return bank_name(self.rng, c.name, c.legal_form, width)

    def new_line(self, c: Customer, date: dt.date, amount: Decimal, kind: str, **kw) -> Line:
        ln = Line(
            account=c.account,
            booking=date,
            amount=amount,
            case_kind=kind,
            cust=c,
            payer=self.payer_print(c),
            payer_iban=c.pay_iban,
            **kw,
        )
        self.lines.append(ln)
        return ln

    # -- payments
    def pay_date(self, d: Doc, extra=0) -> dt.date:
        c = d.cust
        delay = c.lateness + extra + int(self.rng.gauss(0, 6))
        day = d.due + dt.timedelta(days=delay)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return day

    def make_payments(self):
        rng = self.rng
        by_cust: dict[str, list[Doc]] = defaultdict(list)
        for d in self.docs.values():
            by_cust[d.cust.cid].append(d)
        for c in self.customers:
            docs = sorted(by_cust[c.cid], key=lambda x: (x.issue, x.doc_id))
            credits = {d.po: d for d in docs if d.kind == "credit_note"}
            invs = [d for d in docs if d.kind == "invoice" and d.doc_id not in self.scheduled]
            i = 0
            while i < len(invs):
                d = invs[i]
                cn = credits.get(d.doc_id)
                if c.method == "sdd":
                    i += 1
                    continue  # collected in batches below
                group_n = 1
                if c.method in ("chorus", "treasury") and rng.random() < 0.45:
                    group_n = rng.randint(2, 4)
                elif c.method == "transfer" and rng.random() < 0.12:
                    group_n = rng.randint(2, 3)
                batch = [b for b in invs[i : i + group_n] if b.doc_id not in self.scheduled]
                i += group_n
                if not batch:
                    continue
                cns = [credits[b.doc_id] for b in batch if b.doc_id in credits]
                date = max(self.pay_date(b) for b in batch)
                if cns:
                    date = max([date] + [x.issue + dt.timedelta(days=2) for x in cns])
                if date > END + dt.timedelta(days=0):
                    continue  # still open at year end
                if len(batch) == 1 and not cns:
                    self.pay_single(c, batch[0], date)
                else:
                    self.pay_group(c, batch, cns, date)
                del cn
        self.make_sdd()
        self.make_non_customer()

    def remit_for(self, c: Customer, docs: list[Doc]) -> str:
        lang = self.lang(c)
        if len(docs) == 1:
            return self.wording(docs[0], lang)
        nums = [d.doc_id for d in docs]
        if lang == "fr":
            return rng_choice(
                self.rng,
                [
                    "REGLEMENT FACTURES " + ", ".join(nums[:-1]) + " ET " + nums[-1],
                    "FACT " + " ".join(nums),
                    "Règlement factures " + ", ".join(nums[:-1]) + " et " + nums[-1],
                    "FACTURES " + "/".join(nums),
                ],
            )
        if lang == "es":
            return "PAGO FRAS " + " ".join(nums)
        if lang == "it":
            return "SALDO FATTURE " + ", ".join(nums)
        if lang == "de":
            return "Rechnungen " + ", ".join(nums)
        return "INVOICES " + ", ".join(nums)

    def pay_single(self, c: Customer, d: Doc, date: dt.date):
        rng = self.rng
        r = rng.random()
        amt = d.amount
        lang = self.lang(c)
        if c.method == "chorus":
            self.chorus_line(c, [d], [], date)
            return
        if c.method == "treasury":
            self.treasury_line(c, [d], [], date)
            return
        if c.method == "cheque" and r < 0.8:
            ln = self.new_line(c, date, amt, "cheque", allocs=[(d.doc_id, amt)], family="cheque")
            ln.payer = ""
            ln.known_payer = False
            ln.ustrd = f"REMISE CHEQUE N {rng.randint(1000000, 9999999)}"
            ln.note = f"cheque from {c.name} for {d.doc_id}; the deposit slip is not in the data"
            return
        if c.country in ("CH", "US") and r < 0.35:
            fee = D(rng.choice([10, 15, 20, 25, 35]) if c.country == "US" else rng.choice([5, 7.5]))
            ln = self.new_line(
                c,
                date,
                amt - fee,
                "bank_fees_short",
                allocs=[(d.doc_id, amt - fee)],
                refs=[(d.doc_id, "exact")],
            )
            ln.ustrd = self.wording(d, lang)
            ln.note = f"{fee} of charges deducted on the way"
            return
        if c.method == "confirming":
            ln = self.new_line(c, date, amt, "third_party_factor", allocs=[(d.doc_id, amt)])
            ln.known_payer = False
            if r < 0.75:
                ln.refs = [(d.doc_id, "exact")]
                ln.ustrd = f"CONFIRMING {strip_accents(c.name).upper()[:30]} FRA {d.doc_id}"
            else:
                ln.ustrd = f"PAGO CONFIRMING REF {rng.randint(10**9, 10**10)}"
            return
        kinds = [
            ("ref_text", 0.40),
            ("ref_rf", 0.10 if d.reference.startswith("RF") else 0),
            ("ref_ogm", 0.35 if d.reference.startswith("+++") else 0),
            ("no_ref", 0.10),
            ("transposed_digits", 0.03),
            ("number_without_prefix", 0.04),
            ("rounding_over", 0.03),
            ("deposit_balance", 0.03 if amt > 3000 else 0),
            ("paid_before_invoice", 0.015),
            ("unknown_iban", 0.03),
            ("duplicate_payment", 0.012),
            ("same_amount_other_customers", 0.02),
        ]
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        if amt == D(480) and rng.random() < 0.3:
            kind = "same_amount_other_customers"  # the standard contract: same amount everywhere
        elif c.contract is not None and amt == c.contract and rng.random() < 0.45:
            ln = self.new_line(c, date, amt, "recurring_same_amount", allocs=[(d.doc_id, amt)])
            ln.ustrd = rng.choice(["CONTRAT MAINTENANCE", "ABONNEMENT LABORNOVA", "MAINTENANCE"])
            ln.note = "monthly contract amount; which month is meant is the payer's secret"
            return
        if kind == "ref_text":
            ln = self.new_line(
                c, date, amt, "ref_text", allocs=[(d.doc_id, amt)], refs=[(d.doc_id, "exact")]
            )
            ln.ustrd = self.wording(d, lang)
        elif kind == "ref_rf":
            ln = self.new_line(
                c, date, amt, "ref_rf", allocs=[(d.doc_id, amt)], refs=[(d.doc_id, "exact")]
            )
            ref = d.reference
            s = rng.random()
            if s < 0.3 and c.account in ("LU_BGL", "FR_CAM", "ES_BBVA"):
                ln.scor = ref
                ln.ustrd = ""
                ln.case_kind = "ref_rf_structured"
            elif s < 0.5:
                ln.ustrd = " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
            elif s < 0.7:
                ln.ustrd = "ref " + ref.lower()
            else:
                ln.ustrd = "FACTURE" + ref  # glued to a word
        elif kind == "ref_ogm":
            ln = self.new_line(
                c, date, amt, "ref_ogm", allocs=[(d.doc_id, amt)], refs=[(d.doc_id, "exact")]
            )
            if rng.random() < 0.55:
                ln.scor = d.reference.strip("+").replace("/", "")
                ln.case_kind = "ref_ogm_structured"
            else:
                ln.case_kind = "ref_ogm_typed"
                ln.ustrd = rng.choice(
                    [
                        d.reference,
                        d.reference.strip("+"),
                        d.reference.strip("+").replace("/", ""),
                        "COMMUNICATION " + d.reference.strip("+").replace("/", " "),
                    ]
                )
        elif kind == "no_ref":
            ln = self.new_line(c, date, amt, "no_ref", allocs=[(d.doc_id, amt)])
            ln.ustrd = rng.choice(
                ["PAIEMENT FOURNISSEUR", "VIREMENT", "", "REGLEMENT", f"VIR SEPA {ln.payer[:20]}"]
            )
        elif kind == "transposed_digits":
            ln = self.new_line(c, date, amt, kind, allocs=[(d.doc_id, amt)])
            t = self.transpose(d.doc_id)
            ln.refs = [(t, "exact")] if t in self.docs else [(d.doc_id, "fuzzy")]
            ln.ustrd = self.wording(d, lang).replace(d.doc_id, t)
            if d.doc_id not in ln.ustrd:
                ln.ustrd = "FACTURE " + t
        elif kind == "number_without_prefix":
            ln = self.new_line(
                c, date, amt, kind, allocs=[(d.doc_id, amt)], refs=[(d.doc_id, "fuzzy")]
            )
            ln.ustrd = rng.choice(["FACTURE {}", "FACT N {}", "FT {}", "INV {}"]).format(
                self.short_num(d)
            )
        elif kind == "rounding_over":
            up = D((amt // 10 + 1) * 10) if amt > 500 and rng.random() < 0.3 else D(amt // 1 + 1)
            ln = self.new_line(
                c, date, up, kind, allocs=[(d.doc_id, amt)], refs=[(d.doc_id, "exact")]
            )
            ln.ustrd = self.wording(d, lang)
            ln.note = f"rounded up; {up - amt} excess left unallocated"
        elif kind == "deposit_balance":
            pct = Decimal(rng.choice([30, 40, 50]))
            dep = D(amt * pct / 100)
            d1 = max(d.issue + dt.timedelta(days=rng.randint(2, 10)), START)
            ln = self.new_line(
                c, d1, dep, "deposit", allocs=[(d.doc_id, dep)], refs=[(d.doc_id, "exact")]
            )
            ln.ustrd = f"ACOMPTE {pct}% FACTURE {d.doc_id}"
            ln2 = self.new_line(
                c,
                max(date, d1 + dt.timedelta(days=5)),
                amt - dep,
                "balance",
                allocs=[(d.doc_id, amt - dep)],
                refs=[(d.doc_id, "exact")],
            )
            ln2.ustrd = rng.choice(["SOLDE FACTURE {}", "Solde fact {}", "SOLDE {}"]).format(
                d.doc_id
            )
        elif kind == "paid_before_invoice":
            early = d.issue - dt.timedelta(days=rng.randint(1, 6))
            while early.weekday() >= 5:
                early -= dt.timedelta(days=1)
            if early < START:
                early = d.issue
            ln = self.new_line(
                c, early, amt, kind, allocs=[(d.doc_id, amt)], refs=[(d.doc_id, "exact")]
            )
            ln.ustrd = rng.choice(["PROFORMA {} {}", "PAIEMENT ANTICIPE CDE {} {}"]).format(
                d.po or "", d.doc_id
            )
        elif kind == "unknown_iban":
            ln = self.new_line(c, date, amt, kind, allocs=[(d.doc_id, amt)])
            ln.payer_iban = generic_iban(rng, c.country if c.country != "US" else "FR")
            if rng.random() < 0.5:
                ln.refs = [(d.doc_id, "exact")]
                ln.ustrd = self.wording(d, lang)
        elif kind == "duplicate_payment":
            ln = self.new_line(
                c, date, amt, "ref_text", allocs=[(d.doc_id, amt)], refs=[(d.doc_id, "exact")]
            )
            ln.ustrd = self.wording(d, lang)
            dup = self.new_line(
                c,
                date + dt.timedelta(days=rng.choice([0, 1, 3, 7])),
                amt,
                "duplicate_payment",
                refs=[(d.doc_id, "exact")],
            )
            dup.ustrd = ln.ustrd
            dup.note = f"{d.doc_id} paid twice; to refund or keep as credit"
        elif kind == "same_amount_other_customers":
            ln = self.new_line(c, date, amt, kind, allocs=[(d.doc_id, amt)])
            ln.payer = rng.choice(
                ["ADMINISTRATION", "SERVICE COMPTABLE", "M. OU MME DUPONT", "GESTION LABOS"]
            )
            ln.payer_iban = generic_iban(rng, c.country if c.country != "US" else "FR")
            ln.known_payer = False
            ln.ustrd = "PAIEMENT"

    def pay_group(self, c: Customer, batch: list[Doc], cns: list[Doc], date: dt.date):
        rng = self.rng
        if c.method == "chorus":
            self.chorus_line(c, batch, cns, date)
            return
        if c.method == "treasury":
            self.treasury_line(c, batch, cns, date)
            return
        total = sum((d.amount for d in batch + cns), Decimal(0))
        allocs = [(d.doc_id, d.amount) for d in batch + cns]
        if cns and len(batch) == 1:
            kind = "invoice_minus_credit"
        elif cns:
            kind = "several_minus_credit"
        else:
            kind = "list_invoices"
        ln = self.new_line(c, date, total, kind, allocs=allocs)
        r = rng.random()
        if r < 0.7:
            ln.refs = [(d.doc_id, "exact") for d in batch + cns]
            ln.ustrd = self.remit_for(c, batch + cns)
        elif r < 0.85:
            ln.refs = [(d.doc_id, "fuzzy") for d in batch + cns]
            nums = [self.short_num(d) for d in batch + cns]
            ln.ustrd = "Règlement factures " + ", ".join(nums[:-1]) + " et " + nums[-1]
        else:
            ln.case_kind = "grouped_no_ref"
            ln.ustrd = rng.choice(["REGLEMENT RELEVE", "PAIEMENT FOURNISSEUR", "VIREMENT"])

    def chorus_line(self, c: Customer, batch: list[Doc], cns: list[Doc], date: dt.date):
        rng = self.rng
        docs = batch + cns
        total = sum((d.amount for d in docs), Decimal(0))
        kind = "chorus_mandate"
        if cns:
            kind = "invoice_minus_credit" if len(batch) == 1 else "several_minus_credit"
        ln = self.new_line(c, date, total, kind, allocs=[(d.doc_id, d.amount) for d in docs])
        mandat = f"{YEAR}-{rng.randint(1, 99999):06d}"
        r = rng.random()
        parts = [f"/MANDAT {mandat}", f"BORD {rng.randint(100, 9999)}"]
        if r < 0.75:
            ln.refs = [(d.doc_id, "exact") for d in docs]
            parts += [f"FACT {d.doc_id} DU {d.issue:%d%m%Y}" for d in docs]
        elif r < 0.9:
            ln.refs = [(d.doc_id, "po") for d in docs]
            parts += sorted({f"EJ {d.po}" for d in docs if d.po}) or ["SANS REF"]
        else:
            ln.refs = [(d.doc_id, "fuzzy") for d in docs]
            parts += [f"FACTURE {self.short_num(d)}" for d in docs]
        parts.append(strip_accents(c.name).upper())
        ln.ustrd = " ".join(parts)
        ln.note = "public payment through the DRFIP; several customers share this payer"

    def treasury_line(self, c: Customer, batch: list[Doc], cns: list[Doc], date: dt.date):
        """A group's treasury centre: structured remittance (RfrdDocInf + amounts)."""
        docs = batch + cns
        # sometimes it pays invoices of several group members at once
        others = [
            o
            for o in self.pending_group.get(c.group, [])
            if o.doc_id not in {d.doc_id for d in docs} and o.doc_id not in self.scheduled
        ]
        if others and self.rng.random() < 0.4:
            o = others[0]
            if o.issue <= date - dt.timedelta(days=10):
                docs.append(o)
        for d in docs:
            self.scheduled.add(d.doc_id)
            if d in self.pending_group.get(c.group, []):
                self.pending_group[c.group].remove(d)
        total = sum((d.amount for d in docs), Decimal(0))
        kind = "parent_pays"
        if any(d.kind == "credit_note" for d in docs):
            kind = "structured_credit_note"
        elif len(docs) > 1:
            kind = "structured_remittance"
        ln = self.new_line(c, date, total, kind, allocs=[(d.doc_id, d.amount) for d in docs])
        ln.refs = [(d.doc_id, "exact") for d in docs]
        ln.payer = c.payer
        ln.strd = [
            ("CREN" if d.kind == "credit_note" else "CINV", d.doc_id, d.issue, d.amount)
            for d in docs
        ]
        ln.ustrd = f"PAIEMENT GROUPE {c.group.upper()} LOT {self.rng.randint(10000, 99999)}"
        if self.rng.random() < 0.3:
            ln.strd = []  # the same centre, but only a list in free text
            ln.case_kind = "parent_pays"
            ln.ustrd = "PMT " + " ".join(d.doc_id for d in docs)

    def make_sdd(self):
        """Monthly B2B direct-debit collections, booked as a batch on the Crédit Agricole."""
        rng = self.rng
        due = defaultdict(list)
        for d in self.docs.values():
            if d.cust.method == "sdd" and d.kind == "invoice":
                coll = d.due
                while coll.weekday() >= 5:
                    coll += dt.timedelta(days=1)
                # collected on the 5th or 20th after due date
                day = 5 if coll.day <= 5 else (20 if coll.day <= 20 else 5)
                month = coll.month + (1 if coll.day > 20 else 0)
                year = coll.year + (1 if month > 12 else 0)
                cdate = dt.date(year, (month - 1) % 12 + 1, day)
                while cdate.weekday() >= 5:
                    cdate += dt.timedelta(days=1)
                if cdate <= END:
                    due[cdate].append(d)
        retried = []
        for cdate in sorted(due):
            docs = due[cdate]
            txs = []
            for d in docs:
                c = d.cust
                tx = Line(
                    account="FR_CAM",
                    booking=cdate,
                    amount=d.amount,
                    case_kind="sdd_tx",
                    allocs=[(d.doc_id, d.amount)],
                    refs=[(d.doc_id, "exact")],
                    cust=c,
                    payer=bank_name(rng, c.name, c.legal_form),
                    payer_iban=c.pay_iban,
                )
                tx.e2e = f"SDD{d.doc_id}"
                tx.ustrd = f"PRLV B2B LABORNOVA FACTURE {d.doc_id} RUM LBN{c.cid}"
                txs.append(tx)
            with_details = rng.random() < 0.7
            total = sum((t.amount for t in txs), Decimal(0))
            bl = Line(
                account="FR_CAM",
                booking=cdate,
                amount=total,
                case_kind="sdd_batch_details" if with_details else "sdd_batch_no_details",
                allocs=[a for t in txs for a in t.allocs],
                family="sdd_batch",
                txs=txs,
                details=with_details,
            )
            bl.ustrd = f"REMISE PRELEVEMENTS SEPA B2B {len(txs)} OPERATIONS"
            bl.e2e = f"LBN-SDD-{cdate:%Y%m%d}"
            self.lines.append(bl)
            # returns, 2-5 business days later
            for t in txs:
                if rng.random() < 0.07:
                    rdate = cdate + dt.timedelta(days=rng.randint(2, 5))
                    while rdate.weekday() >= 5:
                        rdate += dt.timedelta(days=1)
                    if rdate > END:
                        continue
                    reason = rng.choice(["AM04", "MD06", "MS03", "AM04"])
                    doc_id = t.allocs[0][0]
                    rl = Line(
                        account="FR_CAM",
                        booking=rdate,
                        amount=-t.amount,
                        case_kind="sdd_return",
                        allocs=[(doc_id, -t.amount)],
                        refs=[(doc_id, "exact")],
                        cust=t.cust,
                        payer=t.payer,
                        payer_iban=t.payer_iban,
                        family="sdd_return",
                        reason=reason,
                        reversal=rng.random() < 0.5,
                    )
                    rl.e2e = t.e2e
                    rl.ustrd = f"RETOUR PRLV {t.ustrd[:60]}"
                    rl.note = f"returned direct debit ({reason}); {doc_id} reopens"
                    self.lines.append(rl)
                    retried.append((rdate, self.docs[doc_id], reason))
        # after a return the lab pays by transfer (after a phone call)
        for rdate, d, _reason in retried:
            pdate = rdate + dt.timedelta(days=rng.randint(5, 15))
            while pdate.weekday() >= 5:
                pdate += dt.timedelta(days=1)
            if pdate > END:
                continue
            ln = self.new_line(
                d.cust,
                pdate,
                d.amount,
                "ref_text",
                allocs=[(d.doc_id, d.amount)],
                refs=[(d.doc_id, "exact")],
            )
            ln.ustrd = f"REGULARISATION IMPAYE PRLV FACTURE {d.doc_id}"

    def make_non_customer(self):
        rng = self.rng
        for m in range(1, 13):

            def bday(day, m=m):
                x = dt.date(YEAR, m, day)
                while x.weekday() >= 5:
                    x -= dt.timedelta(days=1)
                return x

            def other(acct, date, amount, kind, text, payer="", fam="other"):
                ln = Line(
                    account=acct,
                    booking=date,
                    amount=D(amount),
                    case_kind=kind,
                    family=fam,
                    payer=payer,
                    ustrd=text,
                    known_payer=False,
                )
                self.lines.append(ln)
                return ln

            other(
                "FR_LCL",
                bday(27),
                -rng.randint(182000, 196000),
                "salaries",
                f"VIR SALAIRES {m:02d}/{YEAR} LABORNOVA",
                "SALARIES LABORNOVA",
            )
            other(
                "FR_LCL",
                bday(15),
                -rng.randint(60000, 75000),
                "social_charges",
                f"PRLV URSSAF RHONE ALPES COTIS {m:02d}/{YEAR}",
                "URSSAF RHONE ALPES",
            )
            other(
                "FR_LCL",
                bday(28),
                -D(rng.randint(8000, 30000) / 1),
                "bank_fees",
                f"COMMISSIONS ET FRAIS {m:02d}/{YEAR}",
            )
            other(
                "FR_LCL",
                bday(28),
                -(D(rng.randint(4000, 9000)) / 100),
                "bank_fees",
                "FRAIS TENUE DE COMPTE",
            )
            for _ in range(rng.randint(3, 6)):
                sup = rng.choice(
                    [
                        "SCHOTT FRANCE",
                        "VERRERIES DU RHONE",
                        "TRANSPORTS GIRAUD",
                        "EDF ENTREPRISES",
                        "PLASTIQUES TECHNIQUES DE L AIN",
                    ]
                )
                other(
                    rng.choice(["FR_LCL", "FR_CAM"]),
                    bday(rng.randint(1, 25)),
                    -D(rng.randint(80000, 2500000) / 100),
                    "supplier_payment",
                    f"VIR {sup} FACT {rng.randint(10000, 99999)}",
                    sup,
                )
            for _ in range(rng.randint(2, 4)):
                amt = D(rng.randint(3000, 90000) / 100)
                other(
                    "FR_CAM",
                    bday(rng.randint(1, 26)),
                    amt,
                    "card_payout",
                    f"STRIPE PAYOUT PO_{rng.randint(10**9, 10**10)}",
                    "STRIPE TECHNOLOGY EUROPE",
                )
            other(
                "LU_BGL",
                bday(28),
                -D(rng.randint(1500, 4500) / 100),
                "bank_fees",
                "FRAIS DE GESTION COMPTE",
            )
            other(
                "LU_BGL",
                bday(25),
                -rng.randint(18000, 24000),
                "salaries",
                f"SALAIRES {m:02d}/{YEAR} LABORNOVA LUX",
                "SALAIRES",
            )
            other(
                "ES_BBVA",
                bday(28),
                -D(rng.randint(2000, 6000) / 100),
                "bank_fees",
                "COMISION MANTENIMIENTO",
            )
            other(
                "CH_ZKB",
                bday(28),
                -D(rng.randint(2000, 4000) / 100),
                "bank_fees",
                "KONTOFUEHRUNGSGEBUEHR",
            )
            other(
                "US_ZKB",
                bday(28),
                -D(rng.randint(2500, 4500) / 100),
                "bank_fees",
                "ACCOUNT MAINTENANCE FEE",
            )
            if m in (3, 6, 9, 12):
                other(
                    "FR_LCL",
                    bday(28),
                    D(rng.randint(5000, 60000) / 100),
                    "interest",
                    "INTERETS CREDITEURS TRIMESTRE",
                )
                other("CH_ZKB", bday(28), D(rng.randint(100, 900) / 100), "interest", "HABENZINS")
            if m in (4, 10):
                other(
                    "FR_LCL",
                    bday(rng.randint(5, 20)),
                    rng.randint(20000, 90000),
                    "tax_refund",
                    "REMBOURSEMENT CREDIT DE TVA DGFIP",
                    "DGFIP",
                )
            if m == 9:
                other(
                    "FR_LCL",
                    bday(12),
                    rng.randint(5000, 30000),
                    "tax_refund",
                    "DGFIP REMBT CREDIT IMPOT RECHERCHE",
                    "DRFIP AUVERGNE RHONE ALPES",
                )
            # the subsidiary's cash pooling sweep to the parent
            if m % 3 == 0:
                amt = rng.randint(40000, 120000)
                other("LU_BGL", bday(20), -amt, "intercompany", "CASH POOLING LABORNOVA SAS")
                other(
                    "FR_LCL",
                    bday(20),
                    amt,
                    "intercompany",
                    "CASH POOLING LABORNOVA LUX",
                    "LABORNOVA LUXEMBOURG SARL",
                )

    # ------------------------------------------------------------------ the controller
    def simulate(self):
        """Decide `expected` for every booked line, in booking order, against open items."""
        open_ = {k: Decimal(0) for k in self.docs}
        by_po = defaultdict(list)
        for d in self.docs.values():
            if d.po and d.kind == "invoice":
                by_po[d.po].append(d.doc_id)
        iban_cust = defaultdict(set)
        for c in self.customers:
            if c.iban:
                iban_cust[c.iban].add(c.cid)
        issued = sorted(self.docs.values(), key=lambda d: d.issue)
        ii = 0
        order = sorted(
            range(len(self.lines)),
            key=lambda k: (self.lines[k].booking, self.lines[k].account, k),
        )
        for rank, k in enumerate(order):
            ln = self.lines[k]
            ln.order = rank
            while ii < len(issued) and issued[ii].issue <= ln.booking:
                open_[issued[ii].doc_id] = issued[ii].amount
                ii += 1
            ln.expected = self.decide(ln, open_, iban_cust, by_po)
            if ln.case_kind == "same_amount_other_customers":
                holders = {self.docs[x].cust.cid for x, v in open_.items() if v == ln.amount}
                if len(holders) < 2:
                    ln.case_kind = "unknown_payer_no_ref"
                else:
                    ln.note = f"{ln.amount} is open at {len(holders)} customers that day"
            for doc_id, a in ln.allocs:
                open_[doc_id] -= a
        self.final_open = open_

    def identified(self, ln: Line, iban_cust) -> set[str]:
        c = ln.cust
        if c is None:
            return set()
        ids = set(iban_cust.get(ln.payer_iban, set()))
        if ln.known_payer and ln.payer and c.payer == c.name:
            ids.add(c.cid)  # a careful reader recognises the name as the bank prints it
        if c.group and ln.payer == c.payer:
            ids |= {x.cid for x in self.customers if x.group == c.group}
        return ids

    @staticmethod
    def why(ln: Line, reason: str) -> str:
        if ln.family != "other" and reason not in ln.note:
            ln.note = f"{ln.note}; {reason}" if ln.note else reason
        return "person"

    def decide(self, ln: Line, open_, iban_cust, by_po) -> str:
        if ln.family == "other":
            return "person"
        if ln.family == "cheque":
            return self.why(ln, "a cheque deposit: no payer name, no reference")
        if ln.family == "sdd_return":
            return "auto"
        if ln.family == "sdd_batch":
            if not ln.details:
                return self.why(ln, "batch booked without transaction details")
            return (
                "auto"
                if all(self.decide(t, open_, iban_cust, by_po) == "auto" for t in ln.txs)
                else "person"
            )
        ids = self.identified(ln, iban_cust)
        truth = {(d, a) for d, a in ln.allocs}
        if ln.refs:
            docs, fuzzy = [], False
            for ref, q in ln.refs:
                if q == "po":
                    po = self.docs[ref].po
                    cands = [x for x in by_po.get(po, []) if open_[x] != 0]
                    if len(cands) != 1:
                        return self.why(ln, "the engagement number covers several open invoices")
                    ref = cands[0]
                if ref not in self.docs or self.docs[ref].issue > ln.booking:
                    return self.why(ln, "cites a document not issued yet (or not existing)")
                fuzzy |= q == "fuzzy"
                docs.append(ref)
            docs = list(dict.fromkeys(docs))
            if fuzzy and not all(self.docs[x].cust.cid in ids for x in docs):
                return self.why(ln, "a fuzzy number, and the payer is not that invoice's customer")
            if any(open_[x] == 0 for x in docs):
                return self.why(ln, "cites a document already paid")
            total = sum((open_[x] for x in docs), Decimal(0))
            diff = ln.amount - total
            if diff == 0 or Decimal(0) < diff < Decimal(5):
                got = {(x, open_[x]) for x in docs}
            elif (
                len(docs) == 1
                and self.docs[docs[0]].kind == "invoice"
                and Decimal(0) < ln.amount < total
                and ("ACOMPTE" in ln.ustrd.upper() or total - ln.amount <= 40)
            ):
                got = {(docs[0], ln.amount)}
            else:
                return self.why(ln, "the amount does not fit the cited documents")
            return "auto" if got == truth else self.why(ln, "the rules would allocate otherwise")
        if not ids:
            return self.why(ln, "payer not identified and no reference")
        cur = ACCOUNTS[ln.account][1]
        items = [
            x
            for x, v in open_.items()
            if v != 0
            and self.docs[x].cust.cid in ids
            and self.docs[x].cust.currency == cur
            and self.docs[x].issue <= ln.booking
        ]
        exact = [x for x in items if open_[x] == ln.amount and self.docs[x].kind == "invoice"]
        if len(exact) == 1:
            return "auto" if {(exact[0], open_[exact[0]])} == truth else "person"
        if len(exact) > 1:
            return self.why(ln, "several open invoices of the payer have this amount")
        items = sorted(items, key=lambda x: self.docs[x].seq)[-16:]
        found = []
        for size in (2, 3, 4):
            for combo in itertools.combinations(items, size):
                if sum((open_[x] for x in combo), Decimal(0)) == ln.amount:
                    found.append(combo)
                    if len(found) > 1:
                        return self.why(ln, "several combinations of open items make this amount")
        if len(found) == 1:
            return "auto" if {(x, open_[x]) for x in found[0]} == truth else "person"
        return self.why(ln, "no open item or combination of the payer makes this amount")

    def run(self):
        self.make_accounts()
        self.make_customers()
        self.make_invoices()
        self.pending_group = defaultdict(list)
        for d in sorted(self.docs.values(), key=lambda x: x.issue):
            if d.cust.group and d.kind == "invoice":
                self.pending_group[d.cust.group].append(d)
        self.make_payments()
        # a line must never allocate a document twice beyond its amount (generator sanity)
        self.lines = [ln for ln in self.lines if START <= ln.booking <= END and ln.amount != 0]
        self.simulate()


def rng_choice(rng: random.Random, xs):
    return rng.choice(xs)


# ----------------------------------------------------------------------------- writers


def fmt(a: Decimal) -> str:
    return f"{abs(a):.2f}"


def cfonb_amount(a: Decimal) -> str:
    cents = int((abs(a) * 100).to_integral_value())
    s = f"{cents:014d}"
    last = int(s[-1])
    sign = "{ABCDEFGHI"[last] if a >= 0 else "}JKLMNOPQR"[last]
    return s[:-1] + sign


def write_cfonb(path: Path, g: Gen, lines: list[Line], opening: Decimal, month: int) -> Decimal:
    bank, branch, acct = g.fr_rib
    out = []
    bal = opening
    days = sorted({ln.booking for ln in lines})
    for day in days:
        todays = [ln for ln in lines if ln.booking == day]
        prev = day - dt.timedelta(days=1)
        head = f"{bank}    {branch}EUR2 {acct}  "
        out.append(f"01{head}{prev:%d%m%y}{' ' * 50}{cfonb_amount(bal)}{' ' * 16}")
        for ln in todays:
            code = {"cheque": "15", "other": "06" if ln.amount < 0 else "05"}.get(ln.family, "05")
            label = {"cheque": "REMISE CHEQUES"}.get(ln.family, "")
            if not label:
                label = ("VIR SEPA " + (ln.payer or ln.ustrd)) if ln.amount > 0 else ln.ustrd
            label = strip_accents(label).upper()[:31]
            rec = (
                f"04{bank}0005{branch}EUR2E{acct}{code}{day:%d%m%y}  {day:%d%m%y}"
                f"{label:<31}  0000000  {cfonb_amount(ln.amount)}{ln.bank_ref:<16}"
            )
            out.append(rec)
            base = f"05{bank}0005{branch}EUR2E{acct}{code}{day:%d%m%y}     "
            text = strip_accents(ln.ustrd)
            for i in range(0, min(len(text), 70 * 4), 70):
                out.append(f"{base}LIB{text[i : i + 70]:<70}  ")
            if ln.payer:
                out.append(f"{base}NPY{strip_accents(ln.payer)[:70]:<70}  ")
            if ln.e2e and ln.e2e != "NOTPROVIDED":
                out.append(f"{base}RCN{ln.e2e[:70]:<70}  ")
            bal += ln.amount
        out.append(f"07{head}{day:%d%m%y}{' ' * 50}{cfonb_amount(bal)}{' ' * 16}")
    path.write_text("\r\n".join(out) + "\r\n", encoding="latin-1")
    return bal


def sub(parent, tag, text=None, **attrib):
    el = etree.SubElement(parent, tag, **attrib)
    if text is not None:
        el.text = text
    return el


def write_camt(
    path: Path, g: Gen, acct: str, lines: list[Line], opening: Decimal, month: int, version: str
) -> Decimal:
    v8 = version == "08"
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    iban_, ccy = g.acct_iban[acct], ACCOUNTS[acct][1]
    root = etree.Element("Document", nsmap={None: ns})
    root.tag = f"{{{ns}}}Document"

    def S(p, tag, text=None, **kw):
        return sub(p, f"{{{ns}}}{tag}", text, **kw)

    bk = S(root, "BkToCstmrStmt")
    first = dt.date(YEAR, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    gh = S(bk, "GrpHdr")
    S(gh, "MsgId", f"{REF_PREFIX[acct]}{YEAR}{month:02d}STMT")
    S(gh, "CreDtTm", f"{last + dt.timedelta(days=1)}T06:12:00")
    st = S(bk, "Stmt")
    S(st, "Id", f"{REF_PREFIX[acct]}-{YEAR}-{month:02d}")
    S(st, "ElctrncSeqNb", str(month))
    S(st, "CreDtTm", f"{last + dt.timedelta(days=1)}T06:12:00")
    ft = S(st, "FrToDt")
    S(ft, "FrDtTm", f"{first}T00:00:00")
    S(ft, "ToDtTm", f"{last}T23:59:59")
    ac = S(st, "Acct")
    S(S(ac, "Id"), "IBAN", iban_)
    S(ac, "Ccy", ccy)
    closing = opening + sum((ln.amount for ln in lines), Decimal(0))
    for code, amt, day in (
        ("OPBD", opening, first - dt.timedelta(days=1)),
        ("CLBD", closing, last),
    ):
        b = S(st, "Bal")
        S(S(S(b, "Tp"), "CdOrPrtry"), "Cd", code)
        S(b, "Amt", fmt(amt), Ccy=ccy)
        S(b, "CdtDbtInd", "CRDT" if amt >= 0 else "DBIT")
        S(S(b, "Dt"), "Dt", str(day))
    for ln in lines:
        e = S(st, "Ntry")
        S(e, "Amt", fmt(ln.amount), Ccy=ccy)
        S(e, "CdtDbtInd", "CRDT" if ln.amount > 0 else "DBIT")
        if ln.reversal:
            S(e, "RvslInd", "true")
        if v8:
            S(S(e, "Sts"), "Cd", "BOOK")
        else:
            S(e, "Sts", "BOOK")
        S(S(e, "BookgDt"), "Dt", str(ln.booking))
        S(S(e, "ValDt"), "Dt", str(ln.booking))
        S(e, "AcctSvcrRef", ln.bank_ref)
        fam, subf = {
            "sdd_batch": ("IDDT", "BBDD"),
            "sdd_return": ("IDDT", "UPDD"),
            "card": ("CCRD", "POSC"),
        }.get(ln.family, ("RCDT" if ln.amount > 0 else "ICDT", "ESCT"))
        if ln.case_kind == "bank_fees":
            fam, subf = "CCRD", "CHRG"
        btc = S(e, "BkTxCd")
        dm = S(btc, "Domn")
        S(dm, "Cd", "PMNT")
        fm = S(dm, "Fmly")
        S(fm, "Cd", fam)
        S(fm, "SubFmlyCd", subf)
        nd = S(e, "NtryDtls")
        txs = ln.txs if ln.family == "sdd_batch" else [ln]
        if ln.family == "sdd_batch":
            bt = S(nd, "Btch")
            S(bt, "PmtInfId", ln.e2e)
            S(bt, "NbOfTxs", str(len(ln.txs)))
            S(bt, "TtlAmt", fmt(ln.amount), Ccy=ccy) if v8 else None
            S(bt, "CdtDbtInd", "CRDT")
            if not ln.details:
                txs = []
        for n, t in enumerate(txs, 1):
            tx = S(nd, "TxDtls")
            refs = S(tx, "Refs")
            if ln.family == "sdd_batch":
                S(refs, "AcctSvcrRef", f"{ln.bank_ref}-{n}")
            S(refs, "EndToEndId", t.e2e)
            if ln.family in ("sdd_batch", "sdd_return"):
                S(refs, "MndtId", f"LBN{t.cust.cid}")
            if v8:
                S(tx, "Amt", fmt(t.amount), Ccy=ccy)
                S(tx, "CdtDbtInd", "CRDT" if t.amount > 0 else "DBIT")
            else:
                S(S(S(tx, "AmtDtls"), "TxAmt"), "Amt", fmt(t.amount), Ccy=ccy)
            if t.payer or t.payer_iban:
                rp = S(tx, "RltdPties")
                if t.payer:
                    party = S(S(rp, "Dbtr"), "Pty") if v8 else S(rp, "Dbtr")
                    S(party, "Nm", strip_accents(t.payer)[:70] if not v8 else t.payer[:140])
                if t.payer_iban:
                    S(S(S(rp, "DbtrAcct"), "Id"), "IBAN", t.payer_iban)
            if t.ustrd or t.strd or t.scor:
                ri = S(tx, "RmtInf")
                if t.ustrd:
                    text = t.ustrd
                    for i in range(0, min(len(text), 140 * 3), 140):
                        S(ri, "Ustrd", text[i : i + 140])
                for typ, num, day, amt in t.strd:
                    sd = S(ri, "Strd")
                    rd = S(sd, "RfrdDocInf")
                    S(S(S(rd, "Tp"), "CdOrPrtry"), "Cd", typ)
                    S(rd, "Nb", num)
                    S(rd, "RltdDt", str(day))
                    ra = S(sd, "RfrdDocAmt")
                    if typ == "CREN":
                        S(ra, "CdtNoteAmt", fmt(amt), Ccy=ccy)
                    else:
                        S(ra, "DuePyblAmt", fmt(amt), Ccy=ccy)
                        S(ra, "RmtdAmt", fmt(amt), Ccy=ccy)
                if t.scor:
                    sd = S(ri, "Strd")
                    cr = S(sd, "CdtrRefInf")
                    tp = S(cr, "Tp")
                    S(S(tp, "CdOrPrtry"), "Cd", "SCOR")
                    if not t.scor.startswith("RF"):
                        S(tp, "Issr", "BBA")
                    S(cr, "Ref", t.scor)
            if ln.family == "sdd_return":
                rt = S(tx, "RtrInf")
                S(S(rt, "Rsn"), "Cd", ln.reason)
                S(rt, "AddtlInf", "Retour prelevement SEPA B2B")
        if ln.family == "sdd_batch" or (ln.family == "other" and ln.ustrd):
            S(e, "AddtlNtryInf", ln.ustrd)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    path.write_bytes(xml)
    return closing


def mt_amount(a: Decimal) -> str:
    return f"{abs(a):.2f}".replace(".", ",")


def write_mt940(
    path: Path, g: Gen, acct: str, lines: list[Line], opening: Decimal, month: int
) -> Decimal:
    iban_, ccy = g.acct_iban[acct], ACCOUNTS[acct][1]
    out = []
    bal = opening
    days = sorted({ln.booking for ln in lines})
    for n, day in enumerate(days, 1):
        todays = [ln for ln in lines if ln.booking == day]
        out += [
            f":20:ZKB{day:%y%m%d}{acct[:2]}",
            f":25:{iban_}",
            f":28C:{month:03d}/{n:03d}",
            f":60F:{'C' if bal >= 0 else 'D'}{day:%y%m%d}{ccy}{mt_amount(bal)}",
        ]
        for ln in todays:
            dc = "C" if ln.amount > 0 else "D"
            typ = "NCHG" if ln.case_kind == "bank_fees" else "NTRF"
            ref = (ln.e2e if ln.e2e != "NOTPROVIDED" else "NONREF")[:16]
            out.append(
                f":61:{day:%y%m%d}{day:%m%d}{dc}{mt_amount(ln.amount)}{typ}{ref}//{ln.bank_ref}"
            )
            gvc = "166" if ln.amount > 0 else "805"
            fields = ["?00" + ("GUTSCHRIFT" if ln.amount > 0 else "BELASTUNG")]
            text = strip_accents(ln.ustrd)
            if ln.scor:
                text = f"{ln.scor} {text}".strip()
            chunks = []
            if ln.e2e != "NOTPROVIDED":
                chunks.append(f"EREF+{ln.e2e}")
            body = "SVWZ+" + text if text else ""
            while body:
                chunks.append(body[:27])
                body = body[27:]
            for i, ch in enumerate(chunks[:10]):
                fields.append(f"?{20 + i}{ch}")
            if ln.payer_iban:
                fields.append(f"?31{ln.payer_iban}")
            if ln.payer:
                nm = strip_accents(ln.payer).upper()
                fields.append(f"?32{nm[:27]}")
                if len(nm) > 27:
                    fields.append(f"?33{nm[27:54]}")  # the rest of the name is lost
            cur = f":86:{gvc}"
            for f in fields:
                if len(cur) + len(f) > 65:
                    out.append(cur)
                    cur = f
                else:
                    cur += f
            out.append(cur)
            bal += ln.amount
        out.append(f":62F:{'C' if bal >= 0 else 'D'}{day:%y%m%d}{ccy}{mt_amount(bal)}")
        out.append("-")
    path.write_text("\r\n".join(out) + "\r\n", encoding="latin-1")
    return bal


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--invoices", type=int, default=1500)
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    (out / "statements").mkdir(parents=True, exist_ok=True)
    for old in (out / "statements").iterdir():  # a re-run into the same folder starts clean
        if old.suffix in (".cfo", ".xml", ".sta"):
            old.unlink()
    g = Gen(args.seed, args.invoices)
    g.run()
    problems: list[str] = []

    # bank references, unique across the company
    counter = Counter()
    for ln in sorted(g.lines, key=lambda x: x.order):
        counter[ln.account] += 1
        ln.bank_ref = f"{REF_PREFIX[ln.account]}{ln.booking:%y%m%d}{counter[ln.account]:07d}"[:16]

    # customers.csv
    with (out / "customers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
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
        for c in g.customers:
            nm = f"{c.name} {c.legal_form}".strip()
            w.writerow(
                [
                    c.cid,
                    nm,
                    c.email,
                    c.iban,
                    c.siren,
                    c.vat,
                    c.language,
                    c.entity,
                    f"{g.rng.randint(1, 120)} rue de la République",
                    c.postal,
                    c.city,
                    c.country,
                ]
            )
    # invoices.csv (French ERP habits: semicolons, decimal comma, French dates)
    paid = defaultdict(Decimal)
    for ln in g.lines:
        for doc_id, a in ln.allocs:
            paid[doc_id] += a
    with (out / "invoices.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
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
        for d in sorted(g.docs.values(), key=lambda x: (x.issue, x.doc_id)):
            c = d.cust
            p = paid[d.doc_id]
            status = "paid" if p == d.amount else ("partially_paid" if p else "open")
            w.writerow(
                [
                    d.doc_id,
                    c.cid,
                    f"{c.name} {c.legal_form}".strip(),
                    f"{d.issue:%d/%m/%Y}",
                    f"{d.due:%d/%m/%Y}",
                    c.currency,
                    f"{abs(d.amount):.2f}".replace(".", ","),
                    "credit_note" if d.kind == "credit_note" else "invoice",
                    d.reference,
                    f"{abs(p):.2f}".replace(".", ","),
                    status,
                    c.email,
                    c.iban,
                    c.siren,
                    c.vat,
                    c.language,
                    d.po if d.kind == "invoice" else "",
                    c.entity,
                    "rue de la République",
                    c.postal,
                    c.city,
                    c.country,
                ]
            )
            if d.reference.startswith("RF") and not iban_ok(d.reference):
                problems.append(f"bad RF {d.reference}")

    # statements, one file per account and month
    files = {}
    for acct, (_, _ccy, _bank, form, _ent) in ACCOUNTS.items():
        bal = D(g.rng.randint(50000, 400000))
        for m in range(1, 13):
            ls = sorted(
                [x for x in g.lines if x.account == acct and x.booking.month == m],
                key=lambda x: x.order,
            )
            if not ls:
                continue
            ext = {"cfonb": "cfo", "camt08": "xml", "camt02": "xml", "mt940": "sta"}[form]
            name = f"{acct.lower()}_{YEAR}{m:02d}.{ext}"
            p = out / "statements" / name
            if form == "cfonb":
                bal = write_cfonb(p, g, ls, bal, m)
            elif form.startswith("camt"):
                bal = write_camt(p, g, acct, ls, bal, m, form[-2:].rjust(2, "0"))
            else:
                bal = write_mt940(p, g, acct, ls, bal, m)
            for ln in ls:
                files[id(ln)] = name

    # ground truth
    rows = []
    for ln in sorted(g.lines, key=lambda x: x.order):
        rows.append(
            {
                "account_iban": g.acct_iban[ln.account],
                "currency": ACCOUNTS[ln.account][1],
                "statement_file": "statements/" + files[id(ln)],
                "booking_date": str(ln.booking),
                "amount": f"{ln.amount:.2f}",
                "bank_reference": ln.bank_ref,
                "case_kind": ln.case_kind,
                "expected": ln.expected,
                "allocations": json.dumps(
                    [{"invoice_id": d, "amount": f"{a:.2f}"} for d, a in ln.allocs]
                ),
                "note": ln.note,
            }
        )
    with (out / "ground_truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    summary: dict = defaultdict(lambda: {"auto": 0, "person": 0})
    for r in rows:
        summary[r["case_kind"]][r["expected"]] += 1
    total = Counter(r["expected"] for r in rows)
    doc = {
        "seed": args.seed,
        "invoices": sum(1 for d in g.docs.values() if d.kind == "invoice"),
        "credit_notes": sum(1 for d in g.docs.values() if d.kind == "credit_note"),
        "customers": len(g.customers),
        "bank_lines": len(rows),
        "expected": dict(total),
        "case_kinds": dict(sorted(summary.items())),
    }
    (out / "expected_summary.json").write_text(json.dumps(doc, indent=2) + "\n")

    problems += self_check(out, g, rows)
    if problems:
        for p in problems[:30]:
            print("CHECK FAILED:", p, file=sys.stderr)
        return 1
    print(json.dumps({"bank_lines": len(rows), "expected": dict(total)}))
    return 0


def self_check(out: Path, g: Gen, rows: list[dict]) -> list[str]:
    problems = []
    refs = Counter(r["bank_reference"] for r in rows)
    problems += [f"bank reference twice: {k}" for k, v in refs.items() if v > 1]
    for c in g.customers:
        if c.iban and not iban_ok(c.iban):
            problems.append(f"bad IBAN {c.iban}")
    for k, v in g.acct_iban.items():
        if not iban_ok(v):
            problems.append(f"bad account IBAN {k} {v}")
    for d in g.docs.values():
        r = d.reference
        if r.startswith("+++"):
            digits = r.strip("+").replace("/", "")
            if (int(digits[:10]) % 97 or 97) != int(digits[10:]):
                problems.append(f"bad OGM {r}")
    # allocations never exceed a document
    paid = defaultdict(Decimal)
    for ln in g.lines:
        for doc_id, a in ln.allocs:
            paid[doc_id] += a
    for doc_id, p in paid.items():
        d = g.docs[doc_id]
        if abs(p) > abs(d.amount):
            problems.append(f"{doc_id} allocated {p} > {d.amount}")
    for ln in g.lines:
        for doc_id, _ in ln.allocs:
            if g.docs[doc_id].issue > ln.booking and ln.case_kind != "paid_before_invoice":
                problems.append(f"{ln.case_kind} on {ln.booking} pays {doc_id} not yet issued")
        if ln.allocs and ln.case_kind not in ("rounding_over",):
            s = sum((a for _, a in ln.allocs), Decimal(0))
            if s != ln.amount:
                problems.append(f"{ln.bank_ref} allocations {s} != {ln.amount}")
    schemas = {}
    for v in ("02", "08"):
        schemas[v] = etree.XMLSchema(etree.parse(str(XSD_DIR / f"camt.053.001.{v}.xsd")))
    for p in sorted((out / "statements").iterdir()):
        if p.suffix == ".xml":
            doc = etree.parse(str(p))
            v = doc.getroot().tag.split("camt.053.001.")[1][:2]
            if not schemas[v].validate(doc):
                problems.append(f"{p.name}: {schemas[v].error_log.last_error}")
            ns = {"c": doc.getroot().tag[1:].split("}")[0]}
            bals = doc.xpath("//c:Bal", namespaces=ns)
            vals = []
            for b in bals:
                a = Decimal(b.xpath("c:Amt", namespaces=ns)[0].text)
                sign = 1 if b.xpath("c:CdtDbtInd", namespaces=ns)[0].text == "CRDT" else -1
                vals.append(a * sign)
            mv = Decimal(0)
            for e in doc.xpath("//c:Ntry", namespaces=ns):
                a = Decimal(e.xpath("c:Amt", namespaces=ns)[0].text)
                mv += a if e.xpath("c:CdtDbtInd", namespaces=ns)[0].text == "CRDT" else -a
                txs = e.xpath(".//c:TxDtls", namespaces=ns)
                if len(txs) > 1:
                    s = Decimal(0)
                    for t in txs:
                        s += Decimal(t.xpath(".//c:Amt", namespaces=ns)[0].text)
                    if s != a:
                        problems.append(f"{p.name}: batch details {s} != {a}")
            if vals[0] + mv != vals[1]:
                problems.append(f"{p.name}: {vals[0]} + {mv} != {vals[1]}")
        elif p.suffix == ".cfo":
            recs = p.read_text(encoding="latin-1").split("\r\n")[:-1]
            bal = None
            for r in recs:
                if len(r) != 120:
                    problems.append(f"{p.name}: record of {len(r)} columns: {r[:40]}")
                amt = cfonb_value(r[90:104])
                if r[:2] == "01":
                    bal = amt
                elif r[:2] == "04":
                    bal += amt
                elif r[:2] == "07" and bal != amt:
                    problems.append(f"{p.name}: day {r[34:40]} {bal} != {amt}")
        elif p.suffix == ".sta":
            bal = None
            for r in p.read_text(encoding="latin-1").split("\r\n"):
                if r.startswith(":60F:") or r.startswith(":62F:"):
                    v = Decimal(r[15:].replace(",", ".")) * (1 if r[5] == "C" else -1)
                    if r.startswith(":60F:"):
                        bal = v
                    elif bal != v:
                        problems.append(f"{p.name}: {bal} != {v}")
                elif r.startswith(":61:"):
                    body = r[14:]
                    sign = 1 if body[0] == "C" else -1
                    num = ""
                    for ch in body[1:]:
                        if ch.isdigit() or ch == ",":
                            num += ch
                        else:
                            break
                    bal += sign * Decimal(num.replace(",", "."))
                elif r.startswith(":86:") and len(r) > 65:
                    problems.append(f"{p.name}: :86: line over 65")
    return problems


def cfonb_value(s: str) -> Decimal:
    last = s[-1]
    if last in "{ABCDEFGHI":
        digit, sign = "{ABCDEFGHI".index(last), 1
    else:
        digit, sign = "}JKLMNOPQR".index(last), -1
    return Decimal(int(s[:-1] + str(digit))) / 100 * sign


if __name__ == "__main__":
    sys.exit(main())
