//! Packs the handler crate's sources into the CLI, so an installed `ebhook` (`cargo install`)
//! builds its Lambda handler with no source checkout at run time, once per version,
//! architecture and feature set (src/embedded.rs). The zip is deterministic: its SHA-256 names
//! the handler version in the build cache.

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    prebuilt(&out_dir)?;
    println!(
        "cargo:rustc-env=EBHOOK_HANDLER_SOURCE_SHA256={}",
        hex::encode(Sha256::digest(&bytes))
    );
    Ok(())
}

/// The release pipeline's handler binaries (EBHOOK_PREBUILT_HANDLERS: a directory of
/// `bootstrap-<arch>-<plain|dedupe>`), carried so that a CLI installed without a Rust toolchain
/// deploys at once. Any that is missing is built on first use instead.
fn prebuilt(out_dir: &Path) -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-env-changed=EBHOOK_PREBUILT_HANDLERS");
    let mut entries = Vec::new();
    if let Some(dir) = std::env::var_os("EBHOOK_PREBUILT_HANDLERS") {
        let dir = PathBuf::from(dir);
        for arch in ["x86_64", "arm64"] {
            for (features, dedupe) in [("plain", false), ("dedupe", true)] {
                let path = dir.join(format!("bootstrap-{arch}-{features}"));
                if path.is_file() {
                    println!("cargo:rerun-if-changed={}", path.display());
                    entries.push(format!(
                        "(\"{arch}\", {dedupe}, include_bytes!({:?}))",
                        path.canonicalize()?
                    ));
                }
            }
        }
    }
    let code = format!(
        "const PREBUILT: &[(&str, bool, &[u8])] = &[{}];\n",
        entries.join(", ")
    );
    std::fs::write(out_dir.join("prebuilt.rs"), code)?;
    Ok(())
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
