//! `/signin` (tests to come).
