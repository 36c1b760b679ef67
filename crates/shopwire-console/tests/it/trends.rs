//! `/trends` (tests to come).
