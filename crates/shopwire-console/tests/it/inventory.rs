//! `/inventory` (tests to come).
