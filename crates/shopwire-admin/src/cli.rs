//! The command line: global flags, parsing with one-line errors, and dispatch.

use anyhow::Context;
use clap::Parser;
use clap::error::ErrorKind;
use shopwire_core::config::Settings;

use crate::commands::{self, Command, Ctx};
use crate::output::Output;

/// Shopwire admin: migrations, inventory, live pins, the inbox, signed test deliveries.
///
/// Reads the same environment as shopwire-web and shopwire-worker (DATABASE_URL, …).
#[derive(Debug, Parser)]
#[command(name = "shopwire-admin", version)]
pub struct Cli {
    /// Print exactly one JSON document on stdout (arrays for lists) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Parse the process arguments. `--help` and `--version` print and exit 0 here; any
/// other problem prints one line on stderr and returns the failure exit code.
pub fn parse() -> Result<Cli, std::process::ExitCode> {
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) => {
            eprintln!("shopwire-admin: {}", usage_error(&e));
            Err(std::process::ExitCode::FAILURE)
        }
    }
}

/// Clap's multi-line usage error reduced to its first line, without the `error: ` prefix.
fn usage_error(e: &clap::Error) -> String {
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a subcommand is required (see --help)".to_owned();
    }
    let rendered = e.to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or_default();
    let mut line = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    // Clap names the missing arguments on the indented lines that follow.
    if e.kind() == ErrorKind::MissingRequiredArgument {
        for missing in lines.take_while(|l| l.starts_with("  ")) {
            line.push(' ');
            line.push_str(missing.trim());
        }
    }
    line
}

/// Load the settings and run the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // `classify` needs no database, so it runs without DATABASE_URL.
    if let Command::Classify(args) = cli.command {
        let settings = commands::classify::settings()?;
        return commands::classify::run(args, settings.as_ref()).await;
    }
    let settings = Settings::from_env().context("invalid configuration")?;
    let ctx = Ctx::new(settings, Output::new(cli.json));
    commands::run(cli.command, &ctx).await
}

/// An error and its causes on one line, for stderr.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_are_one_line_without_the_clap_prefix() {
        let e = Cli::try_parse_from(["shopwire-admin", "inventory", "set", "X", "--price", "1,99"])
            .expect_err("bad price");
        let line = usage_error(&e);
        assert!(!line.contains('\n'), "{line}");
        assert!(!line.starts_with("error:"), "{line}");
        assert!(line.contains("--price"), "{line}");
    }

    #[test]
    fn the_json_flag_is_accepted_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["shopwire-admin", "inventory", "list", "--json"]).expect("parses");
        assert!(cli.json);
    }

    #[test]
    fn error_chains_print_on_one_line() {
        let e = anyhow::anyhow!("root\ncause").context("failed to do it");
        assert_eq!(one_line(&e), "failed to do it: root cause");
    }
}
