//! `shopwire-admin`: the operator's CLI over the same database and settings as the web
//! and the worker. A library too, so other crates' tests can reuse its pieces (for
//! example [`commands::send::signed_request`]).

pub mod cli;
pub mod commands;
pub mod output;
