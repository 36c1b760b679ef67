//! `/orders` (tests to come).
