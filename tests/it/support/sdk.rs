//! Requests signed by the providers' own SDKs (tests/sign_with_sdks.py, installed by
//! `bash tests/setup`).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{moto, workspace_root};

/// Signs with the official SDKs through tests/sign_with_sdks.py.
pub fn sdk_sign(jobs: &Value) -> Vec<Value> {
    let mut child = Command::new(moto::python())
        .arg(workspace_root().join("tests").join("sign_with_sdks.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/sign_with_sdks.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(jobs.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sign_with_sdks.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
