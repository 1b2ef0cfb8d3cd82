//! The cargo command that builds the Lambda handler, and what its output must be to run on
//! `provided.al2023`. Pure, and using no other module: `init` (src/package.rs) and the CLI's
//! build script (build.rs, which includes this file) share it, so a release build of the
//! workspace builds exactly what `init` builds, and `init` then finds it up to date.

use std::path::PathBuf;

use object::Endianness;
use object::elf::FileHeader64;
use object::read::elf::FileHeader;

/// `provided.al2023` ships glibc 2.34: a binary needing a newer symbol fails to start there.
pub const LAMBDA_GLIBC: GlibcVersion = GlibcVersion(2, 34);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion(pub u32, pub u32);

impl std::fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// What cargo-zigbuild answers without error in every version (`--version` fails since 0.24).
pub const ZIGBUILD_PROBE: [&str; 2] = ["zigbuild", "--help"];

/// The cargo arguments that build `bootstrap` for a Rust target triple
/// (`x86_64-unknown-linux-gnu`, `aarch64-unknown-linux-gnu`). With cargo-zigbuild the target
/// carries the glibc to link against. Without `dedupe` the handler is built without its
/// DynamoDB client, which keeps the zip under 3 MB (BENCHMARKS.md).
pub fn cargo_args(triple: &str, zigbuild: bool, dedupe: bool) -> Vec<String> {
    let target = if zigbuild {
        format!("{triple}.{LAMBDA_GLIBC}")
    } else {
        triple.to_owned()
    };
    let mut args: Vec<String> = [
        if zigbuild { "zigbuild" } else { "build" },
        // The handler's own profile (Cargo.toml): small and fast, where the CLI's is quick to
        // build.
        "--profile",
        "lambda",
        "--locked",
        "-p",
        "ebhook-handler",
        "--bin",
        "bootstrap",
        "--target",
        &target,
        "--message-format=json-render-diagnostics",
    ]
    .map(str::to_owned)
    .into();
    if !dedupe {
        args.push("--no-default-features".into());
    }
    args
}

/// Whether cargo sets this variable for what it runs: build scripts, `cargo run`, tests. The
/// handler's build runs without them, wherever it is started from (a build script, `cargo run
/// -- init`, a shell): some dependencies' build scripts watch them (ring watches
/// CARGO_MANIFEST_DIR), so a build that saw them would look out of date to one that did not,
/// and compile the handler's dependencies again. Kept: what is the user's configuration as
/// well (RUSTC, RUSTC_WRAPPER, CARGO_HOME, CARGO_TARGET_DIR) and CARGO_MAKEFLAGS, through
/// which a build script's cargo shares the jobs of the build that runs it.
pub fn set_by_cargo(name: &str) -> bool {
    const PREFIXES: [&str; 7] = [
        "CARGO_PKG_",
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "CARGO_MANIFEST_",
        "CARGO_BIN_",
        "CARGO_CRATE_",
        "DEP_",
    ];
    const NAMES: [&str; 12] = [
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
        "RUSTC_LINKER",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix)) || NAMES.contains(&name)
}

/// The variables of this process that [`set_by_cargo`] sets, to remove from a cargo child.
pub fn variables_set_by_cargo() -> impl Iterator<Item = std::ffi::OsString> {
    std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| set_by_cargo(&name.to_string_lossy()))
}

/// The `bootstrap` executable a build reported, and whether cargo found it up to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    pub path: PathBuf,
    pub fresh: bool,
}

/// Find the `bootstrap` executable in cargo's JSON messages.
pub fn executable_from_messages(stdout: &str) -> Option<Built> {
    stdout
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "bootstrap")
        .find_map(|m| {
            Some(Built {
                path: PathBuf::from(m["executable"].as_str()?),
                fresh: m["fresh"].as_bool().unwrap_or(false),
            })
        })
}

/// The name of a handler build's feature set, as file names and the cache spell it.
pub fn features_name(dedupe: bool) -> &'static str {
    if dedupe { "dedupe" } else { "plain" }
}

/// Why a binary cannot run as the handler on `provided.al2023`.
#[derive(Debug)]
pub enum ElfProblem {
    NotElf(object::read::Error),
    /// Built for another CPU: the ELF machine found.
    WrongMachine(u16),
    /// Linked against a newer glibc than Lambda's.
    GlibcTooNew(GlibcVersion),
}

/// Whether the binary runs on `provided.al2023` on ELF machine `machine` (`object::elf::EM_*`);
/// the glibc it needs, if it links glibc at all.
pub fn check_runs_on_lambda(elf: &[u8], machine: u16) -> Result<Option<GlibcVersion>, ElfProblem> {
    let (found, glibc) = machine_and_glibc(elf).map_err(ElfProblem::NotElf)?;
    match glibc {
        _ if found != machine => Err(ElfProblem::WrongMachine(found)),
        Some(needed) if needed > LAMBDA_GLIBC => Err(ElfProblem::GlibcTooNew(needed)),
        glibc => Ok(glibc),
    }
}

/// A 64-bit ELF's machine (`object::elf::EM_*`) and the highest `GLIBC_x.y` version it
/// requires, if it links glibc at all.
fn machine_and_glibc(elf: &[u8]) -> Result<(u16, Option<GlibcVersion>), object::read::Error> {
    let header = FileHeader64::<Endianness>::parse(elf)?;
    let endian = header.endian()?;
    let machine = header.e_machine(endian);
    let sections = header.sections(endian, elf)?;
    let Some((mut needs, link)) = sections.gnu_verneed(endian, elf)? else {
        return Ok((machine, None));
    };
    let strings = sections.strings(endian, elf, link)?;
    let mut highest = None;
    while let Some((_, mut aux)) = needs.next()? {
        while let Some(vernaux) = aux.next()? {
            let name = vernaux.name(endian, strings)?;
            if let Some(version) = parse_glibc(name) {
                highest = highest.max(Some(version));
            }
        }
    }
    Ok((machine, highest))
}

fn parse_glibc(name: &[u8]) -> Option<GlibcVersion> {
    let version = std::str::from_utf8(name).ok()?.strip_prefix("GLIBC_")?;
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some(GlibcVersion(major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_cargo_sets_are_told_from_the_users() {
        for set in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "OUT_DIR",
            "CARGO_ENCODED_RUSTFLAGS",
        ] {
            assert!(set_by_cargo(set), "{set}");
        }
        for users in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "RUSTFLAGS",
            "PATH",
            "CARGO_MAKEFLAGS",
        ] {
            assert!(!set_by_cargo(users), "{users}");
        }
    }

    #[test]
    fn glibc_versions_parse_and_order() {
        assert_eq!(parse_glibc(b"GLIBC_2.34"), Some(GlibcVersion(2, 34)));
        assert_eq!(parse_glibc(b"GLIBC_2.2.5"), Some(GlibcVersion(2, 2)));
        assert_eq!(parse_glibc(b"GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc(b"GCC_3.0"), None);
        assert!(GlibcVersion(2, 36) > LAMBDA_GLIBC);
        assert!(GlibcVersion(2, 9) < GlibcVersion(2, 34));
    }

    #[test]
    fn this_test_binary_reads_as_a_glibc_x86_64_elf() {
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let (machine, glibc) = machine_and_glibc(&elf).unwrap();
        assert_eq!(machine, object::elf::EM_X86_64);
        assert!(glibc.is_some_and(|v| v >= GlibcVersion(2, 2)), "{glibc:?}");
        assert!(machine_and_glibc(b"#!/bin/sh\n").is_err());
        // Checked for Lambda: the machine first, then the glibc (this host's may be newer).
        assert!(matches!(
            check_runs_on_lambda(&elf, object::elf::EM_AARCH64),
            Err(ElfProblem::WrongMachine(object::elf::EM_X86_64))
        ));
        match check_runs_on_lambda(&elf, object::elf::EM_X86_64) {
            Ok(needed) => assert!(needed.is_some_and(|v| v <= LAMBDA_GLIBC)),
            Err(ElfProblem::GlibcTooNew(needed)) => assert!(needed > LAMBDA_GLIBC),
            Err(other) => panic!("{other:?}"),
        }
        assert!(matches!(
            check_runs_on_lambda(b"#!/bin/sh\n", object::elf::EM_X86_64),
            Err(ElfProblem::NotElf(_))
        ));
    }

    #[test]
    fn zigbuild_pins_glibc_in_the_target() {
        let args = |zigbuild| cargo_args("x86_64-unknown-linux-gnu", zigbuild, true);
        let target = |args: Vec<String>| {
            let at = args.iter().position(|a| a == "--target").unwrap();
            (args[0].clone(), args[at + 1].clone())
        };
        assert_eq!(
            target(args(true)),
            ("zigbuild".into(), "x86_64-unknown-linux-gnu.2.34".into())
        );
        assert_eq!(
            target(args(false)),
            ("build".into(), "x86_64-unknown-linux-gnu".into())
        );
    }

    #[test]
    fn the_dynamodb_client_is_built_only_for_stacks_with_dedupe() {
        let flag = |dedupe| {
            cargo_args("aarch64-unknown-linux-gnu", false, dedupe)
                .contains(&"--no-default-features".to_owned())
        };
        assert!(flag(false));
        assert!(!flag(true));
    }

    #[test]
    fn cargo_messages_name_the_executable_and_whether_it_was_fresh() {
        let stdout = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"ebhook_handler"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"bootstrap"},"executable":"/t/lambda/bootstrap","fresh":true}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#
        );
        assert_eq!(
            executable_from_messages(stdout),
            Some(Built {
                path: PathBuf::from("/t/lambda/bootstrap"),
                fresh: true
            })
        );
        let compiled = r#"{"reason":"compiler-artifact","target":{"name":"bootstrap"},"executable":"/b","fresh":false}"#;
        assert_eq!(
            executable_from_messages(compiled).map(|b| b.fresh),
            Some(false)
        );
        assert_eq!(executable_from_messages(""), None);
    }
}
