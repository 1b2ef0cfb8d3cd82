//! Packs the handler crate's sources into the CLI, so an installed `ebhook` (`cargo install`)
//! builds its Lambda handler with no source checkout at run time, once per version,
//! architecture and feature set (src/embedded.rs). The zip is deterministic: its SHA-256 names
//! the handler version in the build cache.
//!
//! A release build also builds the handler itself for this machine's architecture and carries
//! it, so that neither the installed CLI nor `init` in the checkout compiles anything.

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// The build command and the checks `init` uses: built here, it is what `init` would build.
#[path = "src/lambda_build.rs"]
#[allow(dead_code)]
mod lambda_build;
use lambda_build::ElfProblem;

use sha2::{Digest, Sha256};
use toml_edit::{Array, DocumentMut, Item, value};

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    for watched in [
        "Cargo.toml",
        "Cargo.lock",
        "handler/Cargo.toml",
        "handler/src",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    let mut files = vec![
        ("Cargo.toml".to_owned(), workspace_manifest(&root)?),
        (
            "Cargo.lock".to_owned(),
            std::fs::read(root.join("Cargo.lock"))?,
        ),
        ("handler/Cargo.toml".to_owned(), handler_manifest(&root)?),
    ];
    collect(&root, &root.join("handler").join("src"), &mut files)?;
    files.sort();

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed time and mode: the same sources give the same bytes, hence the same hash.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in &files {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes)?;
    }
    let bytes = zip.finish()?.into_inner();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("handler-source.zip"), &bytes)?;
    prebuilt(&root, &out_dir)?;
    println!(
        "cargo:rustc-env=EBHOOK_HANDLER_SOURCE_SHA256={}",
        hex::encode(Sha256::digest(&bytes))
    );
    Ok(())
}

/// The handler binaries the CLI carries, as a table src/embedded.rs reads: the release
/// pipeline's (EBHOOK_PREBUILT_HANDLERS: a directory of `bootstrap-<arch>-<plain|dedupe>`), else
/// in a release build the ones built here. Any that is missing is built on first use instead.
fn prebuilt(root: &Path, out_dir: &Path) -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-env-changed=EBHOOK_PREBUILT_HANDLERS");
    println!("cargo:rerun-if-env-changed=EBHOOK_BUILD_HANDLER");
    let binaries = match std::env::var_os("EBHOOK_PREBUILT_HANDLERS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let mut found = Vec::new();
            for arch in ["x86_64", "arm64"] {
                for dedupe in [false, true] {
                    let path = dir.join(format!(
                        "bootstrap-{arch}-{}",
                        lambda_build::features_name(dedupe)
                    ));
                    if path.is_file() {
                        println!("cargo:rerun-if-changed={}", path.display());
                        found.push((arch, dedupe, path.canonicalize()?));
                    }
                }
            }
            found
        }
        None => build_for_this_machine(root, out_dir),
    };
    let entries: Vec<String> = binaries
        .iter()
        .map(|(arch, dedupe, path)| format!("(\"{arch}\", {dedupe}, include_bytes!({path:?}))"))
        .collect();
    let code = format!(
        "const PREBUILT: &[(&str, bool, &[u8])] = &[{}];\n",
        entries.join(", ")
    );
    std::fs::write(out_dir.join("prebuilt.rs"), code)?;
    Ok(())
}

/// In a release build (`cargo install`, `cargo build --release`), build the handler for this
/// machine's architecture, without dedupe, by the command `init` runs and in the same target
/// directory: `init` in the checkout then finds it up to date, and the CLI carries it.
/// Whatever stops it (another OS, a failed build) is only a warning: `init` builds on first use.
/// `EBHOOK_BUILD_HANDLER=0` leaves it out, for quicker release builds of the CLI alone.
fn build_for_this_machine(root: &Path, out_dir: &Path) -> Vec<(&'static str, bool, PathBuf)> {
    // `cargo clippy --release` runs build scripts too, but builds nothing to carry.
    let clippy = std::env::var_os("RUSTC_WORKSPACE_WRAPPER")
        .is_some_and(|w| w.to_string_lossy().contains("clippy-driver"));
    let wanted = std::env::var("PROFILE").is_ok_and(|p| p == "release")
        && std::env::var_os("EBHOOK_BUILD_HANDLER").is_none_or(|v| v != "0")
        && !clippy;
    if !wanted {
        return Vec::new();
    }
    let host = std::env::var("HOST").unwrap_or_default();
    // Elsewhere (macOS) the Lambda build needs cargo-zigbuild and a Rust target `cargo install`
    // does not set up: `init` builds on first use and says what is missing.
    let (arch, machine) = match host.as_str() {
        "x86_64-unknown-linux-gnu" => ("x86_64", object::elf::EM_X86_64),
        "aarch64-unknown-linux-gnu" => ("arm64", object::elf::EM_AARCH64),
        _ => return Vec::new(),
    };
    // OUT_DIR is <target dir>/[<triple>/]<profile>/build/<package>-<hash>/out. Under another
    // layout (a `build.build-dir` of its own) the target directory `init` uses is unknown here.
    let layout = out_dir.ancestors().nth(2).and_then(Path::file_name);
    let (Some(profile_dir), true) = (out_dir.ancestors().nth(3), layout == Some("build".as_ref()))
    else {
        warn(&format!(
            "the Lambda handler was not built with the CLI, so `ebhook init` builds it on first \
             use: cargo's build directory {} is not in the layout ebhook knows",
            out_dir.display()
        ));
        return Vec::new();
    };
    // The handler's own profile is `lambda`: building it from a build of that profile would
    // wait forever on the lock this build holds.
    if profile_dir.file_name().is_some_and(|name| name == "lambda") {
        return Vec::new();
    }
    let Some(mut target_dir) = profile_dir.parent() else {
        return Vec::new();
    };
    let triple = std::env::var("TARGET").unwrap_or_default();
    if target_dir.file_name().is_some_and(|name| *name == *triple) {
        target_dir = target_dir.parent().unwrap_or(target_dir);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let zigbuild = cargo_command(&cargo)
        .args(lambda_build::ZIGBUILD_PROBE)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // Only the build every stack without --dedupe deploys: the one with dedupe would add its
    // own link, minutes of one core, to every install (BENCHMARKS.md, "From install to URL").
    let dedupe = false;
    let binary = match build_handler(root, target_dir, &cargo, (&host, machine), zigbuild, dedupe) {
        Ok(binary) => binary,
        Err(why) => {
            warn(&format!(
                "the Lambda handler was not built with the CLI, so `ebhook init` builds it on \
                 first use and shows the whole error ({why}); EBHOOK_BUILD_HANDLER=0 skips this \
                 build"
            ));
            return Vec::new();
        }
    };
    let kept = out_dir.join(format!(
        "bootstrap-{arch}-{}",
        lambda_build::features_name(dedupe)
    ));
    match std::fs::write(&kept, binary) {
        Ok(()) => vec![(arch, dedupe, kept)],
        Err(e) => {
            warn(&format!(
                "could not keep the handler in {}: {e}",
                kept.display()
            ));
            Vec::new()
        }
    }
}

/// One build of `bootstrap`, checked as `init` checks it: for this machine, glibc 2.34 at most.
fn build_handler(
    root: &Path,
    target_dir: &Path,
    cargo: &std::ffi::OsStr,
    (triple, machine): (&str, u16),
    zigbuild: bool,
    dedupe: bool,
) -> Result<Vec<u8>, String> {
    let args = lambda_build::cargo_args(triple, zigbuild, dedupe);
    let output = cargo_command(cargo)
        .args(&args)
        .current_dir(root.join("handler"))
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        // cargo's last lines say which crate failed; the first `error` line says why.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_error = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("");
        return Err(format!(
            "`cargo {}` in handler/ failed: {first_error}",
            args.join(" ")
        ));
    }
    let built = lambda_build::executable_from_messages(&String::from_utf8_lossy(&output.stdout))
        .ok_or("cargo reported no bootstrap executable")?;
    let binary = std::fs::read(&built.path)
        .map_err(|e| format!("could not read {}: {e}", built.path.display()))?;
    match lambda_build::check_runs_on_lambda(&binary, machine) {
        Ok(_) => Ok(binary),
        Err(ElfProblem::WrongMachine(found)) => Err(format!(
            "it was built for ELF machine {found}, not this machine's {triple}"
        )),
        Err(ElfProblem::GlibcTooNew(glibc)) => Err(format!(
            "it needs glibc {glibc}, newer than Lambda's {}; install cargo-zigbuild",
            lambda_build::LAMBDA_GLIBC
        )),
        Err(ElfProblem::NotElf(e)) => Err(format!("it is not an ELF executable: {e}")),
    }
}

/// cargo, without the variables cargo set for this build script (`set_by_cargo` says why) or
/// clippy's wrapper, and without the signing secret, as src/child.rs does for ebhook's children.
#[allow(
    clippy::disallowed_methods,
    reason = "a build script cannot use src/child.rs; this clears the same variable"
)]
fn cargo_command(cargo: &std::ffi::OsStr) -> Command {
    let mut command = Command::new(cargo);
    command
        .env_remove("EBHOOK_SECRET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER");
    for name in lambda_build::variables_set_by_cargo() {
        command.env_remove(name);
    }
    command
}

fn warn(message: &str) {
    println!("cargo:warning={message}");
}

/// The workspace around the handler alone: the shared dependency versions, lints and profiles
/// of this workspace, with the handler its only member.
fn workspace_manifest(root: &Path) -> Result<Vec<u8>, Box<dyn Error>> {
    let source: DocumentMut = std::fs::read_to_string(root.join("Cargo.toml"))?.parse()?;
    let mut doc = DocumentMut::new();
    let mut workspace = source["workspace"].clone();
    let mut members = Array::new();
    members.push("handler");
    workspace["members"] = value(members);
    if let Some(table) = workspace.as_table_mut() {
        table.remove("exclude");
        if let Some(deps) = table.get_mut("dependencies").and_then(Item::as_table_mut) {
            deps.remove("ebhook-handler");
        }
    }
    doc["workspace"] = workspace;
    doc["profile"] = source["profile"].clone();
    Ok(doc.to_string().into_bytes())
}

/// The handler's manifest without what only its own tests and benchmarks need.
fn handler_manifest(root: &Path) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut doc: DocumentMut =
        std::fs::read_to_string(root.join("handler").join("Cargo.toml"))?.parse()?;
    doc.remove("dev-dependencies");
    doc.remove("bench");
    Ok(doc.to_string().into_bytes())
}

fn collect(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), Box<dyn Error>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else {
            let name = path
                .strip_prefix(root)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((name, std::fs::read(&path)?));
        }
    }
    Ok(())
}
