//! Trend signals in the worker (docs/contract.md §3 "Trends"): the periodic RapidAPI fetch
//! and the clock that enqueues the scoring job. The job itself is
//! [`crate::jobs::score_trends`]; scoring is `shopwire_insight::trends`, the formulas are in
//! `shopwire_core::trends`.

pub mod rapidapi;
pub mod schedule;
