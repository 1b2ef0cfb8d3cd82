//! `ebhook build`: the handler as `init` would deploy it, built, checked and zipped into a
//! directory, without AWS. For pipelines that build in one place and deploy with `--bootstrap`
//! in another, and for the release pipeline, which ships these files.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use crate::cli::Arch;
use crate::commands::common::{HandlerArgs, OutputFormat, package};
use crate::error::Error;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub handler: HandlerArgs,
    /// Lambda architecture.
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    pub arch: Arch,
    /// The build with the DynamoDB client, for stacks made with `init --dedupe`.
    #[arg(long)]
    pub dedupe: bool,
    /// Where to write `bootstrap-<arch>-<plain|dedupe>`, its Lambda zip and the zip's SHA-256.
    #[arg(long, default_value = "dist")]
    pub out_dir: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

pub async fn run(args: BuildArgs) -> Result<(), Error> {
    args.handler.check()?;
    let ui = Ui::new(false);
    let artifact = package(&ui, &args.handler, args.arch, args.dedupe).await?;
    let dir = &args.out_dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let name = format!(
        "{}-{}",
        args.arch.lambda_name(),
        crate::lambda_build::features_name(args.dedupe)
    );
    let binary = dir.join(format!("bootstrap-{name}"));
    let zip = dir.join(format!("ebhook-handler-{name}.zip"));
    let checksum = dir.join(format!("ebhook-handler-{name}.zip.sha256"));
    write(&binary, &artifact.binary)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(format!("making {} executable", binary.display()), e))?;
    }
    write(&zip, &artifact.zip)?;
    // The format `sha256sum -c` reads.
    let file_name = zip.file_name().map(|n| n.to_string_lossy().into_owned());
    write(
        &checksum,
        format!("{}  {}\n", artifact.sha256, file_name.unwrap_or_default()).as_bytes(),
    )?;
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            json!({
                "zip": zip.display().to_string(),
                "sha256": artifact.sha256,
                "bootstrap": binary.display().to_string(),
                "arch": args.arch.lambda_name(),
                "dedupe": args.dedupe,
            })
        ),
        OutputFormat::Text => println!("{}  {}", artifact.sha256, zip.display()),
    }
    Ok(())
}
