// Placeholder: AVX2 kernels (issue 4).
