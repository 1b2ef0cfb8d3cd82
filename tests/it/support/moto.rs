//! A moto server (the AWS service emulator) in a child Python process.
//!
//! Each [`Moto`] is its own process with its own in-memory state, so tests
//! that start their own do not see each other's resources. Tests whose
//! resources have names of their own share one ([`Moto::shared`]): starting
//! moto takes seconds of CPU.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use super::process::{lock, spawn_reader};
use super::workspace_root;

/// How long the launcher may take to print its `READY <port>` line.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
/// The account moto puts every resource in.
pub const ACCOUNT_ID: &str = "123456789012";

/// A running moto server on 127.0.0.1. Dropping it kills the process.
pub struct Moto {
    child: Child,
    /// Held open for the process's lifetime: the launcher exits when it closes,
    /// so the server also goes away if the test process dies without dropping.
    _stdin: ChildStdin,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

/// The Python interpreter that has moto installed: `EBHOOK_TEST_PYTHON`, else
/// the workspace's `.venv/bin/python`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("EBHOOK_TEST_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(python);
    }
    let python = workspace_root().join(".venv").join("bin").join("python");
    if !python.exists() {
        panic!(
            "no Python virtualenv for the integration tests at {}: run `bash tests/setup` \
             (it creates .venv with tests/requirements.txt), or set EBHOOK_TEST_PYTHON",
            python.display()
        );
    }
    python
}

/// A name no other caller in this test process gets: `<prefix>-<n>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Moto {
    /// The one moto server of this test process, started by its first caller, for tests that
    /// name every resource they make with [`unique`]. It lives as long as the process: the
    /// launcher exits when the process's end of its stdin closes.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    /// Starts a moto server on a free port and waits until it accepts connections.
    pub fn start() -> Moto {
        let python = python();
        let launcher = workspace_root().join("tests").join("moto_server.py");
        let mut child = Command::new(&python)
            .arg(&launcher)
            .arg("0")
            .current_dir(workspace_root())
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} {}: {e} (run `bash tests/setup`?)",
                    python.display(),
                    launcher.display()
                )
            });

        let stdin = child.stdin.take().expect("piped stdin");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = spawn_reader(
            "moto-stderr",
            child.stderr.take().expect("piped stderr"),
            Arc::clone(&stderr),
        );

        let stdout = child.stdout.take().expect("piped stdout");
        let (first_line, ready) = mpsc::channel();
        std::thread::Builder::new()
            .name("moto-stdout".into())
            .spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                let _ = first_line.send(lines.next());
                // Keep draining so the process can never block on a full pipe.
                for _ in lines {}
            })
            .expect("spawn moto stdout reader");

        let problem = match ready.recv_timeout(READY_TIMEOUT) {
            Ok(Some(Ok(line))) => match parse_ready(&line) {
                Some(port) => {
                    return Moto {
                        child,
                        _stdin: stdin,
                        port,
                        stderr,
                    };
                }
                None => format!("unexpected first line from the launcher: {line:?}"),
            },
            Ok(Some(Err(e))) => format!("cannot read the launcher's stdout: {e}"),
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                "the launcher exited before it was ready".to_owned()
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                format!("the launcher was not ready within {READY_TIMEOUT:?}")
            }
        };
        fail(&python, child, stdin, stderr_reader, &stderr, &problem)
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK configuration that talks to this server: region us-east-1, static
    /// test credentials, and the endpoint URL; nothing read from the host's
    /// environment or profile. S3 clients come from [`s3_client`].
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .empty_test_environment()
            .http_client(ebhook_handler::http_client())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                None,
                None,
                "moto-test",
            ))
            .endpoint_url(self.endpoint())
            .load()
            .await
    }

    /// The environment a child process (the handler) needs to reach this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    /// What the server wrote to stderr so far (errors and tracebacks).
    pub fn logs(&self) -> String {
        lock(&self.stderr).clone()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_ready(line: &str) -> Option<u16> {
    line.trim_end()
        .strip_prefix("READY ")?
        .parse()
        .ok()
        .filter(|&port| port != 0)
}

fn fail(
    python: &Path,
    mut child: Child,
    stdin: ChildStdin,
    stderr_reader: JoinHandle<()>,
    stderr: &Mutex<String>,
    problem: &str,
) -> ! {
    drop(stdin);
    let _ = child.kill();
    let status = child.wait();
    let _ = stderr_reader.join();
    panic!(
        "moto did not start ({problem}); interpreter {}, exit {status:?}; stderr:\n{}",
        python.display(),
        lock(stderr)
    );
}

/// An S3 client for moto's configuration: path-style addressing, because every bucket is
/// served on 127.0.0.1 rather than on a bucket host name.
pub fn s3_client(conf: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    )
}

/// Asserts what `--compliance control-tower` turns on for a bucket: Object Lock, and server
/// access logs delivered to `log_bucket`.
pub async fn assert_locked_and_logged(s3: &aws_sdk_s3::Client, bucket: &str, log_bucket: &str) {
    let lock = s3
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no Object Lock on {bucket}: {e:?}"));
    assert_eq!(
        lock.object_lock_configuration()
            .and_then(|c| c.object_lock_enabled())
            .map(|e| e.as_str()),
        Some("Enabled"),
        "{bucket}"
    );
    let logging = s3.get_bucket_logging().bucket(bucket).send().await.unwrap();
    assert_eq!(
        logging.logging_enabled().map(|l| l.target_bucket()),
        Some(log_bucket),
        "{bucket}'s access logs"
    );
}
