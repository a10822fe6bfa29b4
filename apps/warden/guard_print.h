// How `guard check` and `warden demo` print a guard verdict (one line each).
#pragma once

#include <string>

#include "guard/guard.h"

namespace warden::cli {

// "  [block] injection (score 0.973): injection: rule ignore-previous  (message 0, bytes 3-40)"
std::string VerdictLine(const guard::Verdict& v);

}  // namespace warden::cli
