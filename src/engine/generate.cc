// Placeholder: filled in by the engine work (issue 4).
