//! A Postgres cluster of the test's own (`initdb` + `pg_ctl`), to stop and start at will
//! while the shared server serves every other test. Removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::support::free_port;

/// The server binaries of the newest installed Postgres.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("Postgres server binaries are installed under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// A private cluster on 127.0.0.1, trust auth, `fsync=off` (a test server).
pub struct PrivatePg {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    /// initdb refuses to run as root: then every command runs as `postgres`.
    as_postgres: bool,
}

impl PrivatePg {
    /// `initdb` a fresh cluster in a temporary directory and start it.
    pub fn start() -> PrivatePg {
        let as_postgres = run(Command::new("id").arg("-u")).stdout.trim_ascii() == b"0";
        let dir =
            std::env::temp_dir().join(format!("shopwire-faults-pg-{:016x}", rand::random::<u64>()));
        std::fs::create_dir(&dir).expect("a temporary directory");
        let pg = PrivatePg {
            dir,
            port: free_port(),
            bin: bin_dir(),
            as_postgres,
        };
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(&pg.dir));
        }
        pg.pg(
            "initdb",
            &["-U", "postgres", "--auth=trust", "--no-sync", "-D"],
            &[&pg.data()],
        );
        pg.start_server();
        pg
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        self.pg(
            "pg_ctl",
            &["-w", "-t", "30", "-o", &options, "-l"],
            &[&log, Path::new("-D"), &self.data(), Path::new("start")],
        );
    }

    /// `pg_ctl stop -m fast`: clients are disconnected, the server is down on return.
    pub fn stop_server(&self) {
        self.pg(
            "pg_ctl",
            &["-w", "-t", "30", "-m", "fast", "-D"],
            &[&self.data(), Path::new("stop")],
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Run one of the server binaries (as `postgres` under root); panic with its output
    /// if it fails.
    fn pg(&self, program: &str, args: &[&str], paths: &[&Path]) -> Output {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.args(args).args(paths);
        run(&mut command)
    }
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

impl Drop for PrivatePg {
    /// Stop the server (immediately) and delete the cluster; best effort.
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        let _ = command
            .args(["-w", "-t", "10", "-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
