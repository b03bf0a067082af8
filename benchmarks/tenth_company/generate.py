#!/usr/bin/env python3
"""Emballages Catalans ("tenth"): an evaluation company for a payment-to-invoice matching engine.

Writes customers.csv, invoices.csv, statements/ (MT940 + camt.053.001.02 + camt.053.001.08),
ground_truth.csv into OUT_DIR.  Standard library + lxml only; deterministic per
seed.  See README.md next to this file for the world, the case kinds and how `expected` is set.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from lxml import etree

D = Decimal
ZERO = D("0.00")
CENT = D("0.01")
START = date(2025, 1, 1)
END = date(2026, 1, 31)
FIRST_ISSUE = date(2024, 11, 15)
LAST_ISSUE = date(2026, 1, 23)


def q(x) -> Decimal:
    return D(x).quantize(CENT, ROUND_HALF_UP)


def fmt(x: Decimal) -> str:
    return f"{q(x):.2f}"


# --------------------------------------------------------------------------- check digits


def mod97(s: str) -> int:
    return int("".join(str(int(c, 36)) for c in s)) % 97


def make_iban(country: str, bban: str) -> str:
    return f"{country}{98 - mod97(bban + country + '00'):02d}{bban}"


def iban_ok(s: str) -> bool:
    s = s.replace(" ", "").upper()
    return len(s) > 8 and mod97(s[4:] + s[:4]) == 1


def make_rf(body: str) -> str:
    return f"RF{98 - mod97(body + 'RF00'):02d}{body}"


def rf_ok(s: str) -> bool:
    s = re.sub(r"\s", "", s).upper()
    return bool(re.fullmatch(r"RF\d\d[A-Z0-9]{1,21}", s)) and mod97(s[4:] + s[:4]) == 1


def luhn_ok(num: str) -> bool:
    tot = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        tot += d
    return tot % 10 == 0


def make_siren(rng: random.Random) -> str:
    base = "".join(rng.choice("0123456789") for _ in range(8))
    base = str(rng.randint(3, 9)) + base[1:]
    for k in range(10):
        if luhn_ok(base + str(k)):
            return base + str(k)
    raise AssertionError


def fr_vat(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def fr_vat_ok(v: str) -> bool:
    return bool(re.fullmatch(r"FR\d{11}", v)) and luhn_ok(v[4:]) and fr_vat(v[4:]) == v


def rand_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def rand_iban(rng: random.Random, country: str) -> str:
    if country == "FR":
        bank = rng.choice(["30004", "30003", "10278", "13507", "16607", "18206", "11306"])
        return make_iban(
            "FR", bank + rand_digits(rng, 5) + rand_digits(rng, 11) + rand_digits(rng, 2)
        )
    if country == "ES":
        bank = rng.choice(["2100", "0049", "0182", "0081", "2080", "3058"])
        return make_iban("ES", bank + rand_digits(rng, 16))
    if country == "IT":
        abi = rng.choice(["03069", "02008", "05034", "03111"])
        return make_iban(
            "IT", rng.choice("ABCDEFGHX") + abi + rand_digits(rng, 5) + rand_digits(rng, 12)
        )
    if country == "GB":
        bank = rng.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL"])
        return make_iban("GB", bank + rand_digits(rng, 6) + rand_digits(rng, 8))
    raise ValueError(country)


# --------------------------------------------------------------------------- names

LEGAL_FORMS = {
    "SAS",
    "SARL",
    "SA",
    "EURL",
    "SCA",
    "SCEA",
    "GAEC",
    "EARL",
    "SNC",
    "SASU",
    "SC",
    "SCV",
    "SL",
    "SLU",
    "SRL",
    "SPA",
    "LTD",
    "LIMITED",
    "PLC",
    "LLP",
    "COOP",
    "SCCL",
    "S",
    "L",
    "A",
    "U",
    "P",
}


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def norm_name(s: str) -> tuple[str, ...]:
    s = strip_accents(s).upper()
    s = re.sub(r"[^A-Z0-9]+", " ", s)
    words = [w for w in s.split() if w not in LEGAL_FORMS]
    return tuple(sorted(words))


# --------------------------------------------------------------------------- model


@dataclass
class Customer:
    cid: str
    name: str
    entity: str
    country: str
    segment: str
    currency: str
    account: str
    real_iban: str
    iban_known: bool
    email: str
    siren: str = ""
    vat: str = ""
    language: str = "fr"
    method: str = "transfer"  # transfer / dd / confirming / pagare
    habit: dict = field(default_factory=dict)
    group: str = ""  # logistics group / cooperative key


@dataclass
class Doc:
    did: str
    cust: Customer
    issue: date
    due: date
    amount: Decimal
    currency: str
    reference: str
    po: str
    dtype: str
    entity: str
    seq: int
    year: int
    open: Decimal = ZERO  # true open amount (generator's books)


@dataclass
class Visible:
    """What the bank file shows for one booked line (what the controller may look at)."""

    payer_name: str = ""
    payer_iban: str = ""
    texts: list = field(default_factory=list)
    tokens: list = field(default_factory=list)  # (kind, written, typo)
    strd: list = field(default_factory=list)  # (nb, doc_type_code, amount) referred documents
    strd_ref: str = ""  # CdtrRefInf/Ref
    e2e: str = ""
    rtr: str = ""
    cat: str = "customer"  # customer/debit_other/credit_other/own/return/batch_nodetail
    third_party: bool = False
    discount: bool = False
    end_to_end_is_doc: bool = False


@dataclass
class Line:
    account: str
    booking: date
    amount: Decimal  # signed
    case: str
    allocs: list  # [(doc_id, Decimal)]
    note: str
    vis: Visible
    btc: str = "PMNT/RCDT/ESCT"
    seq: int = 0
    ref: str = ""
    statement: str = ""
    expected: str = ""
    ctrl_allocs: list = field(default_factory=list)
    entry: object = None


@dataclass
class Entry:
    account: str
    booking: date
    amount: Decimal  # signed
    lines: list  # detail lines (one unless batch)
    batch: bool = False
    details: bool = True
    addtl: str = ""
    ref: str = ""
    seq: int = 0
    btc: str = "PMNT/RCDT/ESCT"
    btch_id: str = ""


ACCOUNTS = {
    "FR01_EUR": dict(
        entity="FR01",
        currency="EUR",
        fmt="mt940",
        bank="Banque du Roussillon",
        bic="BROUFRPPXXX",
        prefix="BR",
    ),
    "ES01_EUR": dict(
        entity="ES01",
        currency="EUR",
        fmt="camt02",
        bank="Caixa Rural del Llobregat",
        bic="CRLLESBBXXX",
        prefix="CL",
    ),
    "FR01_GBP": dict(
        entity="FR01",
        currency="GBP",
        fmt="camt08",
        bank="Crédit Maritime Atlantique",
        bic="CMATFRPPXXX",
        prefix="CM",
    ),
}
ACCOUNT_ORDER = list(ACCOUNTS)


# --------------------------------------------------------------------------- world data

FR_WINE = [
    "Domaine de la Garrigue",
    "Domaine Mas Amiel Fils",
    "Domaine des Schistes Noirs",
    "Domaine Cazes Frères",
    "Domaine du Clos des Fées",
    "Domaine Lafage et Associés",
    "Domaine de Rancy",
    "Domaine Gauby Vignerons",
    "Domaine Piquemal",
    "Domaine Sarda-Malet",
    "Château de Corneilla",
    "Château Planères",
    "Domaine Boucabeille",
    "Domaine Ferrer-Ribière",
    "Domaine Vial-Magnères",
    "Château Valmy",
    "Domaine La Tour Vieille",
    "Domaine Pietri-Géraud",
]
FR_COOPS = [
    "Cave Coopérative de Maury",
    "Les Vignerons de Tautavel",
    "Cave Coopérative de Rivesaltes",
    "Cellier des Templiers de Banyuls",
    "Vignobles Dom Brial Baixas",
    "Cave de Terrats",
]
FR_FOOD = [
    "Conserverie Roque",
    "Anchois Desclaux",
    "Biscuiterie Catalane",
    "Miellerie des Aspres",
    "Fromagerie du Conflent",
    "Salaisons Bonnet",
    "Charcuterie Llobet",
    "Vergers du Roussillon",
    "Coopérative Fruitière Teranéo",
    "Huilerie d'Ille-sur-Têt",
    "Confiserie du Tech",
    "Touron Catalan Sabater",
    "Pâtes Fraîches Nadal",
    "Escargots du Vallespir",
    "Brasserie Cap d'Ona",
    "Rousquilles Tradition",
    "Glacier Sant Jordi",
    "Abricots Bergeron",
    "Les Paniers de Céret",
    "Chocolaterie Cantal-Pujol",
    "Laiterie des Pyrénées",
    "Poissonnerie Roussillon Marée",
    "Primeurs Saint-Charles",
    "Traiteur Delcros",
    "Boulangerie Industrielle Agly",
    "Sauces et Condiments Romeu",
    "Tomates de Thuir",
    "Limonaderie Cazals",
    "Crèmerie Font-Romeu",
    "Nougaterie du Boulou",
    "Maraîchers d'Elne",
    "Boucherie Industrielle Têt",
    "Cidrerie des Fenouillèdes",
    "Safran du Riberal",
    "Saveurs d'Olives Gatounes",
    "Épices Fine Marrakech Perpignan",
]
FR_ECOM = [
    "Box Apéro Catalan",
    "La Cave Connectée",
    "Vins du Sud en Ligne",
    "Terroir Express",
    "Épicerie Fine Web Pyrène",
    "Colis Gourmand",
    "Mon Panier Bio",
    "CosmétiK Naturelle",
    "Maison Cerdane Déco",
    "Thés et Merveilles",
    "Savonnerie du Canigou",
    "Petit Bazar Malin",
    "Kazidomi Sud",
    "Oh My Cream Perpignan",
]
FR_LOGI_HEAD = "Groupe Translittoral"
FR_LOGI_SUBS = [
    "Translittoral Perpignan",
    "Translittoral Narbonne",
    "Translittoral Montpellier",
    "Translittoral Toulouse Fret",
]
IT_CUST = [
    "Cantina Sociale di Alghero",
    "Oleificio Santoro",
    "Pastificio Lucchese",
    "Caseificio Valle Stura",
    "Tenuta San Lorenzo",
    "Dolciaria Marchigiana",
    "Conserve Italia Sud",
    "Torrefazione Aurora",
    "Azienda Agricola Ferri",
    "Prosciuttificio Dall'Ara",
    "Birrificio Ligure",
    "Agrumi di Sicilia Ferrante",
]
ES_BODEGAS = [
    "Bodegas Can Roca",
    "Celler de Capçanes",
    "Bodega Cooperativa de Gandesa",
    "Cavas Mestres",
    "Bodegas Torrelles",
    "Celler Vall Llach",
    "Bodegas Perelada Baixa",
    "Celler Mas Doix",
    "Bodega Comarcal de Falset",
    "Cavas Llopart Vell",
    "Celler Batea",
    "Bodegas Martí Serdà",
    "Celler Sabaté i Coca",
    "Bodegas Alta Alella",
]
ES_FOOD = [
    "Embutidos Casademont",
    "Conservas Ortiz Ribes",
    "Aceites Borges Lleida",
    "Turrones Vicens Agramunt",
    "Galletas Birba",
    "Frutas Nufri",
    "Quesos Cadí",
    "Patatas Fritas Torres",
    "Chocolates Simón Coll",
    "Cafés Caracas",
    "Mermeladas Hero Ebre",
    "Panificadora Baluard",
    "Hortalizas del Delta",
    "Salazones Garrofé",
    "Miel Muria",
    "Horchatas Daurat",
    "Conservas Dani Calella",
    "Harinera Vilafranquina",
    "Encurtidos Serra",
    "Pescados Roses Mar",
    "Almendras Reus Selectas",
    "Vermuts Iris Reus",
]
ES_ECOM = [
    "Tienda Gourmet Online",
    "Vinissimus Envíos",
    "Regalos Mediterráneo",
    "Cosmética Natural BCN",
    "Bodega Digital Plus",
    "Paquetería Fácil",
    "Delicias del Ampurdán Online",
    "Bazar Nómada",
]
ES_LOGI_HEAD = "Grupo Transportes Ebro"
ES_LOGI_SUBS = [
    "Transportes Ebro Zaragoza",
    "Transportes Ebro Tarragona",
    "Ebro Frío Lleida",
    "Ebro Almacenaje Barcelona",
]
UK_CUST = [
    "Highland Fine Foods",
    "Cotswold Gin Distillery",
    "Yorkshire Crisps Company",
    "Camden Coffee Roasters",
    "Bristol Cider House",
    "Devon Fudge Makers",
    "Norfolk Honey Farm",
]
UK_LOGI_HEAD = "Northgate Logistics Group"
UK_LOGI_SUBS = ["Northgate Fulfilment Midlands", "Northgate Distribution Kent"]

FR_FORMS = ["SAS", "SARL", "SA", "EURL", "SCEA", "SAS"]
ES_FORMS = ["SL", "SA", "SLU", "SL"]
IT_FORMS = ["S.r.l.", "S.p.A.", "S.r.l."]
UK_FORMS = ["Ltd", "Limited", "Ltd"]

# standard packaging lots (net amounts) - the same lot is ordered by many customers
STD_LOTS = [
    D("412.50"),
    D("780.00"),
    D("1248.00"),
    D("1560.00"),
    D("2340.00"),
    D("96.40"),
    D("3120.00"),
    D("655.20"),
    D("188.00"),
    D("4860.00"),
]


HOLIDAYS = {date(2025, 1, 1), date(2025, 5, 1), date(2025, 12, 25), date(2026, 1, 1)}


def business_day(d: date) -> date:
    while d.weekday() >= 5 or d in HOLIDAYS:
        d += timedelta(days=1)
    return d


def end_of_month(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def norm_doc(s: str) -> set[str]:
    """Keys under which a written document number is looked up (separators/padding/case)."""
    s = strip_accents(s).upper()
    squash = re.sub(r"[^A-Z0-9]", "", s)
    groups = re.findall(r"[A-Z]+|\d+", s)
    grouped = "|".join(g.lstrip("0") or "0" if g.isdigit() else g for g in groups)
    return {"S:" + squash, "G:" + grouped}


class World:
    def __init__(self, seed: int, n_invoices: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_invoices = n_invoices
        self.customers: list[Customer] = []
        self.docs: list[Doc] = []
        self.docs_by_id: dict[str, Doc] = {}
        self.lines: list[Line] = []
        self.entries: list[Entry] = []
        self.counters: Counter = Counter()
        self.group_heads: dict[str, tuple[str, str]] = {}  # group -> (name, iban)
        self.pagare_bins: list = []

    # ------------------------------------------------------------------ customers
    def add_customer(self, name, entity, country, segment, currency, account, **kw):
        rng = self.rng
        n = len(self.customers) + 1
        cid = f"CL{entity[:2]}{n:04d}"
        real_iban = rand_iban(rng, country)
        slug = re.sub(r"[^a-z]+", "", strip_accents(name).lower())[:14] or "contact"
        tld = {"FR": "fr", "ES": "es", "IT": "it", "GB": "co.uk"}[country]
        email = rng.choice(["compta", "factures", "comptabilite", "admin", "pagos", "accounts"])
        email = f"{email}@{slug}.{tld}"
        c = Customer(
            cid=cid,
            name=name,
            entity=entity,
            country=country,
            segment=segment,
            currency=currency,
            account=account,
            real_iban=real_iban,
            iban_known=rng.random() < 0.6,
            email=email,
            language="fr" if country == "FR" else "en",
            **kw,
        )
        if country == "FR":
            c.siren = make_siren(rng)
            c.vat = fr_vat(c.siren)
        self.customers.append(c)
        return c

    def build_customers(self):
        rng = self.rng
        for nm in FR_WINE:
            form = rng.choice(["SCEA", "EARL", "SAS", "GAEC", "SCEA"])
            self.add_customer(f"{nm} {form}", "FR01", "FR", "wine", "EUR", "FR01_EUR")
        members = [c for c in self.customers if c.segment == "wine"]
        for i, nm in enumerate(FR_COOPS):
            c = self.add_customer(nm, "FR01", "FR", "coop", "EUR", "FR01_EUR")
            c.group = f"coop{i}"
            if i < 3:
                for m in members[i * 3 : i * 3 + 2]:
                    m.group = c.group
        for nm in FR_FOOD:
            c = self.add_customer(
                f"{nm} {rng.choice(FR_FORMS)}", "FR01", "FR", "food", "EUR", "FR01_EUR"
            )
            c.habit["factored"] = rng.random() < 0.2
            c.habit["po"] = rng.random() < 0.55
            c.habit["blanket_po"] = c.habit["po"] and rng.random() < 0.25
            c.habit["escompte"] = rng.random() < 0.15
        for nm in FR_ECOM:
            c = self.add_customer(
                f"{nm} {rng.choice(['SAS', 'SASU', 'SARL'])}",
                "FR01",
                "FR",
                "ecom",
                "EUR",
                "FR01_EUR",
            )
            c.habit["proforma"] = rng.random() < 0.5
        head = self.add_customer(f"{FR_LOGI_HEAD} SA", "FR01", "FR", "logi_head", "EUR", "FR01_EUR")
        head.group = "translittoral"
        self.group_heads["translittoral"] = (head.name.upper(), head.real_iban)
        for nm in FR_LOGI_SUBS:
            c = self.add_customer(f"{nm} SAS", "FR01", "FR", "logi", "EUR", "FR01_EUR")
            c.group = "translittoral"
            c.habit["po"] = True
        for nm in IT_CUST:
            self.add_customer(
                f"{nm} {rng.choice(IT_FORMS)}", "FR01", "IT", "italy", "EUR", "FR01_EUR"
            )
        for nm in ES_BODEGAS:
            c = self.add_customer(
                f"{nm} {rng.choice(ES_FORMS)}", "ES01", "ES", "bodega", "EUR", "ES01_EUR"
            )
            c.method = rng.choice(["transfer", "transfer", "dd", "pagare"])
        for nm in ES_FOOD:
            c = self.add_customer(
                f"{nm} {rng.choice(ES_FORMS)}", "ES01", "ES", "esfood", "EUR", "ES01_EUR"
            )
            c.method = rng.choice(
                ["transfer", "dd", "dd", "confirming", "confirming", "pagare", "pagare"]
            )
            c.habit["po"] = rng.random() < 0.4
        for nm in ES_ECOM:
            c = self.add_customer(
                f"{nm} {rng.choice(ES_FORMS)}", "ES01", "ES", "esecom", "EUR", "ES01_EUR"
            )
            c.method = rng.choice(["transfer", "dd"])
        self.group_heads["ebro"] = (f"{ES_LOGI_HEAD.upper()} SA", rand_iban(rng, "ES"))
        for nm in ES_LOGI_SUBS:
            c = self.add_customer(f"{nm} SL", "ES01", "ES", "eslogi", "EUR", "ES01_EUR")
            c.group = "ebro"
        for nm in UK_CUST:
            self.add_customer(f"{nm} {rng.choice(UK_FORMS)}", "FR01", "GB", "uk", "GBP", "FR01_GBP")
        self.group_heads["northgate"] = (f"{UK_LOGI_HEAD} PLC", rand_iban(rng, "GB"))
        for nm in UK_LOGI_SUBS:
            c = self.add_customer(f"{nm} Ltd", "FR01", "GB", "uklogi", "GBP", "FR01_GBP")
            c.group = "northgate"
        # direct-debit customers signed a mandate: we know their IBAN
        for c in self.customers:
            if c.method == "dd":
                c.iban_known = True
        # names must be distinct after normalisation
        seen = Counter(norm_name(c.name) for c in self.customers)
        assert max(seen.values()) == 1, [k for k, v in seen.items() if v > 1]

    # ------------------------------------------------------------------ documents
    def build_docs(self):
        rng = self.rng
        weights = {
            "wine": 0.7,
            "coop": 1.2,
            "food": 1.3,
            "ecom": 0.9,
            "logi_head": 0.3,
            "logi": 1.0,
            "italy": 0.6,
            "bodega": 0.8,
            "esfood": 1.2,
            "esecom": 0.8,
            "eslogi": 1.0,
            "uk": 0.6,
            "uklogi": 0.9,
        }
        custs = self.customers
        w = [weights[c.segment] * rng.uniform(0.5, 1.6) for c in custs]
        span = (LAST_ISSUE - FIRST_ISSUE).days
        raw = []
        for _ in range(self.n_invoices):
            c = rng.choices(custs, w)[0]
            if c.segment in ("wine", "coop", "bodega") and rng.random() < 0.75:
                # bottles/cartons before the harvest: June - September
                d = date(2025, 6, 1) + timedelta(days=rng.randint(0, 110))
            else:
                d = FIRST_ISSUE + timedelta(days=rng.randint(0, span))
            raw.append((business_day(d) if d.weekday() >= 5 else d, c))
        raw = [(min(d, LAST_ISSUE), c) for d, c in raw]
        raw.sort(key=lambda t: (t[0], t[1].cid))
        seqs: Counter = Counter()
        blanket: dict[str, str] = {}
        for d, c in raw:
            self._make_invoice(c, d, seqs, blanket)
        # credit notes: damaged deliveries, price corrections, returned pallets
        invs = [x for x in self.docs if x.dtype == "invoice"]
        for inv in rng.sample(invs, int(len(invs) * 0.06)):
            frac = rng.choice([D("0.05"), D("0.1"), D("0.2"), D("0.5"), D("1")])
            amt = q(inv.amount * frac)
            if frac == 1:
                amt = q(inv.amount * D("0.35"))
            d = inv.issue + timedelta(days=rng.randint(3, 40))
            if d > LAST_ISSUE:
                continue
            self._make_doc(inv.cust, d, -amt, "credit_note", seqs, po=inv.po, due=d)
        self.docs.sort(key=lambda x: (x.issue, x.did))

    def _series(self, c: Customer, dtype: str, year: int, seqs: Counter) -> tuple[str, int]:
        yy = year % 100
        if c.entity == "ES01":
            key = ("ES", dtype, year)
            seqs[key] += 1
            n = seqs[key]
            return (f"{year}/{n:05d}" if dtype == "invoice" else f"AB-{year}/{n:04d}"), n
        if c.currency == "GBP":
            key = ("GB", dtype, year)
            seqs[key] += 1
            n = seqs[key]
            return (f"EX{yy}-{n:04d}" if dtype == "invoice" else f"AVX{yy}-{n:03d}"), n
        key = ("FR", dtype, year)
        seqs[key] += 1
        n = seqs[key]
        return (f"FA{yy}-{n:05d}" if dtype == "invoice" else f"AV{yy}-{n:04d}"), n

    def _make_doc(self, c, d, amount, dtype, seqs, po="", due=None):
        did, n = self._series(c, dtype, d.year, seqs)
        ref = ""
        if c.entity == "FR01":
            ref = make_rf("EC" + re.sub(r"[^A-Z0-9]", "", did))
        doc = Doc(
            did=did,
            cust=c,
            issue=d,
            due=due or d,
            amount=amount,
            currency=c.currency,
            reference=ref,
            po=po,
            dtype=dtype,
            entity=c.entity,
            seq=n,
            year=d.year,
        )
        doc.open = amount
        self.docs.append(doc)
        self.docs_by_id[did] = doc
        return doc

    def _make_invoice(self, c, d, seqs, blanket):
        rng = self.rng
        if rng.random() < 0.4:
            net = rng.choice(STD_LOTS)
        else:
            net = q(
                D(rng.randint(8, 900))
                * rng.choice([D("1.85"), D("2.40"), D("0.62"), D("12.90"), D("4.35")])
            )
        if c.segment in ("coop", "eslogi", "logi", "uklogi") and rng.random() < 0.4:
            net = q(net * 3)
        vat = {"FR": D("1.20"), "ES": D("1.21"), "IT": D("1"), "GB": D("1")}[c.country]
        amount = q(net * vat)
        po = ""
        if c.habit.get("po") or c.segment in ("eslogi", "uklogi"):
            if c.habit.get("blanket_po") and rng.random() < 0.5:
                po = blanket.setdefault(c.cid, f"45000{rng.randint(10000, 99999)}")
            elif c.country == "ES":
                po = f"PED-{rng.randint(1000, 9999)}/{d.year % 100}"
            elif c.country == "GB":
                po = f"PO{rng.randint(100000, 999999)}"
            else:
                po = rng.choice(["BC", "CMD", "PO"]) + f"{d.year % 100}{rng.randint(1000, 9999)}"
        if c.habit.get("proforma"):
            po = f"PF{d.year % 100}-{rng.randint(100, 999)}{rng.randint(0, 9)}"
        seg = c.segment
        if seg in ("wine", "coop") and date(2025, 5, 1) <= d <= date(2025, 10, 15):
            due = date(2025, 11, 30)  # "échéance après vendanges"
        elif seg == "bodega" and date(2025, 5, 1) <= d <= date(2025, 10, 15):
            due = date(2025, 11, 30)
        elif c.country == "FR":
            due = end_of_month(d + timedelta(days=45)) if rng.random() < 0.6 else d + timedelta(30)
        elif c.country == "ES":
            due = d + timedelta(days=60)
        elif c.country == "IT":
            due = end_of_month(d + timedelta(days=60))
        else:
            due = d + timedelta(days=30)
        return self._make_doc(c, d, amount, "invoice", seqs, po=po, due=due)

    # ------------------------------------------------------------------ helpers for payments
    def payer_name(self, c: Customer) -> tuple[str, str]:
        """Name as the payer's bank prints it, and a tag saying which variant."""
        rng = self.rng
        r = rng.random()
        words = c.name.split()
        if r < 0.40:
            return c.name, "exact"
        if r < 0.62:
            return strip_accents(c.name).upper(), "upper"
        if r < 0.76 and len(words) > 1:
            # legal form moved in front or dropped
            form, rest = words[-1], " ".join(words[:-1])
            return (f"{form} {rest}" if rng.random() < 0.5 else rest).upper(), "form"
        if r < 0.84 and len(words) > 2:
            return strip_accents(" ".join(reversed(words[:-1]))).upper(), "order"
        if r < 0.93:
            return strip_accents(c.name).upper()[:18].strip(), "truncated"
        # a trading name / abbreviation the bank prints instead of the legal name
        return strip_accents(words[0][:4] + ". " + " ".join(words[1:3])).upper(), "abbrev"

    def when(self, c: Customer, base: date, spread=(-3, 25)) -> date:
        late = c.habit.setdefault("late", self.rng.choice([-5, 0, 3, 8, 15, 25, 40]))
        d = base + timedelta(days=late + self.rng.randint(*spread))
        if d < START:
            d = START + timedelta(days=self.rng.randint(1, 20))
        return business_day(d)

    def w_id(self, doc: Doc) -> str:
        rng = self.rng
        r = rng.random()
        did = doc.did
        if r < 0.55:
            return did
        if r < 0.7:
            return did.lower()
        if r < 0.82:
            return re.sub(r"[-/]", " ", did)
        if r < 0.92:
            return re.sub(r"[-/]", "", did)
        # padding dropped
        return re.sub(r"([-/])0+(\d)", r"\1\2", did)

    def w_rf(self, ref: str) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.5:
            return ref, "clean"
        if r < 0.7:
            return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4)), "spaced"
        if r < 0.85:
            return ref.lower(), "lower"
        return ref, "glued"

    def tok_doc(self, doc: Doc, typo=False) -> dict:
        return {"kind": "doc", "w": self.w_id(doc) if not typo else doc, "typo": typo}

    def mistype(self, doc: Doc) -> tuple[str, Doc | None]:
        """Transpose two digits / change one digit of the sequence."""
        rng = self.rng
        s = f"{doc.seq:05d}" if doc.did.startswith("FA") else str(doc.seq)
        for _ in range(20):
            digs = list(s)
            if rng.random() < 0.6 and len(digs) >= 2:
                i = rng.randrange(len(digs) - 1)
                digs[i], digs[i + 1] = digs[i + 1], digs[i]
            else:
                i = rng.randrange(len(digs))
                digs[i] = str((int(digs[i]) + rng.choice([1, 9])) % 10)
            t = "".join(digs)
            if t != s and int(t) > 0:
                break
        else:
            return "", None
        width = len(re.search(r"(\d+)$", doc.did).group(1))
        did = re.sub(r"\d+$", f"{int(t):0{width}d}", doc.did)
        return did, self.docs_by_id.get(did)

    def line(self, account, d, amount, case, allocs, note, vis, btc="PMNT/RCDT/ESCT"):
        if account == "FR01_GBP" and btc == "PMNT/RCDT/ESCT":
            btc = "PMNT/RCDT/XBCT"  # GBP from the UK: cross-border credit transfer
        ln = Line(
            account=account,
            booking=d,
            amount=q(amount),
            case=case,
            allocs=[(a, q(b)) for a, b in allocs],
            note=note,
            vis=vis,
            btc=btc,
        )
        self.lines.append(ln)
        ent = Entry(account=account, booking=d, amount=ln.amount, lines=[ln], btc=btc)
        ln.entry = ent
        self.entries.append(ent)
        return ln

    def cust_line(
        self,
        c,
        d,
        amount,
        allocs,
        case,
        note,
        texts,
        tokens=(),
        *,
        name=None,
        iban=None,
        e2e="",
        strd=(),
        strd_ref="",
        third_party=False,
        discount=False,
        account=None,
    ):
        if d > END:
            return None
        if d < START:
            d = business_day(START + timedelta(days=self.rng.randint(1, 10)))
        allocs = [(did, a) for did, a in allocs if a != 0]
        if amount <= 0:
            return None
        if name is None:
            name, _tag = self.payer_name(c)
        if iban is None:
            iban = c.real_iban
            if c.currency == "GBP" and self.rng.random() < 0.5:
                iban = ""
        vis = Visible(
            payer_name=name,
            payer_iban=iban,
            texts=[t for t in texts if t],
            tokens=list(tokens),
            strd=list(strd),
            strd_ref=strd_ref,
            e2e=e2e,
            third_party=third_party,
            discount=discount,
        )
        for did, a in allocs:
            doc = self.docs_by_id[did]
            doc.open = q(doc.open - a)
        return self.line(account or c.account, d, amount, case, allocs, note, vis)

    def open_docs(self, c: Customer, dtype=None):
        return [
            x for x in self.cust_docs[c.cid] if x.open != 0 and (dtype is None or x.dtype == dtype)
        ]

    # ------------------------------------------------------------------ texts
    def t_one(self, c: Customer, doc: Doc, word: str = "") -> tuple[str, list]:
        """Free text naming one invoice by its full number, in the payer's habits."""
        w = self.w_id(doc)
        tok = [{"kind": "doc", "w": w, "typo": False}]
        if c.country == "FR":
            word = word or self.rng.choice(
                ["FACTURE", "REGLEMENT FACT", "FACT.", "Facture n°", "PAIEMENT"]
            )
        elif c.country == "ES":
            word = word or self.rng.choice(["FRA", "FACTURA", "Fra.", "PAGO FRA"])
        elif c.country == "IT":
            word = word or self.rng.choice(["Pagamento fattura", "Saldo fatt.", "Fattura"])
        else:
            word = word or self.rng.choice(["INV", "INVOICE", "Inv no"])
        return f"{word} {w}", tok

    def t_bare(self, c: Customer, doc: Doc, word: str = "", with_year=False) -> tuple[str, list]:
        n = str(doc.seq)
        tok = [
            {"kind": "num", "n": doc.seq, "year": doc.year if with_year else None, "typo": False}
        ]
        if with_year:
            n = f"{n}/{doc.year}"
        if c.country == "FR":
            word = word or self.rng.choice(["FACT", "Facture", "FACTURE N", "fact no"])
        elif c.country == "ES":
            word = word or self.rng.choice(["Fra. nº", "FRA", "FACTURA NUM"])
        elif c.country == "IT":
            word = word or "Saldo fattura n."
        else:
            word = word or self.rng.choice(["INV", "Invoice"])
        return f"{word} {n}", tok

    def t_list(self, c: Customer, docs: list[Doc], bare: bool) -> tuple[str, list]:
        toks, parts = [], []
        for x in docs:
            if bare:
                parts.append(str(x.seq))
                toks.append({"kind": "num", "n": x.seq, "year": None, "typo": False})
            else:
                w = self.w_id(x)
                parts.append(w)
                toks.append({"kind": "doc", "w": w, "typo": False})
        if c.country == "ES":
            body = ", ".join(parts[:-1]) + " Y " + parts[-1]
            return f"PAGO FACTURAS {body}", toks
        if c.country == "GB":
            return "INV " + " + ".join(parts), toks
        if c.country == "IT":
            return "Saldo fatture " + " - ".join(parts), toks
        body = ", ".join(parts[:-1]) + " et " + parts[-1]
        word = self.rng.choice(["Règlement factures", "REGLT FACT", "Factures"])
        return f"{word} {body}", toks

    def noref_text(self, c: Customer) -> str:
        if c.country == "FR":
            return self.rng.choice(
                [
                    "VIREMENT",
                    "PAIEMENT",
                    "VIR SEPA",
                    "REGLEMENT",
                    "",
                    f"VIR {strip_accents(c.name.split()[0]).upper()}",
                ]
            )
        if c.country == "ES":
            return self.rng.choice(["TRANSFERENCIA", "PAGO PROVEEDOR", "PAGO", ""])
        if c.country == "IT":
            return self.rng.choice(["Bonifico", "Pagamento", ""])
        return self.rng.choice(["PAYMENT", "SUPPLIER PAYMENT", ""])

    # ------------------------------------------------------------------ customer payments
    def build_payments(self):
        self.cust_docs = defaultdict(list)
        for x in self.docs:
            self.cust_docs[x.cust.cid].append(x)
        self.handled: set[str] = set()
        self.dd_queue: list = []
        self.pagare_queue: list = []
        self.strd_queue: dict[str, list] = defaultdict(list)
        for c in self.customers:
            if c.segment in ("wine", "coop", "bodega"):
                self.pay_seasonal(c)
            for inv in [x for x in self.cust_docs[c.cid] if x.dtype == "invoice"]:
                if inv.did in self.handled:
                    continue
                self.pay_invoice(c, inv)
        self.flush_dd()
        self.flush_pagares()
        self.flush_strd()

    def pick(self, table: dict) -> str:
        keys = [k for k, v in table.items() if v > 0]
        return self.rng.choices(keys, [table[k] for k in keys])[0]

    def next_open(self, c: Customer, after: Doc, k: int) -> list[Doc]:
        out = [after]
        for x in self.cust_docs[c.cid]:
            if len(out) >= k:
                break
            if (
                x.dtype == "invoice"
                and x.did not in self.handled
                and x is not after
                and x.open > 0
                and 0 <= (x.issue - after.issue).days <= 50
            ):
                out.append(x)
        return out

    def open_cn(self, c: Customer, before: date) -> Doc | None:
        for x in self.cust_docs[c.cid]:
            if x.dtype == "credit_note" and x.open < 0 and x.issue <= before:
                return x
        return None

    def pay_seasonal(self, c: Customer):
        """Wine estates / cooperatives / bodegas: pay the harvest orders at once in autumn."""
        rng = self.rng
        season = [
            x for x in self.cust_docs[c.cid] if x.dtype == "invoice" and x.due == date(2025, 11, 30)
        ]
        if len(season) < 2:
            return
        for x in season:
            self.handled.add(x.did)
        d = business_day(date(2025, 10, 20) + timedelta(days=rng.randint(0, 60)))
        coop = next(
            (
                k
                for k in self.customers
                if k.segment == "coop" and k.group == c.group and c.group and k is not c
            ),
            None,
        )
        total = sum(x.open for x in season)
        allocs = [(x.did, x.open) for x in season]
        if coop is not None and rng.random() < 0.7:
            # the cooperative pays its member estate's harvest orders
            if rng.random() < 0.5:
                txt, toks = self.t_list(c, season, bare=rng.random() < 0.5)
                self.cust_line(
                    coop,
                    d,
                    total,
                    allocs,
                    "coop_pays_member",
                    f"cooperative {coop.cid} pays member {c.cid} harvest invoices",
                    [f"{txt} ADHERENT {strip_accents(c.name).upper()[:30]}"],
                    toks,
                )
            else:
                self.cust_line(
                    coop,
                    d,
                    total,
                    allocs,
                    "coop_pays_member",
                    f"cooperative {coop.cid} pays member {c.cid}, no document named",
                    [f"VENDANGES 2025 POUR COMPTE ADHERENT {c.name.split()[1].upper()}"],
                    third_party=True,
                )
            return
        style = self.pick({"list": 4, "solde": 3, "vendanges": 2, "split": 2})
        if c.country == "ES" and c.method in ("dd", "pagare"):
            style = self.pick({"list": 3, "solde": 2})
        if style == "list":
            bare = rng.random() < 0.5
            txt, toks = self.t_list(c, season, bare)
            cn = self.open_cn(c, d)
            if cn is not None and rng.random() < 0.6:
                self.cust_line(
                    c,
                    d,
                    total + cn.open,
                    [*allocs, (cn.did, cn.open)],
                    "several_minus_credit_note",
                    f"harvest invoices listed, credit note {cn.did} deducted unnamed",
                    [txt],
                    toks,
                )
            else:
                self.cust_line(
                    c,
                    d,
                    total,
                    allocs,
                    "seasonal_list",
                    "harvest invoices paid at once, listed",
                    [txt],
                    toks,
                )
        elif style in ("solde", "vendanges"):
            txt = {"solde": "SOLDE COMPTE", "vendanges": "VENDANGES 2025"}[style]
            if c.country == "ES":
                txt = rng.choice(["SALDO CUENTA", "VENDIMIA 2025"])
            everything = [x for x in self.cust_docs[c.cid] if x.open != 0 and x.issue <= d]
            self.handled.update(x.did for x in everything)
            tot = sum(x.open for x in everything)
            self.cust_line(
                c,
                d,
                tot,
                [(x.did, x.open) for x in everything],
                "seasonal_no_reference",
                f"'{txt}': all open documents paid",
                [txt],
            )
        else:
            # two payments: the first half named, the rest "solde"
            half = season[: len(season) // 2]
            rest = season[len(season) // 2 :]
            txt, toks = (
                self.t_list(c, half, bare=False) if len(half) > 1 else self.t_one(c, half[0])
            )
            self.cust_line(
                c,
                d,
                sum(x.open for x in half),
                [(x.did, x.open) for x in half],
                "seasonal_list",
                "first part of the harvest invoices",
                [txt],
                toks,
            )
            d2 = business_day(d + timedelta(days=rng.randint(15, 45)))
            txt, toks = (
                self.t_list(c, rest, bare=True) if len(rest) > 1 else self.t_bare(c, rest[0])
            )
            self.cust_line(
                c,
                d2,
                sum(x.open for x in rest),
                [(x.did, x.open) for x in rest],
                "seasonal_list",
                "remaining harvest invoices",
                [txt],
                toks,
            )

    def pay_invoice(self, c: Customer, inv: Doc):
        rng = self.rng
        seg = c.segment
        self.handled.add(inv.did)
        if inv.open <= 0:
            return
        if c.method == "dd":
            self.dd_queue.append(inv)
            return
        if c.method == "pagare" and rng.random() < 0.85:
            self.pagare_queue.append(inv)
            return
        if c.method == "confirming" and rng.random() < 0.85:
            return self.pay_confirming(c, inv)
        if seg in ("eslogi", "uklogi") and rng.random() < 0.8:
            self.strd_queue[c.group].append(inv)
            return
        if seg == "logi" and rng.random() < 0.5:
            self.strd_queue[c.group].append(inv)
            return
        if c.habit.get("factored") and rng.random() < 0.35:
            return self.pay_factor(c, inv)
        if seg == "italy":
            return self.pay_italy(c, inv)
        if seg in ("uk", "uklogi"):
            return self.pay_uk(c, inv)
        table = {
            "full": 22,
            "rf": 12 if inv.reference else 0,
            "rf_messy": 6 if inv.reference else 0,
            "rf_bad": 1.2 if inv.reference else 0,
            "po": 8 if inv.po else 0,
            "po_inv": 5 if inv.po else 0,
            "bare": 6,
            "noref": 10,
            "partial": 3,
            "acompte": 3,
            "over_small": 2,
            "over_large": 1,
            "duplicate": 1.2,
            "typo": 4,
            "cn": 0,
            "multi": 6,
            "multi_cn": 0,
            "escompte": 5 if c.habit.get("escompte") else 0,
            "unpaid": 3,
            "early": 0,
            "e2e": 6 if c.country == "ES" else 0,
            "unknown_payer": 2.5,
        }
        cn = self.open_cn(c, inv.due + timedelta(days=30))
        if cn is not None:
            table["cn"] = 14
            table["multi_cn"] = 5
        if c.habit.get("proforma"):
            table["early"] = 25
        if c.country == "ES":
            table["rf"] = table["rf_messy"] = table["rf_bad"] = 0
            table["bare"] = 14
        sc = self.pick(table)
        getattr(self, "sc_" + sc)(c, inv, cn)

    # single-invoice scenarios --------------------------------------------------------------
    def sc_unpaid(self, c, inv, cn):
        pass

    def sc_full(self, c, inv, cn):
        d = self.when(c, inv.due)
        txt, toks = self.t_one(c, inv)
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "invoice_number",
            "pays one invoice naming its number",
            [txt],
            toks,
        )

    def sc_e2e(self, c, inv, cn):
        d = self.when(c, inv.due)
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "end_to_end_invoice",
            "payer's ERP put our invoice number in the EndToEndId",
            [self.noref_text(c)],
            e2e=inv.did,
        )

    def sc_rf(self, c, inv, cn):
        d = self.when(c, inv.due)
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "rf_reference",
            "RF creditor reference copied from the invoice",
            [inv.reference],
            [{"kind": "rf", "w": inv.reference, "typo": False}],
        )

    def sc_rf_messy(self, c, inv, cn):
        d = self.when(c, inv.due)
        w, how = self.w_rf(inv.reference)
        txt = w
        if how == "glued":
            txt = self.rng.choice(["FACT", "REF", "PAIEMENT"]) + w
        elif self.rng.random() < 0.5:
            txt = f"REF {w} MERCI"
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "rf_reference_typed",
            f"RF reference typed by hand ({how})",
            [txt],
            [{"kind": "rf", "w": w, "typo": False}],
        )

    def sc_rf_bad(self, c, inv, cn):
        d = self.when(c, inv.due)
        ref = inv.reference
        bad = ref[:-1] + str((int(ref[-1]) + 3) % 10) if ref[-1].isdigit() else ref[:-1] + "7"
        if rf_ok(bad):
            return self.sc_rf(c, inv, cn)
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "rf_check_digit_fails",
            f"RF typed with a wrong character ({bad}), fails its check digits",
            [bad],
            [{"kind": "rf", "w": bad, "typo": True}],
        )

    def sc_po(self, c, inv, cn):
        d = self.when(c, inv.due)
        word = self.rng.choice(
            ["CDE", "COMMANDE", "PO", "N/REF", "PEDIDO" if c.country == "ES" else "BC"]
        )
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "po_number_only",
            "payer names only its own order number (po_number)",
            [f"{word} {inv.po}"],
            [{"kind": "po", "w": inv.po, "typo": False}],
        )

    def sc_po_inv(self, c, inv, cn):
        d = self.when(c, inv.due)
        txt, toks = self.t_one(c, inv)
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "po_and_invoice_number",
            "order number and invoice number",
            [f"{txt} CDE {inv.po}"],
            [*toks, {"kind": "po", "w": inv.po, "typo": False}],
        )

    def sc_bare(self, c, inv, cn):
        d = self.when(c, inv.due)
        txt, toks = self.t_bare(c, inv)
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "bare_number",
            "invoice number without prefix or year",
            [txt],
            toks,
        )

    def sc_noref(self, c, inv, cn):
        d = self.when(c, inv.due)
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "no_reference",
            "exact amount, nothing named",
            [self.noref_text(c)],
        )

    def sc_unknown_payer(self, c, inv, cn):
        d = self.when(c, inv.due)
        nm = self.rng.choice(["M OU MME ", "SCI ", "HOLDING "]) + c.name.split()[-2].upper()
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "no_reference_unknown_payer",
            "paid from an account and name we do not know, nothing named",
            [self.noref_text(c)],
            name=nm,
            iban=rand_iban(self.rng, c.country),
        )

    def avoid_cn(self, c, inv, part):
        """Keep a part payment from looking exactly like 'invoice less an open credit note'."""
        while any(
            x.dtype == "credit_note" and x.open < 0 and inv.open + x.open == part
            for x in self.cust_docs[c.cid]
        ):
            part += D("7.00")
        return part

    def sc_partial(self, c, inv, cn):
        rng = self.rng
        d = self.when(c, inv.due)
        part = self.avoid_cn(c, inv, q(inv.open * D(rng.choice(["0.3", "0.5", "0.4", "0.6"]))))
        txt, toks = self.t_one(c, inv)
        word = rng.random() < 0.5
        if word:
            txt = rng.choice(["PAIEMENT PARTIEL ", "1ER VERSEMENT ", "PARTIEL "]) + txt
        self.cust_line(
            c,
            d,
            part,
            [(inv.did, part)],
            "partial_payment_word" if word else "partial_payment_silent",
            "part of one invoice",
            [txt],
            toks,
        )
        d2 = business_day(d + timedelta(days=rng.randint(20, 50)))
        txt, toks = self.t_one(c, inv, "SOLDE FACTURE")
        self.cust_line(
            c,
            d2,
            inv.open,
            [(inv.did, inv.open)],
            "balance_payment",
            "the rest of a partly paid invoice",
            [txt],
            toks,
        )

    def sc_acompte(self, c, inv, cn):
        rng = self.rng
        d = business_day(inv.issue - timedelta(days=rng.randint(5, 20)))
        part = self.avoid_cn(c, inv, q(inv.open * D("0.3")))
        if inv.po and START <= d <= inv.issue:
            toks = [{"kind": "po", "w": inv.po, "typo": False}]
            txt = f"ACOMPTE 30% COMMANDE {inv.po}"
            case = "deposit_before_invoice"
        else:
            d = max(self.when(c, inv.issue, (0, 10)), business_day(inv.issue + timedelta(days=2)))
            txt, toks = self.t_one(c, inv, "ACOMPTE FACTURE")
            case = "partial_payment_word"
        self.cust_line(c, d, part, [(inv.did, part)], case, "30 % deposit", [txt], toks)
        d2 = self.when(c, inv.due)
        if d2 <= d:
            d2 = business_day(d + timedelta(days=25))
        txt, toks = self.t_one(c, inv, "SOLDE")
        self.cust_line(
            c,
            d2,
            inv.open,
            [(inv.did, inv.open)],
            "balance_payment",
            "balance after a deposit",
            [txt],
            toks,
        )

    def sc_early(self, c, inv, cn):
        """E-commerce shop pays our pro forma before we produce (and invoice)."""
        rng = self.rng
        d = business_day(inv.issue - timedelta(days=rng.randint(3, 15)))
        if d < START or d > inv.issue:
            return self.sc_full(c, inv, cn)
        word = rng.choice(["PROFORMA", "PRO FORMA", "PF", "Facture proforma"])
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "proforma_prepayment",
            "pro forma paid before the invoice was issued",
            [f"{word} {inv.po}"],
            [{"kind": "po", "w": inv.po, "typo": False}],
        )

    def sc_over_small(self, c, inv, cn):
        d = self.when(c, inv.due)
        extra = q(D(self.rng.randint(1, 900)) / 100)
        txt, toks = self.t_one(c, inv)
        self.cust_line(
            c,
            d,
            inv.open + extra,
            [(inv.did, inv.open)],
            "overpayment_small",
            f"pays {fmt(extra)} too much (rounding/own error)",
            [txt],
            toks,
        )

    def sc_over_large(self, c, inv, cn):
        d = self.when(c, inv.due)
        extra = q(inv.open * D(self.rng.choice(["0.2", "1", "0.5"])))
        txt, toks = self.t_one(c, inv)
        ln = self.cust_line(
            c,
            d,
            inv.open + extra,
            [(inv.did, inv.open)],
            "overpayment_large",
            f"pays {fmt(extra)} too much; we refund later",
            [txt],
            toks,
        )
        if ln:
            self.refund(c, d, extra, "overpayment")

    def refund(self, c, d, amount, why):
        rng = self.rng
        d2 = business_day(d + timedelta(days=rng.randint(10, 40)))
        if d2 > END:
            return
        vis = Visible(
            payer_name=c.name.upper(),
            payer_iban=c.real_iban,
            cat="debit_other",
            texts=[
                rng.choice(
                    [
                        "REMBOURSEMENT TROP PERCU",
                        "REMB DOUBLE PAIEMENT",
                        "DEVOLUCION COBRO DUPLICADO",
                        "REFUND OVERPAYMENT",
                    ]
                )
            ],
        )
        self.line(
            c.account,
            d2,
            -amount,
            "refund_sent",
            [],
            f"we refund the customer's {why}",
            vis,
            btc="PMNT/ICDT/ESCT",
        )

    def sc_duplicate(self, c, inv, cn):
        rng = self.rng
        d = self.when(c, inv.due)
        txt, toks = self.t_one(c, inv)
        name, _ = self.payer_name(c)
        ln = self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            "invoice_number",
            "pays one invoice naming its number",
            [txt],
            toks,
            name=name,
        )
        if ln is None:
            return
        d2 = business_day(d + timedelta(days=rng.randint(1, 6)))
        amt = ln.amount
        ln2 = self.cust_line(
            c,
            d2,
            amt,
            [],
            "duplicate_payment",
            f"same transfer sent twice; {inv.did} already paid",
            [txt],
            toks,
            name=name,
        )
        if ln2:
            self.refund(c, d2, amt, "duplicate payment")

    def sc_typo(self, c, inv, cn):
        d = self.when(c, inv.due)
        did, other = self.mistype(inv)
        if not did:
            return self.sc_full(c, inv, cn)
        if self.rng.random() < 0.5 and c.country != "ES":
            w = did
            tok = {"kind": "doc", "w": w, "typo": True}
        else:
            w = str(int(re.search(r"(\d+)$", did).group(1)))
            tok = {"kind": "num", "n": int(w), "year": None, "typo": True}
            other = next(
                (
                    x
                    for x in self.docs
                    if x.seq == int(w) and (x.cust is c or x.cust.entity == c.entity)
                ),
                other,
            )
        txt = {"FR": "FACTURE", "ES": "FRA", "IT": "Fattura", "GB": "INV"}[c.country] + " " + w
        case = "typo_other_document" if other else "typo_no_document"
        self.cust_line(
            c,
            d,
            inv.open,
            [(inv.did, inv.open)],
            case,
            f"meant {inv.did}, typed {w}" + (f" (= {other.did})" if other else ""),
            [txt],
            [tok],
        )

    def sc_cn(self, c, inv, cn):
        d = max(self.when(c, inv.due), cn.issue)
        amt = inv.open + cn.open
        if amt <= 0:
            return self.sc_full(c, inv, cn)
        named = self.rng.random() < 0.5
        txt, toks = self.t_one(c, inv)
        if named:
            w = self.w_id(cn)
            txt += self.rng.choice([" - AVOIR ", " MOINS AV ", " DED. AVOIR ", " - ABONO "]) + w
            toks = [*toks, {"kind": "doc", "w": w, "typo": False}]
        self.cust_line(
            c,
            d,
            amt,
            [(inv.did, inv.open), (cn.did, cn.open)],
            "invoice_minus_credit_note_named" if named else "invoice_minus_credit_note_unnamed",
            f"invoice {inv.did} less credit note {cn.did}",
            [txt],
            toks,
        )

    def sc_multi(self, c, inv, cn, with_cn=False):
        rng = self.rng
        docs = self.next_open(c, inv, rng.randint(2, 4))
        if len(docs) < 2:
            return self.sc_full(c, inv, cn)
        for x in docs:
            self.handled.add(x.did)
        d = self.when(c, max(x.due for x in docs))
        txt, toks = self.t_list(c, docs, bare=rng.random() < 0.5)
        allocs = [(x.did, x.open) for x in docs]
        tot = sum(x.open for x in docs)
        if with_cn and cn is not None and tot + cn.open > 0:
            d = max(d, cn.issue)
            named = rng.random() < 0.4
            if named:
                w = self.w_id(cn)
                txt += f" - AVOIR {w}"
                toks = [*toks, {"kind": "doc", "w": w, "typo": False}]
            self.cust_line(
                c,
                d,
                tot + cn.open,
                [*allocs, (cn.did, cn.open)],
                "several_minus_credit_note",
                f"{len(docs)} invoices less credit note {cn.did}"
                + (" (named)" if named else " (not named)"),
                [txt],
                toks,
            )
            return
        if rng.random() < 0.12:
            # one of them short: customer deducts something it does not explain
            short = q(D(rng.randint(500, 9000)) / 100)
            allocs[-1] = (allocs[-1][0], allocs[-1][1] - short)
            self.cust_line(
                c,
                d,
                tot - short,
                allocs,
                "several_invoices_short",
                f"{len(docs)} invoices listed, {fmt(short)} short unexplained",
                [txt],
                toks,
            )
            return
        self.cust_line(
            c,
            d,
            tot,
            allocs,
            "several_invoices_listed",
            f"{len(docs)} invoices in one transfer, listed",
            [txt],
            toks,
        )

    def sc_multi_cn(self, c, inv, cn):
        return self.sc_multi(c, inv, cn, with_cn=True)

    def sc_escompte(self, c, inv, cn):
        d = business_day(inv.issue + timedelta(days=self.rng.randint(5, 10)))
        disc = q(inv.open * D("0.02"))
        txt, toks = self.t_one(c, inv)
        self.cust_line(
            c,
            d,
            inv.open - disc,
            [(inv.did, inv.open - disc)],
            "early_payment_discount",
            f"paid within 10 days, 2 % escompte ({fmt(disc)}) deducted and stated",
            [f"{txt} ESCOMPTE 2% DEDUIT"],
            toks,
            discount=True,
        )
        inv.open = ZERO  # the discount is written off

    # ------------------------------------------------------------------ foreign habits
    def pay_italy(self, c, inv):
        rng = self.rng
        sc = self.pick(
            {
                "saldo": 30,
                "full": 14,
                "net": 22,
                "rate": 12,
                "acconto": 6,
                "noref": 5,
                "multi": 5,
                "unpaid": 3,
            }
        )
        d = self.when(c, inv.due)
        if sc in ("full", "noref", "multi", "unpaid"):
            return getattr(self, "sc_" + sc)(c, inv, None)
        if sc == "saldo":
            txt, toks = self.t_bare(c, inv, "Saldo fattura n.", with_year=True)
            self.cust_line(
                c,
                d,
                inv.open,
                [(inv.did, inv.open)],
                "italian_saldo_fattura",
                "'Saldo fattura n. N/YYYY'",
                [txt],
                toks,
            )
        elif sc == "net":
            fee = D(rng.choice(["3.50", "5.00", "7.50", "2.00", "10.00"]))
            txt, toks = self.t_bare(c, inv, "Saldo fattura n.", with_year=rng.random() < 0.7)
            self.cust_line(
                c,
                d,
                inv.open - fee,
                [(inv.did, inv.open - fee)],
                "short_bank_charges",
                f"Italian bank charges {fee} deducted",
                [txt],
                toks,
            )
        elif sc in ("rate", "acconto"):
            first = q(inv.open / 2) if sc == "rate" else q(inv.open * D("0.3"))
            first = self.avoid_cn(c, inv, first)
            word = "1a rata fattura n." if sc == "rate" else "Acconto fattura n."
            txt, toks = self.t_bare(c, inv, word, with_year=True)
            self.cust_line(
                c,
                d,
                first,
                [(inv.did, first)],
                "italian_instalment",
                "first instalment / acconto",
                [txt],
                toks,
            )
            d2 = business_day(d + timedelta(days=30))
            word = "2a rata saldo fattura n." if sc == "rate" else "Saldo fattura n."
            txt, toks = self.t_bare(c, inv, word, with_year=True)
            self.cust_line(
                c,
                d2,
                inv.open,
                [(inv.did, inv.open)],
                "balance_payment",
                "second instalment, balance",
                [txt],
                toks,
            )

    def pay_uk(self, c, inv):
        rng = self.rng
        sc = self.pick(
            {
                "inv": 30,
                "strd_rf": 12,
                "bare": 18,
                "short": 22,
                "two": 12,
                "two_short": 5,
                "noref": 6,
                "over_small": 3,
                "unpaid": 3,
            }
        )
        d = self.when(c, inv.due)
        if sc in ("noref", "over_small", "unpaid"):
            return getattr(self, "sc_" + sc)(c, inv, None)
        if sc == "inv":
            txt, toks = self.t_one(c, inv)
            self.cust_line(
                c,
                d,
                inv.open,
                [(inv.did, inv.open)],
                "invoice_number",
                "pays one invoice naming its number",
                [txt],
                toks,
            )
        elif sc == "strd_rf":
            # the payer's bank software copies the RF into the structured creditor reference
            self.cust_line(
                c,
                d,
                inv.open,
                [(inv.did, inv.open)],
                "rf_structured",
                "RF creditor reference sent in Strd/CdtrRefInf",
                [rng.choice(["", "EMBALLAGES CATALANS", "PACKAGING"])],
                [{"kind": "rf", "w": inv.reference, "typo": False}],
                strd_ref=inv.reference,
            )
        elif sc == "bare":
            txt, toks = self.t_bare(c, inv, "INV")
            self.cust_line(
                c, d, inv.open, [(inv.did, inv.open)], "bare_number", "'INV 123'", [txt], toks
            )
        elif sc == "short":
            fee = D(rng.choice(["10.00", "12.00", "15.00", "20.00", "25.00"]))
            txt, toks = self.t_one(c, inv) if rng.random() < 0.5 else self.t_bare(c, inv, "INV")
            self.cust_line(
                c,
                d,
                inv.open - fee,
                [(inv.did, inv.open - fee)],
                "short_bank_charges",
                f"intermediary bank took GBP {fee}",
                [txt],
                toks,
            )
        else:
            docs = self.next_open(c, inv, 2)
            if len(docs) < 2:
                return self.sc_full(c, inv, None)
            for x in docs:
                self.handled.add(x.did)
            d = self.when(c, docs[1].due)
            txt, toks = self.t_list(c, docs, bare=rng.random() < 0.5)
            tot = sum(x.open for x in docs)
            allocs = [(x.did, x.open) for x in docs]
            if sc == "two":
                self.cust_line(
                    c,
                    d,
                    tot,
                    allocs,
                    "several_invoices_listed",
                    "two invoices in one transfer",
                    [txt],
                    toks,
                )
            else:
                fee = D("15.00")
                allocs[-1] = (allocs[-1][0], allocs[-1][1] - fee)
                self.cust_line(
                    c,
                    d,
                    tot - fee,
                    allocs,
                    "several_invoices_short",
                    "two invoices, intermediary charges GBP 15 deducted",
                    [txt],
                    toks,
                )

    def pay_confirming(self, c, inv):
        rng = self.rng
        bank = c.habit.setdefault(
            "conf_bank",
            rng.choice(
                [
                    ("BANCO LEVANTINO CONFIRMING SA", "ES"),
                    ("CAIXA EMPORDA CONFIRMING", "ES"),
                    ("BANCA SOLER FACTORING Y CONFIRMING", "ES"),
                ]
            ),
        )
        biban = c.habit.setdefault("conf_iban", rand_iban(rng, "ES"))
        d = self.when(c, inv.due, (0, 30))
        order = f"OP{rng.randint(10000000, 99999999)}"
        sc = self.pick({"named": 50, "net": 20, "order": 30})
        if sc == "order":
            self.cust_line(
                c,
                d,
                inv.open,
                [(inv.did, inv.open)],
                "confirming_order_only",
                f"confirming bank pays for {c.cid}, only its own order number",
                [f"CONFIRMING ORDEN PAGO {order}"],
                name=bank[0],
                iban=biban,
                e2e=order,
            )
            return
        txt, toks = self.t_one(c, inv, "FRA")
        cl = strip_accents(c.name).upper()[:24]
        if sc == "named":
            self.cust_line(
                c,
                d,
                inv.open,
                [(inv.did, inv.open)],
                "confirming_invoice",
                f"confirming bank pays {inv.did} on behalf of {c.cid}",
                [f"CONFIRMING {cl} {txt}"],
                toks,
                name=bank[0],
                iban=biban,
                e2e=order,
            )
        else:
            fee = q(max(D("6.00"), inv.open * D("0.004")))
            self.cust_line(
                c,
                d,
                inv.open - fee,
                [(inv.did, inv.open - fee)],
                "confirming_net_of_fees",
                f"confirming bank pays {inv.did} net of {fmt(fee)} fees",
                [f"CONFIRMING {cl} {txt}"],
                toks,
                name=bank[0],
                iban=biban,
                e2e=order,
            )

    def pay_factor(self, c, inv):
        rng = self.rng
        d = business_day(inv.issue + timedelta(days=rng.randint(2, 8)))
        if rng.random() < 0.7:
            txt, toks = self.t_one(c, inv, "FINANCEMENT CREANCE")
            self.cust_line(
                c,
                d,
                inv.open,
                [(inv.did, inv.open)],
                "factoring_invoice",
                f"factoring company buys {inv.did} of {c.cid}",
                [txt],
                toks,
                name="OCCITANIE AFFACTURAGE SA",
                iban="FR7630004000031234567890143",
                e2e="",
            )
        else:
            txt = f"BORDEREAU OAF{rng.randint(10, 99)}-{rng.randint(100, 999)} FINANCEMENT"
            self.cust_line(
                c,
                d,
                inv.open,
                [(inv.did, inv.open)],
                "factoring_no_reference",
                f"factoring company pays {inv.did} of {c.cid}, remittance number only",
                [txt[:60]],
                name="OCCITANIE AFFACTURAGE SA",
                iban="FR7630004000031234567890143",
                third_party=True,
            )

    # ------------------------------------------------------------------ batches and groups
    def multi_entry(self, account, d, lines, details, addtl, btc, btch_id):
        ent = Entry(
            account=account,
            booking=d,
            amount=q(sum(x.amount for x in lines)),
            lines=lines,
            batch=True,
            details=details,
            addtl=addtl,
            btc=btc,
            btch_id=btch_id,
        )
        for x in lines:
            x.entry = ent
            self.lines.append(x)
        self.entries.append(ent)
        return ent

    def flush_dd(self):
        """SEPA direct debits (recibos domiciliados) collected by ES01 on the 5th and 20th."""
        rng = self.rng
        by_date: dict[date, list] = defaultdict(list)
        for inv in self.dd_queue:
            due = inv.due
            coll = (
                date(due.year, due.month, 5)
                if due.day <= 5
                else (
                    date(due.year, due.month, 20)
                    if due.day <= 20
                    else date(due.year + (due.month == 12), due.month % 12 + 1, 5)
                )
            )
            by_date[business_day(max(coll, START))].append(inv)
        represent: list = []
        for n, d in enumerate(sorted(by_date)):
            invs = by_date[d] + [x for x in represent if x[1] <= d and x[0].open > 0]
            invs_docs = [x if isinstance(x, Doc) else x[0] for x in invs]
            represent = [x for x in represent if x[1] > d]
            invs_docs = [x for x in invs_docs if x.open > 0]
            if d > END or not invs_docs:
                continue
            details = rng.random() < 0.72
            bid = f"REM{d:%y%m%d}{n:02d}"
            lines = []
            for inv in invs_docs:
                c = inv.cust
                vis = Visible(
                    payer_name=strip_accents(c.name).upper(),
                    payer_iban=c.real_iban,
                    texts=[f"RECIBO FRA {inv.did} VTO {inv.due:%d/%m/%Y}"],
                    tokens=[{"kind": "doc", "w": inv.did, "typo": False}],
                    e2e=inv.did,
                )
                if not details:
                    vis.cat = "batch_nodetail"
                lines.append(
                    Line(
                        account="ES01_EUR",
                        booking=d,
                        amount=inv.open,
                        case="direct_debit_batch",
                        allocs=[(inv.did, inv.open)],
                        note=f"SEPA direct debit of {inv.did}",
                        vis=vis,
                        btc="PMNT/RDDT/ESDD",
                    )
                )
                inv.open = ZERO
            if details:
                self.multi_entry(
                    "ES01_EUR", d, lines, True, "REMESA RECIBOS SEPA CORE", "PMNT/RDDT/ESDD", bid
                )
            else:
                tot = q(sum(x.amount for x in lines))
                vis = Visible(
                    cat="batch_nodetail", texts=[f"ABONO REMESA RECIBOS {bid} {len(lines)} ADEUDOS"]
                )
                ln = Line(
                    account="ES01_EUR",
                    booking=d,
                    amount=tot,
                    case="direct_debit_batch_no_details",
                    allocs=[a for x in lines for a in x.allocs],
                    note=f"SEPA collection batch of {len(lines)} items, bank gives only the total",
                    vis=vis,
                    btc="PMNT/RDDT/ESDD",
                )
                self.multi_entry("ES01_EUR", d, [ln], False, vis.texts[0], "PMNT/RDDT/ESDD", bid)
            # returns
            for x in (
                lines
                if details
                else [Line("ES01_EUR", d, q(a), "", [(did, a)], "", None) for did, a in ln.allocs]
            ):
                if rng.random() >= 0.07:
                    continue
                did, a = x.allocs[0]
                inv = self.docs_by_id[did]
                c = inv.cust
                code = rng.choice(["AM04", "AM04", "MD06", "MS02"])
                rd = business_day(d + timedelta(days=rng.randint(2, 6)))
                if rd > END:
                    continue
                vis = Visible(
                    payer_name=strip_accents(c.name).upper(),
                    payer_iban=c.real_iban,
                    texts=[f"DEVOLUCION RECIBO {did} MOTIVO {code}"],
                    e2e=did,
                    rtr=code,
                    cat="return",
                )
                self.line(
                    "ES01_EUR",
                    rd,
                    -a,
                    "direct_debit_return",
                    [(did, -a)],
                    f"collection of {did} returned ({code})",
                    vis,
                    btc="PMNT/RDDT/UPDD",
                )
                inv.open = q(inv.open + a)
                if code == "MD06" or rng.random() < 0.5:
                    # customer pays by transfer instead
                    d2 = business_day(rd + timedelta(days=rng.randint(5, 25)))
                    txt, toks = self.t_one(c, inv, "FRA")
                    self.cust_line(
                        c,
                        d2,
                        inv.open,
                        [(did, inv.open)],
                        "payment_after_return",
                        "transfer after a returned direct debit",
                        [txt],
                        toks,
                    )
                else:
                    represent.append((inv, rd + timedelta(days=10)))

    def flush_pagares(self):
        rng = self.rng
        by_week: dict[tuple, list] = defaultdict(list)
        for inv in self.pagare_queue:
            d = business_day(max(inv.due + timedelta(days=rng.randint(0, 3)), START))
            if rng.random() < 0.55:
                by_week[(d.year, d.month, d.day, inv.did)].append((d, inv))  # credited alone
            else:
                by_week[(d.year, d.month, 40 + (d.day > 15), "")].append((d, inv))
        for n, key in enumerate(sorted(by_week)):
            items = by_week[key]
            d = max(x[0] for x in items)
            if d > END:
                continue
            if len(items) == 1:
                inv = items[0][1]
                c = inv.cust
                num = f"{rng.randint(1000000, 9999999)}"
                if rng.random() < 0.6:
                    txt, toks = self.t_one(c, inv, "FRA")
                    texts = [f"ABONO PAGARE {num} {txt}"]
                    case = "pagare_single"
                else:
                    texts, toks = [f"ABONO PAGARE N {num} VTO {inv.due:%d%m%y}"], []
                    case = "pagare_single_no_reference"
                self.cust_line(
                    c,
                    d,
                    inv.open,
                    [(inv.did, inv.open)],
                    case,
                    f"promissory note for {inv.did} remitted and paid",
                    texts,
                    toks,
                    name=strip_accents(c.name).upper(),
                    iban="",
                )
            else:
                allocs = [(inv.did, inv.open) for _, inv in items]
                tot = q(sum(a for _, a in allocs))
                vis = Visible(texts=[f"ABONO REMESA PAGARES {n:04d} {len(items)} EFECTOS"])
                for _, inv in items:
                    inv.open = ZERO
                self.line(
                    "ES01_EUR",
                    d,
                    tot,
                    "pagare_remittance",
                    allocs,
                    f"our remittance of {len(items)} promissory notes, one credit",
                    vis,
                    btc="PMNT/RCHQ/BCHQ",
                )

    def flush_strd(self):
        """Logistics head offices pay their subsidiaries' invoices once a month."""
        rng = self.rng
        for group, invs in self.strd_queue.items():
            subs = [c for c in self.customers if c.group == group and c.segment != "logi_head"]
            by_month: dict[tuple, list] = defaultdict(list)
            for inv in invs:
                by_month[(inv.due.year, inv.due.month)].append(inv)
            for (y, m), docs in sorted(by_month.items()):
                d = business_day(max(date(y, m, 1) + timedelta(days=rng.randint(24, 33)), START))
                if d > END:
                    continue
                for i in range(0, len(docs), 6):
                    self.group_payment(group, subs, docs[i : i + 6], d)

    def group_payment(self, group, subs, docs, d):
        rng = self.rng
        cns = [
            x
            for c in subs
            for x in self.cust_docs[c.cid]
            if x.dtype == "credit_note" and x.open < 0 and x.issue <= d
        ]
        cns = cns[:1] if rng.random() < 0.7 else []
        allocs = [(x.did, x.open) for x in docs] + [(x.did, x.open) for x in cns]
        tot = q(sum(a for _, a in allocs))
        dispute = ZERO
        if rng.random() < 0.25:
            dispute = q(min(docs[0].open / 3, D(rng.randint(80, 600))))
            allocs[0] = (allocs[0][0], allocs[0][1] - dispute)
        amount = tot - dispute
        if amount <= 0:
            return
        head_name, head_iban = self.group_heads[group]
        case = "head_office_remittance" + ("_dispute" if dispute else "")
        note = (
            f"head office pays {len(docs)} subsidiary invoices"
            + (f" less credit note {cns[0].did}" if cns else "")
            + (f", {fmt(dispute)} withheld for a damaged delivery" if dispute else "")
        )
        acct = subs[0].account
        if acct == "FR01_EUR":
            parts = [self.w_id(x) for x in docs + cns]
            toks = [{"kind": "doc", "w": p, "typo": False} for p in parts]
            txt = "REGLT FACT " + " ".join(parts)
            if dispute:
                txt += " RETENUE LITIGE LIVRAISON ABIMEE"
            self.cust_line(
                subs[0], d, amount, allocs, case, note, [txt], toks, name=head_name, iban=head_iban
            )
            return
        strd = [(x.did, "CINV", x.open, ZERO) for x in docs]
        strd += [(x.did, "CREN", -x.open, ZERO) for x in cns]
        if dispute:
            # the head office's AP system shows the claim as an adjustment on that invoice
            strd[0] = (docs[0].did, "CINV", docs[0].open, dispute)
        toks = [{"kind": "doc", "w": x[0], "typo": False} for x in strd]
        texts = []
        if dispute:
            texts = [
                rng.choice(
                    ["DEDUCCION INCIDENCIA MERCANCIA DANADA", "CLAIM DAMAGED GOODS DEDUCTED"]
                )
            ]
        self.cust_line(
            subs[0],
            d,
            amount,
            allocs,
            case,
            note,
            texts,
            toks,
            name=head_name,
            iban=head_iban,
            strd=strd,
            e2e=f"PAY{d:%y%m%d}{rng.randint(100, 999)}",
        )

    # ------------------------------------------------------------------ everything else
    def other(self, account, d, amount, case, note, name, text, cat, btc, iban=""):
        d = business_day(d)
        if d > END or d < START:
            return
        vis = Visible(payer_name=name, payer_iban=iban, texts=[text], cat=cat)
        self.line(account, d, amount, case, [], note, vis, btc=btc)

    def build_other(self):
        rng = self.rng
        m = date(2025, 1, 1)
        own_fr = make_iban("FR", "10278" + "08900" + "00021345601" + "12")
        own_es = make_iban("ES", "3058" + "0990" + "27" + "1011223344")
        loan_fr = 0
        while m <= END:
            y, mo = m.year, m.month
            A = "FR01_EUR"
            # FR01 (Perpignan)
            self.other(
                A,
                date(y, mo, 27),
                -q(rng.uniform(54000, 59000)),
                "salaries",
                "monthly payroll",
                "",
                f"VIR SALAIRES {mo:02d}/{y}",
                "debit_other",
                "PMNT/ICDT/SALA",
            )
            self.other(
                A,
                date(y, mo, 15),
                -q(rng.uniform(23000, 26500)),
                "social_charges",
                "URSSAF contributions",
                "URSSAF LANGUEDOC ROUSSILLON",
                f"PRLV SEPA URSSAF COTISATIONS {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            self.other(
                A,
                date(y, mo, 19),
                -q(rng.uniform(6000, 14000)),
                "vat_payment",
                "monthly VAT return (CA3)",
                "DGFIP",
                f"PRLV DGFIP TVA CA3 {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            self.other(
                A,
                date(y, mo, 8),
                -q(rng.uniform(5000, 9000)),
                "energy",
                "electricity for the corrugators",
                "EDF ENTREPRISES",
                f"PRLV EDF CONTRAT 4471 FACT {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            for _k in range(round(rng.randint(3, 5) * self.n_invoices / 1500)):
                sup = rng.choice(
                    [
                        "PAPETERIES DU MIDI",
                        "SMURFIT CARTON SUD",
                        "POLYMERES OCCITANS",
                        "ENCRES ET COLLES DURAND",
                        "PALETTES ROUSSILLON",
                    ]
                )
                self.other(
                    A,
                    date(y, mo, rng.randint(1, 28)),
                    -q(rng.uniform(3500, 21000)),
                    "supplier_payment",
                    f"raw material supplier {sup}",
                    sup,
                    f"VIR FOURNISSEUR {sup} FACT {rng.randint(10000, 99999)}",
                    "debit_other",
                    "PMNT/ICDT/ESCT",
                )
            self.other(
                A,
                date(y, mo, 10),
                -q(rng.uniform(2000, 5000)),
                "transport",
                "carrier invoices",
                "TRANSPORTS ROIG SA",
                f"VIR TRANSPORTS ROIG RELEVE {mo:02d}/{y}",
                "debit_other",
                "PMNT/ICDT/ESCT",
            )
            self.other(
                A,
                date(y, mo, 5),
                -D("4380.00"),
                "leasing",
                "lease of the flexo printer",
                "OCCITANE LEASING",
                "PRLV OCCITANE LEASING CONTRAT LS-2291",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            self.other(
                A,
                date(y, mo, 3),
                -D("9215.40"),
                "loan_repayment",
                "equipment loan instalment",
                "",
                f"ECHEANCE PRET 00458712 {mo:02d}/{y}",
                "debit_other",
                "LDAS/CSLN/PPAY",
            )
            self.other(
                A,
                end_of_month(m),
                -q(rng.uniform(45, 190)),
                "bank_fees",
                "account and SEPA fees",
                "",
                "COMMISSIONS ET FRAIS",
                "debit_other",
                "ACMT/MDOP/CHRG",
            )
            for _k in range(rng.randint(1, 3)):
                self.other(
                    A,
                    date(y, mo, rng.randint(2, 27)),
                    q(rng.uniform(120, 2400)),
                    "card_terminal_payout",
                    "factory shop card sales",
                    "",
                    f"REMISE CB {rng.randint(100000, 999999)} TPE 0451",
                    "credit_other",
                    "PMNT/CCRD/POSD",
                )
            if rng.random() < 0.5:
                self.other(
                    A,
                    date(y, mo, rng.randint(5, 25)),
                    -D("40000.00"),
                    "own_account_transfer",
                    "to the savings account",
                    "",
                    "VIR COMPTE A COMPTE VERS LIVRET",
                    "own",
                    "PMNT/ICDT/BOOK",
                    iban=own_fr,
                )
            else:
                self.other(
                    A,
                    date(y, mo, rng.randint(5, 25)),
                    D("35000.00"),
                    "own_account_transfer",
                    "from the savings account",
                    "",
                    "VIR COMPTE A COMPTE DEPUIS LIVRET",
                    "own",
                    "PMNT/RCDT/BOOK",
                    iban=own_fr,
                )
            if mo in (3, 6, 9, 12):
                self.other(
                    A,
                    end_of_month(m),
                    q(rng.uniform(80, 600)),
                    "interest",
                    "interest on credit balance",
                    "",
                    "INTERETS CREDITEURS",
                    "own",
                    "PMNT/RCDT/INTR",
                )
            if mo in (4, 10):
                self.other(
                    A,
                    date(y, mo, 22),
                    q(rng.uniform(12000, 40000)),
                    "tax_refund",
                    "VAT credit refund",
                    "DGFIP",
                    "VIR DGFIP REMBOURSEMENT CREDIT TVA",
                    "credit_other",
                    "PMNT/RCDT/ESCT",
                )
            if rng.random() < 0.25:
                self.other(
                    A,
                    date(y, mo, rng.randint(2, 27)),
                    q(rng.uniform(200, 3000)),
                    "supplier_refund",
                    "supplier credit note refunded",
                    "PAPETERIES DU MIDI",
                    "REMBT AVOIR FOURNISSEUR",
                    "credit_other",
                    "PMNT/RCDT/ESCT",
                )
            if y == 2025 and mo == 5 and loan_fr == 0:
                loan_fr = 1
                self.other(
                    A,
                    date(y, mo, 12),
                    D("180000.00"),
                    "loan_disbursement",
                    "new loan for the second corrugator",
                    "BANQUE DU ROUSSILLON",
                    "DEBLOCAGE PRET 00461290",
                    "credit_other",
                    "LDAS/CSLN/DDWN",
                )
            # ES01 (Barcelona)
            B = "ES01_EUR"
            self.other(
                B,
                date(y, mo, 28),
                -q(rng.uniform(29000, 32000)),
                "salaries",
                "nóminas",
                "",
                f"TRANSF NOMINAS {mo:02d}/{y}",
                "debit_other",
                "PMNT/ICDT/SALA",
            )
            self.other(
                B,
                date(y, mo, 26),
                -q(rng.uniform(9500, 10800)),
                "social_charges",
                "Seguridad Social",
                "TESORERIA GENERAL SEGURIDAD SOCIAL",
                f"RECIBO TGSS SEGUROS SOCIALES {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            if mo in (1, 4, 7, 10):
                self.other(
                    B,
                    date(y, mo, 20),
                    -q(rng.uniform(9000, 19000)),
                    "vat_payment",
                    "IVA modelo 303",
                    "AGENCIA TRIBUTARIA",
                    "AEAT MODELO 303 IVA",
                    "debit_other",
                    "PMNT/IDDT/ESDD",
                )
            self.other(
                B,
                date(y, mo, 9),
                -q(rng.uniform(2500, 4500)),
                "energy",
                "electricity",
                "ENDESA ENERGIA SAU",
                f"RECIBO ENDESA {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            self.other(
                B,
                date(y, mo, rng.randint(5, 25)),
                -q(rng.uniform(8000, 26000)),
                "supplier_payment",
                "goods bought from Perpignan and local board",
                "CARTONAJES DEL VALLES SA",
                "TRANSFERENCIA PROVEEDOR CARTONAJES",
                "debit_other",
                "PMNT/ICDT/ESCT",
            )
            self.other(
                B,
                end_of_month(m),
                -q(rng.uniform(30, 140)),
                "bank_fees",
                "commissions",
                "",
                "COMISION MANTENIMIENTO Y REMESAS",
                "debit_other",
                "ACMT/MDOP/CHRG",
            )
            self.other(
                B,
                date(y, mo, 12),
                -D("1875.00"),
                "leasing",
                "forklift renting",
                "RENTING EQUIPOS LLOBREGAT",
                "RECIBO RENTING CARRETILLAS",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            if rng.random() < 0.6:
                self.other(
                    B,
                    date(y, mo, rng.randint(3, 26)),
                    q(rng.uniform(4000, 15000)),
                    "own_account_transfer",
                    "from the ES01 reserve account",
                    "",
                    "TRASPASO ENTRE CUENTAS PROPIAS",
                    "own",
                    "PMNT/RCDT/BOOK",
                    iban=own_es,
                )
            if rng.random() < 0.3:
                self.other(
                    B,
                    date(y, mo, rng.randint(3, 26)),
                    q(rng.uniform(80, 900)),
                    "card_terminal_payout",
                    "shop card sales",
                    "",
                    "ABONO TPV COMERCIO 334455",
                    "credit_other",
                    "PMNT/CCRD/POSD",
                )
            # more FR01 / ES01 overheads
            self.other(
                A,
                date(y, mo, 6),
                -q(rng.uniform(300, 900)),
                "telecom",
                "phones and internet",
                "ORANGE BUSINESS",
                f"PRLV ORANGE BUSINESS {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            self.other(
                A,
                date(y, mo, 12),
                -q(rng.uniform(4200, 4900)),
                "pension_contributions",
                "supplementary pensions",
                "MALAKOFF HUMANIS",
                f"PRLV MALAKOFF RETRAITE COMPL {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            self.other(
                A,
                date(y, mo, 4),
                -q(rng.uniform(60, 260)),
                "bank_fees",
                "card acquiring commission",
                "",
                "COMMISSION TPE CB",
                "debit_other",
                "ACMT/MDOP/CHRG",
            )
            if mo in (1, 4, 7, 10):
                self.other(
                    A,
                    date(y, mo, 15),
                    -q(rng.uniform(2800, 3600)),
                    "insurance",
                    "factory insurance",
                    "AXA FRANCE IARD",
                    "PRLV AXA MULTIRISQUE INDUSTRIELLE",
                    "debit_other",
                    "PMNT/IDDT/ESDD",
                )
            for _k in range(rng.randint(1, 2)):
                self.other(
                    B,
                    date(y, mo, rng.randint(2, 27)),
                    -q(rng.uniform(1500, 9000)),
                    "supplier_payment",
                    "local supplier",
                    "TINTAS Y ADHESIVOS MARESME SL",
                    "TRANSFERENCIA PROVEEDOR TINTAS",
                    "debit_other",
                    "PMNT/ICDT/ESCT",
                )
            self.other(
                B,
                date(y, mo, 7),
                -q(rng.uniform(180, 420)),
                "telecom",
                "telefonía",
                "TELEFONICA DE ESPANA SAU",
                f"RECIBO MOVISTAR {mo:02d}/{y}",
                "debit_other",
                "PMNT/IDDT/ESDD",
            )
            # FR01 GBP account
            C = "FR01_GBP"
            self.other(
                C,
                end_of_month(m),
                -q(rng.uniform(12, 40)),
                "bank_fees",
                "GBP account fees",
                "",
                "ACCOUNT FEES",
                "debit_other",
                "ACMT/MDOP/CHRG",
            )
            if mo % 2 == 0:
                self.other(
                    C,
                    date(y, mo, 16),
                    -D(rng.choice(["20000.00", "30000.00"])),
                    "own_account_transfer",
                    "GBP converted to the EUR account",
                    "",
                    "TRANSFER TO OWN EUR ACCOUNT FX",
                    "own",
                    "PMNT/ICDT/BOOK",
                    iban=make_iban("FR", "30004" + "00001" + "00099887766" + "45"),
                )
            if rng.random() < 0.3:
                self.other(
                    C,
                    date(y, mo, 20),
                    -q(rng.uniform(300, 1800)),
                    "transport",
                    "UK haulier",
                    "CHANNEL FREIGHT LTD",
                    "CHANNEL FREIGHT INV",
                    "debit_other",
                    "PMNT/ICDT/ESCT",
                )
            m = date(y + (mo == 12), mo % 12 + 1, 1)


# --------------------------------------------------------------------------- the controller


class Controller:
    """A careful controller applying the written policy to what the files show."""

    def __init__(self, world: World):
        self.w = world
        self.open = {x.did: x.amount for x in world.docs}
        self.by_key: dict[str, list[Doc]] = defaultdict(list)
        self.by_po: dict[str, list[Doc]] = defaultdict(list)
        self.by_rf: dict[str, Doc] = {}
        self.by_seq: dict[int, list[Doc]] = defaultdict(list)
        for x in world.docs:
            for k in norm_doc(x.did):
                self.by_key[k].append(x)
            if x.po:
                self.by_po[re.sub(r"[^A-Z0-9]", "", x.po.upper())].append(x)
            if x.reference:
                self.by_rf[x.reference] = x
            self.by_seq[x.seq].append(x)
        self.by_iban = {c.real_iban: c for c in world.customers if c.iban_known}
        self.by_name: dict[tuple, list] = defaultdict(list)
        for c in world.customers:
            self.by_name[norm_name(c.name)].append(c)
        self.settled_dd: dict[str, str] = {}
        self.cust_docs = world.cust_docs

    def payer(self, v: Visible) -> Customer | None:
        if v.payer_iban and v.payer_iban in self.by_iban:
            return self.by_iban[v.payer_iban]
        if v.payer_name:
            hits = self.by_name.get(norm_name(v.payer_name), [])
            if len(hits) == 1:
                return hits[0]
        return None

    def lookup(self, written: str) -> list[Doc]:
        out: list[Doc] = []
        for k in norm_doc(written):
            for x in self.by_key.get(k, []):
                if x not in out:
                    out.append(x)
        return out

    def resolve(self, v: Visible, payer: Customer | None):
        """Documents the line names, or a reason to hand it to a person."""
        named: list[Doc] = []
        typo_hit = None

        def add(docs):
            for x in docs:
                if x not in named:
                    named.append(x)

        for t in v.tokens:
            k = t["kind"]
            if k == "rf":
                s = re.sub(r"\s", "", t["w"]).upper()
                if rf_ok(s) and s in self.by_rf:
                    add([self.by_rf[s]])
            elif k == "doc":
                hits = self.lookup(t["w"])
                if t["typo"] and hits:
                    typo_hit = hits[0]
                    continue
                if len(hits) > 1:
                    return [], "a number naming several documents", None
                add(hits)
            elif k == "num":
                cands = [
                    x
                    for x in self.by_seq.get(t["n"], [])
                    if t["year"] is None or x.year == t["year"]
                ]
                if payer is not None:
                    cands = [x for x in cands if x.cust is payer]
                if t["typo"] and cands:
                    typo_hit = cands[0]
                    continue
                if len(cands) > 1:
                    return [], f"number {t['n']} fits several documents", None
                add(cands)
            elif k == "po":
                hits = self.by_po.get(re.sub(r"[^A-Z0-9]", "", t["w"].upper()), [])
                owners = {x.cust.cid for x in hits}
                if len(owners) > 1:
                    return [], f"order number {t['w']} belongs to several customers", None
                add(hits)
        if v.e2e:
            hits = [x for x in self.lookup(v.e2e) if x.dtype == "invoice"]
            if len(hits) == 1:
                add(hits)
        if typo_hit is not None:
            return [], f"mistyped number is another document ({typo_hit.did})", typo_hit
        return named, None, None

    def subset(self, docs: list[Doc], target: Decimal):
        items = [(int(self.open[x.did] * 100), x) for x in docs]
        tgt = int(target * 100)
        n = len(items)
        pos_rem = [0] * (n + 1)
        neg_rem = [0] * (n + 1)
        for i in range(n - 1, -1, -1):
            v = items[i][0]
            pos_rem[i] = pos_rem[i + 1] + max(v, 0)
            neg_rem[i] = neg_rem[i + 1] + min(v, 0)
        states = {0: (1, 0)}
        work = 0
        for i, (v, _) in enumerate(items):
            new = dict(states)
            for s, (cnt, mask) in states.items():
                t = s + v
                c0, m0 = new.get(t, (0, 0))
                new[t] = (min(c0 + cnt, 2), mask | (1 << i) if c0 == 0 else m0)
            lo, hi = neg_rem[i + 1], pos_rem[i + 1]
            states = {s: cm for s, cm in new.items() if s + lo <= tgt <= s + hi}
            work += len(states)
            if work > 60000:
                return None, "too many combinations to be sure"
        cnt, mask = states.get(tgt, (0, 0))
        if cnt == 0:
            return None, "no set of the payer's open documents fits"
        if cnt > 1:
            return None, "several sets of the payer's open documents fit"
        return [items[i][1] for i in range(n) if mask >> i & 1], None

    def judge(self, ln: Line, currency: str):
        v = ln.vis
        amt = ln.amount
        if v.cat in ("debit_other", "own"):
            return "auto", [], "not a customer payment"
        if v.cat == "credit_other":
            return "person", [], "a credit that is no customer payment"
        if v.cat == "batch_nodetail":
            return "person", [], "collection batch without details"
        if v.cat == "return":
            did = self.settled_dd.get(v.e2e)
            if did is not None:
                return "auto", [(did, amt)], "return of a collection we settled"
            return "person", [], "return of a collection we never settled"
        payer = self.payer(v)
        named, why, _ = self.resolve(v, payer)
        if why:
            return "person", [], why
        if named:
            if any(x.currency != currency for x in named):
                return "person", [], "document in another currency"
            if payer is not None and any(x.cust is not payer for x in named):
                return "person", [], "named documents belong to another customer"
            if any(self.open[x.did] == 0 for x in named):
                return "person", [], "a named document is already settled"
            opens = [(x.did, self.open[x.did]) for x in named]
            total = sum(o for _, o in opens)
            if amt == total:
                return "auto", opens, "named documents, amount equals their open total"
            owner = payer or (named[0].cust if len({x.cust.cid for x in named}) == 1 else None)
            cns = []
            if owner is not None:
                cns = [
                    x
                    for x in self.cust_docs[owner.cid]
                    if x.dtype == "credit_note"
                    and self.open[x.did] < 0
                    and x not in named
                    and total + self.open[x.did] == amt
                ]
            if len(cns) == 1:
                return (
                    "auto",
                    [*opens, (cns[0].did, self.open[cns[0].did])],
                    "named documents less the payer's open credit note",
                )
            if len(named) == 1 and named[0].dtype == "invoice":
                did, o = opens[0]
                if amt < o:
                    if v.discount:
                        return "auto", [(did, amt)], "stated early-payment discount"
                    return "auto", [(did, amt)], "partial payment of the named invoice"
                return "auto", [(did, o)], "overpayment, excess left as customer credit"
            return "person", [], "several documents named, amount does not fit"
        if v.third_party:
            return "person", [], "third party paying without naming a document"
        if payer is None:
            return "person", [], "unknown payer, nothing named"
        docs = [
            x for x in self.cust_docs[payer.cid] if self.open[x.did] != 0 and x.currency == currency
        ]
        found, why = self.subset(docs, amt)
        if found is None:
            return "person", [], why
        return "auto", [(x.did, self.open[x.did]) for x in found], "one set of open documents"

    def post(self, ln: Line, allocs, discount_close=False):
        for did, a in allocs:
            self.open[did] = q(self.open[did] - a)
        if ln.vis.discount and len(allocs) == 1:
            self.open[allocs[0][0]] = ZERO
        if ln.btc == "PMNT/RDDT/ESDD" and ln.vis.e2e and ln.vis.cat == "customer":
            self.settled_dd[ln.vis.e2e] = allocs[0][0] if allocs else None
        if ln.vis.cat == "return":
            self.settled_dd.pop(ln.vis.e2e, None)


# --------------------------------------------------------------------------- statements

ACCT_IBAN = {
    "FR01_EUR": make_iban("FR", "17807" + "00061" + "31021954700" + "27"),
    "ES01_EUR": make_iban("ES", "3140" + "0001" + "91" + "0012345678"),
    "FR01_GBP": make_iban("FR", "14265" + "00100" + "08765432100" + "91"),
}
OPENING = {"FR01_EUR": D("412650.33"), "ES01_EUR": D("196410.08"), "FR01_GBP": D("18250.40")}
MT_CODES = {
    "RCDT": "NTRF",
    "ICDT": "NTRF",
    "IDDT": "NDDT",
    "CSLN": "NLDP",
    "MDOP": "NCHG",
    "CCRD": "NMSC",
    "RDDT": "NDDT",
}


def months():
    m = START
    while m <= END:
        yield m
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def sanitize(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9 .,:'+?()\-/]", " ", strip_accents(s)).strip()


def mt_amount(x: Decimal) -> str:
    return f"{abs(q(x)):.2f}".replace(".", ",")


def write_mt940(acct: str, month: date, entries: list, opening: Decimal) -> str:
    cur = ACCOUNTS[acct]["currency"]
    out = [f":20:BR{month:%y%m}STMT", f":25:{ACCT_IBAN[acct]}", f":28C:{month.month:05d}/001"]
    prev = month - timedelta(days=1)
    out.append(f":60F:{'C' if opening >= 0 else 'D'}{prev:%y%m%d}{cur}{mt_amount(opening)}")
    bal = opening
    for e in entries:
        ln = e.lines[0]
        v = ln.vis
        code = MT_CODES.get(e.btc.split("/")[1], "NMSC")
        if "INTR" in e.btc:
            code = "NINT"
        cref = (v.e2e or "NONREF")[:16]
        cref = re.sub(r"[^A-Za-z0-9.\-]", "", cref) or "NONREF"
        out.append(
            f":61:{e.booking:%y%m%d}{e.booking:%m%d}{'C' if e.amount > 0 else 'D'}"
            f"{mt_amount(e.amount)}{code}{cref}//{e.ref}"
        )
        parts = []
        if v.e2e or v.cat == "customer":
            parts.append(f"/EREF/{sanitize(v.e2e).replace('/', ' ') or 'NOTPROVIDED'}")
        if v.payer_name:
            tag = "ORDP" if e.amount > 0 else "BENM"
            parts.append(f"/{tag}//NAME/{sanitize(v.payer_name).replace('/', ' ')}")
            if v.payer_iban:
                parts.append(f"/IBAN/{v.payer_iban}")
        parts.append(f"/REMI/{sanitize(' '.join(v.texts))}")
        body = "".join(parts)
        first, rest = body[:61], body[61:]
        out.append(":86:" + first)
        while rest:
            out.append(rest[:65])
            rest = rest[65:]
        bal += e.amount
    last = end_of_month(month)
    out.append(f":62F:{'C' if bal >= 0 else 'D'}{last:%y%m%d}{cur}{mt_amount(bal)}")
    return "\r\n".join(out) + "\r\n-\r\n"


def sub(parent, tag, text=None, **attrib):
    el = etree.SubElement(parent, tag, **attrib)
    if text is not None:
        el.text = text
    return el


def write_camt(acct: str, month: date, entries: list, opening: Decimal, version: str) -> bytes:
    v8 = version == "08"
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    cur = ACCOUNTS[acct]["currency"]
    root = etree.Element("Document", nsmap={None: ns})
    st = sub(root, "BkToCstmrStmt")
    gh = sub(st, "GrpHdr")
    created = datetime(
        end_of_month(month).year, end_of_month(month).month, end_of_month(month).day, 23, 30, 0
    )
    sub(gh, "MsgId", f"{ACCOUNTS[acct]['prefix']}{month:%Y%m}053")
    sub(gh, "CreDtTm", created.isoformat())
    stmt = sub(st, "Stmt")
    sub(stmt, "Id", f"{acct}-{month:%Y-%m}")
    if not v8:
        sub(stmt, "ElctrncSeqNb", str(month.month + 12 * (month.year - 2025)))
    sub(stmt, "CreDtTm", created.isoformat())
    ac = sub(stmt, "Acct")
    sub(sub(ac, "Id"), "IBAN", ACCT_IBAN[acct])
    sub(ac, "Ccy", cur)
    ow = sub(ac, "Ownr")
    sub(ow, "Nm", "EMBALLAGES CATALANS SA" if acct.startswith("FR") else "EMBALAJES CATALANES SL")
    fi = sub(sub(ac, "Svcr"), "FinInstnId")
    sub(fi, "BICFI" if v8 else "BIC", ACCOUNTS[acct]["bic"])

    def bal(code, amount, d):
        b = sub(stmt, "Bal")
        sub(sub(sub(b, "Tp"), "CdOrPrtry"), "Cd", code)
        sub(b, "Amt", f"{abs(amount):.2f}", Ccy=cur)
        sub(b, "CdtDbtInd", "CRDT" if amount >= 0 else "DBIT")
        sub(sub(b, "Dt"), "Dt", d.isoformat())

    closing = opening + sum((e.amount for e in entries), ZERO)
    bal("OPBD", opening, month)
    bal("CLBD", closing, end_of_month(month))

    def btc(parent, code):
        dm, fm, sf = code.split("/")
        d = sub(sub(parent, "BkTxCd"), "Domn")
        sub(d, "Cd", dm)
        f = sub(d, "Fmly")
        sub(f, "Cd", fm)
        sub(f, "SubFmlyCd", sf)

    def party(parent, tag, name):
        p = sub(parent, tag)
        if v8:
            p = sub(p, "Pty")
        sub(p, "Nm", name)

    for e in entries:
        n = sub(stmt, "Ntry")
        sub(n, "Amt", f"{abs(e.amount):.2f}", Ccy=cur)
        sub(n, "CdtDbtInd", "CRDT" if e.amount > 0 else "DBIT")
        if v8:
            sub(sub(n, "Sts"), "Cd", "BOOK")
        else:
            sub(n, "Sts", "BOOK")
        sub(sub(n, "BookgDt"), "Dt", e.booking.isoformat())
        sub(sub(n, "ValDt"), "Dt", e.booking.isoformat())
        sub(n, "AcctSvcrRef", e.ref)
        btc(n, e.btc)
        if e.batch and not e.details:
            nd = sub(n, "NtryDtls")
            b = sub(nd, "Btch")
            sub(b, "PmtInfId", e.btch_id)
            sub(b, "NbOfTxs", str(len(e.lines[0].allocs)))
            sub(b, "TtlAmt", f"{abs(e.amount):.2f}", Ccy=cur)
            sub(b, "CdtDbtInd", "CRDT")
            sub(n, "AddtlNtryInf", e.addtl)
            continue
        nd = sub(n, "NtryDtls")
        if e.batch:
            b = sub(nd, "Btch")
            sub(b, "PmtInfId", e.btch_id)
            sub(b, "NbOfTxs", str(len(e.lines)))
            sub(b, "TtlAmt", f"{abs(e.amount):.2f}", Ccy=cur)
            sub(b, "CdtDbtInd", "CRDT")
        for ln in e.lines:
            v = ln.vis
            tx = sub(nd, "TxDtls")
            refs = sub(tx, "Refs")
            if e.batch:
                sub(refs, "AcctSvcrRef", ln.ref)
            sub(refs, "EndToEndId", v.e2e or "NOTPROVIDED")
            if ln.btc == "PMNT/RDDT/ESDD":
                sub(refs, "MndtId", f"MDT-{ln.allocs[0][0][:4]}-{abs(hash_id(v.payer_iban))}")
            if v8:
                sub(tx, "Amt", f"{abs(ln.amount):.2f}", Ccy=cur)
                sub(tx, "CdtDbtInd", "CRDT" if ln.amount > 0 else "DBIT")
            elif e.batch:
                sub(sub(sub(tx, "AmtDtls"), "TxAmt"), "Amt", f"{abs(ln.amount):.2f}", Ccy=cur)
            if v.payer_name or v.payer_iban:
                rp = sub(tx, "RltdPties")
                credit_side = ln.amount > 0 or v.cat == "return"
                if v.payer_name:
                    party(rp, "Dbtr" if credit_side else "Cdtr", v.payer_name)
                if v.payer_iban:
                    sub(
                        sub(sub(rp, "DbtrAcct" if credit_side else "CdtrAcct"), "Id"),
                        "IBAN",
                        v.payer_iban,
                    )
            if v.texts or v.strd or v.strd_ref:
                ri = sub(tx, "RmtInf")
                for t in v.texts:
                    sub(ri, "Ustrd", t[:140])
                for nb, tp, amt, adj in v.strd:
                    s = sub(ri, "Strd")
                    rd = sub(s, "RfrdDocInf")
                    sub(sub(sub(rd, "Tp"), "CdOrPrtry"), "Cd", tp)
                    sub(rd, "Nb", nb)
                    ra = sub(s, "RfrdDocAmt")
                    if tp == "CREN":
                        sub(ra, "CdtNoteAmt", f"{abs(amt):.2f}", Ccy=cur)
                    else:
                        sub(ra, "DuePyblAmt", f"{abs(amt):.2f}", Ccy=cur)
                        if adj:
                            aj = sub(ra, "AdjstmntAmtAndRsn")
                            sub(aj, "Amt", f"{adj:.2f}", Ccy=cur)
                            sub(aj, "CdtDbtInd", "DBIT")
                            sub(aj, "Rsn", "DAMG")
                            sub(aj, "AddtlInf", "DAMAGED DELIVERY CLAIM - NOT A CREDIT NOTE")
                        sub(ra, "RmtdAmt", f"{abs(amt) - adj:.2f}", Ccy=cur)
                if v.strd_ref:
                    s = sub(ri, "Strd")
                    cr = sub(s, "CdtrRefInf")
                    tp = sub(cr, "Tp")
                    sub(sub(tp, "CdOrPrtry"), "Cd", "SCOR")
                    sub(tp, "Issr", "ISO")
                    sub(cr, "Ref", v.strd_ref)
            if v.rtr:
                sub(sub(sub(tx, "RtrInf"), "Rsn"), "Cd", v.rtr)
        if e.addtl:
            sub(n, "AddtlNtryInf", e.addtl)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def hash_id(s: str) -> int:
    h = 0
    for ch in s:
        h = (h * 131 + ord(ch)) % 1000003
    return h


# --------------------------------------------------------------------------- output


def statement_name(acct: str, month: date) -> str:
    ext = "sta" if ACCOUNTS[acct]["fmt"] == "mt940" else "xml"
    return f"{acct}_{month:%Y-%m}.{ext}"


def assign_refs(world: World):
    per: dict[str, list[Entry]] = defaultdict(list)
    for i, e in enumerate(world.entries):
        e.seq = i
        per[e.account].append(e)
    for acct, ents in per.items():
        ents.sort(key=lambda e: (e.booking, e.seq))
        pre = ACCOUNTS[acct]["prefix"]
        for k, e in enumerate(ents, 1):
            e.ref = f"{pre}{e.booking:%y%m%d}{k:05d}"
            e.seq = k
            for j, ln in enumerate(e.lines, 1):
                ln.ref = f"{e.ref}-{j}" if e.batch and e.details else e.ref
                ln.statement = f"statements/{statement_name(acct, e.booking.replace(day=1))}"
    return per


def run_controller(world: World) -> Controller:
    ctl = Controller(world)
    order = sorted(
        world.lines,
        key=lambda ln: (ln.booking, ACCOUNT_ORDER.index(ln.account), ln.entry.seq, ln.ref),
    )
    for ln in order:
        cur = ACCOUNTS[ln.account]["currency"]
        exp, allocs, why = ctl.judge(ln, cur)
        ln.expected = exp
        ln.ctrl_allocs = allocs
        ln.why = why
        if ln.case.startswith("typo_"):
            ln.case = "typo_other_document" if "mistyped" in why else "typo_no_document"
        if exp == "auto":
            ctl.post(ln, allocs)
    return ctl


def write_all(world: World, out: Path, per: dict):
    out.mkdir(parents=True, exist_ok=True)
    (out / "statements").mkdir(exist_ok=True)
    for old in (out / "statements").iterdir():
        old.unlink()
    # customers
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(
        ["customer_id", "name", "email", "iban", "siren", "vat_number", "language", "legal_entity"]
    )
    for c in world.customers:
        wr.writerow(
            [
                c.cid,
                c.name,
                c.email,
                c.real_iban if c.iban_known else "",
                c.siren,
                c.vat,
                c.language,
                c.entity,
            ]
        )
    (out / "customers.csv").write_text(buf.getvalue(), encoding="utf-8")
    # invoices
    buf = io.StringIO()
    wr = csv.writer(buf, delimiter=";", lineterminator="\n")
    wr.writerow(
        [
            "invoice_id",
            "customer_id",
            "customer_name",
            "issue_date",
            "due_date",
            "amount_total",
            "currency",
            "reference",
            "po_number",
            "document_type",
            "legal_entity",
        ]
    )
    for x in world.docs:
        wr.writerow(
            [
                x.did,
                x.cust.cid,
                x.cust.name,
                f"{x.issue:%d/%m/%Y}",
                f"{x.due:%d/%m/%Y}",
                fmt(x.amount).replace(".", ","),
                x.currency,
                x.reference,
                x.po,
                x.dtype,
                x.entity,
            ]
        )
    (out / "invoices.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    # statements
    files = {}
    for acct in ACCOUNT_ORDER:
        bal = OPENING[acct]
        for m in months():
            ents = [e for e in per.get(acct, []) if e.booking.replace(day=1) == m]
            kind = ACCOUNTS[acct]["fmt"]
            name = statement_name(acct, m)
            if kind == "mt940":
                data = write_mt940(acct, m, ents, bal).encode("ascii")
            else:
                data = write_camt(acct, m, ents, bal, "02" if kind == "camt02" else "08")
            (out / "statements" / name).write_bytes(data)
            files[name] = (acct, m, bal, ents)
            bal += sum((e.amount for e in ents), ZERO)
    # ground truth
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(
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
    for acct in ACCOUNT_ORDER:
        for e in per.get(acct, []):
            for ln in e.lines:
                allocs = json.dumps([{"invoice_id": d, "amount": fmt(a)} for d, a in ln.allocs])
                note = ln.note + f" [controller: {ln.why}]"
                wr.writerow(
                    [
                        ACCT_IBAN[acct],
                        ACCOUNTS[acct]["currency"],
                        ln.statement,
                        ln.booking.isoformat(),
                        fmt(ln.amount),
                        ln.ref,
                        ln.case,
                        ln.expected,
                        allocs,
                        note,
                    ]
                )
    (out / "ground_truth.csv").write_text(buf.getvalue(), encoding="utf-8")
    return files


# --------------------------------------------------------------------------- self-checks


def read_back(path: Path) -> tuple[dict, list]:
    """(bank_reference -> signed amount, [(opening, sum, closing)]) read from a file."""
    found: dict[str, Decimal] = {}
    bals = []
    if path.suffix == ".sta":
        lines = path.read_bytes().decode("ascii").split("\r\n")
        if any(len(x) > 65 for x in lines):
            bals.append((ZERO, ZERO, D("-1"), ZERO))  # reported as a balance failure
        op = cl = None
        tot = ZERO
        for x in lines:
            if x.startswith(":60F:"):
                m = re.match(r":60F:([CD])\d{6}[A-Z]{3}([\d,]+)", x)
                op = D(m.group(2).replace(",", ".")) * (1 if m.group(1) == "C" else -1)
            elif x.startswith(":61:"):
                m = re.match(r":61:\d{6}\d{4}(C|D|RC|RD)([\d,]+)N\w{3}.*//(\S+)", x)
                a = D(m.group(2).replace(",", ".")) * (1 if m.group(1).endswith("C") else -1)
                found[m.group(3)] = a
                tot += a
            elif x.startswith(":62F:"):
                m = re.match(r":62F:([CD])\d{6}[A-Z]{3}([\d,]+)", x)
                cl = D(m.group(2).replace(",", ".")) * (1 if m.group(1) == "C" else -1)
        bals.append((op, tot, cl, ZERO))
        return found, bals
    doc = etree.parse(str(path))
    ns = {"c": doc.getroot().nsmap[None]}

    def amt(el):
        a = D(el.findtext("c:Amt", namespaces=ns))
        return a if el.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -a

    bal = {
        b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns): amt(b)
        for b in doc.iterfind(".//c:Bal", ns)
    }
    tot = ZERO
    batch_err = ZERO
    for n in doc.iterfind(".//c:Ntry", ns):
        a = amt(n)
        tot += a
        ref = n.findtext("c:AcctSvcrRef", namespaces=ns)
        txs = n.findall("c:NtryDtls/c:TxDtls", ns)
        subrefs = [t.findtext("c:Refs/c:AcctSvcrRef", namespaces=ns) for t in txs]
        if txs and all(subrefs):
            s = ZERO
            for t, r in zip(txs, subrefs, strict=False):
                v = t.findtext("c:Amt", namespaces=ns) or t.findtext(
                    "c:AmtDtls/c:TxAmt/c:Amt", namespaces=ns
                )
                ta = D(v) * (1 if a > 0 else -1)
                found[r] = ta
                s += ta
            batch_err += abs(s - a)
        else:
            found[ref] = a
    bals.append((bal["OPBD"], tot, bal["CLBD"], batch_err))
    return found, bals


def self_check(world: World, out: Path, files: dict) -> list[str]:
    errs: list[str] = []
    xsd = {}
    here = Path(__file__).resolve()
    for cand in [here.parents[3] / "shared" / "xsd", Path("/work/shared/xsd")]:
        if cand.exists():
            for v in ("02", "08"):
                xsd[v] = etree.XMLSchema(etree.parse(str(cand / f"camt.053.001.{v}.xsd")))
            break
    if not xsd:
        errs.append("XSD schemas not found")
    truth = {}
    for ln in world.lines:
        if ln.ref in truth:
            errs.append(f"duplicate bank reference {ln.ref}")
        truth[ln.ref] = ln.amount
    seen = {}
    prev_close: dict[str, Decimal] = {}
    for name in sorted(files):
        acct = files[name][0]
        p = out / "statements" / name
        if p.suffix == ".xml" and xsd:
            v = "02" if ACCOUNTS[acct]["fmt"] == "camt02" else "08"
            if not xsd[v].validate(etree.parse(str(p))):
                errs.append(f"{name}: XSD {xsd[v].error_log.last_error}")
        found, bals = read_back(p)
        for op, tot, cl, berr in bals:
            if op + tot != cl:
                errs.append(f"{name}: opening {op} + entries {tot} != closing {cl}")
            if berr:
                errs.append(f"{name}: batch details do not add up ({berr})")
            if acct in prev_close and prev_close[acct] != op:
                errs.append(f"{name}: opening differs from previous closing")
            prev_close[acct] = cl
        seen.update(found)
    for ref, a in truth.items():
        if seen.get(ref) != a:
            errs.append(f"line {ref}: file shows {seen.get(ref)}, truth {a}")
    if set(seen) != set(truth):
        errs.append(f"{len(set(seen) ^ set(truth))} references differ between files and truth")
    for c in world.customers:
        if not iban_ok(c.real_iban):
            errs.append(f"bad IBAN {c.cid}")
        if c.siren and not (luhn_ok(c.siren) and fr_vat_ok(c.vat)):
            errs.append(f"bad SIREN/VAT {c.cid}")
    for a in ACCT_IBAN.values():
        if not iban_ok(a):
            errs.append(f"bad account IBAN {a}")
    for ln in world.lines:
        if ln.vis and ln.vis.payer_iban and not iban_ok(ln.vis.payer_iban):
            errs.append(f"bad payer IBAN on {ln.ref}")
    paid: Counter = Counter()
    for x in world.docs:
        if x.reference and not rf_ok(x.reference):
            errs.append(f"bad RF {x.did}")
    for ln in world.lines:
        for did, a in ln.allocs:
            doc = world.docs_by_id[did]
            paid[did] += a
            if abs(a) > abs(doc.amount):
                errs.append(f"{ln.ref}: allocation {a} above {did} amount {doc.amount}")
        if (
            ln.amount > 0
            and ln.vis.cat == "customer"
            and sum((a for _, a in ln.allocs), ZERO) > ln.amount
        ):
            errs.append(f"{ln.ref}: allocations exceed the amount")
    for did, a in paid.items():
        doc = world.docs_by_id[did]
        if abs(a) > abs(doc.amount):
            errs.append(f"{did}: allocated {a} in total, above its amount {doc.amount}")
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=83)
    ap.add_argument("--invoices", type=int, default=1500)
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    world = World(args.seed, args.invoices)
    world.build_customers()
    world.build_docs()
    world.build_payments()
    world.build_other()
    per = assign_refs(world)
    run_controller(world)
    files = write_all(world, out, per)
    errs = self_check(world, out, files)
    counts: Counter = Counter((ln.case, ln.expected) for ln in world.lines)
    n = len(world.lines)
    cust = sum(1 for ln in world.lines if ln.vis.cat in ("customer", "return", "batch_nodetail"))
    auto = sum(1 for ln in world.lines if ln.expected == "auto")
    mism = [
        ln
        for ln in world.lines
        if ln.expected == "auto" and sorted(ln.ctrl_allocs) != sorted(ln.allocs)
    ]
    print(
        f"customers {len(world.customers)}  documents {len(world.docs)}  "
        f"lines {n}  customer payments {cust / n:.1%}  auto {auto / n:.1%}  "
        f"controller-vs-truth differences on auto lines: {len(mism)}"
    )
    kinds = sorted({k for k, _ in counts})
    print("| case_kind | auto | person |")
    print("|---|---:|---:|")
    for k in kinds:
        print(f"| {k} | {counts[(k, 'auto')]} | {counts[(k, 'person')]} |")
    for ln in mism[:10]:
        print("DIFF", ln.ref, ln.case, ln.allocs, ln.ctrl_allocs, file=sys.stderr)
    if errs:
        for e in errs[:30]:
            print("SELF-CHECK FAILED:", e, file=sys.stderr)
        return 1
    print("self-checks: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
