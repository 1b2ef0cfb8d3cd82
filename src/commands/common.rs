//! Arguments and helpers shared by the subcommands.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ebhook_handler::SecretSet;

use crate::artifacts;
use crate::aws::{Aws, aws_error};
use crate::cli::{Arch, Compliance};
use crate::embedded::Cache;
use crate::error::Error;
use crate::package::{self, Artifact, PackageError};
use crate::secret_input::{Reveal, RevealArgs, SecretError};
use crate::stack::StackError;
use crate::ui::Ui;

/// Which AWS account and region to work in; the standard chain (environment, profiles, SSO)
/// supplies the rest.
#[derive(Clone, Debug, Default, Args)]
pub struct AwsArgs {
    /// AWS region (default: from AWS_REGION or your profile).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile from your AWS config (default: AWS_PROFILE or `default`).
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    #[default]
    Text,
    /// One JSON object on stdout, for scripts.
    Json,
}

impl OutputFormat {
    /// Where a secret ebhook generates goes with this output: shown on stdout with the text,
    /// on stderr beside the JSON, and only if that stream is a terminal unless the user said
    /// where (`--secret-out`, `--print-secret`).
    pub fn reveal(self, args: &RevealArgs) -> Result<Reveal, SecretError> {
        match self {
            Self::Text => args.destination("standard output", std::io::stdout().is_terminal()),
            Self::Json => args.destination("standard error", std::io::stderr().is_terminal()),
        }
    }
}

impl AwsArgs {
    pub async fn connect(&self) -> Result<Aws, Error> {
        Aws::connect(self.region.as_deref(), self.profile.as_deref()).await
    }
}

/// The error for a `--stack-name` that names no stack in the region.
pub fn no_such_stack(aws: &Aws, name: &str) -> Error {
    Error::NoSuchStack {
        name: name.to_owned(),
        region: aws.region(),
    }
}

/// The signing secrets a stack's handler uses, as stored in Secrets Manager. No text value
/// reads as "no secret set yet"; a value not in ebhook's format is a fault of the stored
/// state, reported as such.
pub async fn stored_secret(aws: &Aws, stack: &str, arn: &str) -> Result<SecretSet, Error> {
    let value = aws
        .secrets
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| aws_error("reading the signing secret", &e))?;
    SecretSet::parse(value.secret_string().unwrap_or_default()).map_err(|source| {
        StackError::StoredSecret {
            stack: stack.to_owned(),
            source,
        }
        .into()
    })
}

/// Where the handler comes from: built from a crate (the default), or a prebuilt binary.
#[derive(Clone, Debug, Default, Args)]
pub struct HandlerArgs {
    /// The handler crate to build (default: ./handler, else the one carried inside ebhook).
    #[arg(long, conflicts_with = "bootstrap")]
    pub handler_dir: Option<PathBuf>,
    /// Deploy this prebuilt `bootstrap` instead of building one (it is checked for Lambda all
    /// the same), e.g. from a CI pipeline that builds elsewhere.
    #[arg(long, value_name = "PATH")]
    pub bootstrap: Option<PathBuf>,
}

/// The handler's sources: a crate on disk, or the copy carried inside ebhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandlerSource {
    Dir(PathBuf),
    Embedded,
}

impl HandlerArgs {
    /// Fail early, before any AWS call, on a path that cannot work.
    pub fn check(&self) -> Result<(), PackageError> {
        match &self.bootstrap {
            Some(path) if !path.is_file() => Err(PackageError::NoBootstrap(path.clone())),
            Some(_) => Ok(()),
            None => self.source().map(|_| ()),
        }
    }

    /// `--handler-dir`, else `./handler` (working in a checkout, edits included), else the
    /// sources carried inside ebhook, which are the ones this binary was built with.
    fn source(&self) -> Result<HandlerSource, PackageError> {
        if let Some(dir) = &self.handler_dir {
            return if dir.join("Cargo.toml").exists() {
                Ok(HandlerSource::Dir(dir.clone()))
            } else {
                Err(PackageError::NoHandlerCrate(dir.clone()))
            };
        }
        let local = PathBuf::from("handler");
        if local.join("Cargo.toml").exists() {
            return Ok(HandlerSource::Dir(local));
        }
        Ok(HandlerSource::Embedded)
    }
}

async fn build(ui: &Ui, plan: &package::BuildPlan) -> Result<PathBuf, Error> {
    ui.step(format!("Building the handler ({})", plan.describe()));
    let spinner =
        ui.spinner("cargo is building bootstrap (the first release build takes a few minutes)");
    let built = package::build(plan).await?;
    // Fresh after any identical build, such as the one a release build of the workspace makes.
    spinner.finish(if built.fresh {
        format!("up to date, nothing compiled: {}", built.path.display())
    } else {
        format!("built {}", built.path.display())
    });
    Ok(built.path)
}

/// Build (or take), check and zip the handler, and make sure it is in the artifacts bucket,
/// whose stack meets at least the `compliance` of the stack being deployed.
pub async fn package_and_upload(
    aws: &Aws,
    ui: &Ui,
    handler: &HandlerArgs,
    arch: Arch,
    dedupe: bool,
    compliance: Compliance,
) -> Result<(String, Artifact), Error> {
    let artifact = package(ui, handler, arch, dedupe).await?;
    let bucket = artifacts::ensure_bucket(aws, ui, compliance).await?;
    artifacts::upload(aws, ui, &bucket, &artifact).await?;
    Ok((bucket, artifact))
}

/// Build (or take) the handler, check it runs on Lambda, and zip it as ebhook deploys it.
pub async fn package(
    ui: &Ui,
    handler: &HandlerArgs,
    arch: Arch,
    dedupe: bool,
) -> Result<Artifact, Error> {
    let binary_path = match (&handler.bootstrap, handler.source()?) {
        (Some(path), _) => path.clone(),
        (None, HandlerSource::Dir(dir)) => {
            let plan = package::plan(&dir, arch, dedupe).await?;
            build(ui, &plan).await?
        }
        (None, HandlerSource::Embedded) => {
            let cache = Cache::open()?;
            match cache.built(arch, dedupe) {
                Some(path) => {
                    ui.note(format!(
                        "handler {} for {} built before: using {}",
                        Cache::version(),
                        arch.lambda_name(),
                        path.display()
                    ));
                    path
                }
                None => match cache.keep_prebuilt(arch, dedupe)? {
                    Some(path) => {
                        ui.note(format!(
                            "handler {} for {}: the build that came with ebhook",
                            Cache::version(),
                            arch.lambda_name()
                        ));
                        path
                    }
                    None => {
                        let dir = cache.sources()?;
                        let plan = package::plan(&dir, arch, dedupe)
                            .await?
                            .for_embedded(cache.target_dir());
                        let built = build(ui, &plan).await?;
                        cache.keep(&built, arch, dedupe)?
                    }
                },
            }
        }
    };
    let binary = package::read_binary(&binary_path)?;
    let artifact = Artifact::from_binary(&binary, arch, &binary_path)?;
    ui.note(format!(
        "zip {} KiB, sha256 {}, needs glibc {}",
        artifact.zip.len() / 1024,
        artifacts::short(&artifact.sha256),
        artifact
            .glibc
            .map_or_else(|| "none".to_owned(), |v| v.to_string())
    ));
    Ok(artifact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_sources_are_checked_up_front() {
        let missing_dir = HandlerArgs {
            handler_dir: Some(PathBuf::from("no/such/dir")),
            bootstrap: None,
        };
        assert!(missing_dir.check().is_err());
        let missing_binary = HandlerArgs {
            handler_dir: None,
            bootstrap: Some(PathBuf::from("no/such/bootstrap")),
        };
        assert!(missing_binary.check().is_err());
        // Unit tests run in the crate's directory, where ./handler is the crate.
        assert_eq!(
            HandlerArgs::default().source().unwrap(),
            HandlerSource::Dir(PathBuf::from("handler"))
        );
    }
}
