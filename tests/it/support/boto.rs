//! AWS calls the Rust SDK cannot make against moto (CloudWatch over RPC v2 CBOR) or that the
//! tests have no client for (SNS), made with boto3 through tests/boto_call.py.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{Moto, moto, workspace_root};

/// `service.operation(params)` against `moto`; the response as JSON. Panics with boto3's error.
pub fn call(moto: &Moto, service: &str, operation: &str, params: Value) -> Value {
    let mut child = Command::new(moto::python())
        .arg(workspace_root().join("tests").join("boto_call.py"))
        .envs(moto.env())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/boto_call.py");
    let job = json!({"service": service, "operation": operation, "params": params});
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(job.to_string().as_bytes())
        .expect("write the call");
    let out = child.wait_with_output().expect("wait for boto_call.py");
    assert!(
        out.status.success(),
        "{service}.{operation} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from boto_call.py")
}
