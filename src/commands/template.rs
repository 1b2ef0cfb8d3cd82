//! `ebhook template`: prints the stack's CloudFormation template exactly as ebhook deploys it
//! (or, with `--artifacts`, the artifacts bucket stack's), for a pipeline of your own. The
//! options given are checked as `init` checks them, and shown on stderr as the parameter
//! overrides to deploy the template with; stdout is the template only.

use std::io::Write;

use ebhook_handler::Provider;

use crate::cli::TemplateArgs;
use crate::error::Error;
use crate::stack::{self, Settings};

pub fn run(args: &TemplateArgs) -> Result<(), Error> {
    let text = if args.artifacts {
        stack::ARTIFACTS_TEMPLATE
    } else {
        let settings = Settings::from(&args.stack);
        settings.validate()?;
        if let Some(provider) = args.stack.provider {
            settings.described(provider.into())?;
        }
        let overrides = settings.overrides(args.stack.provider.map(Provider::from));
        if !overrides.is_empty() {
            let shown: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
            eprintln!(
                "Parameter overrides for these options (give CodeS3Bucket, CodeS3Key{} too):\n    {}",
                if args.stack.provider.is_some() {
                    ""
                } else {
                    " and Provider"
                },
                shown.join(" ")
            );
        }
        stack::TEMPLATE
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("writing the template to stdout", e))
}
