//! A throwaway Redis-protocol server for tests: `redis-server` on a free port of 127.0.0.1, without
//! persistence, stopped (killed) when dropped. Not part of the library: the store's contract tests and
//! `tests/it` both include this file.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running `redis-server`, killed on drop.
pub struct RedisServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one, or, when `redis-server` is not installed, prints `skipped: redis-server is not installed (…)`
    /// and answers `None`; with `AMM_REQUIRE_TOOLS=1` (CI) a missing server fails the test instead.
    pub fn start() -> Option<RedisServer> {
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("redis-server").is_file()));
        if !found {
            let line = "skipped: redis-server is not installed (apt-get install -y redis-server)";
            assert!(
                std::env::var("AMM_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "{line}, and AMM_REQUIRE_TOOLS=1 requires it"
            );
            println!("{line}");
            return None;
        }
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start() {
                Ok(s) => return Some(s),
                Err(e) => last = e,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    fn try_start() -> Result<RedisServer, String> {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let dir = std::env::temp_dir().join(format!("amm-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        for _ in 0..500 {
            if let Ok(Some(status)) = child.try_wait() {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("exited with {status} (port {port} taken?)"));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(RedisServer { child, port, dir });
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!("no answer on port {port} after 5 s"))
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it at once (as a crash would), keeping nothing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
