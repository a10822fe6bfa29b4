// Placeholder: the evaluation lands in the next commits.
#include "watermark/eval.h"
