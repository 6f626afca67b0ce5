"""gen_corpus.py -- the labelled corpus of the sluice / Presidio benchmark.

Builds, from a fixed seed, documents of locale prose (Faker's lorem and
sentences in en_US, en_GB, de_DE, es_ES, it_IT, pl_PL, fi_FI, fr_FR,
en_CA) carrying planted personal data, each planted value labelled with
its entity, its character span and its written form, plus near-miss
negatives that are NOT personal data and are not labelled: ISBNs, EAN
barcodes, order and invoice numbers, version strings, timestamps (ISO
8601, RFC 2822, epoch seconds and milliseconds), UUIDs, git hashes,
parcel tracking numbers, prices and ZIP codes, SHA-256 checksums,
ETags and base64 data URIs (high-entropy strings that are no secret).

Values come from Faker where Faker has a provider (e-mail, phone, card,
SSN, ITIN, IBAN, IP, MAC, date of birth, ABA routing, US passport, ES
NIF / NIE, IT fiscal code, PL PESEL, FI personal identity code); the
others are built here with their real check digits (UK NINO, UK NHS,
Bitcoin Base58Check and Bech32, DE tax id, DEA medical license, US
driver's licence, US bank account), from the same seeded generator.

Writes DIR/corpus.txt (documents separated by NUL bytes, UTF-8, the
bytes both tools scan) and DIR/labels.jsonl (one object per document:
id, locale, text, spans [{start, end, entity, form}] in characters).

usage: gen_corpus.py OUTDIR [--docs N] [--seed S] [--templates default|holdout]
"""
import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import random
import re

from faker import Faker

# Fixed ranges for every date (Faker's defaults end at "now": the corpus
# would change from one day to the next).
T0 = datetime.datetime(2000, 1, 1)
T1 = datetime.datetime(2026, 1, 1)

LOCALES = ["en_US", "en_GB", "de_DE", "es_ES", "it_IT", "pl_PL", "fi_FI",
           "fr_FR", "en_CA"]

# ---- values Faker lacks, with their real check digits ---------------------

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check(rng, version):
    payload = bytes([version]) + bytes(rng.getrandbits(8) for _ in range(20))
    chk = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(payload + chk, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(payload + chk) - len((payload + chk).lstrip(b"\0"))
    return "1" * pad + out


BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def bech32_segwit_v0(rng):
    prog = bytes(rng.getrandbits(8) for _ in range(20))
    acc, bits, data = 0, 0, [0]
    for b in prog:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    hrp = "bc"
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = _polymod(exp + data + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH[d] for d in data + chk)


def uk_nino(rng):
    first = "ABCEGHJKLMNOPRSTWXYZ"
    second = "ABCEGHJKLMNPRSTWXYZ"
    while True:
        pre = rng.choice(first) + rng.choice(second)
        if pre not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
            break
    d = "".join(str(rng.randrange(10)) for _ in range(6))
    return pre, d, rng.choice("ABCD")


def uk_nhs(rng):
    while True:
        d = [rng.randrange(10) for _ in range(9)]
        s = sum(x * (10 - i) for i, x in enumerate(d))
        c = 11 - s % 11
        if c == 11:
            c = 0
        if c != 10:
            return "".join(map(str, d + [c]))


def de_tax_id(rng):
    # Steuerliche Identifikationsnummer: 11 digits, first not 0, in the
    # first ten exactly one digit twice (or thrice) and ISO 7064 MOD 11,10.
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(9)]
        counts = sorted((digits.count(x) for x in set(digits)), reverse=True)
        if counts[0] not in (2, 3) or (len(counts) > 1 and counts[1] > 1):
            continue
        prod = 10
        for x in digits:
            s = (x + prod) % 10 or 10
            prod = (s * 2) % 11
        chk = (11 - prod) % 10
        return "".join(map(str, digits + [chk]))


def dea_number(rng):
    letters = rng.choice("ABFGMPR") + rng.choice("ABCDEFGHJKLMNPRSTWXYZ")
    d = [rng.randrange(10) for _ in range(6)]
    c = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return letters + "".join(map(str, d + [c]))


def us_driver_license(rng):
    kind = rng.randrange(4)
    if kind == 0:   # California: a letter and 7 digits
        return "ca", rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + "%07d" % rng.randrange(10**7)
    up = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if kind == 1:   # Florida: a letter and 12 digits, written 3-3-2-3-1
        n = "%012d" % rng.randrange(10**12)
        return "fl", "%s%s-%s-%s-%s-%s" % (rng.choice(up), n[:3], n[3:6], n[6:8], n[8:11], n[11])
    if kind == 2:   # New York: 9 digits
        return "ny", "%09d" % rng.randrange(10**9)
    if rng.random() < 0.5:  # Washington since 2018: WDL and 9 letters or digits
        return "wa_wdl", "WDL" + "".join(rng.choice(up + "0123456789") for _ in range(9))
    # Washington before 2018: 5 letters of the surname (short ones padded
    # with *), the first and middle initials (* for none), 3 digits and 2
    # letters or digits.
    last = "".join(rng.choice(up) for _ in range(rng.randrange(3, 6))).ljust(5, "*")
    return "wa_old", last + rng.choice(up) + rng.choice(up + "*") + "%03d" % rng.randrange(1000) + \
        "".join(rng.choice(up + "0123456789") for _ in range(2))


# ---- written forms ---------------------------------------------------------


def shape(value):
    """The written form of a value: digits as 9, letters as A / a."""
    s = re.sub(r"[0-9]", "9", value)
    s = re.sub(r"[A-Z]", "A", s)
    return re.sub(r"[a-z]", "a", s)


def group(s, sizes, sep):
    out, i = [], 0
    for n in sizes:
        out.append(s[i:i + n])
        i += n
    if i < len(s):
        out.append(s[i:])
    return sep.join(x for x in out if x)


def card_forms(rng, fake):
    kind = rng.choice(["visa13", "visa16", "visa19", "mastercard", "amex",
                       "discover", "diners", "jcb15", "jcb16", "maestro"])
    n = fake.credit_card_number(card_type=kind)
    style = rng.randrange(3)
    if style == 0 or len(n) in (12, 13):
        return n, kind + ":plain"
    sep = " " if style == 1 else "-"
    if kind == "amex":
        return group(n, [4, 6, 5], sep), kind + ":grouped"
    if kind == "diners" and len(n) == 14:
        return group(n, [4, 6, 4], sep), kind + ":grouped"
    return group(n, [4, 4, 4, 4], sep), kind + ":grouped"


def phone(rng, fake_by_locale, locale):
    r = rng.random()
    if r < 0.55:
        v = fake_by_locale[locale].phone_number()
        return v, "%s:%s" % (locale, shape(v))
    us = fake_by_locale["en_US"]
    if r < 0.85:
        v = us.phone_number()
        return v, "en_US:%s" % shape(v)
    # E.164 (no separators) for a random locale
    loc = rng.choice(LOCALES)
    code = {"en_US": "1", "en_CA": "1", "en_GB": "44", "de_DE": "49",
            "es_ES": "34", "it_IT": "39", "pl_PL": "48", "fi_FI": "358",
            "fr_FR": "33"}[loc]
    if code == "1":
        v = "+1%d%02d%d%03d%04d" % (rng.randrange(2, 10), rng.randrange(100), rng.randrange(2, 10), rng.randrange(1000), rng.randrange(10000))
    else:
        v = "+%s%d%08d" % (code, rng.randrange(1, 10), rng.randrange(10**8))
    return v, "e164"


def dob_forms(rng, fake, locale):
    d = fake.date_between(start_date=datetime.date(1935, 1, 1), end_date=datetime.date(2007, 12, 31))
    fmts = [("%Y-%m-%d", "iso"), ("%m/%d/%Y", "us"), ("%d/%m/%Y", "eu/"),
            ("%d.%m.%Y", "eu."), ("%B %d, %Y", "long_us"), ("%d %B %Y", "long_eu"),
            ("%d %b %Y", "short_eu"), ("%b %d, %Y", "short_us")]
    f, name = rng.choice(fmts)
    return d.strftime(f), name


def mac_forms(rng, fake):
    m = fake.mac_address()
    k = rng.randrange(4)
    if k == 0:
        return m, "colon_lower"
    if k == 1:
        return m.upper().replace(":", "-"), "dash_upper"
    if k == 2:
        return m.upper(), "colon_upper"
    h = m.replace(":", "")
    return "%s.%s.%s" % (h[:4], h[4:8], h[8:]), "cisco_dots"


def ip_value(rng, fake):
    k = rng.randrange(4)
    if k < 2:
        return fake.ipv4(), "ipv4"
    if k == 2:
        return fake.ipv6(), "ipv6_full"
    return ipaddress.IPv6Address(fake.ipv6()).compressed if rng.random() < 0.5 else \
        str(ipaddress.IPv6Address(int(rng.getrandbits(64)) | (0x20010db8 << 96))), "ipv6_compressed"


# Each entity: (generator(rng, fakes, locale) -> (value, form), templates).
# A template holds {v} once; its words are the context a reader would write.

def g_email(rng, F, loc):
    f = F[loc]
    v = rng.choice([f.email, f.company_email, f.free_email])()
    return v, "email"


def g_ssn(rng, F, loc):
    v = F["en_US"].ssn()
    k = rng.randrange(4)
    if k == 1:
        return v.replace("-", " "), "spaced"
    if k == 2:
        return v.replace("-", ""), "bare9"
    return v, "dashed"


def g_itin(rng, F, loc):
    v = F["en_US"].itin()
    return (v, "dashed") if rng.random() < 0.7 else (v.replace("-", ""), "bare9")


def g_iban(rng, F, loc):
    v = F[rng.choice(["de_DE", "es_ES", "it_IT", "pl_PL", "fi_FI", "fr_FR", "en_GB"])].iban()
    if rng.random() < 0.5:
        return group(v, [4] * 9, " "), "print_" + v[:2]
    return v, "electronic_" + v[:2]


def g_ip(rng, F, loc):
    return ip_value(rng, F["en_US"])


def g_mac(rng, F, loc):
    return mac_forms(rng, F["en_US"])


def g_dob(rng, F, loc):
    return dob_forms(rng, F["en_US"], loc)


def g_crypto(rng, F, loc):
    k = rng.randrange(3)
    if k == 0:
        return base58check(rng, 0), "btc_p2pkh"
    if k == 1:
        return base58check(rng, 5), "btc_p2sh"
    return bech32_segwit_v0(rng), "btc_bech32"


def g_nino(rng, F, loc):
    pre, d, suf = uk_nino(rng)
    if rng.random() < 0.5:
        return "%s %s %s %s %s" % (pre, d[:2], d[2:4], d[4:], suf), "spaced"
    return pre + d + suf, "compact"


def g_nhs(rng, F, loc):
    v = uk_nhs(rng)
    k = rng.randrange(3)
    if k == 0:
        return "%s %s %s" % (v[:3], v[3:6], v[6:]), "spaced"
    if k == 1:
        return "%s-%s-%s" % (v[:3], v[3:6], v[6:]), "dashed"
    return v, "bare10"


def g_passport(rng, F, loc):
    return F["en_US"].passport_number(), "us_9"


def g_bank(rng, F, loc):
    n = rng.randrange(8, 18)
    return "".join(str(rng.randrange(10)) for _ in range(n)), "digits%d" % n


def g_aba(rng, F, loc):
    v = F["en_US"].aba()
    return (v, "bare9") if rng.random() < 0.7 else ("%s-%s-%s" % (v[:4], v[4:8], v[8]), "dashed")


def g_dl(rng, F, loc):
    st, v = us_driver_license(rng)
    return v, "us_" + st


def g_dea(rng, F, loc):
    return dea_number(rng), "dea"


def g_nif(rng, F, loc):
    return F["es_ES"].nif(), "nif"


def g_nie(rng, F, loc):
    return F["es_ES"].nie(), "nie"


def g_cf(rng, F, loc):
    return F["it_IT"].ssn(), "codice_fiscale"


def g_pesel(rng, F, loc):
    return F["pl_PL"].pesel(), "pesel"


def g_fi(rng, F, loc):
    return F["fi_FI"].ssn(), "henkilotunnus"


def g_detax(rng, F, loc):
    v = de_tax_id(rng)
    if rng.random() < 0.4:
        return "%s %s %s %s" % (v[:2], v[2:5], v[5:8], v[8:]), "spaced"
    return v, "bare11"


def g_card(rng, F, loc):
    return card_forms(rng, F["en_US"])


def g_phone(rng, F, loc):
    return phone(rng, F, loc)


ENTITIES = {
    "email": (g_email, 6, [
        "Please write to {v} if anything changes.", "Contact: {v}",
        "{name} <{v}> wrote the following.", "Send the signed copy to {v}.",
        "E-mail {v} for access.", "cc: {v}; bcc: none"]),
    "phone": (g_phone, 6, [
        "Call {name} on {v} after five.", "Phone: {v}", "Tel. {v}",
        "You can reach the office at {v}.", "Mobile {v} (evenings only)",
        "fax: {v}", "Her number is {v}.", "Telefon {v}",
        "For support dial {v}, or write to us.", "cell {v}"]),
    "credit_card": (g_card, 4, [
        "Card number {v}, expiring next year.", "Paid with card {v}.",
        "Visa {v} was charged twice.", "CC: {v}",
        "The customer read out {v} over the phone.", "credit card {v}"]),
    "us_ssn": (g_ssn, 3, [
        "SSN: {v}", "Social Security number {v} on file.",
        "{name}'s social security no. is {v}.", "ssn {v}"]),
    "us_itin": (g_itin, 1, [
        "ITIN: {v}", "Individual Taxpayer Identification Number {v}.",
        "Her ITIN is {v}."]),
    "iban": (g_iban, 3, [
        "IBAN {v}", "Please transfer the deposit to {v}.",
        "Bank details: {name}, IBAN: {v}", "Kontonummer (IBAN) {v}"]),
    "ip_address": (g_ip, 3, [
        "The request came from {v}.", "Connection from {v}, refused.",
        "host={v} status=200", "Server address: {v}",
        "Log in at {v}; the password is in the vault.", "(source {v})"]),
    "mac_address": (g_mac, 2, [
        "MAC address {v}.", "Device {v} joined the network.", "hw={v}"]),
    "date_of_birth": (g_dob, 3, [
        "Date of birth: {v}", "{name} was born on {v}.", "DOB {v}",
        "born {v} in a small town", "Geburtsdatum: {v}",
        "Fecha de nacimiento {v}", "birthday: {v}"]),
    "crypto": (g_crypto, 2, [
        "Send the BTC to {v}.", "wallet: {v}", "Bitcoin address {v}",
        "Donations: {v}"]),
    "uk_nino": (g_nino, 2, [
        "National Insurance number {v}.", "NINO: {v}", "NI number {v}",
        "{name} (NI {v})"]),
    "uk_nhs": (g_nhs, 2, [
        "NHS number {v}", "NHS no. {v}.", "Patient {name}, NHS {v}",
        "health service number: {v}"]),
    "us_passport": (g_passport, 1, [
        "Passport number {v}.", "US passport: {v}", "passport no {v}"]),
    "us_bank_number": (g_bank, 1, [
        "Account number {v}.", "bank account {v}", "Acct. no. {v}",
        "checking account {v} at the credit union"]),
    "aba_routing": (g_aba, 1, [
        "Routing number {v}.", "ABA {v}", "routing {v}, account on file",
        "ABA routing number: {v}"]),
    "us_driver_license": (g_dl, 1, [
        "Driver's license {v}.", "DL# {v}", "driver license number {v}",
        "Licence: {v}"]),
    "medical_license": (g_dea, 1, [
        "DEA number {v}.", "Prescriber DEA: {v}", "medical license {v}"]),
    "es_nif": (g_nif, 1, [
        "NIF: {v}", "DNI {v}", "con NIF {v}.", "documento {v}"]),
    "es_nie": (g_nie, 1, [
        "NIE: {v}", "Número de identidad de extranjero {v}.", "NIE {v}"]),
    "it_fiscal_code": (g_cf, 1, [
        "Codice fiscale: {v}", "C.F. {v}", "codice fiscale {v}."]),
    "pl_pesel": (g_pesel, 1, [
        "PESEL: {v}", "numer PESEL {v}.", "PESEL {v}"]),
    "fi_personal_id": (g_fi, 1, [
        "Henkilötunnus: {v}", "hetu {v}", "personal identity code {v}."]),
    "de_tax_id": (g_detax, 1, [
        "Steuer-ID: {v}", "Steueridentifikationsnummer {v}.",
        "IdNr {v}", "tax id {v}"]),
}


# Other sentences around the same values, for a held-out run
# (--templates holdout): rules tuned on the default sentences should not
# do markedly worse on these.
HOLDOUT = {
    "email": ["Questions go to {v}.", "reply-to {v}", "mail me: {v} thanks",
              "Her address {v} bounced."],
    "phone": ["Ring me on {v} tomorrow.", "T: {v}", "Contact number {v}",
              "Reach {name} at {v} (home).", "Tel: {v} / Fax: none",
              "WhatsApp {v}", "phone no. {v}"],
    "credit_card": ["Charged to the card ending in ... no, the full number was {v}.",
                    "Payment card: {v}", "card# {v}", "Mastercard/Visa {v} on file"],
    "us_ssn": ["Soc. Sec. No. {v}", "SSN#{v}", "her social is {v}",
               "social security: {v}"],
    "us_itin": ["taxpayer id (ITIN) {v}", "ITIN#{v}"],
    "iban": ["account IBAN: {v}.", "wire to {v} by Monday", "IBAN/BIC {v}"],
    "ip_address": ["ping {v} failed", "client_ip={v}", "Blocked {v}!", "[{v}]"],
    "mac_address": ["hwaddr {v}", "ether {v}", "The MAC is {v}."],
    "date_of_birth": ["D.O.B.: {v}", "birth date {v}", "{name}, born {v}",
                      "date of birth {v}."],
    "crypto": ["BTC: {v}", "pay to address {v}", "my bitcoin wallet {v}"],
    "uk_nino": ["NI No: {v}", "national insurance no. {v}"],
    "uk_nhs": ["NHS No: {v}", "NHS#{v}", "his NHS number is {v}"],
    "us_passport": ["passport# {v}", "Passport No.: {v}"],
    "us_bank_number": ["acct# {v}", "bank account no. {v}", "savings account {v}"],
    "aba_routing": ["routing no. {v}", "RTN {v}", "ABA#{v}"],
    "us_driver_license": ["driver's lic. {v}", "DL number: {v}", "license no {v}"],
    "medical_license": ["DEA#{v}", "DEA registration {v}"],
    "es_nif": ["NIF {v}.", "N.I.F.: {v}"],
    "es_nie": ["NIE#{v}", "su NIE es {v}"],
    "it_fiscal_code": ["CF: {v}", "cod. fiscale {v}"],
    "pl_pesel": ["nr PESEL: {v}", "PESEL#{v}"],
    "fi_personal_id": ["HETU: {v}", "henkilötunnus {v}."],
    "de_tax_id": ["Steuer-IdNr. {v}", "steuerliche Identifikationsnummer: {v}"],
}


# ---- negatives -------------------------------------------------------------


def isbn13(rng, fake):
    return fake.isbn13()


def negatives(rng, fake):
    """One sentence holding a near-miss that is not personal data."""
    k = rng.randrange(20)
    if k == 17:
        return "SHA-256 checksum: %s" % hashlib.sha256(str(rng.random()).encode()).hexdigest()
    if k == 18:
        return 'ETag: "%s"' % hashlib.md5(str(rng.random()).encode()).hexdigest()
    if k == 19:
        return "icon: data:image/png;base64,%s" % base64.b64encode(bytes(rng.getrandbits(8) for _ in range(48))).decode()
    if k == 0:
        return "ISBN %s, second edition." % fake.isbn10()
    if k == 1:
        return "See ISBN %s for the reference." % fake.isbn13()
    if k == 2:
        return "Barcode %s on the back of the box." % fake.ean13()
    if k == 3:
        return "Order %d shipped yesterday." % rng.randrange(10**9, 10**10)
    if k == 4:
        return "Invoice INV-%d-%05d is overdue." % (rng.randrange(2015, 2027), rng.randrange(100000))
    if k == 5:
        return "Upgrade to version %d.%d.%d before Friday." % (rng.randrange(20), rng.randrange(40), rng.randrange(200))
    if k == 6:
        return "Build %d.%d.%d.%d is the release candidate." % (rng.randrange(1, 12), rng.randrange(10), rng.randrange(30000), rng.randrange(30000))
    if k == 7:
        return "Updated at %s." % fake.date_time_between(start_date=T0, end_date=T1).isoformat()
    if k == 8:
        return "Date: %s" % fake.date_time_between(start_date=T0, end_date=T1).strftime("%a, %d %b %Y %H:%M:%S +0000")
    if k == 9:
        return "ts=%d" % rng.randrange(1_000_000_000, 1_900_000_000) if rng.random() < 0.5 else \
            "created_ms=%d" % rng.randrange(1_000_000_000_000, 1_900_000_000_000)
    if k == 10:
        return "Request id %s failed." % fake.uuid4()
    if k == 11:
        return "Fixed in commit %s." % hashlib.sha1(str(rng.random()).encode()).hexdigest()
    if k == 12:
        return "UPS tracking 1Z%s%s" % ("".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(6)),
                                        "".join(str(rng.randrange(10)) for _ in range(10)))
    if k == 13:
        return "FedEx %s, USPS %s." % ("".join(str(rng.randrange(10)) for _ in range(12)),
                                      "94" + "".join(str(rng.randrange(10)) for _ in range(20)))
    if k == 14:
        return "Total %s.%02d EUR, ZIP %05d." % (rng.randrange(10, 100000), rng.randrange(100), rng.randrange(100000))
    if k == 15:
        return "Meeting at %02d:%02d on %s in room %d." % (rng.randrange(24), rng.randrange(60),
                                                       fake.date_between(start_date=T0.date(), end_date=T1.date()).isoformat(), rng.randrange(100, 999))
    return "Part no. %03d-%02d-%04d, lot %d." % (rng.randrange(1000), rng.randrange(100), rng.randrange(10000), rng.randrange(10**5))


# ---- documents -------------------------------------------------------------


def build(n_docs, seed, templates="default"):
    rng = random.Random(seed)
    # Some Faker providers (es_ES nie/nif, en_US passport) draw from the
    # random module itself, not from the Faker's generator: seed it too.
    random.seed(seed)
    Faker.seed(seed)
    fakes = {loc: Faker(loc) for loc in LOCALES}
    for i, loc in enumerate(LOCALES):
        fakes[loc].seed_instance(seed + i)
    names, weights = zip(*((k, v[1]) for k, v in ENTITIES.items()))
    docs = []
    for d in range(n_docs):
        loc = LOCALES[d % len(LOCALES)]
        fake = fakes[loc]
        parts, spans, pos = [], [], 0

        def add(s):
            nonlocal pos
            parts.append(s)
            pos += len(s)

        n_sent = rng.randrange(8, 20)
        for _ in range(n_sent):
            r = rng.random()
            if r < 0.30:
                ent = rng.choices(names, weights)[0]
                gen, _, tmpls = ENTITIES[ent]
                if templates == "holdout":
                    tmpls = HOLDOUT[ent]
                v, form = gen(rng, fakes, loc)
                t = rng.choice(tmpls).replace("{name}", fake.name())
                pre, post = t.split("{v}")
                add(pre)
                spans.append({"start": pos, "end": pos + len(v), "entity": ent, "form": form})
                add(v)
                add(post)
            elif r < 0.50:
                add(negatives(rng, fake))
            else:
                add(fake.sentence(nb_words=rng.randrange(6, 18)))
            add("\n" if rng.random() < 0.2 else " ")
        text = "".join(parts)
        assert "\0" not in text
        docs.append({"id": d, "locale": loc, "text": text, "spans": spans})
    return docs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--templates", choices=["default", "holdout"], default="default",
                    help="the sentences around the values (holdout: others, for a held-out run)")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    docs = build(a.docs, a.seed, a.templates)
    with open(os.path.join(a.outdir, "corpus.txt"), "wb") as f:
        f.write(b"\0".join(d["text"].encode("utf-8") for d in docs))
    with open(os.path.join(a.outdir, "labels.jsonl"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    n = sum(len(d["spans"]) for d in docs)
    size = sum(len(d["text"].encode("utf-8")) for d in docs)
    print("corpus: %d documents, %d bytes, %d labelled spans, seed %d, %s sentences" % (len(docs), size, n, a.seed, a.templates))


if __name__ == "__main__":
    main()
