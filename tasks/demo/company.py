"""The demo company: a seeded French seller's receivables, its bank side, and the right answer.

The demo, the ingestion tests and the reconciliation benchmark need data whose correct matching is
known in advance, with the traps real remittances hold (grouped transfers, messy references,
third-party payers, bank fees, reversals). Everything is drawn from one numpy generator in a fixed
order, so a seed gives identical frames; invoices and payments are built as whole-column
expressions (a Python loop runs per customer and per account-month only), so a million invoices
stay within seconds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from o2c.models.bank import Statement, StatementLine
from o2c.models.erp import (
    CUSTOMER_ADDRESS,
    CUSTOMER_COLUMNS,
    CUSTOMER_DUNNING,
    INVOICE_ADDRESS,
    INVOICE_COLUMNS,
    INVOICE_DUNNING,
)
from o2c.models.schemas import BANK_TRANSACTION, BANK_TRANSACTION_OPTIONAL

# How an invoice gets paid, when it does: drawn per invoice (_PAY_KINDS), then a ground-truth label.
_PAID_KINDS = (
    "on_time",
    "late",
    "partial",
    "grouped",
    "overpaid",
    "short_fee",
    "third_party",
    "messy_reference",
    "rf_reference",
    "iban_amount_only",
)

# A messy reference whose slipped or cut number is another existing document's: a person's line.
_OTHER_DOCUMENT = "messy_other_document"

# One label per (transaction, invoice) pair of the ground truth.
CASE_KINDS = (*_PAID_KINDS, _OTHER_DOCUMENT, "reversal", "noise")

# Columns of the ERP invoice export, in order (models/erp.py, the README's invoice input format);
# the demo's invoices carry no postal address, and leave what dunning needs to the customer master.
INVOICE_EXPORT_COLUMNS = tuple(
    c for c in INVOICE_COLUMNS if c not in (*INVOICE_ADDRESS, *INVOICE_DUNNING)
)

# The customer master as o2c ingests it; currency stays in the frame.
CUSTOMER_EXPORT_COLUMNS = CUSTOMER_COLUMNS
# The demo's own late-payment rate rows (an assumption, labelled so in the file): see `o2c demo`.
DEMO_RATES = Path(__file__).with_name("rates_demo.toml")
# The demo's dunning policy: the shipped one with no level waiting for the one below it.
DEMO_POLICY = Path(__file__).with_name("policy_demo.yaml")
# The master's columns drawn with the receivables (what dunning needs is drawn apart, after).
_CUSTOMER_BASE_COLUMNS = tuple(c for c in CUSTOMER_COLUMNS if c not in CUSTOMER_DUNNING)
# The demo's payment terms as its ERP writes them in the customer master.
_TERMS_TEXT = {"net30": "30 jours", "eom45": "45 jours fin de mois", "net60": "60 jours"}

GROUND_TRUTH_SCHEMA = {
    "bank_reference": pl.String,
    "invoice_id": pl.String,
    "amount_cents": pl.Int64,
    "case_kind": pl.String,
}


@dataclass(frozen=True, slots=True)
class DemoCompany:
    """The generated world; money columns are Int64 cents."""

    as_of: date
    seed: int
    period_start: date  # first day of the first statement month
    customers: pl.DataFrame
    invoices: pl.DataFrame
    accounts: pl.DataFrame
    bank_transactions: pl.DataFrame  # models.schemas.BANK_TRANSACTION
    ground_truth: pl.DataFrame  # GROUND_TRUTH_SCHEMA


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

# The seller: two legal entities; only FR01 invoices in foreign currencies.
_ENTITIES = {"FR01": "Lumière Industries SAS", "FR02": "Lumière Services SARL"}
# (legal_entity, currency, bank code, branch, account number, opening balance in cents)
_ACCOUNTS = (
    ("FR01", "EUR", "30004", "00821", "00010476512", 18_500_000),
    ("FR01", "GBP", "30004", "00821", "00010476598", 2_200_000),
    ("FR01", "USD", "30004", "00821", "00010476601", 1_500_000),
    ("FR01", "CHF", "30004", "00821", "00010476615", 900_000),
    ("FR02", "EUR", "30003", "04120", "00020031877", 4_600_000),
)
_SELLER_BIC = {"30004": "BNPAFRPPXXX", "30003": "SOGEFRPPXXX"}

_FR_SURNAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Lemaire",
    "Renard",
    "Barbier",
    "Marchand",
    "Brun",
    "Caron",
    "Giraud",
    "Lacroix",
]
_FR_TRADES = (
    "Menuiserie",
    "Transports",
    "Boulangerie",
    "Imprimerie",
    "Plomberie",
    "Électricité",
    "Bâtiment",
    "Logistique",
    "Conseil",
    "Informatique",
    "Charpente",
    "Carrosserie",
    "Métallerie",
    "Traiteur",
    "Ingénierie",
    "Distribution",
    "Emballages",
    "Façades",
    "Paysages",
    "Nettoyage",
    "Froid Industriel",
    "Sécurité",
    "Vins et Spiritueux",
    "Matériaux",
    "Chaudronnerie",
)
_FR_PLACES = (
    "du Rhône",
    "de l'Ouest",
    "des Alpes",
    "du Centre",
    "de Provence",
    "d'Aquitaine",
    "du Nord",
    "de Bretagne",
    "de la Loire",
    "du Sud-Ouest",
    "de Normandie",
    "d'Alsace",
    "du Littoral",
    "des Vosges",
)
_SYLLABLES = [
    "SO",
    "FI",
    "MA",
    "TEC",
    "ATL",
    "BAT",
    "IN",
    "LOG",
    "EUR",
    "PRO",
    "MED",
    "ALP",
    "NOR",
    "CAP",
    "VAL",
    "SI",
    "DE",
    "RA",
    "TRA",
]
_FR_FORMS = ("SARL", "SAS", "SA", "SASU", "EURL")
_FR_FORM_CUM = np.cumsum((0.35, 0.35, 0.12, 0.1, 0.08))[:-1]
_FR_CITIES = (
    ("Paris", "75008"),
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13008"),
    ("Toulouse", "31000"),
    ("Nantes", "44000"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Strasbourg", "67000"),
    ("Rennes", "35000"),
    ("Nice", "06000"),
    ("Montpellier", "34000"),
    ("Grenoble", "38000"),
    ("Dijon", "21000"),
    ("Angers", "49000"),
    ("Reims", "51100"),
    ("Le Havre", "76600"),
    ("Tours", "37000"),
    ("Clermont-Ferrand", "63000"),
    ("Limoges", "87000"),
    ("Rouen", "76000"),
    ("Metz", "57000"),
    ("Besançon", "25000"),
    ("Orléans", "45000"),
    ("Caen", "14000"),
    ("Annecy", "74000"),
    ("Saint-Étienne", "42000"),
    ("Villeurbanne", "69100"),
    ("Nanterre", "92000"),
    ("Boulogne-Billancourt", "92100"),
)
_FR_STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "boulevard Voltaire",
    "rue Victor Hugo",
    "rue du Général de Gaulle",
    "avenue de la Gare",
    "rue Pasteur",
    "rue des Artisans",
    "chemin des Vignes",
    "rue de l'Industrie",
    "allée des Tilleuls",
    "quai de la Loire",
    "rue Nationale",
    "impasse des Forges",
)
_FR_LINE2 = ("ZI des Bruyères", "Bâtiment B", "ZA du Moulin", "BP 42", "Parc d'activités Europa")

# Per foreign country: surnames, trades, legal forms, (city, postcode, street), bank codes.
_FOREIGN = {
    "BE": (
        [
            "Peeters",
            "Janssens",
            "Maes",
            "Jacobs",
            "Mertens",
            "Willems",
            "Claes",
            "Goossens",
            "Dubois",
            "Lambert",
        ],
        ("Logistique", "Construction", "Distribution", "Conseil", "Métallurgie"),
        ("SA", "SRL", "BV"),
        (("Bruxelles", "1050", "Avenue Louise"), ("Liège", "4000", "Rue Neuve")),
        ("001", "310", "068", "734"),
    ),
    "DE": (
        [
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
        ],
        ("Maschinenbau", "Logistik", "Elektrotechnik", "Handel", "Metallbau", "Verpackung"),
        ("GmbH", "AG", "GmbH & Co. KG"),
        (("Köln", "50667", "Hauptstraße"), ("München", "80331", "Bahnhofstraße")),
        ("12030000", "30050110", "37050198"),
    ),
    "LU": (
        ["Schmit", "Weber", "Hoffmann", "Wagner", "Thill", "Kieffer", "Schroeder"],
        ("Services", "Finance", "Logistique", "Construction"),
        ("S.A.", "S.à r.l."),
        (
            ("Luxembourg", "L-1840", "Boulevard Royal"),
            ("Esch-sur-Alzette", "L-4001", "Rue de l'Alzette"),
        ),
        ("001", "002", "003"),
    ),
    "NL": (
        [
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
        ],
        ("Logistiek", "Techniek", "Handel", "Bouw", "Installaties", "Verpakkingen"),
        ("B.V.", "N.V."),
        (("Amsterdam", "1015 CJ", "Keizersgracht"), ("Rotterdam", "3011 AD", "Coolsingel")),
        ("ABNA", "INGB", "RABO"),
    ),
    "GB": (
        [
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Johnson",
            "Davies",
            "Evans",
            "Walker",
            "Wright",
        ],
        ("Engineering", "Logistics", "Trading", "Consulting", "Supplies", "Technologies"),
        ("Ltd", "Limited", "PLC", "LLP"),
        (("London", "EC2V 7HH", "High Street"), ("Manchester", "M1 1AE", "King Street")),
        ("NWBK601613", "BARC200415", "HBUK400515"),
    ),
    "CH": (
        [
            "Müller",
            "Meier",
            "Schmid",
            "Keller",
            "Weber",
            "Huber",
            "Steiner",
            "Favre",
            "Rochat",
            "Bonvin",
        ],
        ("Präzision", "Technik", "Handel", "Horlogerie", "Mécanique"),
        ("AG", "SA", "GmbH", "Sàrl"),
        (("Zürich", "8001", "Bahnhofstrasse"), ("Genève", "1204", "Rue du Rhône")),
        ("00762", "00700", "00230"),
    ),
}
_FR_BANKS = ("30004", "30003", "30002", "20041", "30066", "10278", "11306", "17515", "10107")
_COUNTRIES = ("FR", "BE", "DE", "LU", "NL", "GB", "CH")
_COUNTRY_P = (0.8, 0.05, 0.04, 0.02, 0.03, 0.04, 0.02)
_TLD = {"FR": "fr", "BE": "be", "DE": "de", "LU": "lu", "NL": "nl", "GB": "co.uk", "CH": "ch"}
_TERMS = ("net30", "eom45", "net60")

# Payment behaviour of an invoice, drawn from its customer's profile.
_PAY_KINDS = (*_PAID_KINDS, "never_paid")
_PROFILES = {
    "punctual": {"on_time": 62, "late": 8, "rf_reference": 16, "iban_amount_only": 4,
                 "messy_reference": 4, "overpaid": 2, "partial": 1, "never_paid": 3},
    "late_payer": {"late": 52, "on_time": 12, "partial": 12, "messy_reference": 8,
                   "iban_amount_only": 4, "never_paid": 9, "overpaid": 1, "rf_reference": 2},
    "grouper": {"grouped": 62, "on_time": 8, "late": 12, "messy_reference": 6,
                "iban_amount_only": 4, "partial": 2, "never_paid": 4, "rf_reference": 2},
    "subsidiary": {"third_party": 58, "on_time": 12, "late": 14, "grouped": 5,
                   "messy_reference": 4, "never_paid": 4, "rf_reference": 3},
    "sloppy": {"messy_reference": 38, "iban_amount_only": 22, "late": 16, "on_time": 8,
               "partial": 5, "overpaid": 4, "short_fee": 2, "never_paid": 5},
    "troubled": {"never_paid": 32, "partial": 22, "late": 30, "messy_reference": 8,
                 "iban_amount_only": 4, "on_time": 4},
    "foreign": {"short_fee": 42, "on_time": 18, "late": 18, "rf_reference": 6,
                "messy_reference": 6, "overpaid": 3, "partial": 3, "never_paid": 4},
}  # fmt: skip
_PROFILE_NAMES = tuple(_PROFILES)
_DOMESTIC_PROFILE_P = (0.30, 0.20, 0.15, 0.10, 0.15, 0.10, 0.0)
# Days from the due date to the payment: (low, high) inclusive, per kind.
_DELAY = {
    "on_time": (-7, 0),
    "late": (3, 120),
    "partial": (-3, 20),
    "overpaid": (-5, 20),
    "short_fee": (0, 30),
    "third_party": (-5, 45),
    "messy_reference": (-5, 40),
    "rf_reference": (-7, 5),
    "iban_amount_only": (-5, 30),
}
_SINGLE_KINDS = tuple(_DELAY)

_SUPPLIERS = (
    ("EDF ENTREPRISES", "PRLV SEPA EDF ENTREPRISES CONTRAT", "PMNT/IDDT/ESDD"),
    ("ORANGE BUSINESS SERVICES", "PRLV SEPA ORANGE FACTURE", "PMNT/IDDT/ESDD"),
    ("OVH SAS", "PRLV SEPA OVHCLOUD", "PMNT/IDDT/ESDD"),
    ("AXA FRANCE IARD", "PRLV SEPA AXA ASSURANCE MULTIRISQUE", "PMNT/IDDT/ESDD"),
    ("SCI DES TANNEURS", "VIR LOYER BUREAUX", "PMNT/ICDT/ESCT"),
    ("ACIERS DU RHONE SAS", "VIR FACTURE FOURNISSEUR", "PMNT/ICDT/ESCT"),
    ("TRANSPORTS GEFCO", "VIR FACTURE FOURNISSEUR", "PMNT/ICDT/ESCT"),
    ("BUREAU VALLEE PRO", "VIR FACTURE FOURNISSEUR", "PMNT/ICDT/ESCT"),
    ("COMPOSANTS ELECTRO SA", "VIR FACTURE FOURNISSEUR", "PMNT/ICDT/ESCT"),
    ("CABINET FIDUCIAL EXPERTISE", "VIR HONORAIRES", "PMNT/ICDT/ESCT"),
)
_MISC_CREDITS = (
    ("EDF ENTREPRISES", "REMBOURSEMENT TROP PERCU"),
    ("DGFIP", "REMBOURSEMENT CREDIT TVA"),
    ("AXA FRANCE IARD", "INDEMNISATION SINISTRE"),
    (None, "INTERETS CREDITEURS"),
)


# --------------------------------------------------------------------------------------------
# Check digits
# --------------------------------------------------------------------------------------------


_ALNUM_DIGITS = str.maketrans({chr(65 + i): str(10 + i) for i in range(26)})


def _mod97(text: str) -> int:
    """ISO 7064 mod 97-10 of an alphanumeric string (letters as 10..35)."""
    return int(text.translate(_ALNUM_DIGITS)) % 97


def _iban(country: str, bban: str) -> str:
    return f"{country}{98 - _mod97(bban + country + '00'):02d}{bban}"


def _fr_bban(bank: str, branch: str, account: str) -> str:
    rib_key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    return f"{bank}{branch}{account}{rib_key:02d}"


def _luhn(body: str) -> str:
    total = 0
    for pos, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if pos % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _bban(country: str, bank: str, digits: str) -> str:
    """A BBAN with the national check digits schwifty verifies (FR RIB key, BE mod 97, DE)."""
    if country == "FR":
        return _fr_bban(bank, digits[:5], digits[5:16])
    if country == "BE":
        body = bank + digits[:7]
        return body + f"{int(body) % 97 or 97:02d}"
    if country == "DE":
        # The German banks used here check with Bundesbank method 00: Luhn over 9 digits.
        return bank + digits[:9] + _luhn(digits[:9])
    size = {"LU": 13, "NL": 10, "GB": 8, "CH": 12}[country]
    return bank + digits[:size]


def _luhn_digit(body: np.ndarray) -> np.ndarray:
    """Luhn check digit of each row of an (n, k) digit array."""
    k = body.shape[1]
    doubled = body.copy()
    # The digit right before the check digit is doubled, then every second one leftwards.
    idx = np.arange(k - 1, -1, -2)
    d = doubled[:, idx] * 2
    doubled[:, idx] = np.where(d > 9, d - 9, d)
    return (10 - doubled.sum(axis=1) % 10) % 10


# --------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------

_NOT_IN_SLUG = frozenset(
    [
        "sarl",
        "sas",
        "sa",
        "sasu",
        "eurl",
        "gmbh",
        "ag",
        "kg",
        "co",
        "bv",
        "nv",
        "b",
        "v",
        "n",
        "ltd",
        "limited",
        "plc",
        "llp",
        "srl",
        "r",
        "l",
        "s",
        "a",
        "et",
        "fils",
        "cie",
    ]
)


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65_536)
def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = _NON_ALNUM.sub(" ", ascii_name).split()
    kept = [w for w in words if w not in _NOT_IN_SLUG] or words
    return "-".join(kept[:3])


def _fr_name(r: np.ndarray) -> str:
    """A French company name from a row of pre-drawn integers."""
    sur = _FR_SURNAMES[r[0] % len(_FR_SURNAMES)]
    sur2 = _FR_SURNAMES[r[1] % len(_FR_SURNAMES)]
    trade = _FR_TRADES[r[2] % len(_FR_TRADES)]
    pattern = r[3] % 7
    if pattern == 0:
        core = f"{trade} {sur}"
    elif pattern == 1:
        core = f"{trade} {_FR_PLACES[r[4] % len(_FR_PLACES)]}"
    elif pattern == 2:
        core = f"{sur} et Fils"
    elif pattern == 3:
        core = f"{sur} {sur2} Associés"
    elif pattern == 4:
        core = f"Groupe {sur}"
    elif pattern == 5:
        core = "".join(_SYLLABLES[i % len(_SYLLABLES)] for i in r[5:8])
    else:
        core = f"{trade} {sur} & Cie"
    form = _FR_FORMS[int(np.searchsorted(_FR_FORM_CUM, (r[8] % 1000) / 1000, side="right"))]
    return f"{form} {core}" if r[9] % 10 < 4 else f"{core} {form}"


def _customers(rng: np.random.Generator, n: int) -> pl.DataFrame:
    countries = rng.choice(len(_COUNTRIES), size=n, p=_COUNTRY_P)
    u_currency = rng.random(n)
    # Every currency shows up even in a small demo: a GBP, a CHF and a USD customer up front.
    countries[1:4] = [_COUNTRIES.index(c) for c in ("GB", "CH", "NL")]
    u_currency[1:4] = 0.0
    # SIREN: 8 digits (first in 3..9, as issued) and a Luhn digit.
    body = rng.integers(0, 10, size=(n, 8))
    body[:, 0] = rng.integers(3, 10, size=n)
    siren_digits = np.concatenate([body, _luhn_digit(body)[:, None]], axis=1)
    siren_int = (siren_digits * 10 ** np.arange(8, -1, -1)).sum(axis=1)
    account_no = rng.integers(0, 10**16, size=n)
    n_parents = max(3, n // 8)
    parent_of = rng.integers(n_parents, size=n)
    profile_draw = rng.choice(len(_PROFILE_NAMES), size=n, p=_DOMESTIC_PROFILE_P)
    foreign_profile = rng.random(n) < 0.7
    u_entity = rng.random(n)
    u_lang = rng.random(n)
    terms = rng.choice(len(_TERMS), size=n, p=(0.5, 0.3, 0.2))
    street_no = rng.integers(1, 180, size=n)
    line2 = rng.integers(0, len(_FR_LINE2) * 3, size=n)
    mailbox = rng.integers(0, 4, size=n)
    scale = rng.lognormal(0.0, 0.6, size=n)
    picks = rng.integers(0, 1 << 30, size=(n, 14))  # names, places and banks, taken modulo

    rows = []
    seen: set[str] = set()
    for i in range(n):
        country = _COUNTRIES[countries[i]]
        digits = f"{account_no[i]:016d}"
        r = picks[i]
        if country == "FR":
            name = _fr_name(r)
            city, postcode = _FR_CITIES[r[10] % len(_FR_CITIES)]
            street = f"{street_no[i]} {_FR_STREETS[r[11] % len(_FR_STREETS)]}"
            bank = _FR_BANKS[r[12] % len(_FR_BANKS)]
            siren = f"{siren_int[i]:09d}"
            vat = f"FR{(12 + 3 * (siren_int[i] % 97)) % 97:02d}{siren}"
        else:
            surnames, trades, forms, places, banks = _FOREIGN[country]
            sur = surnames[r[0] % len(surnames)]
            name = f"{sur[0].upper()}{sur[1:]} {trades[r[2] % len(trades)]}"
            name += f" {forms[r[8] % len(forms)]}"
            city, postcode, street_name = places[r[10] % len(places)]
            street = f"{street_name} {street_no[i]}"
            if country == "GB":
                street = f"{street_no[i]} {street_name}"
            bank = banks[r[12] % len(banks)]
            siren = vat = None
        if name in seen:  # homonyms exist, but the demo keeps names distinct for readability
            name = f"{name} ({city})"
            if name in seen:
                name = f"{name[:-1]} {r[13] % 90 + 10})"
        seen.add(name)
        currency = "EUR"
        if country == "GB":
            currency = "GBP" if u_currency[i] < 0.85 else "USD"
        elif country == "CH":
            currency = "CHF" if u_currency[i] < 0.85 else "EUR"
        elif country == "NL" and u_currency[i] < 0.25:
            currency = "USD"
        entity = "FR01" if currency != "EUR" or u_entity[i] < 0.7 else "FR02"
        if country == "FR":
            language = "fr" if u_lang[i] < 0.95 else "en"
        elif country in ("BE", "LU", "CH"):
            language = "fr" if u_lang[i] < 0.7 else "en"
        else:
            language = "en"
        profile = _PROFILE_NAMES[profile_draw[i]]
        if country != "FR" and foreign_profile[i]:
            profile = "foreign"
        box = ("compta", "comptabilite", "factures", "fournisseurs")[mailbox[i]]
        if language == "en":
            box = ("accounts", "ap", "invoices", "finance")[mailbox[i]]
        rows.append(
            (
                f"C{i + 1:06d}",
                name,
                f"{box}@{_slug(name)}.{_TLD[country]}",
                _iban(country, _bban(country, bank, digits)),
                siren,
                vat,
                language,
                entity,
                street,
                _FR_LINE2[line2[i]] if country == "FR" and line2[i] < len(_FR_LINE2) else None,
                postcode,
                city,
                country,
                _TERMS[terms[i]],
                currency,
                profile,
                float(scale[i]),
                int(parent_of[i]),
            )
        )
    customers = pl.DataFrame(
        rows,
        schema=[*_CUSTOMER_BASE_COLUMNS, "payment_terms", "currency", "profile", "size", "parent"],
        orient="row",
    )
    parents = _parents(rng, n_parents)
    return customers.join(parents, on="parent", how="left", maintain_order="left").drop("parent")


def _parents(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Holding companies that sometimes pay for their subsidiaries (third-party payers)."""
    rows = []
    account_no = rng.integers(0, 10**16, size=n)
    picks = rng.integers(0, 1 << 30, size=(n, 5))
    seen: set[str] = set()
    for i in range(n):
        sur = _FR_SURNAMES[picks[i, 0] % len(_FR_SURNAMES)]
        sur2 = _FR_SURNAMES[picks[i, 1] % len(_FR_SURNAMES)]
        name = (
            f"Groupe {sur} Holding SAS",
            f"Financière {sur}-{sur2} SA",
            f"{sur} Participations",
            f"Holding {sur} {sur2} SAS",
        )[picks[i, 2] % 4]
        if name in seen:
            name = f"{name} ({_FR_CITIES[picks[i, 3] % len(_FR_CITIES)][0]} {i + 1})"
        seen.add(name)
        bank = _FR_BANKS[picks[i, 4] % len(_FR_BANKS)]
        rows.append((i, name, _iban("FR", _bban("FR", bank, f"{account_no[i]:016d}"))))
    return pl.DataFrame(rows, schema=["parent", "parent_name", "parent_iban"], orient="row")


def _accounts() -> pl.DataFrame:
    rows = []
    for entity, currency, bank, branch, account, opening in _ACCOUNTS:
        rows.append(
            (
                _iban("FR", _fr_bban(bank, branch, account)),
                _SELLER_BIC[bank],
                entity,
                _ENTITIES[entity],
                currency,
                opening,
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "account_iban": pl.String,
            "bic": pl.String,
            "legal_entity": pl.String,
            "legal_entity_name": pl.String,
            "currency": pl.String,
            "opening_balance_cents": pl.Int64,
        },
        orient="row",
    )


def _dunning_data(customers: pl.DataFrame, seed: int, as_of: date) -> pl.DataFrame:
    """What dunning needs of each customer: contacts by role, kind, segment, LRE consent.

    Drawn from a generator of its own (seeded from the company's), after everything else, so the
    receivables, payments and statements of a seed stay what they were before these columns.
    A few consumers (sole traders buying for themselves), most of them with consent to
    registered e-mail; the largest accounts in the `key_accounts` segment; a main contact for
    most, and a second accounting address for some.
    """
    n = customers.height
    rng = np.random.default_rng([seed, 17])
    u_main, u_second, u_kind, u_consent = (rng.random(n) for _ in range(4))
    consent_days = rng.integers(30, 720, size=n)
    domain = pl.col("email").str.extract(r"@(.+)$")
    fr = pl.col("language") == "fr"
    consumer = (pl.col("country") == "FR") & (pl.Series(u_kind) < 0.04)
    second = pl.format("{}@{}", pl.when(fr).then(pl.lit("daf")).otherwise(pl.lit("cfo")), domain)
    return customers.with_columns(
        accounting_email=pl.when(pl.Series(u_second) < 0.1)
        .then(pl.format("{}, {}", "email", second))
        .otherwise(pl.col("email")),
        main_email=pl.when(pl.Series(u_main) < 0.6).then(pl.format("contact@{}", domain)),
        customer_kind=pl.when(consumer).then(pl.lit("consumer")).otherwise(pl.lit("business")),
        segment=pl.when(pl.col("size") >= pl.col("size").quantile(0.9))
        .then(pl.lit("key_accounts"))
        .otherwise(pl.lit(None, pl.String)),
        lre_consent_date=pl.when(consumer & (pl.Series(u_consent) < 0.7)).then(
            pl.lit(as_of) - pl.duration(days=pl.Series(consent_days))
        ),
    ).with_columns(pl.col("lre_consent_date").cast(pl.Date))


# --------------------------------------------------------------------------------------------
# Invoices
# --------------------------------------------------------------------------------------------


def _business_day(e: pl.Expr) -> pl.Expr:
    """Weekend bookings move to the Monday."""
    wd = e.dt.weekday()
    return (
        pl.when(wd == 6)
        .then(e + pl.duration(days=2))
        .when(wd == 7)
        .then(e + pl.duration(days=1))
        .otherwise(e)
    )


_INVOICE_CUSTOMER_COLUMNS = (
    *(c for c in _CUSTOMER_BASE_COLUMNS if c not in CUSTOMER_ADDRESS),
    "payment_terms",
    "currency",
    "parent_name",
    "parent_iban",
    "account_iban",
)


def _invoices(
    rng: np.random.Generator, customers: pl.DataFrame, n: int, as_of: date
) -> pl.DataFrame:
    nc = customers.height
    weights = rng.lognormal(0.0, 1.0, size=nc)
    cust_idx = rng.choice(nc, size=n, p=weights / weights.sum())
    days_back = rng.integers(1, 366, size=n)
    issue = np.datetime64(as_of, "D") - days_back.astype("timedelta64[D]")
    is_credit = rng.random(n) < 0.05
    base = rng.lognormal(np.log(1_500.0), 0.9, size=n) * customers["size"].to_numpy()[cust_idx]
    cents = np.clip(np.rint(base * 100), 5_000, 50_000_000).astype(np.int64)
    credit_pct = rng.integers(5, 61, size=n)
    cents = np.where(is_credit, -np.maximum(cents * credit_pct // 100, 1_000), cents)
    has_po = rng.random(n) < 0.4
    po_no = rng.integers(10_000, 1_000_000, size=n)
    has_rf = rng.random(n) < 0.25
    tiebreak = rng.permutation(n)
    prof_idx = (
        customers["profile"]
        .replace_strict({p: i for i, p in enumerate(_PROFILE_NAMES)}, return_dtype=pl.Int64)
        .to_numpy()[cust_idx]
    )
    cum = np.array(
        [[_PROFILES[p].get(k, 0) for k in _PAY_KINDS] for p in _PROFILE_NAMES], dtype=np.float64
    )
    cum = np.cumsum(cum / cum.sum(axis=1, keepdims=True), axis=1)
    kind_idx = (rng.random(n)[:, None] > cum[prof_idx]).sum(axis=1)
    kind_idx = np.minimum(kind_idx, len(_PAY_KINDS) - 1)

    frame = pl.DataFrame(
        {
            "cust_idx": cust_idx,
            "issue_date": issue,
            "amount_total_cents": cents,
            "is_credit": is_credit,
            "po_number": np.where(has_po, po_no, -1),
            "has_rf": has_rf,
            "tiebreak": tiebreak,
            "kind_idx": kind_idx,
        }
    )
    # Only what invoices and payments need: a million rows carry every joined column.
    cust = customers.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("cust_idx"),
        *_INVOICE_CUSTOMER_COLUMNS,
    )
    wd = pl.col.issue_date.dt.weekday()
    frame = (
        frame.with_columns(
            # Invoices go out on weekdays: a weekend draw moves back to the Friday.
            issue_date=pl.when(wd >= 6)
            .then(pl.col.issue_date - pl.duration(days=wd.cast(pl.Int64) - 5))
            .otherwise(pl.col.issue_date),
            document_type=pl.when("is_credit")
            .then(pl.lit("credit_note"))
            .otherwise(pl.lit("invoice")),
            kind=pl.col.kind_idx.replace_strict(
                dict(enumerate(_PAY_KINDS)), return_dtype=pl.String
            ),
        )
        .sort("issue_date", "tiebreak")
        .with_columns(
            year=pl.col.issue_date.dt.year(),
            prefix=pl.when("is_credit").then(pl.lit("AV")).otherwise(pl.lit("FA")),
        )
        .with_columns(seq=pl.int_range(1, pl.len() + 1).over("prefix", "year"))
        .join(cust, on="cust_idx", how="left", maintain_order="left")
    )
    width = max(6, len(str(frame["seq"].max() or 0)))
    rf_body = pl.col.legal_entity.str.slice(3, 1).cast(pl.Int64) * 10**11 + (
        pl.col.year.cast(pl.Int64) * 10**7 + pl.col.seq
    )
    rf_check = 98 - (rf_body * 10**6 + 271_500) % 97  # "RF00" -> 2715 00
    is_invoice = pl.col.document_type == "invoice"
    frame = frame.with_columns(
        invoice_id=pl.format(
            "{}{}-{}", "prefix", "year", pl.col.seq.cast(pl.String).str.zfill(width)
        ),
        due_date=pl.when(~is_invoice)
        .then(pl.col.issue_date)
        .when(pl.col.payment_terms == "net30")
        .then(pl.col.issue_date + pl.duration(days=30))
        .when(pl.col.payment_terms == "eom45")
        .then((pl.col.issue_date + pl.duration(days=45)).dt.month_end())
        .otherwise(pl.col.issue_date + pl.duration(days=60)),
        kind=pl.when(is_invoice).then("kind").otherwise(pl.lit("credit_note")),
        po_number=pl.when(pl.col.po_number >= 0).then(pl.format("BC-{}", "po_number")),
    ).with_columns(
        reference=pl.when(is_invoice & (pl.col.has_rf | (pl.col.kind == "rf_reference"))).then(
            pl.format(
                "RF{}{}",
                rf_check.cast(pl.String).str.zfill(2),
                rf_body.cast(pl.String).str.zfill(12),
            )
        ),
    )
    return frame.drop("cust_idx", "tiebreak", "has_rf", "is_credit", "kind_idx")


# --------------------------------------------------------------------------------------------
# Bank side
# --------------------------------------------------------------------------------------------

# The facts of a bank line the demo draws: a stored transaction's (models/schemas.py) but for its
# key, its value date and bank reference, which the statement writers derive.
_TX_FACTS = tuple(
    c
    for c in BANK_TRANSACTION
    if c
    not in ("transaction_id", "value_date", "bank_reference", "is_reversal", "remittance_documents")
)
_TX_COLUMNS = ("tx_key", *_TX_FACTS, "is_reversal")


def _pick(idx: pl.Expr, options: list[pl.Expr | str]) -> pl.Expr:
    """options[idx] per row, as one when/then chain."""
    expr = pl.when(idx == 0).then(_lit(options[0]))
    for i, opt in enumerate(options[1:], start=1):
        expr = expr.when(idx == i).then(_lit(opt))
    return expr.otherwise(_lit(options[-1]))


def _lit(x: pl.Expr | str) -> pl.Expr:
    return pl.lit(x) if isinstance(x, str) else x


def _single_payments(rng: np.random.Generator, inv: pl.DataFrame) -> pl.DataFrame:
    """One transfer per invoice (two for a partial payment), before the as_of cut."""
    base = inv.filter(pl.col.kind.is_in(_SINGLE_KINDS))
    # Both halves of a partial payment must see the same split.
    base = base.with_columns(pct=pl.Series(rng.integers(20, 71, size=base.height)))
    s = pl.concat(
        [
            base.with_columns(part=pl.lit(1)),
            base.filter(pl.col.kind == "partial").with_columns(part=pl.lit(2)),
        ]
    )
    m = s.height
    s = s.with_columns(
        u_delay=pl.Series(rng.random(m)),
        style=pl.Series(rng.integers(0, 6, size=m)),
        upper=pl.Series(rng.random(m) < 0.5),
        e2e=pl.Series(rng.integers(0, 10**12, size=m)),
        fee=pl.Series(rng.choice([500, 750, 1000, 1250, 1500, 2000, 2500], size=m)),
        extra=pl.Series(rng.integers(100, 5_001, size=m)),
    )
    lo = pl.col.kind.replace_strict({k: v[0] for k, v in _DELAY.items()}, return_dtype=pl.Int64)
    hi = pl.col.kind.replace_strict({k: v[1] for k, v in _DELAY.items()}, return_dtype=pl.Int64)
    delay = lo + (pl.col.u_delay * (hi - lo + 1)).floor().cast(pl.Int64)
    delay = pl.when(pl.col.part == 2).then(delay + 25 + (pl.col.u_delay * 55).cast(pl.Int64))
    delay = delay.otherwise(lo + (pl.col.u_delay * (hi - lo + 1)).floor().cast(pl.Int64))
    total = pl.col.amount_total_cents
    first_part = total * pl.col.pct // 100
    round_up = 10_000 - total % 10_000
    amount = (
        pl.when(pl.col.kind == "partial")
        .then(pl.when(pl.col.part == 1).then(first_part).otherwise(total - first_part))
        .when(pl.col.kind == "overpaid")
        .then(total + pl.when(pl.col.style % 2 == 0).then(round_up).otherwise(pl.col.extra))
        .when(pl.col.kind == "short_fee")
        .then(total - pl.min_horizontal(pl.col.fee, total // 10))
        .otherwise(total)
    )
    third = pl.col.kind == "third_party"
    payer = pl.when(third).then("parent_name").otherwise("name")
    payer = pl.when(pl.col.upper).then(payer.str.to_uppercase()).otherwise(payer)

    iid = pl.col.invoice_id
    seq_txt = pl.col.seq.cast(pl.String)
    d1, d2 = pl.col.seq % 10, pl.col.seq // 10 % 10
    typo_seq = pl.when(d1 != d2).then(pl.col.seq - d1 - 10 * d2 + d2 + 10 * d1)
    typo_seq = typo_seq.otherwise(pl.col.seq - d1 + (d1 + 1) % 10)
    width = pl.col.invoice_id.str.len_chars() - 7
    fr = pl.col.language == "fr"
    name_up = pl.col.name.str.to_uppercase().str.slice(0, 30)
    lead = pl.when(fr).then(
        _pick(pl.col.style % 5, ["", "Facture ", "VIR SEPA FACTURE ", "Reglement facture ", ""])
    )
    lead = lead.otherwise(_pick(pl.col.style % 5, ["", "Invoice ", "Payment ", "Invoice no ", ""]))
    tail = pl.when(pl.col.style % 5 == 4).then(pl.format(" {}", name_up)).otherwise(pl.lit(""))
    clean = pl.format("{}{}{}", lead, iid, tail)
    messy = _pick(
        pl.col.style,
        [
            pl.format("Facture {}{}-{}", "prefix", "year", seq_txt),
            pl.format("{} {}{}", pl.col.prefix.str.to_lowercase(), "year", seq_txt.str.zfill(6)),
            pl.format("INV {}", iid),
            pl.format("Rglt fact {}", seq_txt),
            pl.format("Reglement facture {}", iid).str.slice(
                0, pl.col.invoice_id.str.len_chars() + 16
            ),
            pl.format(
                "Facture {}{}-{}", "prefix", "year", typo_seq.cast(pl.String).str.zfill(width)
            ),
        ],
    )
    partial = pl.when(fr & (pl.col.part == 1)).then(pl.format("Acompte {}", iid))
    partial = partial.when(fr).then(pl.format("Solde {}", iid))
    partial = partial.when(pl.col.part == 1).then(pl.format("Partial payment {}", iid))
    partial = partial.otherwise(pl.format("Balance {}", iid))
    # Each kind's text is built on its own rows only: a when/then chain would format every
    # template for every row.
    texts = {
        "messy_reference": messy,
        "partial": partial,
        "third_party": pl.when(fr)
        .then(pl.format("{} pour {}", iid, "name"))
        .otherwise(pl.format("{} on behalf of {}", iid, "name")),
        "rf_reference": pl.lit(None, pl.String),
        "iban_amount_only": _pick(
            pl.col.style % 3, [pl.lit(None, pl.String), "VIREMENT", "PAIEMENT"]
        ),
    }
    s = s.with_row_index("row")
    s = pl.concat(
        [
            frame.with_columns(remittance_unstructured=texts.get(kind, clean).str.slice(0, 140))
            for (kind,), frame in s.partition_by("kind", as_dict=True, maintain_order=True).items()
        ]
    ).sort("row")
    # A slipped or cut number that reads as another existing document points two ways (that
    # document, or the payer's own of exactly the amount): in the truth it is a person's line.
    cited = pl.when(pl.col.style == 5).then(
        pl.format("{}{}-{}", "prefix", "year", typo_seq.cast(pl.String).str.zfill(width))
    )
    cut = pl.col.seq // 100
    cited = cited.when((pl.col.style == 4) & (cut > 0)).then(
        pl.format("{}{}-{}", "prefix", "year", cut.cast(pl.String).str.zfill(width))
    )
    other = (
        (pl.col.kind == "messy_reference")
        & cited.is_in(inv["invoice_id"].implode())
        & (cited != pl.col.invoice_id)
    )
    return s.select(
        pl.col("invoice_id"),
        pl.when(other).then(pl.lit(_OTHER_DOCUMENT)).otherwise("kind").alias("kind"),
        pl.col("account_iban", "currency", "part"),
        booking_date=_business_day(pl.col.due_date + pl.duration(days=delay)),
        amount_cents=amount,
        counterparty_name=payer.str.slice(0, 70),
        counterparty_iban=pl.when(third).then("parent_iban").otherwise("iban"),
        remittance_unstructured="remittance_unstructured",
        remittance_structured=pl.when(pl.col.kind == "rf_reference").then("reference"),
        end_to_end_id=pl.format("E2E{}", pl.col.e2e.cast(pl.String).str.zfill(12)),
        bank_tx_code=pl.when(pl.col.currency == "EUR")
        .then(pl.lit("PMNT/RCDT/ESCT"))
        .otherwise(pl.lit("PMNT/RCDT/XBCT")),
        is_reversal=pl.lit(False),
    )


def _grouped_payments(
    rng: np.random.Generator, inv: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One transfer per customer and due month; some open credit notes are netted in it."""
    keys = ["customer_id", "currency", "legal_entity", "gmonth"]
    grouped = inv.filter(pl.col.kind == "grouped").with_columns(
        gmonth=pl.col.due_date.dt.month_start()
    )
    credit = inv.filter(pl.col.kind == "credit_note").with_columns(
        gmonth=(pl.col.issue_date + pl.duration(days=30)).dt.month_start()
    )
    credit = credit.join(grouped.select(keys).unique(), on=keys, how="semi").sort("invoice_id")
    credit = credit.filter(pl.Series(rng.random(credit.height) < 0.6))
    members = pl.concat([grouped, credit])
    # A credit note larger than the invoices it would be netted with stays open instead.
    members = members.filter(
        (pl.col.document_type == "invoice") | (pl.col.amount_total_cents.sum().over(keys) > 0)
    ).sort(*keys, "issue_date", "invoice_id")
    groups = (
        members.group_by(keys, maintain_order=True)
        .agg(
            amount_cents=pl.col.amount_total_cents.sum(),
            last_due=pl.col.due_date.max(),
            ids=pl.col.invoice_id.str.join(" "),
            seqs=pl.col.seq.cast(pl.String).str.join(" "),
            name=pl.col.name.first(),
            iban=pl.col.iban.first(),
            language=pl.col.language.first(),
            account_iban=pl.col.account_iban.first(),
        )
        .sort(keys)
        .with_row_index("group_no")
    )
    g = groups.height
    groups = groups.with_columns(
        delay=pl.Series(rng.integers(0, 13, size=g)),
        style=pl.Series(rng.integers(0, 4, size=g)),
        upper=pl.Series(rng.random(g) < 0.5),
        e2e=pl.Series(rng.integers(0, 10**12, size=g)),
    )
    fr = pl.col.language == "fr"
    text = _pick(
        pl.col.style,
        [
            pl.col.ids,
            pl.when(fr)
            .then(pl.format("Factures {}", "ids"))
            .otherwise(pl.format("Invoices {}", "ids")),
            pl.format("Rglt fact {}", "seqs"),
            pl.col.ids,
        ],
    )
    txns = groups.select(
        "group_no",
        "account_iban",
        "currency",
        booking_date=_business_day(pl.col.last_due + pl.duration(days="delay")),
        amount_cents="amount_cents",
        counterparty_name=pl.when(pl.col.upper)
        .then(pl.col.name.str.to_uppercase())
        .otherwise("name")
        .str.slice(0, 70),
        counterparty_iban="iban",
        remittance_unstructured=text.str.slice(0, 140),
        remittance_structured=pl.lit(None, pl.String),
        end_to_end_id=pl.format("E2E{}", pl.col.e2e.cast(pl.String).str.zfill(12)),
        bank_tx_code=pl.when(pl.col.currency == "EUR")
        .then(pl.lit("PMNT/RCDT/ESCT"))
        .otherwise(pl.lit("PMNT/RCDT/XBCT")),
        is_reversal=pl.lit(False),
    )
    allocations = members.join(
        groups.select(*keys, "group_no"), on=keys, how="left", maintain_order="left"
    ).select("group_no", "invoice_id", amount_cents="amount_total_cents")
    return txns, allocations


def _reversals(rng: np.random.Generator, single: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """A few paid transfers come back (closed account, recall): the invoice is open again."""
    candidates = single.filter(
        pl.col.kind.is_in(["on_time", "late"]) & (pl.col.booking_date <= as_of - timedelta(days=7))
    ).sort("tx_key")
    n = min(candidates.height, max(2, round(candidates.height * 0.004)))
    chosen = np.sort(rng.choice(candidates.height, size=n, replace=False))
    picked = candidates[chosen]
    return picked.select(
        "invoice_id",
        "account_iban",
        "currency",
        kind=pl.lit("reversal"),
        part=pl.lit(1),
        booking_date=_business_day(
            pl.col.booking_date + pl.duration(days=pl.Series(rng.integers(2, 6, size=n)))
        ),
        amount_cents=-pl.col.amount_cents,
        counterparty_name="counterparty_name",
        counterparty_iban="counterparty_iban",
        remittance_unstructured=pl.format(
            "RETOUR VIR MOTIF AC04 {}",
            pl.coalesce("remittance_unstructured", "remittance_structured", pl.lit("")),
        ).str.slice(0, 140),
        remittance_structured=pl.lit(None, pl.String),
        end_to_end_id="end_to_end_id",
        bank_tx_code=pl.lit("PMNT/RCDT/RRTN"),
        is_reversal=pl.lit(True),
    )


def _month_starts(first: date, last: date) -> list[date]:
    months, m = [], first.replace(day=1)
    while m <= last:
        months.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return months


def _weekday_before(d: date) -> date:
    return d - timedelta(days=max(0, d.weekday() - 4))


def _noise(
    rng: np.random.Generator,
    inv: pl.DataFrame,
    accounts: pl.DataFrame,
    period_start: date,
    as_of: date,
) -> pl.DataFrame:
    """What else a seller's account sees: fees, salaries, taxes, suppliers, stray credits."""
    yearly = dict(
        inv.group_by("account_iban")
        .agg(pl.col.amount_total_cents.sum())
        .select(pl.col.account_iban, pl.col.amount_total_cents)
        .iter_rows()
    )
    rows: list[tuple] = []
    months = _month_starts(period_start, as_of)
    for acc in accounts.iter_rows(named=True):
        iban, currency = acc["account_iban"], acc["currency"]
        monthly = max(0, yearly.get(iban, 0)) // 12
        for m in months:
            month_end = (m + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            tag = f"{m:%m/%Y}"
            fee = -int(rng.integers(1_500, 4_501))
            label = "FRAIS TENUE DE COMPTE" if currency == "EUR" else "FRAIS COMPTE DEVISES"
            rows.append(
                (
                    iban,
                    currency,
                    _weekday_before(month_end),
                    fee,
                    None,
                    None,
                    f"{label} {tag}",
                    None,
                    "NOTPROVIDED",
                    "ACMT/MDOP/CHRG",
                )
            )
            if currency != "EUR" or monthly == 0:
                continue
            wobble = int(rng.integers(97, 104))
            payroll = (
                (28, -monthly * 30 * wobble // 10_000, f"VIR SALAIRES {tag}",
                 "PMNT/ICDT/SALA", None),
                (15, -monthly * 10 * wobble // 10_000, f"PRLV SEPA URSSAF COTISATIONS {tag}",
                 "PMNT/IDDT/ESDD", "URSSAF ILE DE FRANCE"),
                (20, -monthly * 6 * wobble // 10_000, f"PRLV SEPA DGFIP TVA {tag}",
                 "PMNT/IDDT/ESDD", "DGFIP"),
            )  # fmt: skip
            for day, amount, text, code, who in payroll:
                rows.append((iban, currency, _weekday_before(m.replace(day=day)), amount, who,
                             None, text, None, f"{code[5:9]}{m:%Y%m}{day}", code))  # fmt: skip
    fixed = pl.DataFrame(
        rows,
        schema=list(_TX_FACTS),
        orient="row",
    )
    eur = accounts.filter(pl.col.currency == "EUR")
    eur_weights = np.array([max(1, yearly.get(i, 0)) for i in eur["account_iban"]], dtype=float)
    eur_weights /= eur_weights.sum()
    span = (as_of - period_start).days + 1
    n_sup = max(24, inv.height // 12)
    n_misc = max(4, inv.height // 400)
    supplier_budget = int(sum(max(0, yearly.get(i, 0)) for i in eur["account_iban"]) * 0.35)
    sup_amounts = rng.lognormal(0.0, 1.0, size=n_sup)
    sup_cents = np.maximum(1_000, np.rint(sup_amounts / sup_amounts.sum() * supplier_budget))
    sup_ibans = [
        _iban("FR", _fr_bban("30002", f"{i:05d}", f"{7_000_000 + i * 7919:011d}"))
        for i in range(len(_SUPPLIERS))
    ]
    who = rng.integers(len(_SUPPLIERS), size=n_sup)
    supplier = pl.DataFrame(
        {
            "account_iban": eur["account_iban"].to_numpy()[
                rng.choice(eur.height, size=n_sup, p=eur_weights)
            ],
            "currency": "EUR",
            "booking_date": _random_days(rng, period_start, span, n_sup),
            "amount_cents": -sup_cents.astype(np.int64),
            "counterparty_name": np.array([s[0] for s in _SUPPLIERS])[who],
            "counterparty_iban": np.array(sup_ibans)[who],
            "text": np.array([s[1] for s in _SUPPLIERS])[who],
            "bank_tx_code": np.array([s[2] for s in _SUPPLIERS])[who],
            "ref": rng.integers(10**6, 10**7, size=n_sup),
        }
    )
    supplier = _other_lines(
        supplier,
        counterparty_iban="counterparty_iban",
        end_to_end_id=pl.format("SUP{}", "ref"),
        bank_tx_code="bank_tx_code",
    )
    what = rng.integers(len(_MISC_CREDITS), size=n_misc)
    misc = pl.DataFrame(
        {
            "account_iban": eur["account_iban"].to_numpy()[rng.integers(eur.height, size=n_misc)],
            "currency": "EUR",
            "booking_date": _random_days(rng, period_start, span, n_misc),
            "amount_cents": np.rint(rng.lognormal(np.log(30_000), 1.0, size=n_misc)).astype(
                np.int64
            ),
            "counterparty_name": pl.Series([c[0] for c in _MISC_CREDITS], dtype=pl.String).gather(
                what
            ),
            "text": np.array([c[1] for c in _MISC_CREDITS])[what],
            "ref": rng.integers(10**6, 10**7, size=n_misc),
        },
    )
    misc = _other_lines(
        misc,
        counterparty_iban=pl.lit(None, pl.String),
        end_to_end_id=pl.lit("NOTPROVIDED"),
        bank_tx_code=pl.lit("PMNT/RCDT/ESCT"),
    )
    return pl.concat(
        [
            fixed.with_columns(pl.col.booking_date.cast(pl.Date)),
            supplier,
            misc,
        ],
        how="vertical_relaxed",
    ).with_columns(is_reversal=pl.lit(False))


def _random_days(rng: np.random.Generator, start: date, span: int, n: int) -> np.ndarray:
    """n dates drawn uniformly from the span days that begin on start."""
    return np.datetime64(start, "D") + rng.integers(0, span, size=n).astype("timedelta64[D]")


def _other_lines(
    drawn: pl.DataFrame,
    *,
    counterparty_iban: pl.Expr | str,
    end_to_end_id: pl.Expr | str,
    bank_tx_code: pl.Expr | str,
) -> pl.DataFrame:
    """Drawn supplier or miscellaneous lines as bank facts: booked on a business day, "text ref"."""
    return drawn.select(
        "account_iban",
        "currency",
        _business_day(pl.col.booking_date).alias("booking_date"),
        "amount_cents",
        "counterparty_name",
        counterparty_iban=counterparty_iban,
        remittance_unstructured=pl.format("{} {}", "text", "ref"),
        remittance_structured=pl.lit(None, pl.String),
        end_to_end_id=end_to_end_id,
        bank_tx_code=bank_tx_code,
    )


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_company(*, invoices: int = 2_000, seed: int = 42, as_of: date) -> DemoCompany:
    """A seller's last 12 months: customers, invoices, bank transactions and ground truth."""
    if invoices < 1:
        raise ValueError(f"invoices must be at least 1, got {invoices}")
    rng = np.random.default_rng(seed)
    accounts = _accounts()
    customers = _customers(rng, int(np.clip(invoices // 25, 30, 50_000)))
    customers = customers.join(
        accounts.select("account_iban", "legal_entity", "currency"),
        on=["legal_entity", "currency"],
        how="left",
        maintain_order="left",
    )
    inv = _invoices(rng, customers, invoices, as_of)
    customers = _dunning_data(customers, seed, as_of)
    period_start = (inv["issue_date"].min() or as_of).replace(day=1)

    single = _single_payments(rng, inv)
    single = single.with_row_index("tx_key").with_columns(pl.col.tx_key.cast(pl.Int64))
    single = single.filter(pl.col.booking_date <= as_of)
    grouped_tx, grouped_alloc = _grouped_payments(rng, inv)
    offset = single.height + 10 * invoices
    grouped_tx = grouped_tx.with_columns(tx_key=pl.col.group_no.cast(pl.Int64) + offset)
    grouped_tx = grouped_tx.filter(pl.col.booking_date <= as_of)
    offset += grouped_alloc.height + 10 * invoices
    reversals = _reversals(rng, single, as_of).with_row_index("tx_key")
    reversals = reversals.with_columns(pl.col.tx_key.cast(pl.Int64) + offset)
    reversals = reversals.filter(pl.col.booking_date <= as_of)
    offset += reversals.height + 10 * invoices
    noise = _noise(rng, inv, accounts, period_start, as_of).with_row_index("tx_key")
    noise = noise.with_columns(pl.col.tx_key.cast(pl.Int64) + offset)
    noise = noise.filter(pl.col.booking_date <= as_of)

    all_tx = pl.concat(
        [frame.select(_TX_COLUMNS) for frame in (single, grouped_tx, reversals, noise)],
        how="vertical_relaxed",
    ).sort("booking_date", "account_iban", "tx_key")
    all_tx = all_tx.with_columns(
        bank_reference=pl.format(
            "DEMO-{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(8)
        ),
    )
    refs = all_tx.select("tx_key", "bank_reference", "booking_date")
    alloc = pl.concat(
        [
            single.select("tx_key", "invoice_id", "amount_cents", case_kind="kind"),
            grouped_alloc.join(grouped_tx.select("group_no", "tx_key"), on="group_no").select(
                "tx_key", "invoice_id", "amount_cents", case_kind=pl.lit("grouped")
            ),
            reversals.select("tx_key", "invoice_id", "amount_cents", case_kind="kind"),
            noise.select(
                "tx_key",
                invoice_id=pl.lit(None, pl.String),
                amount_cents="amount_cents",
                case_kind=pl.lit("noise"),
            ),
        ],
        how="vertical_relaxed",
    ).join(refs, on="tx_key", how="inner")
    ground_truth = alloc.sort("bank_reference", "invoice_id").select(
        [pl.col(c).cast(t) for c, t in GROUND_TRUTH_SCHEMA.items()]
    )
    bank_transactions = all_tx.select(
        [
            pl.col("booking_date").alias("value_date")
            if c == "value_date"
            else pl.lit(None, t).alias(c)
            if c in BANK_TRANSACTION_OPTIONAL
            else (pl.col("bank_reference") if c == "transaction_id" else pl.col(c)).cast(t).alias(c)
            for c, t in BANK_TRANSACTION.items()
        ]
    )

    # The ERP has lettered what was booked more than 30 days ago; the rest is for reconciliation.
    known = (
        alloc.filter(
            pl.col.invoice_id.is_not_null() & (pl.col.booking_date <= as_of - timedelta(days=30))
        )
        .group_by("invoice_id")
        .agg(known_cents=pl.col.amount_cents.sum())
    )
    total = pl.col.amount_total_cents
    paid = pl.col.known_cents.fill_null(0)
    amount_paid = (
        pl.when(total >= 0)
        .then(pl.min_horizontal(pl.max_horizontal(paid, 0), total))
        .otherwise(pl.max_horizontal(pl.min_horizontal(paid, 0), total))
    )
    invoices_frame = (
        inv.join(known, on="invoice_id", how="left", maintain_order="left")
        .with_columns(amount_paid_cents=amount_paid)
        .select(
            "invoice_id",
            "customer_id",
            customer_name="name",
            issue_date="issue_date",
            due_date="due_date",
            currency="currency",
            amount_total_cents="amount_total_cents",
            document_type="document_type",
            customer_email="email",
            customer_iban="iban",
            customer_siren="siren",
            customer_vat="vat_number",
            language="language",
            reference="reference",
            amount_paid_cents="amount_paid_cents",
            status=pl.when(pl.col.amount_paid_cents == 0)
            .then(pl.lit("open"))
            .when(pl.col.amount_paid_cents == total)
            .then(pl.lit("paid"))
            .otherwise(pl.lit("partial")),
            po_number="po_number",
            legal_entity="legal_entity",
        )
    )
    return DemoCompany(
        as_of=as_of,
        seed=seed,
        period_start=period_start,
        customers=customers.drop("account_iban", "size"),
        invoices=invoices_frame,
        accounts=accounts,
        bank_transactions=bank_transactions,
        ground_truth=ground_truth,
    )


def _cents_text(col: str) -> pl.Expr:
    """Int64 cents as a '-1234.05' decimal string, without going through floats."""
    c = pl.col(col)
    sign = pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    a = c.abs()
    return pl.format("{}{}.{}", sign, a // 100, (a % 100).cast(pl.String).str.zfill(2))


def write_invoices_csv(company: DemoCompany, path: str | Path) -> Path:
    """The ERP export: comma-separated UTF-8, ISO dates, amounts with two decimals."""
    path = Path(path)
    company.invoices.with_columns(
        amount_total=_cents_text("amount_total_cents"),
        amount_paid=_cents_text("amount_paid_cents"),
    ).select(INVOICE_EXPORT_COLUMNS).write_csv(path, date_format="%Y-%m-%d")
    return path


def write_customers_csv(company: DemoCompany, path: str | Path) -> Path:
    """The ERP's customer master, with the payment terms written as its ERP writes them."""
    path = Path(path)
    company.customers.with_columns(
        payment_terms=pl.col("payment_terms").replace_strict(_TERMS_TEXT)
    ).select(CUSTOMER_EXPORT_COLUMNS).write_csv(path, date_format="%Y-%m-%d")
    return path


def write_ground_truth(company: DemoCompany, path: str | Path) -> Path:
    """One row per (bank transaction, invoice): what a perfect reconciliation allocates."""
    path = Path(path)
    company.ground_truth.write_parquet(path)
    return path


def _decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def build_statements(company: DemoCompany) -> list[Statement]:
    """One statement per account and month; each opens where the previous one closed."""
    months = _month_starts(company.period_start, company.as_of)
    tx = company.bank_transactions.with_columns(month=pl.col.booking_date.dt.month_start()).sort(
        "account_iban", "booking_date", "bank_reference"
    )
    by_key = tx.partition_by("account_iban", "month", as_dict=True)
    statements = []
    for acc in company.accounts.iter_rows(named=True):
        balance = acc["opening_balance_cents"]
        for m in months:
            part = by_key.get((acc["account_iban"], m))
            lines = []
            moved = 0
            for row in part.iter_rows(named=True) if part is not None else ():
                moved += row["amount_cents"]
                lines.append(
                    StatementLine(
                        booking_date=row["booking_date"],
                        amount=_decimal(row["amount_cents"]),
                        currency=row["currency"],
                        value_date=row["value_date"],
                        counterparty_name=row["counterparty_name"],
                        counterparty_iban=row["counterparty_iban"],
                        remittance_unstructured=row["remittance_unstructured"],
                        remittance_structured=row["remittance_structured"],
                        end_to_end_id=row["end_to_end_id"],
                        bank_reference=row["bank_reference"],
                        bank_tx_code=row["bank_tx_code"],
                        is_reversal=row["is_reversal"],
                        entry_ref=row["bank_reference"],
                    )
                )
            month_end = (m + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            statements.append(
                Statement(
                    format="camt.053",
                    account_iban=acc["account_iban"],
                    currency=acc["currency"],
                    statement_ref=f"{acc['legal_entity']}-{acc['currency']}-{m:%Y%m}",
                    from_date=m,
                    to_date=min(month_end, company.as_of),
                    opening_balance=_decimal(balance),
                    closing_balance=_decimal(balance + moved),
                    lines=lines,
                    entries_total=_decimal(moved),
                    entry_count=len(lines),
                )
            )
            balance += moved
    return statements


def write_bank_statements(company: DemoCompany, folder: str | Path) -> list[Path]:
    """camt.053 files, one per account and month, named `camt053_<entity>_<ccy>_<YYYY-MM>.xml`."""
    from o2c.tasks.demo.camt_writer import write_camt053

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entity_of = dict(company.accounts.select("account_iban", "legal_entity").iter_rows())
    paths = []
    for statement in build_statements(company):
        entity = entity_of[statement.account_iban]
        path = folder / f"camt053_{entity}_{statement.currency}_{statement.from_date:%Y-%m}.xml"
        write_camt053(path, [statement], message_id=f"DEMO-{statement.statement_ref}")
        paths.append(path)
    return paths
