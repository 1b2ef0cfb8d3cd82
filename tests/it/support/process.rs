//! The real handler binary (`bootstrap`), run the way Lambda's
//! `provided.al2023` runtime runs it.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::workspace_root;

pub const FUNCTION_NAME: &str = "ebhook-test";

/// The environment of a handler that talks to stand-ins rather than moto: every AWS endpoint
/// leads nowhere (port 9 of loopback) unless `extra` names one, moto's region and test keys
/// (nothing checks them), then `extra`.
pub fn standalone_env(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let base = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_REGION", super::moto::REGION),
        ("AWS_ACCESS_KEY_ID", super::moto::ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", super::moto::SECRET_ACCESS_KEY),
    ];
    base.iter()
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A running `bootstrap` process. Dropping it kills the process.
pub struct Bootstrap {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

static BINARY: OnceLock<PathBuf> = OnceLock::new();

impl Bootstrap {
    /// The handler binary: `EBHOOK_BOOTSTRAP` if set, else built once per
    /// test process with `cargo build -p ebhook-handler --bin bootstrap`.
    pub fn binary() -> PathBuf {
        BINARY.get_or_init(locate_or_build).clone()
    }

    /// Starts the handler with a cleared environment plus what Lambda sets,
    /// `PATH`, and `env` (which wins over the defaults).
    pub fn spawn(runtime_api: &str, env: &[(String, String)]) -> Bootstrap {
        let binary = Self::binary();
        let mut command = Command::new(&binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ebhook-test")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("LAMBDA_TASK_ROOT", ".")
            .env("_HANDLER", "bootstrap");
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.envs(env.iter().map(|(name, value)| (name, value)));
        // Like Lambda, run in the directory that holds the binary.
        if let Some(dir) = binary.parent() {
            command.current_dir(dir);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));

        let output = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            spawn_reader(
                "bootstrap-stdout",
                child.stdout.take().expect("piped stdout"),
                Arc::clone(&output),
            ),
            spawn_reader(
                "bootstrap-stderr",
                child.stderr.take().expect("piped stderr"),
                Arc::clone(&output),
            ),
        ];
        Bootstrap {
            child,
            output,
            readers,
        }
    }

    /// Everything the process wrote so far, stdout and stderr interleaved by line.
    pub fn output(&self) -> String {
        lock(&self.output).clone()
    }

    /// The output once it contains `needle`, or as it is after `timeout`. The process writes a
    /// log line before it answers, but the threads that read its pipes may not have read it yet.
    pub fn output_with(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let output = self.output();
            if output.contains(needle) || Instant::now() >= deadline {
                return output;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has exited, without waiting.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("poll bootstrap process")
    }

    /// Waits up to `timeout` for the process to exit; once it has, all of
    /// its output has been collected.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The handler as `ebhook init --bootstrap` deploys it in these tests: this run's build of
/// `bootstrap` ([`Bootstrap::binary`]), as text for an argument list. Building the release
/// handler takes minutes; ebhook's packaging of a binary is the same either way, and the build
/// itself is tested by `init_flows::the_release_handler_is_built_checked_and_deployed`.
pub fn prebuilt() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| Bootstrap::binary().to_string_lossy().into_owned())
}

/// Another handler build, as far as ebhook can tell: [`prebuilt`] with bytes after its end (an
/// ELF file ignores them), so its zip and hash differ.
pub fn rebuilt() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let mut binary = std::fs::read(prebuilt()).expect("read the bootstrap");
        binary.extend_from_slice(b"ebhook-it: another build");
        let dir = target_dir().join("ebhook-it");
        std::fs::create_dir_all(&dir).expect("create target/ebhook-it");
        let path = dir.join("bootstrap-rebuilt");
        std::fs::write(&path, binary).expect("write the other build");
        let mut permissions = std::fs::metadata(&path).expect("stat it").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&path, permissions).expect("make it executable");
        path.to_string_lossy().into_owned()
    })
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

fn locate_or_build() -> PathBuf {
    if let Some(prebuilt) = std::env::var_os("EBHOOK_BOOTSTRAP").filter(|p| !p.is_empty()) {
        let prebuilt = workspace_root().join(prebuilt);
        assert!(
            prebuilt.is_file(),
            "EBHOOK_BOOTSTRAP names {}, which is not a file",
            prebuilt.display()
        );
        return prebuilt;
    }
    build()
}

// The variables cargo sets and the reading of its messages, as ebhook's builds of the handler
// use them.
#[path = "../../../src/lambda_build.rs"]
#[allow(dead_code)]
mod lambda_build;

/// Without the variables `cargo test` sets for this test (CARGO_MANIFEST_DIR, CARGO_PKG_*, ...),
/// as a user's shell runs cargo: some dependencies' build scripts watch them, and a build that
/// saw them would be out of date for one that did not.
pub fn from_a_shell(command: &mut Command) -> &mut Command {
    for name in lambda_build::variables_set_by_cargo() {
        command.env_remove(name);
    }
    command
}

fn cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

fn build() -> PathBuf {
    let cargo = cargo();
    let output = from_a_shell(&mut Command::new(&cargo))
        .args([
            "build",
            "-p",
            "ebhook-handler",
            "--bin",
            "bootstrap",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cargo.display()));
    assert!(
        output.status.success(),
        "`cargo build -p ebhook-handler --bin bootstrap` failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // Cargo names the executable it produced; the computed path is the fallback.
    let binary = lambda_build::executable_from_messages(&String::from_utf8_lossy(&output.stdout))
        .map(|built| built.path)
        .unwrap_or_else(|| target_dir().join("debug").join("bootstrap"));
    assert!(
        binary.is_file(),
        "cargo built the handler but {} is not a file",
        binary.display()
    );
    binary
}

/// Appends everything `reader` yields, line by line, to `buffer` from a
/// background thread that ends at end of file.
pub(super) fn spawn_reader<R: Read + Send + 'static>(
    name: &str,
    reader: R,
    buffer: Arc<Mutex<String>>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut reader = BufReader::new(reader);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => lock(&buffer).push_str(&String::from_utf8_lossy(&line)),
                }
            }
        })
        .expect("spawn output reader thread")
}

/// Locks a mutex, ignoring poisoning (a panicking test must not hide output).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
