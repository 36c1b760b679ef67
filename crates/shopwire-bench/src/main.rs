//! `shopwire-bench`: the benchmark harness. Scenarios send individually signed, unique
//! deliveries to a running shopwire-web (or to the reference-ceiling server it also
//! contains) and report HDR latency percentiles, throughput and errors by kind.
//!
//! See `bench/README.md` for what each scenario measures and `scripts/bench.sh` for the
//! whole run with medians and the results table.

mod args;
mod ceiling;
mod db;
mod follow;
mod load;
mod payloads;
mod report;
mod scenarios;
mod table;

use clap::Parser;

use crate::args::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => scenarios::ingest::run(args, false).await,
        Command::IngestDuplicates(args) => scenarios::ingest::run(args, true).await,
        Command::E2e(args) => scenarios::e2e::run(args).await,
        Command::HotSku(args) => scenarios::hot_sku::run(args).await,
        Command::Outbound(args) => scenarios::outbound::run(args).await,
        Command::Console(args) => scenarios::console::run(args).await,
        Command::Idle(args) => scenarios::idle::run(args).await,
        Command::TiktokShop(args) => scenarios::tiktok_shop::run(args).await,
        Command::CeilingServer(args) => ceiling::serve(args).await,
        Command::Table(args) => table::Records::load(&args.files).map(|records| {
            print!("{}", table::render(&records));
        }),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shopwire-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
