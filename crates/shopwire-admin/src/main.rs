//! `shopwire-admin`: parse → run → exit 0, or exit 1 with one line on stderr.

use std::process::ExitCode;

use shopwire_admin::cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shopwire-admin: {}", cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
