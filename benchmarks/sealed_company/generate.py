"""Sealed evaluation company: Garonne Matériaux Négoce (Toulouse, branch in Barcelona).

A building-materials distributor selling to craftsmen, builders, public-works contractors, property
developers and DIY chains in France, Spain, Andorra and Portugal, plus a few UK/Swiss customers.
Writes one year of its ERP export and its bank files, and the answer a careful credit controller
would give for every booked bank line. See README.md beside this file.

    .venv/bin/python benchmarks/sealed_company/generate.py OUT_DIR --seed 31 --invoices 1500
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from lxml import etree

XSD_DIR = Path("/work/shared/xsd")
CENT = Decimal("0.01")
START = date(2025, 1, 1)
LAST_ISSUE = date(2025, 12, 19)
END = date(2026, 2, 27)  # last booking day of the statements
WINDOW_DAYS = 15  # an amount-only match considers invoices issued up to this many days later


def q(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def bday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def end_of_month(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def fr_amount(a: Decimal) -> str:
    s = f"{a:,.2f}"
    return s.replace(",", " ").replace(".", ",")


def strip_accents(s: str) -> str:
    s = s.replace("Œ", "OE").replace("œ", "oe")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def bank_upper(s: str) -> str:
    return re.sub(r"[^A-Z0-9 ./-]", " ", strip_accents(s).upper()).strip()


# ---------------------------------------------------------------- check digits


def _mod97(digits: str) -> int:
    r = 0
    for ch in digits:
        r = (r * 10 + int(ch)) % 97
    return r


def _alnum_to_digits(s: str) -> str:
    return "".join(str(int(ch, 36)) for ch in s)


def iban(country: str, bban: str) -> str:
    check = 98 - _mod97(_alnum_to_digits(bban + country + "00"))
    return f"{country}{check:02d}{bban}"


def iban_ok(s: str) -> bool:
    s = s.replace(" ", "")
    return _mod97(_alnum_to_digits(s[4:] + s[:4])) == 1


def fr_iban(rng: random.Random, bank: str | None = None, branch: str | None = None):
    bank = bank or f"{rng.randint(10000, 30099):05d}"
    branch = branch or f"{rng.randint(1, 99999):05d}"
    acct = f"{rng.randint(0, 10**11 - 1):011d}"
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(acct)) % 97
    return iban("FR", f"{bank}{branch}{acct}{key:02d}"), bank, branch, acct


def es_iban(rng: random.Random) -> str:
    ent, ofi = f"{rng.randint(1, 3200):04d}", f"{rng.randint(1, 9999):04d}"
    acct = f"{rng.randint(0, 10**10 - 1):010d}"

    def dc(digits: str) -> int:
        w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]
        r = 11 - sum(int(x) * y for x, y in zip(digits, w, strict=True)) % 11
        return {10: 1, 11: 0}.get(r, r)

    return iban("ES", f"{ent}{ofi}{dc('00' + ent + ofi)}{dc(acct)}{acct}")


def other_iban(rng: random.Random, country: str) -> str:
    if country == "PT":
        return iban("PT", f"{rng.randint(0, 10**21 - 1):021d}")
    if country == "AD":
        return iban(
            "AD",
            f"{rng.randint(1, 9999):04d}{rng.randint(1, 9999):04d}"
            f"{rng.randint(0, 10**12 - 1):012d}",
        )
    if country == "GB":
        bank = rng.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL"])
        return iban("GB", f"{bank}{rng.randint(0, 999999):06d}{rng.randint(0, 10**8 - 1):08d}")
    if country == "CH":
        return iban("CH", f"{rng.randint(100, 9999):05d}{rng.randint(0, 10**12 - 1):012d}")
    if country == "ES":
        return es_iban(rng)
    return fr_iban(rng)[0]


def rf_reference(body: str) -> str:
    check = 98 - _mod97(_alnum_to_digits(body + "RF00"))
    return f"RF{check:02d}{body}"


def rf_ok(s: str) -> bool:
    s = re.sub(r"\s", "", s.upper())
    return bool(re.fullmatch(r"RF\d{2}[A-Z0-9]{1,21}", s)) and (
        _mod97(_alnum_to_digits(s[4:] + s[:4])) == 1
    )


def siren(rng: random.Random) -> str:
    while True:
        base = [rng.randint(0, 9) for _ in range(8)]
        base[0] = rng.randint(3, 9)
        for last in range(10):
            digits = [*base, last]
            tot = 0
            for i, dgt in enumerate(reversed(digits)):
                v = dgt * 2 if i % 2 else dgt
                tot += v - 9 if v > 9 else v
            if tot % 10 == 0:
                return "".join(map(str, digits))


def fr_vat(siren_: str) -> str:
    return f"FR{(12 + 3 * (int(siren_) % 97)) % 97:02d}{siren_}"


# ---------------------------------------------------------------- names

FIRST = [
    "Jean",
    "Pierre",
    "Michel",
    "Alain",
    "Philippe",
    "Christophe",
    "Laurent",
    "Thierry",
    "Stéphane",
    "David",
    "Nicolas",
    "Sébastien",
    "Julien",
    "Olivier",
    "Frédéric",
    "Patrick",
    "Didier",
    "Eric",
    "Sandrine",
    "Nathalie",
    "Karim",
    "Mehdi",
    "Joao",
    "Antonio",
    "Manuel",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Fabre",
    "Garcia",
    "Roux",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupuy",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vidal",
    "Mercier",
    "Blanc",
    "Guerin",
    "Faure",
    "Andre",
    "Boyer",
    "Gautier",
    "Rey",
    "Cazals",
    "Sabatier",
    "Delmas",
    "Bouscatel",
    "Escande",
    "Lacombe",
    "Carrere",
    "Pujol",
    "Castex",
    "Marty",
    "Rouquette",
    "Azema",
    "Pradel",
    "Teulières",
    "Da Silva",
    "Ferreira",
    "Lopes",
    "Benali",
    "Mazars",
    "Soula",
    "Barthe",
    "Calvet",
    "Combes",
    "Cabrol",
]
TRADES = [
    "Maçonnerie",
    "Plomberie",
    "Carrelage",
    "Menuiserie",
    "Charpente",
    "Couverture",
    "Plâtrerie",
    "Électricité",
    "Peinture",
    "Rénovation",
    "Terrassement",
    "Isolation",
]
PLACES = [
    "du Lauragais",
    "de la Garonne",
    "du Comminges",
    "Tolosane",
    "du Volvestre",
    "des Coteaux",
    "d'Occitanie",
    "du Gers",
    "de l'Ariège",
    "du Tarn",
    "Pyrénées",
    "Albigeoise",
    "Montalbanaise",
    "du Quercy",
    "de Lomagne",
]
BUILDER_WORDS = ["Bâti", "Construction", "Habitat", "Ouvrages", "Bâtiment", "Gros Œuvre"]
BUILDER_TAIL = [
    "Sud",
    "Occitan",
    "Garonne",
    "Midi",
    "Lauragais",
    "Pyrénées",
    "Ariège",
    "Gascogne",
    "Tarn",
    "Aude",
    "Rouergue",
    "Bigorre",
    "Quercy",
    "Comminges",
    "Savès",
    "Lomagne",
]
ES_FIRST = [
    "Jordi",
    "Josep",
    "Marc",
    "Xavier",
    "Carlos",
    "Javier",
    "Miguel",
    "Sergi",
    "Pau",
    "Antonio",
    "Francisco",
    "David",
    "Oriol",
    "Albert",
    "Raúl",
]
ES_LAST = [
    "García",
    "Martínez",
    "Puig",
    "Soler",
    "Vidal",
    "Ferrer",
    "Roca",
    "Serra",
    "Font",
    "Sánchez",
    "López",
    "Pérez",
    "Costa",
    "Casals",
    "Vila",
    "Bosch",
    "Riera",
    "Mas",
]
ES_CO = [
    "Construccions",
    "Construcciones",
    "Obras y Reformas",
    "Edificaciones",
    "Promociones y Obras",
    "Estructuras",
    "Rehabilitaciones",
]
ES_TAIL = [
    "Maresme",
    "Vallès",
    "Penedès",
    "Baix Llobregat",
    "Garraf",
    "Osona",
    "Empordà",
    "Segrià",
    "Bages",
    "Tarragonès",
    "Anoia",
    "Mediterrània",
    "Montseny",
    "Costa Brava",
]
PT_NAMES = [
    "Construções Ferreira & Filhos",
    "Obras Minho",
    "Sousa Engenharia",
    "Edificar Norte",
    "Construtora Douro",
    "Materiais e Obras Pinto",
    "Reabilita Porto",
    "Costa & Gomes Construções",
    "Alves Engenharia",
    "Barbosa Obras",
]
AD_NAMES = [
    "Construccions Pas de la Casa",
    "Obres Valira",
    "Reformes Ordino",
    "Construccions Encamp",
    "Edificis Andorrans",
]
UK_NAMES = [
    "Hargreaves Building Supplies Ltd",
    "Pennine Stone & Tile Ltd",
    "Thames Valley Renovations Ltd",
    "Cotswold Heritage Builders Ltd",
    "Northgate Construction Plc",
]
CH_NAMES = [
    "Bau & Holz Zürcher AG",
    "Rénovations Léman SA",
    "Ticino Costruzioni SA",
    "Bernasconi Hochbau AG",
]
TP_NAMES = [
    "Midi Travaux Publics",
    "Routes et Réseaux d'Occitanie",
    "Terrassements Garonne TP",
    "Canalisations du Sud-Ouest",
    "Génie Civil Pyrénées",
    "VRD Lauragais",
    "Aménagements Tarn TP",
    "Ouvrages d'Art du Midi",
    "Voirie Gascogne",
    "Enrobés 31",
]
TP_GROUPS = ["Groupe Midi Infra SA", "Holding Sud Réseaux SAS"]
DEV_NAMES = [
    "Promotion Garonne Habitat",
    "Occitanie Résidences",
    "Les Jardins du Canal Promotion",
    "Toulouse Patrimoine Immobilier",
    "Horizon Sud Promotion",
    "Capitole Logement",
]
SITES = [
    "Les Tilleuls",
    "Le Clos des Vignes",
    "Carré Saint-Cyprien",
    "Les Balcons du Touch",
    "Villa Garonna",
    "Le Hameau de Pibrac",
    "Les Terrasses de Ramonville",
    "Cœur Balma",
    "Le Domaine d'Aussonne",
    "Les Allées Blagnac",
    "Quai des Savoirs",
    "Le Parc de Colomiers",
]
DIY_NAMES = ["Brico Sud Distribution", "Maison & Jardin Occitanie", "BricoPro Midi"]
FACTORS = ["BPIFRANCE FINANCEMENT", "EUROFACTOR", "CGA REVERSE FACTORING", "BNP PARIBAS FACTOR"]
ES_CONFIRMING = ["BBVA CONFIRMING", "CAIXABANK CONFIRMING", "SANTANDER CONFIRMING"]

FR_FORMS = ["SARL", "SAS", "EURL", "SA"]
GENERIC = {
    "CONSTRUCTION",
    "CONSTRUCTIONS",
    "BATI",
    "BATIMENT",
    "HABITAT",
    "OUVRAGES",
    "GROS",
    "OEUVRE",
    "TRAVAUX",
    "PUBLICS",
    "SUD",
    "MIDI",
    "GROUPE",
    "ENTREPRISE",
    "CONSTRUCCIONS",
    "CONSTRUCCIONES",
    "OBRAS",
    "REFORMAS",
    "MACONNERIE",
    "PLOMBERIE",
    "CARRELAGE",
    "MENUISERIE",
    "CHARPENTE",
    "COUVERTURE",
    "PLATRERIE",
    "ELECTRICITE",
    "PEINTURE",
    "RENOVATION",
    "TERRASSEMENT",
    "ISOLATION",
    "PROMOTION",
    "DISTRIBUTION",
    "EDIFICACIONES",
    "ESTRUCTURAS",
    "CONSTRUCOES",
    "ENGENHARIA",
    "OBRES",
    "REFORMES",
    "BUILDING",
    "BUILDERS",
    "RENOVATIONS",
    "SUPPLIES",
    "OCCITANIE",
    "GARONNE",
    "PYRENEES",
    "FILHOS",
    "JEAN",
    "PIERRE",
    "MICHEL",
    "ALAIN",
    "DAVID",
    "NICOLAS",
    "PATRICK",
    "ERIC",
    "ANTONIO",
    "MANUEL",
    "JOAO",
    "JORDI",
    "JOSEP",
    "MARC",
    "CARLOS",
    "JAVIER",
    "MIGUEL",
    "SERGI",
    "FRANCISCO",
    "ALBERT",
    "ORIOL",
}
FIRST_NAMES = {bank_upper(n) for n in FIRST + ES_FIRST}
GENERIC |= FIRST_NAMES
LEGAL = {
    "SARL",
    "SAS",
    "EURL",
    "SA",
    "SL",
    "SLU",
    "LTD",
    "PLC",
    "AG",
    "EI",
    "SCCV",
    "M",
    "MR",
    "MME",
    "MLLE",
    "LDA",
    "SOC",
    "ET",
    "DE",
    "DU",
    "DES",
    "LA",
    "LE",
    "LES",
    "Y",
    "I",
    "D",
    "L",
    "AND",
    "THE",
    "DO",
    "E",
    "DEL",
}


# ---------------------------------------------------------------- model


@dataclass
class Customer:
    id: str
    name: str
    kind: str  # craftsman, builder, tp, developer, diy, es_co, es_auto, pt, ad, uk, ch
    country: str
    currency: str
    branch: str  # TLS or BCN
    mode: str
    iban: str
    iban_on_file: bool
    printed: list[str]
    terms: int
    weight: float
    siren: str = ""
    vat: str = ""
    language: str = "fr"
    email: str = ""
    city: str = ""
    postal: str = ""
    sites: list[str] = field(default_factory=list)
    group: str = ""
    standard: bool = False


@dataclass
class Invoice:
    id: str
    customer: Customer
    issue: date
    due: date
    amount: Decimal  # positive; credit notes negative
    doc_type: str = "invoice"
    reference: str = ""
    po: str = ""
    origin: str = ""  # credit note: the invoice it corrects
    series: str = ""
    yy: str = ""
    seq: int = 0


@dataclass
class Tx:
    amount: Decimal  # signed, account currency
    name: str = ""
    iban: str = ""
    bic: str = ""
    ustrd: list[str] = field(default_factory=list)
    cdtr_ref: str = ""  # structured RF
    docs: list[list[tuple[str, str, Decimal, date]]] = field(default_factory=list)  # Strd groups
    e2e: str = ""
    mandate: str = ""
    mentions: list[tuple[str, object]] = field(default_factory=list)
    alloc: list[tuple[str, Decimal]] = field(default_factory=list)
    customer: Customer | None = None
    foreign_fees: bool = False
    return_reason: str = ""
    cheque_no: str = ""


@dataclass
class Line:
    account: str
    booking: date
    amount: Decimal
    kind: str
    txs: list[Tx]
    label: str = ""
    batch: bool = False
    details: bool = True
    family: tuple[str, str, str] = ("PMNT", "RCDT", "ESCT")
    reversal: bool = False
    note: str = ""
    noncustomer: bool = False
    ref: str = ""
    value: date | None = None
    expected: str = ""
    why: str = ""

    @property
    def alloc(self):
        out: dict[str, Decimal] = defaultdict(Decimal)
        for t in self.txs:
            for inv, a in t.alloc:
                out[inv] += a
        return [(k, v) for k, v in out.items() if v != 0]


ACCOUNTS = {
    # key: (format, currency, bank name, bic)
    "FR_MAIN": ("cfonb", "EUR", "Banque Occitane de Commerce", "BOCCFRPPXXX"),
    "FR_COLL": ("camt08", "EUR", "Banque Occitane de Commerce", "BOCCFRPPXXX"),
    "ES_BCN": ("camt02", "EUR", "Banco Mediterráneo de Empresas", "BMEDESBBXXX"),
    "GBP": ("mt940", "GBP", "Lowland Commerce Bank N.V.", "LCBKNL2AXXX"),
    "CHF": ("mt940", "CHF", "Lowland Commerce Bank N.V.", "LCBKNL2AXXX"),
}


# ---------------------------------------------------------------- customers


def printed_variants(rng, master: str, form: str, person: str = "") -> list[str]:
    """How banks print the payer: upper case, legal form moved or dropped, abbreviated, cut."""
    base = bank_upper(master)
    core = " ".join(
        w
        for w in base.split()
        if w not in {"SARL", "SAS", "EURL", "SA", "SL", "LTD", "AG", "PLC", "EI", "LDA", "SLU"}
    )
    out = [base]
    if form:
        out += [f"{core} {form}", core]
    words = core.split()
    if len(words) > 1:
        out.append(" ".join(w[:6] if len(w) > 7 else w for w in words))
    if len(base) > 18:
        out.append(base[:18])
    if person:
        f, last = person.split(" ", 1)
        out = [
            bank_upper(f"M {f} {last}"),
            bank_upper(f"{last} {f}"),
            bank_upper(f"{f} {last}"),
            bank_upper(f"MR {last} {f[0]}"),
        ]
    return out


def make_customers(rng: random.Random, n_inv: int) -> list[Customer]:
    scale = max(0.4, n_inv / 1500)
    plan = [
        ("craftsman", 60),
        ("builder", 25),
        ("tp", 8),
        ("developer", 6),
        ("diy", 3),
        ("es_co", 16),
        ("es_auto", 12),
        ("pt", 7),
        ("ad", 4),
        ("uk", 4),
        ("ch", 3),
    ]
    weights = {
        "craftsman": 1.0,
        "builder": 2.2,
        "tp": 2.5,
        "developer": 2.2,
        "diy": 6.0,
        "es_co": 2.0,
        "es_auto": 1.0,
        "pt": 1.5,
        "ad": 1.5,
        "uk": 1.5,
        "ch": 1.5,
    }
    used_names: set[str] = set()
    out: list[Customer] = []
    n_tls = n_bcn = 0
    for kind, n in plan:
        n = max(1 if kind in {"diy", "uk", "ch", "ad"} else 2, round(n * scale))
        for i in range(n):
            form, person, group, sites, standard = "", "", "", [], False
            country, currency, branch, terms, lang = "FR", "EUR", "TLS", 45, "fr"
            if kind == "craftsman":
                f, last = rng.choice(FIRST), rng.choice(LAST)
                person = f"{f} {last}"
                r = rng.random()
                if r < 0.35:
                    name = f"{rng.choice(TRADES)} {last}"
                elif r < 0.6:
                    name = f"EI {last} {f}"
                else:
                    name = f"{rng.choice(TRADES)} {rng.choice(PLACES)}"
                mode = rng.choices(["transfer", "cheque", "lcr", "sdd"], [40, 33, 14, 13])[0]
                standard = rng.random() < 0.7
            elif kind == "builder":
                form = rng.choice(FR_FORMS[:2])
                name = f"{rng.choice(BUILDER_WORDS)} {rng.choice(BUILDER_TAIL)} {form}"
                if rng.random() < 0.3:
                    name = f"{form} {rng.choice(LAST)} {rng.choice(['Frères', 'et Fils', 'BTP'])}"
                mode = rng.choices(["lcr", "transfer", "releve", "factor"], [38, 30, 20, 12])[0]
                terms = 60
            elif kind == "tp":
                form = rng.choice(["SAS", "SA"])
                name = f"{TP_NAMES[i % len(TP_NAMES)]} {form}"
                mode = "retention"
                group = TP_GROUPS[i % 2] if i % 3 != 2 else ""
                terms = 60
            elif kind == "developer":
                form = "SAS"
                name = f"{DEV_NAMES[i % len(DEV_NAMES)]} SAS"
                sites = [SITES[(2 * i) % len(SITES)], SITES[(2 * i + 1) % len(SITES)]]
                mode = "site"
                terms = 45
            elif kind == "diy":
                form = "SAS"
                name = f"{DIY_NAMES[i % len(DIY_NAMES)]} SAS"
                mode = "structured"
                terms = 60
            elif kind in {"es_co", "es_auto"}:
                country, branch, lang = "ES", "BCN", "en"
                terms = rng.choice([60, 90])
                if kind == "es_co":
                    form = rng.choice(["SL", "SA"])
                    name = f"{rng.choice(ES_CO)} {rng.choice(ES_TAIL)} {form}"
                    mode = rng.choices(["transfer_es", "confirming"], [65, 35])[0]
                else:
                    f, last = rng.choice(ES_FIRST), rng.choice(ES_LAST)
                    person = f"{f} {last} {rng.choice(ES_LAST)}"
                    name = f"Reformas {last}" if rng.random() < 0.5 else f"{person}"
                    mode = "transfer_es"
                    standard = rng.random() < 0.5
            elif kind == "pt":
                country, branch, lang, form = "PT", "BCN", "en", "Lda"
                name = f"{PT_NAMES[i % len(PT_NAMES)]} Lda"
                mode, terms = "transfer_es", 60
            elif kind == "ad":
                country, branch, lang, form = "AD", "BCN", "en", "SL"
                name = f"{AD_NAMES[i % len(AD_NAMES)]} SL"
                mode, terms = "transfer_es", 60
            elif kind == "uk":
                country, currency, lang, form = "GB", "GBP", "en", "LTD"
                name = UK_NAMES[i % len(UK_NAMES)]
                mode, terms = "foreign", 30
            else:
                country, currency, lang = "CH", "CHF", "fr"
                name = CH_NAMES[i % len(CH_NAMES)]
                form = "AG" if name.endswith("AG") else "SA"
                mode, terms = "foreign", 30
            if name in used_names:
                name = f"{name} {rng.choice(['II', 'Services', 'Négoce'])}"
            used_names.add(name)
            if branch == "TLS":
                n_tls += 1
                cid = f"C31{n_tls:04d}"
            else:
                n_bcn += 1
                cid = f"E08{n_bcn:04d}"
            acct_iban = other_iban(rng, country)
            c = Customer(
                id=cid,
                name=name,
                kind=kind,
                country=country,
                currency=currency,
                branch=branch,
                mode=mode,
                iban=acct_iban,
                iban_on_file=rng.random() < 0.7,
                printed=[],
                terms=terms,
                weight=weights[kind],
                language=lang,
                sites=sites,
                group=group,
                standard=standard,
            )
            c.printed = printed_variants(
                rng,
                name,
                form.upper(),
                person
                if (kind == "craftsman" or (kind == "es_auto" and "Reformas" in name))
                else "",
            )
            if country == "FR":
                c.siren = siren(rng)
                c.vat = fr_vat(c.siren)
                c.postal = rng.choice(
                    [
                        "31000",
                        "31200",
                        "31300",
                        "31500",
                        "31100",
                        "31700",
                        "31830",
                        "32000",
                        "81000",
                        "82000",
                        "09000",
                        "11000",
                    ]
                )
                c.city = "Toulouse" if c.postal.startswith("31") else "Occitanie"
            elif country == "ES":
                c.vat = f"ES{rng.choice('BA')}{rng.randint(10000000, 99999999)}"
                c.postal, c.city = f"08{rng.randint(1, 980):03d}", "Barcelona"
            slug = re.sub(r"[^a-z]", "", strip_accents(name).lower())[:14]
            c.email = f"compta@{slug}.example"
            out.append(c)
    return out


# ---------------------------------------------------------------- invoices

STANDARD = [
    Decimal(x)
    for x in ["486.00", "1152.00", "264.60", "729.60", "396.00", "954.00", "2016.00", "612.48"]
]


def invoice_amount(rng, c: Customer) -> Decimal:
    lo, hi = {
        "craftsman": (90, 4200),
        "builder": (800, 24000),
        "tp": (4000, 90000),
        "developer": (3000, 60000),
        "diy": (2500, 38000),
        "es_co": (900, 26000),
        "es_auto": (120, 3800),
        "pt": (1500, 22000),
        "ad": (900, 15000),
        "uk": (1500, 18000),
        "ch": (1500, 16000),
    }[c.kind]
    if c.standard and rng.random() < 0.55:
        return rng.choice(STANDARD[:5] if c.kind == "craftsman" else STANDARD[3:])
    ht = Decimal(rng.randint(lo * 100, hi * 100)) / 100
    vat = {
        "FR": Decimal("1.20"),
        "ES": Decimal("1.21"),
        "PT": Decimal("1.23"),
        "AD": Decimal("1.045"),
    }.get(c.country, Decimal("1"))
    return q(ht * vat)


def make_invoices(rng, customers: list[Customer], n_inv: int) -> list[Invoice]:
    total_w = sum(c.weight for c in customers)
    days = [START + timedelta(days=i) for i in range((LAST_ISSUE - START).days + 1)]
    bdays = [d for d in days if d.weekday() < 5]
    raw: list[tuple[date, Customer, str]] = []
    n_cn = int(n_inv * 0.045)
    n_plain = n_inv - n_cn
    for c in customers:
        k = max(2, round(n_plain * c.weight / total_w))
        for _ in range(k):
            raw.append((rng.choice(bdays), c, "invoice"))
    rng.shuffle(raw)
    raw = raw[:n_plain]
    while len(raw) < n_plain:
        c = rng.choices(customers, [c.weight for c in customers])[0]
        raw.append((rng.choice(bdays), c, "invoice"))
    raw.sort(key=lambda r: (r[0], r[1].id))
    seqs: Counter = Counter()
    out: list[Invoice] = []
    for d, c, _ in raw:
        series = "FT" if c.branch == "TLS" else "FB"
        seqs[series] += 1
        inv = Invoice(
            id=f"{series}25-{seqs[series]:05d}",
            customer=c,
            issue=d,
            due=d,
            amount=invoice_amount(rng, c),
            series=series,
            yy="25",
            seq=seqs[series],
        )
        if c.country == "FR" and c.kind != "craftsman":
            inv.due = end_of_month(d + timedelta(days=c.terms))
        else:
            inv.due = d + timedelta(days=c.terms)
        if c.kind == "craftsman" and c.mode == "lcr":
            inv.due = end_of_month(d + timedelta(days=30))
        if c.sites:
            site = rng.choice(c.sites)
            inv.po = f"Chantier {site} - lot {rng.choice(['GO', 'VRD', 'CLOS', 'ISOL', 'CARR'])}"
        elif c.kind in {"diy", "builder", "tp"} and rng.random() < 0.6:
            inv.po = f"BC{rng.randint(100000, 999999)}"
        inv.reference = rf_reference(inv.id.replace("-", ""))
        out.append(inv)
    # credit notes: a return of goods or a price correction on an earlier invoice
    cands = [i for i in out if i.customer.kind not in {"craftsman"} or rng.random() < 0.3]
    for origin in rng.sample(cands, min(n_cn, len(cands))):
        c = origin.customer
        series = "AT" if c.branch == "TLS" else "AB"
        seqs[series] += 1
        d = bday(origin.issue + timedelta(days=rng.randint(3, 20)))
        share = Decimal(rng.choice([5, 8, 10, 12, 15, 20, 25, 30])) / 100
        out.append(
            Invoice(
                id=f"{series}25-{seqs[series]:05d}",
                customer=c,
                issue=d,
                due=d,
                amount=-q(origin.amount * share),
                doc_type="credit_note",
                origin=origin.id,
                series=series,
                yy="25",
                seq=seqs[series],
            )
        )
    out.sort(key=lambda i: (i.issue, i.id))
    return out


# ---------------------------------------------------------------- wording


def inv_token(rng, inv: Invoice, style: str = "") -> str:
    seq5 = f"{inv.seq:05d}"
    style = (
        style
        or rng.choices(
            ["exact", "glued", "space", "slash", "nozero", "lower"], [45, 20, 10, 8, 10, 7]
        )[0]
    )
    return {
        "exact": inv.id,
        "glued": f"{inv.series}{inv.yy}{seq5}",
        "space": f"{inv.series} {inv.yy}-{seq5}",
        "slash": f"{inv.series}{inv.yy}/{seq5}",
        "nozero": f"{inv.series}{inv.yy}-{inv.seq}",
        "lower": inv.id.lower(),
    }[style]


def bare_token(rng, inv: Invoice) -> str:
    return rng.choice(
        [str(inv.seq), f"{inv.seq:05d}", f"{inv.yy}-{inv.seq:05d}", f"{inv.seq}/{inv.yy}"]
    )


def transposed_token(rng, inv: Invoice) -> str:
    s = f"{inv.seq:05d}"
    pos = [i for i in range(4) if s[i] != s[i + 1] and not (i == 0 and s[1] == "0")]
    i = rng.choice(pos or [3])
    t = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return f"{inv.series}{inv.yy}-{t}"


FR_SINGLE = [
    "FACTURE {n}",
    "FACT {n}",
    "Fact. n° {n}",
    "REGLEMENT FACTURE {n}",
    "RGT FACT {n}",
    "PAIEMENT {n}",
    "VIR {n} {who}",
    "{n}",
    "Votre facture {n} du {d}",
    "REF CLIENT {cid} FACTURE {n}",
    "FA {n} REGLEMENT",
    "Règlement fact {n} merci",
]
ES_SINGLE = [
    "PAGO FRA. {n}",
    "FRA {n}",
    "Factura nº {n}",
    "PAGO FACTURA {n} VTO {d}",
    "N/FRA {n}",
    "LIQ. FRA {n} {who}",
    "TRANSF. FACTURA {n}",
]
PT_SINGLE = ["PAGAMENTO FATURA {n}", "PAG FT {n}", "FATURA N.{n}", "LIQUIDACAO FATURA {n}"]
AD_SINGLE = ["PAGAMENT FACTURA {n}", "FRA. {n}", "PAGAMENT FRA {n} {who}"]
UK_SINGLE = ["INV {n}", "INVOICE {n}", "{n}", "GMN {n}"]
CH_SINGLE = ["Rechnung {n}", "Zahlung Rechnung {n}", "Facture {n}", "Fattura {n}"]


def single_text(rng, c: Customer, tok: str, inv: Invoice) -> str:
    lib = {"ES": ES_SINGLE, "PT": PT_SINGLE, "AD": AD_SINGLE, "GB": UK_SINGLE}.get(
        c.country, CH_SINGLE if c.country == "CH" else FR_SINGLE
    )
    d = inv.issue.strftime("%d/%m/%y") if c.country == "FR" else inv.due.strftime("%d/%m/%Y")
    who = c.printed[0][:20]
    return rng.choice(lib).format(n=tok, d=d, who=who, cid=c.id)


def list_text(rng, c: Customer, toks: list[str], cn_toks: list[str]) -> str:
    sep = rng.choice([" ", ", ", "/", " + ", ";"])
    body = sep.join(toks)
    if c.country in {"ES", "AD"}:
        head = rng.choice(["PAGO FRAS ", "FRAS. ", "LIQUIDACION FACTURAS ", "N/PAGO FRAS "])
        cn = "".join(f" ABONO {t}" for t in cn_toks)
    elif c.country == "PT":
        head, cn = "PAGAMENTO FATURAS ", "".join(f" NC {t}" for t in cn_toks)
    elif c.country == "GB":
        head, cn = rng.choice(["INV ", "INVS ", ""]), "".join(f" CN {t}" for t in cn_toks)
    elif c.country == "CH":
        head = rng.choice(["Rechnungen ", "Factures ", "Fatture "])
        cn = "".join(f" Gutschrift {t}" for t in cn_toks)
    else:
        head = rng.choice(["FACT ", "FACTURES ", "REGLT FACTURES ", "RGLT ", "PAIEMENT FACT "])
        cn = "".join(
            rng.choice([f" MOINS AVOIR {t}", f" - AV {t}", f" DEDUCT AVOIR {t}"]) for t in cn_toks
        )
    return head + body + cn


def split_text(text: str, width: int = 140) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


NO_REF_WORDS = {
    "FR": ["", "REGLEMENT", "VIREMENT", "PAIEMENT FOURNISSEUR"],
    "GB": ["", "PAYMENT", "SUPPLIER PAYMENT"],
    "CH": ["", "Zahlung", "Paiement"],
}

MONTHS_FR = [
    "JANVIER",
    "FEVRIER",
    "MARS",
    "AVRIL",
    "MAI",
    "JUIN",
    "JUILLET",
    "AOUT",
    "SEPTEMBRE",
    "OCTOBRE",
    "NOVEMBRE",
    "DECEMBRE",
]


def releve_text(rng, y: int, m: int) -> str:
    return rng.choice(
        [
            f"REGLT RELEVE FIN {MONTHS_FR[m - 1]} {y}",
            f"RELEVE DE COMPTE {m:02d}/{y}",
            f"SELON RELEVE DU {end_of_month(date(y, m, 1)):%d/%m/%y}",
            f"VOTRE RELEVE {MONTHS_FR[m - 1].capitalize()} {y}",
            f"PAIEMENT RELEVE {m:02d}-{y % 100:02d}",
        ]
    )


# ---------------------------------------------------------------- payments


class Planner:
    def __init__(self, rng: random.Random, customers, invoices):
        self.rng = rng
        self.customers = customers
        self.invoices = invoices
        self.by_id = {i.id: i for i in invoices}
        self.lines: list[Line] = []
        self.cheques: list[tuple[date, Tx]] = []
        self.lcr: list[tuple[date, Tx, Invoice]] = []
        self.sdd: list[tuple[date, Tx, Invoice]] = []
        self.pf_seq = 0

    # one customer-originated credit transfer
    def tx(
        self, c: Customer, amount, text, mentions, alloc, *, iban_=None, name=None, bic=""
    ) -> Tx:
        rng = self.rng
        return Tx(
            amount=q(amount),
            name=name or rng.choice(c.printed),
            iban=iban_ or c.iban,
            bic=bic,
            ustrd=[text] if text else [],
            mentions=list(mentions),
            alloc=list(alloc),
            customer=c,
        )

    def add(self, account, d, kind, txs, **kw) -> Line:
        d = bday(d)
        line = Line(
            account=account,
            booking=d,
            amount=q(sum(t.amount for t in txs)),
            kind=kind,
            txs=txs,
            **kw,
        )
        if d <= END:
            self.lines.append(line)
        return line

    def account_for(self, c: Customer) -> str:
        if c.currency != "EUR":
            return c.currency
        if c.branch == "BCN":
            return "ES_BCN"
        return (
            "FR_COLL"
            if c.kind in {"diy"}
            else ("FR_COLL" if self.rng.random() < 0.25 and c.kind != "craftsman" else "FR_MAIN")
        )

    def run(self):
        rng = self.rng
        by_c: dict[str, list[Invoice]] = defaultdict(list)
        for i in self.invoices:
            by_c[i.customer.id].append(i)
        for c in self.customers:
            docs = by_c.get(c.id, [])
            invs = sorted((i for i in docs if i.doc_type == "invoice"), key=lambda i: i.due)
            cns = defaultdict(list)
            for cn in docs:
                if cn.doc_type == "credit_note":
                    cns[cn.origin].append(cn)
            if c.mode in {"releve", "structured"}:
                self.monthly(c, invs, docs)
            elif c.mode == "site":
                self.sites(c, invs)
            else:
                groups: list[list[Invoice]] = []
                k = 0
                while k < len(invs):
                    n = 1
                    if rng.random() < 0.14 and c.mode not in {"lcr", "sdd", "cheque"}:
                        n = rng.randint(2, 4)
                    groups.append(invs[k : k + n])
                    k += n
                for g in groups:
                    g_cns = [cn for i in g for cn in cns.get(i.id, [])]
                    self.group(c, g, g_cns)
        self.pool_cheques()
        self.pool_lcr()
        self.pool_sdd()
        return self.lines

    def delay(self, c: Customer) -> int:
        rng = self.rng
        if c.country in {"ES", "PT", "AD"}:
            return rng.choice([0, 0, 1, 2, 5, 10, 15, 25])
        return rng.choice([-8, -3, 0, 0, 2, 5, 7, 12, 20, 30, 45])

    def group(self, c: Customer, g: list[Invoice], g_cns: list[Invoice]):
        rng = self.rng
        pay = g[-1].due + timedelta(days=self.delay(c))
        if g_cns:
            pay = max(pay, max(cn.issue for cn in g_cns) + timedelta(days=3))
        pay = bday(pay)
        if pay > END:
            return
        total = sum(i.amount for i in g) + sum(cn.amount for cn in g_cns)
        alloc = [(i.id, i.amount) for i in g] + [(cn.id, cn.amount) for cn in g_cns]
        acct = self.account_for(c)
        if c.mode == "cheque":
            if rng.random() < 0.85:
                t = Tx(
                    amount=total,
                    name=rng.choice(c.printed),
                    customer=c,
                    alloc=alloc,
                    cheque_no=f"{rng.randint(1000000, 9999999)}",
                )
                self.cheques.append((pay, t))
                return
        elif c.mode == "lcr":
            t = Tx(
                amount=total,
                name=rng.choice(c.printed[:2]),
                customer=c,
                alloc=alloc,
                e2e=g[0].id,
                mentions=[("e2e", g[0].id)],
            )
            self.lcr.append((bday(g[0].due), t, g[0]))
            return
        elif c.mode == "sdd":
            coll = bday(max(g[0].due, date(g[0].due.year, g[0].due.month, 5)))
            t = Tx(
                amount=total,
                name=c.printed[0],
                customer=c,
                alloc=alloc,
                e2e=g[0].id,
                mentions=[("e2e", g[0].id)],
                mandate=f"GMN-{c.id}-01",
                iban=c.iban,
            )
            self.sdd.append((coll, t, g[0]))
            return
        if c.mode == "retention":
            self.retention(c, g, g_cns, pay, acct)
            return
        if (
            len(g) > 1
            and not g_cns
            and c.mode in {"transfer", "transfer_es"}
            and (rng.random() < 0.35)
        ):
            words = NO_REF_WORDS.get(c.country, ["", "TRANSFERENCIA", "PAGO FACTURAS"])
            text = rng.choice([*words, f"{len(g)} FACTURES", "REGLEMENT FACTURES"])
            self.add(acct, pay, "grouped_no_reference", [self.tx(c, total, text, [], alloc)])
            return
        if len(g) > 1 or g_cns:
            toks = [inv_token(rng, i) for i in g]
            cn_toks = [inv_token(rng, cn, "exact") for cn in g_cns]
            text = list_text(rng, c, toks, cn_toks)
            kind = "invoice_list"
            if g_cns:
                kind = "invoice_minus_credit_note" if len(g) == 1 else "invoices_minus_credit_note"
            ments = [("inv", t) for t in toks + cn_toks]
            if c.mode == "confirming":
                self.confirming(c, total, text, ments, alloc, pay, kind)
                return
            if c.mode == "factor" and rng.random() < 0.7:
                self.factor(c, total, text, ments, alloc, pay)
                return
            if c.currency == "GBP" and len(text) > 18:
                text, kind = text[:18], "truncated_reference"
                ments = [("inv", t) for t in toks + cn_toks if t in text[:18]]
                ments = ments[:-1] if ments and not text.endswith(ments[-1][1]) else ments
            self.add(acct, pay, kind, [self.tx(c, total, text, ments, alloc)])
            return
        self.single(c, g[0], pay, acct)

    def single(self, c: Customer, inv: Invoice, pay: date, acct: str):
        rng = self.rng
        a = inv.amount
        alloc = [(inv.id, a)]
        foreign = c.country in {"GB", "CH", "AD"}
        w = {
            "invoice_in_text": 40,
            "amount_only_known_payer": 12,
            "no_reference_unknown_iban": 7,
            "iban_not_on_file": 6,
            "rf_free_text": 5,
            "rf_structured": 0,
            "number_without_prefix": 6,
            "transposed_digits": 3,
            "acompte": 4,
            "rounding_up": 3,
            "duplicate_payment": 1.5,
            "prepayment_before_invoice": 0,
            "bank_fees_deducted": 0,
        }
        if c.kind == "craftsman" or c.kind == "es_auto":
            w["prepayment_before_invoice"] = 6
            if c.standard and inv.amount in STANDARD:
                w["no_reference_unknown_iban"] = 18
        if foreign:
            w["bank_fees_deducted"] = 25 if c.country != "GB" else 12
        if acct in {"FR_COLL", "ES_BCN"}:
            w["rf_structured"] = 5
        if c.mode == "confirming":
            w = {"factor_payer": 1}
        if c.mode == "factor":
            w = {"factor_payer": 3, "invoice_in_text": 1}
        kind = rng.choices(list(w), list(w.values()))[0]
        tok = inv_token(rng, inv)
        text = single_text(rng, c, tok, inv)
        ments = [("inv", tok)]
        if kind == "factor_payer":
            if c.mode == "confirming":
                self.confirming(c, a, text, ments, alloc, pay, kind)
            else:
                self.factor(c, a, text, ments, alloc, pay)
            return
        if kind == "invoice_in_text":
            self.add(acct, pay, kind, [self.tx(c, a, text, ments, alloc)])
        elif kind == "amount_only_known_payer":
            words = NO_REF_WORDS.get(c.country, ["", "TRANSFERENCIA", "PAGO PROVEEDOR"])
            text = rng.choice([*words, c.printed[0][:20]])
            self.add(acct, pay, kind, [self.tx(c, a, text, [], alloc)])
        elif kind == "no_reference_unknown_iban":
            iban2 = other_iban(rng, c.country)
            kind = "same_amount_several" if inv.amount in STANDARD else "name_as_printed"
            text = rng.choice(["", "VIREMENT", "REGLEMENT", "PAGO", "FOURNITURES"])
            self.add(acct, pay, kind, [self.tx(c, a, text, [], alloc, iban_=iban2)])
        elif kind == "iban_not_on_file":
            self.add(
                acct,
                pay,
                kind,
                [self.tx(c, a, text, ments, alloc, iban_=other_iban(rng, c.country))],
            )
        elif kind in {"rf_free_text", "rf_structured"}:
            rf = inv.reference
            t = self.tx(c, a, "", [("rf", rf)], alloc)
            if kind == "rf_structured":
                t.cdtr_ref = rf
            else:
                spaced = " ".join(rf[i : i + 4] for i in range(0, len(rf), 4))
                t.ustrd = [
                    rng.choice(
                        [
                            spaced,
                            rf.lower(),
                            f"FACT{rf}",
                            f"REF:{rf}PAIEMENT",
                            f"{spaced.lower()} merci",
                            f"ref {rf}",
                        ]
                    )
                ]
            self.add(acct, pay, kind, [t])
        elif kind == "number_without_prefix":
            tok = bare_token(rng, inv)
            self.add(
                acct,
                pay,
                kind,
                [self.tx(c, a, single_text(rng, c, tok, inv), [("inv", tok)], alloc)],
            )
        elif kind == "transposed_digits":
            tok = transposed_token(rng, inv)
            self.add(
                acct,
                pay,
                kind,
                [self.tx(c, a, single_text(rng, c, tok, inv), [("inv", tok)], alloc)],
            )
        elif kind == "acompte":
            part = q(
                max(
                    Decimal(50),
                    (a * Decimal(rng.choice([30, 40, 50])) / 100).quantize(Decimal("10")),
                )
            )
            if part >= a:
                part = q(a / 2)
            d1 = bday(pay - timedelta(days=rng.randint(10, 30)))
            word1, word2 = ("A CUENTA", "RESTO") if c.country == "ES" else ("ACOMPTE", "SOLDE")
            t1 = self.tx(c, part, f"{word1} {text}", [*ments, ("partial", word1)], [(inv.id, part)])
            self.add(acct, d1, "acompte", [t1])
            t2 = self.tx(
                c, a - part, f"{word2} {text}", [*ments, ("partial", word2)], [(inv.id, a - part)]
            )
            self.add(acct, pay, "solde", [t2])
        elif kind == "rounding_up":
            up = (a / 10).to_integral_value(rounding="ROUND_CEILING") * 10
            if up - a > 5 or up == a:
                up = a.to_integral_value(rounding="ROUND_CEILING") + (
                    1 if a == a.to_integral_value() else 0
                )
            self.add(acct, pay, kind, [self.tx(c, up, text, ments, alloc)])
        elif kind == "duplicate_payment":
            self.add(acct, pay, "invoice_in_text", [self.tx(c, a, text, ments, alloc)])
            self.add(
                acct,
                pay + timedelta(days=rng.randint(2, 20)),
                kind,
                [self.tx(c, a, text, ments, [])],
                note="paid twice: refund or credit",
            )
        elif kind == "bank_fees_deducted":
            fee = q(
                Decimal(
                    rng.choice(
                        ["5.00", "7.50", "10.00", "12.00", "15.00", "18.50", "20.00", "25.00"]
                    )
                )
            )
            if c.currency == "GBP":
                fee = q(fee / 2)
            if fee >= a * Decimal("0.03"):
                fee = q(a * Decimal("0.01"))
            t = self.tx(c, a - fee, text, ments, [(inv.id, a - fee)])
            t.foreign_fees = True
            self.add(acct, pay, kind, [t], note=f"{fee} charges deducted by the banks")
        elif kind == "prepayment_before_invoice":
            self.pf_seq += 1
            pf = f"PF25-{self.pf_seq:04d}"
            inv.po = pf
            d1 = bday(inv.issue - timedelta(days=rng.randint(2, 8)))
            if d1 < date(2025, 1, 2):
                self.add(acct, pay, "invoice_in_text", [self.tx(c, a, text, ments, alloc)])
                return
            if rng.random() < 0.6 or not c.iban_on_file:
                t = self.tx(
                    c,
                    a,
                    rng.choice(
                        [f"PROFORMA {pf}", f"PRO FORMA {pf} COMMANDE", f"{pf} ACOMPTE COMMANDE"]
                    ),
                    [("proforma", pf)],
                    alloc,
                )
            else:
                t = self.tx(
                    c, a, rng.choice(["COMMANDE", "PAIEMENT COMMANDE", ""]), [], alloc, iban_=c.iban
                )
            self.add(acct, d1, kind, [t], note="paid on the pro forma before the invoice")

    def factor(self, c, amount, text, ments, alloc, pay):
        rng = self.rng
        f = rng.choice(FACTORS)
        who = rng.choice(c.printed)[:22]
        text = rng.choice(
            [
                f"POUR LE COMPTE DE {who} {text}",
                f"ORDRE {who} {text}",
                f"REGLEMENT FOURNISSEUR {text}",
            ]
        )
        f_iban = iban("FR", f"3000301000{len(f) * 111:011d}00")
        t = self.tx(c, amount, text, ments, alloc, iban_=f_iban, name=f)
        self.add("FR_COLL", pay, "factor_payer", [t])

    def confirming(self, c, amount, text, ments, alloc, pay, kind):
        rng = self.rng
        bank = rng.choice(ES_CONFIRMING)
        who = rng.choice(c.printed)[:24]
        text = rng.choice(
            [
                f"CONFIRMING {who} {text}",
                f"PAGO CONFIRMING ORDENANTE {who} {text}",
                f"ORDEN DE PAGO {who} {text}",
            ]
        )
        t = self.tx(
            c,
            amount,
            text,
            ments,
            alloc,
            name=bank,
            iban_=iban("ES", f"0182{len(bank):04d}00{len(who) * 7:010d}"),
        )
        self.add("ES_BCN", pay, "factor_payer", [t])

    def retention(self, c, g, g_cns, pay, acct):
        rng = self.rng
        held = [(i, q(i.amount * Decimal("0.05"))) for i in g]
        paid = [(i.id, i.amount - h) for i, h in held] + [(cn.id, cn.amount) for cn in g_cns]
        total = sum(a for _, a in paid)
        toks = [inv_token(rng, i) for i in g]
        cn_toks = [inv_token(rng, cn, "exact") for cn in g_cns]
        ments = [("inv", t) for t in toks + cn_toks] + [("partial", "RG")]
        rg_word = rng.choice(
            ["RG 5% DEDUITE", "MOINS RETENUE DE GARANTIE 5%", "RET. GARANTIE 5 %", "- RG 5%"]
        )
        text = f"{list_text(rng, c, toks, cn_toks)} {rg_word}"
        if c.group and rng.random() < 0.5:
            t = self.tx(
                c,
                total,
                f"{bank_upper(c.group)[:20]} FOURN {text}",
                ments,
                paid,
                name=bank_upper(c.group),
                iban_=iban("FR", f"1020701000{len(c.group) * 13:011d}00"),
            )
            self.add("FR_COLL", pay, "parent_payer", [t])
        else:
            self.add(acct, pay, "retention_held", [self.tx(c, total, text, ments, paid)])
        for i, h in held:
            rel = bday(i.issue + timedelta(days=365 + rng.randint(5, 40)))
            if rel > END:
                continue
            if rng.random() < 0.6:
                tok = inv_token(rng, i)
                text = rng.choice(
                    [
                        f"LIBERATION RG {tok}",
                        f"RESTITUTION RETENUE GARANTIE {tok}",
                        f"RG 5% {tok} LEVEE DES RESERVES",
                    ]
                )
                t = self.tx(c, h, text, [("inv", tok)], [(i.id, h)])
            else:
                t = self.tx(
                    c,
                    h,
                    rng.choice(
                        [
                            "LIBERATION RETENUE DE GARANTIE",
                            "RESTITUTION RG CHANTIER",
                            "LEVEE RG 2025",
                        ]
                    ),
                    [],
                    [(i.id, h)],
                    iban_=c.iban,
                )
            self.add(acct, rel, "retention_release", [t])

    def monthly(self, c: Customer, invs, docs):
        rng = self.rng
        months: dict[tuple[int, int], list[Invoice]] = defaultdict(list)
        for d in docs:
            months[(d.issue.year, d.issue.month)].append(d)
        for (y, m), items in sorted(months.items()):
            pay = bday(
                date(y + (m >= 11), (m + 1) % 12 + 1, 10) + timedelta(days=rng.randint(0, 12))
            )
            if pay > END:
                continue
            items = sorted(items, key=lambda i: i.id)
            plain = [i for i in items if i.doc_type == "invoice"]
            disputed = None
            if len(plain) >= 2 and rng.random() < 0.4:
                disputed = rng.choice(plain)
                items = [i for i in items if i is not disputed and i.origin != disputed.id]
            if not any(i.doc_type == "invoice" for i in items):
                continue
            total = sum(i.amount for i in items)
            if total <= 0:
                continue
            alloc = [(i.id, i.amount) for i in items]
            if c.mode == "structured":
                t = self.tx(c, total, "", [], alloc, iban_=c.iban)
                t.docs = [
                    [
                        (
                            "CREN" if i.doc_type == "credit_note" else "CINV",
                            i.id,
                            abs(i.amount),
                            i.issue,
                        )
                    ]
                    for i in items
                ]
                t.mentions = [("doc", (i.id, i.amount)) for i in items]
                kind = "structured_docs" if len(items) == 1 else "structured_multi_strd"
                if any(i.doc_type == "credit_note" for i in items):
                    kind = "structured_credit_note"
                if disputed:
                    kind = "structured_minus_disputed"
                t.ustrd = [f"PAIEMENT FOURNISSEUR {c.id} ECHEANCE {pay:%d%m%Y}"][
                    : rng.randint(0, 1)
                ]
                self.add("FR_COLL", pay, kind, [t])
            else:
                text = releve_text(rng, y, m)
                kind = "releve_minus_disputed" if disputed else "releve"
                self.add(
                    self.account_for(c),
                    pay,
                    kind,
                    [self.tx(c, total, text, [("releve", (c.id, y, m))], alloc)],
                )
            if disputed:
                late = bday(pay + timedelta(days=rng.randint(20, 60)))
                tok = inv_token(rng, disputed)
                if c.mode == "structured":
                    t = self.tx(
                        c,
                        disputed.amount,
                        "",
                        [("doc", (disputed.id, disputed.amount))],
                        [(disputed.id, disputed.amount)],
                        iban_=c.iban,
                    )
                    t.docs = [[("CINV", disputed.id, disputed.amount, disputed.issue)]]
                    self.add("FR_COLL", late, "structured_docs", [t])
                else:
                    self.add(
                        self.account_for(c),
                        late,
                        "invoice_in_text",
                        [
                            self.tx(
                                c,
                                disputed.amount,
                                f"FACTURE {tok} APRES LITIGE",
                                [("inv", tok)],
                                [(disputed.id, disputed.amount)],
                            )
                        ],
                    )

    def sites(self, c: Customer, invs):
        rng = self.rng
        buckets: dict[tuple[str, int], list[Invoice]] = defaultdict(list)
        for i in invs:
            site = i.po.split(" - ")[0].replace("Chantier ", "")
            buckets[(site, (i.issue.month - 1) // 2)].append(i)
        n = Counter()
        for (site, _), items in sorted(buckets.items(), key=lambda kv: max(i.due for i in kv[1])):
            pay = bday(max(i.due for i in items) + timedelta(days=rng.randint(0, 20)))
            if pay > END:
                continue
            n[site] += 1
            total = sum(i.amount for i in items)
            alloc = [(i.id, i.amount) for i in items]
            sccv = f"SCCV {bank_upper(site)}"
            site_iban = iban("FR", f"1790600100{sum(map(ord, site)):011d}00")
            if rng.random() < 0.7:
                text = rng.choice(
                    [
                        f"SITUATION {n[site]:02d} {bank_upper(site)}",
                        f"CHANTIER {bank_upper(site)} REGLT FOURNITURES",
                        f"OPERATION {bank_upper(site)} ACPTE {n[site]}",
                    ]
                )
                t = self.tx(c, total, text, [("site", site)], alloc, name=sccv, iban_=site_iban)
                self.add("FR_MAIN", pay, "developer_site", [t])
            else:
                toks = [inv_token(rng, i) for i in items]
                t = self.tx(
                    c,
                    total,
                    f"{bank_upper(site)} {list_text(rng, c, toks, [])}",
                    [("inv", x) for x in toks],
                    alloc,
                    name=sccv,
                    iban_=site_iban,
                )
                self.add(
                    "FR_MAIN", pay, "invoice_list" if len(items) > 1 else "invoice_in_text", [t]
                )

    # -------------------------------------------------- pooled instruments

    def pool_cheques(self):
        rng = self.rng
        slips: dict[date, list[Tx]] = defaultdict(list)
        for recv, t in self.cheques:
            d = recv + timedelta(days=1)
            while d.weekday() not in (1, 4):  # deposited on Tuesdays and Fridays
                d += timedelta(days=1)
            slips[d].append(t)
        for n, (d, txs) in enumerate(sorted(slips.items()), 1):
            detail = rng.random() < 0.45
            kind = "cheque_remittance_detail" if detail else "cheque_remittance_no_detail"
            for t in txs:
                t.mentions = [("payer_name", t.name)] if detail else []
            self.add(
                "FR_MAIN",
                d,
                kind,
                txs,
                label=f"REMISE CHEQUES {8800000 + n}",
                family=("PMNT", "RCHQ", "BCHQ"),
                details=detail,
                batch=True,
                note=f"deposit slip of {len(txs)} cheque(s)",
            )

    def _batch(
        self,
        items,
        kind_yes,
        kind_no,
        label,
        family,
        p_details,
        ret_kind,
        ret_family,
        reasons,
        fee_label,
    ):
        rng = self.rng
        by_day: dict[date, list[tuple[Tx, Invoice]]] = defaultdict(list)
        for d, t, inv in items:
            by_day[d].append((t, inv))
        for n, (d, lst) in enumerate(sorted(by_day.items()), 1):
            detail = rng.random() < p_details
            txs = [t for t, _ in lst]
            for t in txs:
                t.ustrd = [f"{label.split()[1]} ECH {d:%d%m%y} REF {t.e2e}"]
            if not detail:
                for t in txs:
                    t.mentions = []
            line = self.add(
                "FR_COLL",
                d,
                kind_yes if detail else kind_no,
                txs,
                label=f"{label} {d:%y%m%d}{n:03d}",
                family=family,
                batch=True,
                details=detail,
                note=f"{len(txs)} item(s) in the remittance",
            )
            for t, inv in lst:
                if rng.random() >= 0.06 or line.booking > END - timedelta(days=40):
                    continue
                back = bday(d + timedelta(days=rng.randint(5, 9)))
                rsn = rng.choice(reasons)
                r = Tx(
                    amount=-t.amount,
                    name=t.name,
                    iban=t.iban,
                    e2e=t.e2e,
                    customer=t.customer,
                    mentions=[("return", inv.id)],
                    alloc=[(inv.id, -t.amount)],
                    return_reason=rsn,
                    ustrd=[f"RETOUR {t.e2e} MOTIF {rsn}"],
                    mandate=t.mandate,
                )
                self.add(
                    "FR_COLL",
                    back,
                    ret_kind,
                    [r],
                    family=ret_family,
                    reversal=True,
                    note=f"unpaid, reason {rsn}",
                )
                fee = Tx(amount=Decimal("-16.80"), ustrd=[f"{fee_label} {t.e2e}"])
                self.add(
                    "FR_COLL",
                    back,
                    "bank_fee",
                    [fee],
                    noncustomer=True,
                    family=("PMNT", "MCOP", "CHRG"),
                )
                c = t.customer
                tok = inv_token(rng, inv, "exact")
                pay = bday(back + timedelta(days=rng.randint(8, 25)))
                self.add(
                    "FR_MAIN",
                    pay,
                    "repayment_after_return",
                    [
                        self.tx(
                            c,
                            t.amount,
                            rng.choice(
                                [
                                    f"REGLT {label.split()[1]} IMPAYE {tok}",
                                    f"SUITE REJET {tok}",
                                    f"FACTURE {tok} REPRESENTEE",
                                ]
                            ),
                            [("inv", tok)],
                            [(inv.id, t.amount)],
                        )
                    ],
                )

    def pool_lcr(self):
        self._batch(
            self.lcr,
            "lcr_remittance_details",
            "lcr_remittance_no_details",
            "REMISE LCR",
            ("PMNT", "DRFT", "STAM"),
            0.65,
            "unpaid_lcr",
            ("PMNT", "DRFT", "UDFT"),
            ["AM04", "MS02", "AC04"],
            "FRAIS LCR IMPAYEE",
        )

    def pool_sdd(self):
        self._batch(
            self.sdd,
            "sdd_batch_details",
            "sdd_batch_no_details",
            "REMISE PRLV",
            ("PMNT", "RDDT", "BBDD"),
            0.75,
            "returned_sdd",
            ("PMNT", "RDDT", "UPDD"),
            ["AM04", "MS02", "AC04", "MD01"],
            "FRAIS REJET PRLV",
        )


# ---------------------------------------------------------------- other lines


def noncustomer_lines(rng: random.Random) -> list[Line]:
    out: list[Line] = []

    def add(acct, d, kind, amount, text, family, name=""):
        d = bday(d)
        if d <= END:
            out.append(
                Line(
                    acct,
                    d,
                    q(amount),
                    kind,
                    [Tx(amount=q(amount), ustrd=[text], name=name)],
                    family=family,
                    noncustomer=True,
                )
            )

    suppliers = [
        "CIMENTS DU MIDI SAS",
        "TUILERIES DE GASCOGNE",
        "BOIS ET PANNEAUX SUD",
        "ISOLANTS PYRENEES SA",
        "ACIERS TOULOUSAINS",
        "TRANSPORTS CAZALS",
    ]
    es_supp = ["CEMENTOS DEL LLOBREGAT SA", "CERAMICAS CASTELLON SL", "TRANSPORTES VALLES SL"]
    d = START
    while d <= END:
        m = d.month
        if d.day == 1:
            add(
                "FR_MAIN",
                d.replace(day=27),
                "salary",
                -q(rng.randint(78000, 96000)),
                f"VIR SALAIRES {m:02d}/{d.year}",
                ("PMNT", "ICDT", "SALA"),
            )
            add(
                "FR_MAIN",
                d.replace(day=15),
                "social_charges",
                -q(rng.randint(30000, 42000)),
                f"PRLV URSSAF MIDI-PYRENEES {m:02d}/{d.year}",
                ("PMNT", "IDDT", "ESDD"),
                "URSSAF",
            )
            add(
                "FR_MAIN",
                d.replace(day=3),
                "bank_fee",
                -Decimal("48.60"),
                "FRAIS TENUE DE COMPTE ET EBICS",
                ("ACMT", "MDOP", "CHRG"),
            )
            add(
                "FR_COLL",
                d.replace(day=3),
                "bank_fee",
                -q(rng.randint(40, 180)),
                "COMMISSIONS REMISES LCR/PRLV",
                ("ACMT", "MDOP", "CHRG"),
            )
            add(
                "FR_COLL",
                d.replace(day=25),
                "internal_transfer",
                -q(rng.randint(60, 160) * 1000),
                "VIREMENT DE COMPTE A COMPTE",
                ("PMNT", "ICDT", "BOOK"),
            )
            add(
                "ES_BCN",
                d.replace(day=28),
                "salary",
                -q(rng.randint(26000, 31000)),
                f"NOMINAS {m:02d}/{d.year}",
                ("PMNT", "ICDT", "SALA"),
            )
            add(
                "ES_BCN",
                d.replace(day=30 if m != 2 else 27),
                "social_charges",
                -q(rng.randint(8000, 10500)),
                "SEGURIDAD SOCIAL TGSS",
                ("PMNT", "IDDT", "ESDD"),
            )
            add(
                "ES_BCN",
                d.replace(day=2),
                "bank_fee",
                -Decimal("35.00"),
                "COMISION MANTENIMIENTO",
                ("ACMT", "MDOP", "CHRG"),
            )
            for acct, fee in (("GBP", "12.00"), ("CHF", "15.00")):
                add(
                    acct,
                    d.replace(day=2),
                    "bank_fee",
                    -Decimal(fee),
                    "ACCOUNT FEE",
                    ("ACMT", "MDOP", "CHRG"),
                )
            if m in (3, 6, 9, 12):
                add(
                    "FR_MAIN",
                    d.replace(day=30 if m != 12 else 31) if m != 2 else d,
                    "interest",
                    q(rng.randint(300, 1800)),
                    "INTERETS CREDITEURS TRIMESTRE",
                    ("ACMT", "MDOP", "INTR"),
                )
                for acct in ("GBP", "CHF"):
                    add(
                        acct,
                        d.replace(day=20),
                        "internal_transfer",
                        -q(rng.randint(15, 40) * 1000),
                        "FX SWEEP TO EUR ACCOUNT",
                        ("PMNT", "ICDT", "BOOK"),
                    )
            if m in (4, 10):
                add(
                    "FR_MAIN",
                    d.replace(day=18),
                    "tax_refund",
                    q(rng.randint(12000, 48000)),
                    "DGFIP REMBT CREDIT TVA",
                    ("PMNT", "RCDT", "ESCT"),
                    "DGFIP",
                )
            if m == 7:
                add(
                    "ES_BCN",
                    d.replace(day=21),
                    "tax_refund",
                    q(rng.randint(5000, 15000)),
                    "AEAT DEVOLUCION IVA",
                    ("PMNT", "RCDT", "ESCT"),
                    "AEAT",
                )
        if d.weekday() == 0 and rng.random() < 0.6:
            add(
                "FR_MAIN",
                d,
                "card_payout",
                q(Decimal(rng.randint(30000, 400000)) / 100),
                f"REMISE CB 4521870 DU {d - timedelta(days=3):%d%m%y}",
                ("PMNT", "CCRD", "POSD"),
            )
            add(
                "ES_BCN",
                d + timedelta(days=1),
                "card_payout",
                q(Decimal(rng.randint(10000, 150000)) / 100),
                f"LIQUIDACION TPV {d:%d/%m}",
                ("PMNT", "CCRD", "POSD"),
            )
        if d.weekday() == 3:
            s = rng.choice(suppliers)
            add(
                "FR_MAIN",
                d,
                "supplier_payment",
                -q(rng.randint(15000, 95000)),
                f"VIR SEPA EMIS {s} ECH {d:%d%m}",
                ("PMNT", "ICDT", "ESCT"),
                s,
            )
            if rng.random() < 0.5:
                s = rng.choice(es_supp)
                add(
                    "ES_BCN",
                    d,
                    "supplier_payment",
                    -q(rng.randint(6000, 38000)),
                    f"TRANSFERENCIA A {s}",
                    ("PMNT", "ICDT", "ESCT"),
                    s,
                )
        if d.weekday() == 2 and rng.random() < 0.05:
            s = rng.choice(suppliers)
            add(
                "FR_MAIN",
                d,
                "supplier_refund",
                q(rng.randint(200, 6000)),
                f"AVOIR {s} RISTOURNE",
                ("PMNT", "RCDT", "ESCT"),
                s,
            )
        if d.day == 26 and rng.random() < 0.9:
            pass
        d += timedelta(days=1)
    # the sweep arrives on the main account
    for ln in [x for x in out if x.account == "FR_COLL" and x.kind == "internal_transfer"]:
        out.append(
            Line(
                "FR_MAIN",
                ln.booking,
                -ln.amount,
                "internal_transfer",
                [
                    Tx(
                        amount=-ln.amount,
                        ustrd=["VIR DE COMPTE A COMPTE"],
                        name="GARONNE MATERIAUX NEGOCE",
                    )
                ],
                family=("PMNT", "RCDT", "BOOK"),
                noncustomer=True,
            )
        )
    return out


# ---------------------------------------------------------------- the credit controller


def name_tokens(s: str) -> list[str]:
    return [t for t in re.split(r"[^A-Z0-9]+", bank_upper(s)) if len(t) >= 3 and t not in LEGAL]


class Controller:
    """A careful credit controller, reading the bank line as the file shows it, in booking order.

    State: the open amount of every invoice of the export (the tool sees the whole file), reduced
    by the true allocation of every earlier line (a person decides the doubtful ones in time).
    """

    def __init__(self, customers: list[Customer], invoices: list[Invoice]):
        self.customers = customers
        self.inv = {i.id: i for i in invoices}
        self.open = {i.id: i.amount for i in invoices}
        self.norm = {re.sub(r"[^A-Z0-9]", "", i.id): i.id for i in invoices}
        self.rf = {i.reference: i.id for i in invoices if i.reference}
        self.by_seq: dict[int, list[Invoice]] = defaultdict(list)
        for i in invoices:
            self.by_seq[i.seq].append(i)
        self.by_po = {i.po: i.id for i in invoices if i.po.startswith("PF")}
        self.iban = {c.iban: c for c in customers if c.iban_on_file}
        self.ctoks = {c.id: set(name_tokens(c.name)) for c in customers}
        self.cust = {c.id: c for c in customers}
        self.collected: set[str] = set()

    # who pays
    def by_name(self, printed: str) -> Customer | None:
        toks = name_tokens(printed)
        if not any(t not in GENERIC for t in toks):
            return None
        firsts = {t for t in toks if t in FIRST_NAMES}
        scored = []
        for cid, ct in self.ctoks.items():
            theirs = ct & FIRST_NAMES
            if firsts and theirs and not firsts & theirs:
                continue  # same surname, another person
            matched = [
                t for t in toks if any(u == t or (len(t) >= 4 and u.startswith(t)) for u in ct)
            ]
            if any(t not in GENERIC for t in matched) and len(matched) * 2 >= len(toks):
                scored.append((len(matched), cid))
        scored.sort(reverse=True)
        if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            return self.cust[scored[0][1]]
        return None

    def payer(self, tx: Tx, iban_visible: bool) -> Customer | None:
        if iban_visible and tx.iban in self.iban:
            return self.iban[tx.iban]
        return self.by_name(tx.name) if tx.name else None

    def resolve(self, token: str) -> list[Invoice]:
        n = re.sub(r"[^A-Z0-9]", "", token.upper())
        if n in self.norm:
            return [self.inv[self.norm[n]]]
        m = re.fullmatch(r"([A-Z]*)(\d+)", n)
        if not m:
            return []
        letters, dg = m.groups()
        seqs = {int(dg)}
        if dg.startswith("25") and len(dg) > 2:
            seqs.add(int(dg[2:]))
        parts = re.split(r"[^0-9A-Za-z]+", token)
        if len(parts) == 2 and parts[1] == "25" and parts[0].isdigit():
            seqs.add(int(parts[0]))
        return [i for s in seqs for i in self.by_seq.get(s, []) if letters in ("", i.series)]

    def items_of(self, c: Customer, day: date) -> list[tuple[str, Decimal]]:
        lim = day + timedelta(days=WINDOW_DAYS)
        return [
            (i.id, self.open[i.id])
            for i in sorted(self.inv.values(), key=lambda i: i.due)
            if i.customer is c and self.open[i.id] != 0 and i.issue <= lim
        ]

    @staticmethod
    def subsets(items, amount, sizes, cap=2):
        found = []
        for k in sizes:
            for combo in itertools.combinations(items, k):
                if sum(a for _, a in combo) == amount:
                    found.append([(i, a) for i, a in combo])
                    if len(found) >= cap:
                        return found
        return found

    def by_amount(self, c: Customer | None, day: date, amount: Decimal, why: str):
        if c is None:
            return None, f"{why}; payer not identified"
        items = self.items_of(c, day)
        exact = [(i, a) for i, a in items if a == amount]
        if len(exact) == 1:
            return exact, f"{why}; the one open item of {c.id} of that amount"
        if len(exact) > 1:
            return None, f"{why}; {len(exact)} open items of {c.id} of that amount"
        found = self.subsets(items[:16], amount, range(2, 5))
        if len(found) == 1:
            return found[0], f"{why}; the one group of open items of {c.id} of that sum"
        return None, f"{why}; {len(found)} groups of open items of {c.id} fit"

    def decide_tx(self, tx: Tx, day: date, iban_visible: bool):
        amount = tx.amount
        c = self.payer(tx, iban_visible)
        kinds = {k for k, _ in tx.mentions}
        if "return" in kinds:
            inv = next(v for k, v in tx.mentions if k == "return")
            if inv in self.collected:
                return [(inv, amount)], "return of a collected item"
            return None, "return of an unknown item"
        if "doc" in kinds:
            out = []
            for k, (doc, amt) in tx.mentions:
                if k != "doc":
                    continue
                n = re.sub(r"[^A-Z0-9]", "", doc.upper())
                if n not in self.norm:
                    return None, f"document {doc} unknown"
                iid = self.norm[n]
                o = self.open[iid]
                if (o > 0 and not 0 < amt <= o) or (o < 0 and amt != o) or o == 0:
                    return None, f"document {doc} no longer open for {amt}"
                out.append((iid, amt))
            if sum(a for _, a in out) == amount:
                return out, "structured remittance: documents and amounts"
            return None, "structured remittance does not add up"
        if "proforma" in kinds:
            pf = next(v for k, v in tx.mentions if k == "proforma")
            iid = self.by_po.get(pf)
            if iid and self.open[iid] == amount:
                return [(iid, amount)], "pro forma number on the invoice's order field"
            return None, "pro forma not found"
        if "releve" in kinds or "site" in kinds:
            if "site" in kinds:
                site = next(v for k, v in tx.mentions if k == "site")
                lim = day + timedelta(days=WINDOW_DAYS)
                items = [
                    (i.id, self.open[i.id])
                    for i in self.inv.values()
                    if site in i.po and self.open[i.id] != 0 and i.issue <= lim
                ]
                why = f"site {site}"
            else:
                if c is None:
                    return None, "statement of account from an unidentified payer"
                _, _, y, m = (None, *next(v for k, v in tx.mentions if k == "releve"))
                items = [
                    (i.id, self.open[i.id])
                    for i in self.inv.values()
                    if i.customer is c
                    and (i.issue.year, i.issue.month) == (y, m)
                    and self.open[i.id] != 0
                ]
                why = f"statement {m:02d}/{y} of {c.id}"
            if sum(a for _, a in items) == amount:
                return items, f"{why}: all its open items"
            if len(items) > 16:
                return None, f"{why}: too many items"
            found = self.subsets(items, amount, range(1, len(items)))
            if len(found) == 1:
                return found[0], f"{why}: the one subset of that sum"
            return None, f"{why}: {len(found)} subsets fit"
        refs: list[str] = []
        unresolved = 0
        for k, v in tx.mentions:
            if k in {"e2e"}:
                refs.append(v)
            elif k == "rf":
                norm = re.sub(r"\s", "", v.upper())
                if rf_ok(norm) and norm in self.rf:
                    refs.append(self.rf[norm])
                else:
                    unresolved += 1
            elif k == "inv":
                cands = self.resolve(v)
                if c is not None and len(cands) > 1:
                    cands = [i for i in cands if i.customer is c] or cands
                if len(cands) > 1:
                    open_c = [i for i in cands if self.open[i.id] != 0]
                    cands = open_c if open_c else cands
                if len(cands) > 1:
                    fit = [i for i in cands if self.open[i.id] == amount]
                    cands = fit if len(fit) == 1 else cands
                if len(cands) == 1:
                    refs.append(cands[0].id)
                else:
                    unresolved += 1
        refs = list(dict.fromkeys(refs))
        if unresolved or not refs:
            why = "references not resolved" if unresolved else "no reference"
            return self.by_amount(c, day, amount, why)
        opens = [self.open[r] for r in refs]
        if any(o == 0 for o in opens):
            return None, "a named document is already settled"
        total = sum(opens)
        partial = {v for k, v in tx.mentions if k == "partial"}
        if amount == total:
            return list(zip(refs, opens, strict=True)), "named documents, amounts agree"
        if "RG" in partial:
            exp = []
            for r in refs:
                i = self.inv[r]
                exp.append(
                    (r, i.amount - q(i.amount * Decimal("0.05")) if i.amount > 0 else i.amount)
                )
            if sum(a for _, a in exp) == amount and all(
                self.open[r] == self.inv[r].amount for r in refs
            ):
                return exp, "named invoices less the 5 % retention"
            return None, "retention does not add up"
        if len(refs) == 1:
            o = opens[0]
            if partial and 0 < amount < o:
                return [(refs[0], amount)], "instalment on the named invoice"
            payer_ctry = tx.iban[:2] if tx.iban else ""
            if (
                payer_ctry in {"GB", "CH", "AD"}
                and 0 < o - amount <= 25
                and o - amount <= o * Decimal("0.03")
            ):
                return [(refs[0], amount)], "named invoice less foreign bank charges"
            if 0 < amount - o <= 5 and amount - o <= o * Decimal("0.01"):
                return [(refs[0], o)], "named invoice, small overpayment left unallocated"
        return None, f"named documents total {total}, paid {amount}"

    def decide(self, line: Line) -> tuple[str, str]:
        if line.noncustomer:
            return "person", "not a customer payment"
        visible = ACCOUNTS[line.account][0] != "cfonb"
        if line.batch and not line.details:
            for t in line.txs:
                if t.e2e:
                    self.collected.add(t.alloc[0][0] if t.alloc else t.e2e)
            return "person", "batch booked as one sum without its transactions"
        out: list[tuple[str, Decimal]] = []
        whys = []
        doubt = False
        for t in line.txs:
            if t.e2e and t.amount > 0:
                self.collected.add(t.e2e)
            if t.e2e and t.amount > 0 and t.e2e in self.open:
                o = self.open[t.e2e]
                if o == t.amount:
                    out.append((t.e2e, o))
                    continue
                cust = self.inv[t.e2e].customer
                cns = [
                    i.id
                    for i in self.inv.values()
                    if i.customer is cust
                    and i.doc_type == "credit_note"
                    and self.open[i.id] + o == t.amount
                ]
                if o > 0 and len(cns) == 1:
                    out += [(t.e2e, o), (cns[0], self.open[cns[0]])]
                    continue
                doubt = True
                whys.append(f"collection {t.e2e} no longer open")
                continue
            alloc, why = self.decide_tx(t, line.booking, visible)
            whys.append(why)
            if alloc is None:
                doubt = True
            else:
                out += alloc
        if doubt:
            return "person", "; ".join(whys)[:200]
        got = defaultdict(Decimal)
        for i, a in out:
            got[i] += a
        truth = dict(line.alloc)
        if {k: v for k, v in got.items() if v} != truth:
            return "person", "a controller's reading differs from the truth: " + "; ".join(whys)
        return "auto", "; ".join(whys)[:200]

    def apply(self, line: Line):
        for i, a in line.alloc:
            self.open[i] -= a


# ---------------------------------------------------------------- bank files

OWN = {
    "FR_MAIN": fr_iban(random.Random(7), "19106", "00031")[0],
    "FR_COLL": fr_iban(random.Random(8), "19106", "00031")[0],
    "ES_BCN": es_iban(random.Random(9)),
    "GBP": iban("NL", "LCBK0" + "712345601"),
    "CHF": iban("NL", "LCBK0" + "712345602"),
}
OPENING = {
    "FR_MAIN": Decimal("185000.00"),
    "FR_COLL": Decimal("42000.00"),
    "ES_BCN": Decimal("64000.00"),
    "GBP": Decimal("12000.00"),
    "CHF": Decimal("9000.00"),
}
REF_PREFIX = {"FR_MAIN": "BOC", "FR_COLL": "BOCC", "ES_BCN": "BME", "GBP": "LCBG", "CHF": "LCBC"}
OUR_NAME = "GARONNE MATERIAUX NEGOCE SAS"


def months_between():
    y, m = START.year, START.month
    while date(y, m, 1) <= END:
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def overpunch(amount: Decimal) -> str:
    cents = int((abs(amount) * 100).to_integral_value())
    s = f"{cents:014d}"
    pos, neg = "{ABCDEFGHI", "}JKLMNOPQR"
    return s[:-1] + (neg if amount < 0 else pos)[int(s[-1])]


def cfonb_text(s: str, n: int) -> str:
    s = re.sub(r"[^A-Z0-9 ./,:'+()-]", " ", strip_accents(s).upper())
    return s[:n].ljust(n)


CFONB_CODES = {
    "RCDT": "05",
    "RCHQ": "15",
    "CCRD": "46",
    "ICDT": "06",
    "IDDT": "B1",
    "MDOP": "13",
    "DRFT": "16",
    "RDDT": "A1",
}


def write_cfonb(path: Path, acct: str, lines: list[Line], opening: Decimal, y: int, m: int):
    bank, branch, num = OWN[acct][4:9], OWN[acct][9:14], OWN[acct][14:25]
    head = f"{bank}{{}}{branch}EUR2 {num}"
    d0 = date(y, m, 1) - timedelta(days=1)
    recs = [
        "01"
        + head.format("    ")
        + "  "
        + f"{d0:%d%m%y}"
        + " " * 50
        + overpunch(opening)
        + " " * 16
    ]
    bal = opening
    for n, ln in enumerate(lines, 1):
        code = CFONB_CODES.get(ln.family[1], "05")
        t0 = ln.txs[0]
        if ln.batch:
            label = ln.label
        elif ln.amount > 0 and not ln.noncustomer:
            label = f"VIR SEPA RECU {t0.name}"
        else:
            label = t0.ustrd[0] if t0.ustrd else ln.kind
        d = f"{ln.booking:%d%m%y}"
        hd = "04" + head.format("0158") + code + d + "  " + f"{(ln.value or ln.booking):%d%m%y}"
        recs.append(
            hd
            + cfonb_text(label, 31)
            + "  "
            + f"{n:07d}"
            + "  "
            + overpunch(ln.amount)
            + ln.ref.ljust(16)
        )
        c5 = "05" + head.format("0158") + code + d + "     "
        extra: list[tuple[str, str]] = []
        if ln.batch and ln.details:
            for t in ln.txs:
                extra.append(("LIB", f"CHQ {t.cheque_no} {t.name} {fr_amount(t.amount)}"))
        elif not ln.batch and ln.amount > 0 and not ln.noncustomer:
            extra.append(("NPY", t0.name))
            text = " ".join(t0.ustrd)
            for chunk in split_text(text, 70)[:2]:
                if chunk.strip():
                    extra.append(("LIB", chunk))
        elif not ln.noncustomer and not ln.batch:
            extra.append(("LIB", " ".join(t0.ustrd)))
        for qual, info in extra:
            recs.append(c5 + qual + cfonb_text(info, 70) + "  ")
        bal += ln.amount
    last = date(y, m, 1) if not lines else max(x.booking for x in lines)
    last = end_of_month(date(y, m, 1)) if not lines else last
    recs.append(
        "07" + head.format("    ") + "  " + f"{last:%d%m%y}" + " " * 50 + overpunch(bal) + " " * 16
    )
    path.write_text("\n".join(recs) + "\n", encoding="latin-1")
    return bal


def E(parent, tag, text=None, **attrib):
    el = etree.SubElement(parent, tag, **attrib)
    if text is not None:
        el.text = str(text)
    return el


def camt_tx(parent, t: Tx, ln: Line, v8: bool, ccy: str, k: int | None):
    td = E(parent, "TxDtls")
    items = []
    if k is not None:
        items.append(("AcctSvcrRef", f"{ln.ref}-{k}"))
    if t.e2e or not ln.noncustomer:
        items.append(("EndToEndId", t.e2e or "NOTPROVIDED"))
    if t.mandate:
        items.append(("MndtId", t.mandate))
    if t.cheque_no:
        items.append(("ChqNb", t.cheque_no))
    if items:
        refs = E(td, "Refs")
        for tag, val in items:
            E(refs, tag, val)
    amt = abs(t.amount)
    if v8:
        E(td, "Amt", f"{amt:.2f}", Ccy=ccy)
        E(td, "CdtDbtInd", "CRDT" if t.amount > 0 else "DBIT")
    else:
        ad = E(E(td, "AmtDtls"), "TxAmt")
        E(ad, "Amt", f"{amt:.2f}", Ccy=ccy)
    credit = (t.amount > 0) != ln.reversal
    if t.name or t.iban:
        rp = E(td, "RltdPties")
        if credit:
            party = E(rp, "Dbtr")
            if v8:
                party = E(party, "Pty")
            E(party, "Nm", t.name[:140] or "NOTPROVIDED")
            if t.iban:
                E(E(E(rp, "DbtrAcct"), "Id"), "IBAN", t.iban)
            cd = E(rp, "Cdtr")
            E(E(cd, "Pty") if v8 else cd, "Nm", OUR_NAME)
        else:
            dbt = E(rp, "Dbtr")
            E(E(dbt, "Pty") if v8 else dbt, "Nm", OUR_NAME)
            cd = E(rp, "Cdtr")
            E(E(cd, "Pty") if v8 else cd, "Nm", t.name[:140])
            if t.iban:
                E(E(E(rp, "CdtrAcct"), "Id"), "IBAN", t.iban)
    if t.ustrd or t.cdtr_ref or t.docs:
        ri = E(td, "RmtInf")
        for u in t.ustrd:
            for chunk in split_text(u, 140):
                E(ri, "Ustrd", chunk)
        for grp in t.docs:
            st = E(ri, "Strd")
            for tp, nb, _amt, dt in grp:
                rdi = E(st, "RfrdDocInf")
                E(E(E(rdi, "Tp"), "CdOrPrtry"), "Cd", tp)
                E(rdi, "Nb", nb)
                E(rdi, "RltdDt", dt.isoformat())
            rda = E(st, "RfrdDocAmt")
            tp, _nb, a, _dt = grp[0]
            if tp == "CREN":
                E(rda, "CdtNoteAmt", f"{a:.2f}", Ccy=ccy)
            else:
                E(rda, "DuePyblAmt", f"{a:.2f}", Ccy=ccy)
            E(rda, "RmtdAmt", f"{a:.2f}", Ccy=ccy)
        if t.cdtr_ref:
            st = E(ri, "Strd")
            cri = E(st, "CdtrRefInf")
            E(E(E(cri, "Tp"), "CdOrPrtry"), "Cd", "SCOR")
            E(cri, "Ref", t.cdtr_ref)
    if t.return_reason:
        rt = E(td, "RtrInf")
        E(E(rt, "Rsn"), "Cd", t.return_reason)
        E(rt, "AddtlInf", f"ORIGINAL E2E {t.e2e}")


def write_camt(path: Path, acct: str, lines: list[Line], opening: Decimal, y: int, m: int):
    fmt, ccy, _bank_name, bic = ACCOUNTS[acct]
    v8 = fmt == "camt08"
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{'08' if v8 else '02'}"
    root = etree.Element("Document", nsmap={None: ns})
    root.tag = f"{{{ns}}}Document"
    etree.cleanup_namespaces(root)

    def sub(parent, tag, text=None, **a):
        return E(parent, f"{{{ns}}}{tag}", text, **a)

    st = sub(root, "BkToCstmrStmt")
    first, last = date(y, m, 1), end_of_month(date(y, m, 1))
    gh = sub(st, "GrpHdr")
    sub(gh, "MsgId", f"{REF_PREFIX[acct]}{y}{m:02d}")
    sub(gh, "CreDtTm", f"{bday(last + timedelta(days=1))}T06:15:00+01:00")
    s = sub(st, "Stmt")
    sub(s, "Id", f"{REF_PREFIX[acct]}-{y}-{m:02d}")
    sub(s, "ElctrncSeqNb", str((y - 2025) * 12 + m))
    sub(s, "CreDtTm", f"{bday(last + timedelta(days=1))}T06:15:00+01:00")
    ft = sub(s, "FrToDt")
    sub(ft, "FrDtTm", f"{first}T00:00:00+01:00")
    sub(ft, "ToDtTm", f"{last}T23:59:59+01:00")
    ac = sub(s, "Acct")
    sub(sub(ac, "Id"), "IBAN", OWN[acct])
    sub(ac, "Ccy", ccy)
    sub(
        sub(ac, "Ownr"),
        "Nm",
        OUR_NAME if acct != "ES_BCN" else "GARONA MATERIALES SUCURSAL EN ESPANA",
    )
    fi = sub(sub(ac, "Svcr"), "FinInstnId")
    sub(fi, "BICFI" if v8 else "BIC", bic)
    closing = opening + sum((ln.amount for ln in lines), Decimal(0))
    for code, amt, d in (("OPBD", opening, first - timedelta(days=1)), ("CLBD", closing, last)):
        b = sub(s, "Bal")
        sub(sub(sub(b, "Tp"), "CdOrPrtry"), "Cd", code)
        sub(b, "Amt", f"{abs(amt):.2f}", Ccy=ccy)
        sub(b, "CdtDbtInd", "CRDT" if amt >= 0 else "DBIT")
        sub(sub(b, "Dt"), "Dt", d.isoformat())
    ts = sub(s, "TxsSummry")
    tn = sub(ts, "TtlNtries")
    sub(tn, "NbOfNtries", str(len(lines)))
    for ln in lines:
        ne = sub(s, "Ntry")
        sub(ne, "Amt", f"{abs(ln.amount):.2f}", Ccy=ccy)
        sub(ne, "CdtDbtInd", "CRDT" if ln.amount > 0 else "DBIT")
        if ln.reversal:
            sub(ne, "RvslInd", "true")
        if v8:
            sub(sub(ne, "Sts"), "Cd", "BOOK")
        else:
            sub(ne, "Sts", "BOOK")
        sub(sub(ne, "BookgDt"), "Dt", ln.booking.isoformat())
        sub(sub(ne, "ValDt"), "Dt", (ln.value or ln.booking).isoformat())
        sub(ne, "AcctSvcrRef", ln.ref)
        btc = sub(sub(ne, "BkTxCd"), "Domn")
        sub(btc, "Cd", ln.family[0])
        fm = sub(btc, "Fmly")
        sub(fm, "Cd", ln.family[1])
        sub(fm, "SubFmlyCd", ln.family[2])
        nd = sub(ne, "NtryDtls")
        if ln.batch:
            bt = sub(nd, "Btch")
            sub(bt, "PmtInfId", ln.label.replace(" ", "-"))
            sub(bt, "NbOfTxs", str(len(ln.txs)))
            sub(bt, "TtlAmt", f"{abs(ln.amount):.2f}", Ccy=ccy)
            sub(bt, "CdtDbtInd", "CRDT" if ln.amount > 0 else "DBIT")
            if ln.details:
                for k, t in enumerate(ln.txs, 1):
                    camt_tx_ns(nd, t, ln, v8, ccy, k, ns)
        else:
            camt_tx_ns(nd, ln.txs[0], ln, v8, ccy, None, ns)
        if ln.batch:
            sub(ne, "AddtlNtryInf", f"{ln.label} {len(ln.txs)} OPERATIONS")
        elif ln.noncustomer:
            sub(ne, "AddtlNtryInf", ln.txs[0].ustrd[0] if ln.txs[0].ustrd else ln.kind)
    etree.ElementTree(root).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return closing


def camt_tx_ns(parent, t, ln, v8, ccy, k, ns):
    """camt_tx in the document's namespace: build plain, then move into ns."""
    holder = etree.Element("holder")
    camt_tx(holder, t, ln, v8, ccy, k)
    for el in holder.iter():
        if isinstance(el.tag, str) and not el.tag.startswith("{"):
            el.tag = f"{{{ns}}}{el.tag}"
    parent.append(holder[0])


def mt940_86(ln: Line) -> str:
    t = ln.txs[0]
    text = " ".join(t.ustrd)
    if ln.noncustomer:
        return f"/REMI/USTD//{text}/"
    bic = {"GB": f"{t.iban[4:8]}GB2L", "CH": "POFICHBEXXX"}.get(t.iban[:2], "")
    return f"/EREF/{t.e2e or 'NOTPROVIDED'}//CNTP/{t.iban}/{bic}/{t.name}///REMI/USTD//{text}/"


def wrap65(s: str) -> list[str]:
    s = re.sub(r"[^A-Za-z0-9/?:().,'+ -]", " ", strip_accents(s))[: 65 * 6]
    return [s[i : i + 65] for i in range(0, len(s), 65)]


def write_mt940(
    path: Path, y: int, m: int, per_acct: dict[str, list[Line]], opening: dict[str, Decimal]
) -> dict[str, Decimal]:
    out = ["{1:F01LCBKNL2AAXXX0000000000}{2:I940LCBKNL2AXXXN}{4:"]
    closing = {}
    first = date(y, m, 1)
    for acct in ("GBP", "CHF"):
        lines = per_acct.get(acct, [])
        ccy = ACCOUNTS[acct][1]
        bal = opening[acct]
        d0 = first - timedelta(days=1)

        def amt(a: Decimal) -> str:
            return f"{abs(a):.2f}".replace(".", ",")

        out += [
            f":20:LCB{y % 100:02d}{m:02d}{acct}",
            f":25:{OWN[acct]}",
            f":28C:{(y - 2025) * 12 + m:05d}/001",
            f":60F:{'C' if bal >= 0 else 'D'}{d0:%y%m%d}{ccy}{amt(bal)}",
        ]
        for ln in lines:
            tcode = "NCHG" if ln.kind == "bank_fee" else ("NMSC" if ln.noncustomer else "NTRF")
            cref = (ln.txs[0].e2e or "NONREF")[:16]
            out.append(
                f":61:{ln.booking:%y%m%d}{ln.booking:%m%d}{'C' if ln.amount > 0 else 'D'}"
                f"{amt(ln.amount)}{tcode}{cref}//{ln.ref}"
            )
            out += [
                (":86:" if i == 0 else "") + part for i, part in enumerate(wrap65(mt940_86(ln)))
            ]
            bal += ln.amount
        last = end_of_month(first)
        out += [f":62F:{'C' if bal >= 0 else 'D'}{last:%y%m%d}{ccy}{amt(bal)}"]
        closing[acct] = bal
        out.append(
            "-}" if acct == "CHF" else "-}\n{1:F01LCBKNL2AAXXX0000000000}{2:I940LCBKNL2AXXXN}{4:"
        )
    path.write_text("\r\n".join(out) + "\r\n", encoding="ascii")
    return closing


# ---------------------------------------------------------------- checks


def check_outputs(out: Path, lines: list[Line], customers, invoices) -> list[str]:
    errors: list[str] = []
    schemas = {}
    for v in ("02", "08"):
        xsd = XSD_DIR / f"camt.053.001.{v}.xsd"
        if xsd.exists():
            schemas[v] = etree.XMLSchema(etree.parse(str(xsd)))
        else:
            errors.append(f"missing schema {xsd}")
    for f in sorted((out / "statements").rglob("*.xml")):
        doc = etree.parse(str(f))
        v = "08" if "001.08" in doc.getroot().tag else "02"
        if v in schemas and not schemas[v].validate(doc):
            errors.append(f"{f.name}: {schemas[v].error_log.last_error}")
        ns = {"c": doc.getroot().tag[1:].split("}")[0]}
        bals = {}
        for b in doc.iterfind(".//c:Bal", ns):
            sign = 1 if b.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
            bals[b.findtext(".//c:Cd", namespaces=ns)] = sign * Decimal(
                b.findtext("c:Amt", namespaces=ns)
            )
        mv = Decimal(0)
        for n in doc.iterfind(".//c:Ntry", ns):
            sign = 1 if n.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
            amt = Decimal(n.findtext("c:Amt", namespaces=ns))
            mv += sign * amt
            btch = n.find(".//c:Btch", ns)
            txs = n.findall(".//c:TxDtls", ns)
            if btch is not None and txs and v == "08":
                s = sum(Decimal(t.findtext("c:Amt", namespaces=ns)) for t in txs)
                if s != amt:
                    errors.append(
                        f"{f.name}: batch {n.findtext('c:AcctSvcrRef', namespaces=ns)}"
                        f" details {s} != {amt}"
                    )
        if bals.get("OPBD", 0) + mv != bals.get("CLBD"):
            errors.append(f"{f.name}: unbalanced")
    for f in sorted((out / "statements").rglob("*.cfo")):
        recs = f.read_text(encoding="latin-1").splitlines()
        total = Decimal(0)
        opening = closing = None
        for r in recs:
            if len(r) != 120:
                errors.append(f"{f.name}: record of {len(r)} columns")
            code = r[:2]
            if code not in {"01", "04", "07"}:
                continue
            raw = r[90:104]
            pos, neg = "{ABCDEFGHI", "}JKLMNOPQR"
            last = raw[-1]
            sign = -1 if last in neg else 1
            val = Decimal(int(raw[:-1] + str((neg if sign < 0 else pos).index(last)))) / 100
            if code == "01":
                opening = sign * val
            elif code == "04":
                total += sign * val
            elif code == "07":
                closing = sign * val
        if opening is None or closing is None or opening + total != closing:
            errors.append(f"{f.name}: CFONB balances do not add up")
    for f in sorted((out / "statements").rglob("*.sta")):
        text = f.read_text(encoding="ascii")
        for block in text.split("-}"):
            if ":60F:" not in block:
                continue
            o = re.search(r":60F:([CD])\d{6}[A-Z]{3}([\d,]+)", block)
            c = re.search(r":62F:([CD])\d{6}[A-Z]{3}([\d,]+)", block)

            def val(mm):
                return (1 if mm.group(1) == "C" else -1) * Decimal(mm.group(2).replace(",", "."))

            mv = sum(
                (1 if g1 == "C" else -1) * Decimal(g2.replace(",", "."))
                for g1, g2 in re.findall(r":61:\d{10}([CD])([\d,]+)N", block)
            )
            if val(o) + mv != val(c):
                errors.append(f"{f.name}: MT940 statement unbalanced")
    for c in customers:
        if not iban_ok(c.iban):
            errors.append(f"bad IBAN {c.iban}")
    for c in customers:
        if c.siren:
            digits = [int(x) for x in c.siren]
            tot = sum(
                (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
                for i, d in enumerate(reversed(digits))
            )
            if tot % 10 or c.vat != fr_vat(c.siren):
                errors.append(f"bad SIREN/VAT {c.siren} {c.vat}")
    for acct_iban in OWN.values():
        if not iban_ok(acct_iban):
            errors.append(f"bad own IBAN {acct_iban}")
    for i in invoices:
        if i.reference and not rf_ok(i.reference):
            errors.append(f"bad RF {i.reference}")
    refs = [ln.ref for ln in lines]
    if len(refs) != len(set(refs)):
        errors.append("bank references not unique")
    for ln in lines:
        if ln.expected == "auto" and sum(a for _, a in ln.alloc) > ln.amount and ln.amount > 0:
            errors.append(f"{ln.ref}: allocation exceeds the amount")
    return errors


# ---------------------------------------------------------------- main


def size_sweeps(lines: list[Line]) -> list[Line]:
    """Treasury sweeps what the month left on the collection and currency accounts."""
    keep_at = {"FR_COLL": Decimal(40000), "GBP": Decimal(5000), "CHF": Decimal(5000)}
    step = {"FR_COLL": Decimal(10000), "GBP": Decimal(1000), "CHF": Decimal(1000)}
    drop: set[int] = set()
    for acct, floor_ in keep_at.items():
        bal = OPENING[acct]
        for y, m in months_between():
            month = [
                ln
                for ln in lines
                if ln.account == acct and (ln.booking.year, ln.booking.month) == (y, m)
            ]
            sweeps = [ln for ln in month if ln.kind == "internal_transfer"]
            bal += sum((ln.amount for ln in month if ln.kind != "internal_transfer"), Decimal(0))
            for sw in sweeps:
                amt = max(
                    Decimal(0),
                    ((bal - floor_) / step[acct]).to_integral_value(rounding="ROUND_FLOOR")
                    * step[acct],
                )
                sw.amount = sw.txs[0].amount = -q(amt)
                bal -= amt
                twins = (
                    [
                        x
                        for x in lines
                        if x.account == "FR_MAIN" and x.kind == sw.kind and x.booking == sw.booking
                    ]
                    if acct == "FR_COLL"
                    else []
                )
                for tw in twins:
                    tw.amount = tw.txs[0].amount = q(amt)
                if amt == 0:
                    drop.update(id(x) for x in [sw, *twins])
    return [ln for ln in lines if id(ln) not in drop]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--invoices", type=int, default=1500)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out: Path = args.out
    (out / "statements").mkdir(parents=True, exist_ok=True)
    customers = make_customers(rng, args.invoices)
    invoices = make_invoices(rng, customers, args.invoices)
    lines = size_sweeps(Planner(rng, customers, invoices).run() + noncustomer_lines(rng))
    order = list(ACCOUNTS)
    lines.sort(key=lambda ln: (ln.booking, order.index(ln.account), -ln.amount, ln.kind))
    counters: Counter = Counter()
    for ln in lines:
        counters[ln.account] += 1
        pre = REF_PREFIX[ln.account]
        ln.ref = f"{pre}{ln.booking:%y%m%d}{counters[ln.account]:0{10 - len(pre)}d}"
        if ln.value is None:
            ln.value = ln.booking
    ctl = Controller(customers, invoices)
    for ln in lines:
        ln.expected, ln.why = ctl.decide(ln)
        ctl.apply(ln)
    # statements
    files: dict[int, str] = {}
    bal = dict(OPENING)
    for y, m in months_between():
        per: dict[str, list[Line]] = defaultdict(list)
        for ln in lines:
            if (ln.booking.year, ln.booking.month) == (y, m):
                per[ln.account].append(ln)
        for acct, (fmt, _ccy, _bank, _bic) in ACCOUNTS.items():
            if fmt == "cfonb":
                name = f"statements/BOC_{OWN[acct][-13:-2]}_{y}{m:02d}.cfo"
                bal[acct] = write_cfonb(out / name, acct, per[acct], bal[acct], y, m)
            elif fmt.startswith("camt"):
                name = f"statements/{REF_PREFIX[acct]}_camt053_{y}{m:02d}.xml"
                bal[acct] = write_camt(out / name, acct, per[acct], bal[acct], y, m)
            else:
                continue
            for ln in per[acct]:
                files[id(ln)] = name
        name = f"statements/LCB_mt940_{y}{m:02d}.sta"
        bal.update(write_mt940(out / name, y, m, per, bal))
        for acct in ("GBP", "CHF"):
            for ln in per[acct]:
                files[id(ln)] = name
    # ERP export
    entity = {"TLS": "GMN-FR Toulouse", "BCN": "GMN-ES Barcelona"}
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
        for c in customers:
            w.writerow(
                [
                    c.id,
                    c.name,
                    c.email,
                    c.iban if c.iban_on_file else "",
                    c.siren,
                    c.vat,
                    c.language,
                    entity[c.branch],
                    "",
                    c.postal,
                    c.city,
                    c.country,
                ]
            )
    status_paid: dict[str, Decimal] = defaultdict(Decimal)
    for ln in lines:
        for i, a in ln.alloc:
            status_paid[i] += a
    with (out / "invoices.csv").open("w", newline="", encoding="utf-8-sig") as fh:
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
                "po_number",
                "customer_email",
                "customer_iban",
                "customer_siren",
                "customer_vat",
                "language",
                "legal_entity",
                "customer_postal_code",
                "customer_city",
                "customer_country",
            ]
        )
        for i in invoices:
            c = i.customer
            w.writerow(
                [
                    i.id,
                    c.id,
                    c.name,
                    f"{i.issue:%d/%m/%Y}",
                    f"{i.due:%d/%m/%Y}",
                    c.currency,
                    f"{i.amount:.2f}".replace(".", ","),
                    "credit_note" if i.doc_type == "credit_note" else "invoice",
                    i.reference if i.doc_type == "invoice" else "",
                    i.po,
                    c.email,
                    c.iban if c.iban_on_file else "",
                    c.siren,
                    c.vat,
                    c.language,
                    entity[c.branch],
                    c.postal,
                    c.city,
                    c.country,
                ]
            )
    # answer
    summary: dict[str, Counter] = defaultdict(Counter)
    with (out / "ground_truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
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
        for ln in lines:
            alloc = [{"invoice_id": i, "amount": f"{a:.2f}"} for i, a in ln.alloc]
            note = "; ".join(x for x in (ln.note, ln.why) if x)
            w.writerow(
                [
                    OWN[ln.account],
                    ACCOUNTS[ln.account][1],
                    files[id(ln)],
                    ln.booking.isoformat(),
                    f"{ln.amount:.2f}",
                    ln.ref,
                    ln.kind,
                    ln.expected,
                    json.dumps(alloc),
                    note,
                ]
            )
            summary[ln.kind][ln.expected] += 1
    totals = Counter(ln.expected for ln in lines)
    (out / "expected_summary.json").write_text(
        json.dumps(
            {
                "seed": args.seed,
                "invoices": len(invoices),
                "customers": len(customers),
                "bank_lines": len(lines),
                "expected": dict(sorted(totals.items())),
                "by_case_kind": {k: dict(sorted(v.items())) for k, v in sorted(summary.items())},
            },
            indent=2,
        )
        + "\n"
    )
    errors = check_outputs(out, lines, customers, invoices)
    for e in errors[:30]:
        print("CHECK FAILED:", e, file=sys.stderr)
    print(
        f"{len(customers)} customers, {len(invoices)} invoices, {len(lines)} bank lines "
        f"({totals['auto']} auto, {totals['person']} person) in {out}"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
