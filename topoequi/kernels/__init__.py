"""Optional hand-written kernels (Triton); every one has a pure-torch reference that stays the default."""
