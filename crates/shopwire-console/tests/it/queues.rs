//! `/queues` (tests to come).
