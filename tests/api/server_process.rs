//! `tenure serve` as a real process, for the tests of outages and limits:
//! started on a free port, killed with `kill -9`, stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};

/// A running `tenure serve`.
pub(crate) struct TenureProcess {
    child: tokio::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) address: String,
    /// Its log (stderr), removed once it has exited on SIGTERM.
    log: PathBuf,
    /// The admin token it printed on a first start (no token existed).
    pub(crate) token: Option<String>,
}

/// A fresh directory under `target/tenure-test-pg/`.
pub(crate) fn test_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tenure-test-pg")
        .join(format!(
            "ops-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ))
}

impl TenureProcess {
    /// Starts `tenure ARGS serve` on a free port with `env` (and no
    /// inherited `DATABASE_URL` unless `env` gives one); returns once it
    /// serves. Its log goes to `log`.
    pub(crate) async fn start(env: &[(&str, &str)], args: &[&str], log: &Path) -> TenureProcess {
        std::fs::create_dir_all(log.parent().expect("log dir")).expect("log dir");
        let log_file = std::fs::File::create(log).expect("log file");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenure"));
        command
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .args(args)
            .args(["--listen", "127.0.0.1:0", "serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true);
        let mut child = command.spawn().expect("spawn tenure");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let serving = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(rest) = line.strip_prefix("tenure is serving ") {
                    return rest.split("/api/v1").next().map(str::to_string);
                }
            }
            None
        })
        .await;
        let Ok(Some(address)) = serving else {
            let _ = child.start_kill();
            panic!(
                "tenure did not start serving: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        };
        // Nothing else is printed, but keep the pipe open and drained.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        // Printed on standard error before it serves.
        let token = std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("export TOKEN="))
            .map(str::to_string);
        TenureProcess {
            child,
            address,
            log: log.to_path_buf(),
            token,
        }
    }

    /// `Authorization: Bearer` with the token it printed, for a client's
    /// default headers.
    pub(crate) fn auth_headers(&self) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = &self.token {
            let value = format!("Bearer {token}").parse().expect("a header value");
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        headers
    }

    /// Starts `tenure serve` on its own cluster under `data_dir`.
    pub(crate) async fn start_own(data_dir: &Path) -> TenureProcess {
        let dir = data_dir.to_str().expect("utf-8 path");
        TenureProcess::start(&[], &["--data-dir", dir], &data_dir.with_extension("log")).await
    }

    /// `kill -9`, and waits until it is gone.
    pub(crate) async fn kill9(&mut self) {
        self.child.start_kill().expect("kill -9");
        self.child.wait().await.expect("reaped");
    }

    /// SIGTERM; returns how long it took to exit, and insists it exited
    /// (at most 60 s). Removes its log.
    pub(crate) async fn terminate(mut self) -> Duration {
        let pid = self.child.id().expect("running");
        let asked = Instant::now();
        signal("-TERM", pid);
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("tenure exits on SIGTERM")
            .expect("reaped");
        let exited = asked.elapsed();
        let _ = std::fs::remove_file(&self.log);
        exited
    }
}

/// Sends `signal` (`-TERM`, `-9`, ...) to `pid` with `kill`.
pub(crate) fn signal(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid}");
}

/// The pid of the postmaster running from the cluster under `data_dir/pg`.
pub(crate) fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("pg/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// Whether `pid` is a live process (not a zombie).
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !matches!(
            stat.rsplit_once(") ").and_then(|(_, s)| s.chars().next()),
            Some('Z' | 'X')
        )
    })
}

/// GET `url` (with `token`, if any): the status, the `Retry-After` header,
/// the body as JSON and how long the answer took.
pub(crate) async fn timed_get(url: &str, token: Option<&str>) -> (u16, Option<String>, serde_json::Value, Duration) {
    let started = Instant::now();
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, retry_after, body, started.elapsed())
}

/// Polls `url` (with `token`) every 200 ms until it answers `status`;
/// panics after `limit`.
pub(crate) async fn wait_for_status(url: &str, token: Option<&str>, status: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if timed_get(url, token).await.0 == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{url} did not answer {status} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
