"""Occitel Services: an evaluation company for a payment-to-invoice matching engine.

Writes customers.csv, invoices.csv, statements/ (camt.053 v02/v08 and MT940) and
ground_truth.csv into OUT_DIR, then runs its own self-checks (exit 1 on failure).

    .venv/bin/python benchmarks/unseen_company/generate.py OUT_DIR --seed 53 --invoices 1500
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "xsd"
START = dt.date(2025, 1, 1)
END = dt.date(2026, 1, 31)
MONTHS = [(2025, m) for m in range(1, 13)] + [(2026, 1)]

# ----------------------------------------------------------------------------- check digits


def _alnum_to_digits(s: str) -> str:
    return "".join(str(int(c, 36)) for c in s)


def iban(country: str, bban: str) -> str:
    chk = 98 - int(_alnum_to_digits(bban + country + "00")) % 97
    return f"{country}{chk:02d}{bban}"


def iban_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    return len(v) > 4 and int(_alnum_to_digits(v[4:] + v[:4])) % 97 == 1


def rf_ref(body: str) -> str:
    chk = 98 - int(_alnum_to_digits(body + "RF00")) % 97
    return f"RF{chk:02d}{body}"


def rf_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    if not re.fullmatch(r"RF\d\d[A-Z0-9]{1,21}", v):
        return False
    return int(_alnum_to_digits(v[4:] + v[:4])) % 97 == 1


def luhn_ok(num: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(num)):
        d = int(c)
        if i % 2:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return total % 10 == 0


def siren(rng: random.Random, first: str = "") -> str:
    while True:
        s = first + "".join(rng.choice("0123456789") for _ in range(8 - len(first)))
        if s[0] == "0":
            continue
        for last in "0123456789":
            if luhn_ok(s + last):
                return s + last


def fr_vat(sir: str) -> str:
    return f"FR{(12 + 3 * (int(sir) % 97)) % 97:02d}{sir}"


def rand_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def make_iban(rng: random.Random, country: str) -> str:
    if country == "FR":
        bank = rng.choice(["30004", "30003", "10278", "13135", "17806", "30002", "18315"])
        return iban("FR", bank + rand_digits(rng, 5) + rand_digits(rng, 11) + rand_digits(rng, 2))
    if country == "ES":
        bank = rng.choice(["2100", "0182", "0081", "0049", "2038", "0128"])
        return iban("ES", bank + rand_digits(rng, 16))
    if country == "IT":
        cin = rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ")
        abi = rng.choice(["03069", "02008", "05034", "03111", "01030"])
        return iban("IT", cin + abi + rand_digits(rng, 5) + rand_digits(rng, 12))
    if country == "GB":
        return iban("GB", rng.choice(["NWBK", "BARC", "HBUK", "LOYD"]) + rand_digits(rng, 14))
    if country == "DE":
        return iban("DE", rand_digits(rng, 18))
    raise ValueError(country)


# ----------------------------------------------------------------------------- money / dates


def fmt(cents: int, sep: str = ".") -> str:
    sign = "-" if cents < 0 else ""
    c = abs(cents)
    return f"{sign}{c // 100}{sep}{c % 100:02d}"


def biz(d: dt.date) -> dt.date:
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d


def month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    y = d.year + m // 12
    m = m % 12 + 1
    day = min(d.day, month_end(dt.date(y, m, 1)).day)
    return dt.date(y, m, day)


# ----------------------------------------------------------------------------- world

LEGAL = {
    "sa", "sas", "sasu", "sarl", "eurl", "snc", "sci", "sl", "slu", "srl", "spa", "ltd",
    "limited", "plc", "gmbh", "scop", "selarl",
}  # fmt: skip


def norm_name(name: str) -> str:
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower().replace(".", "")
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return " ".join(t for t in s.split() if t not in LEGAL)


FR_PRIV = [
    "Boulangeries Capitole", "Garonne Informatique", "Cabinet Expertise Lauragais",
    "Transports Midi-Quercy", "Clinique Vétérinaire du Touch", "Aéro Composites Blagnac",
    "Imprimerie des Carmes", "Pharmacie Saint-Cyprien", "Notaires Associés Compans",
    "Garage Occitan Automobiles", "Hôtel des Jacobins", "Laboratoire Biolab Sud",
    "Agence Immobilière Carmes", "Menuiserie Lacroix", "Optique Esquirol",
    "Cave Coopérative Fronton",
    "BTP Pyrénées Construction", "Cabinet Dentaire Rangueil", "Auto-École Minimes",
    "Restaurant Le Capitoul", "Société Toulousaine de Logistique", "Ets Bonnafous et Fils",
    "Domaine de Montesquieu", "Studio Graphique Arnaud-Bernard", "Fromagerie Victor Hugo",
    "Conseil RH Occitanie", "Espace Santé Balma", "Ingénierie Spatiale Montaudran",
    "Distrisud Équipements", "Électricité Générale Tarnaise", "Ambulances du Comminges",
    "Charpentes Ariégeoises", "Pôle Médical Purpan", "Atelier Mécanique Colomiers",
    "Cabinet Avocats Dupuy-Marty", "Transitaire Aquitaine Fret", "Vignobles de Gaillac",
    "Éditions du Pastel", "Centre Équestre Lauragais", "Brasserie des Minimes",
    "Cosmétiques Garonne", "Assurances Courtage Sud", "Sanitaires Chauffage Ramonville",
    "Caméras Sécurité Occitanie", "Lycée Privé Saint-Exupéry", "Domotique Albigeoise",
    "Architectes Associés Montauban", "Groupe Scolaire Sainte-Marie", "Maraîchers du Tarn",
    "Lavage Express Labège", "Jardins de Castanet", "Transport Frigorifique Sud-Ouest",
    "Librairie Ombres Blanches Pro", "Pneus Services Muret", "Clinique des Cèdres Gestion",
    "Papeterie Montalbanaise", "Chocolaterie Pyrène", "Carrosserie Saint-Orens",
    "Ateliers Métalliques Castres", "Hydro Services Comminges", "Vins et Spiritueux Ozenne",
    "Datacenter Labège Hosting", "Isolation Thermique du Gers", "Fonderie de l'Ariège",
    "Cabinet Géomètres Aucamville", "Menuiserie Lauragaise", "Climatisation Rouergue",
    "Boucherie Cristal", "Traiteur Les Saveurs d'Oc",
]  # fmt: skip
FR_FORMS = ["SAS", "SARL", "SA", "EURL", "SAS", "SARL", "SASU", "SNC"]
FR_PUBLIC = [
    ("CHU de Toulouse", "hospital"), ("Centre Hospitalier de Montauban", "hospital"),
    ("Centre Hospitalier d'Albi", "hospital"), ("Commune de Colomiers", "commune"),
    ("Commune de Blagnac", "commune"), ("Commune de Balma", "commune"),
    ("Commune de Muret", "commune"), ("Région Occitanie", "region"),
    ("SDIS de la Haute-Garonne", "sdis"), ("Toulouse Métropole", "metropole"),
    ("Communauté d'Agglomération du Sicoval", "commune"), ("EHPAD Public de Revel", "hospital"),
]  # fmt: skip
ES_NAMES = [
    "Distribuciones Levante", "Talleres Montjuïc", "Clínica Dental Gràcia", "Hotel Rambla Nova",
    "Logística Vallès Oriental", "Construcciones Sant Cugat", "Farmacia Diagonal",
    "Asesoría Fiscal Eixample", "Transportes Maresme", "Gráficas Poblenou", "Bodegas Penedès",
    "Inmobiliaria Sarrià", "Laboratorios Badalona", "Electrónica Terrassa", "Papelería Sabadell",
    "Textil Mataró", "Frigoríficos Girona", "Seguros Mediterráneo Correduría",
    "Grupo Alimentario Lleida", "Automoción Martorell", "Óptica Sant Andreu",
    "Academia Idiomas Born",
]  # fmt: skip
ES_FORMS = ["S.L.", "S.A.", "S.L.", "S.L.U."]
IT_NAMES = [
    "Rossi Impianti", "Tecnoservizi Lombardi", "Ferramenta Bianchi", "Studio Associato Conti",
    "Logistica Padana", "Officine Meccaniche Gallo", "Alimentari Ricci", "Edilizia Romano",
    "Elettronica Colombo", "Farmacia Greco", "Trasporti Marino", "Tessile Bruno",
]  # fmt: skip
IT_FORMS = ["S.r.l.", "S.p.A.", "S.r.l.", "S.n.c."]
GB_NAMES = ["Pennine Data Services Ltd", "Thames Valley Clinics Ltd", "Northgate Retail plc"]
SUPPLIERS = [
    ("INGRAM MICRO SAS", "FR"), ("TD SYNNEX FRANCE", "FR"), ("DELL SAS", "FR"),
    ("ORANGE BUSINESS", "FR"), ("OVH SAS", "FR"), ("FOURNITURES BUREAU OCCITAN", "FR"),
    ("SCI LES JARDINS DE LABEGE", "FR"), ("EDF ENTREPRISES", "FR"), ("ALD AUTOMOTIVE", "FR"),
    ("MICROSOFT IRELAND OPERATIONS", "IE"),
]  # fmt: skip

SUB_PRICES_HT = [4900, 8900, 14900, 29900, 49900, 89900]
PARTIAL_WORDS_FR = ["ACOMPTE", "Acompte", "avance", "1ère échéance", "ACPTE"]


@dataclass
class Customer:
    cid: str
    name: str
    seg: str  # fr_dd, fr_tr, fr_pub, es, es_conf, it, gb
    entity: str
    country: str
    currency: str
    iban: str = ""
    iban_known: bool = False
    siren: str = ""
    vat: str = ""
    email: str = ""
    language: str = "fr"
    sub_ht: int = 0
    group: str = ""
    factor: str = ""


@dataclass
class Doc:
    did: str
    cust: Customer
    issue: dt.date
    due: dt.date
    amount: int
    currency: str
    reference: str = ""
    po: str = ""
    dtype: str = "invoice"
    entity: str = "FR01"
    kind: str = "hw"  # sub, hw, proj, pub, cn
    parent: Doc | None = None
    cns: list = field(default_factory=list)
    seq: int = 0
    year: int = 2025


@dataclass
class Line:
    acct: str
    date: dt.date
    amount: int
    kind: str
    alloc: list
    note: str
    payer: str = ""
    payer_iban: str = ""
    text: str = ""
    rf: str = ""
    sdocs: list = field(default_factory=list)  # structured (doc number, cents, type)
    e2e: str = ""
    mentions: list = field(default_factory=list)
    rtr: str = ""
    batch: int = 0  # >0: detail of batch; <0: batch without details
    batch_n: int = 0
    returns: Line | None = None
    internal: bool = False
    interest: bool = False
    foreign: bool = False
    counter: str = ""  # debit counterparty
    ref: str = ""
    expected: str = ""
    ctrl_note: str = ""
    seq: int = 0
    mandate: str = ""


ACCOUNTS = {
    # key: (entity, bank, bic, currency, format)
    "BNP": ("FR01", "BNP Paribas Toulouse Entreprises", "BNPAFRPPTLS", "EUR", "camt08"),
    "CA": ("FR01", "Crédit Agricole Toulouse 31", "AGRIFRPP831", "EUR", "mt940_free"),
    "HSBC": ("FR01", "HSBC Continental Europe (GBP)", "CCFRFRPP", "GBP", "mt940_struct"),
    "CAIXA": ("ES01", "CaixaBank Barcelona", "CAIXESBBXXX", "EUR", "camt02"),
}


class World:
    def __init__(self, seed: int, n_invoices: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_target = n_invoices
        self.customers: list[Customer] = []
        self.docs: list[Doc] = []
        self.lines: list[Line] = []
        self.acct_iban = {
            "BNP": iban("FR", "30004" + "03120" + "00010234567" + "68"),
            "CA": iban("FR", "13106" + "00500" + "30012345678" + "42"),
            "HSBC": iban("FR", "30056" + "00811" + "08110004521" + "19"),
            "CAIXA": iban("ES", "2100" + "0813" + "61" + "0123456789"),
        }
        self.seq = {"F": {}, "AV": {}, "B": {}, "BR": {}}
        self.batch_id = 0
        self.proforma = 0
        self.group_iban = iban("FR", "30004" + "00999" + "00077889900" + "15")

    # ------------------------------------------------------------------ customers
    def make_customers(self) -> None:
        rng = self.rng
        n = 0

        def add(name, seg, entity, country, currency, known_p, lang):
            nonlocal n
            n += 1
            c = Customer(f"C{n:04d}", name, seg, entity, country, currency, language=lang)
            c.iban = make_iban(rng, country)
            c.iban_known = rng.random() < known_p
            if country == "FR":
                c.siren = siren(rng, "2" if seg == "fr_pub" else "")
                c.vat = fr_vat(c.siren)
            slug = re.sub(r"[^a-z]+", "", norm_name(name).split(" ")[0])[:12] or "client"
            dom = {"FR": "fr", "ES": "es", "IT": "it", "GB": "co.uk"}[country]
            c.email = f"{rng.choice(['compta', 'factures', 'ap', 'finance'])}@{slug}.{dom}"
            if country == "ES":
                c.email = f"{rng.choice(['contabilidad', 'facturas'])}@{slug}.{dom}"
            if country == "IT":
                c.email = f"{rng.choice(['amministrazione', 'contabilita'])}@{slug}.{dom}"
            self.customers.append(c)
            return c

        names = FR_PRIV[:]
        rng.shuffle(names)
        for i in range(40):
            c = add(f"{names[i]} {rng.choice(FR_FORMS)}", "fr_dd", "FR01", "FR", "EUR", 1.0, "fr")
            c.sub_ht = rng.choice(SUB_PRICES_HT[:5])
        for i in range(40, 66):
            c = add(f"{names[i]} {rng.choice(FR_FORMS)}", "fr_tr", "FR01", "FR", "EUR", 0.5, "fr")
            if i < 50:
                c.sub_ht = rng.choice(SUB_PRICES_HT)
        # two companies with the same trading name in different towns
        add("Garonne Bureautique SARL", "fr_tr", "FR01", "FR", "EUR", 0.0, "fr")
        add("Garonne Bureautique SAS", "fr_tr", "FR01", "FR", "EUR", 0.0, "fr")
        for nm in ["Pyrène Distribution SAS", "Pyrène Logistique SAS", "Pyrène Services SARL"]:
            c = add(nm, "fr_tr", "FR01", "FR", "EUR", 0.0, "fr")
            c.group = "PYRENE HOLDING"
        c = add(
            "Menuiseries Industrielles du Lauragais SA", "fr_tr", "FR01", "FR", "EUR", 0.0, "fr"
        )
        c.factor = "CA LEASING ET FACTORING"
        for nm, _kind in FR_PUBLIC:
            add(nm, "fr_pub", "FR01", "FR", "EUR", 0.0, "fr")
        for i, nm in enumerate(ES_NAMES):
            seg = "es_conf" if i < 5 else "es"
            c = add(f"{nm} {rng.choice(ES_FORMS)}", seg, "ES01", "ES", "EUR", 0.6, "en")
            if i % 3 == 0:
                c.sub_ht = rng.choice(SUB_PRICES_HT[1:5])
        for nm in IT_NAMES:
            add(f"{nm} {rng.choice(IT_FORMS)}", "it", "FR01", "IT", "EUR", 0.6, "en")
        for nm in GB_NAMES:
            add(nm, "gb", "FR01", "GB", "GBP", 0.7, "en")
        for c in self.customers:
            if c.seg == "es_conf":
                c.factor = rng.choice(["CONFIRMING BBVA", "BANCO SANTANDER CONFIRMING"])

    # ------------------------------------------------------------------ documents
    def new_number(self, entity: str, credit: bool, d: dt.date) -> tuple[str, int, int]:
        y = d.year
        if entity == "FR01":
            series = "AV" if credit else "F"
            nxt = self.seq[series].get(y, 0) + 1
            self.seq[series][y] = nxt
            if credit:
                return f"AV{y}-{nxt:04d}", nxt, y
            return f"F{y}-{nxt:05d}", nxt, y
        series = "BR" if credit else "B"
        nxt = self.seq[series].get(y, 0) + 1
        self.seq[series][y] = nxt
        if credit:
            return f"BR-{y % 100:02d}/{nxt:03d}", nxt, y
        return f"B-{y % 100:02d}/{nxt:04d}", nxt, y

    def make_docs(self) -> None:
        rng = self.rng
        plans: list[tuple[dt.date, Customer, str]] = []
        subs = [c for c in self.customers if c.sub_ht]
        for y, m in MONTHS:
            for c in subs:
                plans.append((dt.date(y, m, 1), c, "sub"))
            for c in self.customers:
                if c.seg == "fr_pub" and m in (1, 4, 7, 10):
                    plans.append((dt.date(y, m, rng.randint(2, 12)), c, "pub"))
        n_other = max(0, int(self.n_target * 0.965) - len(plans))
        weights = {"fr_dd": 0.4, "fr_tr": 2.2, "fr_pub": 1.6, "es": 1.6, "es_conf": 2.2, "it": 1.5}
        weights["gb"] = 1.2
        pool = [c for c in self.customers]
        w = [weights[c.seg] for c in pool]
        for _ in range(n_other):
            c = rng.choices(pool, w)[0]
            d = START + dt.timedelta(days=rng.randint(0, 390))
            plans.append((d, c, "pub" if c.seg == "fr_pub" else rng.choice(["hw", "hw", "proj"])))
        plans.sort(key=lambda p: (p[0], p[1].cid))
        for d, c, kind in plans:
            self.add_invoice(c, d, kind)
        # credit notes: about 3.5 % of invoices, on transfer-paying customers
        cands = [x for x in self.docs if x.kind in ("hw", "proj", "pub") and x.cust.seg != "fr_dd"]
        n_cn = max(0, self.n_target - len(self.docs))
        planned = []
        for inv in rng.sample(cands, min(n_cn, len(cands))):
            cn_d = inv.issue + dt.timedelta(days=rng.randint(2, 20))
            if cn_d > END:
                continue
            pct = rng.choice([0.05, 0.1, 0.15, 0.2, 0.3])
            amt = -max(1000, int(inv.amount * pct) // 100 * 100)
            if rng.random() < 0.3:
                amt = -rng.choice([17880, 35880, 5900, 12000, 24900])
                amt = max(amt, -inv.amount // 2)
            planned.append((cn_d, inv.did, inv, amt))
        for cn_d, _did, inv, amt in sorted(planned, key=lambda p: p[:2]):
            num, sq, yr = self.new_number(inv.entity, True, cn_d)  # numbered in date order
            cn = Doc(num, inv.cust, cn_d, cn_d, amt, inv.currency, "", "", "credit_note")
            cn.entity, cn.kind, cn.parent, cn.seq, cn.year = inv.entity, "cn", inv, sq, yr
            inv.cns.append(cn)
            self.docs.append(cn)

    def add_invoice(self, c: Customer, d: dt.date, kind: str) -> Doc:
        rng = self.rng
        if kind == "sub":
            ht = c.sub_ht
        elif kind == "pub":
            ht = rng.choice([rng.randint(80000, 600000), rng.randint(150000, 2500000)])
        elif kind == "hw":
            ht = rng.choice([rng.randint(25000, 300000), rng.randint(200000, 2000000)])
            ht = ht // 100 * 100 if rng.random() < 0.5 else ht
        else:
            ht = rng.randint(5, 60) * 7500
        if c.country == "FR":
            total = round(ht * 1.2)
        elif c.country == "ES":
            total = round(ht * 1.21)
        else:
            total = ht
        num, sq, yr = self.new_number(c.entity, False, d)
        if c.seg == "fr_dd":
            due = dt.date(d.year, d.month, 10) if kind == "sub" else d + dt.timedelta(days=30)
        elif c.seg == "fr_pub":
            due = d + dt.timedelta(days=30)
        elif c.seg in ("es", "es_conf"):
            due = d + dt.timedelta(days=60)
        elif c.seg == "it":
            due = month_end(add_months(d, rng.choice([1, 2])))
        else:
            due = month_end(d + dt.timedelta(days=45)) if kind != "sub" else d + dt.timedelta(30)
        doc = Doc(num, c, d, due, total, c.currency, entity=c.entity, kind=kind, seq=sq, year=yr)
        if c.entity == "FR01" and rng.random() < 0.75:
            doc.reference = rf_ref(f"OCC{yr}{sq:05d}")
        if kind == "pub":
            doc.po = "1300" + rand_digits(rng, 6)
        elif kind in ("hw", "proj") and rng.random() < 0.55:
            style = rng.random()
            if style < 0.35:
                doc.po = f"BC-{d.year}-{rng.randint(1, 999):05d}"
            elif style < 0.65:
                doc.po = "45000" + rand_digits(rng, 5)
            elif style < 0.85:
                doc.po = f"PO {rng.randint(1000, 9999)}"
            else:
                self.proforma += rng.randint(1, 4)  # our own pro forma series
                doc.po = f"PF{d.year}-{self.proforma:04d}"
        self.docs.append(doc)
        return doc

    # ------------------------------------------------------------------ payments
    def pay_date(self, c: Customer, doc: Doc) -> dt.date:
        rng = self.rng
        if c.seg == "fr_pub":
            d = doc.due + dt.timedelta(days=rng.randint(5, 70))
        elif c.seg in ("es", "es_conf"):
            d = doc.due + dt.timedelta(days=rng.randint(0, 20))
            d = dt.date(d.year, d.month, 10) if d.day <= 10 else dt.date(d.year, d.month, 25)
            if doc.due.day > 25 or d < doc.due:
                d = (
                    dt.date(d.year, d.month, 25)
                    if d.day == 10
                    else add_months(d, 1).replace(day=10)
                )
        elif c.seg == "it":
            d = month_end(add_months(doc.due, 1)) if rng.random() < 0.6 else doc.due
        else:
            d = doc.due + dt.timedelta(days=rng.choice([-10, -3, 0, 2, 5, 9, 15, 25, 40]))
        return biz(max(d, doc.issue + dt.timedelta(days=1)))

    def add_line(self, **kw) -> Line:
        ln = Line(**kw)
        if ln.date <= END:
            self.lines.append(ln)
        return ln

    def payer_of(self, c: Customer) -> tuple[str, str]:
        """Name as the payer's bank prints it, and the account it pays from."""
        rng = self.rng
        name = c.name
        r = rng.random()
        if r < 0.45:
            name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
        elif r < 0.6:
            parts = name.split(" ")
            if parts[-1].rstrip(".").upper().replace(".", "") in {x.upper() for x in LEGAL}:
                name = parts[-1].upper() + " " + " ".join(parts[:-1]).upper()
        elif r < 0.68:
            name = name[:18].upper()  # truncated by the sending bank
        return name, c.iban

    def make_payments(self) -> None:
        by_cust: dict[str, list[Doc]] = defaultdict(list)
        for d in self.docs:
            if d.dtype == "invoice":
                by_cust[d.cust.cid].append(d)
        self.make_dd(by_cust)
        public_queue: list[tuple[Doc, dt.date]] = []
        for c in self.customers:
            invs = sorted(by_cust[c.cid], key=lambda x: x.issue)
            if c.seg == "fr_dd":
                invs = [x for x in invs if x.kind != "sub"]
            if c.seg == "fr_pub":
                public_queue.extend((x, self.pay_date(c, x)) for x in invs)
                continue
            self.pay_transfers(c, invs)
        self.pay_public(public_queue)
        self.make_other_lines()

    # SEPA direct debit collections (BNP, camt.053.001.08)
    def make_dd(self, by_cust) -> None:
        rng = self.rng
        dd = [c for c in self.customers if c.seg == "fr_dd"]
        for c in dd:
            c.mandate = f"OCC-MDT-{c.cid[1:]}-{rng.randint(10, 99)}"
        for y, m in MONTHS:
            coll = biz(dt.date(y, m, 10))
            items = []
            for c in dd:
                for inv in by_cust[c.cid]:
                    if inv.kind == "sub" and inv.issue.year == y and inv.issue.month == m:
                        items.append(inv)
            if not items:
                continue
            # split core / B2B scheme, two bookings
            core = [x for x in items if int(x.cust.cid[1:]) % 3]
            b2b = [x for x in items if not int(x.cust.cid[1:]) % 3]
            for scheme, group in (("CORE", core), ("B2B", b2b)):
                if not group:
                    continue
                self.batch_id += 1
                bid = self.batch_id
                with_details = rng.random() < 0.8
                if not with_details:
                    self.add_line(
                        acct="BNP", date=coll, amount=sum(x.amount for x in group),
                        kind="dd_batch_no_details",
                        alloc=[(x.did, x.amount) for x in group],
                        note=f"SEPA {scheme} collection of {len(group)} subscriptions booked as "
                        "one entry, no transaction details",
                        text=f"REMISE PRLV SEPA {scheme} {len(group)} OPE", batch=-bid,
                        batch_n=len(group),
                    )  # fmt: skip
                for x in group:
                    c = x.cust
                    e2e = x.did if rng.random() < 0.7 else f"PRLV{y}{m:02d}{c.cid[1:]}"
                    text = rng.choice(
                        [f"Abonnement infogerance {m:02d}/{y} facture {x.did}",
                         f"OCCITEL SERVICES {x.did}",
                         f"Prelevement contrat maintenance {m:02d}-{y}"]
                    )  # fmt: skip
                    coll_ln = None
                    if with_details:
                        coll_ln = self.add_line(
                            acct="BNP", date=coll, amount=x.amount, kind="dd_collection",
                            alloc=[(x.did, x.amount)],
                            note=f"SEPA {scheme} direct debit of subscription {x.did}",
                            payer=c.name.upper(), payer_iban=c.iban, text=text, e2e=e2e,
                            batch=bid, mandate=c.mandate,
                            mentions=[("full", x.did)] if x.did in text else [],
                        )  # fmt: skip
                    if rng.random() < 0.035 and coll < dt.date(2026, 1, 20):
                        reason = rng.choice(["AM04", "MD06", "AC04", "MS02", "AM04"])
                        rdate = biz(coll + dt.timedelta(days=rng.randint(2, 6)))
                        self.add_line(
                            acct="BNP", date=rdate, amount=-x.amount, kind="dd_return",
                            alloc=[(x.did, -x.amount)],
                            note=f"direct debit of {x.did} returned, reason {reason}",
                            payer=c.name.upper(), payer_iban=c.iban,
                            text=f"RETOUR PRLV SEPA {reason} {text}"[:140], e2e=e2e,
                            rtr=reason, returns=coll_ln, mandate=c.mandate,
                        )  # fmt: skip
                        if rng.random() < 0.8:
                            pd = biz(rdate + dt.timedelta(days=rng.randint(5, 20)))
                            self.add_line(
                                acct="BNP", date=pd, amount=x.amount,
                                kind="transfer_after_return", alloc=[(x.did, x.amount)],
                                note=f"customer pays {x.did} by transfer after the returned "
                                "direct debit",
                                payer=self.payer_of(c)[0], payer_iban=c.iban,
                                text=f"Regularisation prelevement rejete facture {x.did}",
                                mentions=[("full", x.did)],
                            )  # fmt: skip

    # transfers by private customers
    def pay_transfers(self, c: Customer, invs: list[Doc]) -> None:
        rng = self.rng
        acct = {"es": "CAIXA", "es_conf": "CAIXA", "gb": "HSBC", "it": "CA"}.get(c.seg, "BNP")
        if c.seg == "fr_tr" and rng.random() < 0.3:
            acct = "CA"
        i = 0
        while i < len(invs):
            inv = invs[i]
            i += 1
            r = rng.random()
            # groups of several invoices
            if r < 0.12 and i < len(invs) and c.seg != "es_conf":
                k = rng.randint(2, 3)
                group = [inv, *invs[i : i + k - 1]]
                if len(group) >= 2:
                    i += len(group) - 1
                    self.pay_group(c, group, acct)
                    continue
            if rng.random() < 0.06 and not c.group and not c.factor:
                continue  # never paid in the period
            self.pay_one(c, inv, acct)

    def texts_for(self, c: Customer, doc: Doc) -> tuple[str, list, str, str]:
        """Free text, mentions, structured RF, case kind for one named invoice."""
        rng = self.rng
        r = rng.random()
        if doc.reference and r < 0.35:
            if rng.random() < 0.6:
                return "", [("rf", doc.reference)], doc.reference, "transfer_rf_structured"
            ref = doc.reference
            typed = " ".join(ref[j : j + 4] for j in range(0, len(ref), 4))
            if rng.random() < 0.5:
                typed = typed.lower()
            if rng.random() < 0.25:  # one digit mistyped: fails its check digits
                pos = rng.randint(8, len(ref) - 1)
                bad = ref[:pos] + str((int(ref[pos]) + 1) % 10) + ref[pos + 1 :]
                return f"Ref {bad}", [("rf", bad)], "", "transfer_rf_bad_check_digits"
            lead = {"FR": "Paiement", "ES": "Pago", "IT": "Pagamento", "GB": "Payment"}[c.country]
            return f"{lead} {typed}", [("rf", ref.replace(" ", ""))], "", "transfer_rf_typed"
        if doc.po and r < 0.5:
            t = rng.choice(
                [f"Commande {doc.po}", f"Votre pro forma {doc.po}", f"N/Ref {doc.po}"]
                if c.country == "FR"
                else {"ES": [f"Pedido {doc.po}", f"S/Ref {doc.po}"],
                      "IT": [f"Ordine {doc.po}", f"Rif. ordine {doc.po}"],
                      "GB": [f"PO {doc.po}", f"Purchase order {doc.po}"]}[c.country]
            )  # fmt: skip
            return t, [("po", doc.po)], "", "transfer_po_number"
        if r < 0.62 and c.country == "FR":
            t = rng.choice([f"Facture {doc.seq}", f"Fact. n°{doc.seq}", f"Reglt fact {doc.seq}"])
            return t, [("short", (doc.seq, None))], "", "transfer_number_without_prefix"
        num = self.variant(doc.did)
        if c.country == "ES":
            t = rng.choice([f"Pago factura {num}", f"Transferencia fra {num}", f"FRA. {num}"])
        elif c.country == "IT":
            if rng.random() < 0.5:
                t = f"Saldo fattura n. {doc.seq}/{doc.year}"
                return t, [("short", (doc.seq, doc.year))], "", "it_saldo_fattura"
            t = rng.choice([f"Bonifico fattura {num}", f"Pagamento fatt. {num}"])
        elif c.country == "GB":
            t = rng.choice([f"INV {num}", f"Occitel invoice {num}", f"{num}"])
        else:
            t = rng.choice([f"Facture {num}", f"Reglement facture {num}", f"FACT {num}", num])
        return t, [("full", num)], "", "transfer_invoice_number"

    def variant(self, did: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.6:
            return did
        m = re.fullmatch(r"F(\d{4})-(\d{5})", did)
        if m:
            y, n = m.groups()
            return rng.choice([f"F{y}{n}", f"F {y} {int(n)}", f"F{y}-{int(n)}", f"f{y}/{n}"])
        m = re.fullmatch(r"B-(\d\d)/(\d{4})", did)
        if m:
            y, n = m.groups()
            return rng.choice([f"B{y}/{int(n)}", f"B-{y}-{n}", f"B {y}/{n}"])
        return did

    def pay_one(self, c: Customer, inv: Doc, acct: str) -> None:
        rng = self.rng
        date = self.pay_date(c, inv)
        payer, piban = self.payer_of(c)
        foreign = c.country in ("IT", "GB")
        if c.group:
            payer, piban = c.group, self.group_iban
        if c.factor:
            payer = c.factor
            piban = iban("ES", "0182" + "0000" + "00" + "0099887766") if c.seg == "es_conf" else ""
            if not piban:
                piban = iban("FR", "18206" + "00010" + "65432100000" + "12")
        text, mentions, rf, kind = self.texts_for(c, inv)
        amount = inv.amount
        alloc = [(inv.did, inv.amount)]
        note = f"{c.name} pays {inv.did}"
        r = rng.random()
        if (r < 0.07 and inv.amount <= 50000) or (0.17 <= r < 0.24 and not foreign):
            r = 0.99  # that habit does not fit this invoice / customer: plain payment
        sdocs: list = []
        if c.group:
            kind = "parent_pays_for_subsidiary"
            note = f"parent company {c.group} pays {inv.did} of its subsidiary {c.name}"
        if c.factor and c.seg != "es_conf":
            kind = "factor_pays_for_customer"
            note = f"{c.factor} pays {inv.did} on behalf of {c.name}"
        if c.seg == "es_conf":
            if rng.random() < 0.65:
                kind = "confirming_named"
                text = f"{c.factor} ORD. {c.name.upper()} FRA {inv.did}"
                mentions = [("full", inv.did)]
                if rng.random() < 0.5:
                    sdocs = [(inv.did, inv.amount, "CINV")]
                    text = f"{c.factor} PAGO PROVEEDORES"
                if rng.random() < 0.25:
                    fee = rng.randint(800, 3500)
                    amount -= fee
                    alloc = [(inv.did, amount)]
                    kind = "confirming_short_fees"
                    note += f", confirming bank keeps {fmt(fee)} fees"
            else:
                kind = "confirming_no_reference"
                text = f"{c.factor} PAGO A PROVEEDORES REF {rand_digits(rng, 9)}"
                mentions = []
            note = (
                f"{c.factor} pays {inv.did} for {c.name} (reverse factoring)"
                + note[len(f"{c.name} pays {inv.did}") :]
            )
        elif inv.cns:
            cn = inv.cns[0]
            amount = inv.amount + cn.amount
            alloc = [(inv.did, inv.amount), (cn.did, cn.amount)]
            if rng.random() < 0.55:
                kind = "invoice_minus_credit_note_named"
                text = f"Facture {inv.did} moins avoir {cn.did}"
                if c.country == "ES":
                    text = f"Pago factura {inv.did} menos abono {cn.did}"
                elif c.country in ("IT", "GB"):
                    text = f"Invoice {inv.did} less credit note {cn.did}"
                mentions = [("full", inv.did), ("full", cn.did)]
            else:
                kind = "invoice_minus_credit_note_unnamed"
                if not mentions:
                    mentions = [("full", inv.did)]
                    text = f"Facture {inv.did}"
            note = f"{c.name} pays {inv.did} net of credit note {cn.did}"
        elif r < 0.07 and inv.amount > 50000:
            # partial then balance
            part = int(inv.amount * rng.choice([0.3, 0.4, 0.5])) // 100 * 100
            word = {"FR": rng.choice(PARTIAL_WORDS_FR), "ES": "Pago a cuenta",
                    "IT": "Acconto", "GB": "Part payment"}[c.country]  # fmt: skip
            pd = biz(min(date, inv.issue + dt.timedelta(days=15)))
            self.add_line(
                acct=acct, date=pd, amount=part, kind="partial_payment_announced",
                alloc=[(inv.did, part)], note=f"{word} on {inv.did}", payer=payer,
                payer_iban=piban, text=f"{word} facture {inv.did}", mentions=[("full", inv.did)],
                foreign=foreign,
            )  # fmt: skip
            word2 = {"FR": "Solde", "ES": "Saldo", "IT": "Saldo", "GB": "Balance"}[c.country]
            self.add_line(
                acct=acct, date=biz(max(date, pd + dt.timedelta(days=20))),
                amount=inv.amount - part, kind="balance_after_partial",
                alloc=[(inv.did, inv.amount - part)], note=f"{word2} of {inv.did}", payer=payer,
                payer_iban=piban, text=f"{word2} facture {inv.did}", mentions=[("full", inv.did)],
                foreign=foreign,
            )  # fmt: skip
            return
        elif r < 0.11:
            part = int(inv.amount * rng.choice([0.5, 0.6, 0.8])) // 100 * 100
            if part > 0:
                amount = part
                alloc = [(inv.did, part)]
                kind = "partial_payment_unannounced"
                note = f"{c.name} pays only part of {inv.did} without saying so"
        elif r < 0.15:
            extra = rng.choice([1, 2, 50, 150, 300, 499])
            amount += extra
            kind = "overpayment_small"
            note = f"{c.name} pays {inv.did} with {fmt(extra)} too much"
        elif r < 0.17:
            extra = rng.choice([2000, 5000, 10000])
            amount += extra
            kind = "overpayment_large"
            note = f"{c.name} pays {inv.did} with {fmt(extra)} too much"
        elif r < 0.24 and foreign and inv.amount > 20000:
            fee = rng.choice([500, 1000, 1500, 2000, 2500, 3500])
            amount -= fee
            alloc = [(inv.did, amount)]
            kind = "short_foreign_bank_charges"
            note = f"{c.name} pays {inv.did}, intermediary banks keep {fmt(fee)}"
        elif r < 0.265 and not foreign and inv.amount > 20000:
            fee = rng.choice([1500, 2000, 9000])
            amount -= fee
            alloc = [(inv.did, amount)]
            kind = "short_payment_unexplained"
            note = f"{c.name} pays {inv.did} {fmt(fee)} short, no explanation"
        elif r < 0.32:
            text, mentions, rf, sdocs = self.no_ref_text(c), [], "", []
            kind = "transfer_no_reference"
            note = f"{c.name} pays {inv.did} with no usable reference"
        elif r < 0.35:
            good = inv.did
            canon = {canon_doc(d.did): d for d in self.docs}
            bad = self.typo(good)
            for _ in range(10):
                hit = canon.get(canon_doc(bad))
                if hit is None or hit.amount != inv.amount:
                    break
                bad = self.typo(good)
            text, mentions, rf = f"Facture {bad}", [("full", bad)], ""
            kind = "typo_in_invoice_number"
            note = f"{c.name} pays {good} but types {bad}"
        elif r < 0.40 and inv.po:
            date = biz(inv.issue - dt.timedelta(days=rng.randint(3, 15)))
            if date < START:
                date = biz(inv.issue)
            text, mentions, rf = f"Acompte 100% commande {inv.po}", [("po", inv.po)], ""
            kind = "prepayment_before_invoice"
            note = f"{c.name} pays order {inv.po} before invoice {inv.did} is issued"
        if rng.random() < 0.3 and kind in ("transfer_invoice_number", "transfer_rf_structured"):
            sdocs = [(inv.did, amount, "CINV")]
        self.add_line(
            acct=acct, date=date, amount=amount, kind=kind, alloc=alloc, note=note, payer=payer,
            payer_iban=piban, text=text, rf=rf, mentions=mentions, sdocs=sdocs, foreign=foreign,
            e2e=self.e2e(c, inv),
        )  # fmt: skip
        if rng.random() < 0.012:
            self.add_line(
                acct=acct, date=biz(date + dt.timedelta(days=rng.randint(1, 6))), amount=amount,
                kind="duplicate_payment", alloc=[], note=f"{c.name} pays {inv.did} a second time",
                payer=payer, payer_iban=piban, text=text, rf=rf, mentions=mentions,
                foreign=foreign,
            )  # fmt: skip

    def e2e(self, c: Customer, inv: Doc) -> str:
        r = self.rng.random()
        if r < 0.5:
            return "NOTPROVIDED"
        if r < 0.62:
            return inv.did
        return f"{c.cid[1:]}{self.rng.randint(100000, 999999)}"

    def no_ref_text(self, c: Customer) -> str:
        rng = self.rng
        if c.country == "ES":
            return rng.choice(["Transferencia", "PAGO PROVEEDOR", "Transferencia a su favor"])
        if c.country == "IT":
            return rng.choice(["Bonifico", "Bonifico a vostro favore", "PAGAMENTO"])
        if c.country == "GB":
            return rng.choice(["PAYMENT", "OCCITEL", "SUPPLIER PAYMENT"])
        return rng.choice(["VIREMENT", "Paiement fournisseur", "Reglement", "OCCITEL", ""])

    def typo(self, did: str) -> str:
        rng = self.rng
        head, digits = re.match(r"(.*?)(\d+)$", did).groups()
        d = list(digits)
        for _ in range(20):
            dd = d[:]
            if rng.random() < 0.5 and len(dd) > 1:
                j = rng.randint(len(dd) - 3, len(dd) - 2)
                dd[j], dd[j + 1] = dd[j + 1], dd[j]
            else:
                j = rng.randint(len(dd) - 3, len(dd) - 1)
                dd[j] = str((int(dd[j]) + rng.choice([1, 9])) % 10)
            if dd != d:
                return head + "".join(dd)
        return head + digits[::-1]

    def pay_group(self, c: Customer, group: list[Doc], acct: str) -> None:
        rng = self.rng
        date = max(self.pay_date(c, x) for x in group)
        payer, piban = self.payer_of(c)
        if c.group:
            payer, piban = c.group, self.group_iban
        cns = [cn for x in group for cn in x.cns]
        total = sum(x.amount for x in group) + sum(cn.amount for cn in cns)
        alloc = [(x.did, x.amount) for x in group] + [(cn.did, cn.amount) for cn in cns]
        foreign = c.country in ("IT", "GB")
        r = rng.random()
        if r < 0.35 and c.country == "FR":
            nums = [str(x.seq) for x in group]
            text = f"Reglement factures {', '.join(nums[:-1])} et {nums[-1]}"
            mentions = [("short", (x.seq, None)) for x in group]
            kind = "multi_invoice_short_numbers"
        elif r < 0.75:
            nums = [self.variant(x.did) for x in group]
            lead = {"FR": "Reglement factures", "ES": "Pago facturas", "IT": "Saldo fatture",
                    "GB": "Invoices"}[c.country]  # fmt: skip
            text = f"{lead} {' '.join(nums)}"
            mentions = [("full", n) for n in nums]
            kind = "multi_invoice_numbers"
        else:
            text, mentions = self.no_ref_text(c), []
            kind = "multi_invoice_no_reference"
        sdocs = []
        if kind == "multi_invoice_numbers" and rng.random() < 0.4:
            sdocs = [(x.did, x.amount, "CINV") for x in group]
        note = f"{c.name} pays {len(group)} invoices in one transfer"
        if cns:
            note += " net of credit note(s) " + ", ".join(cn.did for cn in cns)
            base, kind = kind, "invoices_minus_credit_note_unnamed"
            if base != "multi_invoice_no_reference" and rng.random() < 0.5:
                kind = "invoices_minus_credit_note_named"
                text += " avoir " + " ".join(cn.did for cn in cns)
                mentions += [("full", cn.did) for cn in cns]
                sdocs += [(cn.did, cn.amount, "CREN") for cn in cns] if sdocs else []
        self.add_line(
            acct=acct, date=date, amount=total, kind=kind, alloc=alloc,
            note=note, payer=payer,
            payer_iban=piban, text=text, mentions=mentions, sdocs=sdocs, foreign=foreign,
            e2e="NOTPROVIDED",
        )  # fmt: skip

    # public sector: DRFIP pays, sometimes several customers in one transfer
    def pay_public(self, queue: list[tuple[Doc, dt.date]]) -> None:
        rng = self.rng
        queue.sort(key=lambda q: (q[1], q[0].did))
        payers = ["DRFIP OCCITANIE ET HTE GARONNE", "DGFIP TRESORERIE CHU TOULOUSE",
                  "DRFIP OCCITANIE", "TRESORERIE MONTAUBAN MUNICIPALE"]  # fmt: skip
        piban = iban("FR", "30001" + "00589" + "C3150000000" + "26")
        i = 0
        while i < len(queue):
            inv, date = queue[i]
            i += 1
            if rng.random() < 0.05:
                continue
            group = [inv]
            if rng.random() < 0.2:
                while i < len(queue) and len(group) < 4 and (queue[i][1] - date).days < 10:
                    group.append(queue[i][0])
                    i += 1
            mandat = f"MANDAT {rng.randint(100, 99999)} BORD {rng.randint(10, 9999)}"
            total = sum(x.amount + sum(cn.amount for cn in x.cns) for x in group)
            alloc = []
            for x in group:
                alloc.append((x.did, x.amount))
                alloc.extend((cn.did, cn.amount) for cn in x.cns)
            r = rng.random()
            if len(group) > 1:
                if r < 0.75:
                    text = f"{mandat} FACT " + " ".join(
                        x.did + "".join(" AVOIR " + cn.did for cn in x.cns) for x in group
                    )
                    mentions = [("full", x.did) for x in group]
                    mentions += [("full", cn.did) for x in group for cn in x.cns]
                    kind = "public_treasury_several_customers"
                else:
                    text, mentions = f"{mandat} DIVERS", []
                    kind = "public_treasury_several_no_reference"
                note = "treasury pays " + ", ".join(f"{x.did} ({x.cust.name})" for x in group)
            else:
                cn_txt = "".join(f" AVOIR {cn.did}" for cn in inv.cns)
                cn_m = [("full", cn.did) for cn in inv.cns]
                if r < 0.55:
                    text = f"{mandat} FACT {inv.did}{cn_txt} {inv.cust.name.upper()}"
                    mentions = [("full", inv.did), *cn_m]
                    kind = "public_treasury_invoice_number"
                elif r < 0.85:
                    text = f"{mandat} ENGAGEMENT {inv.po}{cn_txt}"
                    mentions = [("po", inv.po), *cn_m]
                    kind = "public_treasury_engagement_only"
                else:
                    text, mentions = f"{mandat} {inv.cust.name.upper()[:20]}", []
                    kind = "public_treasury_no_reference"
                note = f"treasury pays {inv.did} for {inv.cust.name} (late, via DRFIP)"
                if inv.cns:
                    note += " net of credit note"
            self.add_line(
                acct="CA", date=date, amount=total, kind=kind, alloc=alloc, note=note,
                payer=rng.choice(payers), payer_iban=piban, text=text[:280], mentions=mentions,
                e2e="NOTPROVIDED",
            )  # fmt: skip

    # everything that is not a customer payment
    def make_other_lines(self) -> None:
        rng = self.rng
        for y, m in MONTHS:
            first = dt.date(y, m, 1)
            me = month_end(first)
            for acct in ("BNP", "CA", "CAIXA", "HSBC"):
                self.add_line(
                    acct=acct, date=biz(dt.date(y, m, 3)), amount=-rng.randint(2500, 9500),
                    kind="bank_fees", alloc=[], note="monthly account and transaction fees",
                    text="FRAIS TENUE DE COMPTE ET COMMISSIONS", counter="BANK",
                )  # fmt: skip
            self.add_line(
                acct="BNP", date=biz(dt.date(y, m, 27)), amount=-rng.randint(9_500_000, 10_500_000),
                kind="salaries", alloc=[], note="monthly salaries (bulk transfer)",
                text=f"VIR SALAIRES {m:02d}/{y}", counter="SALAIRES",
            )  # fmt: skip
            self.add_line(
                acct="CAIXA", date=biz(dt.date(y, m, 28)),
                amount=-rng.randint(1_800_000, 2_200_000),
                kind="salaries", alloc=[], note="Barcelona branch payroll",
                text=f"NOMINA {m:02d}/{y}", counter="NOMINAS",
            )  # fmt: skip
            self.add_line(
                acct="BNP", date=biz(dt.date(y, m, 15)), amount=-rng.randint(3_800_000, 4_400_000),
                kind="urssaf", alloc=[], note="social contributions",
                text=f"PRLV SEPA URSSAF MIDI-PYRENEES DSN {m:02d}{y}", counter="URSSAF",
            )  # fmt: skip
            self.add_line(
                acct="CA", date=biz(dt.date(y, m, 20)), amount=-rng.randint(1_500_000, 3_500_000),
                kind="tax_payment", alloc=[], note="VAT return payment",
                text=f"PRLV SEPA DGFIP TVA {m:02d}/{y} IMPOTS.GOUV", counter="DGFIP",
            )  # fmt: skip
            for _ in range(rng.randint(12, 18)):
                sup, _ctry = rng.choice(SUPPLIERS)
                self.add_line(
                    acct=rng.choice(["BNP", "BNP", "CA"]),
                    date=biz(first + dt.timedelta(days=rng.randint(0, 26))),
                    amount=-rng.randint(30_000, 2_500_000), kind="supplier_payment", alloc=[],
                    note=f"payment to supplier {sup}", text=f"VIR {sup} FACT {rand_digits(rng, 7)}",
                    counter=sup,
                )  # fmt: skip
            for _ in range(rng.randint(1, 2)):
                self.add_line(
                    acct="CAIXA", date=biz(first + dt.timedelta(days=rng.randint(0, 26))),
                    amount=-rng.randint(50_000, 900_000), kind="supplier_payment", alloc=[],
                    note="Barcelona supplier", text=f"TRANSF. PROVEEDOR ALQUILER OFICINA {m:02d}",
                    counter="INMOBILIARIA DIAGONAL SL",
                )  # fmt: skip
            for _ in range(rng.randint(1, 3)):
                self.add_line(
                    acct="CA", date=biz(first + dt.timedelta(days=rng.randint(0, 27))),
                    amount=rng.randint(20_000, 400_000), kind="card_payout", alloc=[],
                    note="card acquirer payout for web-shop sales (no invoice in the ledger)",
                    payer="CB REMISE MONETICO", text=f"REMISE CB {rand_digits(rng, 7)} 12 FACT",
                )  # fmt: skip
            if rng.random() < 0.35:
                self.add_line(
                    acct="BNP", date=biz(first + dt.timedelta(days=rng.randint(0, 27))),
                    amount=rng.randint(5_000, 90_000), kind="supplier_refund", alloc=[],
                    note="refund from a supplier", payer=rng.choice(SUPPLIERS)[0],
                    text=f"REMBOURSEMENT AVOIR {rand_digits(rng, 6)}",
                )  # fmt: skip
            d = biz(dt.date(y, m, 24))
            amt = rng.randint(5_000_000, 9_000_000)
            self.add_line(
                acct="BNP", date=d, amount=-amt, kind="internal_transfer", alloc=[],
                note="cash sweep to the Crédit Agricole account", internal=True,
                text="VIREMENT INTERNE OCCITEL SERVICES", counter="OCCITEL SERVICES",
            )  # fmt: skip
            self.add_line(
                acct="CA", date=d, amount=amt, kind="internal_transfer", alloc=[],
                note="cash sweep from the BNP account", internal=True, payer="OCCITEL SERVICES",
                payer_iban=self.acct_iban["BNP"], text="VIREMENT INTERNE OCCITEL SERVICES",
            )  # fmt: skip
            if m in (3, 6, 9, 12):
                for acct in ("BNP", "CA"):
                    self.add_line(
                        acct=acct, date=biz(me - dt.timedelta(days=2)),
                        amount=rng.randint(1_000, 40_000), kind="interest", alloc=[],
                        note="interest on balances", interest=True,
                        text="INTERETS CREDITEURS TRIMESTRE",
                    )  # fmt: skip
            self.add_line(
                acct="HSBC", date=biz(dt.date(y, m, 22)), amount=-rng.randint(100_000, 900_000),
                kind="internal_transfer", alloc=[], note="GBP converted to EUR", internal=True,
                text="FX TRANSFER TO OWN EUR ACCOUNT", counter="OCCITEL SERVICES",
            )  # fmt: skip


# ----------------------------------------------------------------------------- the controller

DOC_RE = re.compile(r"[^A-Z0-9]")


def canon_doc(s: str) -> str:
    """Invoice number without separators and leading zeros in the sequence."""
    u = s.upper()
    m = re.fullmatch(r"\s*(F|AV)\s*[-/ ]?\s*(20\d\d)\s*[-/ ]?\s*(\d{1,6})\s*", u)
    if m:
        return f"{m.group(1)}{m.group(2)}-{int(m.group(3))}"
    m = re.fullmatch(r"\s*(B|BR)\s*[-/ ]?\s*(\d\d)\s*[-/ ]?\s*(\d{1,5})\s*", u)
    if m:
        return f"{m.group(1)}{m.group(2)}-{int(m.group(3))}"
    return DOC_RE.sub("", u)


class Controller:
    """A careful credit controller over the booked lines in booking order."""

    def __init__(self, world: World):
        self.w = world
        self.docs = {d.did: d for d in world.docs}
        self.by_canon = {canon_doc(d.did): d for d in world.docs}
        self.open = {d.did: d.amount for d in world.docs}
        self.iban_to = {c.iban: c for c in world.customers if c.iban_known}
        names = defaultdict(list)
        for c in world.customers:
            names[norm_name(c.name)].append(c)
        self.names = names
        self.by_po = defaultdict(list)
        for d in world.docs:
            if d.po:
                self.by_po[d.po.upper().replace(" ", "")].append(d)
        self.by_cust = defaultdict(list)
        for d in world.docs:
            self.by_cust[d.cust.cid].append(d)
        self.partial_posted: set[str] = set()
        self.conflicts = 0

    def payer(self, ln: Line) -> Customer | None:
        if ln.payer_iban and ln.payer_iban in self.iban_to:
            return self.iban_to[ln.payer_iban]
        cands = self.names.get(norm_name(ln.payer), []) if ln.payer else []
        return cands[0] if len(cands) == 1 else None

    def resolve(self, ln: Line, payer: Customer | None) -> tuple[list[Doc], str]:
        named: list[Doc] = []
        mentions = list(ln.mentions)
        if ln.rf:
            mentions.append(("rf", ln.rf))
        mentions += [("full", nb) for nb, _a, _t in ln.sdocs]
        if ln.e2e and canon_doc(ln.e2e) in self.by_canon:
            mentions.append(("full", ln.e2e))
        for kind, val in mentions:
            if kind == "rf":
                v = val.replace(" ", "").upper()
                if not rf_ok(v):
                    continue
                hits = [d for d in self.w.docs if d.reference == v]
            elif kind == "full":
                d = self.by_canon.get(canon_doc(val))
                hits = [d] if d else []
            elif kind == "po":
                hits = self.by_po.get(val.upper().replace(" ", ""), [])
                if len({d.cust.cid for d in hits}) != 1:
                    return [], f"PO {val} names no or several customers' documents"
                hits = [d for d in hits if d.dtype == "invoice"] or hits
            else:
                seq, year = val
                pool = self.by_cust[payer.cid] if payer else self.w.docs
                hits = [d for d in pool if d.seq == seq and (year is None or d.year == year)]
                hits = [d for d in hits if d.dtype == "invoice"]
            if len(hits) != 1 and kind != "po":
                return [], f"{val} names {len(hits)} documents"
            for d in hits:
                if d not in named:
                    named.append(d)
        return named, ""

    def decide(self, ln: Line) -> tuple[str, list, str]:
        if ln.amount < 0:
            if ln.returns is not None or ln.rtr:
                orig = ln.returns
                if orig is not None and orig.expected == "auto":
                    return "auto", [(d, -a) for d, a in orig.alloc], "returns a settled collection"
                return "person", [], "returns a collection the controller did not settle"
            return "auto", [], "outgoing payment"
        if ln.internal or ln.interest:
            return "auto", [], "own transfer / interest"
        if ln.batch < 0:
            return "person", [], "batch without details"
        payer = self.payer(ln)
        named, why = self.resolve(ln, payer)
        if why:
            return "person", [], why
        if named:
            return self.with_named(ln, payer, named)
        if payer is None:
            return "person", [], "payer unknown, nothing named"
        return self.search(ln, payer)

    def with_named(self, ln: Line, payer, named: list[Doc]) -> tuple[str, list, str]:
        if any(d.currency != self.w.acct_ccy[ln.acct] for d in named):
            return "person", [], "currency differs"
        opens = [self.open[d.did] for d in named]
        if any(
            (o <= 0 if d.dtype == "invoice" else o >= 0) for d, o in zip(named, opens, strict=True)
        ):
            return "person", [], "a named document is already settled"
        total = sum(opens)
        a = ln.amount
        full = [(d.did, o) for d, o in zip(named, opens, strict=True)]
        if a == total:
            return "auto", full, "amount equals the named documents"
        invs = [d for d in named if d.dtype == "invoice"]
        text = (ln.text or "").lower()
        partial_words = ("acompte", "avance", "échéance", "echeance", "acconto", "anticipo",
                         "a cuenta", "acpte", "part payment")  # fmt: skip
        if len(named) == 1 and 0 < a < total and any(w in text for w in partial_words):
            return "auto", [(named[0].did, a)], "announced partial payment"
        home = {"CAIXA": "ES"}.get(ln.acct, "FR")
        foreign = bool(ln.payer_iban) and ln.payer_iban[:2] != home
        charged = foreign or ("confirming" in (ln.payer or "").lower())
        if charged and total - 4000 <= a < total and len(invs) == len(named):
            out, left = [], a
            for d, o in full[:-1]:
                out.append((d, o))
                left -= o
            out.append((full[-1][0], left))
            return "auto", out, "short by bank charges on a foreign/confirming payment"
        if total < a <= total + 500:
            return "auto", full, "small overpayment, excess left"
        cust = {d.cust.cid for d in named}
        owner = payer or (self.w.cust_by_id[next(iter(cust))] if len(cust) == 1 else None)
        if owner is not None:
            cns = [
                d for d in self.by_cust[owner.cid]
                if d.dtype == "credit_note" and self.open[d.did] < 0 and d not in named
            ]  # fmt: skip
            if len(cns) == 1 and a == total + self.open[cns[0].did]:
                return "auto", [*full, (cns[0].did, self.open[cns[0].did])], "net of credit note"
        return "person", [], "amount does not fit the named documents"

    def search(self, ln: Line, payer: Customer) -> tuple[str, list, str]:
        ccy = self.w.acct_ccy[ln.acct]
        docs = [
            d for d in self.by_cust[payer.cid]
            if d.currency == ccy and self.open[d.did] != 0
            and (self.open[d.did] > 0) == (d.dtype == "invoice")
        ]  # fmt: skip
        if len(docs) > 60:
            return "person", [], "too many open documents"
        # subset-sum with counts capped at 2: credit notes first, then invoices ascending, so
        # sums above the amount (or too far below to be reached) can be dropped
        docs.sort(key=lambda d: (self.open[d.did] > 0, self.open[d.did], d.did))
        target = ln.amount
        rem_pos = sum(max(0, self.open[d.did]) for d in docs)
        dp: dict[int, tuple[int, tuple]] = {0: (1, ())}
        for i, d in enumerate(docs):
            o = self.open[d.did]
            new = dict(dp)
            for s, (cnt, sub) in dp.items():
                t = s + o
                c0, s0 = new.get(t, (0, ()))
                new[t] = (min(2, c0 + cnt), s0 if c0 else (*sub, i))
            if o > 0:
                rem_pos -= o
                new = {s: v for s, v in new.items() if target - rem_pos <= s <= target}
            dp = new
            if len(dp) > 200_000:
                return "person", [], "search too wide"
        cnt, sub = dp.get(ln.amount, (0, ()))
        if ln.amount == 0:
            cnt -= 1
        if cnt == 1:
            return "auto", [(docs[i].did, self.open[docs[i].did]) for i in sub], "unique set"
        return "person", [], "no set of open documents fits" if cnt == 0 else "several sets fit"

    def run(self, lines: list[Line]) -> None:
        for ln in lines:
            exp, alloc, why = self.decide(ln)
            truth = sorted((d, a) for d, a in ln.alloc)
            if exp == "auto" and sorted(alloc) != truth:
                self.conflicts += 1
                exp, why = "person", f"controller's own answer would differ ({why})"
            ln.expected = exp
            ln.ctrl_note = why
            if exp == "auto":
                for d, a in alloc:
                    self.open[d] -= a


# ----------------------------------------------------------------------------- writers


def ccy_amt(parent, tag, cents, ccy):
    e = etree.SubElement(parent, tag, Ccy=ccy)
    e.text = fmt(abs(cents))
    return e


def sub(parent, tag, text=None):
    e = etree.SubElement(parent, tag)
    if text is not None:
        e.text = text
    return e


def bktxcd(parent, dom, fam, subf):
    b = sub(parent, "BkTxCd")
    d = sub(b, "Domn")
    sub(d, "Cd", dom)
    f = sub(d, "Fmly")
    sub(f, "Cd", fam)
    sub(f, "SubFmlyCd", subf)


def txcode(ln: Line) -> tuple[str, str, str]:
    if ln.rtr:
        return "PMNT", "RDDT", "UPDD"
    if ln.batch:
        return "PMNT", "RDDT", "BBDD" if ln.kind == "dd_b2b" else "ESDD"
    if ln.interest:
        return "ACMT", "MDOP", "INTR"
    if ln.kind == "bank_fees":
        return "ACMT", "MDOP", "CHRG"
    if ln.amount < 0:
        return "PMNT", "ICDT", "ESCT"
    return "PMNT", "RCDT", "ESCT"


def party(parent, tag, name, v08):
    p = sub(parent, tag)
    if v08:
        p = sub(p, "Pty")
    sub(p, "Nm", name[:140])


def tx_details(parent, ln: Line, ccy: str, v08: bool, ref: str | None):
    tx = sub(parent, "TxDtls")
    refs = sub(tx, "Refs")
    if ref:
        sub(refs, "AcctSvcrRef", ref)
    sub(refs, "EndToEndId", ln.e2e or "NOTPROVIDED")
    if ln.mandate:
        sub(refs, "MndtId", ln.mandate)
    if v08:
        ccy_amt(tx, "Amt", ln.amount, ccy)
        sub(tx, "CdtDbtInd", "CRDT" if ln.amount > 0 else "DBIT")
    ad = sub(tx, "AmtDtls")
    ccy_amt(sub(ad, "TxAmt"), "Amt", ln.amount, ccy)
    if ln.payer or ln.counter:
        rp = sub(tx, "RltdPties")
        if ln.amount > 0 or ln.rtr:
            party(rp, "Dbtr", ln.payer or "NOTPROVIDED", v08)
            if ln.payer_iban:
                sub(sub(sub(rp, "DbtrAcct"), "Id"), "IBAN", ln.payer_iban)
        else:
            party(rp, "Cdtr", ln.counter, v08)
    if ln.text or ln.rf or ln.sdocs:
        ri = sub(tx, "RmtInf")
        text = ln.text
        while text:
            sub(ri, "Ustrd", text[:140])
            text = text[140:]
        for nb, amt, tp in ln.sdocs:
            st = sub(ri, "Strd")
            rdi = sub(st, "RfrdDocInf")
            sub(sub(sub(rdi, "Tp"), "CdOrPrtry"), "Cd", tp)
            sub(rdi, "Nb", nb)
            ccy_amt(sub(st, "RfrdDocAmt"), "CdtNoteAmt" if tp == "CREN" else "RmtdAmt", amt, ccy)
        if ln.rf:
            st = sub(ri, "Strd")
            cri = sub(st, "CdtrRefInf")
            tp = sub(sub(cri, "Tp"), "CdOrPrtry")
            sub(tp, "Cd", "SCOR")
            sub(cri, "Ref", ln.rf)
    if ln.rtr:
        ri = sub(tx, "RtrInf")
        sub(sub(ri, "Rsn"), "Cd", ln.rtr)
        sub(ri, "AddtlInf", "RETOUR PRELEVEMENT SEPA")
    return tx


def write_camt(path: Path, version: str, acct_iban: str, ccy: str, bic: str, owner: str,
               year: int, month: int, opening: int, entries: list) -> None:  # fmt: skip
    v08 = version == "08"
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    root = etree.Element("Document", nsmap={None: ns})
    body = sub(root, "BkToCstmrStmt")
    gh = sub(body, "GrpHdr")
    last = month_end(dt.date(year, month, 1))
    stamp = f"{(last + dt.timedelta(days=1)).isoformat()}T06:00:00"
    sub(gh, "MsgId", f"STMT{acct_iban[-8:]}{year}{month:02d}")
    sub(gh, "CreDtTm", stamp)
    st = sub(body, "Stmt")
    sub(st, "Id", f"{acct_iban[-6:]}-{year}{month:02d}")
    sub(st, "ElctrncSeqNb", str((year - 2025) * 12 + month))
    sub(st, "CreDtTm", stamp)
    ft = sub(st, "FrToDt")
    sub(ft, "FrDtTm", f"{year}-{month:02d}-01T00:00:00")
    sub(ft, "ToDtTm", f"{last.isoformat()}T23:59:59")
    acc = sub(st, "Acct")
    sub(sub(acc, "Id"), "IBAN", acct_iban)
    sub(acc, "Ccy", ccy)
    sub(sub(acc, "Ownr"), "Nm", owner)
    sub(sub(sub(acc, "Svcr"), "FinInstnId"), "BICFI" if v08 else "BIC", bic)
    closing = opening + sum(e[0] for e in entries)
    for code, amt, day in (("OPBD", opening, dt.date(year, month, 1)), ("CLBD", closing, last)):
        b = sub(st, "Bal")
        sub(sub(sub(b, "Tp"), "CdOrPrtry"), "Cd", code)
        ccy_amt(b, "Amt", amt, ccy)
        sub(b, "CdtDbtInd", "CRDT" if amt >= 0 else "DBIT")
        sub(sub(b, "Dt"), "Dt", day.isoformat())
    for amount, ref, date, members, batch_n in entries:
        n = sub(st, "Ntry")
        sub(n, "NtryRef", ref[-16:])
        ccy_amt(n, "Amt", amount, ccy)
        sub(n, "CdtDbtInd", "CRDT" if amount > 0 else "DBIT")
        if v08:
            sub(sub(n, "Sts"), "Cd", "BOOK")
        else:
            sub(n, "Sts", "BOOK")
        sub(sub(n, "BookgDt"), "Dt", date.isoformat())
        sub(sub(n, "ValDt"), "Dt", date.isoformat())
        sub(n, "AcctSvcrRef", ref)
        first = members[0]
        bktxcd(n, *txcode(first))
        nd = sub(n, "NtryDtls")
        if first.batch:
            bt = sub(nd, "Btch")
            sub(bt, "PmtInfId", f"OCC-DD-{date:%Y%m%d}-{abs(first.batch):03d}")
            sub(bt, "NbOfTxs", str(batch_n))
            ccy_amt(bt, "TtlAmt", amount, ccy)
            sub(bt, "CdtDbtInd", "CRDT")
            if first.batch > 0:
                for ln in members:
                    tx_details(nd, ln, ccy, v08, ln.ref)
            sub(n, "AddtlNtryInf", f"REMISE PRLV SEPA {batch_n} OPE OCCITEL SERVICES")
        else:
            tx_details(nd, first, ccy, v08, None)
            info = (first.text or first.counter or first.kind.upper())[:500]
            sub(n, "AddtlNtryInf", info)
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                    pretty_print=True))  # fmt: skip


SWIFT_OK = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


def swift_text(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return SWIFT_OK.sub(" ", s.replace("°", "o"))


def wrap(s: str, first: int, width: int = 65, max_lines: int = 6) -> list[str]:
    out = [s[:first]]
    s = s[first:]
    while s:
        out.append(s[:width])
        s = s[width:]
    if len(out) > max_lines:
        raise ValueError(f"MT940 :86: too long: {out}")
    return out


def write_mt940(path: Path, style: str, acct_iban: str, ccy: str, bic: str, year: int,
                month: int, opening: int, entries: list) -> None:  # fmt: skip
    def bal(tag, amt, d):
        return f":{tag}:{'C' if amt >= 0 else 'D'}{d:%y%m%d}{ccy}{fmt(abs(amt), ',')}"

    last = month_end(dt.date(year, month, 1))
    out = [f":20:{bic[:4]}{year % 100:02d}{month:02d}{acct_iban[-4:]}",
           f":25:{acct_iban}", f":28C:{month:03d}/1",
           bal("60F", opening, dt.date(year, month, 1))]  # fmt: skip
    total = opening
    for amount, ref, date, members, _n in entries:
        ln = members[0]
        total += amount
        code = "NTRF" if not ln.rtr else "NRTI"
        cust_ref = (ln.e2e if ln.e2e and ln.e2e != "NOTPROVIDED" else "NONREF")[:16]
        out.append(
            f":61:{date:%y%m%d}{date:%m%d}{'C' if amount > 0 else 'D'}"
            f"{fmt(abs(amount), ',')}{code}{swift_text(cust_ref)}//{ref}"
        )
        text = swift_text(ln.text or "")
        name = swift_text(ln.payer if amount > 0 else ln.counter)
        e2e = swift_text(ln.e2e or "NOTPROVIDED")
        if style == "struct":
            gvc = "166" if amount > 0 else "177"
            parts = [f"?00{'GUTSCHRIFT' if amount > 0 else 'UEBERWEISUNG'}", f"?20EREF+{e2e}"[:30]]
            svwz = "SVWZ+" + text
            if ln.rf:
                parts.append(f"?21KREF+{ln.rf}"[:30])
            k = 22 if ln.rf else 21
            while svwz and k <= 29:
                parts.append(f"?{k}{svwz[:27]}")
                svwz = svwz[27:]
                k += 1
            parts.append(f"?30{bic}")
            if ln.payer_iban and amount > 0:
                parts.append(f"?31{ln.payer_iban}")
            if name:
                parts.append(f"?32{name[:27]}")
                if len(name) > 27:
                    parts.append(f"?33{name[27:54]}")
            out.append(f":86:{gvc}{parts[0]}")
            out.extend(parts[1:])
        else:
            s = f"/EREF/{e2e}"
            if ln.rf:
                s += f"/KREF/{ln.rf}"
            s += f"/REMI/{text}" if text else ""
            if amount > 0 and name:
                s += f"/ORDP//NAME/{name}"
                if ln.payer_iban:
                    s += f"/ACCT/{ln.payer_iban}"
            elif name:
                s += f"/BENM//NAME/{name}"
            if ln.rtr:
                s += f"/RTRN/{ln.rtr}"
            out.extend(wrap(":86:" + s, 65))
    out.append(bal("62F", total, last))
    path.write_text("\r\n".join(out) + "\r\n-", encoding="ascii")


# ----------------------------------------------------------------------------- main


def generate(out: Path, seed: int, n_inv: int) -> tuple[World, Controller, list]:
    w = World(seed, n_inv)
    w.make_customers()
    w.make_docs()
    w.cust_by_id = {c.cid: c for c in w.customers}
    w.acct_ccy = {k: v[3] for k, v in ACCOUNTS.items()}
    w.make_payments()
    order = list(ACCOUNTS)
    for i, ln in enumerate(w.lines):
        ln.seq = i
    w.lines.sort(key=lambda x: (x.date, order.index(x.acct), x.seq))
    ctl = Controller(w)
    ctl.run(w.lines)

    out.mkdir(parents=True, exist_ok=True)
    (out / "statements").mkdir(exist_ok=True)
    # customers.csv
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["customer_id", "name", "email", "iban", "siren", "vat_number", "language",
                 "legal_entity"])  # fmt: skip
    for c in w.customers:
        wr.writerow([c.cid, c.name, c.email, c.iban if c.iban_known else "", c.siren, c.vat,
                     c.language, c.entity])  # fmt: skip
    (out / "customers.csv").write_text(buf.getvalue(), encoding="utf-8")
    buf = io.StringIO()
    wr = csv.writer(buf, delimiter=";", lineterminator="\n")
    wr.writerow(["invoice_id", "customer_id", "customer_name", "issue_date", "due_date",
                 "amount_total", "currency", "reference", "po_number", "document_type",
                 "legal_entity"])  # fmt: skip
    for d in sorted(w.docs, key=lambda x: (x.issue, x.did)):
        wr.writerow([d.did, d.cust.cid, d.cust.name, f"{d.issue:%d/%m/%Y}", f"{d.due:%d/%m/%Y}",
                     fmt(d.amount, ","), d.currency, d.reference, d.po, d.dtype,
                     d.entity])  # fmt: skip
    (out / "invoices.csv").write_text("\ufeff" + buf.getvalue(), encoding="utf-8")

    # bookings: group batch details into one entry; assign references
    prefix = {"BNP": "BNPTLS", "CA": "CA831", "HSBC": "HSBCGB", "CAIXA": "CXB"}
    counters: Counter = Counter()
    bookings: dict[str, list] = defaultdict(list)
    batches: dict[int, list[Line]] = {}
    for ln in w.lines:
        if ln.batch > 0:
            if ln.batch in batches:
                batches[ln.batch].append(ln)
                continue
            batches[ln.batch] = [ln]
            bookings[ln.acct].append(batches[ln.batch])
        else:
            bookings[ln.acct].append([ln])
    gt_rows = []
    for acct, (_ent, _bank, bic, ccy, form) in ACCOUNTS.items():
        iban_a = w.acct_iban[acct]
        balance = {"BNP": 18_450_000, "CA": 6_212_345, "HSBC": 1_530_000, "CAIXA": 4_100_000}[acct]
        for y, m in MONTHS:
            month_b = [b for b in bookings[acct] if (b[0].date.year, b[0].date.month) == (y, m)]
            entries = []
            ext = "xml" if form.startswith("camt") else "sta"
            fname = f"{_ent}_{acct}_{iban_a[-4:]}_{y}-{m:02d}.{ext}"
            for members in month_b:
                counters[acct] += 1
                d = members[0].date
                ref = f"{prefix[acct]}{d:%y%m%d}{counters[acct]:06d}"
                amount = sum(x.amount for x in members)
                if members[0].batch > 0:
                    for j, x in enumerate(members, 1):
                        x.ref = f"{ref}-{j}"
                    bn = len(members)
                else:
                    members[0].ref = ref
                    bn = members[0].batch_n
                entries.append((amount, ref, d, members, bn))
                for x in members:
                    gt_rows.append((iban_a, ccy, f"statements/{fname}", x))
            path = out / "statements" / fname
            if form == "camt08":
                write_camt(path, "08", iban_a, ccy, bic, "OCCITEL SERVICES", y, m, balance, entries)
            elif form == "camt02":
                write_camt(path, "02", iban_a, ccy, bic, "OCCITEL SERVICES SUCURSAL EN ESPANA",
                           y, m, balance, entries)  # fmt: skip
            else:
                style = "struct" if form == "mt940_struct" else "free"
                write_mt940(path, style, iban_a, ccy, bic, y, m, balance, entries)
            balance += sum(e[0] for e in entries)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["account_iban", "currency", "statement_file", "booking_date", "amount",
                 "bank_reference", "case_kind", "expected", "allocations", "note"])  # fmt: skip
    for iban_a, ccy, fname, x in gt_rows:
        alloc = json.dumps([{"invoice_id": d, "amount": fmt(a)} for d, a in x.alloc])
        wr.writerow([iban_a, ccy, fname, x.date.isoformat(), fmt(x.amount), x.ref, x.kind,
                     x.expected, alloc, f"{x.note}; controller: {x.ctrl_note}"])  # fmt: skip
    (out / "ground_truth.csv").write_text(buf.getvalue(), encoding="utf-8")
    return w, ctl, gt_rows


# ----------------------------------------------------------------------------- self-checks


def read_back(out: Path) -> dict[str, int]:
    got: dict[str, int] = {}
    for p in sorted((out / "statements").iterdir()):
        if p.suffix == ".xml":
            tree = etree.parse(str(p))
            ns = {"c": tree.getroot().nsmap[None]}
            for n in tree.iterfind(".//c:Ntry", ns):
                sign = 1 if n.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
                ref = n.findtext("c:AcctSvcrRef", namespaces=ns)
                dets = [
                    t for t in n.findall("c:NtryDtls/c:TxDtls", ns)
                    if t.find("c:Refs/c:AcctSvcrRef", ns) is not None
                ]  # fmt: skip
                if dets:
                    for t in dets:
                        r = t.findtext("c:Refs/c:AcctSvcrRef", namespaces=ns)
                        a = t.findtext("c:AmtDtls/c:TxAmt/c:Amt", namespaces=ns)
                        got[r] = sign * round(float(a) * 100)
                else:
                    a = n.findtext("c:Amt", namespaces=ns)
                    got[ref] = sign * round(float(a) * 100)
        else:
            for line in p.read_bytes().decode("ascii").split("\r\n"):
                m = re.match(r":61:\d{10}([CD])([\d,]+)N\w{3}.*//(.+)$", line)
                if m:
                    sign = 1 if m.group(1) == "C" else -1
                    got[m.group(3)] = sign * round(float(m.group(2).replace(",", ".")) * 100)
    return got


def self_checks(out: Path, w: World, gt_rows: list) -> list[str]:
    errors: list[str] = []
    schemas = {}
    for v in ("02", "08"):
        xsd = XSD_DIR / f"camt.053.001.{v}.xsd"
        schemas[f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{v}"] = etree.XMLSchema(
            etree.parse(str(xsd))
        )
    n_xml = n_mt = 0
    for p in sorted((out / "statements").iterdir()):
        if p.suffix == ".xml":
            n_xml += 1
            tree = etree.parse(str(p))
            ns_uri = tree.getroot().nsmap[None]
            sch = schemas[ns_uri]
            if not sch.validate(tree):
                errors.append(f"{p.name}: XSD {sch.error_log.last_error}")
            ns = {"c": ns_uri}
            bals = {}
            for b in tree.iterfind(".//c:Bal", ns):
                code = b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns)
                s = 1 if b.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
                bals[code] = s * round(float(b.findtext("c:Amt", namespaces=ns)) * 100)
            tot = 0
            for n in tree.iterfind(".//c:Ntry", ns):
                s = 1 if n.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -1
                amt = round(float(n.findtext("c:Amt", namespaces=ns)) * 100)
                tot += s * amt
                dets = n.findall("c:NtryDtls/c:TxDtls", ns)
                if n.find("c:NtryDtls/c:Btch", ns) is not None and dets:
                    dsum = sum(
                        round(float(t.findtext("c:AmtDtls/c:TxAmt/c:Amt", namespaces=ns)) * 100)
                        for t in dets
                    )
                    if dsum != amt:
                        errors.append(f"{p.name}: batch details do not add up")
            if bals["OPBD"] + tot != bals["CLBD"]:
                errors.append(f"{p.name}: does not balance")
        else:
            n_mt += 1
            lines = p.read_bytes().decode("ascii").split("\r\n")
            if any(len(x) > 65 for x in lines):
                errors.append(f"{p.name}: line over 65 characters")

            def val(x):
                s = 1 if x[5] == "C" else -1
                return s * round(float(x[15:].replace(",", ".")) * 100)

            op = next(val(x) for x in lines if x.startswith(":60F:"))
            cl = next(val(x) for x in lines if x.startswith(":62F:"))
            tot = 0
            for x in lines:
                m = re.match(r":61:\d{10}([CD])([\d,]+)", x)
                if m:
                    s = 1 if m.group(1) == "C" else -1
                    tot += s * round(float(m.group(2).replace(",", ".")) * 100)
            if op + tot != cl:
                errors.append(f"{p.name}: does not balance")
    for c in w.customers:
        if not iban_ok(c.iban):
            errors.append(f"{c.cid}: bad IBAN")
        if c.siren and (not luhn_ok(c.siren) or c.vat != fr_vat(c.siren)):
            errors.append(f"{c.cid}: bad SIREN/VAT")
    for a in w.acct_iban.values():
        if not iban_ok(a):
            errors.append(f"account {a}: bad IBAN")
    for d in w.docs:
        if d.reference and not rf_ok(d.reference):
            errors.append(f"{d.did}: bad RF")
    refs = [x.ref for _a, _c, _f, x in gt_rows]
    if len(refs) != len(set(refs)):
        errors.append("bank references not unique")
    amounts = {d.did: d.amount for d in w.docs}
    paid: Counter = Counter()
    for _a, _c, _f, x in gt_rows:
        for did, a in x.alloc:
            paid[did] += a
            if did not in amounts:
                errors.append(f"{x.ref}: unknown document {did}")
            elif abs(a) > abs(amounts[did]):
                errors.append(f"{x.ref}: allocation above {did}")
    for did, a in paid.items():
        if abs(a) > abs(amounts[did]):
            errors.append(f"{did}: allocated {fmt(a)} over its amount")
    got = read_back(out)
    truth = {x.ref: x.amount for _a, _c, _f, x in gt_rows}
    if got != truth:
        diff = [r for r in set(got) | set(truth) if got.get(r) != truth.get(r)]
        errors.append(f"read-back differs from the truth on {len(diff)} lines, e.g. {diff[:3]}")
    print(f"checked {n_xml} camt files, {n_mt} MT940 files, {len(gt_rows)} lines")
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=53)
    ap.add_argument("--invoices", type=int, default=1500)
    args = ap.parse_args()
    w, ctl, gt_rows = generate(args.out_dir, args.seed, args.invoices)
    counts = Counter((x.kind, x.expected) for _a, _c, _f, x in gt_rows)
    kinds = sorted({k for k, _e in counts})
    print(f"{'case_kind':45s} {'auto':>5s} {'person':>6s}")
    for k in kinds:
        print(f"{k:45s} {counts[(k, 'auto')]:5d} {counts[(k, 'person')]:6d}")
    n = len(gt_rows)
    n_auto = sum(v for (k, e), v in counts.items() if e == "auto")
    cust = sum(1 for *_r, x in gt_rows if x.alloc or x.kind == "duplicate_payment")
    print(f"lines {n}, auto {n_auto} ({100 * n_auto / n:.1f} %), customer payments {cust} "
          f"({100 * cust / n:.1f} %), documents {len(w.docs)}, "
          f"controller conflicts {ctl.conflicts}")  # fmt: skip
    errors = self_checks(args.out_dir, w, gt_rows)
    for e in errors[:30]:
        print("SELF-CHECK FAILED:", e)
    if errors:
        return 1
    print("self-checks: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
