//! Packaging the handler for Lambda: build `bootstrap` for the target, refuse a binary that
//! would not run on `provided.al2023`, and zip it deterministically so the same source gives the
//! same bytes and the same SHA-256 (the artifact's key).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use object::elf::{EM_AARCH64, EM_X86_64};
use sha2::{Digest, Sha256};

use crate::cli::Arch;
pub use crate::lambda_build::{Built, GlibcVersion, LAMBDA_GLIBC};
use crate::lambda_build::{
    ElfProblem, ZIGBUILD_PROBE, cargo_args, check_runs_on_lambda, executable_from_messages,
    variables_set_by_cargo,
};

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path} is not a 64-bit ELF executable ({reason}); build the handler for Linux")]
    NotElf { path: String, reason: String },
    #[error(
        "the handler was built for the wrong CPU: expected {expected}, found ELF machine {found}; \
         build it for {expected}, or deploy with the --arch it was built for"
    )]
    WrongMachine { expected: &'static str, found: u16 },
    #[error(
        "the handler needs glibc {needed} but Lambda's provided.al2023 has {LAMBDA_GLIBC}; install cargo-zigbuild (`pip install cargo-zigbuild ziglang`) so ebhook can pin glibc {LAMBDA_GLIBC}"
    )]
    GlibcTooNew { needed: GlibcVersion },
    #[error(
        "arm64 cannot be built on this machine: {0}. Deploy with `--arch x86_64`, or install the aarch64-unknown-linux-gnu Rust target and cargo-zigbuild"
    )]
    ArchUnavailable(String),
    #[error("could not run {tool}: {source}; is the Rust toolchain installed?")]
    Spawn {
        tool: String,
        source: std::io::Error,
    },
    #[error(
        "building the handler failed (fix what cargo reports below, or deploy a prebuilt binary \
         with --bootstrap):\n{0}"
    )]
    BuildFailed(String),
    #[error(
        "the build finished but reported no `bootstrap` executable; check that the handler crate \
         has a binary named bootstrap"
    )]
    NoExecutable,
    #[error("could not read {path}: {source}; check the path and its permissions")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("could not write the zip: {0}; try again")]
    Zip(String),
    #[error(
        "no cache directory to build the handler in (no HOME?): set EBHOOK_CACHE_DIR to a \
         writable directory, or pass --handler-dir or --bootstrap"
    )]
    NoCacheDir,
    #[error(
        "{action} failed: {source}; set EBHOOK_CACHE_DIR to a writable directory, or pass \
         --handler-dir or --bootstrap"
    )]
    Cache {
        action: String,
        source: std::io::Error,
    },
    #[error("--bootstrap {}: no such file; give the path of a built `bootstrap`", .0.display())]
    NoBootstrap(PathBuf),
    #[error("--handler-dir {}: no Cargo.toml there; give the handler crate's directory", .0.display())]
    NoHandlerCrate(PathBuf),
}

impl PackageError {
    /// Whether asking differently fixes it: another `--arch`, `--bootstrap` or `--handler-dir`.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::ArchUnavailable(_)
                | Self::NoBootstrap(_)
                | Self::NoHandlerCrate(_)
                | Self::NoCacheDir
        )
    }
}

/// Refuse, before anything is uploaded, a binary that would not start on `provided.al2023`.
pub fn check_for_lambda(
    elf: &[u8],
    arch: Arch,
    path: &Path,
) -> Result<Option<GlibcVersion>, PackageError> {
    let (expected, machine) = match arch {
        Arch::X86_64 => ("x86_64", EM_X86_64),
        Arch::Arm64 => ("arm64", EM_AARCH64),
    };
    check_runs_on_lambda(elf, machine).map_err(|problem| match problem {
        ElfProblem::NotElf(e) => PackageError::NotElf {
            path: path.display().to_string(),
            reason: e.to_string(),
        },
        ElfProblem::WrongMachine(found) => PackageError::WrongMachine { expected, found },
        ElfProblem::GlibcTooNew(needed) => PackageError::GlibcTooNew { needed },
    })
}

/// A zip holding `bootstrap` (mode 0755) at its root, byte-for-byte reproducible: fixed
/// timestamp, fixed compression, nothing from the build machine.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, PackageError> {
    let zip_err = |e: zip::result::ZipError| PackageError::Zip(e.to_string());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).map_err(zip_err)?;
    zip.write_all(binary)
        .map_err(|e| PackageError::Zip(e.to_string()))?;
    Ok(zip.finish().map_err(zip_err)?.into_inner())
}

/// The zipped handler and its content hash.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// The `bootstrap` executable the zip holds.
    pub binary: Vec<u8>,
    pub zip: Vec<u8>,
    pub sha256: String,
    pub glibc: Option<GlibcVersion>,
}

impl Artifact {
    pub fn from_binary(binary: &[u8], arch: Arch, path: &Path) -> Result<Self, PackageError> {
        let glibc = check_for_lambda(binary, arch, path)?;
        let zip = zip_bootstrap(binary)?;
        let sha256 = hex::encode(Sha256::digest(&zip));
        Ok(Self {
            binary: binary.to_vec(),
            zip,
            sha256,
            glibc,
        })
    }

    /// The S3 key: content-addressed, so an unchanged handler is never uploaded twice.
    pub fn key(&self) -> String {
        format!("ebhook/handler-{}.zip", self.sha256)
    }

    /// The zip's SHA-256 as S3's checksums and Lambda's `CodeSha256` spell it (base64).
    pub fn sha256_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&self.zip))
    }
}

/// How the handler gets built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildPlan {
    pub program: String,
    pub args: Vec<String>,
    pub handler_dir: PathBuf,
    /// cargo's target directory, where not the crate's own.
    pub target_dir: Option<PathBuf>,
}

impl BuildPlan {
    /// Build in `dir`, without `--locked`: the handler carried in the CLI brings the whole
    /// workspace's lock, which cargo trims to the handler's own packages (their versions kept).
    pub fn for_embedded(mut self, dir: PathBuf) -> Self {
        self.args.retain(|a| a != "--locked");
        self.target_dir = Some(dir);
        self
    }

    pub fn describe(&self) -> String {
        format!("{} {}", self.program, self.args.join(" "))
    }
}

/// Choose the build: cargo-zigbuild (glibc pinned) when installed, else plain cargo. arm64 needs
/// both the Rust target and zigbuild's cross linker.
pub async fn plan(handler_dir: &Path, arch: Arch, dedupe: bool) -> Result<BuildPlan, PackageError> {
    let zigbuild = succeeds("cargo", &ZIGBUILD_PROBE).await;
    if arch == Arch::Arm64 {
        if !target_installed(arch.rust_triple()).await {
            return Err(PackageError::ArchUnavailable(
                "the aarch64-unknown-linux-gnu Rust target is not installed".into(),
            ));
        }
        // Native on an arm64 Linux machine (as build.rs builds there); a cross build elsewhere.
        let native = cfg!(all(target_arch = "aarch64", target_os = "linux"));
        if !zigbuild && !native {
            return Err(PackageError::ArchUnavailable(
                "cargo-zigbuild, needed as the cross linker, is not installed".into(),
            ));
        }
    }
    let mut args = cargo_args(arch.rust_triple(), zigbuild, dedupe);
    if !handler_dir.join("Cargo.lock").exists() && !handler_dir.join("../Cargo.lock").exists() {
        args.retain(|a| a != "--locked");
    }
    Ok(BuildPlan {
        program: "cargo".into(),
        args,
        handler_dir: handler_dir.to_owned(),
        target_dir: None,
    })
}

async fn succeeds(program: &str, args: &[&str]) -> bool {
    crate::child::command(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

async fn target_installed(triple: &str) -> bool {
    let out = crate::child::command("rustc")
        .args(["--print", "target-libdir", "--target", triple])
        .stderr(Stdio::null())
        .output()
        .await;
    match out {
        Ok(out) if out.status.success() => {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            Path::new(&dir).join("libstd").exists()
                || std::fs::read_dir(&dir).is_ok_and(|mut d| {
                    d.any(|e| {
                        e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
                    })
                })
        }
        _ => false,
    }
}

/// Run the build; returns the `bootstrap` executable cargo reports.
pub async fn build(plan: &BuildPlan) -> Result<Built, PackageError> {
    let mut command = crate::child::command(&plan.program);
    if let Some(dir) = &plan.target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    // Under `cargo run -- init`, or a test, as the release build's own handler build does.
    for name in variables_set_by_cargo() {
        command.env_remove(name);
    }
    let output = command
        .args(&plan.args)
        .current_dir(&plan.handler_dir)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|source| PackageError::Spawn {
            tool: plan.program.clone(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(PackageError::BuildFailed(tail.join("\n")));
    }
    executable_from_messages(&String::from_utf8_lossy(&output.stdout))
        .ok_or(PackageError::NoExecutable)
}

pub fn read_binary(path: &Path) -> Result<Vec<u8>, PackageError> {
    std::fs::read(path).map_err(|source| PackageError::Read {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_checked_like_a_handler() {
        // The running test executable is a real glibc-linked x86_64 ELF.
        let path = std::env::current_exe().unwrap();
        let elf = std::fs::read(&path).unwrap();
        let needed = check_for_lambda(&elf, Arch::X86_64, &path);
        assert!(
            matches!(needed, Ok(Some(_)) | Err(PackageError::GlibcTooNew { .. })),
            "{needed:?}"
        );
        let wrong = check_for_lambda(&elf, Arch::Arm64, &path).unwrap_err();
        assert!(
            matches!(
                wrong,
                PackageError::WrongMachine {
                    expected: "arm64",
                    ..
                }
            ),
            "{wrong}"
        );
        let not_elf = check_for_lambda(b"#!/bin/sh\n", Arch::X86_64, Path::new("x")).unwrap_err();
        assert!(matches!(not_elf, PackageError::NotElf { .. }), "{not_elf}");
    }

    #[test]
    fn zip_is_deterministic_and_executable() {
        let a = zip_bootstrap(b"\x7fELF pretend").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = zip_bootstrap(b"\x7fELF pretend").unwrap();
        assert_eq!(a, b);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        assert_eq!(archive.len(), 1);
        let file = archive.by_index(0).unwrap();
        assert_eq!(file.name().unwrap(), "bootstrap");
        assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(0o755));
    }
}
