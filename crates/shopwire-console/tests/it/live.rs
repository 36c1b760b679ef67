//! `/live` (tests to come).
