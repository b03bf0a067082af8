"""Eighth evaluation company: Rhône Cuisines Pro (Lyon, FR01) and its Freiburg branch (DE01).

Generates customers, invoices, bank statements (camt.053 .02/.08, MT940) and the true answer
for every booked bank line, then self-checks everything.  Standard library + lxml only.
Usage: generate.py OUT_DIR --seed 61 --invoices 1500
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
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations
from pathlib import Path

from lxml import etree

XSD_DIR = Path("/work/shared/xsd")
if not XSD_DIR.exists():
    XSD_DIR = Path(__file__).resolve().parents[3] / "shared" / "xsd"
C = Decimal("0.01")
START = date(2025, 1, 1)
END = date(2026, 1, 31)


def q(x) -> Decimal:
    return Decimal(x).quantize(C, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- check digits
def _num(s: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in s))


def iban(country: str, bban: str) -> str:
    chk = 98 - _num(bban + country + "00") % 97
    return f"{country}{chk:02d}{bban}"


def iban_ok(s: str) -> bool:
    s = s.replace(" ", "").upper()
    return len(s) > 4 and _num(s[4:] + s[:4]) % 97 == 1


def rf(ref: str) -> str:
    chk = 98 - _num(ref + "RF00") % 97
    return f"RF{chk:02d}{ref}"


def rf_ok(s: str) -> bool:
    s = s.replace(" ", "").upper()
    return s.startswith("RF") and len(s) <= 25 and _num(s[4:] + s[:4]) % 97 == 1


def luhn_ok(s: str) -> bool:
    tot = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch) * (2 if i % 2 else 1)
        tot += d - 9 if d > 9 else d
    return tot % 10 == 0


def siren(rng: random.Random) -> str:
    while True:
        s = f"{rng.randint(30000000, 99999999):08d}"
        for d in range(10):
            if luhn_ok(s + str(d)):
                return s + str(d)


def fr_vat(sir: str) -> str:
    return f"FR{(12 + 3 * (int(sir) % 97)) % 97:02d}{sir}"


# ---------------------------------------------------------------- names
LEGAL = {"SAS", "SARL", "SA", "EURL", "SASU", "SNC", "GMBH", "AG", "KG", "EK", "OG", "SARLU", "CO"}


def norm_name(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().upper()
    s = s.replace("&", " ET ")
    words = [w for w in re.sub(r"[^A-Z0-9]+", " ", s).split() if w not in LEGAL]
    return " ".join(sorted(words))


def printed_name(rng: random.Random, name: str) -> str:
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = s.replace(",", "").split()
    forms = [w for w in words if w.replace(".", "") in LEGAL]
    core = [w for w in words if w.replace(".", "") not in LEGAL]
    r = rng.random()
    if r < 0.3 and forms:
        return " ".join(forms + core)[:70]
    if r < 0.55:
        return " ".join(core)[:70]
    return s[:70]


FR_REST = [
    "Le Bouchon",
    "La Mère",
    "Brasserie",
    "Chez",
    "Le Comptoir",
    "L'Auberge",
    "Bistrot",
    "La Table",
    "Le Petit",
    "Café",
    "Le Relais",
    "La Cantine",
]
FR_REST2 = [
    "Lyonnais",
    "des Canuts",
    "Brazier",
    "du Vieux Lyon",
    "Saint-Jean",
    "des Halles",
    "de la Croix-Rousse",
    "Paul",
    "Gabin",
    "du Parc",
    "de Fourvière",
    "des Pentes",
    "du Marché",
    "Bellecour",
    "des Brotteaux",
    "Confluence",
    "Monplaisir",
    "d'Ainay",
]
FR_HOTEL = [
    "Hôtel du Lac",
    "Hôtel des Alpes",
    "Hôtel Le Beaujolais",
    "Hôtel de la Gare",
    "Hôtel Les Terrasses",
    "Hôtel Le Dauphin",
    "Hôtel Mont-Blanc",
    "Hôtel de Savoie",
    "Hôtel Le Vercors",
    "Hôtel Le Forez",
    "Hôtel des Dombes",
    "Hôtel Le Mâconnais",
]
TOWNS = [
    "Annecy",
    "Grenoble",
    "Chambéry",
    "Vienne",
    "Valence",
    "Bourg-en-Bresse",
    "Villefranche",
    "Roanne",
    "Saint-Étienne",
    "Mâcon",
    "Aix-les-Bains",
    "Évian",
    "Megève",
    "Vichy",
]
PEOPLE = [
    "DUPONT JEAN",
    "MARTIN SYLVIE",
    "BERNARD PAUL",
    "GIRAUD ANNE",
    "ROUX PHILIPPE",
    "FAURE CHRISTINE",
    "BLANC THIERRY",
    "MOREL NATHALIE",
    "CHEVALIER LUC",
    "MERCIER ELODIE",
]
DE_NAMES = [
    "Gasthaus Adler",
    "Hotel Schwarzwaldblick",
    "Restaurant Zum Löwen",
    "Kantine Stadtwerke",
    "Hotel Kaiserhof",
    "Landgasthof Sonne",
    "Brauhaus Feierling",
    "Weinstube Krone",
    "Hotel Bären",
    "Gasthof Hirschen",
    "Restaurant Rebstock",
    "Klinikum Küche Service",
    "Schlosshotel Linde",
    "Gasthaus Ochsen",
    "Hotel Rheinblick",
    "Mensa Service Süd",
]
DE_TOWNS = ["Freiburg", "Offenburg", "Lörrach", "Emmendingen", "Titisee", "Konstanz", "Basel-Weil"]
AT_NAMES = [
    "Gasthof Alpenrose",
    "Hotel Tirolerhof",
    "Restaurant Donaublick",
    "Hotel Post",
    "Wirtshaus Goldener Hirsch",
    "Hotel Seehof",
    "Landhaus Edelweiss",
    "Gasthof Stern",
]
AT_TOWNS = ["Innsbruck", "Bregenz", "Salzburg", "Linz", "Kitzbühel"]
CH_NAMES = [
    "Hôtel Beau-Rivage",
    "Restaurant du Port",
    "Hotel Bellevue",
    "Brasserie Lipp Genève",
    "Hôtel des Bergues Services",
    "Restaurant Kronenhalle Service",
    "Hotel Schweizerhof",
]
CH_TOWNS = ["Genève", "Lausanne", "Montreux", "Zürich", "Bern", "Neuchâtel"]
PUBLIC = [
    "Centre Hospitalier de",
    "Cuisine centrale de",
    "Collège Jean Moulin de",
    "Lycée hôtelier de",
    "EHPAD Les Tilleuls de",
    "Restaurant scolaire de",
]
CHAINS = [
    ("GROUPE RIVAGE HOTELS", "Hôtel Rivage"),
    ("ALPES HOSPITALITY", "Alpes Hôtel"),
    ("RESTAUVAL COLLECTIVITES", "Restauval"),
]
CENTRALE = "CENTRALE ACHATS RESTO-ALLIANCE"
LESSORS = ["LOCAVAL SAS", "GRENAX FINANCE GMBH", "BAIL-EQUIP LEASING"]
TRESOR = ["DRFIP AUVERGNE RHONE ALPES", "DGFIP PAIERIE DEPARTEMENTALE DU RHONE", "DRFIP ISERE"]
MAINT_PRICES = ["89.00", "129.00", "189.00", "249.00", "390.00"]


# ---------------------------------------------------------------- model
class Doc:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Line:
    def __init__(self, acct, d, amount, kind, alloc, note, cat="pay", **kw):
        self.acct, self.date, self.amount, self.kind = acct, d, q(amount), kind
        self.alloc, self.note, self.cat = alloc, note, cat
        self.payer_name = self.payer_iban = self.e2e = None
        self.ustrd = ""
        self.rf_ref = None
        self.rfrd = []  # [(doc_number, amount)]
        self.named = []  # doc ids validly named by the texts
        self.block = None  # 'ambiguous' / 'mistyped_existing'
        self.third = False
        self.skonto = False
        self.return_of = None
        self.reason = None
        self.details = None  # list[Line] for a batch with details
        self.batch_no_detail = False
        self.ref = None
        self.__dict__.update(kw)


def serial(num: str) -> int:
    return int(re.findall(r"\d+", num)[-1])


class World:
    def __init__(self, seed: int, n_inv: int):
        self.rng = random.Random(seed)
        self.n_inv = n_inv
        self.customers = []
        self.docs = []
        self.by_id = {}
        self.lines = []
        self.accts = {
            "FR_MAIN": dict(
                iban=iban("FR", "30004" + "01234" + "00012345678" + "21"),
                ccy="EUR",
                fmt="camt08",
                bank="Banque Rhodanienne de Commerce",
                bic="BRDCFRPPLYO",
            ),
            "FR_CRL": dict(
                iban=iban("FR", "10278" + "07300" + "00045612378" + "40"),
                ccy="EUR",
                fmt="mt940fr",
                bank="Caisse Régionale Lyonnaise",
                bic="CRLYFR21XXX",
            ),
            "DE_FRB": dict(
                iban=iban("DE", "680501010012345678"),
                ccy="EUR",
                fmt="mt940de",
                bank="Breisgauer Volksbank",
                bic="BRVODE61XXX",
            ),
            "CH_LEM": dict(
                iban=iban("CH", "00767000K12345678"),
                ccy="CHF",
                fmt="camt02",
                bank="Banque Cantonale du Léman",
                bic="BCLMCHGGXXX",
            ),
        }
        self.seq = {}

    # -------------------------------------------------------- customers
    def make_customers(self):
        rng = self.rng
        seen = set()
        cid = 0

        def add(name, seg, le, ccy, country, lang, iban_known, **kw):
            nonlocal cid
            key = norm_name(name)
            if key in seen:
                return None
            seen.add(key)
            cid += 1
            c = dict(
                id=f"C{cid:04d}",
                name=name,
                seg=seg,
                le=le,
                ccy=ccy,
                country=country,
                lang=lang,
                sdd=False,
                chain=None,
                centrale=False,
            )
            c.update(kw)
            c["siren"] = siren(rng) if country == "FR" else ""
            c["vat"] = fr_vat(c["siren"]) if c["siren"] else ""
            bban = {
                "FR": lambda: (
                    f"{rng.randint(10000, 19999)}{rng.randint(0, 99999):05d}"
                    f"{rng.randint(0, 10**11 - 1):011d}{rng.randint(10, 97)}"
                ),
                "DE": lambda: f"{rng.randint(10**17, 10**18 - 1)}",
                "AT": lambda: f"{rng.randint(10**15, 10**16 - 1)}",
                "CH": lambda: f"{rng.randint(10**16, 10**17 - 1)}",
            }[country]()
            c["real_iban"] = iban(country, bban)
            c["iban_known"] = iban_known
            slug = re.sub(r"[^a-z]+", "", unicodedata.normalize("NFKD", name).lower())[:18]
            c["email"] = f"compta@{slug}.{country.lower() if country != 'CH' else 'ch'}"
            self.customers.append(c)
            return c

        forms = ["SARL", "SAS", "EURL", ""]
        while sum(1 for c in self.customers if c["seg"] == "resto") < 42:
            n = f"{rng.choice(FR_REST)} {rng.choice(FR_REST2)}"
            f = rng.choice(forms)
            add(f"{n} {f}".strip(), "resto", "FR01", "EUR", "FR", "fr", rng.random() < 0.45)
        for h in FR_HOTEL:
            add(
                f"{h} {rng.choice(TOWNS)} SARL",
                "hotel",
                "FR01",
                "EUR",
                "FR",
                "fr",
                rng.random() < 0.6,
            )
        for grp, brand in CHAINS:
            for t in rng.sample(TOWNS, 4):
                add(f"{brand} {t}", "chain", "FR01", "EUR", "FR", "fr", False, chain=grp)
        k = 0
        while k < 8:
            n = f"{rng.choice(FR_REST)} {rng.choice(TOWNS)}"
            if add(n + " SAS", "centrale", "FR01", "EUR", "FR", "fr", False, centrale=True):
                k += 1
        for p in PUBLIC:
            for t in rng.sample(TOWNS, 3):
                add(f"{p} {t}", "public", "FR01", "EUR", "FR", "fr", False)
        for n in DE_NAMES:
            add(
                f"{n} {rng.choice(DE_TOWNS)} GmbH",
                "de",
                "DE01",
                "EUR",
                "DE",
                "en",
                rng.random() < 0.75,
            )
        for n in AT_NAMES:
            add(f"{n} {rng.choice(AT_TOWNS)}", "at", "DE01", "EUR", "AT", "en", rng.random() < 0.7)
        for n in CH_NAMES:
            add(
                f"{n} {rng.choice(CH_TOWNS)} SA",
                "ch",
                "FR01",
                "CHF",
                "CH",
                "fr",
                rng.random() < 0.6,
            )
        # maintenance by SEPA direct debit: mandate => IBAN known
        for c in rng.sample([c for c in self.customers if c["seg"] in ("resto", "hotel")], 22):
            c["sdd"] = True
            c["iban_known"] = True
        self.by_norm = {}
        for c in self.customers:
            self.by_norm.setdefault(norm_name(c["name"]), []).append(c)
        self.by_iban = {c["real_iban"]: c for c in self.customers if c["iban_known"]}
        self.cust = {c["id"]: c for c in self.customers}

    # -------------------------------------------------------- documents
    def new_doc(self, c, issue, amount, dtype="invoice", po="", kind="sale"):
        le = c["le"]
        y = issue.year % 100
        if le == "FR01":
            key = ("FC" if dtype == "invoice" else "AV", issue.year)
            self.seq[key] = self.seq.get(key, 0) + 1
            num = (
                f"FC{y:02d}-{self.seq[key]:06d}"
                if dtype == "invoice"
                else f"AV{y:02d}-{self.seq[key]:05d}"
            )
            ref = rf(num.replace("-", "")) if dtype == "invoice" else ""
        else:
            key = ("RE" if dtype == "invoice" else "GS", issue.year)
            self.seq[key] = self.seq.get(key, 0) + 1
            num = (
                f"RE-{issue.year}-{self.seq[key]:04d}"
                if dtype == "invoice"
                else f"GS-{issue.year}-{self.seq[key]:04d}"
            )
            ref = ""
        terms = {"public": 30, "de": 14, "at": 14, "ch": 30}.get(c["seg"], 45)
        if kind == "maint":
            terms = 10
        d = Doc(
            id=num,
            cid=c["id"],
            issue=issue,
            due=issue + timedelta(days=terms),
            amount=q(amount) if dtype == "invoice" else -q(amount),
            ccy=c["ccy"],
            ref=ref,
            po=po,
            type=dtype,
            le=le,
            kind=kind,
        )
        self.docs.append(d)
        self.by_id[num] = d
        return d

    def make_docs(self):
        rng = self.rng
        custs = self.customers
        weights = {
            "resto": 3,
            "hotel": 4,
            "chain": 4,
            "centrale": 3,
            "public": 3,
            "de": 4,
            "at": 3,
            "ch": 2,
        }
        plan = []
        sdd = [c for c in custs if c["sdd"]]
        # maintenance contracts: monthly, standard prices
        for c in sdd:
            c["maint_price"] = rng.choice(MAINT_PRICES)
            for m in range(1, 13):
                plan.append((date(2025, m, 1), c, "maint"))
        n_rest = max(self.n_inv - len(plan), 200)
        wl = [weights[c["seg"]] for c in custs]
        for _ in range(n_rest):
            c = rng.choices(custs, wl)[0]
            d = START + timedelta(days=rng.randint(1, 352))
            plan.append((d, c, rng.choices(["sale", "install", "maintq"], [5, 3, 2])[0]))
        plan.sort(key=lambda t: (t[0], t[1]["id"]))
        ej = 1300040000
        for d, c, kind in plan:
            if d.weekday() >= 5:
                d += timedelta(days=7 - d.weekday())
            if kind == "maint":
                amt = Decimal(c["maint_price"])
            elif kind == "maintq":
                amt = Decimal(rng.choice(MAINT_PRICES)) * 3
            elif kind == "install":
                amt = Decimal(rng.randint(450, 4800)) + Decimal(rng.choice([0, 50, 90])) / 100
            else:
                amt = Decimal(rng.randint(2400, 48000)) + Decimal(rng.randint(0, 99)) / 100
            po = ""
            if c["seg"] == "public":
                ej += rng.randint(3, 400)
                po = str(ej)
            elif kind == "sale" and rng.random() < 0.25 and c["le"] == "FR01":
                po = f"PF{d.year % 100}-{rng.randint(1000, 9999)}"
            elif c["seg"] == "chain" and rng.random() < 0.5:
                po = f"BC-{rng.randint(100000, 999999)}"
            doc = self.new_doc(c, d, amt, po=po, kind=kind)
            if rng.random() < 0.06 and kind != "maint":
                cn = self.new_doc(
                    c,
                    d + timedelta(days=rng.randint(5, 25)),
                    q(doc.amount * Decimal(rng.choice(["0.05", "0.1", "0.15"]))),
                    "credit_note",
                    kind="credit",
                )
                cn.for_doc = doc.id
        # a few PO numbers shared by several documents of different customers (copy-paste)
        self.docs.sort(key=lambda d: (d.issue, d.id))


# ---------------------------------------------------------------- scenario engine
def pay_day(rng, doc, seg):
    lag = {
        "resto": (20, 95),
        "hotel": (10, 70),
        "chain": (25, 60),
        "centrale": (30, 60),
        "public": (25, 80),
        "de": (5, 30),
        "at": (5, 35),
        "ch": (15, 50),
    }[seg]
    return doc.issue + timedelta(days=rng.randint(*lag))


def bizday(d):
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def fmt_amt_fr(a: Decimal) -> str:
    return f"{a:.2f}".replace(".", ",")


def swap_digit(rng, num):
    digits = [i for i, ch in enumerate(num) if ch.isdigit()]
    tail = digits[-4:]
    i = rng.randrange(len(tail) - 1)
    a, b = tail[i], tail[i + 1]
    s = list(num)
    if s[a] == s[b]:
        s[b] = str((int(s[b]) + 1) % 10)
    else:
        s[a], s[b] = s[b], s[a]
    return "".join(s)


class Gen:
    def __init__(self, w: World):
        self.w, self.rng = w, w.rng
        self.lines = []

    def L(self, acct, d, amount, kind, alloc, note, **kw):
        d = bizday(d)
        if d > END or d < START:
            return None
        ln = Line(acct, d, amount, kind, alloc, note, **kw)
        self.lines.append(ln)
        return ln

    def acct_for(self, c):
        if c["ccy"] == "CHF":
            return "CH_LEM"
        if c["le"] == "DE01":
            return "DE_FRB"
        return "FR_MAIN"

    def payer(self, c):
        """IBAN + printed name of a customer paying from its own account."""
        return dict(payer_iban=c["real_iban"], payer_name=printed_name(self.rng, c["name"]))

    def run(self):
        w = self.w
        by_c = {}
        for d in w.docs:
            by_c.setdefault(d.cid, []).append(d)
        used = set()
        for c in w.customers:
            docs = by_c.get(c["id"], [])
            invs = [d for d in docs if d.type == "invoice" and d.kind != "maint"]
            cns = [d for d in docs if d.type == "credit_note"]
            cn_for = {cn.for_doc: cn for cn in cns}
            i = 0
            while i < len(invs):
                d = invs[i]
                if d.id in used:
                    i += 1
                    continue
                nxt = [x for x in invs[i + 1 : i + 4] if x.id not in used]
                consumed = self.scenario(c, d, nxt, cn_for, used)
                for x in consumed:
                    used.add(x.id)
                i += 1
        self.sdd(by_c)
        self.cheques(by_c, used)
        self.groups(by_c, used)
        self.noise()
        return self.lines

    # ---------------------------------------------------- one customer's payment habits
    def scenario(self, c, d, nxt, cn_for, used):
        rng, seg = self.rng, c["seg"]
        acct = self.acct_for(c)
        day = pay_day(rng, d, seg)
        amt = d.amount
        full = [{"invoice_id": d.id, "amount": str(amt)}]
        cn = cn_for.get(d.id)
        if rng.random() < 0.07:
            return [d]  # never paid in the period
        if seg in ("chain", "centrale") and rng.random() < 0.8:
            return []  # paid by head office / purchasing group (see groups())
        if cn is not None and cn.id not in used:
            net = amt + cn.amount
            al = [*full, {"invoice_id": cn.id, "amount": str(cn.amount)}]
            p = self.payer(c) if acct != "FR_MAIN" or rng.random() < 0.7 else {}
            if rng.random() < 0.5:
                txt = (
                    f"REGLT FACT {d.id} MOINS AVOIR {cn.id}"
                    if c["le"] == "FR01"
                    else f"RE {d.id} abzgl. Gutschrift {cn.id}"
                )
                self.L(
                    acct,
                    day,
                    net,
                    "invoice_minus_credit_named",
                    al,
                    "pays an invoice net of its credit note, both named",
                    ustrd=txt,
                    named=[d.id, cn.id],
                    **p,
                )
                used.add(cn.id)
                return [d]
            if nxt:
                x = nxt[0]
                al2 = [*al, {"invoice_id": x.id, "amount": str(x.amount)}]
                txt = (
                    f"FACTURES {d.id} ET {x.id}"
                    if c["le"] == "FR01"
                    else f"Rechnungen {d.id}, {x.id}"
                )
                self.L(
                    acct,
                    max(day, x.issue + timedelta(days=10)),
                    net + x.amount,
                    "several_minus_credit_unnamed",
                    al2,
                    "two invoices named, credit note deducted without a word",
                    ustrd=txt,
                    named=[d.id, x.id],
                    **self.payer(c),
                )
                used.add(cn.id)
                return [d, x]
        if seg == "resto" and rng.random() < 0.12:
            return []  # paid by cheque (see cheques())
        if seg in ("resto", "hotel"):
            return self.fr_small(c, d, nxt, acct, day)
        if seg == "public":
            return self.public(c, d, day)
        if seg in ("de", "at"):
            return self.german(c, d, nxt, acct, day)
        if seg == "ch":
            return self.swiss(c, d, acct, day)
        self.L(
            acct,
            day,
            amt,
            "invoice_number_text",
            full,
            "pays quoting the invoice number",
            ustrd=f"FACTURE {d.id}",
            named=[d.id],
            **self.payer(c),
        )
        return [d]

    def fr_small(self, c, d, nxt, acct, day):
        rng = self.rng
        amt = d.amount
        full = [{"invoice_id": d.id, "amount": str(amt)}]
        p = self.payer(c)
        r = rng.random()
        if d.po.startswith("PF") and r < 0.6:
            dep = q(amt * Decimal("0.3"))
            self.L(
                acct,
                d.issue - timedelta(days=rng.randint(10, 40)),
                dep,
                "deposit_proforma",
                [{"invoice_id": d.id, "amount": str(dep)}],
                "30 % deposit on the pro forma, booked before the invoice exists",
                ustrd=f"ACOMPTE 30% PROFORMA {d.po}",
                named=[d.id],
                **p,
            )
            self.L(
                acct,
                day,
                amt - dep,
                "balance_after_deposit",
                [{"invoice_id": d.id, "amount": str(amt - dep)}],
                "balance of the invoice after the deposit",
                ustrd=f"SOLDE FACTURE {d.id}",
                named=[d.id],
                **self.payer(c),
            )
            return [d]
        if r < 0.16:
            self.L(
                acct,
                day,
                amt,
                "rf_structured",
                full,
                "RF creditor reference in Strd",
                rf_ref=d.ref,
                named=[d.id],
                **p,
            )
        elif r < 0.26:
            ref = d.ref
            style = rng.randrange(3)
            txt = (
                " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
                if style == 0
                else ref.lower()
                if style == 1
                else "REF" + ref
            )
            self.L(
                acct,
                day,
                amt,
                "rf_free_text",
                full,
                "RF typed in free text: "
                + ["groups of four", "lower case", "glued to a word"][style],
                ustrd=f"VIR {txt}",
                named=[d.id],
                **p,
            )
        elif r < 0.36:
            self.L(
                acct,
                day,
                amt,
                "invoice_number_text",
                full,
                "pays quoting the invoice number",
                ustrd=rng.choice(["FACTURE ", "FACT. ", "Fact n° ", "REGLEMENT "])
                + d.id.replace("-", rng.choice(["-", " ", ""])),
                named=[d.id],
                **p,
            )
        elif r < 0.46:
            n = serial(d.id)
            self.L(
                acct,
                day,
                amt,
                "number_without_prefix",
                full,
                "only the serial number of the invoice, no prefix nor year",
                ustrd=f"FACTURE {n}",
                short=n,
                **p,
            )
        elif r < 0.58:
            parts = rng.choice([2, 3])
            a1 = q(amt / parts)
            pay_d = day
            rest = amt
            for k in range(parts):
                a = a1 if k < parts - 1 else rest
                rest -= a
                word = ["ACOMPTE", "2EME VERSEMENT", "RESTE A PAYER"]
                txt = (
                    f"{'1ER VERSEMENT' if k == 0 else word[k] if k < parts - 1 else 'SOLDE'}"
                    f" FACT {d.id}"
                )
                if rng.random() < 0.3:
                    txt = f"FACT {d.id}"
                self.L(
                    acct,
                    pay_d,
                    a,
                    "instalment",
                    [{"invoice_id": d.id, "amount": str(a)}],
                    f"instalment {k + 1}/{parts} of one invoice",
                    ustrd=txt,
                    named=[d.id],
                    **self.payer(c),
                )
                pay_d += timedelta(days=rng.randint(20, 35))
        elif r < 0.64:
            extra = q(
                Decimal(rng.choice(["0.5", "1", "2.1", "10"]))
                if rng.random() < 0.6
                else Decimal(rng.randint(100, 600))
            )
            kind = "overpayment_small" if extra < 20 else "overpayment_large"
            self.L(
                acct,
                day,
                amt + extra,
                kind,
                full,
                f"pays {extra} more than the invoice; excess stays as credit",
                ustrd=f"FACTURE {d.id}",
                named=[d.id],
                **p,
            )
        elif r < 0.69:
            wrong = swap_digit(rng, d.id)
            exists = wrong in self.w.by_id
            self.L(
                acct,
                day,
                amt,
                "typo_other_document" if exists else "typo_no_document",
                full,
                f"invoice number mistyped as {wrong}"
                + (" which is another document" if exists else " (no such document)"),
                ustrd=f"FACTURE {wrong}",
                block="mistyped_existing" if exists else None,
                **p,
            )
        elif r < 0.77:
            self.L(
                acct,
                day,
                amt,
                "no_reference",
                full,
                "no reference at all, amount only",
                ustrd=rng.choice(["VIREMENT", "PAIEMENT", "REGLEMENT FOURNISSEUR", ""]),
                **p,
            )
        elif r < 0.82:
            person = rng.choice(PEOPLE)
            named = rng.random() < 0.5
            self.L(
                acct,
                day,
                amt,
                "owner_private_account" + ("_named" if named else ""),
                full,
                "the owner pays from a private account, IBAN unknown",
                payer_name=f"M OU MME {person}",
                payer_iban=iban("FR", f"{rng.randint(10**22, 10**23 - 1)}"),
                ustrd=(f"FACTURE {d.id} {c['name'][:20]}" if named else "RESTAURANT"),
                named=[d.id] if named else [],
            )
        elif r < 0.87 and d.kind == "sale":
            lessor = rng.choice(LESSORS)
            contract = f"{rng.randint(100, 999)}-{rng.randint(100000, 999999)}"
            named = rng.random() < 0.55
            self.L(
                "FR_CRL",
                day,
                amt,
                "leasing_company" + ("_names_invoice" if named else "_contract_only"),
                full,
                f"leasing company {lessor} pays the equipment for the customer",
                payer_name=lessor,
                payer_iban=iban("FR", f"{rng.randint(10**22, 10**23 - 1)}"),
                ustrd=(
                    f"FINANCEMENT DOSSIER {contract} FACT {d.id}"
                    if named
                    else f"FINANCEMENT CONTRAT {contract}"
                ),
                named=[d.id] if named else [],
                third=True,
            )
        elif r < 0.93:
            ln = self.L(
                acct,
                day,
                amt,
                "invoice_number_text",
                full,
                "pays quoting the invoice number",
                ustrd=f"FACTURE {d.id}",
                named=[d.id],
                **p,
            )
            if ln:
                self.L(
                    acct,
                    day + timedelta(days=rng.randint(1, 6)),
                    amt,
                    "duplicate_payment",
                    [],
                    "the same transfer sent twice; the second pays nothing",
                    ustrd=f"FACTURE {d.id}",
                    named=[d.id],
                    dup=True,
                    **p,
                )
                self.L(
                    "FR_MAIN",
                    day + timedelta(days=rng.randint(15, 30)),
                    -amt,
                    "refund_sent",
                    [],
                    "we refund the duplicate payment",
                    cat="debit_other",
                    ustrd=f"REMBOURSEMENT DOUBLE PAIEMENT {d.id}",
                    creditor=c["name"],
                )
        else:
            if nxt:
                xs = [d, *nxt[: rng.choice([1, 2])]]
                tot = sum(x.amount for x in xs)
                nums = [str(serial(x.id)) if k else x.id for k, x in enumerate(xs)]
                txt = "REGLEMENT FACTURES " + ", ".join(x.id for x in xs)
                if rng.random() < 0.4:
                    txt = "Règlement factures " + ", ".join(nums[:-1]) + " et " + nums[-1]
                    self.L(
                        acct,
                        max(day, xs[-1].issue + timedelta(days=5)),
                        tot,
                        "several_short_numbers",
                        [{"invoice_id": x.id, "amount": str(x.amount)} for x in xs],
                        "a list of invoices, most numbers without prefix",
                        ustrd=txt,
                        named=[xs[0].id],
                        shorts=[serial(x.id) for x in xs[1:]],
                        **p,
                    )
                else:
                    self.L(
                        acct,
                        max(day, xs[-1].issue + timedelta(days=5)),
                        tot,
                        "several_invoices_list",
                        [{"invoice_id": x.id, "amount": str(x.amount)} for x in xs],
                        "one transfer for several invoices, all named",
                        ustrd=txt,
                        named=[x.id for x in xs],
                        **p,
                    )
                return xs
            self.L(
                acct,
                day,
                amt,
                "invoice_number_text",
                full,
                "pays quoting the invoice number",
                ustrd=f"FACTURE {d.id}",
                named=[d.id],
                **p,
            )
        return [d]

    def public(self, c, d, day):
        rng = self.rng
        full = [{"invoice_id": d.id, "amount": str(d.amount)}]
        mandat = f"MANDAT {rng.randint(2025000001, 2025099999)} BORD {rng.randint(100, 9999)}"
        r = rng.random()
        base = dict(payer_name=rng.choice(TRESOR), payer_iban=None, third=True)
        if r < 0.45:
            self.L(
                "FR_CRL",
                day,
                d.amount,
                "tresor_invoice_number",
                full,
                "Trésor public pays a canteen/hospital invoice, invoice number in text",
                ustrd=f"{mandat} FACT {d.id.replace('-', '')}",
                named=[d.id],
                **base,
            )
        elif r < 0.85:
            self.L(
                "FR_CRL",
                day,
                d.amount,
                "tresor_engagement",
                full,
                "Trésor public quotes only the Chorus engagement number (po_number)",
                ustrd=f"{mandat} EJ {d.po}",
                named=[d.id],
                **base,
            )
        else:
            self.L(
                "FR_CRL",
                day,
                d.amount,
                "tresor_mandat_only",
                full,
                "Trésor public quotes only its mandate/bordereau numbers",
                ustrd=mandat,
                **base,
            )
        return [d]

    def german(self, c, d, nxt, acct, day):
        rng = self.rng
        amt = d.amount
        full = [{"invoice_id": d.id, "amount": str(amt)}]
        p = self.payer(c)
        r = rng.random()
        if r < 0.3:
            self.L(
                acct,
                day,
                amt,
                "invoice_number_text",
                full,
                "Rechnung Nr. quoted",
                ustrd=rng.choice(["Rechnung Nr. ", "RE ", "Rg. "]) + d.id,
                named=[d.id],
                e2e=rng.choice([d.id, "NOTPROVIDED"]),
                **p,
            )
        elif r < 0.45:
            sk = q(amt * Decimal("0.98"))
            self.L(
                acct,
                day - timedelta(days=4),
                sk,
                "skonto_stated",
                [{"invoice_id": d.id, "amount": str(sk)}],
                "2 % Skonto deducted and stated; invoice settled",
                ustrd=f"RE {d.id} abzgl. 2% Skonto",
                named=[d.id],
                skonto=True,
                **p,
            )
        elif r < 0.55:
            sk = q(amt * Decimal("0.98"))
            self.L(
                acct,
                day - timedelta(days=4),
                sk,
                "skonto_silent",
                [{"invoice_id": d.id, "amount": str(sk)}],
                "2 % Skonto deducted without a word (partial for the controller)",
                ustrd=f"Rechnung {d.id}",
                named=[d.id],
                **p,
            )
        elif r < 0.7:
            a1 = q(amt * Decimal(rng.choice(["0.3", "0.4", "0.5"])))
            self.L(
                acct,
                day,
                a1,
                "abschlag",
                [{"invoice_id": d.id, "amount": str(a1)}],
                "Abschlag/Anzahlung on an invoice",
                ustrd=f"{rng.choice(['Abschlag', 'Anzahlung'])} Rechnung {d.id}",
                named=[d.id],
                **p,
            )
            self.L(
                acct,
                day + timedelta(days=rng.randint(20, 40)),
                amt - a1,
                "restzahlung",
                [{"invoice_id": d.id, "amount": str(amt - a1)}],
                "Restzahlung of the invoice",
                ustrd=f"Restzahlung {d.id}",
                named=[d.id],
                **self.payer(c),
            )
        elif r < 0.85 and nxt:
            xs = [d, *nxt[:1]]
            self.L(
                acct,
                max(day, xs[-1].issue + timedelta(days=7)),
                sum(x.amount for x in xs),
                "several_invoices_list",
                [{"invoice_id": x.id, "amount": str(x.amount)} for x in xs],
                "Sammelzahlung for two invoices",
                ustrd="Rechnungen " + " ".join(x.id for x in xs),
                named=[x.id for x in xs],
                **p,
            )
            return xs
        elif r < 0.93:
            self.L(
                acct,
                day,
                amt,
                "number_without_prefix",
                full,
                "only 'RE 456' without year",
                ustrd=f"RE {serial(d.id)}",
                short=serial(d.id),
                **p,
            )
        else:
            self.L(
                acct,
                day,
                amt,
                "no_reference",
                full,
                "no reference, amount only",
                ustrd="Zahlung",
                **p,
            )
        return [d]

    def swiss(self, c, d, acct, day):
        rng = self.rng
        amt = d.amount
        p = self.payer(c)
        r = rng.random()
        if r < 0.45:
            fee = q(rng.choice([5, 7.5, 10, 12, 15]))
            self.L(
                acct,
                day,
                amt - fee,
                "short_bank_charges",
                [{"invoice_id": d.id, "amount": str(amt - fee)}],
                f"paid net of {fee} CHF bank charges",
                ustrd=rng.choice([f"Rechnung {d.id}", f"Facture {d.id}"]),
                named=[d.id],
                **p,
            )
        elif r < 0.8:
            self.L(
                acct,
                day,
                amt,
                "rf_structured",
                [{"invoice_id": d.id, "amount": str(amt)}],
                "RF creditor reference in Strd",
                rf_ref=d.ref,
                named=[d.id],
                **p,
            )
        else:
            self.L(
                acct,
                day,
                amt,
                "invoice_number_text",
                [{"invoice_id": d.id, "amount": str(amt)}],
                "invoice number in French text",
                ustrd=f"Paiement facture {d.id}",
                named=[d.id],
                **p,
            )
        return [d]

    # ---------------------------------------------------- direct debit batches and returns
    def sdd(self, by_c):
        rng = self.rng
        w = self.w
        months = {}
        for c in w.customers:
            for d in by_c.get(c["id"], []):
                if d.kind == "maint":
                    months.setdefault((d.issue.year, d.issue.month), []).append(d)
        nodetail_months = set(rng.sample(sorted(months), 3))
        for ym, docs in sorted(months.items()):
            day = bizday(date(ym[0], ym[1], 12))
            total = sum(x.amount for x in docs)
            alloc = [{"invoice_id": x.id, "amount": str(x.amount)} for x in docs]
            if ym in nodetail_months:
                ln = self.L(
                    "FR_MAIN",
                    day,
                    total,
                    "sdd_batch_no_details",
                    alloc,
                    f"SEPA direct debit batch of {len(docs)} maintenance invoices, "
                    "booked as one line without details",
                    ustrd="REMISE PRLV SEPA",
                    batch_no_detail=True,
                    nb=len(docs),
                    cat="batch_nodetail",
                )
                settled = False
            else:
                details = []
                for x in docs:
                    c = w.cust[x.cid]
                    sub = Line(
                        "FR_MAIN",
                        day,
                        x.amount,
                        "sdd_collection",
                        [{"invoice_id": x.id, "amount": str(x.amount)}],
                        "collection of a maintenance invoice in a SEPA batch",
                        e2e=x.id,
                        ustrd=f"CONTRAT MAINTENANCE {x.id}",
                        payer_name=printed_name(rng, c["name"]),
                        payer_iban=c["real_iban"],
                        named=[x.id],
                    )
                    details.append(sub)
                ln = self.L(
                    "FR_MAIN", day, total, "sdd_batch", [], "batch", details=details, cat="batch"
                )
                settled = True
            if ln is None:
                continue
            for x in docs:
                if rng.random() < 0.05:
                    rc = rng.choice(["AM04", "MD06", "MS03", "AC04"])
                    c = w.cust[x.cid]
                    rday = day + timedelta(days=rng.randint(2, 8))
                    self.L(
                        "FR_MAIN",
                        rday,
                        -x.amount,
                        "sdd_return" if settled else "sdd_return_unsettled_batch",
                        [{"invoice_id": x.id, "amount": str(-x.amount)}],
                        f"direct debit returned ({rc})"
                        + ("" if settled else "; its batch was booked without details"),
                        cat="return",
                        reason=rc,
                        e2e=x.id,
                        named=[x.id],
                        ustrd=f"RETOUR PRLV {x.id}",
                        payer_name=printed_name(rng, c["name"]),
                        payer_iban=c["real_iban"],
                        settled_batch=settled,
                    )
                    self.L(
                        "FR_MAIN",
                        rday + timedelta(days=rng.randint(8, 20)),
                        x.amount,
                        "transfer_after_return",
                        [{"invoice_id": x.id, "amount": str(x.amount)}],
                        "customer pays by transfer after the rejected debit",
                        ustrd=f"FACTURE {x.id} SUITE REJET PRLV",
                        named=[x.id],
                        **self.payer(c),
                    )

    def cheques(self, by_c, used):
        rng = self.rng
        pool = [
            d
            for c in self.w.customers
            if c["seg"] == "resto"
            for d in by_c.get(c["id"], [])
            if d.type == "invoice" and d.kind != "maint" and d.id not in used
        ]
        rng.shuffle(pool)
        for k in range(0, min(len(pool), 60), 3):
            xs = pool[k : k + rng.choice([1, 2, 3])]
            for x in xs:
                used.add(x.id)
            day = max(x.issue for x in xs) + timedelta(days=rng.randint(20, 60))
            self.L(
                "FR_CRL",
                day,
                sum(x.amount for x in xs),
                "cheque_remittance",
                [{"invoice_id": x.id, "amount": str(x.amount)} for x in xs],
                f"we deposit {len(xs)} customer cheque(s) in one remise",
                ustrd=f"REMISE CHEQUES N {rng.randint(1000000, 9999999)} {len(xs)} CHQ",
            )

    def groups(self, by_c, used):
        rng = self.rng
        w = self.w
        for grp in [g for g, _ in CHAINS] + [CENTRALE]:
            members = [
                c for c in w.customers if c["chain"] == grp or (grp == CENTRALE and c["centrale"])
            ]
            docs = sorted(
                [
                    d
                    for c in members
                    for d in by_c.get(c["id"], [])
                    if d.type == "invoice" and d.id not in used
                ],
                key=lambda d: d.issue,
            )
            giban = iban("FR", f"{rng.randint(10**22, 10**23 - 1)}")
            i = 0
            while i < len(docs):
                xs = docs[i : i + rng.randint(1, 4)]
                i += len(xs)
                day = max(x.issue for x in xs) + timedelta(days=rng.randint(25, 50))
                tot = sum(x.amount for x in xs)
                al = [{"invoice_id": x.id, "amount": str(x.amount)} for x in xs]
                kind = "central_payer" if grp != CENTRALE else "purchasing_group"
                if rng.random() < 0.7:
                    self.L(
                        "FR_MAIN",
                        day,
                        tot,
                        kind + "_with_list",
                        al,
                        f"{grp} pays {len(xs)} site invoices with a document list",
                        payer_name=grp,
                        payer_iban=giban,
                        third=True,
                        named=[x.id for x in xs],
                        rfrd=[(x.id, x.amount) for x in xs],
                        ustrd=f"PAIEMENT GROUPE {day:%m/%Y}",
                    )
                else:
                    self.L(
                        "FR_MAIN",
                        day,
                        tot,
                        kind + "_no_list",
                        al,
                        f"{grp} pays {len(xs)} site invoices without saying which",
                        payer_name=grp,
                        payer_iban=giban,
                        third=True,
                        ustrd=f"REGLEMENT FOURNISSEUR ECHEANCE {day:%m/%Y}",
                    )

    def noise(self):
        rng = self.rng
        m = START
        while m <= END:
            y, mo = m.year, m.month

            def d(day, y=y, mo=mo):
                return date(y, mo, min(day, 28))

            self.L(
                "FR_MAIN",
                d(28),
                -q(rng.randint(68000, 74000)),
                "salaries",
                [],
                "monthly salaries",
                cat="debit_other",
                ustrd=f"VIR SALAIRES {mo:02d}/{y}",
                creditor="PERSONNEL",
            )
            self.L(
                "FR_MAIN",
                d(15),
                -q(rng.randint(24000, 29000)),
                "urssaf",
                [],
                "social contributions",
                cat="debit_other",
                ustrd="PRLV URSSAF RHONE-ALPES",
                creditor="URSSAF RHONE-ALPES",
            )
            self.L(
                "FR_MAIN",
                d(20),
                -q(rng.randint(8000, 30000)),
                "tax_payment",
                [],
                "VAT payment",
                cat="debit_other",
                ustrd="PRLV DGFIP TVA",
                creditor="DGFIP",
            )
            self.L(
                "FR_MAIN",
                d(5),
                -q(Decimal("4185.33")),
                "loan_repayment",
                [],
                "equipment loan instalment",
                cat="debit_other",
                ustrd="ECHEANCE PRET 0045871",
                creditor="BANQUE RHODANIENNE",
            )
            for acct, fee in (
                ("FR_MAIN", "48.60"),
                ("FR_CRL", "21.90"),
                ("DE_FRB", "14.50"),
                ("CH_LEM", "12.00"),
            ):
                self.L(
                    acct,
                    d(27),
                    -Decimal(fee),
                    "bank_fees",
                    [],
                    "account fees",
                    cat="debit_other",
                    ustrd="FRAIS TENUE DE COMPTE",
                )
            for _ in range(rng.randint(14, 20)):
                sup = rng.choice(
                    [
                        "FRIGOTECH INDUSTRIE",
                        "INOX SERVICES RHONE",
                        "WINTERHALTER FR",
                        "RATIONAL FRANCE",
                        "TRANSPORTS GIRAUD",
                        "EDF ENTREPRISES",
                    ]
                )
                self.L(
                    "FR_MAIN",
                    d(rng.randint(2, 28)),
                    -q(rng.randint(400, 38000)),
                    "supplier_payment",
                    [],
                    f"payment to supplier {sup}",
                    cat="debit_other",
                    ustrd=f"FACTURE {rng.randint(10000, 99999)}",
                    creditor=sup,
                )
            for _ in range(rng.randint(1, 3)):
                sup = rng.choice(["KAELTE BAUER GMBH", "SPEDITION MUELLER", "BADENOVA"])
                self.L(
                    "DE_FRB",
                    d(rng.randint(2, 28)),
                    -q(rng.randint(300, 9000)),
                    "supplier_payment",
                    [],
                    f"payment to supplier {sup}",
                    cat="debit_other",
                    ustrd=f"Rechnung {rng.randint(1000, 9999)}",
                    creditor=sup,
                )
            amt = q(rng.randint(20000, 60000))
            self.L(
                "DE_FRB",
                d(10),
                -amt,
                "internal_transfer",
                [],
                "branch sweeps cash to Lyon",
                cat="debit_other",
                ustrd="Umbuchung an FR01",
                creditor="RHONE CUISINES PRO",
            )
            self.L(
                "FR_MAIN",
                d(11),
                amt,
                "internal_transfer",
                [],
                "cash received from the Freiburg branch",
                cat="own",
                ustrd="VIREMENT INTERNE DE01 FREIBURG",
                payer_name="RHONE CUISINES PRO",
            )
            for _ in range(rng.randint(2, 4)):
                self.L(
                    "FR_CRL",
                    d(rng.randint(2, 28)),
                    q(rng.randint(150, 2500)) + Decimal(rng.randint(0, 99)) / 100,
                    "card_terminal_payout",
                    [],
                    "card terminal settlement (spare parts counter)",
                    cat="credit_other",
                    ustrd=f"REMISE CB {rng.randint(1000000, 9999999)}",
                    payer_name="CB REMISE TPE",
                )
            if mo % 3 == 0:
                self.L(
                    "FR_MAIN",
                    d(28),
                    q(Decimal(rng.randint(1500, 9000)) / 100),
                    "interest",
                    [],
                    "quarterly credit interest",
                    cat="own",
                    ustrd="INTERETS CREDITEURS",
                )
            if rng.random() < 0.25:
                self.L(
                    "FR_MAIN",
                    d(rng.randint(3, 25)),
                    q(rng.randint(200, 4000)),
                    rng.choice(["supplier_refund", "tax_refund"]),
                    [],
                    "money received that is no customer payment",
                    cat="credit_other",
                    ustrd="REMBOURSEMENT",
                    payer_name=rng.choice(["RATIONAL FRANCE", "DGFIP"]),
                )
            m = date(y + (mo == 12), mo % 12 + 1, 1)
        self.L(
            "FR_MAIN",
            date(2025, 3, 14),
            q(150000),
            "loan_disbursement",
            [],
            "new equipment loan paid out",
            cat="credit_other",
            ustrd="DEBLOCAGE PRET 0051234",
            payer_name="BANQUE RHODANIENNE",
        )


# ---------------------------------------------------------------- the careful controller
class Controller:
    def __init__(self, w: World):
        self.w = w
        self.open = {d.id: d.amount for d in w.docs}
        self.settled_refs = set()

    def payer_of(self, ln):
        if ln.payer_iban and ln.payer_iban in self.w.by_iban:
            return self.w.by_iban[ln.payer_iban]["id"]
        if ln.payer_name:
            m = self.w.by_norm.get(norm_name(ln.payer_name), [])
            if len(m) == 1:
                return m[0]["id"]
        return None

    def decide(self, ln):
        """Return (expected, controller_allocation as {doc: amount})."""
        if ln.cat in ("debit_other", "own"):
            return "auto", {}
        if ln.cat == "credit_other" or ln.cat == "batch_nodetail":
            return "person", {}
        if ln.cat == "return":
            if getattr(ln, "settled_batch", False) and ln.e2e in self.settled_refs:
                return "auto", {ln.e2e: ln.amount}
            return "person", {}
        if ln.block:
            return "person", {}
        payer = self.payer_of(ln)
        docs = self.w.by_id
        named = list(ln.named)
        for s in [getattr(ln, "short", None), *getattr(ln, "shorts", [])]:
            if s is None:
                continue
            fits = [
                d for d in self.w.docs if serial(d.id) == s and (payer is None or d.cid == payer)
            ]
            if len(fits) != 1:
                return "person", {}
            named.append(fits[0].id)
        ccy = self.w.accts[ln.acct]["ccy"]
        if named:
            ds = [docs[n] for n in dict.fromkeys(named)]
            if any(d.ccy != ccy for d in ds):
                return "person", {}
            if payer is not None and any(d.cid != payer for d in ds):
                return "person", {}
            if any(
                (d.amount > 0 and self.open[d.id] <= 0) or (d.amount < 0 and self.open[d.id] >= 0)
                for d in ds
            ):
                return "person", {}
            tot = sum(self.open[d.id] for d in ds)
            if ln.amount == tot:
                return "auto", {d.id: self.open[d.id] for d in ds}
            if len(ds) == 1:
                d = ds[0]
                if ln.amount < tot:
                    return "auto", {d.id: ln.amount}
                return "auto", {d.id: self.open[d.id]}
            owner = payer or ds[0].cid
            cns = [
                d
                for d in self.w.docs
                if d.cid == owner and d.amount < 0 and self.open[d.id] < 0 and d.id not in named
            ]
            if len(cns) == 1 and ln.amount == tot + self.open[cns[0].id]:
                al = {d.id: self.open[d.id] for d in ds}
                al[cns[0].id] = self.open[cns[0].id]
                return "auto", al
            return "person", {}
        if ln.third or payer is None:
            return "person", {}
        cand = [
            d
            for d in self.w.docs
            if d.cid == payer and self.open[d.id] != 0 and d.ccy == ccy and d.issue <= ln.date
        ]
        found = []
        for k in range(1, 5):
            for combo in combinations(cand[:30], k):
                if sum(self.open[d.id] for d in combo) == ln.amount:
                    found.append(combo)
                    if len(found) > 1:
                        return "person", {}
        if len(found) == 1:
            return "auto", {d.id: self.open[d.id] for d in found[0]}
        return "person", {}

    def post(self, ln, expected, al):
        if expected != "auto":
            return
        for k, v in al.items():
            if ln.cat == "return":
                self.open[k] -= v  # v negative: reopens
            elif ln.skonto:
                self.open[k] = Decimal("0.00")
            else:
                self.open[k] -= v
        if ln.kind == "sdd_collection":
            self.settled_refs.add(ln.e2e)


def to_alloc_str(al):
    return {k: str(q(v)) for k, v in al.items()}


# ---------------------------------------------------------------- writers
def sub(parent, tag, text=None, **attr):
    e = etree.SubElement(parent, tag, **attr)
    if text is not None:
        e.text = text
    return e


def camt(acct, a, ym, lines, opening, version):
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    E = f"{{{ns}}}"
    root = etree.Element(E + "Document", nsmap={None: ns})
    bk = sub(root, E + "BkToCstmrStmt")
    gh = sub(bk, E + "GrpHdr")
    last = date(ym[0] + (ym[1] == 12), ym[1] % 12 + 1, 1) - timedelta(days=1)
    sub(gh, E + "MsgId", f"{acct}-{ym[0]}{ym[1]:02d}")
    sub(gh, E + "CreDtTm", f"{last + timedelta(days=1)}T06:00:00")
    st = sub(bk, E + "Stmt")
    sub(st, E + "Id", f"{acct}-{ym[0]}-{ym[1]:02d}")
    sub(st, E + "ElctrncSeqNb", str((ym[0] - 2025) * 12 + ym[1]))
    sub(st, E + "CreDtTm", f"{last + timedelta(days=1)}T06:00:00")
    ac = sub(st, E + "Acct")
    sub(sub(ac, E + "Id"), E + "IBAN", a["iban"])
    sub(ac, E + "Ccy", a["ccy"])
    close = opening + sum(ln.amount for ln in lines)
    for code, amt, dt in (("OPBD", opening, date(ym[0], ym[1], 1)), ("CLBD", close, last)):
        b = sub(st, E + "Bal")
        sub(sub(sub(b, E + "Tp"), E + "CdOrPrtry"), E + "Cd", code)
        sub(b, E + "Amt", f"{abs(amt):.2f}", Ccy=a["ccy"])
        sub(b, E + "CdtDbtInd", "CRDT" if amt >= 0 else "DBIT")
        sub(sub(b, E + "Dt"), E + "Dt", dt.isoformat())

    def party(parent, tag, name):
        p = sub(parent, E + tag)
        if version == "08":
            p = sub(p, E + "Pty")
        sub(p, E + "Nm", name[:140])

    def tx(parent, ln, ref):
        t = sub(parent, E + "TxDtls")
        r = sub(t, E + "Refs")
        sub(r, E + "AcctSvcrRef", ref)
        sub(r, E + "EndToEndId", ln.e2e or "NOTPROVIDED")
        if version == "08":
            sub(t, E + "Amt", f"{abs(ln.amount):.2f}", Ccy=a["ccy"])
            sub(t, E + "CdtDbtInd", "CRDT" if ln.amount >= 0 else "DBIT")
        else:
            sub(
                sub(sub(t, E + "AmtDtls"), E + "TxAmt"),
                E + "Amt",
                f"{abs(ln.amount):.2f}",
                Ccy=a["ccy"],
            )
        if ln.payer_name or getattr(ln, "creditor", None):
            rp = sub(t, E + "RltdPties")
            if ln.amount >= 0 or ln.cat == "return":
                if ln.payer_name:
                    party(rp, "Dbtr", ln.payer_name)
                    if ln.payer_iban:
                        sub(sub(sub(rp, E + "DbtrAcct"), E + "Id"), E + "IBAN", ln.payer_iban)
            elif getattr(ln, "creditor", None):
                party(rp, "Cdtr", ln.creditor)
        if ln.ustrd or ln.rf_ref or ln.rfrd:
            ri = sub(t, E + "RmtInf")
            if ln.ustrd:
                sub(ri, E + "Ustrd", ln.ustrd[:140])
            for num, amt in ln.rfrd:
                s = sub(ri, E + "Strd")
                di = sub(s, E + "RfrdDocInf")
                sub(sub(sub(di, E + "Tp"), E + "CdOrPrtry"), E + "Cd", "CINV")
                sub(di, E + "Nb", num)
                sub(sub(s, E + "RfrdDocAmt"), E + "RmtdAmt", f"{amt:.2f}", Ccy=a["ccy"])
            if ln.rf_ref:
                s = sub(ri, E + "Strd")
                cr = sub(s, E + "CdtrRefInf")
                tp = sub(cr, E + "Tp")
                sub(sub(tp, E + "CdOrPrtry"), E + "Cd", "SCOR")
                sub(tp, E + "Issr", "ISO")
                sub(cr, E + "Ref", ln.rf_ref)
        if ln.reason:
            sub(sub(sub(t, E + "RtrInf"), E + "Rsn"), E + "Cd", ln.reason)

    for ln in lines:
        n = sub(st, E + "Ntry")
        sub(n, E + "Amt", f"{abs(ln.amount):.2f}", Ccy=a["ccy"])
        sub(n, E + "CdtDbtInd", "CRDT" if ln.amount >= 0 else "DBIT")
        if ln.cat == "return":
            sub(n, E + "RvslInd", "false")
        if version == "08":
            sub(sub(n, E + "Sts"), E + "Cd", "BOOK")
        else:
            sub(n, E + "Sts", "BOOK")
        sub(sub(n, E + "BookgDt"), E + "Dt", ln.date.isoformat())
        sub(sub(n, E + "ValDt"), E + "Dt", ln.date.isoformat())
        sub(n, E + "AcctSvcrRef", ln.ref)
        bt = sub(sub(n, E + "BkTxCd"), E + "Domn")
        sub(bt, E + "Cd", "PMNT")
        fam = sub(bt, E + "Fmly")
        code = (
            ("IDDT", "UPDD")
            if ln.cat == "return"
            else ("IDDT", "BBDD")
            if ln.details or ln.batch_no_detail
            else ("RCDT", "ESCT")
            if ln.amount >= 0
            else ("ICDT", "ESCT")
        )
        sub(fam, E + "Cd", code[0])
        sub(fam, E + "SubFmlyCd", code[1])
        if ln.details is not None:
            nd = sub(n, E + "NtryDtls")
            b = sub(nd, E + "Btch")
            sub(b, E + "NbOfTxs", str(len(ln.details)))
            for k, dl in enumerate(ln.details, 1):
                tx(nd, dl, f"{ln.ref}-{k}")
        elif ln.batch_no_detail:
            b = sub(sub(n, E + "NtryDtls"), E + "Btch")
            sub(b, E + "PmtInfId", f"PRLV-{ln.ref}")
            sub(b, E + "NbOfTxs", str(ln.nb))
            sub(b, E + "TtlAmt", f"{ln.amount:.2f}", Ccy=a["ccy"])
            sub(b, E + "CdtDbtInd", "CRDT")
            sub(n, E + "AddtlNtryInf", ln.ustrd)
        else:
            tx(sub(n, E + "NtryDtls"), ln, ln.ref)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), close


def clean(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9 /\-?:().,'+%]", " ", s)


def split27(text):
    """SEPA purpose over ?20..?29: 27 characters each, cut between words when possible."""
    out, cur = [], ""
    for word in text.split(" "):
        cand = f"{cur} {word}" if cur else word
        if len(cand) <= 27:
            cur = cand
            continue
        if cur:
            out.append(cur)
        while len(word) > 27:
            out.append(word[:27])
            word = word[27:]
        cur = word
    if cur:
        out.append(cur)
    return out


def wrap65(prefix, body):
    """Cut the :86: text into lines of at most 65 characters, preferring subfield (?NN)
    boundaries for the structured layout and spaces for the free style."""
    out, cur = [], prefix + body
    while len(cur) > 65:
        cut = cur.rfind("?", 20, 66)
        if cut <= 0 or not cur[cut + 1 : cut + 3].isdigit():
            cut = cur.rfind(" ", 20, 65) + 1
        if cut <= 0:
            cut = 65
        out.append(cur[:cut])
        cur = cur[cut:]
    out.append(cur)
    return out


def mt940(acct, a, ym, lines, opening, style):
    last = date(ym[0] + (ym[1] == 12), ym[1] % 12 + 1, 1) - timedelta(days=1)

    def bal(tag, amt, d):
        return f"{tag}{'C' if amt >= 0 else 'D'}{d:%y%m%d}{a['ccy']}{fmt_amt_fr(abs(amt))}"

    close = opening + sum(ln.amount for ln in lines)
    out = [
        f":20:STM{ym[0] % 100}{ym[1]:02d}{acct[:6]}",
        f":25:{a['iban']}",
        f":28C:{(ym[0] - 2025) * 12 + ym[1]:05d}/1",
        bal(":60F:", opening, date(*ym, 1)),
    ]
    for ln in lines:
        dc = "C" if ln.amount >= 0 else ("RD" if ln.cat == "return" else "D")
        cref = (ln.e2e or "NONREF")[:16]
        out.append(
            f":61:{ln.date:%y%m%d}{ln.date:%m%d}{dc}{fmt_amt_fr(abs(ln.amount))}"
            f"NTRF{cref}//{ln.ref}"
        )
        name = clean(ln.payer_name or getattr(ln, "creditor", "") or "")
        text = clean(ln.ustrd)
        if ln.rf_ref:
            text = (ln.rf_ref + " " + text).strip()
        if style == "de":
            code = "166" if ln.amount >= 0 else "177"
            parts = []
            if ln.e2e:
                parts.append("EREF+" + clean(ln.e2e))
            svwz = "SVWZ+" + text
            parts += split27(svwz)[:8]
            body = f"{code}?00{'GUTSCHRIFT' if ln.amount >= 0 else 'UEBERWEISUNG'}"
            for k, p_ in enumerate(parts):
                body += f"?{20 + k}{p_}"
            if ln.payer_iban:
                body += f"?31{ln.payer_iban}"
            if name:
                body += f"?32{name[:27]}"
                if len(name) > 27:
                    body += f"?33{name[27:54]}"
            out += wrap65(":86:", body)
        else:
            body = ""
            if ln.e2e:
                body += f"/EREF/{clean(ln.e2e)}"
            if name:
                body += f"/{'ORDP' if ln.amount >= 0 else 'BENM'}/{name}"
            if ln.payer_iban:
                body += f"/IBAN/{ln.payer_iban}"
            body += f"/REMI/{text}"
            out += wrap65(":86:", body)
    out.append(bal(":62F:", close, last))
    return ("\r\n".join(out) + "\r\n-\r\n").encode("utf-8"), close


# ---------------------------------------------------------------- main
def dmy(d):
    return f"{d:%d/%m/%Y}"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=61)
    ap.add_argument("--invoices", type=int, default=1500)
    args = ap.parse_args(argv)
    out = Path(args.out)
    (out / "statements").mkdir(parents=True, exist_ok=True)
    w = World(args.seed, args.invoices)
    w.make_customers()
    w.make_docs()
    lines = Gen(w).run()
    # booking order: by day, then in the order things happened (creation order)
    order = {id(ln): k for k, ln in enumerate(lines)}
    lines.sort(key=lambda ln: (ln.date, order[id(ln)]))
    # bank references
    cnt = {}
    pre = {"FR_MAIN": "BRC", "FR_CRL": "CRL", "DE_FRB": "BVB", "CH_LEM": "BCL"}
    for ln in lines:
        k = (ln.acct, ln.date)
        cnt[k] = cnt.get(k, 0) + 1
        ln.ref = f"{pre[ln.acct]}{ln.date:%y%m%d}{cnt[k]:05d}"
    # controller, booking order
    ctl = Controller(w)
    flat = []
    for ln in lines:
        for k, sl in enumerate(ln.details or [ln], 1):
            if ln.details:
                sl.ref, sl.date, sl.acct = f"{ln.ref}-{k}", ln.date, ln.acct
            exp, al = ctl.decide(sl)
            ctl.post(sl, exp, al)
            truth = {x["invoice_id"]: x["amount"] for x in sl.alloc}
            note = sl.note
            if exp == "auto" and to_alloc_str(al) != truth and sl.cat != "return":
                note += "; the controller's own reading differs from the real answer"
            flat.append((sl, exp, note))
    # statements
    files = {}
    for acct, a in w.accts.items():
        bal = q({"FR_MAIN": 182000, "FR_CRL": 24000, "DE_FRB": 61000, "CH_LEM": 18500}[acct])
        m = date(2025, 1, 1)
        while m <= END:
            ym = (m.year, m.month)
            ls = [ln for ln in lines if ln.acct == acct and (ln.date.year, ln.date.month) == ym]
            if a["fmt"].startswith("camt"):
                data, close = camt(acct, a, ym, ls, bal, a["fmt"][-2:])
                fn = f"{acct}_{ym[0]}-{ym[1]:02d}.xml"
            else:
                data, close = mt940(acct, a, ym, ls, bal, a["fmt"][-2:])
                fn = f"{acct}_{ym[0]}-{ym[1]:02d}.sta"
            (out / "statements" / fn).write_bytes(data)
            files[(acct, ym)] = (fn, bal, close, a["fmt"])
            for ln in ls:
                ln.file = "statements/" + fn
                for sl in ln.details or []:
                    sl.file = ln.file
            bal = close
            m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    # csv files
    with open(out / "customers.csv", "w", newline="", encoding="utf-8") as f:
        cw = csv.writer(f, lineterminator="\n")
        cw.writerow(
            [
                "customer_id",
                "name",
                "email",
                "iban",
                "siren",
                "vat_number",
                "language",
                "legal_entity",
            ]
        )
        for c in w.customers:
            cw.writerow(
                [
                    c["id"],
                    c["name"],
                    c["email"],
                    c["real_iban"] if c["iban_known"] else "",
                    c["siren"],
                    c["vat"],
                    c["lang"],
                    c["le"],
                ]
            )
    with open(out / "invoices.csv", "w", newline="", encoding="utf-8-sig") as f:
        cw = csv.writer(f, delimiter=";", lineterminator="\n")
        cw.writerow(
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
        for d in w.docs:
            cw.writerow(
                [
                    d.id,
                    d.cid,
                    w.cust[d.cid]["name"],
                    dmy(d.issue),
                    dmy(d.due),
                    fmt_amt_fr(d.amount),
                    d.ccy,
                    d.ref,
                    d.po,
                    d.type,
                    d.le,
                ]
            )
    buf = io.StringIO()
    cw = csv.writer(buf, lineterminator="\n")
    cw.writerow(
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
    for sl, exp, note in flat:
        a = w.accts[sl.acct]
        cw.writerow(
            [
                a["iban"],
                a["ccy"],
                sl.file,
                sl.date.isoformat(),
                f"{sl.amount:.2f}",
                sl.ref,
                sl.kind,
                exp,
                json.dumps(sl.alloc),
                note,
            ]
        )
    (out / "ground_truth.csv").write_text(buf.getvalue(), encoding="utf-8")
    ok = self_check(out, w, lines, flat, files)
    counts = {}
    for sl, exp, _ in flat:
        counts.setdefault(sl.kind, {"auto": 0, "person": 0})[exp] += 1
    n = len(flat)
    cust_pay = sum(1 for sl, _, _ in flat if sl.alloc)
    auto = sum(1 for _, e, _ in flat if e == "auto")
    print(f"lines={n} customer_payments={cust_pay / n:.1%} auto={auto / n:.1%}")
    print("| case_kind | auto | person |\n|---|---:|---:|")
    for k in sorted(counts):
        print(f"| {k} | {counts[k]['auto']} | {counts[k]['person']} |")
    return 0 if ok else 1


def self_check(out, w, lines, flat, files):
    errs = []
    schemas = {
        v: etree.XMLSchema(etree.parse(str(XSD_DIR / f"camt.053.001.{v}.xsd")))
        for v in ("02", "08")
    }
    read = {}
    for fn, _opening, _close, fmt in files.values():
        data = (out / "statements" / fn).read_bytes()
        if fmt.startswith("camt"):
            doc = etree.fromstring(data)
            if not schemas[fmt[-2:]].validate(doc):
                errs.append(f"{fn}: XSD {schemas[fmt[-2:]].error_log.last_error}")
            ns = {"c": doc.nsmap[None]}
            tot = Decimal(0)
            for n in doc.iterfind(".//c:Ntry", ns):
                sgn = 1 if n.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
                amt = sgn * Decimal(n.findtext("c:Amt", namespaces=ns))
                tot += amt
                ref = n.findtext("c:AcctSvcrRef", namespaces=ns)
                txs = n.findall("c:NtryDtls/c:TxDtls", ns)
                if len(txs) > 1:
                    s = Decimal(0)
                    for t in txs:
                        ta = sgn * Decimal(t.findtext("c:Amt", namespaces=ns))
                        s += ta
                        read[t.findtext("c:Refs/c:AcctSvcrRef", namespaces=ns)] = ta
                    if s != amt:
                        errs.append(f"{fn}: batch {ref} details do not add up")
                else:
                    read[ref] = amt
            bals = [b for b in doc.iterfind(".//c:Bal", ns)]
            vals = [
                (1 if b.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1)
                * Decimal(b.findtext("c:Amt", namespaces=ns))
                for b in bals
            ]
            if vals[0] + tot != vals[1]:
                errs.append(f"{fn}: does not balance")
        else:
            text = data.decode()
            tot = Decimal(0)
            op = cl = None
            for line in text.split("\r\n"):
                if len(line) > 65:
                    errs.append(f"{fn}: line over 65 chars")
                m = re.match(r":61:\d{10}(R?[CD])([\d,]+)N\w{3}.*//(\S+)$", line)
                if m:
                    amt = Decimal(m.group(2).replace(",", "."))
                    amt = amt if m.group(1) == "C" else -amt
                    tot += amt
                    read[m.group(3)] = amt
                m = re.match(r":(60F|62F):([CD])\d{6}[A-Z]{3}([\d,]+)", line)
                if m:
                    v = Decimal(m.group(3).replace(",", "."))
                    v = v if m.group(2) == "C" else -v
                    op, cl = (v, cl) if m.group(1) == "60F" else (op, v)
            if op + tot != cl:
                errs.append(f"{fn}: does not balance")
    refs = [sl.ref for sl, _, _ in flat]
    if len(set(refs)) != len(refs):
        errs.append("bank references not unique")
    for sl, _, _ in flat:
        if read.get(sl.ref) != sl.amount:
            errs.append(f"{sl.ref}: read back {read.get(sl.ref)} != {sl.amount}")
    for c in w.customers:
        if not iban_ok(c["real_iban"]):
            errs.append(f"bad IBAN {c['id']}")
        if c["siren"] and (not luhn_ok(c["siren"]) or fr_vat(c["siren"]) != c["vat"]):
            errs.append(f"bad SIREN/VAT {c['id']}")
    for a in w.accts.values():
        if not iban_ok(a["iban"]):
            errs.append("bad account IBAN")
    for d in w.docs:
        if d.ref and not rf_ok(d.ref):
            errs.append(f"bad RF {d.id}")
    paid = {}
    for sl, _, _ in flat:
        for x in sl.alloc:
            paid[x["invoice_id"]] = paid.get(x["invoice_id"], 0) + Decimal(x["amount"])
            if abs(Decimal(x["amount"])) > abs(w.by_id[x["invoice_id"]].amount):
                errs.append(f"{sl.ref}: allocation above document amount")
    for k, v in paid.items():
        if abs(v) > abs(w.by_id[k].amount):
            errs.append(f"{k}: allocated in total {v} above its amount")
    for e in errs[:20]:
        print("SELF-CHECK FAIL:", e, file=sys.stderr)
    print(f"self-checks: {'all passed' if not errs else f'{len(errs)} failures'}")
    return not errs


if __name__ == "__main__":
    sys.exit(main())
