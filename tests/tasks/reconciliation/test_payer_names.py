"""Payer by name (issue 15): a CFONB line or an MT940 ?32/?33 carries no IBAN, only the name the
payer's bank wrote: upper case, without accents, legal form before or after or dropped ("STE",
"ETS", "SAS", "GmbH", "BV"), words in another order, cut at the field's length. The name
identifies a customer when exactly one fits; two that fit alike are finance's question."""

from __future__ import annotations

import pytest

from tests.tasks.reconciliation.conftest import item, pairs, tx

CUSTOMERS = [
    {"customer_id": "C1", "name": "Société Nouvelle Papeterie Garnier SARL", "iban": None},
    {"customer_id": "C2", "name": "Société Nouvelle Maintenance Legrand SAS", "iban": None},
    {"customer_id": "C3", "name": "Société Nouvelle Menuiserie Guérin SARL", "iban": None},
    {"customer_id": "C4", "name": "Établissements Lemaître SAS", "iban": None},
    {"customer_id": "C5", "name": "Schröder Maschinenbau GmbH", "iban": None},
    {"customer_id": "C6", "name": "Van Dijk Techniek B.V.", "iban": None},
]
# One open item of the same amount at every customer: only the name can choose.
ITEMS = [item(f"FA-{c['customer_id']}", c["customer_id"], 98_100) for c in CUSTOMERS]


@pytest.mark.parametrize(
    ("name", "customer"),
    [
        ("STE NOUVELLE PAPETER", "C1"),  # cut inside a word by an 18-24 character field
        ("SOCIETE NOUVELLE PAPETERIE GARNIER", "C1"),
        ("ETS LEMAITRE", "C4"),
        ("LEMAITRE ETABLISSEMENTS SAS", "C4"),
        ("SCHRODER MASCHINENBAU", "C5"),
        ("DIJK TECHNIEK VAN", "C6"),  # MT940 names turned round
        ("van dijk techniek bv", "C6"),
    ],
)
def test_the_name_the_bank_wrote_finds_the_one_customer(run, name, customer):
    r = run([tx("t1", 98_100, counterparty_name=name)], ITEMS, customers=CUSTOMERS)
    assert pairs(r) == [("t1", f"FA-{customer}", 98_100, "payment", "payer_name_amount")]


def test_a_name_cut_where_several_customers_begin_alike_is_not_taken(run):
    # "SOCIETE NOUVELLE M": Maintenance Legrand or Menuiserie Guérin.
    r = run([tx("t1", 98_100, counterparty_name="SOCIETE NOUVELLE M")], ITEMS, customers=CUSTOMERS)
    assert r.allocations.height == 0


def test_a_short_cut_name_says_nothing(run):
    # "STE NOUVELLE P": an initial is not a cut word (Société Nouvelle P... could be anyone new).
    r = run([tx("t1", 98_100, counterparty_name="STE NOUVELLE P")], ITEMS, customers=CUSTOMERS)
    assert r.allocations.height == 0


@pytest.mark.parametrize(
    "name",
    ["TAVERNE HET ANKER", "SPRL TAVERNE HET ANKER", "Taverne Het Anker SRL"],
)
def test_belgian_and_german_legal_forms_are_not_part_of_the_name(run, name):
    # Belgian SPRL/CVBA and German GmbH & Co. KG are legal forms as SARL is: the payer's bank
    # drops them or moves them, and the name left is the customer's.
    customers = [
        {"customer_id": "B1", "name": "Taverne Het Anker SPRL", "iban": None},
        {"customer_id": "B2", "name": "Eethuis Het Anker CVBA", "iban": None},
        {"customer_id": "B3", "name": "Brauhaus Rheinblick GmbH & Co. KG", "iban": None},
    ]
    items = [item(f"FA-{c['customer_id']}", c["customer_id"], 354_721) for c in customers]
    r = run([tx("t1", 354_721, counterparty_name=name)], items, customers=customers)
    assert pairs(r) == [("t1", "FA-B1", 354_721, "payment", "payer_name_amount")]
    r = run(
        [tx("t1", 354_721, counterparty_name="BRAUHAUS RHEINBLICK")], items, customers=customers
    )
    assert pairs(r) == [("t1", "FA-B3", 354_721, "payment", "payer_name_amount")]


@pytest.mark.parametrize(
    ("name", "customer"),
    [
        ("STE BRASS. DU VIEUX LILLE", "V1"),  # a word shortened with a point
        ("BRASSERIE DU VIEUX", "V1"),  # the field cut after a word
        ("RESTAURANT DU VIEUX", "V2"),
    ],
)
def test_shortened_words_and_a_name_cut_after_a_word(run, name, customer):
    customers = [
        {"customer_id": "V1", "name": "Brasserie du Vieux Lille SAS", "iban": None},
        {"customer_id": "V2", "name": "Restaurant du Vieux Lille SA", "iban": None},
        {"customer_id": "V3", "name": "Le Comptoir du Vieux Lille EURL", "iban": None},
    ]
    items = [item(f"FA-{c['customer_id']}", c["customer_id"], 205_687) for c in customers]
    r = run([tx("t1", 205_687, counterparty_name=name)], items, customers=customers)
    assert pairs(r) == [("t1", f"FA-{customer}", 205_687, "payment", "payer_name_amount")]
    # "DU VIEUX LILLE" starts no customer's name: all three fit as well, finance chooses.
    r = run([tx("t1", 205_687, counterparty_name="DU VIEUX LILLE")], items, customers=customers)
    assert r.allocations.height == 0


def test_a_name_fitting_several_customers_stands_for_all_of_them(run):
    # "LABO GIRARD ANALYSES MED" fits two labs of the same family alike, as an IBAN shared by
    # a group fits its companies: the one open item among theirs of exactly the amount is paid.
    customers = [
        {"customer_id": "C47", "name": "Laboratoire Girard Analyses Médicales du Rhône SAS"},
        {"customer_id": "C68", "name": "Laboratoire Girard Analyses Médicales SAS"},
    ]
    customers = [{**c, "iban": None} for c in customers]
    items = [item("F2600189", "C68", 434_164), item("F2600190", "C47", 120_000)]
    t = tx(
        "t1",
        434_164,
        counterparty_name="LABO GIRARD ANALYSES MED",
        remittance_unstructured="VIREMENT",
    )
    assert pairs(run([t], items, customers=customers)) == [
        ("t1", "F2600189", 434_164, "payment", "payer_name_amount")
    ]
    # Both open for that amount: the name cannot choose, finance does.
    items = [item("F2600189", "C68", 434_164), item("F2600190", "C47", 434_164)]
    r = run([t], items, customers=customers)
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["ambiguous_payer"]


CRAFTSMEN = [
    {"customer_id": "P1", "name": "EI Da Silva Eric", "iban": None},
    {"customer_id": "P2", "name": "Plomberie Guérin", "iban": None},
    {"customer_id": "P3", "name": "EI Boyer Laurent", "iban": None},
    {"customer_id": "P4", "name": "Plâtrerie Escande", "iban": None},
    {"customer_id": "P5", "name": "SAS Escande et Fils", "iban": None},
    {"customer_id": "P6", "name": "Reformas Serra", "iban": None},
    {"customer_id": "P7", "name": "Bâtiment Rouergue SAS", "iban": None},
]
CRAFT_ITEMS = [item(f"FA-{c['customer_id']}", c["customer_id"], 65_800) for c in CRAFTSMEN]


@pytest.mark.parametrize(
    ("name", "customer"),
    [
        ("MR DA SILVA E", "P1"),  # an initial for the first name
        ("DA SILVA ERIC", "P1"),  # "EI" (entreprise individuelle) is a legal form
        ("ERIC DA SILVA", "P1"),
        ("MR GUERIN O", "P2"),  # the owner of a trade named after him, from his own account
        ("OLIVIER GUERIN", "P2"),
        ("BATIME ROUERG", "P7"),  # every word cut by the bank
    ],
)
def test_a_person_is_recognised_as_banks_print_people(run, name, customer):
    r = run([tx("t1", 65_800, counterparty_name=name)], CRAFT_ITEMS, customers=CRAFTSMEN)
    assert pairs(r) == [("t1", f"FA-{customer}", 65_800, "payment", "payer_name_amount")]


@pytest.mark.parametrize(
    "name",
    [
        "MR BOYER M",  # Boyer Laurent's initial is L: someone else
        "M JEAN ESCANDE",  # the owner of Plâtrerie Escande, or of SAS Escande et Fils?
        "M SERGI SERRA BOSCH",  # two more words than a first name: another Serra, maybe
    ],
)
def test_a_person_who_may_be_someone_else_is_not_taken(run, name):
    r = run([tx("t1", 65_800, counterparty_name=name)], CRAFT_ITEMS, customers=CRAFTSMEN)
    assert r.allocations.height == 0


def test_a_cheques_drawer_in_the_deposit_slip_names_the_payer(run):
    # A cheque remittance detail line has no counterparty, only the drawer beside the cheque
    # number: "CHQ 2503556 DA SILVA ERIC 658,00".
    t = tx("t1", 65_800, remittance_unstructured="CHQ 2503556 DA SILVA ERIC 658,00")
    assert pairs(run([t], CRAFT_ITEMS, customers=CRAFTSMEN)) == [
        ("t1", "FA-P1", 65_800, "payment", "payer_name_amount")
    ]
