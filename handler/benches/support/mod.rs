//! HTTP/1.1, just enough for the benches' local stand-ins for the Runtime API, Secrets Manager
//! and EventBridge: one request at a time per connection, each connection on its own thread.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// Request line, lower-cased headers, body.
pub struct HttpRequest {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The next request on the connection; `None` when it closes or sends what this cannot read.
fn read_request(stream: &mut BufReader<TcpStream>) -> Option<HttpRequest> {
    let mut line = String::new();
    if stream.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        stream.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let mut request = HttpRequest {
        line,
        headers,
        body: Vec::new(),
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            request.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = request.header("content-length") {
        let mut body = vec![0; length.parse().ok()?];
        stream.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some(request)
}

/// Writes one response; `false` when the connection is gone.
pub fn respond(stream: &mut TcpStream, status: &str, extra: &str, body: &[u8]) -> bool {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{extra}\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    stream.write_all(&out).is_ok()
}

/// Serves each connection of `listener` on its own thread with `handle`, until it returns false.
pub fn serve<F>(listener: TcpListener, handle: F)
where
    F: Fn(HttpRequest, &mut TcpStream) -> bool + Send + Sync + 'static,
{
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handle = Arc::clone(&handle);
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(mut writer) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                while let Some(request) = read_request(&mut reader) {
                    if !handle(request, &mut writer) {
                        return;
                    }
                }
            });
        }
    });
}

/// The `bootstrap` ebhook ships: built with the `lambda` profile (Cargo.toml) and the default
/// features, once per bench run. `cargo bench`'s own build of the binary uses the bench
/// profile, which cargo builds without LTO, so it is neither the size nor the start-up of what
/// Lambda runs.
pub fn shipped_bootstrap() -> std::path::PathBuf {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let out = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--profile",
                "lambda",
                "-p",
                "ebhook-handler",
                "--bin",
                "bootstrap",
                "--message-format=json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run cargo");
        assert!(out.status.success(), "building the lambda bootstrap failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "bootstrap")
            .find_map(|m| m["executable"].as_str().map(std::path::PathBuf::from))
            .expect("cargo named the bootstrap executable")
    })
    .clone()
}
