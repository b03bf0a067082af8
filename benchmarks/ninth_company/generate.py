"""Evaluation company "Flandres Boissons Distribution" (ninth): a drinks wholesaler in Lille.

Writes customers.csv, invoices.csv, statements/ (camt.053.001.08, MT940, camt.053.001.02) and
ground_truth.csv for one seed, then checks its own output (exit 1 on any failed check).

    .venv/bin/python benchmarks/ninth_company/generate.py OUT_DIR --seed 71 --invoices 1500
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
from datetime import date, timedelta
from pathlib import Path

from lxml import etree

XSD_DIR = Path("/work/shared/xsd")
START = date(2025, 1, 1)
END = date(2026, 1, 31)
DOC_START = date(2024, 12, 2)
MONTHS = [(2025, m) for m in range(1, 13)] + [(2026, 1)]

# ----------------------------------------------------------------------------------------------
# check digits
# ----------------------------------------------------------------------------------------------


def _num(s: str) -> str:
    return "".join(str(int(ch, 36)) for ch in s)


def iban_make(country: str, bban: str) -> str:
    chk = 98 - int(_num(bban + country + "00")) % 97
    return f"{country}{chk:02d}{bban}"


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    return len(s) > 4 and int(_num(s[4:] + s[:4])) % 97 == 1


def fr_iban(rng: random.Random, bank: str | None = None) -> str:
    bank = bank or f"{rng.randint(10000, 30000)}"
    branch = f"{rng.randint(0, 99999):05d}"
    acct = f"{rng.randint(0, 10**11 - 1):011d}"
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(acct)) % 97
    return iban_make("FR", f"{bank}{branch}{acct}{key:02d}")


def be_iban(rng: random.Random, bank: str | None = None) -> str:
    bank = bank or f"{rng.randint(1, 999):03d}"
    acct = f"{rng.randint(0, 9999999):07d}"
    chk = int(bank + acct) % 97 or 97
    return iban_make("BE", f"{bank}{acct}{chk:02d}")


def nl_iban(rng: random.Random) -> str:
    bank = rng.choice(["ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB"])
    while True:
        acct = f"{rng.randint(10**8, 10**10 - 1):010d}"
        if sum(int(d) * (10 - i) for i, d in enumerate(acct)) % 11 == 0:
            return iban_make("NL", bank + acct)


def luhn_ok(s: str) -> bool:
    tot = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch)
        if i % 2:
            d *= 2
            d -= 9 if d > 9 else 0
        tot += d
    return tot % 10 == 0


def siren_make(rng: random.Random) -> str:
    base = f"{rng.randint(30000000, 99999999):08d}"
    for last in range(10):
        if luhn_ok(base + str(last)):
            return base + str(last)
    raise AssertionError


def fr_vat(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def rf_make(body: str) -> str:
    chk = 98 - int(_num(body + "RF00")) % 97
    return f"RF{chk:02d}{body}"


def rf_ok(ref: str) -> bool:
    s = ref.replace(" ", "").upper()
    return s.startswith("RF") and len(s) >= 5 and int(_num(s[4:] + s[:4])) % 97 == 1


def ogm_make(base10: str) -> str:
    d = base10 + f"{int(base10) % 97 or 97:02d}"
    return f"+++{d[:3]}/{d[3:7]}/{d[7:]}+++"


def ogm_ok(digits12: str) -> bool:
    return len(digits12) == 12 and (int(digits12[:10]) % 97 or 97) == int(digits12[10:])


_KW = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1]


def kenmerk_check(base15: str) -> int:
    s = sum(int(d) * _KW[i % 10] for i, d in enumerate(reversed(base15)))
    c = 11 - s % 11
    return {10: 1, 11: 0}.get(c, c)


def kenmerk_make(base15: str) -> str:
    return f"{kenmerk_check(base15)}{base15}"


def kenmerk_ok(k: str) -> bool:
    return len(k) == 16 and k.isdigit() and kenmerk_check(k[1:]) == int(k[0])


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def money(c: int) -> str:
    s = "-" if c < 0 else ""
    c = abs(c)
    return f"{s}{c // 100}.{c % 100:02d}"


def money_fr(c: int) -> str:
    return money(c).replace(".", ",")


def strip_acc(s: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", s) if unicodedata.category(ch) != "Mn")


TARGET_HOLIDAYS = {
    date(2025, 1, 1),
    date(2025, 4, 18),
    date(2025, 4, 21),
    date(2025, 5, 1),
    date(2025, 12, 25),
    date(2025, 12, 26),
    date(2026, 1, 1),
}


def bday(d: date) -> date:
    """Next TARGET2 business day (banks book nothing on weekends and TARGET holidays)."""
    while d.weekday() >= 5 or d in TARGET_HOLIDAYS:
        d += timedelta(days=1)
    return d


def add_bdays(d: date, n: int) -> date:
    d = bday(d)
    for _ in range(n):
        d = bday(d + timedelta(days=1))
    return d


MONTH_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
MONTH_FR = MONTH_FR.split()
MONTH_NL = "januari februari maart april mei juni juli augustus september oktober november december"
MONTH_NL = MONTH_NL.split()

LEGAL = {
    "sarl",
    "sas",
    "sasu",
    "eurl",
    "snc",
    "sa",
    "srl",
    "sprl",
    "bv",
    "nv",
    "bvba",
    "vof",
    "scrl",
    "asbl",
    "vzw",
}


def norm_name(s: str) -> str:
    s = strip_acc(s).lower().replace(".", "")
    toks = [t for t in re.split(r"[^a-z0-9]+", s) if t and t not in LEGAL]
    return " ".join(sorted(toks))


# ----------------------------------------------------------------------------------------------
# world objects
# ----------------------------------------------------------------------------------------------


@dataclass
class Cust:
    id: str
    name: str
    entity: str
    segment: str
    country: str
    lang: str
    iban: str
    iban_known: bool
    email: str
    iban_file: str = ""
    siren: str = ""
    vat: str = ""
    habit: str = ""
    account: str = "BFA"
    manager: str = ""
    manager_iban: str = ""
    chain: str = ""
    factored: bool = False


@dataclass
class Doc:
    id: str
    cid: str
    entity: str
    dtype: str
    issue: date
    due: date
    amount: int
    prefix: str = ""
    year: int = 0
    seq: int = 0
    ref: str = ""
    po: str = ""
    ogm: str = ""
    kenmerk: str = ""


@dataclass
class Tx:
    amount: int
    kind: str
    note: str
    truth: list = field(default_factory=list)
    category: str = "pay"  # pay, return, debit, internal, interest, fee, credit_other
    payer_name: str = ""
    payer_iban: str = ""
    ustrd: str = ""
    strd: list = field(default_factory=list)  # dicts: nb, tp (CINV/CREN/DEBN), due, paid
    cdtr_ref: str = ""
    cdtr_issr: str = ""
    e2e: str = ""
    mndt: str = ""
    chq: str = ""
    rtr: str = ""
    orig_e2e: str = ""
    label: str = ""
    btc: tuple = ("PMNT", "RCDT", "ESCT")
    escompte: bool = False
    # filled later
    ref: str = ""
    expected: str = ""
    ctrl_alloc: list | None = None


@dataclass
class Entry:
    account: str
    date: date
    txs: list
    batch: str = ""  # "", "details", "nodetails"
    label: str = ""
    btc: tuple = ("PMNT", "RCDT", "ESCT")
    ref: str = ""
    order: float = 0.0
    file: str = ""

    @property
    def amount(self) -> int:
        return sum(t.amount for t in self.txs)


ACCOUNTS = {
    "BFA": {
        "entity": "FR01",
        "bank": "Banque des Flandres et de l'Artois",
        "bic": "BFLAFRPPLIL",
        "fmt": "camt08",
        "owner": "FLANDRES BOISSONS DISTRIBUTION",
        "prefix": "fr01_bfa",
        "ext": "xml",
    },
    "CCN": {
        "entity": "FR01",
        "bank": "Caisse Commerciale du Nord",
        "bic": "CCNOFR21XXX",
        "fmt": "mt940",
        "owner": "FLANDRES BOISSONS DISTRIBUTION",
        "prefix": "fr01_ccn",
        "ext": "sta",
    },
    "BHE": {
        "entity": "BE01",
        "bank": "Banque du Hainaut et de l'Escaut",
        "bic": "BHESBEB1XXX",
        "fmt": "camt02",
        "owner": "FLANDRES BOISSONS BELGIQUE SRL",
        "prefix": "be01_bhe",
        "ext": "xml",
    },
}

# ----------------------------------------------------------------------------------------------
# names
# ----------------------------------------------------------------------------------------------

FR_FIRST = [
    "Jean",
    "Michel",
    "Philippe",
    "Alain",
    "Patrick",
    "Nicolas",
    "Christophe",
    "Pierre",
    "Laurent",
    "Stéphane",
    "David",
    "Sophie",
    "Nathalie",
    "Isabelle",
    "Sandrine",
    "Valérie",
    "Céline",
    "Aurélie",
    "Karine",
    "Julie",
    "Marie",
    "Hélène",
    "Franck",
    "Olivier",
    "Thierry",
    "Bruno",
    "Didier",
    "Ludovic",
    "Grégory",
    "Sébastien",
    "Mickaël",
    "Audrey",
]
FR_LAST = [
    "Dupont",
    "Lefebvre",
    "Leroy",
    "Deschamps",
    "Vandamme",
    "Delattre",
    "Dubois",
    "Lemaire",
    "Carpentier",
    "Debruyne",
    "Vanhoutte",
    "Delannoy",
    "Lecomte",
    "Dhalluin",
    "Declercq",
    "Verbeke",
    "Mortier",
    "Wattiez",
    "Hennebert",
    "Bocquet",
    "Desmet",
    "Lambin",
    "Caron",
    "Duhamel",
    "Lemoine",
    "Flament",
    "Masquelier",
    "Cousin",
    "Vasseur",
    "Hautecoeur",
    "Pollet",
    "Taffin",
    "Baert",
    "Coppin",
    "Delcroix",
]
NL_FIRST = [
    "Jan",
    "Pieter",
    "Koen",
    "Bart",
    "Wim",
    "Tom",
    "Els",
    "An",
    "Katrien",
    "Sofie",
    "Lieven",
    "Geert",
    "Dirk",
    "Marleen",
]
NL_LAST = [
    "Janssens",
    "Peeters",
    "Maes",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De",
    "Smet",
    "Vermeulen",
    "Van",
    "Damme",
    "Bakker",
    "Visser",
    "Smit",
    "De",
    "Jong",
    "Mulder",
    "De",
    "Vries",
]

FR_CAFE_TYPES = ["Café", "Bar", "Brasserie", "Estaminet", "Bistrot", "Taverne", "Le Bar"]
FR_CAFE_NAMES = [
    "de la Gare",
    "du Beffroi",
    "des Sports",
    "du Marché",
    "de la Place",
    "du Commerce",
    "des Amis",
    "de l'Europe",
    "du Centre",
    "de la Mairie",
    "du Port",
    "des Arts",
    "du Théâtre",
    "de la Paix",
    "du Nord",
    "des Flandres",
    "Saint-Sauveur",
    "Wazemmes",
    "de la Citadelle",
    "du Vieux Lille",
    "des Halles",
    "de la Deûle",
    "du Canal",
    "de l'Hôtel de Ville",
    "des Carillons",
    "du Rivage",
    "de la Grand'Place",
    "du Moulin",
    "des Trois Rois",
    "de la Poste",
    "du Rond-Point",
    "de la Liberté",
    "des Tilleuls",
    "du Palais",
]
FR_BAR_BRANDS = [
    "Le Balto",
    "Le Jean Bart",
    "L'Univers",
    "Le Sporting",
    "Le Welcome",
    "Le Relais",
    "Le Celtic",
    "Le Saint-Maurice",
    "La Chope",
    "Le Tonneau",
    "Le Vauban",
    "Le Terminus",
    "Le Kiosque",
    "Le Métropole",
    "L'Estacade",
    "Le Boulevard",
    "Le Biplan",
    "La Cloche",
]
FR_TOWNS = [
    "Lille",
    "Roubaix",
    "Tourcoing",
    "Villeneuve-d'Ascq",
    "Lens",
    "Arras",
    "Douai",
    "Dunkerque",
    "Valenciennes",
    "Armentières",
    "Béthune",
    "Hazebrouck",
    "Cambrai",
    "Saint-Omer",
    "Calais",
    "Boulogne-sur-Mer",
    "Marcq-en-Barœul",
    "Lambersart",
]
FR_REST = [
    "Restaurant Le Flamand Rose",
    "L'Assiette du Nord",
    "Au Vieux de la Vieille",
    "La Table de Wazemmes",
    "Le Comptoir du Mineur",
    "Aux Moules de Jeanne",
    "Restaurant La Cloche d'Or",
    "Le Carbonnade Club",
    "La Friterie Moderne",
    "Brasserie André",
    "Le Pot'je Vleesch",
    "Hôtel du Parc",
    "Hôtel de la Citadelle",
    "Crêperie du Beffroi",
    "La Maison du Maroilles",
    "Pizzeria Da Nino",
    "Le Wagon Bleu",
    "Restaurant Les Trois Canards",
    "L'Écume des Mers",
    "Auberge de la Lys",
    "Le Bouchon Lillois",
    "Traiteur Hennebert",
    "Le Gourmet Artésien",
    "Hôtel Vauban",
    "La Brasserie des Ducs",
    "Le Petit Quinquin",
    "Au Chti Charivari",
    "La Bonne Franquette",
]
FR_CLUBS = [
    "US Tourcoing Football",
    "Handball Club Villeneuve d'Ascq",
    "AS Lambersart Basket",
    "Rugby Club Marcquois",
    "Olympique Roubaisien Volley",
    "Cercle d'Escrime de Douai",
    "Tennis Club d'Arras",
    "Judo Club Armentières",
    "Union Cycliste Béthunoise",
    "Stade Dunkerquois Athlétisme",
    "Hockey Club Lillois",
]
FR_FEST = [
    "Association Les Nuits de la Deûle",
    "Dunk'Rock Organisation",
    "Comité des Fêtes de Gayant",
    "Festival Scènes du Beffroi",
    "Wazemmes Accordéon Festival",
    "Braderie Events Nord",
]
CHAINS = {
    "OPALE": ("Opale Market", "OPALE DISTRIBUTION CENTRALE SAS", "FR"),
    "BEFFROI": ("Beffroi Frais", "COOP BEFFROI SERVICES", "FR"),
    "ESCAUT": ("Escaut Marché", "ESCAUT MARCHE SA SIEGE SOCIAL", "BE"),
}
BE_WAL = [
    "Café Le Carillon",
    "Brasserie de la Grand-Place",
    "Taverne Saint-Piat",
    "Le Phare Tournaisien",
    "Café des Cinq Clochers",
    "Le Petit Mons",
    "Brasserie du Doudou",
    "Café de l'Escaut",
    "Taverne du Beffroi de Tournai",
    "Le Pilori",
    "Estaminet La Houppe",
    "Café Le Remorqueur",
    "La Tonnelle de Péruwelz",
    "Le Grand Café d'Ath",
    "Taverne des Géants",
    "Friterie Chez Momo",
]
BE_VL = [
    "Café De Zwaan",
    "Herberg Het Anker",
    "Café 't Hoekske",
    "Brasserie De Leie",
    "Café Den Engel",
    "Taverne De Klokke",
    "Eetcafé De Kroon",
    "Café Sint-Jan",
    "Bistro De Markt",
    "Herberg De Gouden Boom",
    "Café Het Wit Paard",
    "Brasserie Kortrijk Plaza",
    "Café De Vrede",
]
NL_NAMES = [
    "Café De Gouden Leeuw",
    "Eetcafé Het Pleintje",
    "Grand Café Vlissingen",
    "Proeflokaal De Zeeuw",
    "Café De Schelde",
    "Brasserie Terneuzen",
    "Café Het Veerhuis",
    "Strandpaviljoen Zuid",
]

FACTORS = ["NORDFACTOR SA", "ARTOIS AFFACTURAGE FINANCE"]


# ----------------------------------------------------------------------------------------------
# the world: customers and documents
# ----------------------------------------------------------------------------------------------

KEG_PRICES = [11880, 23760, 35640, 47520, 17820, 29700]  # standard keg orders, TTC
WEIGHTS = {
    "cafe": 14,
    "rest": 9,
    "super": 13,
    "club": 2,
    "fest": 2,
    "be_cafe": 7,
    "be_super": 12,
    "nl": 4,
}


class World:
    def __init__(self, seed: int, n_invoices: int):
        self.rng = random.Random(seed)
        self.n_invoices = n_invoices
        self.custs: list[Cust] = []
        self.docs: list[Doc] = []
        self.doc: dict[str, Doc] = {}
        self.cust: dict[str, Cust] = {}
        self.plans: dict[str, list] = {}  # festival events: (pf, event date)
        self.pf_no = 0

    # -- customers --------------------------------------------------------------------------
    def person(self, flemish: bool = False) -> str:
        r = self.rng
        if flemish:
            return f"{r.choice(NL_FIRST)} {r.choice(NL_LAST)}"
        return f"{r.choice(FR_FIRST)} {r.choice(FR_LAST)}"

    def add_cust(self, name, entity, segment, country, **kw) -> Cust:
        r = self.rng
        cid = f"C{len(self.custs) + 1:04d}"
        if country == "FR":
            iban = fr_iban(r)
        elif country == "BE":
            iban = be_iban(r)
        else:
            iban = nl_iban(r)
        slug = re.sub(r"[^a-z0-9]+", "", norm_name(name).replace(" ", ""))[:18]
        dom = {"FR": "fr", "BE": "be", "NL": "nl"}[country]
        email = r.choice([f"contact@{slug}.{dom}", f"compta@{slug}.{dom}", f"{slug}@gmail.com"])
        lang = "fr" if country == "FR" or kw.pop("wal", False) else "en"
        c = Cust(cid, name, entity, segment, country, lang, iban, False, email, iban, **kw)
        if country == "FR":
            c.siren = siren_make(r)
            c.vat = fr_vat(c.siren)
        c.manager = self.person(flemish=country != "FR" and lang == "en")
        c.manager_iban = fr_iban(r) if country == "FR" else be_iban(r)
        self.custs.append(c)
        self.cust[cid] = c
        return c

    def build_customers(self):
        r = self.rng
        seen: set[str] = set()

        def uniq(name: str) -> bool:
            k = norm_name(name)
            if k in seen:
                return False
            seen.add(k)
            return True

        cafe_habits = (
            ["each"] * 16
            + ["weekly"] * 10
            + ["releve"] * 8
            + ["onacc"] * 6
            + ["sdd"] * 12
            + ["cheque"] * 8
            + ["private"] * 6
        )
        r.shuffle(cafe_habits)
        names: list[str] = ["Café de la Paix"]
        uniq("Café de la Paix")
        while len(names) < len(cafe_habits):
            if r.random() < 0.3:
                n = f"{r.choice(FR_BAR_BRANDS)} {r.choice(FR_TOWNS)}"
            else:
                n = f"{r.choice(FR_CAFE_TYPES)} {r.choice(FR_CAFE_NAMES)}"
            if uniq(n):
                names.append(n)
        for n, h in zip(names, cafe_habits, strict=True):
            form = r.choice(["SARL", "SARL", "SAS", "EURL", "SNC", ""])
            full = f"{n} {form}".strip() if r.random() < 0.6 else (f"{form} {n}".strip())
            c = self.add_cust(full, "FR01", "cafe", "FR", habit=h)
            c.account = "CCN" if r.random() < 0.3 and h in ("each", "weekly", "onacc") else "BFA"
            c.iban_known = h == "sdd" or r.random() < 0.55
        each = [c for c in self.custs if c.habit == "each"]
        for a, b in zip(each[0:6:2], each[1:6:2], strict=True):
            a.sister = b  # one owner, two cafés: sometimes pays both in one transfer
        rest = FR_REST[:26]
        for i, n in enumerate(rest):
            uniq(n)
            form = r.choice(["SARL", "SAS", "SA", ""])
            c = self.add_cust(f"{n} {form}".strip(), "FR01", "rest", "FR", habit="each")
            c.factored = i % 4 == 1
            c.account = "CCN" if r.random() < 0.3 else "BFA"
            c.iban_known = r.random() < 0.6
        for key, (brand, _ho, ctry) in CHAINS.items():
            if ctry != "FR":
                continue
            towns = ["Dunkerque", "Calais", "Boulogne", "Saint-Omer", "Gravelines", "Berck"]
            if key == "BEFFROI":
                towns = ["Arras", "Douai", "Lens", "Béthune", "Cambrai"]
            for t in towns:
                c = self.add_cust(f"{brand} {t} SAS", "FR01", "super", "FR", chain=key)
                c.iban_known = r.random() < 0.5
        for n in FR_CLUBS[:10]:
            c = self.add_cust(n, "FR01", "club", "FR")
            c.iban_known = r.random() < 0.6
        for n in FR_FEST:
            c = self.add_cust(n, "FR01", "fest", "FR")
            c.iban_known = r.random() < 0.6
        for n in [*BE_WAL, "Café de la Paix"]:
            form = r.choice(["SRL", "SPRL", "SA", ""])
            c = self.add_cust(f"{n} {form}".strip(), "BE01", "be_cafe", "BE", wal=True)
            c.iban_known = r.random() < 0.6
        for n in BE_VL:
            form = r.choice(["BV", "BVBA", "NV", ""])
            c = self.add_cust(f"{n} {form}".strip(), "BE01", "be_cafe", "BE")
            c.iban_known = r.random() < 0.6
        for t in ["Tournai", "Mouscron", "Ath", "Péruwelz"]:
            c = self.add_cust(
                f"Escaut Marché {t} SA", "BE01", "be_super", "BE", chain="ESCAUT", wal=True
            )
            c.iban_known = r.random() < 0.5
        for n in NL_NAMES:
            c = self.add_cust(f"{n} B.V." if r.random() < 0.6 else n, "BE01", "nl", "NL")
            c.iban_known = r.random() < 0.6

    # -- documents --------------------------------------------------------------------------
    def build_docs(self):
        r = self.rng
        wsum = sum(WEIGHTS[c.segment] for c in self.custs)
        raw: list[tuple] = []  # (issue, cid, dtype, amount, po, due_days)
        span = (END - DOC_START).days - 8
        for c in self.custs:
            n = max(1, round(self.n_invoices * WEIGHTS[c.segment] / wsum * r.uniform(0.7, 1.3)))
            if c.segment == "fest":
                events = []
                for k in range(r.choice([1, 2, 2])):
                    ev = START + timedelta(
                        days=r.randint(90, 330) if k == 0 else r.randint(120, 380)
                    )
                    self.pf_no += r.randint(1, 9)
                    pf = f"PF{ev.year % 100:02d}-{self.pf_no:04d}"
                    amt = r.randint(6000, 42000) * 100 + r.choice([0, 0, 50, 80])
                    issue = ev + timedelta(days=2)
                    raw.append((issue, c.id, "invoice", amt, pf, 15))
                    events.append((pf, ev, amt))
                self.plans[c.id] = events
                continue
            step = span / n
            for k in range(n):
                issue = DOC_START + timedelta(days=int(k * step + r.uniform(0, step)))
                issue = bday(issue)
                if issue > END:
                    issue = END - timedelta(days=3)
                po = ""
                if c.segment in ("cafe", "be_cafe", "nl"):
                    amt = (
                        r.choice(KEG_PRICES)
                        if r.random() < 0.22
                        else r.randint(80, 720) * 100 + r.randint(0, 99)
                    )
                    due = {"cafe": 15, "be_cafe": 30, "nl": 14}[c.segment]
                elif c.segment == "rest":
                    amt = r.randint(200, 2600) * 100 + r.randint(0, 99)
                    due = 30
                elif c.segment in ("super", "be_super"):
                    amt = r.randint(900, 6500) * 100 + r.randint(0, 99)
                    due = 30
                    po = f"CDE{r.randint(4500000000, 4599999999)}"
                else:  # club
                    amt = r.randint(250, 1900) * 100 + r.choice([0, 0, 50])
                    due = 30
                    if r.random() < 0.65:
                        po = f"EJ{issue.year}-{r.randint(1000, 99999):06d}"
                raw.append((issue, c.id, "invoice", amt, po, due))
                # credit notes
                if c.segment in ("cafe", "be_cafe") and r.random() < 0.42:
                    kegs, crates = r.randint(0, 4), r.randint(0, 8)
                    if kegs + crates == 0:
                        kegs = 1
                    deposit = 3000 if c.segment == "cafe" else 2500
                    cn = -(kegs * deposit + crates * (600 if c.segment == "cafe" else 390))
                    raw.append(
                        (
                            bday(issue + timedelta(days=r.randint(5, 12))),
                            c.id,
                            "credit_note",
                            cn,
                            "",
                            0,
                        )
                    )
                elif c.segment in ("rest", "nl") and r.random() < 0.06:
                    raw.append(
                        (
                            bday(issue + timedelta(days=r.randint(3, 15))),
                            c.id,
                            "credit_note",
                            -round(amt * r.choice([0.05, 0.1, 0.2])),
                            "",
                            0,
                        )
                    )
            if c.segment in ("super", "be_super"):
                for m in range(13):
                    d = date(2025 + (m // 12), m % 12 + 1, 1) + timedelta(days=r.randint(8, 20))
                    if r.random() < 0.75:
                        raw.append(
                            (
                                bday(d),
                                c.id,
                                "credit_note",
                                -r.randint(40, 420) * 100 - r.randint(0, 99),
                                "",
                                0,
                            )
                        )
        raw.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
        counters: Counter = Counter()
        for issue, cid, dtype, amt, po, due in raw:
            c = self.cust[cid]
            if issue > END:
                continue
            if c.entity == "FR01":
                prefix = "FA" if dtype == "invoice" else "AV"
            else:
                prefix = "FT" if dtype == "invoice" else "NC"
            y = issue.year
            key = (prefix, y)
            if not counters[key]:
                counters[key] = (
                    {"FA": 11240, "AV": 1310, "FT": 2150, "NC": 270}[prefix] if (y == 2024) else 0
                )
            counters[key] += 1
            seq = counters[key]
            if prefix == "FA":
                did = f"FA{y}-{seq:06d}"
            elif prefix == "AV":
                did = f"AV{y}-{seq:05d}"
            elif prefix == "FT":
                did = f"FT{y}/{seq:05d}"
            else:
                did = f"NC{y}/{seq:04d}"
            d = Doc(
                did,
                cid,
                c.entity,
                dtype,
                issue,
                issue + timedelta(days=due),
                amt,
                prefix,
                y,
                seq,
                po=po,
            )
            if prefix == "FA":
                d.ref = rf_make(f"FB{y % 100:02d}{seq:06d}")
            if prefix == "FT":
                d.ogm = ogm_make(f"{y % 100:02d}1{seq:07d}")
                if c.country == "NL":
                    d.kenmerk = kenmerk_make(f"7{int(cid[1:]):04d}{y % 100:02d}{seq:08d}")
            self.docs.append(d)
            self.doc[did] = d


# ----------------------------------------------------------------------------------------------
# how the money really moves
# ----------------------------------------------------------------------------------------------


def fr_variants(d: Doc) -> list[str]:
    y, s, p = d.year, d.seq, d.prefix
    if p in ("FA", "AV"):
        w = 6 if p == "FA" else 5
        return [
            d.id,
            d.id,
            f"{p}{y}-{s}",
            f"{p} {y}-{s:0{w}d}",
            d.id.lower(),
            f"{p}{y % 100}-{s:0{w}d}",
            f"{p}{y}{s:0{w}d}",
            f"{p}-{y}-{s:0{w}d}",
            f"{p} {y} {s:0{w}d}",
        ]
    w = 5 if p == "FT" else 4
    return [
        d.id,
        d.id,
        f"{p} {y}/{s}",
        f"{p}{y}-{s:0{w}d}",
        d.id.lower(),
        f"{p}{y % 100}/{s:0{w}d}",
        f"{p} {y}/{s:0{w}d}",
    ]


def rf_messy(ref: str, r: random.Random) -> tuple[str, str]:
    k = r.randrange(4)
    if k == 0:
        return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4)), "rf_spaced"
    if k == 1:
        return ref.lower(), "rf_lowercase"
    if k == 2:
        return r.choice(["PAIEMENT", "REGLT", "Ref", "facture"]) + ref, "rf_glued"
    return ref[:4] + " " + ref[4:].lower(), "rf_spaced"


def typo_seq(seq: int, r: random.Random) -> int:
    s = str(seq)
    if len(s) >= 2 and r.random() < 0.5:
        i = r.randrange(len(s) - 1)
        if s[i] != s[i + 1]:
            return int(s[:i] + s[i + 1] + s[i] + s[i + 2 :])
    i = r.randrange(len(s))
    nd = (int(s[i]) + r.choice([1, -1, 2])) % 10
    t = s[:i] + str(nd) + s[i + 1 :]
    return int(t) if int(t) > 0 else seq + 1


def fr_list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " et " + items[-1]


PLAIN_KINDS = {
    "rf_structured",
    "rf_clean",
    "rf_spaced",
    "rf_lowercase",
    "rf_glued",
    "invoice_number",
    "invoice_number_bare",
    "no_reference",
}


class Gen:
    def __init__(self, w: World):
        self.w = w
        self.r = w.rng
        self.open = {d.id: d.amount for d in w.docs}
        self.txs: list[tuple[date, str, Tx]] = []  # (date, account, tx) singles
        self.batches: dict[tuple, list[Tx]] = defaultdict(list)
        self.batch_meta: dict[tuple, tuple] = {}
        self.by_cust: dict[str, list[Doc]] = defaultdict(list)
        for d in w.docs:
            self.by_cust[d.cid].append(d)
        self.chq_no = 4_100_000
        self.key_by_num = {(d.prefix, d.year, d.seq): d for d in w.docs}
        for c in w.custs:
            c.printed = self.printed_name(c)

    # -- small helpers -----------------------------------------------------------------------
    def printed_name(self, c: Cust) -> str:
        r = self.r
        base = strip_acc(c.name).upper().replace("'", " ")
        k = r.random()
        if c.segment in ("club", "fest"):
            return base
        if k < 0.12:  # account held by the legal owner, not the trade name
            if c.country == "FR":
                return f"SARL {c.manager.split()[-1].upper()} ET FILS"
            return f"{strip_acc(c.manager).upper()} {r.choice(['BV', 'SRL', 'COMM V'])}"
        if k < 0.5:
            return base
        toks = base.split()
        legal = [t for t in toks if norm_name(t) == ""]
        rest = [t for t in toks if norm_name(t) != ""]
        if k < 0.8 and legal:
            return " ".join(legal + rest)
        return " ".join(rest)

    def when_ok(self, d: date) -> date | None:
        d = bday(d)
        if d < START:
            d = bday(START + timedelta(days=1 + self.r.randrange(6)))
        return d if d <= END else None

    def open_docs(self, cid: str, upto: date, dtype: str | None = None) -> list[Doc]:
        return [
            d
            for d in self.by_cust[cid]
            if self.open[d.id] != 0 and d.issue <= upto and (dtype is None or d.dtype == dtype)
        ]

    def take(self, docs: list[Doc]) -> list[tuple[str, int]]:
        out = []
        for d in docs:
            if self.open[d.id]:
                out.append((d.id, self.open[d.id]))
                self.open[d.id] = 0
        return out

    def take_part(self, d: Doc, amt: int) -> list[tuple[str, int]]:
        amt = min(amt, self.open[d.id])
        self.open[d.id] -= amt
        return [(d.id, amt)]

    def fifo(self, cid: str, amount: int, upto: date) -> list[tuple[str, int]]:
        out = []
        for d in self.open_docs(cid, upto, "invoice"):
            if amount <= 0:
                break
            a = min(amount, self.open[d.id])
            out.append((d.id, a))
            self.open[d.id] -= a
            amount -= a
        return out

    def add(self, when: date | None, account: str, tx: Tx):
        if when is not None and START <= when <= END:
            self.txs.append((when, account, tx))

    def payer(self, c: Cust, private: bool = False) -> tuple[str, str]:
        if private:
            civ = self.r.choice(["M", "MME", "M OU MME", ""])
            return f"{civ} {strip_acc(c.manager).upper()}".strip(), c.manager_iban
        return c.printed, c.iban

    def acct(self, c: Cust) -> str:
        return "BHE" if c.entity == "BE01" else c.account

    # -- reference texts ----------------------------------------------------------------------
    def ref_text(self, c: Cust, d: Doc, acct: str, style: str) -> tuple[str, str, str]:
        """(ustrd, cdtr_ref, kind) naming one document in the customer's habit."""
        r = self.r
        if style == "rf_strd":
            if acct == "BFA":
                return "", d.ref, "rf_structured"
            style = "rf_clean"
        if style == "rf_clean":
            return r.choice(["", "Facture ", "REF "]) + d.ref, "", "rf_clean"
        if style == "rf_messy":
            t, k = rf_messy(d.ref, r)
            return t, "", k
        if style == "num":
            v = r.choice(fr_variants(d))
            lead = r.choice(["Facture ", "Fact ", "Règlement ", "PAIEMENT FACTURE ", "", "Fact. "])
            return f"{lead}{v}", "", "invoice_number"
        if style == "bare":
            lead = r.choice(["Facture ", "Fact n° ", "Règlement facture ", "fact "])
            return f"{lead}{d.seq}", "", "invoice_number_bare"
        if style == "ogm_strd":
            return "", d.ogm, "ogm_structured"
        if style == "ogm_typed":
            k = r.randrange(4)
            dig = re.sub(r"\D", "", d.ogm)
            t = [
                d.ogm,
                dig,
                f"{dig[:3]}/{dig[3:7]}/{dig[7:]}",
                f"+++ {dig[:3]} {dig[3:7]} {dig[7:]} +++",
            ][k]
            return t, "", ["ogm_typed", "ogm_digits_only", "ogm_no_plus", "ogm_spaced"][k]
        if style == "factuur":
            lead = (
                r.choice(["Factuur ", "Fact. nr ", "Factuurnummer "])
                if c.lang == "en"
                else r.choice(["Facture ", "Fact. ", "Facture n° "])
            )
            return f"{lead}{d.year}/{d.seq:05d}", "", "invoice_year_number"
        if style == "fact_nr":
            lead = "Fact. nr " if c.lang == "en" else "Fact n° "
            return f"{lead}{d.seq}", "", "invoice_number_bare"
        if style == "be_full":
            lead = "Factuur " if c.lang == "en" else "Facture "
            return lead + r.choice(fr_variants(d)), "", "invoice_number"
        if style == "kenmerk":
            k = d.kenmerk
            if r.random() < 0.3:
                return "", k, "nl_betalingskenmerk_structured"
            if r.random() < 0.4:
                k = " ".join(k[i : i + 4] for i in range(0, 16, 4))
            return (
                r.choice(["betalingskenmerk ", "", "Betalingskenmerk: "]) + k,
                "",
                "nl_betalingskenmerk",
            )
        if style == "nl_num":
            v = d.id if r.random() < 0.6 else f"{d.year}/{d.seq:05d}"
            return f"Factuurnummer {v}", "", "nl_factuurnummer"
        # no reference
        if c.lang == "en" and c.entity == "BE01":
            t = r.choice(["Betaling levering", "bieren", "Drankenlevering", "betaling"])
        else:
            t = r.choice(
                [
                    "Paiement boissons",
                    "Livraison",
                    "REGLEMENT FOURNISSEUR",
                    "Boissons",
                    "VIREMENT " + strip_acc(c.printed)[:20],
                    "",
                ]
            )
        return t, "", "no_reference"

    def pick_style(self, c: Cust, acct: str) -> str:
        r = self.r
        if c.country == "NL":
            return r.choices(["kenmerk", "nl_num", "none"], [50, 38, 12])[0]
        if c.entity == "BE01":
            return r.choices(
                ["ogm_strd", "ogm_typed", "factuur", "fact_nr", "be_full", "none"],
                [42, 20, 14, 7, 9, 8],
            )[0]
        if acct == "BFA":
            return r.choices(
                ["rf_strd", "rf_clean", "rf_messy", "num", "bare", "none"], [25, 12, 10, 33, 6, 14]
            )[0]
        return r.choices(["rf_clean", "rf_messy", "num", "bare", "none"], [22, 14, 40, 8, 16])[0]

    # -- one customer paying one document -------------------------------------------------------
    def e2e_for(self, c: Cust, d: Doc | None, style: str) -> str:
        r = self.r
        if d is not None and style != "none" and r.random() < 0.15:
            return d.id
        if r.random() < 0.5:
            return "NOTPROVIDED"
        return f"{r.choice(['E2E', 'VIR', 'PAY'])}{r.randint(10**9, 10**10 - 1)}"

    def pay_single(
        self,
        c: Cust,
        d: Doc,
        when: date,
        private: bool = False,
        escompte_ok: bool = False,
        style: str | None = None,
    ):
        r = self.r
        acct = self.acct(c)
        if self.open[d.id] <= 0:
            return
        name, iban = self.payer(c, private)
        style = style or self.pick_style(c, acct)
        if private and style != "none" and r.random() < 0.4:
            style = "none"
        roll = r.random()
        en = c.lang == "en"
        cns = [x for x in self.open_docs(c.id, when, "credit_note") if x.id != d.id]
        if roll < 0.015 and style != "none":  # paid before the invoice is issued
            when = d.issue - timedelta(days=r.randint(2, 9))
            roll = 1.0
            pre = True
        else:
            pre = False
        when = self.when_ok(when)
        if when is None:
            return
        ustrd, cref, kind = self.ref_text(c, d, acct, style)
        tx = Tx(
            0,
            kind,
            "",
            payer_name=name,
            payer_iban=iban,
            ustrd=ustrd,
            cdtr_ref=cref,
            e2e=self.e2e_for(c, d, style),
        )
        if c.entity == "BE01" and cref:
            tx.cdtr_ref = re.sub(r"\D", "", cref)
            tx.cdtr_issr = "CUR" if len(tx.cdtr_ref) == 16 else "BBA"
        opn = self.open[d.id]
        if pre:
            tx.amount, tx.truth = opn, self.take([d])
            tx.kind, tx.note = "paid_before_issue", f"paid {d.id} before its issue date"
        elif roll < 0.06 and cns and opn + self.open[cns[0].id] > 0:
            cn = cns[0]
            tx.amount = opn + self.open[cn.id]
            tx.truth = self.take([d, cn])
            if r.random() < 0.55 or len(cns) > 1 or not self.identifiable(c, tx):
                cv = r.choice(fr_variants(cn))
                tx.ustrd = (tx.ustrd or d.id) + r.choice([f" - {cv}", f" moins {cv}", f" / {cv}"])
                if en:
                    tx.ustrd = tx.ustrd.replace("moins", "min")
                tx.kind = (
                    "invoice_minus_credit_named" if style != "none" else "credit_note_named_only"
                )
            else:
                tx.ustrd = (tx.ustrd + r.choice([" moins consignes", " - vidanges", ""])).strip()
                tx.kind = "invoice_minus_credit_unnamed"
            tx.note = f"{d.id} less credit note {cn.id} (empties returned)"
        elif roll < 0.10 and style != "none":
            amt = max(1000, round(opn * r.uniform(0.3, 0.7) / 1000) * 1000)
            if amt >= opn:
                amt = opn // 2
            word = (
                r.choice(["Gedeeltelijke betaling ", "voorschot ", "deelbetaling "])
                if en
                else r.choice(["Acompte ", "Paiement partiel ", "1er versement ", "Acompte sur "])
            )
            tx.ustrd = (word + tx.ustrd) if tx.ustrd else word + (tx.cdtr_ref or d.id)
            tx.amount, tx.truth = amt, self.take_part(d, amt)
            tx.kind, tx.note = "partial_with_word", f"first part of {d.id}"
            later = self.when_ok(when + timedelta(days=r.randint(15, 40)))
            rest = self.open[d.id]
            u2 = ("Saldo " if en else r.choice(["Solde ", "Solde facture ", "Reste "])) + (
                r.choice(fr_variants(d))
            )
            t2 = Tx(
                rest,
                "partial_balance",
                f"balance of {d.id} after a part payment",
                payer_name=name,
                payer_iban=iban,
                ustrd=u2,
                e2e="NOTPROVIDED",
            )
            t2.truth = self.take([d])
            self.add(later, acct, t2)
        elif roll < 0.125 and style != "none":
            amt = opn - r.randint(5, 80) * 100 if opn > 20000 else round(opn * 0.5)
            tx.amount, tx.truth = amt, self.take_part(d, amt)
            tx.kind, tx.note = "partial_silent", f"pays part of {d.id} without saying so (disputed)"
        elif roll < 0.15 and style != "none":
            extra = r.randint(1, 600)
            tx.amount, tx.truth = opn + extra, self.take([d])
            tx.kind, tx.note = "overpayment_small", f"{d.id} plus {money(extra)} too much"
        elif roll < 0.16 and style != "none":
            extra = opn if r.random() < 0.5 else r.randint(100, 900) * 100
            tx.amount, tx.truth = opn + extra, self.take([d])
            tx.kind, tx.note = (
                "overpayment_large",
                f"{d.id} plus {money(extra)} too much (refunded)",
            )
            self.refund(c, when, extra, d)
        elif roll < 0.175 and style != "none":
            tx.amount, tx.truth = opn, self.take([d])
            self.add(when, acct, tx)
            dup = Tx(
                opn,
                "duplicate_payment",
                f"second payment of {d.id}, already paid",
                payer_name=name,
                payer_iban=iban,
                ustrd=tx.ustrd,
                cdtr_ref=tx.cdtr_ref,
                cdtr_issr=tx.cdtr_issr,
                e2e=tx.e2e,
            )
            w2 = self.when_ok(when + timedelta(days=r.randint(1, 12)))
            self.add(w2, acct, dup)
            if w2 and r.random() < 0.7:
                self.refund(c, w2, opn, d)
            return
        elif roll < 0.215 and style != "none":
            self.typo(c, d, tx, style)
            tx.amount, tx.truth = opn, self.take([d])
        elif roll < 0.42 and c.country == "NL" and style != "none":
            fee = r.choice([250, 500, 750, 1200, 1500])
            tx.amount, tx.truth = opn - fee, self.take_part(d, opn - fee)
            tx.kind, tx.note = "short_bank_charges", f"{d.id} less {money(fee)} bank charges"
            self.open[d.id] = 0
        elif escompte_ok and roll < 0.32 and style != "none":
            when2 = self.when_ok(d.issue + timedelta(days=r.randint(4, 9)))
            if when2:
                when = when2
            amt = round(opn * 0.98)
            tx.ustrd = (tx.ustrd or (tx.cdtr_ref or d.id)) + r.choice(
                [" escompte 2%", " - escompte 2 %", " ESCOMPTE 2% DEDUIT"]
            )
            tx.amount, tx.truth = amt, [(d.id, amt)]
            self.open[d.id] = 0
            tx.kind, tx.note = "escompte_deducted", f"{d.id} paid early less 2% discount"
        else:
            tx.amount, tx.truth = opn, self.take([d])
            tx.note = f"pays {d.id}"
        if not tx.note:
            tx.note = f"pays {d.id}"
        if private:
            if tx.kind in PLAIN_KINDS:
                tx.kind = "private_account_" + ("no_reference" if style == "none" else "named")
            tx.note += " from the manager's private account"
        if not tx.note:
            tx.note = f"pays {d.id}"
        self.add(when, acct, tx)

    def identifiable(self, c: Cust, tx: Tx) -> bool:
        """Would the controller know this payer (IBAN on file shown, or a unique name)?"""
        return self.known_payer(c, tx.payer_name, tx.payer_iban)

    def known_payer(self, c: Cust, name: str, iban: str) -> bool:
        if iban == c.iban_file and c.iban_known and self.acct(c) != "CCN":
            return True
        key = norm_name(name)
        return sum(1 for x in self.w.custs if norm_name(x.name) == key) == 1

    def typo(self, c: Cust, d: Doc, tx: Tx, style: str):
        r = self.r
        tx.e2e = "NOTPROVIDED"
        if style.startswith("rf") or (style == "ogm_strd" and not d.ogm):
            ref = d.ref
            i = r.randrange(4, len(ref))
            ch = ref[i]
            new = str((int(ch) + 1) % 10) if ch.isdigit() else "X"
            bad = ref[:i] + new + ref[i + 1 :]
            tx.ustrd, tx.cdtr_ref = ("REF " + bad, "") if not tx.cdtr_ref else ("", bad)
            tx.kind, tx.note = "rf_bad_check", f"pays {d.id}, RF mistyped (fails check)"
            return
        if style.startswith("ogm"):
            dig = re.sub(r"\D", "", d.ogm)
            badchk = (int(dig[10:]) + r.randint(1, 40)) % 97 or 1
            bad = dig[:10] + f"{badchk:02d}"
            tx.cdtr_ref = ""
            tx.cdtr_issr = ""
            tx.ustrd = f"+++{bad[:3]}/{bad[3:7]}/{bad[7:]}+++"
            tx.kind, tx.note = "ogm_bad_check", f"pays {d.id}, structured communication mistyped"
            return
        if style == "kenmerk":
            k = d.kenmerk
            i = r.randrange(1, 16)
            bad = k[:i] + str((int(k[i]) + 3) % 10) + k[i + 1 :]
            tx.ustrd = "betalingskenmerk " + bad
            tx.kind, tx.note = "kenmerk_bad_check", f"pays {d.id}, payment reference mistyped"
            return
        for _ in range(6):
            s2 = typo_seq(d.seq, r)
            other = self.key_by_num.get((d.prefix, d.year, s2))
            if other is not None and (other.cid == c.id or not self.identifiable(c, tx)):
                continue
            if style in ("bare", "fact_nr") and any(x.seq == s2 for x in self.by_cust[c.id]):
                continue
            w = len(d.id.split("-")[-1].split("/")[-1])
            sep = "-" if d.prefix in ("FA", "AV") else "/"
            num = f"{d.prefix}{d.year}{sep}{s2:0{w}d}"
            if style in ("bare", "fact_nr"):
                num = str(s2)
            lead = "Facture " if c.lang == "fr" else "Factuur "
            tx.ustrd, tx.cdtr_ref, tx.cdtr_issr = lead + num, "", ""
            if style in ("bare", "fact_nr"):
                tx.kind, tx.note = "typo_bare_number", f"pays {d.id}, number mistyped as {num}"
            elif other is None:
                tx.kind, tx.note = "typo_no_document", f"pays {d.id}, number mistyped as {num}"
            else:
                tx.kind = "typo_other_customer_doc"
                tx.note = f"pays {d.id}, mistyped as {num} which is {other.cid}'s document"
            return

    def refund(self, c: Cust, when: date, amount: int, d: Doc):
        r = self.r
        w2 = self.when_ok(when + timedelta(days=r.randint(6, 25)))
        acct = self.acct(c)
        t = Tx(
            -amount,
            "refund_sent",
            f"we refund {money(amount)} paid too much on {d.id}",
            category="debit",
            payer_name=c.printed,
            payer_iban=c.iban,
            ustrd=f"REMBOURSEMENT TROP PERCU {d.id}",
            e2e=f"RBT{d.seq:06d}",
            btc=("PMNT", "ICDT", "ESCT"),
        )
        self.add(w2, acct, t)

    # -- several documents in one payment -----------------------------------------------------
    def pay_group(self, c: Cust, docs: list[Doc], when: date, style: str, private: bool = False):
        r = self.r
        docs = [d for d in docs if self.open[d.id] != 0]
        inv = [d for d in docs if d.dtype == "invoice"]
        cns = [d for d in docs if d.dtype == "credit_note"]
        if not inv:
            return
        if len(docs) == 1:
            self.pay_single(c, inv[0], when, private=private)
            return
        when = self.when_ok(when)
        if when is None:
            return
        amount = sum(self.open[d.id] for d in docs)
        if amount <= 0:
            return
        acct = self.acct(c)
        name, iban = self.payer(c, private)
        if style == "list_inv" and cns and (len(inv) == 1 or not self.known_payer(c, name, iban)):
            style = "list_full"
        be = c.entity == "BE01"
        en = c.lang == "en"
        if style == "list_full":
            items = [r.choice(fr_variants(d)) if not be else f"{d.year}/{d.seq:05d}" for d in inv]
            lead = "Factuur " if en else r.choice(["Règlement factures ", "Fact ", "Factures "])
            text = lead + (" + ".join(items) if be or r.random() < 0.4 else fr_list(items))
            for cn in cns:
                text += f" - {r.choice(fr_variants(cn))}"
            kind = "multi_minus_credit_named" if cns else "multi_invoice_list"
        elif style == "list_inv":
            items = [r.choice(fr_variants(d)) if not be else d.id for d in inv]
            lead = "Facturen " if en else r.choice(["Règlement ", "Factures ", ""])
            text = lead + " ".join(items)
            if cns:
                text += " moins consignes" if not en else " min leeggoed"
            kind = "multi_minus_credit_unnamed" if cns else "multi_invoice_list"
        elif style == "bare":
            items = [str(d.seq) for d in inv]
            text = ("Facturen " if en else "Règlement factures ") + fr_list(items)
            if en:
                text = text.replace(" et ", " en ")
            if cns and (r.random() < 0.5 or len(inv) == 1 or len(cns) > 1):
                nums = fr_list([str(x.seq) for x in cns])
                text += (
                    (" min nota " + nums.replace(" et ", " en "))
                    if en
                    else (" moins avoir " + nums)
                )
            kind = "short_number_list"
        else:
            text = r.choice(["Paiement livraisons", "Boissons semaine", "reglement", "Betaling"])
            kind = "group_no_reference"
        tx = Tx(
            amount,
            kind,
            f"pays {len(inv)} invoices" + (f" less {len(cns)} credit notes" if cns else ""),
            payer_name=name,
            payer_iban=iban,
            ustrd=text,
            e2e=self.e2e_for(c, None, "none"),
        )
        tx.truth = self.take(docs)
        if private:
            tx.kind = "private_account_" + ("no_reference" if style == "none" else "named")
            tx.note += " from the manager's private account"
        self.add(when, acct, tx)

    # -- habits ---------------------------------------------------------------------------------
    def jitter_due(self, d: Doc, lo: int = -4, hi: int = 18) -> date:
        return d.due + timedelta(days=self.r.randint(lo, hi))

    def run_each(self, c: Cust, private: bool = False):
        r = self.r
        sister = getattr(c, "sister", None)
        for d in self.by_cust[c.id]:
            if d.dtype == "invoice" and sister and self.open[d.id] > 0 and r.random() < 0.3:
                when = self.when_ok(self.jitter_due(d))
                other = self.open_docs(sister.id, when or END, "invoice")
                if when and other:
                    o = other[0]
                    tx = Tx(
                        self.open[d.id] + self.open[o.id],
                        "owner_pays_two_cafes",
                        f"the owner of both cafés pays {d.id} and {sister.id}'s {o.id}",
                        payer_name=c.printed,
                        payer_iban=c.iban,
                        e2e="NOTPROVIDED",
                        ustrd=f"Factures {d.id} + {o.id} ({strip_acc(sister.name)[:30]})",
                    )
                    tx.truth = self.take([d, o])
                    self.add(when, self.acct(c), tx)
                    continue
            if d.dtype == "invoice":
                self.pay_single(
                    c, d, self.jitter_due(d), private=private, escompte_ok=c.segment == "rest"
                )

    def run_weekly(self, c: Cust, start: date | None = None):
        r = self.r
        docs = self.by_cust[c.id]
        if not docs:
            return
        t = start or docs[0].issue + timedelta(days=r.randint(7, 14))
        while t <= END:
            grp = self.open_docs(c.id, t - timedelta(days=1))
            if grp and r.random() < 0.9:
                style = r.choices(["list_full", "list_inv", "bare", "none"], [45, 22, 20, 13])[0]
                self.pay_group(c, grp, t, style)
            t += timedelta(days=14 + r.randint(-2, 3))

    def run_releve(self, c: Cust):
        r = self.r
        for y, m in [(2024, 12), *MONTHS[:-1]]:
            first = date(y, m, 1)
            nxt = date(y + m // 12, m % 12 + 1, 1)
            docs = [d for d in self.by_cust[c.id] if first <= d.issue < nxt and self.open[d.id]]
            if not docs or sum(self.open[d.id] for d in docs) <= 0:
                continue
            when = self.when_ok(nxt + timedelta(days=r.randint(3, 12)))
            if when is None:
                continue
            mname = MONTH_FR[m - 1]
            text = r.choice(
                [
                    f"Relevé de {mname}",
                    f"releve {m:02d}-{y}",
                    f"Paiement relevé {mname} {y}",
                    f"RELEVE {strip_acc(mname).upper()}",
                    f"solde relevé {mname}",
                ]
            )
            tx = Tx(
                sum(self.open[d.id] for d in docs),
                "releve_month",
                f"pays the {mname} {y} statement: {len(docs)} documents",
                payer_name=c.printed,
                payer_iban=c.iban,
                ustrd=text,
                e2e="NOTPROVIDED",
            )
            tx.truth = self.take(docs)
            self.add(when, self.acct(c), tx)

    def run_onacc(self, c: Cust):
        r = self.r
        for i, (y, m) in enumerate(MONTHS):
            when = self.when_ok(date(y, m, r.randint(5, 20)))
            if when is None:
                continue
            if i % 4 == 3:
                cut = date(y, m, 1) - timedelta(days=1)
                docs = self.open_docs(c.id, cut)
                tot = sum(self.open[d.id] for d in docs)
                if tot > 0:
                    tx = Tx(
                        tot,
                        "on_account_balance",
                        f"settles everything open at {cut}",
                        payer_name=c.printed,
                        payer_iban=c.iban,
                        ustrd=f"Solde compte au {cut.strftime('%d/%m/%Y')}",
                        e2e="NOTPROVIDED",
                    )
                    tx.truth = self.take(docs)
                    self.add(when, self.acct(c), tx)
                continue
            inv = self.open_docs(c.id, when, "invoice")
            tot = sum(self.open[d.id] for d in inv)
            if tot < 10000:
                continue
            amt = max(10000, round(tot * r.uniform(0.5, 0.95) / 10000) * 10000)
            if r.random() < 0.2 and self.open[inv[0].id] > 10000:
                d = inv[0]
                amt = max(5000, (self.open[d.id] // 2) // 5000 * 5000)
                tx = Tx(
                    amt,
                    "on_account_named_partial",
                    f"round part of {d.id}",
                    payer_name=c.printed,
                    payer_iban=c.iban,
                    ustrd=f"A valoir sur facture {d.id}",
                    e2e="NOTPROVIDED",
                )
                tx.truth = self.take_part(d, amt)
            else:
                tx = Tx(
                    amt,
                    "on_account_round",
                    "round sum on account, applied oldest first",
                    payer_name=c.printed,
                    payer_iban=c.iban,
                    e2e="NOTPROVIDED",
                    ustrd=r.choice(
                        [
                            "Versement à valoir",
                            "A VALOIR",
                            "versement compte client",
                            "Acompte sur compte",
                            f"versement {MONTH_FR[m - 1]}",
                        ]
                    ),
                )
                tx.truth = self.fifo(c.id, amt, when)
            self.add(when, self.acct(c), tx)

    def run_sdd(self, c: Cust):
        r = self.r
        for y, m in [(2024, 12), *MONTHS[:-1]]:
            first = date(y, m, 1)
            nxt = date(y + m // 12, m % 12 + 1, 1)
            docs = [d for d in self.by_cust[c.id] if first <= d.issue < nxt and self.open[d.id]]
            tot = sum(self.open[d.id] for d in docs)
            if not docs or tot <= 0:
                continue
            when = self.when_ok(nxt + timedelta(days=7))
            if when is None:
                continue
            e2e = f"FBD-SDD-{c.id}-{y % 100:02d}{m:02d}"
            if len(docs) <= 4:
                text = "Factures " + " ".join(d.id for d in docs)
            else:
                text = f"Releve {m:02d}/{y} client {c.id}"
            tx = Tx(
                tot,
                "sdd_collection",
                f"monthly direct debit for {MONTH_FR[m - 1]} {y}",
                payer_name=c.printed,
                payer_iban=c.iban,
                ustrd=text,
                e2e=e2e,
                mndt=f"FBD-MDT-{c.id}",
                btc=("PMNT", "IDDT", "ESDD"),
            )
            tx.truth = self.take(docs)
            self.batches[("SDD", "BFA", when)].append(tx)
            if r.random() < 0.09:
                code = r.choices(["AM04", "MD06", "AC04"], [60, 25, 15])[0]
                rd = add_bdays(when, r.randint(2, 5))
                ret = Tx(
                    -tot,
                    "sdd_return",
                    f"direct debit {e2e} returned {code}",
                    category="return",
                    payer_name=c.printed,
                    payer_iban=c.iban,
                    e2e=e2e,
                    mndt=tx.mndt,
                    rtr=code,
                    orig_e2e=e2e,
                    btc=("PMNT", "IDDT", "UPDD"),
                )
                ret.truth = [(i, -a) for i, a in tx.truth]
                for i, a in tx.truth:
                    self.open[i] += a
                self.add(self.when_ok(rd), "BFA", ret)
                w2 = rd + timedelta(days=r.randint(5, 15))
                if code == "AM04":
                    t2 = Tx(
                        tot,
                        "transfer_after_return",
                        "pays by transfer after the AM04 return",
                        payer_name=c.printed,
                        payer_iban=c.iban,
                        e2e="NOTPROVIDED",
                    )
                    t2.ustrd = (
                        "Suite rejet prélèvement " + " ".join(d.id for d in docs)
                        if len(docs) <= 4 and r.random() < 0.6
                        else f"regul prelevement rejete {m:02d}/{y}"
                    )
                    t2.truth = self.take(docs)
                    self.add(self.when_ok(w2), "BFA", t2)
                elif code == "MD06" and len(docs) > 1:
                    keep = max(docs, key=lambda d: d.amount)
                    rest = [d for d in docs if d is not keep]
                    if sum(self.open[d.id] for d in rest) > 0:
                        t2 = Tx(
                            sum(self.open[d.id] for d in rest),
                            "transfer_after_dispute",
                            f"after disputing the debit pays all but {keep.id}",
                            payer_name=c.printed,
                            payer_iban=c.iban,
                            e2e="NOTPROVIDED",
                            ustrd="Contestation prlv - paiement " + " ".join(d.id for d in rest),
                        )
                        t2.truth = self.take(rest)
                        self.add(self.when_ok(w2), "BFA", t2)
                elif code == "AC04":
                    c.iban = fr_iban(r)
                    t2 = Tx(
                        tot,
                        "transfer_after_return",
                        "account closed: pays from a new account we do not know",
                        payer_name=c.printed,
                        payer_iban=c.iban,
                        e2e="NOTPROVIDED",
                        ustrd="Nouveau compte - factures " + " ".join(d.id for d in docs)[:100],
                    )
                    t2.truth = self.take(docs)
                    self.add(self.when_ok(w2), "BFA", t2)
                    for d in self.by_cust[c.id]:
                        if d.dtype == "invoice" and d.issue > w2:
                            self.pay_single(c, d, self.jitter_due(d))
                    return

    def run_cheque(self, c: Cust):
        r = self.r
        for d in self.by_cust[c.id]:
            if d.dtype != "invoice" or not self.open[d.id]:
                continue
            got = d.issue + timedelta(days=r.randint(5, 10))
            dep = got + timedelta(days=(1 - got.weekday()) % 7 or 3)  # Tuesday deposits
            dep = self.when_ok(dep)
            if dep is None:
                continue
            cns = self.open_docs(c.id, got, "credit_note")
            docs = [d, cns[0]] if cns and r.random() < 0.35 else [d]
            amt = sum(self.open[x.id] for x in docs)
            if amt <= 0:
                docs, amt = [d], self.open[d.id]
            self.chq_no += r.randint(1, 40)
            drawer = c.printed if r.random() < 0.7 else self.payer(c, True)[0]
            tx = Tx(
                amt,
                "cheque_in_remittance",
                "cheque collected by our driver for " + " + ".join(x.id for x in docs),
                payer_name=drawer,
                chq=f"{self.chq_no:07d}",
                btc=("PMNT", "RCHQ", "CCHQ"),
            )
            tx.truth = self.take(docs)
            self.batches[("CHQ", "BFA", dep)].append(tx)

    def run_chain(self, key: str):
        r = self.r
        brand, ho, ctry = CHAINS[key]
        stores = [c for c in self.w.custs if c.chain == key]
        acct = "BHE" if ctry == "BE" else ("BFA" if key == "OPALE" else "CCN")
        for y, m in [(2024, 12), *MONTHS[:-1]]:
            first = date(y, m, 1)
            nxt = date(y + m // 12, m % 12 + 1, 1)
            docs = [
                d
                for c in stores
                for d in self.by_cust[c.id]
                if first <= d.issue < nxt and self.open[d.id]
            ]
            docs.sort(key=lambda d: (d.issue, d.id))
            if not docs or sum(self.open[d.id] for d in docs) <= 0:
                continue
            when = self.when_ok(nxt + timedelta(days=r.randint(25, 33)))
            if when is None:
                continue
            avis = f"{y}{m:02d}{r.randint(100, 999)}"
            tx = Tx(
                0,
                "",
                "",
                payer_name=ho,
                payer_iban=iban_make(ctry, "30004" * 4 + "123")
                if ctry == "FR"
                else be_iban(random.Random(key)),
                e2e=f"AVIS{avis}",
            )
            roll = r.random()
            inv = [d for d in docs if d.dtype == "invoice"]
            if acct == "CCN":
                nums = " ".join(d.id for d in docs)
                if roll < 0.5 and len(nums) < 280:
                    tx.ustrd = f"REGLT {m:02d}-{y} {nums}"
                    tx.kind = "central_ustrd_list"
                else:
                    tx.ustrd = f"AVIS DE PAIEMENT {avis} {brand.upper()}"
                    tx.kind = "central_no_reference"
                tx.amount = sum(self.open[d.id] for d in docs)
                tx.truth = self.take(docs)
                tx.note = (
                    f"head office pays {len(docs)} documents of {len({d.cid for d in docs})} stores"
                )
                self.add(when, acct, tx)
                continue
            penalty = 0
            if roll < 0.25:
                pen_doc = r.choice(inv)
                penalty = min(r.randint(50, 400) * 100, self.open[pen_doc.id] - 100)
            strd = []
            for d in docs:
                due = abs(self.open[d.id])
                e = {
                    "nb": d.id,
                    "tp": "CINV" if d.dtype == "invoice" else "CREN",
                    "dt": d.issue,
                    "due": due,
                    "paid": due,
                    "adj": 0,
                }
                if penalty and d is pen_doc:
                    e["adj"] = penalty
                    e["paid"] = due - penalty
                strd.append(e)
            tx.amount = sum(self.open[d.id] for d in docs) - penalty
            truth = self.take(docs)
            if penalty:
                truth = [(i, a - penalty if i == pen_doc.id else a) for i, a in truth]
                self.open[pen_doc.id] = penalty
            tx.truth = truth
            if roll < 0.35 and not penalty:
                tx.ustrd = f"PAIEMENT FOURNISSEUR AVIS {avis}"
                tx.kind = "central_no_reference"
                tx.note = "head office pays without a remittance advice"
            else:
                tx.strd = strd
                tx.ustrd = f"AVIS {avis}"
                tx.kind = "central_remittance_penalty" if penalty else "central_remittance"
                tx.note = f"head office remittance of {len(docs)} documents" + (
                    f", deducting a {money(penalty)} late-delivery penalty" if penalty else ""
                )
            self.add(when, acct, tx)

    def run_club(self, c: Cust):
        r = self.r
        ej = [d for d in self.by_cust[c.id] if d.po.startswith("EJ") and d.dtype == "invoice"]
        for d in self.by_cust[c.id]:
            if d.dtype == "invoice" and not d.po:
                self.pay_single(c, d, self.jitter_due(d))
        town = r.choice(
            [
                "VILLE DE ROUBAIX",
                "VILLE DE TOURCOING",
                "MAIRIE DE LAMBERSART",
                "VILLE DE DOUAI",
                "COMMUNE D ARMENTIERES",
            ]
        )
        i = 0
        while i < len(ej):
            grp = [ej[i]]
            if i + 1 < len(ej) and r.random() < 0.2:
                grp.append(ej[i + 1])
            i += len(grp)
            when = self.when_ok(grp[-1].issue + timedelta(days=r.randint(35, 75)))
            if when is None:
                continue
            mandat = f"{r.randint(100, 9999)}"
            tx = Tx(
                sum(self.open[d.id] for d in grp),
                "",
                "",
                payer_name=r.choice(
                    ["DRFIP HAUTS DE FRANCE ET NORD", "TRESOR PUBLIC", "DRFIP HAUTS DE FRANCE"]
                ),
                payer_iban=iban_make("FR", "30001" + "00806" + "0000B" + "123456" + "44"),
                e2e="NOTPROVIDED",
            )
            if r.random() < 0.62:
                ejs = " ".join(d.po if r.random() < 0.6 else d.po.replace("-", " ") for d in grp)
                tx.ustrd = f"MANDAT {mandat} {ejs} {town}"
                tx.kind = "treasury_engagement"
                tx.note = f"town pays {c.name} via the Treasury quoting the engagement number"
            else:
                tx.ustrd = f"MANDAT N {mandat} BORD {r.randint(10, 400)} {town}"
                tx.kind = "treasury_mandat_only"
                tx.note = f"town pays {c.name} via the Treasury quoting only its own mandate"
            tx.truth = self.take(grp)
            self.add(when, "CCN", tx)

    def run_fest(self, c: Cust):
        r = self.r
        for pf, ev, amt in self.w.plans.get(c.id, []):
            doc = next((d for d in self.by_cust[c.id] if d.po == pf), None)
            dep_amt = round(amt * 0.3 / 10000) * 10000
            when = self.when_ok(ev - timedelta(days=r.randint(30, 60)))
            if doc is None or when is None:
                continue
            if r.random() < 0.78:
                u = r.choice(
                    [f"Acompte {pf}", f"Acompte pro forma {pf}", f"ACOMPTE PROFORMA {pf} FESTIVAL"]
                )
                k = "festival_deposit_proforma"
            else:
                u, k = "Acompte festival boissons", "festival_deposit_no_reference"
            tx = Tx(
                dep_amt,
                k,
                f"30% deposit on pro forma {pf} before the event (invoice {doc.id})",
                payer_name=c.printed,
                payer_iban=c.iban,
                ustrd=u,
                e2e="NOTPROVIDED",
            )
            tx.truth = self.take_part(doc, dep_amt)
            self.add(when, "BFA", tx)
            w2 = self.when_ok(doc.issue + timedelta(days=r.randint(8, 30)))
            if w2 is None:
                continue
            rest = self.open[doc.id]
            u = r.choice(
                [
                    f"Solde {doc.id}",
                    f"Solde {pf}",
                    f"Solde facture {doc.ref}",
                    f"SOLDE FESTIVAL FACT {doc.id}",
                ]
            )
            tx2 = Tx(
                rest,
                "festival_balance",
                f"balance of {doc.id} after the event",
                payer_name=c.printed,
                payer_iban=c.iban,
                ustrd=u,
                e2e="NOTPROVIDED",
            )
            tx2.truth = self.take([doc])
            self.add(w2, "BFA", tx2)

    def run_factored(self, c: Cust):
        r = self.r
        factor = FACTORS[int(c.id[1:]) % 2]
        for d in self.by_cust[c.id]:
            if d.dtype != "invoice":
                continue
            if d.amount < 60000 or r.random() < 0.25:
                k = d.amount >= 60000
                before = len(self.txs)
                self.pay_single(c, d, self.jitter_due(d), escompte_ok=not k)
                if (
                    k
                    and len(self.txs) > before
                    and self.txs[-1][2].kind
                    in ("invoice_number", "rf_structured", "rf_clean", "no_reference")
                ):
                    self.txs[-1][2].kind = "factored_paid_direct"
                    self.txs[-1][2].note += " (invoice assigned to the factor, paid to us anyway)"
                continue
            when = self.when_ok(d.due + timedelta(days=r.randint(2, 20)))
            if when is None:
                continue
            tx = Tx(
                self.open[d.id],
                "",
                "",
                payer_name=factor,
                payer_iban=iban_make(
                    "FR", f"{30066:05d}{10021:05d}000{int(c.id[1:]) % 2}0567891" + "07"
                ),
                e2e="NOTPROVIDED",
            )
            if r.random() < 0.6:
                tx.ustrd = f"{factor.split()[0]} REGLT DEBITEUR {c.printed[:20]} {d.id}"
                tx.kind = "factor_names_invoice"
            else:
                tx.ustrd = f"REMISE N {r.randint(100000, 999999)} AFFACTURAGE"
                tx.kind = "factor_own_reference"
            tx.note = f"factoring company pays {d.id} instead of {c.id}"
            tx.truth = self.take([d])
            self.add(when, "CCN", tx)

    def run_all(self):
        r = self.r
        for c in self.w.custs:
            seg, h = c.segment, c.habit
            if seg == "cafe":
                {
                    "each": self.run_each,
                    "weekly": self.run_weekly,
                    "releve": self.run_releve,
                    "onacc": self.run_onacc,
                    "sdd": self.run_sdd,
                    "cheque": self.run_cheque,
                    "private": lambda c: self.run_each(c, private=True),
                }[h](c)
            elif seg == "rest":
                if c.factored:
                    self.run_factored(c)
                elif r.random() < 0.25:
                    self.run_weekly(c)
                else:
                    self.run_each(c)
            elif seg == "club":
                self.run_club(c)
            elif seg == "fest":
                self.run_fest(c)
            elif seg == "be_cafe":
                if r.random() < 0.22:
                    self.run_weekly(c)
                else:
                    self.run_each(c)
            elif seg == "nl":
                self.run_each(c)
        for key in CHAINS:
            self.run_chain(key)
        self.run_other()

    # -- everything else on the accounts ------------------------------------------------------
    def other(
        self,
        when: date,
        acct: str,
        amount: int,
        kind: str,
        note: str,
        party: str,
        text: str,
        category: str,
        btc: tuple,
        iban: str = "",
    ):
        w = self.when_ok(when)
        t = Tx(
            amount,
            kind,
            note,
            category=category,
            payer_name=party,
            payer_iban=iban,
            ustrd=text,
            e2e="NOTPROVIDED",
            btc=btc,
        )
        self.add(w, acct, t)

    def run_other(self):
        r = self.r
        out, dd, card = ("PMNT", "ICDT", "ESCT"), ("PMNT", "RDDT", "ESDD"), ("PMNT", "CCRD", "POSD")
        breweries = [
            ("BRASSERIE DE LA LYS SAS", "FR"),
            ("BROUWERIJ SCHELDELAND NV", "BE"),
            ("BIERES DE L AVESNOIS SARL", "FR"),
            ("SOURCES DU PAYS D OPALE SA", "FR"),
            ("CIDRERIE DU BOCAGE SAS", "FR"),
            ("DISTILLERIE DU MONT CASSEL", "FR"),
        ]
        biban = {b: (fr_iban(r) if c == "FR" else be_iban(r)) for b, c in breweries}
        f = self.w.n_invoices / 1500  # other traffic grows with the business
        for y, m in MONTHS:
            mn = strip_acc(MONTH_FR[m - 1]).upper()
            d = lambda day, y=y, m=m: date(y, m, min(day, 28))  # noqa: E731
            self.other(
                d(28),
                "BFA",
                -r.randint(1800000, 2200000),
                "salaries",
                "monthly salaries (bulk transfer)",
                "PERSONNEL FBD",
                f"VIR SEPA SALAIRES {mn} {y}",
                "debit",
                out,
            )
            self.other(
                d(15),
                "BFA",
                -r.randint(700000, 900000),
                "urssaf",
                "social charges",
                "URSSAF NORD PAS DE CALAIS",
                f"COTISATIONS {m:02d}/{y} SIRET 41234567800029",
                "debit",
                dd,
            )
            self.other(
                d(10),
                "BFA",
                -r.randint(900000, 1400000),
                "excise_duty",
                "excise duties on alcohol (douane)",
                "DGDDI RECETTE DES DOUANES LILLE",
                f"DROITS D ACCISES ET COTISATION SECU {m:02d}/{y}",
                "debit",
                out,
            )
            for _ in range(max(1, round(7 * f))):
                b = r.choice(breweries)[0]
                self.other(
                    d(r.randint(2, 27)),
                    "BFA",
                    -r.randint(400000, 1500000),
                    "supplier_payment",
                    "we pay a brewery / supplier",
                    b,
                    f"REGLEMENT FACTURES {r.randint(10000, 99999)} {b[:12]}",
                    "debit",
                    out,
                    biban[b],
                )
            for wk in range(max(1, min(4, round(4 * f)))):
                self.other(
                    d(3 + 7 * wk),
                    "BFA",
                    -r.randint(60000, 140000),
                    "fuel_card",
                    "weekly fuel card statement",
                    "CARBUNORD CARTES FLOTTE",
                    f"PRLV CARTES CARBURANT RELEVE {r.randint(100000, 999999)}",
                    "debit",
                    dd,
                )
                self.other(
                    d(5 + 7 * wk),
                    "BFA",
                    r.randint(80000, 400000),
                    "card_payout",
                    "card terminal payout of the cash-and-carry counter",
                    "CB COMPTOIR",
                    f"REMISE CB {r.randint(1000000, 9999999)} TPE 0042",
                    "credit_other",
                    card,
                )
            self.other(
                d(5),
                "BFA",
                -324000,
                "truck_leasing",
                "truck leasing instalment",
                "NORDLEASE POIDS LOURDS SAS",
                f"LOYER {m:02d}/{y} CONTRAT LPL-20931",
                "debit",
                dd,
            )
            self.other(
                d(12),
                "BFA",
                -162000,
                "loan_repayment",
                "loan instalment",
                "BFA PRETS",
                f"ECHEANCE PRET 0045871 {m:02d}/{y}",
                "debit",
                ("LDAS", "CSLN", "RIMB"),
            )
            sweep = r.randint(18, 26) * 100000
            self.other(
                d(20),
                "CCN",
                -sweep,
                "internal_transfer",
                "sweep to our BFA account",
                "FLANDRES BOISSONS DISTRIBUTION",
                "VIREMENT INTERNE VERS BFA",
                "internal",
                out,
            )
            self.other(
                d(20),
                "BFA",
                sweep,
                "internal_transfer",
                "sweep from our CCN account",
                "FLANDRES BOISSONS DISTRIBUTION",
                "VIREMENT INTERNE DE CCN",
                "internal",
                ("PMNT", "RCDT", "BOOK"),
            )
            self.other(
                d(27),
                "BHE",
                -r.randint(300000, 500000),
                "internal_transfer",
                "cash pooling to the parent's BFA account",
                "FLANDRES BOISSONS DISTRIBUTION",
                "CASH POOLING FR01",
                "internal",
                out,
            )
            self.other(d(27), "BFA", 0, "internal_transfer", "", "", "", "internal", out)
            # make the pooling credit equal the BHE debit
            self.txs[-1][2].amount = -self.txs[-2][2].amount
            self.txs[-1][2].note = "cash pooling from the Belgian subsidiary"
            self.txs[-1][2].payer_name = "FLANDRES BOISSONS BELGIQUE SRL"
            self.txs[-1][2].ustrd = "CASH POOLING BE01"
            for acct, fee in (
                ("BFA", r.randint(6000, 14000)),
                ("CCN", r.randint(2500, 5000)),
                ("BHE", r.randint(1800, 4500)),
            ):
                self.other(
                    d(28) if m != 2 else d(27),
                    acct,
                    -fee,
                    "bank_fees",
                    "account fees",
                    ACCOUNTS[acct]["bank"].upper(),
                    f"FRAIS TENUE DE COMPTE {m:02d}/{y}",
                    "fee",
                    ("ACMT", "MDOP", "CHRG"),
                )
            self.other(
                d(8),
                "CCN",
                -r.randint(120000, 180000),
                "insurance",
                "fleet insurance",
                "MUTUELLE ASSURANCE TRANSPORTS NORD",
                f"PRLV ASSURANCE FLOTTE {m:02d}/{y}",
                "debit",
                dd,
            )
            self.other(
                d(25),
                "BHE",
                -r.randint(400000, 600000),
                "salaries",
                "Belgian salaries",
                "PERSONEEL FBB",
                f"SALAIRES/LONEN {m:02d}/{y}",
                "debit",
                out,
            )
            self.other(
                d(5),
                "BHE",
                -r.randint(120000, 180000),
                "social_security",
                "Belgian social security",
                "ONSS-RSZ",
                f"ONSS TRIM COTISATIONS {m:02d}/{y}",
                "debit",
                out,
            )
            self.other(
                d(15),
                "BHE",
                -r.randint(200000, 400000),
                "excise_duty",
                "Belgian excise duties",
                "SPF FINANCES ACCISES",
                f"ACCISES/ACCIJNZEN {m:02d}/{y}",
                "debit",
                out,
            )
            self.other(
                d(r.randint(3, 25)),
                "BHE",
                -r.randint(200000, 600000),
                "supplier_payment",
                "we pay a Belgian brewery",
                "BROUWERIJ SCHELDELAND NV",
                f"FACTUUR {r.randint(20250000, 20259999)}",
                "debit",
                out,
                biban["BROUWERIJ SCHELDELAND NV"],
            )
            for _ in range(max(1, round(2 * f))):
                b = r.choice(breweries)[0]
                self.other(
                    d(r.randint(2, 27)),
                    "CCN",
                    -r.randint(200000, 900000),
                    "supplier_payment",
                    "we pay a supplier from the CCN account",
                    b,
                    f"FACTURE {r.randint(10000, 99999)}",
                    "debit",
                    out,
                    biban[b],
                )
            self.other(
                d(r.randint(2, 27)),
                "BHE",
                -r.randint(50000, 200000),
                "supplier_payment",
                "we pay a Belgian packaging supplier",
                "VERPAKKINGEN DE LEIE BV",
                f"FACT {r.randint(250000, 259999)}",
                "debit",
                out,
            )
            if m in (3, 6, 9, 12) and y == 2025:
                self.other(
                    d(28),
                    "BFA",
                    r.randint(1000, 9000),
                    "interest",
                    "credit interest",
                    "BFA",
                    f"INTERETS CREDITEURS T{m // 3}",
                    "interest",
                    ("ACMT", "MDOP", "INTR"),
                )
            if m in (4, 10) and y == 2025:
                self.other(
                    d(18),
                    "BFA",
                    r.randint(800000, 2600000),
                    "vat_refund",
                    "VAT credit refund",
                    "DGFIP SIE LILLE NORD",
                    "REMBOURSEMENT CREDIT TVA",
                    "credit_other",
                    ("PMNT", "RCDT", "ESCT"),
                )
            if m in (2, 7) and y == 2025:
                b = breweries[m % 3][0]
                self.other(
                    d(16),
                    "BFA",
                    r.randint(30000, 250000),
                    "supplier_refund",
                    "a brewery refunds a credit note to us",
                    b,
                    f"REMBOURSEMENT AVOIR {r.randint(1000, 9999)}",
                    "credit_other",
                    ("PMNT", "RCDT", "ESCT"),
                    biban[b],
                )
            if (y, m) == (2025, 6):
                self.other(
                    d(3),
                    "BFA",
                    15000000,
                    "loan_disbursement",
                    "new truck loan paid out",
                    "BFA PRETS",
                    "DEBLOCAGE PRET 0051234",
                    "credit_other",
                    ("LDAS", "CSLN", "DDWN"),
                )

    # -- booked entries -------------------------------------------------------------------------
    def assemble(self) -> list[Entry]:
        r = self.r
        entries = [Entry(a, d, [t], btc=t.btc) for d, a, t in self.txs]
        for key in sorted(self.batches):
            typ, acct, d = key
            txs = self.batches[key]
            if len(txs) == 1:
                t = txs[0]
                t.kind = "cheque_single" if typ == "CHQ" else "sdd_single"
                entries.append(Entry(acct, d, txs, btc=t.btc))
                continue
            mode = "details" if r.random() < 0.75 else "nodetails"
            lab = (
                f"REMISE DE CHEQUES N {r.randint(100000, 999999)} {len(txs)} CHQ"
                if typ == "CHQ"
                else f"REMISE PRLV SEPA CORE {d.strftime('%d%m%y')} {len(txs)} OPERATIONS"
            )
            entries.append(Entry(acct, d, txs, batch=mode, label=lab, btc=txs[0].btc))
        for e in entries:
            e.order = r.random()
        entries.sort(key=lambda e: (e.date, e.order))
        counters: Counter = Counter()
        for e in entries:
            counters[(e.account, e.date)] += 1
            n = counters[(e.account, e.date)]
            ymd = e.date.strftime("%y%m%d")
            if e.account == "BFA":
                e.ref = f"BFA{ymd}{n:05d}"
            elif e.account == "CCN":
                e.ref = f"CCN{ymd}{n:04d}"
            else:
                e.ref = f"BHE-{ymd}-{n:04d}"
            e.file = f"{ACCOUNTS[e.account]['prefix']}_{e.date:%Y-%m}.{ACCOUNTS[e.account]['ext']}"
            if e.batch == "details":
                for i, t in enumerate(e.txs, 1):
                    t.ref = f"{e.ref}-{i}"
            else:
                for t in e.txs:
                    t.ref = e.ref
        return entries


# ----------------------------------------------------------------------------------------------
# what each bank shows
# ----------------------------------------------------------------------------------------------


def mt_clean(s: str) -> str:
    s = strip_acc(s).upper().replace("/", " ")
    s = re.sub(r"[^A-Z0-9 .,\-?:()'+]", " ", s)
    return re.sub(r" +", " ", s).strip()


def shown(e: Entry, t: Tx) -> dict:
    """The fields the statement file shows for one booked line (or batch detail)."""
    fmt = ACCOUNTS[e.account]["fmt"]
    v = {
        "amount": t.amount,
        "date": e.date,
        "category": t.category,
        "e2e": t.e2e,
        "rtr": t.rtr,
        "orig_e2e": t.orig_e2e,
        "name": t.payer_name,
        "iban": t.payer_iban,
        "ustrd": t.ustrd[:140],
        "cdtr_ref": t.cdtr_ref,
        "strd": t.strd,
        "addtl": "",
    }
    if fmt == "mt940":
        remi = " ".join(x for x in (t.ustrd, t.cdtr_ref) if x)
        v.update(
            ustrd=mt_clean(remi)[:140],
            cdtr_ref="",
            strd=[],
            iban="",
            name=mt_clean(t.payer_name)[:35],
            e2e=mt_clean(t.e2e)[:35],
        )
    if fmt == "camt02" and t.e2e.startswith(("E2E", "VIR", "PAY")):
        v["e2e"] = "NOTPROVIDED"
    return v


# ----------------------------------------------------------------------------------------------
# the careful controller (the product's written policy)
# ----------------------------------------------------------------------------------------------

P_FULL = re.compile(r"(?<![A-Z0-9])(FA|AV|FT|NC)[ \-./]*(20\d\d|\d\d)[ \-./]+(\d{1,7})(?!\d)")
P_GLUED = re.compile(r"(?<![A-Z0-9])(FA|AV|FT|NC)(20\d\d)(\d{3,7})(?!\d)")
P_PO = re.compile(r"EJ ?(20\d\d)[ \-]?(\d{6})|PF ?(\d\d)[ \-]?(\d{4})|CDE ?(\d{10})")
P_KEN = re.compile(r"(?<!\d)(\d{4} ?\d{4} ?\d{4} ?\d{4})(?!\d)")
P_OGM = re.compile(r"(?<!\d)\+{0,3} ?(\d{3}) ?/? ?(\d{4}) ?/? ?(\d{5}) ?\+{0,3}(?!\d)")
P_YS = re.compile(r"(?<![\d/\-])(20\d\d) ?[/\-] ?(\d{1,7})(?![\d/])")
P_BARE = re.compile(r"(?<![\d/A-Z\-])(\d{1,7})(?![\d/A-Z])")
P_INVWORD = re.compile(r"FACT|FCT|REKENING|INVOICE|AVOIR|NOTA")


class Controller:
    def __init__(self, w: World):
        self.w = w
        self.open = {d.id: d.amount for d in w.docs}
        self.iban = {c.iban_file: c.id for c in w.custs if c.iban_known}
        self.names: dict[str, list[str]] = defaultdict(list)
        for c in w.custs:
            self.names[norm_name(c.name)].append(c.id)
        self.by_ref = {d.ref: d for d in w.docs if d.ref}
        self.by_key = {(d.prefix, d.year, d.seq): d for d in w.docs}
        self.by_ys: dict[tuple, list[Doc]] = defaultdict(list)
        self.by_seq: dict[int, list[Doc]] = defaultdict(list)
        self.by_po: dict[str, list[Doc]] = defaultdict(list)
        self.by_cust: dict[str, list[Doc]] = defaultdict(list)
        for d in w.docs:
            self.by_ys[(d.year, d.seq)].append(d)
            self.by_seq[d.seq].append(d)
            self.by_cust[d.cid].append(d)
            if d.po:
                self.by_po[re.sub(r"[^A-Z0-9]", "", d.po)].append(d)
        self.settled: dict[str, list] = {}

    def payer(self, v: dict) -> str | None:
        if v["iban"] and v["iban"] in self.iban:
            return self.iban[v["iban"]]
        hits = self.names.get(norm_name(v["name"]), []) if v["name"] else []
        return hits[0] if len(hits) == 1 else None

    def named(self, v: dict, payer: str | None) -> tuple[list[Doc], bool]:
        """Documents the line names, and whether it must go to a person."""
        texts = [v["ustrd"], v["cdtr_ref"]]
        for s in v["strd"]:
            texts.append(s["nb"])
        up = strip_acc(" ".join(x for x in texts if x)).upper()
        found: list[Doc] = []

        def add(d: Doc):
            if d not in found:
                found.append(d)

        compact = re.sub(r"[^A-Z0-9]", "", up)
        for m in re.finditer(r"(?=RF\d{2}[A-Z0-9]{10})", compact):
            ref = compact[m.start() : m.start() + 14]
            if rf_ok(ref) and ref in self.by_ref:
                add(self.by_ref[ref])
        work = up
        for pat in (P_FULL, P_GLUED):
            for m in pat.finditer(work):
                y = int(m.group(2))
                y = y + 2000 if y < 100 else y
                d = self.by_key.get((m.group(1), y, int(m.group(3))))
                if d is not None:
                    add(d)
            work = pat.sub(" ", work)
        e2e = strip_acc(v["e2e"] or "").upper()
        for pat in (P_FULL, P_GLUED):
            m = pat.fullmatch(e2e)
            if m:
                y = int(m.group(2))
                y = y + 2000 if y < 100 else y
                d = self.by_key.get((m.group(1), y, int(m.group(3))))
                if d is not None:
                    add(d)
        for m in P_PO.finditer(work):
            key = re.sub(r"[^A-Z0-9]", "", m.group(0))
            docs = self.by_po.get(key, [])
            if len({d.cid for d in docs}) > 1:
                return found, True
            for d in docs:
                add(d)
        work = P_PO.sub(" ", work)
        for m in P_KEN.finditer(work):
            k = m.group(1).replace(" ", "")
            if kenmerk_ok(k):
                d = self.by_key.get(("FT", 2000 + int(k[6:8]), int(k[8:16])))
                if d is not None:
                    add(d)
        work = P_KEN.sub(" ", work)
        for m in P_OGM.finditer(work):
            dig = "".join(m.groups())
            if ogm_ok(dig) and dig[2] == "1":
                d = self.by_key.get(("FT", 2000 + int(dig[:2]), int(dig[3:10])))
                if d is not None:
                    add(d)
        work = P_OGM.sub(" ", work)
        for m in P_YS.finditer(work):
            cands = [
                d
                for d in self.by_ys.get((int(m.group(1)), int(m.group(2))), [])
                if payer is None or d.cid == payer
            ]
            if len(cands) > 1:
                return found, True
            if cands:
                add(cands[0])
        work = P_YS.sub(" ", work)
        if not found and P_INVWORD.search(work):
            for m in P_BARE.finditer(work):
                n = int(m.group(1))
                if 2024 <= n <= 2026 or n == 0:
                    continue
                cands = [d for d in self.by_seq.get(n, []) if payer is None or d.cid == payer]
                if len(cands) > 1:
                    return found, True
                if cands:
                    add(cands[0])
        return found, False

    def subset(self, docs: list[Doc], target: int) -> list[Doc] | None:
        neg = [d for d in docs if self.open[d.id] < 0]
        pos = [d for d in docs if self.open[d.id] > 0]
        off = -sum(self.open[d.id] for d in neg)
        top = target + off
        if top < 0:
            return None
        mask = (1 << (top + 1)) - 1
        one, two = 1 << off, 0
        layers = []
        for d in neg + pos:
            a = self.open[d.id]
            layers.append(one)
            if a < 0:
                s1, s2 = one >> -a, two >> -a
            else:
                s1, s2 = (one << a) & mask, (two << a) & mask
            two = two | s2 | (one & s1)
            one = one | s1
        if not (one >> top) & 1 or (two >> top) & 1:
            return None
        chosen, p = [], top
        items = neg + pos
        for i in range(len(items) - 1, -1, -1):
            if (layers[i] >> p) & 1:
                continue
            chosen.append(items[i])
            p -= self.open[items[i].id]
        return chosen[::-1]

    def post(self, allocs: list) -> list:
        for i, a in allocs:
            self.open[i] -= a
        return allocs

    def decide(self, v: dict) -> tuple[str, list | None]:
        cat = v["category"]
        if cat in ("debit", "internal", "interest", "fee"):
            return "auto", []
        if cat == "credit_other":
            return "person", None
        if cat == "return":
            allocs = self.settled.pop(v["orig_e2e"], None)
            if allocs is None:
                return "person", None
            return "auto", self.post([(i, -a) for i, a in allocs])
        payer = self.payer(v)
        docs, to_person = self.named(v, payer)
        amt = v["amount"]
        if to_person:
            return "person", None
        if docs:
            if payer is not None and any(d.cid != payer for d in docs):
                return "person", None
            if any(self.open[d.id] == 0 for d in docs):
                return "person", None
            total = sum(self.open[d.id] for d in docs)
            if amt == total:
                return "auto", self.post([(d.id, self.open[d.id]) for d in docs])
            if payer is not None:
                cns = [
                    d
                    for d in self.by_cust[payer]
                    if d.dtype == "credit_note"
                    and self.open[d.id] < 0
                    and d.issue <= v["date"]
                    and d not in docs
                ]
                if len(cns) == 1 and amt == total + self.open[cns[0].id]:
                    return "auto", self.post([(d.id, self.open[d.id]) for d in [*docs, cns[0]]])
            if len(docs) == 1 and docs[0].dtype == "invoice" and amt > 0:
                d = docs[0]
                if amt < self.open[d.id]:
                    esc = re.search(r"ESCOMPTE|SKONTO", strip_acc(v["ustrd"]).upper())
                    allocs = [(d.id, amt)]
                    self.post(allocs)
                    if esc:
                        self.open[d.id] = 0
                    return "auto", allocs
                return "auto", self.post([(d.id, self.open[d.id])])
            return "person", None
        if payer is None or amt <= 0:
            return "person", None
        cand = [d for d in self.by_cust[payer] if self.open[d.id] != 0 and d.issue <= v["date"]]
        hit = self.subset(cand, amt)
        if hit is None:
            return "person", None
        return "auto", self.post([(d.id, self.open[d.id]) for d in hit])

    def run(self, entries: list[Entry]):
        for e in entries:
            if e.batch == "nodetails":
                for t in e.txs:
                    t.expected, t.ctrl_alloc = "person", None
                continue
            for t in e.txs:
                v = shown(e, t)
                t.expected, t.ctrl_alloc = self.decide(v)
                if t.expected == "auto" and t.category == "pay" and t.e2e.startswith("FBD-SDD"):
                    self.settled[t.e2e] = t.ctrl_alloc


# ----------------------------------------------------------------------------------------------
# statement files
# ----------------------------------------------------------------------------------------------

NS = {
    "camt08": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
    "camt02": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
}


class X:
    def __init__(self, ns: str):
        self.ns = ns

    def el(self, parent, tag: str, text: str | None = None, **attrs):
        e = etree.SubElement(parent, f"{{{self.ns}}}{tag}", **attrs)
        if text is not None:
            e.text = text
        return e

    def path(self, parent, tags: str, text: str | None = None):
        node = parent
        for t in tags.split("/"):
            node = self.el(node, t)
        node.text = text
        return node


def camt_write(
    acct: str, iban: str, y: int, m: int, seq: int, opening: int, entries: list[Entry]
) -> bytes:
    fmt = ACCOUNTS[acct]["fmt"]
    v8 = fmt == "camt08"
    x = X(NS[fmt])
    root = etree.Element(f"{{{x.ns}}}Document", nsmap={None: x.ns})
    stm = x.el(root, "BkToCstmrStmt")
    first = date(y, m, 1)
    last = date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)
    created = f"{(last + timedelta(days=1)).isoformat()}T05:30:00"
    gh = x.el(stm, "GrpHdr")
    x.el(gh, "MsgId", f"{acct}{y}{m:02d}STMT")
    x.el(gh, "CreDtTm", created)
    st = x.el(stm, "Stmt")
    x.el(st, "Id", f"{acct}-{y}-{m:02d}")
    x.el(st, "ElctrncSeqNb", str(seq))
    x.el(st, "CreDtTm", created)
    fr = x.el(st, "FrToDt")
    x.el(fr, "FrDtTm", f"{first.isoformat()}T00:00:00")
    x.el(fr, "ToDtTm", f"{last.isoformat()}T23:59:59")
    a = x.el(st, "Acct")
    x.path(a, "Id/IBAN", iban)
    x.el(a, "Ccy", "EUR")
    x.path(a, "Ownr/Nm", ACCOUNTS[acct]["owner"])
    x.path(a, "Svcr/FinInstnId/" + ("BICFI" if v8 else "BIC"), ACCOUNTS[acct]["bic"])
    closing = opening + sum(e.amount for e in entries)
    for code, amt, d in (("OPBD", opening, first), ("CLBD", closing, last)):
        b = x.el(st, "Bal")
        x.path(b, "Tp/CdOrPrtry/Cd", code)
        x.el(b, "Amt", money(abs(amt)), Ccy="EUR")
        x.el(b, "CdtDbtInd", "CRDT" if amt >= 0 else "DBIT")
        x.path(b, "Dt/Dt", d.isoformat())
    for e in entries:
        n = x.el(st, "Ntry")
        x.el(n, "Amt", money(abs(e.amount)), Ccy="EUR")
        x.el(n, "CdtDbtInd", "CRDT" if e.amount >= 0 else "DBIT")
        if v8:
            x.path(n, "Sts/Cd", "BOOK")
        else:
            x.el(n, "Sts", "BOOK")
        x.path(n, "BookgDt/Dt", e.date.isoformat())
        x.path(n, "ValDt/Dt", e.date.isoformat())
        x.el(n, "AcctSvcrRef", e.ref)
        btc = x.el(n, "BkTxCd")
        dm = x.el(btc, "Domn")
        x.el(dm, "Cd", e.btc[0])
        fm = x.el(dm, "Fmly")
        x.el(fm, "Cd", e.btc[1])
        x.el(fm, "SubFmlyCd", e.btc[2])
        nd = x.el(n, "NtryDtls")
        if e.batch:
            bt = x.el(nd, "Btch")
            x.el(bt, "NbOfTxs", str(len(e.txs)))
            x.el(bt, "TtlAmt", money(abs(e.amount)), Ccy="EUR")
            x.el(bt, "CdtDbtInd", "CRDT" if e.amount >= 0 else "DBIT")
        if e.batch != "nodetails":
            for t in e.txs:
                camt_tx(x, nd, e, t, v8)
        label = e.label or (e.txs[0].label if e.txs else "")
        if not label:
            t = e.txs[0]
            label = {
                "RCDT": "VIR SEPA RECU",
                "ICDT": "VIR SEPA EMIS",
                "RDDT": "PRLV SEPA",
                "IDDT": "IMPAYE PRLV SEPA",
                "RCHQ": "REMISE CHEQUE",
                "CCRD": "REMISE CARTE",
                "MDOP": "FRAIS/INTERETS",
                "CSLN": "PRET",
            }.get(e.btc[1], "OPERATION")
            label = f"{label} {strip_acc(t.payer_name)}"[:140].strip()
        x.el(n, "AddtlNtryInf", label)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def camt_tx(x: X, nd, e: Entry, t: Tx, v8: bool):
    v = shown(e, t)
    td = x.el(nd, "TxDtls")
    refs = x.el(td, "Refs")
    if e.batch == "details":
        x.el(refs, "AcctSvcrRef", t.ref)
    if v["e2e"]:
        x.el(refs, "EndToEndId", v["e2e"])
    if t.mndt:
        x.el(refs, "MndtId", t.mndt)
    if t.chq:
        x.el(refs, "ChqNb", t.chq)
    if len(refs) == 0:
        td.remove(refs)
    if v8:
        x.el(td, "Amt", money(abs(t.amount)), Ccy="EUR")
        x.el(td, "CdtDbtInd", "CRDT" if t.amount >= 0 else "DBIT")
    else:
        x.el(x.el(x.el(td, "AmtDtls"), "TxAmt"), "Amt", money(abs(t.amount)), Ccy="EUR")
    credit = t.amount >= 0 or t.category == "return"
    if v["name"] or v["iban"]:
        rp = x.el(td, "RltdPties")
        role = "Dbtr" if credit else "Cdtr"
        if v["name"]:
            x.path(rp, f"{role}/Pty/Nm" if v8 else f"{role}/Nm", v["name"])
        if v["iban"]:
            x.path(rp, f"{role}Acct/Id/IBAN", v["iban"])
    if v["ustrd"] or v["strd"] or v["cdtr_ref"]:
        ri = x.el(td, "RmtInf")
        if v["ustrd"]:
            x.el(ri, "Ustrd", v["ustrd"])
        for s in v["strd"]:
            sd = x.el(ri, "Strd")
            rd = x.el(sd, "RfrdDocInf")
            x.path(rd, "Tp/CdOrPrtry/Cd", s["tp"])
            x.el(rd, "Nb", s["nb"])
            x.el(rd, "RltdDt", s["dt"].isoformat())
            ra = x.el(sd, "RfrdDocAmt")
            if s["tp"] == "CINV":
                x.el(ra, "DuePyblAmt", money(s["due"]), Ccy="EUR")
                if s["adj"]:
                    adj = x.el(ra, "AdjstmntAmtAndRsn")
                    x.el(adj, "Amt", money(s["adj"]), Ccy="EUR")
                    x.el(adj, "CdtDbtInd", "DBIT")
                    x.el(adj, "Rsn", "PENA")
                    x.el(adj, "AddtlInf", "PENALITE RETARD DE LIVRAISON")
                x.el(ra, "RmtdAmt", money(s["paid"]), Ccy="EUR")
            else:
                x.el(ra, "CdtNoteAmt", money(s["due"]), Ccy="EUR")
            if s["adj"]:
                x.el(sd, "AddtlRmtInf", "PENALITE RETARD DE LIVRAISON DEDUITE")
        if v["cdtr_ref"]:
            sd = x.el(ri, "Strd")
            cr = x.el(sd, "CdtrRefInf")
            tp = x.el(cr, "Tp")
            x.path(tp, "CdOrPrtry/Cd", "SCOR")
            x.el(tp, "Issr", t.cdtr_issr or "ISO")
            x.el(cr, "Ref", v["cdtr_ref"])
    if t.rtr:
        ri = x.el(td, "RtrInf")
        x.path(ri, "Rsn/Cd", t.rtr)
        x.el(
            ri,
            "AddtlInf",
            {
                "AM04": "PROVISION INSUFFISANTE",
                "MD06": "CONTESTATION DEBITEUR",
                "AC04": "COMPTE CLOTURE",
            }[t.rtr],
        )


def mt_amount(c: int) -> str:
    return money(abs(c)).replace(".", ",")


def mt940_write(
    acct: str, iban: str, y: int, m: int, seq: int, opening: int, entries: list[Entry]
) -> bytes:
    first = date(y, m, 1)
    last = date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)
    lines = [f":20:{acct}{y % 100:02d}{m:02d}STMT", f":25:{iban}", f":28C:{seq:05d}/001"]

    def bal(tag, amt, d):
        return f":{tag}:{'C' if amt >= 0 else 'D'}{d:%y%m%d}EUR{mt_amount(amt)}"

    lines.append(bal("60F", opening, first - timedelta(days=1)))
    closing = opening
    for e in entries:
        t = e.txs[0]
        v = shown(e, t)
        code = {"CHRG": "NCHG", "INTR": "NINT", "ESDD": "NDDT"}.get(e.btc[2], "NTRF")
        lines.append(
            f":61:{e.date:%y%m%d}{e.date:%m%d}{'C' if e.amount >= 0 else 'D'}"
            f"{mt_amount(e.amount)}{code}NONREF//{e.ref}"
        )
        role = "ORDP" if e.amount >= 0 else "BENM"
        info = f"/EREF/{v['e2e'] or 'NOTPROVIDED'}/REMI/{v['ustrd']}/{role}/{v['name']}"
        chunks = [info[:61]] + [info[i : i + 65] for i in range(61, len(info), 65)]
        lines.append(":86:" + chunks[0])
        lines.extend(chunks[1:6])
        closing += e.amount
    lines.append(bal("62F", closing, last))
    lines.append("-")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


# ----------------------------------------------------------------------------------------------
# reading the files back (self-check)
# ----------------------------------------------------------------------------------------------


def read_camt(data: bytes, fmt: str) -> tuple[list, int, int, list[str]]:
    ns = {"c": NS[fmt]}
    root = etree.fromstring(data)
    errs = []
    rows = []
    bals = {}
    for b in root.iterfind(".//c:Stmt/c:Bal", ns):
        code = b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns)
        amt = round(float(b.findtext("c:Amt", namespaces=ns)) * 100)
        bals[code] = amt if b.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -amt
    total = 0
    for n in root.iterfind(".//c:Ntry", ns):
        amt = round(float(n.findtext("c:Amt", namespaces=ns)) * 100)
        sign = 1 if n.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
        ref = n.findtext("c:AcctSvcrRef", namespaces=ns)
        total += sign * amt
        dets = [
            t
            for t in n.iterfind("c:NtryDtls/c:TxDtls", ns)
            if t.findtext("c:Refs/c:AcctSvcrRef", namespaces=ns)
        ]
        if dets:
            s = 0
            for t in dets:
                a = t.findtext("c:Amt", namespaces=ns) or t.findtext(
                    "c:AmtDtls/c:TxAmt/c:Amt", namespaces=ns
                )
                sg = t.findtext("c:CdtDbtInd", namespaces=ns)
                sg = sign if sg is None else (1 if sg == "CRDT" else -1)
                a = sg * round(float(a) * 100)
                s += a
                rows.append((t.findtext("c:Refs/c:AcctSvcrRef", namespaces=ns), a))
            if s != sign * amt:
                errs.append(f"batch {ref} details {s} != entry {sign * amt}")
        else:
            rows.append((ref, sign * amt))
    if bals.get("OPBD", 0) + total != bals.get("CLBD"):
        errs.append("statement does not balance")
    return rows, bals.get("OPBD", 0), bals.get("CLBD", 0), errs


def read_mt940(data: bytes) -> tuple[list, int, int, list[str]]:
    text = data.decode("ascii")
    errs, rows = [], []
    op = cl = 0
    for line in text.split("\r\n"):
        if len(line) > 65:
            errs.append(f"line over 65 characters: {line[:30]}")
        m = re.match(r":6[02]F:([CD])\d{6}EUR([\d,]+)$", line)
        if m:
            a = round(float(m.group(2).replace(",", ".")) * 100) * (1 if m.group(1) == "C" else -1)
            if line.startswith(":60F:"):
                op = a
            else:
                cl = a
        m = re.match(r":61:\d{10}([CD])([\d,]+)N\w{3}NONREF//(\S+)$", line)
        if m:
            a = round(float(m.group(2).replace(",", ".")) * 100) * (1 if m.group(1) == "C" else -1)
            rows.append((m.group(3), a))
    if op + sum(a for _, a in rows) != cl:
        errs.append("statement does not balance")
    return rows, op, cl, errs


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list], delim: str = ",", bom: bool = False):
    buf = io.StringIO()
    wr = csv.writer(buf, delimiter=delim, lineterminator="\n")
    wr.writerow(header)
    wr.writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=71)
    ap.add_argument("--invoices", type=int, default=1500)
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    (out / "statements").mkdir(parents=True, exist_ok=True)
    for f in (out / "statements").iterdir():
        f.unlink()

    w = World(args.seed, args.invoices)
    w.build_customers()
    w.build_docs()
    acct_rng = random.Random(args.seed * 7 + 1)
    ibans = {
        "BFA": fr_iban(acct_rng, "17806"),
        "CCN": fr_iban(acct_rng, "14707"),
        "BHE": be_iban(acct_rng, "732"),
    }
    g = Gen(w)
    g.run_all()
    entries = g.assemble()
    ctrl = Controller(w)
    ctrl.run(entries)

    errors: list[str] = []
    # -- customers / invoices
    crow = []
    for c in w.custs:
        crow.append(
            [
                c.id,
                c.name,
                c.email,
                c.iban_file if c.iban_known else "",
                c.siren,
                c.vat,
                c.lang,
                c.entity,
            ]
        )
        if c.siren and not (luhn_ok(c.siren) and fr_vat(c.siren) == c.vat):
            errors.append(f"bad SIREN/VAT {c.id}")
        if not iban_ok(c.iban_file):
            errors.append(f"bad IBAN {c.id}")
    write_csv(
        out / "customers.csv",
        ["customer_id", "name", "email", "iban", "siren", "vat_number", "language", "legal_entity"],
        crow,
    )
    irow = []
    for d in w.docs:
        c = w.cust[d.cid]
        irow.append(
            [
                d.id,
                d.cid,
                c.name,
                d.issue.strftime("%d/%m/%Y"),
                d.due.strftime("%d/%m/%Y"),
                money_fr(d.amount),
                "EUR",
                d.ref,
                d.po,
                d.dtype,
                d.entity,
            ]
        )
        if d.ref and not rf_ok(d.ref):
            errors.append(f"bad RF {d.id}")
        if d.ogm and not ogm_ok(re.sub(r"\D", "", d.ogm)):
            errors.append(f"bad OGM {d.id}")
        if d.kenmerk and not kenmerk_ok(d.kenmerk):
            errors.append(f"bad kenmerk {d.id}")
    write_csv(
        out / "invoices.csv",
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
        ],
        irow,
        delim=";",
        bom=True,
    )

    # -- statements
    by_file: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_file[e.file].append(e)
    xsd = {
        f: etree.XMLSchema(etree.parse(str(XSD_DIR / f"camt.053.001.0{f[-1]}.xsd")))
        for f in ("camt02", "camt08")
    }
    gt_by_file: dict[str, list] = {}
    for acct, meta in ACCOUNTS.items():
        if not iban_ok(ibans[acct]):
            errors.append(f"bad own IBAN {acct}")
        bal = {"BFA": 31_245_012, "CCN": 8_412_377, "BHE": 12_904_455}[acct]
        for seq, (y, m) in enumerate(MONTHS, 1):
            fname = f"{meta['prefix']}_{y}-{m:02d}.{meta['ext']}"
            ents = by_file.get(fname, [])
            if meta["fmt"] == "mt940":
                data = mt940_write(acct, ibans[acct], y, m, seq, bal, ents)
                rows, op, cl, errs = read_mt940(data)
            else:
                data = camt_write(acct, ibans[acct], y, m, seq, bal, ents)
                doc = etree.fromstring(data)
                if not xsd[meta["fmt"]].validate(doc):
                    errors.append(f"{fname}: XSD {xsd[meta['fmt']].error_log.last_error}")
                rows, op, cl, errs = read_camt(data, meta["fmt"])
            errors.extend(f"{fname}: {x}" for x in errs)
            (out / "statements" / fname).write_bytes(data)
            gt_by_file[fname] = rows
            bal = cl
            if op + sum(e.amount for e in ents) != cl:
                errors.append(f"{fname}: closing balance")

    # -- ground truth
    gt = []
    seen_refs: set[str] = set()
    alloc_sum: Counter = Counter()
    mism = Counter()
    for e in entries:
        units = e.txs if e.batch != "nodetails" else [None]
        for t in units:
            if t is None:
                truth = [x for tt in e.txs for x in tt.truth]
                kind = "cheque_remittance_total" if e.btc[1] == "RCHQ" else "sdd_batch_no_details"
                note = (
                    f"batch of {len(e.txs)} without details: "
                    + "; ".join(tt.note for tt in e.txs)[:300]
                )
                ref, amount, exp = e.ref, e.amount, "person"
            else:
                truth, kind, note, ref, amount, exp = (
                    t.truth,
                    t.kind,
                    t.note,
                    t.ref,
                    t.amount,
                    t.expected,
                )
                if exp == "auto" and sorted(t.ctrl_alloc or []) != sorted(truth):
                    mism[kind] += 1
            if ref in seen_refs:
                errors.append(f"duplicate bank reference {ref}")
            seen_refs.add(ref)
            for i, a in truth:
                alloc_sum[i] += a
                if abs(a) > abs(w.doc[i].amount):
                    errors.append(f"allocation above document amount {i}")
            gt.append(
                [
                    ibans[e.account],
                    "EUR",
                    e.file,
                    e.date.isoformat(),
                    money(amount),
                    ref,
                    kind,
                    exp,
                    json.dumps([{"invoice_id": i, "amount": money(a)} for i, a in truth]),
                    note,
                ]
            )
    for i, s in alloc_sum.items():
        d = w.doc[i]
        if (d.amount > 0 and s > d.amount) or (d.amount < 0 and s < d.amount):
            errors.append(f"allocations above document amount {i}: {s} vs {d.amount}")
    # every booked line read back from its file
    for fname, rows in gt_by_file.items():
        want = [(r[5], round(float(r[4]) * 100)) for r in gt if r[2] == fname]
        if rows != want:
            errors.append(f"{fname}: read back {len(rows)} lines differ from truth {len(want)}")
    write_csv(
        out / "ground_truth.csv",
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
        ],
        gt,
    )

    # -- summary
    n = len(gt)
    cust_kinds = {r[6] for r in gt} - OTHER_KINDS
    n_cust = sum(1 for r in gt if r[6] in cust_kinds)
    n_auto = sum(1 for r in gt if r[7] == "auto")
    tab = Counter((r[6], r[7]) for r in gt)
    print(
        f"lines {n}, customer payments {n_cust} ({n_cust / n:.1%}), auto {n_auto} "
        f"({n_auto / n:.1%}); documents {len(w.docs)}, customers {len(w.custs)}"
    )
    print("| case_kind | auto | person |\n|---|---:|---:|")
    for k in sorted({r[6] for r in gt}):
        print(f"| {k} | {tab[(k, 'auto')]} | {tab[(k, 'person')]} |")
    if mism:
        print("auto lines whose controller posting differs from the real answer:", dict(mism))
    if errors:
        print("SELF-CHECK FAILED:", *errors[:30], sep="\n  ")
        return 1
    print("self-checks passed")
    return 0


OTHER_KINDS = {
    "salaries",
    "urssaf",
    "excise_duty",
    "supplier_payment",
    "fuel_card",
    "card_payout",
    "truck_leasing",
    "loan_repayment",
    "internal_transfer",
    "bank_fees",
    "insurance",
    "social_security",
    "interest",
    "vat_refund",
    "supplier_refund",
    "loan_disbursement",
    "refund_sent",
}

if __name__ == "__main__":
    sys.exit(main())
