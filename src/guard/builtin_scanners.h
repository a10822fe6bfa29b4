// The built-in scanners (docs/policy.md, "Scanners", documents each one's options):
//
//   unicode    NFKC, invisible and bidi controls removed, homoglyphs mapped (guard/unicode.h);
//              reports hidden tag text (and hands it to later scanners), bidi controls,
//              zero-width splits and mixed-script homoglyphs
//   encoding   base64 / hex / URL / rot13 / leetspeak payloads decoded and handed to the rest
//              of the chain (guard/encoding.h); reports each payload, and nesting past the limit
//   pii        e-mail, phone, card (Luhn), IBAN, US SSN, IP (guard/pii.h); typed placeholders
//   secrets    provider key formats, private keys, JWTs, assignments, high entropy
//              (guard/secrets.h)
//   patterns   user keywords and regexes, one Hyperscan database
//   injection, jailbreak, harmful
//              the n-gram classifiers of data/guard/ plus the rules of guard/heuristics.h;
//              flag when classifier score >= threshold or heuristic score >= 0.5
//   canary     input: plants a per-request canary token in the system prompt; output: finds it,
//              or a close variant, in the answer (a system-prompt leak)
//   llm_judge  asks an OpenAI-compatible endpoint (Llama Guard style) for a verdict
//              (guard/llm_judge.h); off unless configured; errors fail closed
//
// Whole conversations: every scanner that looks for attacks (patterns and the classifiers)
// reads the joined view of all scanned messages as well as each message and each decoded
// payload, so an attack split across turns is seen as one.
//
// Thread-safety: registration is not thread-safe; the scanners are (scanner.h).
#pragma once

#include "guard/scanner.h"

namespace warden::guard {

void RegisterBuiltinScanners(ScannerRegistry& registry);

// The shipped classifiers' thresholds (data/guard/SOURCE.md): used when a policy gives none.
double DefaultClassifierThreshold(std::string_view classifier);

// The sentence the input chain adds to the system prompt for the canary scanner.
std::string CanaryInstruction(std::string_view canary);

}  // namespace warden::guard
