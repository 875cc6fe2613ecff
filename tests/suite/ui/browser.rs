//! Real-browser tests: see `tests/ui/`.
