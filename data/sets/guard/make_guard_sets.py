#!/usr/bin/env python3
"""Builds the labelled training and held-out sets of the guard classifiers.

Reads the public sets in ../shared/data (see each SOURCE.md there) and the examples the warden
authors wrote (written/*.txt, one per line), and writes, for each classifier NAME in injection,
jailbreak and harmful:

    NAME.train.positive.jsonl   NAME.train.negative.jsonl
    NAME.holdout.positive.jsonl NAME.holdout.negative.jsonl

one JSON object a line: {"text": ..., "source": ...}. Python 3 standard library only; the same
inputs give the same bytes (no set or dict order leaks into the output, no randomness).

The split (SOURCE.md says the same): every base text is normalised (NFKC, lower case, runs of
white space collapsed); texts are grouped when they share their first 60 ASCII letters and
digits, or when their word 3-shingle sets overlap with Jaccard >= 0.5 (at least 3 shingles in
common), transitively; the five paraphrases of each BIPIA code attack form one group. A group is
held out when the first 8 bytes of SHA-256(smallest key in the group), read big-endian, are 0
mod 5. Composite examples (an attack or a benign sentence inserted into an e-mail or document)
are built only from parts on the same side, so no held-out example shares an attack or a context
with a training example.

Usage: make_guard_sets.py [--shared DIR] [--out DIR]
"""

import argparse
import csv
import hashlib
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def normalise(text):
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def group_key(text):
    return "".join(c for c in normalise(text) if c.isascii() and c.isalnum())[:60]


def shingles(text):
    words = re.findall(r"[a-z0-9']+", normalise(text))
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def digest_int(s):
    return int.from_bytes(hashlib.sha256(s.encode("utf-8")).digest()[:8], "big")


class Base:
    """One text from a source, before it is placed into sets."""

    def __init__(self, text, source, group_hint=None):
        self.text = text.strip()
        self.source = source
        self.key = group_key(text)
        # Texts with the same hint are one group whatever their wording (paraphrase families).
        self.group_hint = group_hint
        self.holdout = None


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load(shared):
    """All base texts, by role."""
    b = {}
    xs = read_csv(os.path.join(shared, "xstest", "xstest_prompts.csv"))
    b["xstest_safe"] = [Base(r["prompt"], "xstest-safe") for r in xs if r["label"] == "safe"]
    b["xstest_unsafe"] = [Base(r["prompt"], "xstest-unsafe") for r in xs if r["label"] == "unsafe"]

    b["advbench"] = [Base(r["goal"], "advbench")
                     for r in read_csv(os.path.join(shared, "advbench", "harmful_behaviors.csv"))]
    # HarmBench: the "all" file is the union of "val" and "test"; read all three and keep each
    # BehaviorID once. Copyright behaviours (reproduce lyrics or a book) are not requests for
    # harm and are left out; contextual ones are (their ContextString is not used).
    seen_ids = set()
    hb = []
    for name in ("all", "val", "test"):
        for r in read_csv(os.path.join(shared, "harmbench", f"harmbench_behaviors_text_{name}.csv")):
            if r["BehaviorID"] in seen_ids or r["FunctionalCategory"] == "copyright":
                continue
            seen_ids.add(r["BehaviorID"])
            hb.append(Base(r["Behavior"], "harmbench-" + r["FunctionalCategory"]))
    b["harmbench"] = hb

    jw = read_csv(os.path.join(shared, "jailbreak-wild", "jailbreak_prompts_reddit.csv"))
    b["jailbreak_wild"] = [Base(r["prompt"], "jailbreak-wild") for r in jw if len(r["prompt"]) >= 20]

    with open(os.path.join(shared, "bipia", "text_attack_train.json"), encoding="utf-8") as f:
        text_attacks = json.load(f)
    with open(os.path.join(shared, "bipia", "code_attack_train.json"), encoding="utf-8") as f:
        code_attacks = json.load(f)
    # The first five BIPIA text categories are task-irrelevant requests ("What is the capital
    # of Brazil?"): harmless on their own, an injection only when hidden inside data.
    irrelevant = {"Information Retrieval", "Content Creation", "Learning and Tutoring",
                  "Language Translation", "Programming Help"}
    b["bipia_irrelevant"] = [Base(t, "bipia-text-irrelevant") for c in sorted(text_attacks)
                             if c in irrelevant for t in text_attacks[c]]
    b["bipia_text"] = [Base(t, "bipia-text") for c in sorted(text_attacks)
                       if c not in irrelevant for t in text_attacks[c]]
    b["bipia_code"] = [Base(t, "bipia-code", group_hint="bipia-code:" + c)
                       for c in sorted(code_attacks) for t in code_attacks[c]]
    emails = []
    questions = []
    with open(os.path.join(shared, "bipia", "email", "train.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            emails.append(Base(r["context"], "bipia-email"))
            q = re.sub(r"^Q:\s*", "", r["question"])
            questions.append(Base(q, "bipia-question"))
    b["emails"] = emails
    b["bipia_questions"] = questions

    w = os.path.join(HERE, "written")
    b["benign"] = [Base(t, "written-benign") for t in read_lines(os.path.join(w, "benign.txt"))]
    b["benign_alarming"] = [Base(t, "written-benign-alarming")
                            for t in read_lines(os.path.join(w, "benign_alarming.txt"))]
    b["harmful_written"] = [Base(t, "written-harmful")
                            for t in read_lines(os.path.join(w, "harmful.txt"))]
    b["jailbreak_written"] = [Base(t, "written-jailbreak")
                              for t in read_lines(os.path.join(w, "jailbreak.txt"))]
    b["injection_written"] = [Base(t, "written-injection")
                              for t in read_lines(os.path.join(w, "injection.txt"))]
    b["statements"] = [Base(t, "written-statement")
                       for t in read_lines(os.path.join(w, "statements.txt"))]
    b["documents"] = [Base(t, "written-document")
                      for t in read_lines(os.path.join(w, "documents.txt"))]
    return b


def split(bases):
    """Groups near-duplicates (union-find) and marks each base held out or not."""
    parent = list(range(len(bases)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i, j):
        i, j = find(i), find(j)
        if i != j:
            parent[max(i, j)] = min(i, j)

    by_key = {}
    for i, x in enumerate(bases):
        for k in (x.key, x.group_hint):
            if k:
                if k in by_key:
                    union(i, by_key[k])
                else:
                    by_key[k] = i
    sh = [shingles(x.text) for x in bases]
    index = {}
    for i, s in enumerate(sh):
        for g in sorted(s):
            index.setdefault(g, []).append(i)
    for i, s in enumerate(sh):
        common = {}
        for g in s:
            for j in index[g]:
                if j < i:
                    common[j] = common.get(j, 0) + 1
        for j in sorted(common):
            c = common[j]
            if c >= 3 and c / (len(s) + len(sh[j]) - c) >= 0.5:
                union(i, j)
    rep = {}
    for i, x in enumerate(bases):
        r = find(i)
        if r not in rep or x.key < rep[r]:
            rep[r] = x.key
    sizes = {}
    for i, x in enumerate(bases):
        r = find(i)
        x.holdout = digest_int(rep[r]) % 5 == 0
        sizes[r] = sizes.get(r, 0) + 1
    return sorted(sizes.values(), reverse=True)


def insert(context, attack, h):
    """`attack` placed at the start, in the middle (at a sentence break) or at the end."""
    where = h % 3
    sep = "\n" if "\n" in attack else " "
    if where == 0:
        return attack + sep + context
    if where == 2:
        return context + sep + attack
    mid = len(context) // 2
    cuts = [m.end() for m in re.finditer(r"[.!?|]\s*", context)]
    cut = min(cuts, key=lambda c: (abs(c - mid), c)) if cuts else mid
    return context[:cut].rstrip() + sep + attack + sep + context[cut:].lstrip()


def embed(items, hosts, per_item, source_prefix):
    """Each item inserted into `per_item` hosts from its own side, chosen by hash."""
    out = []
    for x in items:
        side = [c for c in hosts if c.holdout == x.holdout]
        ranked = sorted(side, key=lambda c: (digest_int(x.text + "\0" + c.text), c.text))
        for c in ranked[:per_item]:
            h = digest_int(c.text + "\0" + x.text)
            out.append((x.holdout, insert(c.text, x.text, h), source_prefix + x.source + "@" + c.source))
    return out


def plain(items):
    return [(x.holdout, x.text, x.source) for x in items]


# Benign requests to process some content, written by the warden authors. "{}" is the content.
# Real inputs often have this shape (a user pastes an e-mail or a document and asks for a
# summary), so the classifiers must see it among the negatives.
WRAP_TEMPLATES = (
    "Summarise this e-mail:\n\n{}",
    "Translate to French: {}",
    "Can you pull out the action items from the message below?\n\n{}",
    "Please proofread the following text and fix any grammar mistakes:\n{}",
    "What is the tone of this text? Answer in one sentence.\n\n{}",
    "Here is something I received. Give me three bullet points with its main points.\n---\n{}\n---",
    "{}\n\nWrite a short, polite reply to the message above.",
    "Extract every date and amount of money in this text as a table:\n\n{}",
    "Classify the following text as billing, support, marketing or personal.\nText: {}",
    "I need a one-line subject for this. Suggest three.\n\n\"{}\"",
)


def wrapped(examples):
    """Each (holdout, text, source) example inside one benign request, the template chosen by
    hash of the text; the example keeps its side."""
    out = []
    for holdout, text, source in examples:
        t = WRAP_TEMPLATES[digest_int("wrap\0" + text) % len(WRAP_TEMPLATES)]
        out.append((holdout, t.format(text), "wrapped:" + source))
    return out


THREAD_SEPARATORS = ("\n\n", "\n\n---\n\n", "\n\n========\n\n", "\n")


def threads(examples, hosts, salt):
    """Each (holdout, text, source) example joined with two other hosts of its own side (chosen
    by hash; its position among the three and the separator by hash too): several e-mails or
    documents pasted or retrieved together, the long inputs real tools produce."""
    out = []
    for holdout, text, source in examples:
        side = [c for c in hosts if c.holdout == holdout and c.text != text]
        others = sorted(side, key=lambda c: (digest_int(salt + text + "\0" + c.text), c.text))[:2]
        h = digest_int(salt + "\0" + text)
        parts = [c.text for c in others]
        parts.insert(h % 3, text)
        sep = THREAD_SEPARATORS[(h // 3) % len(THREAD_SEPARATORS)]
        out.append((holdout, sep.join(parts), "thread:" + source))
    return out


def build_sets(b):
    hosts = b["emails"] + b["documents"]
    benign_common = (plain(b["xstest_safe"]) + plain(b["benign"]) + plain(b["benign_alarming"])
                     + plain(b["bipia_questions"]))
    # Long benign text (e-mails, documents, documents with ordinary sentences inserted, requests
    # to process them, and half of the hosts (by hash) joined with two others) is a negative of
    # every set: without it, length alone reads as a jailbreak or an injection (third round,
    # data/sets/guard/SOURCE.md).
    half = [x for x in plain(hosts) if digest_int("thread\0" + x[1]) % 2 == 0]
    benign_hosts = (plain(hosts) + embed(b["statements"], hosts, 2, "embedded:")
                    + wrapped(plain(hosts)) + threads(half, hosts, "thread-neg"))
    sets = {}
    sets["jailbreak"] = (
        plain(b["jailbreak_wild"]) + plain(b["jailbreak_written"]),
        benign_common + plain(b["bipia_irrelevant"]) + benign_hosts,
    )
    injected = (
        embed(b["bipia_irrelevant"] + b["bipia_text"] + b["bipia_code"], hosts, 2, "embedded:")
        + embed(b["injection_written"], hosts, 1, "embedded:"))
    # A third of the injected hosts (by hash) also inside a benign request, so that the
    # wrapping requests of the negatives do not become a sign of "clean" (an attacker could
    # otherwise lower the score by prefixing "Summarise this e-mail:").
    injected_wrapped = wrapped([x for x in injected if digest_int("wrap-pos\0" + x[1]) % 3 == 0])
    # And a quarter inside a thread of three hosts, for the same reason as the negatives'.
    injected_thread = threads([x for x in injected if digest_int("thread-pos\0" + x[1]) % 4 == 0],
                              hosts, "thread-pos")
    injection_pos = (
        injected + injected_wrapped + injected_thread
        + plain(b["bipia_text"]) + plain(b["bipia_code"]) + plain(b["injection_written"]))
    injection_neg = benign_hosts + benign_common + plain(b["bipia_irrelevant"])
    sets["injection"] = (injection_pos, injection_neg)
    sets["harmful"] = (
        plain(b["advbench"]) + plain(b["harmbench"]) + plain(b["xstest_unsafe"])
        + plain(b["harmful_written"]),
        benign_common + plain(b["bipia_irrelevant"]) + benign_hosts,
    )
    return sets


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for text, source in rows:
            f.write(json.dumps({"text": text, "source": source}, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared", "data"),
                    help="the shared data folder (default: ../shared/data next to the repo)")
    ap.add_argument("--out", default=HERE, help="where to write the .jsonl files")
    args = ap.parse_args()

    b = load(args.shared)
    all_bases = [x for role in sorted(b) for x in b[role]]
    sizes = split(all_bases)
    print(f"{len(all_bases)} base texts in {len(sizes)} groups; largest groups: {sizes[:5]}",
          file=sys.stderr)

    for name, (pos, neg) in sorted(build_sets(b).items()):
        seen = {}
        rows = {(h, lab): [] for h in (False, True) for lab in (True, False)}
        for label, examples in ((True, pos), (False, neg)):
            for holdout, text, source in examples:
                n = normalise(text)
                if n in seen:
                    if seen[n] != label:
                        sys.exit(f"{name}: the same text is labelled both ways: {text[:80]!r}")
                    continue
                seen[n] = label
                rows[(holdout, label)].append((text, source))
        for (holdout, label), r in sorted(rows.items()):
            part = "holdout" if holdout else "train"
            kind = "positive" if label else "negative"
            write_jsonl(os.path.join(args.out, f"{name}.{part}.{kind}.jsonl"), r)
            print(f"{name:9} {part:7} {kind:8} {len(r):5}", file=sys.stderr)


if __name__ == "__main__":
    main()
