#!/usr/bin/env python3
"""Writes vectors.json: known answers for the watermark PRF and the per-scheme token values.

This is a second, independent implementation of the definitions in src/watermark/prf.h,
src/watermark/key.h and src/watermark/detector.h (docs/formats/watermark.md), written from
those specifications and not from the C++ sources, using only the Python standard library.
tests/watermark/vectors_test.cc checks the C++ implementation against every vector.

SipHash-2-4 is first checked against published values from the SipHash paper's reference
vectors (key 00 01 .. 0f, message 00 01 .. of length n); the script refuses to write anything
if one of them does not match.

Usage: python3 make_vectors.py [output path]   (default: vectors.json next to this script)
The output depends on nothing but this file: running it twice gives identical bytes.
"""

import decimal
import fractions
import hashlib
import hmac
import json
import math
import os
import struct
import sys

MASK64 = (1 << 64) - 1

# --------------------------------------------------------------------------------------------
# SipHash-2-4 (Aumasson and Bernstein, 2012), 64-bit output.


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def _sip_round(v):
    v0, v1, v2, v3 = v
    v0 = (v0 + v1) & MASK64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & MASK64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & MASK64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & MASK64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return [v0, v1, v2, v3]


def siphash24(k0, k1, message):
    """SipHash-2-4 of `message` (bytes) under the key words k0, k1."""
    v = [
        k0 ^ 0x736F6D6570736575,  # "somepseu"
        k1 ^ 0x646F72616E646F6D,  # "dorandom"
        k0 ^ 0x6C7967656E657261,  # "lygenera"
        k1 ^ 0x7465646279746573,  # "tedbytes"
    ]
    full = len(message) - len(message) % 8
    # The last block carries the length mod 256 in its top byte, whatever the tail holds.
    last = message[full:] + bytes(7 - len(message) % 8) + bytes([len(message) & 0xFF])
    for offset in range(0, full + 8, 8):
        block = message[offset:offset + 8] if offset < full else last
        (m,) = struct.unpack("<Q", block)
        v[3] ^= m
        v = _sip_round(_sip_round(v))
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        v = _sip_round(v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


# Published SipHash-2-4 outputs for key bytes 00..0f and message bytes 00..(n-1), from the
# reference vectors of the SipHash paper (the byte strings there, read as little-endian
# uint64). A sample of the 64 lengths, chosen around the block boundaries.
PAPER_KEY = bytes(range(16))
PAPER_VECTORS = {
    0: 0x726FDB47DD0E0E31,
    1: 0x74F839C593DC67FD,
    2: 0x0D6C8009D9A94F5A,
    3: 0x85676696D7FB7E2D,
    7: 0xAB0200F58B01D137,
    8: 0x93F5F5799A932462,
    9: 0x9E0082DF0BA9E4B0,
    15: 0xA129CA6149BE45E5,
    16: 0x3F2ACC7F57C29BDB,
    31: 0x32D892FAD841C342,
    32: 0x7127512F72F27CCE,
    63: 0x958A324CEB064572,
}


def key_words(key16):
    return struct.unpack("<QQ", key16)


def check_siphash_against_paper():
    k0, k1 = key_words(PAPER_KEY)
    for n, expected in PAPER_VECTORS.items():
        got = siphash24(k0, k1, bytes(range(n)))
        if got != expected:
            sys.exit(f"SipHash-2-4 disagrees with the paper at length {n}: "
                     f"{got:016x} != {expected:016x}")


# --------------------------------------------------------------------------------------------
# Keys, subkeys, PRF (prf.h, key.h).

SCHEMES = ["kgw", "tournament", "gumbel"]
SUBKEY_PREFIX = b"warden-watermark-v1/"
KEY_ID_PREFIX = b"warden-watermark-key-id/v1"


def key_id(secret):
    return hashlib.sha256(KEY_ID_PREFIX + secret).hexdigest()


def subkey_mac(secret, scheme):
    return hmac.new(secret, SUBKEY_PREFIX + scheme.encode(), hashlib.sha256).digest()


def subkey(secret, scheme):
    return key_words(subkey_mac(secret, scheme)[:16])


def le32(token):
    # Token ids are int32; the PRF writes their two's-complement bit pattern.
    assert -(1 << 31) <= token < (1 << 31)
    return struct.pack("<I", token & 0xFFFFFFFF)


def prf_message(context, token):
    return b"".join(le32(t) for t in context) + le32(token)


def prf(secret, scheme, context, token):
    k0, k1 = subkey(secret, scheme)
    return siphash24(k0, k1, prf_message(context, token))


def repeat_fingerprint(context, token, with_token):
    k0, k1 = key_words(PAPER_KEY)  # the fixed public key 0x0706050403020100, 0x0f0e0d0c0b0a0908
    message = b"".join(le32(t) for t in context) + (le32(token) if with_token else b"")
    return siphash24(k0, k1, message)


# --------------------------------------------------------------------------------------------
# Scheme maps of a PRF value v (prf.h) and token scores (detector.h).


def green_threshold53(gamma):
    # ceil(gamma * 2^53) of the double gamma, computed exactly.
    return math.ceil(fractions.Fraction(gamma) * (1 << 53))


def kgw_green(v, threshold):
    return (v >> 11) < threshold


def g_bits(v, layers):
    """'0'/'1' per layer, layer 0 (bit 0, the least significant) first."""
    return "".join(str((v >> layer) & 1) for layer in range(layers))


def gumbel_uniform(v):
    # r = ((v >> 12) + 0.5) * 2^-52. Every step is exact in doubles: v >> 12 < 2^52, so
    # adding 0.5 needs at most 53 significant bits, and the scaling is by a power of two. Hence
    # 0 < r < 1 for every v (with v >> 11 and 2^-53 the top value would round up to 1.0).
    r = (float(v >> 12) + 0.5) * 2.0**-52
    assert fractions.Fraction(r) == fractions.Fraction(2 * (v >> 12) + 1, 1 << 53)
    return r


def gumbel_score(r):
    assert 0.0 < r < 1.0
    return -math.log1p(-r)


# --------------------------------------------------------------------------------------------
# Null distributions (detector.h), computed exactly or with 60-digit decimals.


def binomial_upper_tail(n, q, k):
    """P(X >= k) for X ~ Binomial(n, q), q a Fraction; exact, rounded once to a double."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    total = sum(math.comb(n, j) * q**j * (1 - q)**(n - j) for j in range(k, n + 1))
    return float(total)


def gamma_upper_tail(n, x):
    """P(X >= x) for X ~ Gamma(n, 1), integer n >= 1: e^-x * sum_{j<n} x^j / j!."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        dx = decimal.Decimal(x)  # exact value of the double
        term = decimal.Decimal(1)
        total = decimal.Decimal(0)
        for j in range(n):
            if j > 0:
                term = term * dx / j
            total += term
        return float(total * (-dx).exp())


# --------------------------------------------------------------------------------------------
# Deterministic choices of test inputs.


class SplitMix64:
    """A fixed generator (not Python's `random`, whose algorithms may change)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, bound):
        return self.next() % bound  # the bias is irrelevant for picking test inputs

    def token(self):
        # Mostly ids of a 32000-entry vocabulary, now and then an edge case.
        edges = [0, 1, 511, 31999, 2**31 - 1, -1]
        if self.below(8) == 0:
            return edges[self.below(len(edges))]
        return self.below(32000)


SECRETS = [
    ("counting", bytes(range(32))),
    ("all-ff", b"\xff" * 32),
    ("all-zero", bytes(32)),
    # Two secrets drawn once from os.urandom and written here literally.
    ("random-1", bytes.fromhex(
        "f57fb3557f3bbbf4718d8d7254e3133b33774e02382bd9ab97a80038029f24ff")),
    ("random-2", bytes.fromhex(
        "7f7f4109924fc89623c782e365a655ff3b86c332005876076e59b4ef9a20780c")),
]

PRF_TOKENS = [0, 511, 31999, 2**31 - 1, -1]
PRF_CONTEXTS = [
    [1],
    [0, 31999],
    [511, -1, 2**31 - 1],
    [5, 17, 256, 4095],
    [2**31 - 1, 0, 1, 31999, -(2**31)],
    list(range(100, 116)),  # kMaxContext = 16 tokens
]

# The scheme configurations whose per-token values are listed (each with the contexts of its
# own length h, as the detector scores them).
TOKEN_CONFIGS = [
    ("kgw", {"context": 1, "gamma": 0.25, "delta": 2.0}),
    ("kgw", {"context": 1, "gamma": 0.5, "delta": 2.0}),
    ("kgw", {"context": 3, "gamma": 0.1, "delta": 4.0}),
    ("tournament", {"context": 4, "layers": 30}),
    ("tournament", {"context": 2, "layers": 64}),
    ("gumbel", {"context": 4}),
    ("gumbel", {"context": 1}),
]
TOKEN_CASES_PER_CONFIG = 24


def u64(x):
    assert 0 <= x <= MASK64
    return str(x)


def token_case(secret, scheme, params, context, token):
    v = prf(secret, scheme, context, token)
    case = {"context": context, "token": token, "value": u64(v)}
    if scheme == "kgw":
        green = kgw_green(v, green_threshold53(params["gamma"]))
        case["green"] = green
        case["score"] = 1.0 if green else 0.0
    elif scheme == "tournament":
        bits = g_bits(v, params["layers"])
        case["g_bits"] = bits
        case["score"] = float(bits.count("1"))
    else:
        r = gumbel_uniform(v)
        case["r"] = r
        case["r_hex"] = r.hex()
        score = gumbel_score(r)
        case["score"] = score
        case["score_hex"] = score.hex()
    return case


def build():
    check_siphash_against_paper()
    out = {
        "about": "Known answers for the watermark PRF (src/watermark/prf.h, key.h, detector.h; "
                 "docs/formats/watermark.md). Generated by make_vectors.py, an independent "
                 "Python implementation; do not edit by hand. uint64 values are decimal strings; "
                 "doubles that must match exactly also come as C99 hex floats (*_hex).",
    }

    k0, k1 = key_words(PAPER_KEY)
    out["siphash"] = {
        "key_hex": PAPER_KEY.hex(),
        "k0": u64(k0),
        "k1": u64(k1),
        "cases": [{"message_hex": bytes(range(n)).hex(),
                   "value": u64(siphash24(k0, k1, bytes(range(n)))),
                   "published": n in PAPER_VECTORS} for n in range(64)],
    }

    out["secrets"] = []
    for name, secret in SECRETS:
        entry = {"name": name, "secret_hex": secret.hex(), "key_id": key_id(secret), "subkeys": {}}
        for scheme in SCHEMES:
            mac = subkey_mac(secret, scheme)
            sk0, sk1 = subkey(secret, scheme)
            entry["subkeys"][scheme] = {"hmac_hex": mac.hex(), "k0": u64(sk0), "k1": u64(sk1)}
        out["secrets"].append(entry)

    out["prf"] = []
    for name, secret in SECRETS:
        for scheme in SCHEMES:
            for context in PRF_CONTEXTS:
                for token in PRF_TOKENS:
                    out["prf"].append({
                        "secret": name, "scheme": scheme, "context": context, "token": token,
                        "message_hex": prf_message(context, token).hex(),
                        "value": u64(prf(secret, scheme, context, token)),
                    })

    fp_contexts = [[], [7], [0, 31999], [-1, 2**31 - 1, 5, 9]]
    out["repeat_fingerprint"] = [
        {"context": c, "token": t, "with_token": w, "value": u64(repeat_fingerprint(c, t, w))}
        for c in fp_contexts for t in (0, 42, -1) for w in (True, False)]

    gammas = [0.25, 0.5, 0.1, 1.0 / 3.0, 0.9, 1e-20, 0.999999999999, 2.0**-53, 1.0 - 2.0**-53]
    out["green_threshold53"] = [
        {"gamma": g, "gamma_hex": g.hex(), "threshold": u64(green_threshold53(g))} for g in gammas]

    out["kgw_green"] = []
    for g in (0.25, 0.5, 0.1):
        t = green_threshold53(g)
        for v in (0, (t << 11) - 1, t << 11, (t << 11) + 2047, MASK64):
            out["kgw_green"].append(
                {"threshold": u64(t), "value": u64(v), "green": kgw_green(v, t)})

    out["gumbel_uniform"] = []
    for v in (0, 4095, 4096, 8191, 1 << 63, (1 << 63) + 4096, MASK64 - 4096, MASK64,
              0x0123456789ABCDEF, 0xFEDCBA9876543210):
        r = gumbel_uniform(v)
        out["gumbel_uniform"].append({"value": u64(v), "r": r, "r_hex": r.hex()})

    rng = SplitMix64(0x57415244454E)  # "WARDEN"
    out["token_values"] = []
    for name, secret in SECRETS[::3]:  # counting, random-1
        for scheme, params in TOKEN_CONFIGS:
            cases = []
            for _ in range(TOKEN_CASES_PER_CONFIG):
                context = [rng.token() for _ in range(params["context"])]
                cases.append(token_case(secret, scheme, params, context, rng.token()))
            if scheme == "kgw":  # both outcomes must be exercised
                assert {c["green"] for c in cases} == {True, False}, (name, params)
            out["token_values"].append(
                {"secret": name, "scheme": scheme, "params": params, "cases": cases})

    # p = P(X >= score) under the null of each scheme (detector.h).
    out["p_values"] = []
    for gamma, n, score in [(0.25, 16, 16), (0.25, 16, 4), (0.25, 200, 80), (0.25, 200, 50),
                            (0.25, 200, 0), (0.5, 100, 75), (0.1, 60, 20), (0.25, 10, 11)]:
        q = fractions.Fraction(green_threshold53(gamma), 1 << 53)
        out["p_values"].append({"scheme": "kgw", "params": {"gamma": gamma}, "scored": n,
                                "score": float(score), "p": binomial_upper_tail(n, q, score)})
    for layers, n, score in [(30, 10, 200), (30, 10, 150), (30, 1, 30), (64, 20, 800), (1, 40, 31)]:
        out["p_values"].append({"scheme": "tournament", "params": {"layers": layers}, "scored": n,
                                "score": float(score),
                                "p": binomial_upper_tail(n * layers, fractions.Fraction(1, 2),
                                                         score)})
    for n, score in [(1, 3.0), (16, 16.0), (16, 40.5), (50, 100.0), (200, 180.25), (200, 400.0)]:
        out["p_values"].append({"scheme": "gumbel", "params": {}, "scored": n, "score": score,
                                "p": gamma_upper_tail(n, score)})
    return out


def to_json(value, indent=""):
    """JSON text with one vector per line: objects and lists that hold only scalars and lists
    of scalars are written on one line, everything else one member per line."""
    def flat(v):
        if isinstance(v, dict):
            return all(not isinstance(x, (dict, list)) or (isinstance(x, list) and flat(x))
                       for x in v.values())
        if isinstance(v, list):
            return all(not isinstance(x, (dict, list)) for x in v)
        return True

    if flat(value):
        return json.dumps(value, allow_nan=False)
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + to_json(v, inner) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    text = to_json(build()) + "\n"
    assert json.loads(text) == json.loads(json.dumps(build()))
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


if __name__ == "__main__":
    main()
