//! `ebhook template`: prints the stack's CloudFormation template, rendered for a provider and
//! options (or, with `--artifacts`, the artifacts bucket stack's).

use std::io::Write;

use anyhow::Context;

use crate::cli::{TemplateArgs, UsageError};
use crate::template::{self, TemplateSpec};

pub fn run(args: &TemplateArgs) -> anyhow::Result<()> {
    let text = match &args.options {
        _ if args.artifacts => template::artifacts_template().to_owned(),
        Some(options) => {
            let spec = TemplateSpec::from(options);
            template::render(&spec)
                .map_err(|e| {
                    if e.is_usage() {
                        anyhow::Error::new(UsageError(e.to_string()))
                    } else {
                        anyhow::Error::new(e)
                    }
                })
                .with_context(|| format!("cannot render the {} template", spec.provider))?
        }
        None => {
            return Err(UsageError("--provider is required (or --artifacts)".to_owned()).into());
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the template to stdout")
}
