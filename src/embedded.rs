//! The handler's sources, carried inside the CLI (packed by build.rs): an installed `ebhook`
//! needs no checkout to deploy. They are built once per handler version, architecture and
//! feature set into the user's cache, and every later `init` or `update-function` of any
//! stack takes that binary as it is, with no compile.
//!
//! Layout under the cache (`EBHOOK_CACHE_DIR`, else the user's cache directory + `ebhook`):
//! `src/<sha>/` the extracted sources, `target/` cargo's target directory (shared by every
//! version, so an upgrade rebuilds only what changed), `bootstrap/<sha>-<arch>-<features>` the
//! binaries built.

use std::path::{Path, PathBuf};

use crate::cli::Arch;
use crate::package::PackageError;

/// The zip build.rs made of the handler crate and a workspace around it.
const SOURCES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/handler-source.zip"));
/// Its SHA-256: the handler version these sources are.
pub const SOURCES_SHA256: &str = env!("EBHOOK_HANDLER_SOURCE_SHA256");

// Handler binaries carried in the CLI (build.rs): the release pipeline's
// (EBHOOK_PREBUILT_HANDLERS), else those a release build made for its own machine; none in a
// debug build. (arch, dedupe, bootstrap).
include!(concat!(env!("OUT_DIR"), "/prebuilt.rs"));

/// The cache the embedded handler is built in.
pub struct Cache {
    root: PathBuf,
}

fn io_error(action: String) -> impl FnOnce(std::io::Error) -> PackageError {
    move |source| PackageError::Cache { action, source }
}

impl Cache {
    pub fn open() -> Result<Self, PackageError> {
        let root = match std::env::var_os("EBHOOK_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                use etcetera::BaseStrategy;
                // The platform's own: ~/.cache (XDG_CACHE_HOME) on Linux, ~/Library/Caches on
                // macOS.
                etcetera::base_strategy::choose_native_strategy()
                    .map_err(|_| PackageError::NoCacheDir)?
                    .cache_dir()
                    .join("ebhook")
            }
        };
        Ok(Self { root })
    }

    /// A short name for this handler version, as the cache and messages show it.
    pub fn version() -> &'static str {
        &SOURCES_SHA256[..12]
    }

    /// The binary built earlier for this version, architecture and features, if any.
    pub fn built(&self, arch: Arch, dedupe: bool) -> Option<PathBuf> {
        let path = self.binary_path(arch, dedupe);
        path.is_file().then_some(path)
    }

    fn binary_path(&self, arch: Arch, dedupe: bool) -> PathBuf {
        let features = crate::lambda_build::features_name(dedupe);
        self.root.join("bootstrap").join(format!(
            "{}-{}-{features}",
            Self::version(),
            arch.lambda_name()
        ))
    }

    /// Where cargo builds: one target directory for every handler version.
    pub fn target_dir(&self) -> PathBuf {
        self.root.join("target")
    }

    /// The handler crate's directory, extracted from the CLI the first time. Extraction goes to
    /// a temporary directory renamed into place, so an interrupted run leaves nothing half
    /// written where the next one looks.
    pub fn sources(&self) -> Result<PathBuf, PackageError> {
        let dir = self.root.join("src").join(Self::version());
        if dir.join("handler").join("Cargo.toml").is_file() {
            return Ok(dir.join("handler"));
        }
        let parent = self.root.join("src");
        std::fs::create_dir_all(&parent)
            .map_err(io_error(format!("creating {}", parent.display())))?;
        let staging = parent.join(format!(".{}-{}", Self::version(), std::process::id()));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(SOURCES))
            .map_err(|e| PackageError::Zip(e.to_string()))?;
        archive
            .extract(&staging)
            .map_err(|e| PackageError::Zip(e.to_string()))?;
        match std::fs::rename(&staging, &dir) {
            Ok(()) => {}
            // Another ebhook extracted the same version meanwhile: theirs is as good.
            Err(_) if dir.join("handler").join("Cargo.toml").is_file() => {
                std::fs::remove_dir_all(&staging).ok();
            }
            Err(e) => {
                return Err(io_error(format!("moving sources into {}", dir.display()))(
                    e,
                ));
            }
        }
        Ok(dir.join("handler"))
    }

    /// The binary carried in the CLI for this architecture and features, written to the cache
    /// as if built here; `None` in a CLI that carries none.
    pub fn keep_prebuilt(&self, arch: Arch, dedupe: bool) -> Result<Option<PathBuf>, PackageError> {
        self.keep_from(PREBUILT, arch, dedupe)
    }

    fn keep_from(
        &self,
        prebuilt: &[(&str, bool, &[u8])],
        arch: Arch,
        dedupe: bool,
    ) -> Result<Option<PathBuf>, PackageError> {
        let Some((_, _, binary)) = prebuilt
            .iter()
            .find(|(a, d, _)| *a == arch.lambda_name() && *d == dedupe)
        else {
            return Ok(None);
        };
        let parent = self.root.join("bootstrap");
        std::fs::create_dir_all(&parent)
            .map_err(io_error(format!("creating {}", parent.display())))?;
        let staging = parent.join(format!(".prebuilt-{}", std::process::id()));
        std::fs::write(&staging, binary)
            .map_err(io_error(format!("writing {}", staging.display())))?;
        let path = self.binary_path(arch, dedupe);
        std::fs::rename(&staging, &path).map_err(io_error(format!(
            "moving the handler into {}",
            path.display()
        )))?;
        Ok(Some(path))
    }

    /// Keep a built binary for later runs (copied, then renamed into place).
    pub fn keep(&self, built: &Path, arch: Arch, dedupe: bool) -> Result<PathBuf, PackageError> {
        let path = self.binary_path(arch, dedupe);
        let parent = self.root.join("bootstrap");
        std::fs::create_dir_all(&parent)
            .map_err(io_error(format!("creating {}", parent.display())))?;
        let staging = parent.join(format!(".tmp-{}", std::process::id()));
        std::fs::copy(built, &staging).map_err(io_error(format!(
            "copying {} into the cache",
            built.display()
        )))?;
        std::fs::rename(&staging, &path).map_err(io_error(format!(
            "moving the handler into {}",
            path.display()
        )))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_sources_are_a_buildable_handler_crate() {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(SOURCES)).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.map(|n| n.into_owned()))
            .collect::<Result<_, _>>()
            .unwrap();
        for needed in [
            "Cargo.toml",
            "Cargo.lock",
            "handler/Cargo.toml",
            "handler/src/main.rs",
            "handler/src/lib.rs",
        ] {
            assert!(names.iter().any(|n| n == needed), "{needed} in {names:?}");
        }
        let mut manifest = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("Cargo.toml").unwrap(), &mut manifest)
            .unwrap();
        assert!(manifest.contains("members = [\"handler\"]"), "{manifest}");
        assert!(manifest.contains("[profile.release]"), "{manifest}");
        assert_eq!(SOURCES_SHA256.len(), 64);
    }

    #[test]
    fn the_cache_extracts_once_and_keeps_binaries_by_version_arch_and_features() {
        let root = std::env::temp_dir().join(format!("ebhook-cache-test-{}", std::process::id()));
        let cache = Cache { root: root.clone() };
        let dir = cache.sources().unwrap();
        assert!(dir.join("src").join("main.rs").is_file());
        // A second call finds it.
        assert_eq!(cache.sources().unwrap(), dir);
        assert_eq!(cache.built(Arch::X86_64, false), None);
        let fake = root.join("built");
        std::fs::write(&fake, b"\x7fELF").unwrap();
        let kept = cache.keep(&fake, Arch::X86_64, false).unwrap();
        assert_eq!(cache.built(Arch::X86_64, false), Some(kept));
        assert_eq!(cache.built(Arch::X86_64, true), None);
        assert_eq!(cache.built(Arch::Arm64, false), None);
        // A binary the release pipeline built, carried in the CLI: kept as if built here.
        let table: &[(&str, bool, &[u8])] = &[("arm64", true, b"\x7fELF arm64")];
        assert_eq!(cache.keep_from(table, Arch::X86_64, true).unwrap(), None);
        let kept = cache.keep_from(table, Arch::Arm64, true).unwrap().unwrap();
        assert_eq!(std::fs::read(&kept).unwrap(), b"\x7fELF arm64");
        assert_eq!(cache.built(Arch::Arm64, true), Some(kept));
        // A debug build (the test command's) carries none; a release build, its machine's.
        if cfg!(debug_assertions) {
            assert_eq!(cache.keep_prebuilt(Arch::X86_64, true).unwrap(), None);
        }
        std::fs::remove_dir_all(&root).ok();
    }
}
